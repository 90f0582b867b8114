// alarm_trend rows through the real peer link between two Node-RED processes (link: 'real'), one
// pair per backend (SQLite in each user dir; PostgreSQL, a schema per instance):
// - backfill_rate: instance a gets a trend-backfill node for 100 tags at 1 s that b has trended for
//   a day (quick: 1 h; seeded into b's store by SQL), finds the whole window missing and fills it
//   from b over the link; samples/s from the deploy to the end of the pass, with a's event-loop
//   delay p99 during it (measured inside a's process; target ≤ 50 ms) and, as the machine's share,
//   the same figure with a idle just before;
// - alarm_catch_up: b holds 10 000 alarms (⅓ acknowledged) in its store; a starts with none; the
//   duration of a's catch-up session (hello, outbox, 20 pages of 500 alarms, merged and stored), as
//   a reports it; repeated with a's store wiped and a restarted (median);
// - ack_replication_p50/p99: acks made on a, one every 20 ms, seen acknowledged on b: the time from
//   a's own change message to b's (both stamped by Date.now() of processes on this one host).
// Run alone: node dist/bench/alarm-trend-link.js [--quick] [--backend=sqlite|pg] [--runs=N]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { AlarmEngine } from '../lib/alarm/engine';
import { realClock } from '../lib/core/clock';
import type { BackfillState } from '../lib/trend/backfill';
import type { AlarmTrendRow } from './alarm-trend';
import { type AlarmTrendPair, type Backend, BIG_TAGS, DEFAULT_TIMING, IDS, bigNode, idsOf, loopDelay, resetLoopDelay, startAlarmTrendPair } from '../test/helpers/alarm-trend-pair';
import { type PairStore, openPairStore } from '../lib/store/pair-store';
import { type PostgresCluster, findPostgresBin, startPostgres } from '../test/helpers/postgres';
import { percentile, round, sleep, table, until } from './stats';

const DAY_MS = 86_400_000;
const name = (x: Backend): AlarmTrendRow['backend'] => (x === 'pg' ? 'postgres' : 'sqlite');
const ALARMS = 10_000;

function storeFor(x: Backend, dir: string, side: 'a' | 'b', pg?: PostgresCluster): Promise<PairStore> {
  if (x === 'sqlite') return openPairStore({ backend: 'sqlite', file: join(dir, 'pair.sqlite') });
  return openPairStore({ backend: 'postgres', connectionString: pg!.connectionString, schema: `inst_${side}`, maxConnections: 2 });
}

/** 10 000 alarms, every third acknowledged, their on actions run: as an instance that raised and acked them holds them. */
async function seedAlarms(store: PairStore, group: string): Promise<void> {
  const engine = new AlarmEngine({ group, instanceId: 'bench-seed', clock: realClock, store });
  await engine.open();
  for (let i = 0; i < ALARMS; i++) {
    const key = `AREA${Math.floor(i / 100)}.TAG${i % 100}`;
    await engine.observe({ key, active: true, severity: 100 + (i % 900), text: `alarm ${i}`, category: 'bench', value: i });
    if (i % 3 === 0) await engine.ack({ key, by: 'bench', comment: 'seen' });
    // Their on actions ran long ago (else the instance holding the duty would run 10 000 of them now).
    await engine.recordAction(key, 1, 'on', 1);
  }
  // Delivered long ago: the peer's outbox is empty; the catch-up is a's pull alone.
  await engine.delivered(engine.pendingOutbox().map((e) => e.id));
  await engine.flush();
  await engine.close();
}

/** A day (or an hour) of 100 tags at 1 s into b's store, by SQL, one tag per statement (b keeps running). */
async function seedTrend(x: Backend, group: string, from: number, to: number, dir: string, pg?: PostgresCluster): Promise<number> {
  const store = await storeFor(x, dir, 'b', pg); // creates the tables if needed
  await store.close();
  if (x === 'sqlite') {
    const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
    const db: DatabaseSync = new DatabaseSync(join(dir, 'pair.sqlite'));
    db.exec('PRAGMA busy_timeout = 10000');
    const st = db.prepare(`WITH RECURSIVE ts(t) AS (SELECT ? UNION ALL SELECT t + 1000 FROM ts WHERE t + 1000 < ?)
      INSERT INTO trend_samples (grp, tag, t, value, quality, origin) SELECT ?, ?, t, ((t / 1000) % 3600) * 0.01 + ?, 0, 0 FROM ts WHERE true
      ON CONFLICT DO NOTHING`);
    BIG_TAGS.forEach((tag, i) => st.run(from, to, group, tag, i));
    db.close();
  } else {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client } = require('pg') as typeof import('pg');
    const c = new Client({ connectionString: pg!.connectionString });
    await c.connect();
    try {
      for (let i = 0; i < BIG_TAGS.length; i++) {
        await c.query(
          `INSERT INTO "inst_b".trend_samples (grp, tag, t, value, quality, origin)
           SELECT $1, $2, timestamptz 'epoch' + ms * interval '1 millisecond', ((ms / 1000) % 3600) * 0.01 + $3, 0, 0
           FROM generate_series($4::bigint, $5::bigint - 1000, 1000) ms ON CONFLICT DO NOTHING`,
          [group, BIG_TAGS[i], i, from, to],
        );
      }
    } finally {
      await c.end();
    }
  }
  return BIG_TAGS.length * ((to - from) / 1000);
}

async function wipeA(x: Backend, pair: AlarmTrendPair, pg?: PostgresCluster): Promise<void> {
  if (x === 'sqlite') {
    for (const f of ['pair.sqlite', 'pair.sqlite-wal', 'pair.sqlite-shm']) rmSync(join(pair.a.userDir, f), { force: true });
    return;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Client } = require('pg') as typeof import('pg');
  const c = new Client({ connectionString: pg!.connectionString });
  await c.connect();
  await c.query('DROP SCHEMA IF EXISTS "inst_a" CASCADE').finally(() => c.end());
}

type Event = { kind: string; pair: string; reason: string; durationMs?: number };

async function caughtUp(pair: AlarmTrendPair, x: Backend): Promise<number> {
  const group = idsOf(x).alarmGroup;
  let ev: Event | undefined;
  await until(`a caught up ${ALARMS} alarms (${x})`, 180_000, async () => {
    const events = (await pair.a.messages(IDS.events)).map((m) => m.msg.event as Event);
    ev = events.find((e) => e.kind === 'alarm-caught-up' && e.pair === group && new RegExp(`${ALARMS} alarms`).test(e.reason));
    return !!ev;
  });
  const n = ((await pair.a.nodeState<unknown[]>(idsOf(x).alarm, 'server.views')) ?? []).length;
  if (n !== ALARMS) throw new Error(`a holds ${n} alarms after the catch-up, not ${ALARMS}`);
  return ev!.durationMs ?? NaN;
}

async function ackLatencies(pair: AlarmTrendPair, x: Backend, count: number): Promise<number[]> {
  const i = idsOf(x);
  const views = ((await pair.a.nodeState<Array<{ key: string; acked: boolean }>>(i.alarm, 'server.views')) ?? []).filter((v) => !v.acked).slice(0, count);
  const sinceA = (await pair.a.messages(i.chg)).length;
  const sinceB = (await pair.b.messages(i.chg)).length;
  for (const v of views) {
    await pair.a.inject(i.alarm, { topic: 'ack', payload: { tag: v.key, by: 'bench' } });
    await sleep(20);
  }
  const at = (list: Array<{ t: number; msg: Record<string, unknown> }>) => {
    const m = new Map<string, number>();
    // (the probe keeps an object seen twice once: msg.kinds is payload.kinds)
    for (const e of list) if ((e.msg.payload as { kinds?: string[] } | undefined)?.kinds?.includes('acked') && !m.has(String(e.msg.topic))) m.set(String(e.msg.topic), e.t);
    return m;
  };
  let onB = new Map<string, number>();
  await until(`${views.length} acks seen on b`, 60_000, async () => {
    onB = at(await pair.b.messages(i.chg, sinceB));
    return views.every((v) => onB.has(v.key));
  }, async () => ({ onB: onB.size, onA: at(await pair.a.messages(i.chg, sinceA)).size, errorsA: (await pair.a.messages(IDS.err)).slice(-3).map((m) => m.msg.error), b: (await pair.b.messages(i.chg, sinceB)).slice(-2) }));
  const onA = at(await pair.a.messages(i.chg, sinceA));
  return views.map((v) => (onB.get(v.key) as number) - (onA.get(v.key) as number));
}

async function backfill(pair: AlarmTrendPair, x: Backend, spanMs: number, pg?: PostgresCluster): Promise<AlarmTrendRow[]> {
  const i = idsOf(x);
  const now = Date.now();
  // Seeded from before the window to 10 min ahead: a's whole window is on b (b's own live samples later only add).
  const from = Math.floor((now - spanMs - 120_000) / 1000) * 1000;
  const to = Math.floor((now + 600_000) / 1000) * 1000;
  process.stdout.write(`alarm_trend (real link, ${x}): seeding b with 100 tags × ${Math.round(spanMs / 3600_000)} h at 1 s… `);
  const s0 = Date.now();
  const seeded = await seedTrend(x, i.bigGroup, from, to, pair.b.userDir, pg);
  process.stdout.write(`${seeded} samples in ${Math.round((Date.now() - s0) / 1000)} s\n`);
  // The seeding held this event loop for seconds: let the HTTP client see the keep-alive sockets the
  // instances closed meanwhile (else the next request goes out on a closed one).
  await sleep(500);
  const windowH = spanMs / 3600_000;
  const big = bigNode(x, windowH);
  pair.flows.b.push(big);
  await pair.b.deploy(pair.flows.b, 'nodes');
  await until('b\'s trend node', 60_000, async () => !!(await pair.a.get('/test-probe/ready')) && !!(await pair.b.nodeState(big.id as string, 'server.state')));
  // a idle for a while: the machine's share of the event-loop delay.
  await resetLoopDelay(pair.a);
  await sleep(5000);
  const idle = await loopDelay(pair.a);
  await resetLoopDelay(pair.a);
  const t0 = performance.now();
  pair.flows.a.push(big);
  await pair.a.deploy(pair.flows.a, 'nodes');
  let state: BackfillState | undefined;
  const answers: number[] = [];
  await until(`a's backfill (${x})`, 3 * 3600_000, async () => {
    const q0 = performance.now();
    state = (await pair.a.nodeState<BackfillState>(big.id as string, 'server.state')) ?? undefined;
    answers.push(performance.now() - q0);
    return !!state && !state.running && state.filledTotal > 0 && state.pending === 0;
  });
  const s = (performance.now() - t0) / 1000;
  const loop = await loopDelay(pair.a);
  const filled = state!.filledTotal;
  const expected = BIG_TAGS.length * Math.floor((spanMs - 20_000) / 1000);
  if (filled < expected) throw new Error(`backfill incomplete: ${filled} samples, expected ≥ ${expected}`);
  // Spot check: a's rows of one tag are b's.
  const sa = await storeFor(x, pair.a.userDir, 'a', pg);
  const sb = await storeFor(x, pair.b.userDir, 'b', pg);
  try {
    const ra = (await sa.readSamples(i.bigGroup, BIG_TAGS[42], from, to, 200_000)).filter((r) => r.origin === 'peer');
    const rb = new Map((await sb.readSamples(i.bigGroup, BIG_TAGS[42], from, to, 200_000)).map((r) => [r.t, r.value]));
    const wrong = ra.filter((r) => rb.get(r.t) !== r.value).length;
    if (wrong || ra.length < spanMs / 1000 - 20) throw new Error(`${BIG_TAGS[42]}: ${ra.length} rows from b, ${wrong} differ`);
  } finally {
    await sa.close();
    await sb.close();
  }
  const label = `100 tags × ${windowH >= 1 ? `${Math.round(windowH)} h` : `${Math.round(windowH * 60)} min`} at 1 s`;
  return [
    { case: 'backfill_rate', backend: name(x), link: 'real', value: Math.round(filled / s), unit: 'samples/s', note: `${label}: ${filled} samples from b over the peer link in ${round(s, 1)} s (deploy to pass complete), chunks of 2000` },
    { case: 'backfill_event_loop_p99', backend: name(x), link: 'real', value: round(loop.p99, 1), unit: 'ms', note: `in the receiving process; p50 ${round(loop.p50, 1)}, max ${round(loop.max, 1)} ms; its admin API answered within ${Math.round(Math.max(...answers))} ms throughout (target ≤ 50 ms)` },
    { case: 'idle_event_loop_p99', backend: name(x), link: 'real', value: round(idle.p99, 1), unit: 'ms', note: `the same process idle for 5 s just before (the machine's share); max ${round(idle.max, 1)} ms` },
  ];
}

async function runBackend(x: Backend, quick: boolean, runs: number, pg?: PostgresCluster): Promise<AlarmTrendRow[]> {
  const i = idsOf(x);
  process.stdout.write(`alarm_trend (real link, ${x}): seeding b with ${ALARMS} alarms… `);
  const pair = await startAlarmTrendPair({
    backends: [x], timing: { ...DEFAULT_TIMING, catchUpWaitS: 30 }, pg, parts: { alarms: true, trends: false }, listProbe: false,
    // ALARM_TREND_PROFILE=<dir>: a CPU profile of each instance, written when it stops.
    ...(process.env.ALARM_TREND_PROFILE ? { env: { a: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.ALARM_TREND_PROFILE}/a` }, b: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.ALARM_TREND_PROFILE}/b` } } } : {}),
    beforeStart: async (dirs) => {
      const store = await storeFor(x, dirs.b, 'b', pg);
      try {
        await seedAlarms(store, i.alarmGroup);
      } finally {
        await store.close();
      }
      process.stdout.write('done\n');
    },
  });
  try {
    const catchUps: number[] = [await caughtUp(pair, x)];
    for (let r = 1; r < runs; r++) {
      await pair.a.kill();
      await wipeA(x, pair, pg);
      await pair.a.restart();
      catchUps.push(await caughtUp(pair, x));
    }
    process.stdout.write(`alarm_trend (real link, ${x}): catch-up of ${ALARMS} alarms ${catchUps.map((c) => Math.round(c)).join(', ')} ms\n`);
    await until('b in sync', 60_000, async () => !!(await pair.b.nodeState<{ inSync: boolean }>(i.alarm, 'server.state'))?.inSync);
    const lat = await ackLatencies(pair, x, quick ? 100 : 300);
    const rows: AlarmTrendRow[] = [
      { case: 'alarm_catch_up', backend: name(x), link: 'real', value: Math.round(percentile(catchUps, 50)), unit: 'ms', note: `${ALARMS} alarms (⅓ acked) into an empty instance, pages of 500 over the peer link; median of ${catchUps.length}: ${catchUps.map((c) => Math.round(c)).join(', ')} ms` },
      { case: 'ack_replication_p50', backend: name(x), link: 'real', value: round(percentile(lat, 50), 1), unit: 'ms', note: `${lat.length} acks on a, one per 20 ms: a's change message to b's (ack stored with its outbox entry, pushed, merged, stored on b)` },
      { case: 'ack_replication_p99', backend: name(x), link: 'real', value: round(percentile(lat, 99), 1), unit: 'ms', note: `max ${round(Math.max(...lat), 1)} ms` },
    ];
    rows.push(...(await backfill(pair, x, quick ? 3600_000 : DAY_MS, pg)));
    return rows;
  } catch (err) {
    console.log(`--- a:\n${pair.a.log().slice(-4000)}\n--- b:\n${pair.b.log().slice(-4000)}`);
    throw err;
  } finally {
    await pair.dispose();
  }
}

export async function runAlarmTrendLinkBench(quick: boolean, only?: string, runs = 3): Promise<AlarmTrendRow[]> {
  const rows: AlarmTrendRow[] = [];
  const list: Backend[] = [];
  if (!only || only === 'sqlite') list.push('sqlite');
  if (!only || only === 'pg' || only === 'postgres') {
    if (findPostgresBin()) list.push('pg');
    else console.log('alarm_trend (real link): PostgreSQL not installed, its rows are left out');
  }
  let pg: PostgresCluster | undefined;
  try {
    for (const x of list) {
      if (x === 'pg') pg ??= await startPostgres();
      rows.push(...(await runBackend(x, quick, runs, pg)));
    }
  } finally {
    await pg?.stop();
  }
  return rows;
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--backend='))?.slice(10);
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
  runAlarmTrendLinkBench(quick, only, runs)
    .then((rows) => {
      console.log(table(rows as unknown as Array<Record<string, unknown>>, ['case', 'backend', 'link', 'value', 'unit', 'note']));
      console.log(JSON.stringify(rows));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
