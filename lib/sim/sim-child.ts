// Child-process entry of an OPC UA simulator (crash tests, benchmarks): see child-ipc.ts.
import { serveIpcChild } from './child-ipc';
import { OpcuaSimulator, type SimulatorOptions } from './opcua-simulator';

export type SimCommand = 'stop' | 'start' | 'setServiceLevel' | 'setLinkOk' | 'freeze' | 'stall' | 'getSetpoint' | 'getWrites' | 'monitoredItems' | 'cpuUsage';

if (require.main === module) {
  serveIpcChild<OpcuaSimulator, SimCommand>(
    async (options) => {
      const sim = new OpcuaSimulator(options as SimulatorOptions);
      await sim.start();
      return { state: sim, ready: { endpointUrl: sim.endpointUrl } };
    },
    {
      stop: (sim, arg) => sim.stop(arg === true),
      start: (sim) => sim.start(),
      setServiceLevel: (sim, arg) => sim.setServiceLevel(Number(arg)),
      setLinkOk: (sim, arg) => sim.setLinkOk(arg !== false),
      freeze: (sim, arg) => sim.freeze(arg !== false),
      stall: (sim, arg) => sim.stall(arg !== false),
      getSetpoint: (sim) => sim.getSetpoint(),
      getWrites: (sim) => sim.writes,
      monitoredItems: (sim) => sim.monitoredItemCounts(),
      cpuUsage: () => process.cpuUsage(),
    },
    (sim) => sim.stop(false),
  );
}
