// Child-process entry of a Modbus simulator (crash tests, benchmarks): options come as JSON in
// argv[2], commands arrive over IPC. The process exits when its parent goes away, never orphaned.
import { type ExceptionRule, ModbusSimulator, type ModbusSimulatorOptions, type SimSide } from './modbus-simulator';

export type ModbusSimCommand =
  | 'stop'
  | 'start'
  | 'stall'
  | 'setMaster'
  | 'setException'
  | 'setResponseDelay'
  | 'setSide'
  | 'freeze'
  | 'setRegisters'
  | 'getRequests'
  | 'getWrites'
  | 'clearLog';

interface Request {
  id: number;
  command: ModbusSimCommand;
  arg?: unknown;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ModbusSimulatorOptions;
  const sim = new ModbusSimulator(options);
  await sim.start();
  const send = (msg: unknown) => process.send?.(msg);
  send({ ready: true, endpoints: sim.endpoints() });
  process.on('message', async (req: Request) => {
    try {
      let result: unknown;
      const arg = req.arg as Record<string, unknown> | undefined;
      switch (req.command) {
        case 'stop':
          await sim.stop();
          break;
        case 'start':
          await sim.start();
          break;
        case 'stall':
          sim.stall(req.arg !== false);
          break;
        case 'setMaster':
          sim.setMaster(req.arg !== false);
          break;
        case 'setException':
          sim.setException((req.arg ?? undefined) as ExceptionRule | undefined);
          break;
        case 'setResponseDelay':
          sim.setResponseDelay(Number(req.arg));
          break;
        case 'setSide':
          sim.setSide(arg?.side as SimSide, arg?.up !== false);
          break;
        case 'freeze':
          sim.freeze(req.arg !== false);
          break;
        case 'setRegisters':
          sim.setRegisters(Number(arg?.address), arg?.values as number[]);
          break;
        case 'getRequests':
          result = sim.requests;
          break;
        case 'getWrites':
          result = sim.writes;
          break;
        case 'clearLog':
          sim.clearLog();
          break;
        default:
          throw new Error(`unknown simulator command ${String(req.command)}`);
      }
      send({ id: req.id, result });
    } catch (err) {
      send({ id: req.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  process.on('disconnect', () => {
    void sim.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  process.send?.({ ready: false, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
