// Flow node: an embedded OPC UA server (the package's simulator) so examples run as imported and
// failures can be rehearsed from the flow: stop, crash, restart, stall, device link loss, freeze,
// ServiceLevel.
import { OpcuaSimulator } from '../lib/sim/opcua-simulator';
import { simulatorLabel } from '../lib/rules/labels';
import { SIMULATOR_RULES, checkPortConflict } from '../lib/rules/simulator';
import { translator } from './common/i18n';
import { type Node, type NodeDef, type NodeMessage, type RedAPI, numberProp, reportConfigError, statusSetter } from './common/node-red';
import { onSimulatorClose, onSimulatorInput, simulatorCommand } from './common/simulator';

const COMMANDS = ['start', 'stop', 'crash', 'shutdown', 'restart', 'stall', 'unstall', 'link-fail', 'link-ok', 'freeze', 'unfreeze'] as const;
type Command = (typeof COMMANDS)[number];

export = function registerSimulator(RED: RedAPI): void {
  const t = translator(RED);
  /** The simulators deployed in this runtime, by node id: two on one port is a clear error, not EADDRINUSE. */
  const deployed = new Map<string, { id: string; name?: string; port: unknown }>();

  function SimulatorNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    node.name = simulatorLabel(def.name, def.port);
    const port = numberProp(def, 'port', 4840);
    const counterPeriodMs = numberProp(def, 'counterPeriod', 100);
    const serviceLevel = numberProp(def, 'serviceLevel', 255);
    const bulkItems = numberProp(def, 'bulkItems', 0);
    const setStatus = statusSetter(node);
    let sim: OpcuaSimulator;
    try {
      const problems = Object.entries(SIMULATOR_RULES)
        .map(([field, rule]) => (def[field] === undefined || def[field] === '' ? undefined : rule(def[field])))
        .filter((m): m is string => m !== undefined);
      const self = { id: node.id, name: def.name ? String(def.name) : undefined, port: def.port ?? 4840 };
      const clash = checkPortConflict(self, [...deployed.values()]);
      if (clash) problems.push(clash);
      if (problems.length) throw new Error(problems.join('; '));
      sim = new OpcuaSimulator({ port, name: String(def.name || `simulator-${port}`), counterPeriodMs, serviceLevel, bulkItems });
      deployed.set(node.id, self);
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      reportConfigError(node, t('opcua-simulator.errors.config', { error: text }), text);
      return;
    }

    const show = () => {
      if (!sim.running) return setStatus({ fill: 'red', shape: 'ring', text: t('opcua-simulator.status.stopped', { port }) });
      if (sim.isStalled) return setStatus({ fill: 'yellow', shape: 'ring', text: t('opcua-simulator.status.stalled', { port }) });
      if (!sim.isLinkOk) return setStatus({ fill: 'yellow', shape: 'dot', text: t('opcua-simulator.status.linkLost', { port }) });
      const level = sim.getServiceLevel();
      setStatus({ fill: 'green', shape: 'dot', text: t('opcua-simulator.status.running', { port }) + (level === 255 ? '' : ` · SL ${level}`) });
    };

    const start = () =>
      sim.start().then(show, (err: Error) => {
        const text = /EADDRINUSE/.test(err.message) ? t('opcua-simulator.errors.portInUse', { port }) : err.message;
        node.error(text);
        setStatus({ fill: 'red', shape: 'ring', text });
      });
    void start();

    onSimulatorInput(
      node,
      async (msg: NodeMessage): Promise<void> => {
        const payload = msg.payload;
        if (payload && typeof payload === 'object' && 'serviceLevel' in payload) {
          sim.setServiceLevel(Number((payload as { serviceLevel: unknown }).serviceLevel));
          return;
        }
        const command = simulatorCommand(msg) as Command;
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
      },
      show,
    );

    onSimulatorClose(node, sim, () => sim.stop(false), () => deployed.delete(node.id));
  }

  RED.nodes.registerType('opcua-simulator', SimulatorNode);
};
