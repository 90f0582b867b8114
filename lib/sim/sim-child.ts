// Child-process entry of a simulator (crash tests, benchmarks): options come as JSON in argv[2],
// commands arrive over IPC. The process exits when its parent goes away, never orphaned.
import { OpcuaSimulator, type SimulatorOptions } from './opcua-simulator';

export type SimCommand = 'stop' | 'start' | 'setServiceLevel' | 'setLinkOk' | 'freeze' | 'stall' | 'getSetpoint' | 'getWrites' | 'monitoredItems' | 'cpuUsage';

interface Request {
  id: number;
  command: SimCommand;
  arg?: unknown;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
  const sim = new OpcuaSimulator(options);
  await sim.start();
  const send = (msg: unknown) => process.send?.(msg);
  send({ ready: true, endpointUrl: sim.endpointUrl });
  process.on('message', async (req: Request) => {
    try {
      let result: unknown;
      switch (req.command) {
        case 'stop':
          await sim.stop(req.arg === true);
          break;
        case 'start':
          await sim.start();
          break;
        case 'setServiceLevel':
          sim.setServiceLevel(Number(req.arg));
          break;
        case 'setLinkOk':
          sim.setLinkOk(req.arg !== false);
          break;
        case 'freeze':
          sim.freeze(req.arg !== false);
          break;
        case 'stall':
          sim.stall(req.arg !== false);
          break;
        case 'getSetpoint':
          result = sim.getSetpoint();
          break;
        case 'getWrites':
          result = sim.writes;
          break;
        case 'monitoredItems':
          result = sim.monitoredItemCounts();
          break;
        case 'cpuUsage':
          result = process.cpuUsage();
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
    void sim.stop(false).finally(() => process.exit(0));
  });
}

main().catch((err) => {
  process.send?.({ ready: false, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
