// Failover benchmark: two (or three) simulators in their own processes, the pair engine with real
// OPC UA drivers in this one, a fault injected for real (SIGKILL of the primary's process, or a
// blackhole on its TCP path). Measures how long the output was silent, how long detection and the
// switch took, and how many counter values were lost or delivered twice. With skew_ms the
// secondary's clock runs that far off and both servers stamp values with their own clocks (the
// secondary reading the PLC 37 ms later), as two real servers do.
import { RedundantPair } from '../lib/core/pair';
import type { DeliveredChange, ItemSpec, RedundancyEvent } from '../lib/core/types';
import { OpcuaDriver } from '../lib/drivers/opcua';
import { SIM_ITEMS, bulkItemId, simulatorEndpointUrl } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { freePort } from '../test/helpers/ports';
import { round, sleep, waitFor } from './stats';

export type Fault = 'crash' | 'blackhole';

export interface FailoverCase {
  /** cold, warm, warm-sampling (warm with the standby sampling into a queue) or hot. */
  mode: 'cold' | 'warm' | 'warm-sampling' | 'hot';
  fault: Fault;
  /** The secondary's clock minus the primary's, ms (0: device timestamps, equal on both). */
  skew_ms: number;
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

export async function runFailoverCase(c: FailoverCase): Promise<FailoverRow> {
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
        ...(i === 0 ? { advertisedUrls: [proxy.rewrite(simulatorEndpointUrl(port))] } : { clockOffsetMs: i === 1 ? c.skew_ms : 0, samplingPhaseMs: (37 * i) % 100 }),
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

  const arrivals: number[] = [];
  const counter = new Map<number, number>();
  // Each server stamps with its own clock: a value delivered twice is the same item and value
  // (counter and bulk values never repeat in a run), whatever its timestamp.
  const seen = new Set<string>();
  let duplicates = 0;
  const events: RedundancyEvent[] = [];
  pair.on('event', (e) => events.push(e));
  pair.on('data', (changes: DeliveredChange[]) => {
    arrivals.push(Date.now());
    for (const ch of changes) {
      if (ch.item === SIM_ITEMS.counter) counter.set(ch.value as number, (counter.get(ch.value as number) ?? 0) + 1);
      const key = `${ch.item}|${String(ch.value)}`;
      if (seen.has(key)) duplicates++;
      else seen.add(key);
    }
  });

  try {
    pair.start();
    await waitFor(() => pair.getActive() === 'primary' && counter.size > 5, 60_000, 'the primary active with data');
    await sleep(2000);
    const firstCounter = Math.max(...counter.keys());
    const story = () => events.map((e) => `${new Date(e.time).toISOString().slice(11, 23)} ${e.kind} ${e.server ?? ''} ${e.reason}`);
    // A switch before the fault is a defect of its own (e.g. a skewed clock taken for a stall): say so.
    if (pair.getActive() !== 'primary') throw new Error(`the pair left the primary before the fault: ${JSON.stringify(story())}`);
    const faultAt = Date.now();
    if (c.fault === 'crash') await primary.kill('SIGKILL');
    else proxy.setMode('blackhole');
    await waitFor(() => events.some((e) => e.kind === 'switch-complete' && e.time >= faultAt), 60_000, 'the switch to complete', () => ({ fault: new Date(faultAt).toISOString().slice(11, 23), status: pair.status(), events: story() }));
    await sleep(2000);
    const lastCounter = Math.max(...counter.keys());
    const failover = events.find((e) => e.kind === 'failover' && e.time >= faultAt);
    const complete = events.find((e) => e.kind === 'switch-complete' && e.time >= faultAt);
    let lost = 0;
    for (let v = firstCounter; v <= lastCounter; v++) if (!counter.has(v)) lost++;
    let stall = 0;
    for (let i = 1; i < arrivals.length; i++) {
      // the silence that the fault caused: any gap that ends after the fault, measured in full
      if (arrivals[i] >= faultAt) stall = Math.max(stall, arrivals[i] - arrivals[i - 1]);
    }
    return {
      ...c,
      detect_ms: failover ? failover.time - faultAt : NaN,
      switch_ms: complete?.durationMs ?? NaN,
      stall_ms: round(stall, 0),
      lost,
      duplicates,
    };
  } finally {
    await pair.stop();
    await Promise.allSettled([proxy.close(), primary.kill('SIGKILL'), ...standbys.map((s) => s.kill('SIGKILL'))]);
  }
}
