// Throughput benchmark: CPU seconds of this (receiving) process per 100 000 delivered changes,
// (a) with a plain node-opcua client subscription and (b) through the pair and the node output in
// the real Node-RED runtime, measured in the same run against the same simulator processes.
import { AttributeIds, OPCUAClient, TimestampsToReturn } from 'node-opcua';
import type { ConnectionMode } from '../lib/core/types';
import { bulkItemId } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { freePort } from '../test/helpers/ports';
import type { EmbeddedNodeRed } from './node-red-embed';
import { cpuSeconds, percentile, round, sleep, waitFor } from './stats';

export interface ThroughputRow {
  mode: ConnectionMode | 'direct';
  items: number;
  sampling_ms: number;
  output: 'per-change' | 'batched' | 'client';
  changes_per_s: number;
  cpu_s_per_100k: number;
  baseline_cpu_s_per_100k: number;
  ratio: number;
  p99_delay_ms: number;
  baseline_p99_delay_ms: number;
}

interface Measured {
  changesPerS: number;
  cpuPer100k: number;
  p99: number;
}

async function measure(count: () => number, delays: { sampling: boolean; delays: number[] }, warmupMs: number, windowMs: number): Promise<Measured> {
  await sleep(warmupMs);
  delays.delays.length = 0;
  delays.sampling = true;
  const startCount = count();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await sleep(windowMs);
  const cpu = cpuSeconds(cpu0);
  const n = count() - startCount;
  const elapsed = (Date.now() - t0) / 1000;
  delays.sampling = false;
  const p99 = percentile(delays.delays, 99);
  delays.delays.length = 0;
  return { changesPerS: n / elapsed, cpuPer100k: n > 0 ? (cpu / n) * 1e5 : NaN, p99 };
}

async function baseline(endpointUrl: string, items: number, samplingMs: number, warmupMs: number, windowMs: number): Promise<Measured> {
  const client = OPCUAClient.create({ applicationName: 'node-red-contrib-redundancy', clientName: 'bench-baseline', endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, keepSessionAlive: true });
  await client.connect(endpointUrl);
  const session = await client.createSession();
  try {
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: samplingMs,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    let count = 0;
    const stats = { sampling: false, delays: [] as number[] };
    const ids = Array.from({ length: items }, (_, i) => ({ nodeId: bulkItemId(i), attributeId: AttributeIds.Value }));
    const group = await subscription.monitorItems(ids, { samplingInterval: samplingMs, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    group.on('changed', (_item, dataValue) => {
      count++;
      if (stats.sampling) stats.delays.push(Date.now() - (dataValue.sourceTimestamp?.getTime() ?? Date.now()));
    });
    const m = await measure(() => count, stats, warmupMs, windowMs);
    await subscription.terminate();
    return m;
  } finally {
    await session.close().catch(() => undefined);
    await client.disconnect();
  }
}

function flowFor(mode: ConnectionMode, output: 'change' | 'batch', primaryUrl: string, secondaryUrl: string, items: number, samplingMs: number): object[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'bench' },
    {
      id: 'bench-pair', type: 'redundant-pair', name: `bench-${mode}`, protocol: 'opcua', primaryEndpoint: primaryUrl, secondaryEndpoint: secondaryUrl,
      securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode, pingInterval: 1000, pingTimeout: 1000, autoPromote: true, holdOff: 10000, reconnectMax: 5000,
    },
    {
      id: 'bench-source', type: 'redundant-source', z: 'bench-tab', x: 200, y: 100, pair: 'bench-pair', samplingInterval: samplingMs, output,
      items: Array.from({ length: items }, (_, i) => ({ id: bulkItemId(i) })), wires: [['bench-sink']],
    },
    { id: 'bench-sink', type: 'bench-sink', z: 'bench-tab', x: 400, y: 100, wires: [] },
  ];
}

export async function runThroughput(nr: EmbeddedNodeRed, items: number, samplingMs: number, modes: ConnectionMode[], warmupMs: number, windowMs: number): Promise<ThroughputRow[]> {
  const [pPort, sPort] = [await freePort(), await freePort()];
  const simOpts = { counterPeriodMs: 1000, bulkItems: items, bulkPeriodMs: samplingMs, shutdownDelayMs: 0 };
  const [primary, secondary] = await Promise.all([
    SimulatorProcess.spawn({ port: pPort, name: 'bench-primary', ...simOpts }),
    SimulatorProcess.spawn({ port: sPort, name: 'bench-secondary', ...simOpts }),
  ]);
  const rows: ThroughputRow[] = [];
  try {
    const base = await baseline(primary.endpointUrl, items, samplingMs, warmupMs, windowMs);
    rows.push({
      mode: 'direct', items, sampling_ms: samplingMs, output: 'client', changes_per_s: round(base.changesPerS, 0), cpu_s_per_100k: round(base.cpuPer100k, 3),
      baseline_cpu_s_per_100k: round(base.cpuPer100k, 3), ratio: 1, p99_delay_ms: round(base.p99, 0), baseline_p99_delay_ms: round(base.p99, 0),
    });
    for (const mode of modes) {
      for (const output of ['change', 'batch'] as const) {
        nr.sink.count = 0;
        await nr.deploy(flowFor(mode, output, primary.endpointUrl, secondary.endpointUrl, items, samplingMs));
        await waitFor(() => nr.sink.count > items, 60_000, `data through the ${mode} pair`);
        const m = await measure(() => nr.sink.count, nr.sink, warmupMs, windowMs);
        rows.push({
          mode, items, sampling_ms: samplingMs, output: output === 'change' ? 'per-change' : 'batched', changes_per_s: round(m.changesPerS, 0),
          cpu_s_per_100k: round(m.cpuPer100k, 3), baseline_cpu_s_per_100k: round(base.cpuPer100k, 3), ratio: round(m.cpuPer100k / base.cpuPer100k, 2),
          p99_delay_ms: round(m.p99, 0), baseline_p99_delay_ms: round(base.p99, 0),
        });
      }
    }
    await nr.deploy([]);
  } finally {
    await Promise.allSettled([primary.kill('SIGKILL'), secondary.kill('SIGKILL')]);
  }
  return rows;
}
