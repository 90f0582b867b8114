// Failover benchmark: two (or three) simulators in their own processes, the pair engine with real
// OPC UA drivers in this one, a fault injected for real (SIGKILL of the primary's process, or a
// blackhole on its TCP path). Measures how long the output was silent, how long detection and the
// switch took, and how many counter values were lost or delivered twice. With skew_ms the
// secondary's clock runs that far off and both servers stamp values with their own clocks (the
// secondary reading the PLC phase_ms later), as two real servers do.
import { RedundantPair } from '../lib/core/pair';
import type { ItemSpec } from '../lib/core/types';
import { OpcuaDriver } from '../lib/drivers/opcua';
import { SIM_ITEMS, bulkItemId, simulatorEndpointUrl } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { freePort } from '../test/helpers/ports';
import { measureFault, watchOutput, withPreFaultRetries } from './fault-watch';

export type Fault = 'crash' | 'blackhole';

export interface FailoverCase {
  /** cold, warm, warm-sampling (warm with the standby sampling into a queue) or hot. */
  mode: 'cold' | 'warm' | 'warm-sampling' | 'hot';
  fault: Fault;
  /** The secondary's clock minus the primary's, ms (0: device timestamps, equal on both). */
  skew_ms: number;
  /**
   * How much later than the primary each standby reads the PLC, ms (channel k: k × phase_ms, modulo
   * the 100 ms counter period). A standby has a change only that much later, so a hot crash stall
   * can reach sampling + phase + the granted publishing interval whatever the engine does.
   */
  phase_ms: number;
  channels: number;
  items: number;
  sampling_ms: number;
  ping_interval_ms: number;
  ping_timeout_ms: number;
}

export interface FailoverRow extends FailoverCase {
  detect_ms: number;
  switch_ms: number;
  stall_ms: number;
  lost: number;
  duplicates: number;
  /** lost counted over the bulk items too (values a plain client would have seen). */
  note?: string;
}

export function runFailoverCase(c: FailoverCase): Promise<FailoverRow> {
  return withPreFaultRetries(() => runFailoverOnce(c));
}

async function runFailoverOnce(c: FailoverCase): Promise<FailoverRow> {
  const ports = await Promise.all(Array.from({ length: c.channels }, () => freePort()));
  const timestamps = c.skew_ms === 0 ? ('device' as const) : ('server' as const);
  const simOpts = { counterPeriodMs: 100, bulkItems: c.items, bulkPeriodMs: c.sampling_ms, shutdownDelayMs: 0, timestamps };
  const proxy = await FaultProxy.start('127.0.0.1', ports[0]);
  const [primary, ...standbys] = await Promise.all(
    ports.map((port, i) =>
      SimulatorProcess.spawn({
        port,
        name: `bench-${i}`,
        ...simOpts,
        ...(i === 0 ? { advertisedUrls: [proxy.rewrite(simulatorEndpointUrl(port))] } : { clockOffsetMs: i === 1 ? c.skew_ms : 0, samplingPhaseMs: (c.phase_ms * i) % 100 }),
      }),
    ),
  );
  const driver = (url: string) => new OpcuaDriver({ endpointUrl: url, pingIntervalMs: c.ping_interval_ms, pingTimeoutMs: c.ping_timeout_ms, sessionName: 'bench' });
  const names = ['primary', 'secondary', 'channel 2', 'channel 3'];
  const pair = new RedundantPair(
    {
      name: 'bench', mode: c.mode === 'warm-sampling' ? 'warm' : c.mode, standbySampling: c.mode === 'warm-sampling',
      pingIntervalMs: c.ping_interval_ms, pingTimeoutMs: c.ping_timeout_ms, autoPromote: false, holdOffMs: 0, reconnectMinMs: 200, reconnectMaxMs: 2000,
    },
    [{ name: names[0], driver: driver(proxy.rewrite(primary.endpointUrl)) }, ...standbys.map((s, i) => ({ name: names[i + 1], driver: driver(s.endpointUrl) }))],
  );
  const items: ItemSpec[] = [{ id: SIM_ITEMS.counter, samplingIntervalMs: 0 }];
  for (let i = 0; i < c.items; i++) items.push({ id: bulkItemId(i), samplingIntervalMs: c.sampling_ms });
  pair.setItems('bench', items);

  // Each server stamps with its own clock: a value delivered twice is the same item and value
  // (counter and bulk values never repeat in a run), whatever its timestamp.
  const seen = new Set<string>();
  let duplicates = 0;
  const watch = watchOutput(pair, (ch) => ch.item === SIM_ITEMS.counter, (ch) => {
    const key = `${ch.item}|${String(ch.value)}`;
    if (seen.has(key)) duplicates++;
    else seen.add(key);
  });

  try {
    const f = await measureFault(pair, watch, () => (c.fault === 'crash' ? primary.kill('SIGKILL') : proxy.setMode('blackhole')));
    return { ...c, detect_ms: f.detect_ms, switch_ms: f.switch_ms, stall_ms: f.stall_ms, lost: f.lost, duplicates };
  } finally {
    await pair.stop();
    await Promise.allSettled([proxy.close(), primary.kill('SIGKILL'), ...standbys.map((s) => s.kill('SIGKILL'))]);
  }
}
