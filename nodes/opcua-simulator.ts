// Flow node: an embedded OPC UA server (the package's simulator) so examples run as imported and
// failures can be rehearsed from the flow: stop, crash, restart, stall, device link loss, freeze,
// ServiceLevel.
import { OpcuaSimulator } from '../lib/sim/opcua-simulator';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, numberProp } from './common/node-red';

const COMMANDS = ['start', 'stop', 'crash', 'shutdown', 'restart', 'stall', 'unstall', 'link-fail', 'link-ok', 'freeze', 'unfreeze'] as const;
type Command = (typeof COMMANDS)[number];

export = function registerSimulator(RED: RedAPI): void {
  const t = translator(RED);

  function SimulatorNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const port = numberProp(def, 'port', 4840);
    const counterPeriodMs = numberProp(def, 'counterPeriod', 100);
    const serviceLevel = numberProp(def, 'serviceLevel', 255);
    const bulkItems = numberProp(def, 'bulkItems', 0);
    let sim: OpcuaSimulator;
    try {
      if (!Number.isInteger(bulkItems) || bulkItems < 0 || bulkItems > 100_000) throw new Error(`bulk items must be 0..100000 (got ${String(def.bulkItems)})`);
      if (!Number.isInteger(serviceLevel) || serviceLevel < 0 || serviceLevel > 255) throw new Error(`ServiceLevel must be 0..255 (got ${String(def.serviceLevel)})`);
      sim = new OpcuaSimulator({ port, name: String(def.name || `simulator-${port}`), counterPeriodMs, serviceLevel, bulkItems });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      node.error(t('opcua-simulator.errors.config', { error: text }));
      node.status({ fill: 'red', shape: 'ring', text: text.slice(0, 50) });
      node.on('input', (_m, _s, done) => done(new Error(text)));
      return;
    }

    const show = () => {
      if (!sim.running) return node.status({ fill: 'red', shape: 'ring', text: t('opcua-simulator.status.stopped', { port }) });
      if (sim.isStalled) return node.status({ fill: 'yellow', shape: 'ring', text: t('opcua-simulator.status.stalled', { port }) });
      if (!sim.isLinkOk) return node.status({ fill: 'yellow', shape: 'dot', text: t('opcua-simulator.status.linkLost', { port }) });
      const level = sim.getServiceLevel();
      node.status({ fill: 'green', shape: 'dot', text: t('opcua-simulator.status.running', { port }) + (level === 255 ? '' : ` · SL ${level}`) });
    };

    const start = () =>
      sim.start().then(show, (err: Error) => {
        const text = /EADDRINUSE/.test(err.message) ? t('opcua-simulator.errors.portInUse', { port }) : err.message;
        node.error(text);
        node.status({ fill: 'red', shape: 'ring', text: text.slice(0, 50) });
      });
    void start();

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const run = async (): Promise<void> => {
        const payload = msg.payload;
        if (payload && typeof payload === 'object' && 'serviceLevel' in payload) {
          sim.setServiceLevel(Number((payload as { serviceLevel: unknown }).serviceLevel));
          return;
        }
        const command = String(typeof payload === 'string' && payload ? payload : msg.topic ?? '').trim() as Command;
        switch (command) {
          case 'start':
            await sim.start();
            break;
          case 'stop':
          case 'crash':
            await sim.stop(false);
            break;
          case 'shutdown':
            await sim.stop(true);
            break;
          case 'restart':
            await sim.stop(false);
            sim.stall(false);
            await sim.start();
            break;
          case 'stall':
            sim.stall(true);
            break;
          case 'unstall':
            sim.stall(false);
            break;
          case 'link-fail':
            sim.setLinkOk(false);
            break;
          case 'link-ok':
            sim.setLinkOk(true);
            break;
          case 'freeze':
            sim.freeze(true);
            break;
          case 'unfreeze':
            sim.freeze(false);
            break;
          default:
            throw new Error(t('opcua-simulator.errors.badCommand', { command: String(command) || '(none)', commands: COMMANDS.join(', ') }));
        }
      };
      run().then(
        () => {
          show();
          done();
        },
        (err: Error) => {
          show();
          done(err);
        },
      );
    });

    node.on('close', (_removed, done) => {
      sim.stall(false);
      sim.stop(false).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('opcua-simulator', SimulatorNode);
};
