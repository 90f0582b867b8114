// Flow node: an embedded Modbus device (the package's simulator) so examples run as imported and
// failures can be rehearsed from the flow: stop, restart, stall, exception answers, a slow device,
// a dropped TCP / RTU-over-TCP / serial side, frozen values, master/slave switching.
import { type ExceptionRule, ModbusSimulator, type SimArea, type SimSide } from '../lib/sim/modbus-simulator';
import { translator } from './common/i18n';
import { type Node, type NodeDef, type NodeMessage, type RedAPI, boolProp, numberProp, reportConfigError } from './common/node-red';
import { onSimulatorClose, onSimulatorInput, simulatorCommand } from './common/simulator';

const COMMANDS = [
  'start',
  'stop',
  'crash',
  'restart',
  'stall',
  'unstall',
  'master',
  'slave',
  'exceptions-off',
  'drop-tcp',
  'restore-tcp',
  'drop-rtu-tcp',
  'restore-rtu-tcp',
  'drop-serial',
  'restore-serial',
  'freeze',
  'unfreeze',
] as const;
type Command = (typeof COMMANDS)[number];
const AREAS: SimArea[] = ['coil', 'discrete', 'input', 'holding'];

/** "1, 2" → [1, 2]; throws a message for anything else. */
function unitList(raw: unknown): number[] {
  const text = raw === undefined || raw === null || raw === '' ? '1' : String(raw);
  const units = text.split(/[\s,]+/).filter(Boolean).map(Number);
  if (units.length === 0 || units.some((u) => !Number.isInteger(u) || u < 1 || u > 255)) throw new Error(`unit ids must be a list of 1..255 (got "${text}")`);
  return units;
}

function optionalPort(def: NodeDef, key: string): number | undefined {
  const raw = def[key];
  return raw === undefined || raw === null || raw === '' ? undefined : Number(raw);
}

export = function registerModbusSimulator(RED: RedAPI): void {
  const t = translator(RED);

  function ModbusSimulatorNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const port = numberProp(def, 'port', 5020);
    let sim: ModbusSimulator;
    try {
      sim = new ModbusSimulator({
        port,
        host: String(def.host || '127.0.0.1'),
        rtuTcpPort: optionalPort(def, 'rtuTcpPort'),
        serialPath: String(def.serialPath ?? '').trim() || undefined,
        baudRate: numberProp(def, 'baudRate', 9600),
        unitIds: unitList(def.unitIds),
        counterPeriodMs: numberProp(def, 'counterPeriod', 100),
        master: boolProp(def, 'master', true),
        bulkRegisters: numberProp(def, 'bulkRegisters', 1000),
        name: String(def.name || `modbus-sim-${port}`),
      });
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      reportConfigError(node, t('modbus-simulator.errors.config', { error: text }), text);
      return;
    }

    const show = () => {
      if (!sim.isRunning) return node.status({ fill: 'red', shape: 'ring', text: t('modbus-simulator.status.stopped', { port }) });
      const role = t(sim.isMaster ? 'modbus-simulator.status.master' : 'modbus-simulator.status.slave');
      const faults: string[] = [];
      if (sim.isStalled) faults.push(t('modbus-simulator.status.stalled'));
      const x = sim.exceptionRule;
      if (x) faults.push(t('modbus-simulator.status.exception', { code: x.code }));
      for (const side of sim.downSides) faults.push(t('modbus-simulator.status.sideDown', { side }));
      if (sim.isFrozen) faults.push(t('modbus-simulator.status.frozen'));
      const text = `${t('modbus-simulator.status.running', { port })} · ${role}${faults.length ? ` · ${faults.join(', ')}` : ''}`;
      node.status({ fill: faults.length ? 'yellow' : 'green', shape: sim.isMaster ? 'dot' : 'ring', text });
    };

    const start = () =>
      sim.start().then(show, (err: Error) => {
        const text = /EADDRINUSE/.test(err.message) ? t('modbus-simulator.errors.portInUse', { error: err.message }) : err.message;
        node.error(text);
        node.status({ fill: 'red', shape: 'ring', text: text.slice(0, 50) });
      });
    void start();

    onSimulatorInput(
      node,
      async (msg: NodeMessage): Promise<void> => {
        const payload = msg.payload;
        if (payload && typeof payload === 'object' && !Array.isArray(payload)) {
          const p = payload as Record<string, unknown>;
          let known = false;
          if ('master' in p) {
            sim.setMaster(p.master === true || p.master === 'true' || p.master === 1);
            known = true;
          }
          if ('exception' in p) {
            const code = p.exception === null || p.exception === false || p.exception === 0 ? undefined : Number(p.exception);
            if (p.area !== undefined && !AREAS.includes(p.area as SimArea)) throw new Error(t('modbus-simulator.errors.badArea', { area: String(p.area) }));
            const rule: ExceptionRule | undefined = code === undefined ? undefined : { code, area: p.area as SimArea | undefined, from: p.from === undefined ? undefined : Number(p.from), to: p.to === undefined ? undefined : Number(p.to) };
            sim.setException(rule);
            known = true;
          }
          if ('responseDelay' in p) {
            sim.setResponseDelay(Number(p.responseDelay));
            known = true;
          }
          if (!known) throw new Error(t('modbus-simulator.errors.badCommand', { command: JSON.stringify(payload).slice(0, 60), commands: COMMANDS.join(', ') }));
          return;
        }
        const command = simulatorCommand(msg) as Command;
        const side = (s: string) => s as SimSide;
        switch (command) {
          case 'start':
            await sim.start();
            break;
          case 'stop':
          case 'crash':
            await sim.stop();
            break;
          case 'restart':
            await sim.stop();
            sim.stall(false);
            await sim.start();
            break;
          case 'stall':
          case 'unstall':
            sim.stall(command === 'stall');
            break;
          case 'master':
          case 'slave':
            sim.setMaster(command === 'master');
            break;
          case 'exceptions-off':
            sim.setException(undefined);
            break;
          case 'drop-tcp':
          case 'drop-rtu-tcp':
          case 'drop-serial':
            sim.setSide(side(command.slice(5)), false);
            break;
          case 'restore-tcp':
          case 'restore-rtu-tcp':
          case 'restore-serial':
            sim.setSide(side(command.slice(8)), true);
            break;
          case 'freeze':
          case 'unfreeze':
            sim.freeze(command === 'freeze');
            break;
          default:
            throw new Error(t('modbus-simulator.errors.badCommand', { command: String(command) || '(none)', commands: COMMANDS.join(', ') }));
        }
      },
      show,
    );

    onSimulatorClose(node, sim, () => sim.stop());
  }

  RED.nodes.registerType('modbus-simulator', ModbusSimulatorNode);
};
