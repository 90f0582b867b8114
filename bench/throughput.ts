// Throughput benchmark: CPU seconds of this (receiving) process per 100 000 delivered changes,
// (a) with a plain node-opcua client subscription and (b) through the pair and the node output in
// the real Node-RED runtime, measured in the same run against the same simulator processes; and
// (c) two plain clients, one per server, counting one server's changes: what receiving both
// streams costs node-opcua alone, the floor under a hot pair (which decodes both).
import { AttributeIds, type DataValue, OPCUAClient, TimestampsToReturn } from 'node-opcua';
import type { ConnectionMode } from '../lib/core/types';
import { bulkItemId } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { freePort } from '../test/helpers/ports';
import type { EmbeddedNodeRed } from './node-red-embed';
import { cpuSeconds, median, percentile, round, sleep, waitFor } from './stats';

export interface ThroughputRow {
  /** direct: one plain client; direct-both: two plain clients, one per server (hot mode's floor). */
  mode: ConnectionMode | 'direct' | 'direct-both';
  items: number;
  sampling_ms: number;
  output: 'per-change' | 'batched' | 'client';
  /** Rounds measured (interleaved with the direct client). */
  runs: number;
  changes_per_s: number;
  /** Medians over the rounds, with the spread "min–max". */
  cpu_s_per_100k: number;
  cpu_spread: string;
  baseline_cpu_s_per_100k: number;
  ratio: number;
  ratio_spread: string;
  p99_delay_ms: number;
  baseline_p99_delay_ms: number;
  /** Hot rows: pair / two plain clients (direct-both) of the same round, median and spread. */
  ratio_to_both?: number;
  ratio_to_both_spread?: string;
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

/** A plain client's subscription to every bulk item; `count` sees each change. */
async function plainSubscription(endpointUrl: string, items: number, samplingMs: number, onChange: (dataValue: DataValue) => void): Promise<() => Promise<void>> {
  const client = OPCUAClient.create({ applicationName: 'node-red-contrib-redundancy', clientName: 'bench-baseline', endpointMustExist: false, connectionStrategy: { maxRetry: 0 }, keepSessionAlive: true });
  await client.connect(endpointUrl);
  try {
    const session = await client.createSession();
    const subscription = await session.createSubscription2({
      requestedPublishingInterval: samplingMs,
      requestedLifetimeCount: 600,
      requestedMaxKeepAliveCount: 20,
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 1,
    });
    const ids = Array.from({ length: items }, (_, i) => ({ nodeId: bulkItemId(i), attributeId: AttributeIds.Value }));
    const group = await subscription.monitorItems(ids, { samplingInterval: samplingMs, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    group.on('changed', (_item, dataValue) => onChange(dataValue));
    return async () => {
      await subscription.terminate().catch(() => undefined);
      await session.close().catch(() => undefined);
      await client.disconnect();
    };
  } catch (err) {
    await client.disconnect();
    throw err;
  }
}

/** Plain clients of these servers (one each); the changes of the first are counted. */
async function baseline(endpointUrls: string[], items: number, samplingMs: number, warmupMs: number, windowMs: number): Promise<Measured> {
  let count = 0;
  const stats = { sampling: false, delays: [] as number[] };
  const closers: Array<() => Promise<void>> = [];
  try {
    for (const [k, url] of endpointUrls.entries()) {
      closers.push(
        await plainSubscription(url, items, samplingMs, (dataValue) => {
          if (k !== 0) return;
          count++;
          if (stats.sampling) stats.delays.push(Date.now() - (dataValue.sourceTimestamp?.getTime() ?? Date.now()));
        }),
      );
    }
    return await measure(() => count, stats, warmupMs, windowMs);
  } finally {
    await Promise.allSettled(closers.map((close) => close()));
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

/** Median, and the spread as "min–max". */
function summary(values: number[], digits: number): { median: number; spread: string } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { median: NaN, spread: '' };
  return { median: round(median(finite), digits), spread: `${round(Math.min(...finite), digits)}–${round(Math.max(...finite), digits)}` };
}

/**
 * `rounds` interleaved rounds: in each, the direct client is measured, then every pair
 * configuration, so that both see the same machine. Each figure is the median over the rounds;
 * a ratio is taken within its round (pair / direct client of that round), then the median.
 */
export async function runThroughput(nr: EmbeddedNodeRed, items: number, samplingMs: number, modes: ConnectionMode[], warmupMs: number, windowMs: number, rounds = 3): Promise<ThroughputRow[]> {
  const [pPort, sPort] = [await freePort(), await freePort()];
  const simOpts = { counterPeriodMs: 1000, bulkItems: items, bulkPeriodMs: samplingMs, shutdownDelayMs: 0 };
  const [primary, secondary] = await Promise.all([
    SimulatorProcess.spawn({ port: pPort, name: 'bench-primary', ...simOpts }),
    SimulatorProcess.spawn({ port: sPort, name: 'bench-secondary', ...simOpts }),
  ]);
  const configs = modes.flatMap((mode) => (['change', 'batch'] as const).map((output) => ({ mode, output })));
  const direct: Measured[] = [];
  const both: Measured[] = [];
  const bothRatios: number[] = [];
  const measured = configs.map(() => [] as Measured[]);
  const ratios = configs.map(() => [] as number[]);
  const toBoth = configs.map(() => [] as number[]);
  try {
    for (let round_ = 0; round_ < rounds; round_++) {
      const base = await baseline([primary.endpointUrl], items, samplingMs, warmupMs, windowMs);
      direct.push(base);
      if (modes.includes('hot')) {
        const b2 = await baseline([primary.endpointUrl, secondary.endpointUrl], items, samplingMs, warmupMs, windowMs);
        both.push(b2);
        bothRatios.push(b2.cpuPer100k / base.cpuPer100k);
      }
      for (let k = 0; k < configs.length; k++) {
        const { mode, output } = configs[k];
        nr.sink.count = 0;
        await nr.deploy(flowFor(mode, output, primary.endpointUrl, secondary.endpointUrl, items, samplingMs));
        await waitFor(() => nr.sink.count > items, 60_000, `data through the ${mode} pair`);
        const m = await measure(() => nr.sink.count, nr.sink, warmupMs, windowMs);
        measured[k].push(m);
        ratios[k].push(m.cpuPer100k / base.cpuPer100k);
        if (mode === 'hot') toBoth[k].push(m.cpuPer100k / both[round_].cpuPer100k);
        await nr.deploy([]);
      }
    }
  } finally {
    await Promise.allSettled([primary.kill('SIGKILL'), secondary.kill('SIGKILL')]);
  }
  const base = summary(direct.map((m) => m.cpuPer100k), 3).median;
  const baseP99 = summary(direct.map((m) => m.p99), 0).median;
  /** One row: medians over the rounds, with their spreads; ratios are taken within each round. */
  const row = (mode: ThroughputRow['mode'], output: ThroughputRow['output'], list: Measured[], ratioList: number[], toBothList: number[] = []): ThroughputRow => {
    const cpu = summary(list.map((m) => m.cpuPer100k), 3);
    const ratio = summary(ratioList, 2);
    const toBothSummary = summary(toBothList, 2);
    return {
      mode, items, sampling_ms: samplingMs, output, runs: list.length, changes_per_s: summary(list.map((m) => m.changesPerS), 0).median,
      cpu_s_per_100k: cpu.median, cpu_spread: cpu.spread, baseline_cpu_s_per_100k: base, ratio: ratio.median, ratio_spread: ratio.spread,
      p99_delay_ms: summary(list.map((m) => m.p99), 0).median, baseline_p99_delay_ms: baseP99,
      ...(toBothList.length > 0 ? { ratio_to_both: toBothSummary.median, ratio_to_both_spread: toBothSummary.spread } : {}),
    };
  };
  const rows = [{ ...row('direct', 'client', direct, []), ratio: 1, ratio_spread: '' }];
  if (both.length > 0) rows.push(row('direct-both', 'client', both, bothRatios));
  configs.forEach(({ mode, output }, k) => rows.push(row(mode, output === 'change' ? 'per-change' : 'batched', measured[k], ratios[k], toBoth[k])));
  return rows;
}
