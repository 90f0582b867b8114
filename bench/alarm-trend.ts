// alarm_trend rows {case, backend, link: 'fake', value, unit, note}: store-level figures measured in one process
// through the in-memory fake peer link (the baseline of the real link's rows, bench/alarm-trend-link.ts):
// - backfill rate of a day × 100 tags at 1 s (quick: 1 h) from a filled store into an empty one,
//   with the event-loop delay p99 during it, and a baseline: the same rows copied store to store
//   directly (read + fill, no protocol, no scan), so ratio = backfill time / copy time;
// - alarm catch-up of 10 000 alarms by a started instance;
// - ack replication latency p50/p99 (fake link, zero latency: the engine's and store's share).
// Both sides run in this process, so the event-loop delay includes the serving side's reads. The
// real link's rows: bench/alarm-trend-link.ts.
// Run alone: node dist/bench/alarm-trend.js [--quick] [--backend=sqlite|postgres]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AlarmServer } from '../lib/alarm/service';
import { FakeClock, realClock } from '../lib/core/clock';
import { type PairStore, openPairStore } from '../lib/store/pair-store';
import { TrendBackfill } from '../lib/trend/backfill';
import type { TrendSample } from '../lib/trend/types';
import { FakeNetwork } from '../test/helpers/fake-peer-link';
import { type PostgresCluster, findPostgresBin, startPostgres } from '../test/helpers/postgres';
import { percentile, round, table, waitFor } from './stats';

export interface AlarmTrendRow {
  case: string;
  backend: 'sqlite' | 'postgres';
  value: number;
  unit: string;
  /** fake: both instances in one process over the in-memory link (store level); real: two Node-RED processes, the peer link. */
  link?: 'fake' | 'real';
  note?: string;
}

const DAY_MS = 86_400_000;
const T_END = Math.floor(1_700_000_000_000 / 1000) * 1000;

interface Backend {
  name: 'sqlite' | 'postgres';
  open(label: string): Promise<PairStore>;
  close(): Promise<void>;
}

async function backends(only?: string): Promise<Backend[]> {
  const out: Backend[] = [];
  if (!only || only === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'bench-alarm-trend-'));
    out.push({ name: 'sqlite', open: (label) => openPairStore({ backend: 'sqlite', file: join(dir, `${label}.sqlite`) }), close: async () => rmSync(dir, { recursive: true, force: true }) });
  }
  if ((!only || only === 'postgres') && findPostgresBin()) {
    let cluster: PostgresCluster | undefined;
    out.push({
      name: 'postgres',
      async open(label) {
        cluster ??= await startPostgres();
        return openPairStore({ backend: 'postgres', connectionString: cluster.connectionString, schema: label.replace(/\W/g, '_') });
      },
      close: async () => cluster?.stop(),
    });
  } else if (!only || only === 'postgres') console.log('alarm_trend: PostgreSQL not installed, its rows are left out');
  return out;
}

async function fillSource(store: PairStore, tags: number, spanMs: number): Promise<number> {
  let n = 0;
  const from = T_END - spanMs;
  const batch: TrendSample[] = [];
  for (let tag = 0; tag < tags; tag++) {
    for (let t = from; t < T_END; t += 1000) {
      batch.push({ tag: `T${String(tag).padStart(3, '0')}`, t, value: Math.sin(t / 60_000 + tag), quality: 'good', origin: 'local' });
      if (batch.length === 10_000) {
        await store.writeSamples('bench', batch);
        n += batch.length;
        batch.length = 0;
      }
    }
  }
  if (batch.length) await store.writeSamples('bench', batch);
  return n + batch.length;
}

async function backfillCase(b: Backend, tags: number, spanMs: number): Promise<AlarmTrendRow[]> {
  const label = `${b.name} ${tags} tags × ${Math.round(spanMs / 3600_000)} h at 1 s`;
  const source = await b.open('src');
  const target = await b.open('dst');
  const copy = await b.open('copy');
  try {
    process.stdout.write(`alarm_trend: filling the source store (${label})… `);
    const total = await fillSource(source, tags, spanMs);
    process.stdout.write(`${total} samples\n`);
    const tagNames = Array.from({ length: tags }, (_, i) => `T${String(i).padStart(3, '0')}`);

    // Baseline: the same rows copied directly, in the same chunks, no protocol, no hole finding.
    const hc = monitorEventLoopDelay({ resolution: 10 });
    hc.enable();
    const c0 = performance.now();
    for (const tag of tagNames) {
      for (let from = T_END - spanMs; ; ) {
        const rows = await source.readSamples('bench', tag, from, T_END, 2000);
        if (rows.length === 0) break;
        await copy.fillSamples('bench', rows.map((r) => ({ ...r, origin: 'peer' as const })));
        from = rows[rows.length - 1].t + 1;
        await new Promise((r) => setImmediate(r));
      }
    }
    const copyS = (performance.now() - c0) / 1000;
    hc.disable();

    // The backfill: an instance with nothing finds the window missing and fills it from the peer.
    const net = new FakeNetwork(0);
    const clock = new FakeClock(T_END + 15_000);
    const serve = new TrendBackfill(source, net.attach('a'), { group: 'bench', clock, periodMs: 1000, tags: () => tagNames, scanWindowMs: spanMs + 15_000, startWaitMs: 3600_000 });
    const fill = new TrendBackfill(target, net.attach('b'), { group: 'bench', clock, periodMs: 1000, tags: () => tagNames, scanWindowMs: spanMs + 15_000, startWaitMs: 3600_000 });
    let filled = 0;
    fill.on('filled', (_tag, n) => (filled += n));
    await serve.start();
    const h = monitorEventLoopDelay({ resolution: 10 });
    h.enable();
    const t0 = performance.now();
    await fill.start(); // the link is up: the pass starts at once
    await fill.idle();
    const s = (performance.now() - t0) / 1000;
    h.disable();
    await fill.stop();
    await serve.stop();
    const count = await target.countSamples('bench', tagNames[0], 0, T_END + 1);
    if (filled !== total || count !== spanMs / 1000) throw new Error(`backfill incomplete: ${filled} of ${total} written, ${count} rows of ${tagNames[0]}`);
    const p99 = h.percentile(99) / 1e6;
    const max = h.max / 1e6;
    const reads = net.requests.filter((r) => r.op === 'read').length;
    return [
      { case: 'backfill_rate', backend: b.name, value: Math.round(total / s), unit: 'samples/s', note: `${label}: ${total} samples in ${round(s, 1)} s, ${reads} requests of ≤ 2000` },
      { case: 'backfill_event_loop_p99', backend: b.name, value: round(p99, 1), unit: 'ms', note: `max ${round(max, 1)} ms (both sides in one process; target ≤ 50 ms)` },
      { case: 'backfill_copy_baseline', backend: b.name, value: Math.round(total / copyS), unit: 'samples/s', note: `direct store-to-store copy, same chunks; backfill/copy time ratio ${round(s / copyS, 2)}` },
      { case: 'copy_baseline_event_loop_p99', backend: b.name, value: round(hc.percentile(99) / 1e6, 1), unit: 'ms', note: `max ${round(hc.max / 1e6, 1)} ms: the machine's share (load) in the delay` },
    ];
  } finally {
    await source.close();
    await target.close();
    await copy.close();
  }
}

async function alarmCases(b: Backend, alarms: number, acks: number): Promise<AlarmTrendRow[]> {
  const net = new FakeNetwork(0);
  const storeA = await b.open('alarms_a');
  const storeB = await b.open('alarms_b');
  const linkA = net.attach('a');
  const a = await AlarmServer.start({ group: 'bench', link: linkA, store: storeA, clock: realClock, catchUpWaitMs: 0, checkMs: 0 });
  try {
    await waitFor(() => a.state().started, 10_000, 'the alarm server to start');
    process.stdout.write(`alarm_trend: raising ${alarms} alarms (${b.name})… `);
    for (let i = 0; i < alarms; i++) {
      const key = `AREA${Math.floor(i / 100)}.TAG${i % 100}`;
      await a.observe({ key, active: true, severity: 100 + (i % 900), text: `alarm ${i}`, category: 'bench', value: i });
      if (i % 3 === 0) await a.ack({ key, by: 'bench', comment: 'seen' });
    }
    await a.engine.flush();
    process.stdout.write('done\n');

    const t0 = performance.now();
    const bSrv = await AlarmServer.start({ group: 'bench', link: net.attach('b'), store: storeB, clock: realClock, catchUpWaitMs: 60_000, checkMs: 0, pageSize: 500 });
    await bSrv.sync.idle();
    const catchUpMs = performance.now() - t0;
    if (!bSrv.state().inSync) throw new Error(`catch-up failed: ${bSrv.state().lastError}`);
    if (bSrv.views().length !== alarms) throw new Error(`caught up ${bSrv.views().length} of ${alarms} alarms`);

    // Ack replication: an ack made on A, seen acked on B.
    const latencies: number[] = [];
    const keys = a.views().filter((v) => !v.acked).slice(0, acks).map((v) => v.key);
    try {
      for (const key of keys) {
        let on: ((c: { key: string; kinds: string[] }) => void) | undefined;
        const seen = new Promise<void>((resolve) => {
          on = (c) => {
            if (c.key === key && c.kinds.includes('acked')) resolve();
          };
          bSrv.on('change', on);
        });
        const s0 = performance.now();
        await a.ack({ key, by: 'bench' });
        // Bounded: an ack that never replicates is the defect this row measures, not a hang.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the ack of ${key} was not seen on b within 10 s`)), 10_000);
        });
        try {
          await Promise.race([seen, timeout]);
        } finally {
          clearTimeout(timer);
          bSrv.off('change', on!);
        }
        latencies.push(performance.now() - s0);
      }
    } finally {
      await bSrv.close();
    }
    return [
      { case: 'alarm_catch_up', backend: b.name, value: Math.round(catchUpMs), unit: 'ms', note: `${alarms} alarms (⅓ acked), pages of 500, fake link` },
      { case: 'ack_replication_p50', backend: b.name, value: round(percentile(latencies, 50), 2), unit: 'ms', note: `${latencies.length} acks, ack persisted (outbox) + push + merge + persist on the peer; fake link, 0 ms latency` },
      { case: 'ack_replication_p99', backend: b.name, value: round(percentile(latencies, 99), 2), unit: 'ms', note: 'fake link: the real link adds its round trip (rows with link real)' },
    ];
  } finally {
    await a.close();
    await storeA.close();
    await storeB.close();
  }
}

export async function runAlarmTrendBench(quick: boolean, only?: string): Promise<AlarmTrendRow[]> {
  const rows: AlarmTrendRow[] = [];
  for (const b of await backends(only)) {
    try {
      rows.push(...(await backfillCase(b, 100, quick ? 3600_000 : DAY_MS)));
      rows.push(...(await alarmCases(b, 10_000, quick ? 200 : 1000)));
    } finally {
      await b.close();
    }
  }
  return rows.map((r) => ({ ...r, link: 'fake' as const }));
}

export function printAlarmTrend(rows: AlarmTrendRow[]): void {
  console.log('\nalarm and trend pairs (link fake: store level, both sides in one process; real: two Node-RED processes over the peer link)');
  console.log(table(rows as unknown as Array<Record<string, unknown>>, ['case', 'backend', 'link', 'value', 'unit', 'note']));
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--backend='))?.slice(10);
  runAlarmTrendBench(quick, only)
    .then((rows) => {
      printAlarmTrend(rows);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
