// Child-process entry of a Modbus simulator (crash tests, benchmarks): see child-ipc.ts.
import { serveIpcChild } from './child-ipc';
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

type Arg = Record<string, unknown> | undefined;

if (require.main === module) {
  serveIpcChild<ModbusSimulator, ModbusSimCommand>(
    async (options) => {
      const sim = new ModbusSimulator(options as ModbusSimulatorOptions);
      await sim.start();
      return { state: sim, ready: { endpoints: sim.endpoints() } };
    },
    {
      stop: (sim) => sim.stop(),
      start: (sim) => sim.start(),
      stall: (sim, arg) => sim.stall(arg !== false),
      setMaster: (sim, arg) => sim.setMaster(arg !== false),
      setException: (sim, arg) => sim.setException((arg ?? undefined) as ExceptionRule | undefined),
      setResponseDelay: (sim, arg) => sim.setResponseDelay(Number(arg)),
      setSide: (sim, arg) => sim.setSide((arg as Arg)?.side as SimSide, (arg as Arg)?.up !== false),
      freeze: (sim, arg) => sim.freeze(arg !== false),
      setRegisters: (sim, arg) => sim.setRegisters(Number((arg as Arg)?.address), (arg as Arg)?.values as number[]),
      getRequests: (sim) => sim.requests,
      getWrites: (sim) => sim.writes,
      clearLog: (sim) => sim.clearLog(),
    },
    (sim) => sim.stop(),
  );
}
