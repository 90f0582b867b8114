// Two trend servers over a pair of fake peer links, each with its own SQLite store and fake clock:
// sampling on the grid with qualities, backfill after a crash (the peer's exact rows), repair of
// bad/n/a samples, a gap both had (reported, not invented), pending gaps retried when the peer
// returns, bounded chunks, chart queries, bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FakeClock } from '../../lib/core/clock';
import { type PairStore, openPairStore } from '../../lib/store/pair-store';
import { SqlitePairStore } from '../../lib/store/sqlite-pair-store';
import type { BackfillEvent } from '../../lib/trend/backfill';
import { totalMs, union } from '../../lib/trend/intervals';
import { TrendSampler } from '../../lib/trend/sampler';
import { TrendServer } from '../../lib/trend/service';
import type { TrendSample } from '../../lib/trend/types';
import { FakeNetwork, type Side } from '../helpers/fake-peer-link';
import { type PostgresCluster, requirePostgres, startPostgres } from '../helpers/postgres';

type StoreFactory = (side: Side, dir: string) => Promise<PairStore>;
const sqliteStores: StoreFactory = (side, dir) => openPairStore({ backend: 'sqlite', file: join(dir, `${side}.sqlite`) });

const T0 = 1_700_000_000_000;
const P = 1000;
const value = (t: number) => Math.round(Math.sin(t / 7000) * 1000) / 10;

class Rig {
  readonly net = new FakeNetwork(0);
  readonly clocks: Record<Side, FakeClock> = { a: new FakeClock(T0), b: new FakeClock(T0) };
  readonly servers: Partial<Record<Side, TrendServer>> = {};
  readonly stores: Partial<Record<Side, PairStore>> = {};
  readonly events: Record<Side, BackfillEvent[]> = { a: [], b: [] };
  readonly dir = mkdtempSync(join(tmpdir(), 'trend-pair-'));
  /** Sides whose IO is lost: 'bad' sends bad quality, 'silent' sends nothing. */
  readonly io: Record<Side, 'ok' | 'bad' | 'silent'> = { a: 'ok', b: 'ok' };

  constructor(private readonly extra: Record<string, unknown> = {}, private readonly openStore: StoreFactory = sqliteStores) {}

  async start(side: Side): Promise<TrendServer> {
    this.net.attach(side);
    const store = await this.openStore(side, this.dir);
    this.stores[side] = store;
    const server = await TrendServer.start({ group: 'line1', link: this.net.link(side)!, store, clock: this.clocks[side], periodMs: P, tags: ['TT1', 'FT2'], settleMs: 2000, retryMs: 5000, startWaitMs: 1000, bothRetries: 2, scanWindowMs: 3600_000, ...this.extra });
    server.on('event', (e) => this.events[side].push(e as BackfillEvent));
    this.servers[side] = server;
    return server;
  }

  async crash(side: Side): Promise<void> {
    this.net.kill(side);
    await this.servers[side]?.close();
    await this.stores[side]?.close();
    delete this.servers[side];
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setImmediate(r));
      await Promise.all(Object.values(this.servers).map((s) => s!.backfill.idle()));
    }
  }

  /** `seconds` of plant life: values go to the running sides each 100 ms, clocks advance. */
  async run(seconds: number): Promise<void> {
    for (let i = 0; i < seconds * 10; i++) {
      for (const side of ['a', 'b'] as const) {
        const s = this.servers[side];
        const now = this.clocks[side].now();
        if (!s || this.io[side] === 'silent') continue;
        for (const tag of ['TT1', 'FT2']) s.update(tag, tag === 'TT1' ? value(now) : value(now) * 2, this.io[side] === 'ok');
      }
      await Promise.all([this.clocks.a.advance(100), this.clocks.b.advance(100)]);
      await this.settle();
    }
  }

  async rows(side: Side, tag: string, from = T0, to = T0 + 3600_000): Promise<TrendSample[]> {
    // Samples taken in fake time may still be on their way to a real database.
    await this.servers[side]?.sampler.flush();
    return this.stores[side]!.readSamples('line1', tag, from, to, 100_000);
  }

  kinds(side: Side): string[] {
    return this.events[side].map((e) => e.kind);
  }

  async close(): Promise<void> {
    for (const side of ['a', 'b'] as const) {
      await this.servers[side]?.close();
      await this.stores[side]?.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const strip = (rows: TrendSample[]) => rows.map((r) => [r.t, r.value, r.quality]);

let rig: Rig;

/** backfills the interval a crashed instance missed with the peer\'s exact samples */
async function crashBackfill(stores: StoreFactory): Promise<void> {
    rig = new Rig({}, stores);
  await rig.start('a');
  await rig.start('b');
  await rig.run(20);
  await rig.crash('b');
  await rig.run(30);
  await rig.start('b');
  await rig.run(15);
  const end = rig.clocks.a.now() - 3000;
  for (const tag of ['TT1', 'FT2']) {
    const a = await rig.rows('a', tag, T0, end);
    const b = await rig.rows('b', tag, T0, end);
    assert.equal(a.length, (end - T0) / P - 1, 'A sampled every period');
    assert.deepEqual(strip(b), strip(a), `${tag}: B's rows equal A's`);
    const fromPeer = b.filter((r) => r.origin === 'peer');
    assert.ok(fromPeer.length >= 30 && fromPeer.length <= 33, `${fromPeer.length} samples backfilled`);
    assert.ok(fromPeer.every((r) => r.t >= T0 + 20_000 && r.t <= T0 + 51_000));
  }
  assert.deepEqual(rig.servers.b!.gaps(), [], 'nothing left to fill');
  assert.ok(rig.kinds('b').includes('backfill-started') && rig.kinds('b').includes('backfill-complete'), rig.kinds('b').join());
}


describe('trend server pair (fake links, fake clocks)', function () {
  this.timeout(20_000);
  afterEach(async () => rig && (await rig.close()));

  it('backfills the interval a crashed instance missed with the peer\'s exact samples', async function () {
    await crashBackfill(sqliteStores);
  });

  it('replaces samples stored bad or n/a because IO was lost with the peer\'s good ones', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    await rig.run(10);
    rig.io.b = 'bad';
    await rig.run(10);
    rig.io.b = 'ok';
    await rig.run(12);
    const end = rig.clocks.a.now() - 3000;
    const b = await rig.rows('b', 'TT1', T0, end);
    assert.deepEqual(strip(b), strip(await rig.rows('a', 'TT1', T0, end)));
    assert.equal(b.filter((r) => r.quality !== 'good').length, 0, 'no bad sample left');
    assert.equal(b.filter((r) => r.origin === 'peer').length, 10);
  });

  it('leaves a gap both instances had as it is, and reports it; fills the rest from each other', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    await rig.run(10);
    rig.io.a = 'bad'; // A loses IO at 10 s
    await rig.run(5);
    rig.io.b = 'bad'; // B too at 15 s
    await rig.run(5);
    rig.io.a = 'ok'; // A back at 20 s
    await rig.run(5);
    rig.io.b = 'ok'; // B back at 25 s
    await rig.run(20);
    const end = rig.clocks.a.now() - 3000;
    for (const side of ['a', 'b'] as const) {
      const rows = await rig.rows(side, 'TT1', T0, end);
      const notGood = rows.filter((r) => r.quality !== 'good').map((r) => r.t - T0);
      assert.deepEqual(notGood, [16_000, 17_000, 18_000, 19_000, 20_000], `${side}: only what both lacked stays bad`);
      // Reported once: in one piece, or in two when a scan found the hole while it was growing.
      const both = rig.events[side].filter((e) => e.kind === 'trend-gap-both' && e.tag === 'TT1');
      const reported = both.flatMap((e) => e.ranges ?? []);
      assert.deepEqual(union(reported), [{ from: T0 + 16_000, to: T0 + 21_000 }], `${side}: reported what both lack`);
      assert.equal(totalMs(reported), 5000, `${side}: no part reported twice`);
      assert.match(both[0].reason, /no good samples on either instance/);
      assert.deepEqual(rig.servers[side]!.gaps('TT1').map((g) => [g.state, g.from - T0, g.to - T0]), [['both', 16_000, 21_000]]);
    }
    assert.deepEqual(strip(await rig.rows('a', 'TT1', T0, end)), strip(await rig.rows('b', 'TT1', T0, end)));
  });

  it('remembers what it could not fill while the peer was down and fills it when the peer returns', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    await rig.run(5);
    rig.net.cut();
    rig.io.b = 'bad';
    await rig.run(10);
    rig.io.b = 'ok';
    await rig.run(10);
    const pending = rig.servers.b!.gaps('TT1');
    assert.equal(pending.length, 1);
    assert.equal(pending[0].state, 'pending');
    assert.ok(rig.kinds('b').includes('backfill-deferred'), rig.kinds('b').join());
    rig.net.heal();
    await rig.run(3);
    assert.deepEqual(rig.servers.b!.gaps('TT1'), []);
    const end = rig.clocks.a.now() - 3000;
    assert.deepEqual(strip(await rig.rows('b', 'TT1', T0, end)), strip(await rig.rows('a', 'TT1', T0, end)));
  });

  it('fetches in bounded chunks and answers chart queries (decimated, holes as null, backfilled ranges)', async function () {
    rig = new Rig({ chunk: 7 });
    await rig.start('a');
    await rig.start('b');
    await rig.run(5);
    await rig.crash('b');
    await rig.run(40);
    rig.net.requests.length = 0;
    await rig.start('b');
    await rig.run(10);
    const reads = rig.net.requests.filter((r) => r.from === 'b' && r.op === 'read').length;
    assert.ok(reads >= 2 * Math.ceil(40 / 7) && reads <= 2 * (Math.ceil(42 / 7) + 2), `${reads} read requests for 2 × ~40 samples in chunks of 7`);
    const b = rig.servers.b!;
    const raw = await b.query({ tag: 'TT1', from: T0, to: T0 + 20_000, maxPoints: 100 });
    assert.equal(raw.decimated, false);
    assert.equal(raw.points.length, 20);
    assert.deepEqual(raw.backfilled, [{ from: T0 + 6000, to: T0 + 20_000 }]);
    const dec = await b.query({ tag: 'TT1', from: T0, to: T0 + 50_000, maxPoints: 10, agg: 'max' });
    assert.equal(dec.decimated, true);
    assert.equal(dec.bucketMs, 5000);
    assert.equal(dec.points.length, 10);
    const rows = await rig.rows('b', 'TT1', T0 + 5000, T0 + 10_000);
    assert.equal(dec.points[1].y, Math.max(...rows.map((r) => r.value as number)));
    const mm = await b.query({ tag: 'TT1', from: T0 - 20_000, to: T0 + 50_000, maxPoints: 14, agg: 'minmax' });
    assert.deepEqual(mm.points[0], { x: T0 - 20_000, y: null }, 'before the first sample: a null, the line breaks');
    assert.equal(mm.points.filter((p) => p.y !== null).length, 10);
    await assert.rejects(b.query({ tag: 'NOPE' }), /unknown tag NOPE \(this trend has TT1, FT2\)/);
    await assert.rejects(b.query({ tag: 'TT1', from: 'yesterday-ish' }), /from "yesterday-ish" is not a time/);
    await assert.rejects(b.query({ tag: 'TT1', maxPoints: 1 }), /maxPoints must be a whole number 2\.\.20000/);
    await assert.rejects(b.query({ tag: 'TT1', agg: 'median' }), /agg must be one of avg, min, max, minmax/);
    const rel = await b.query({ tag: 'TT1', from: '-10s' });
    assert.equal(rel.query.to - rel.query.from, 10_000);
  });

  it('refuses a malformed request, a period that differs, and a bad value, with the reason', async function () {
    rig = new Rig();
    await rig.start('a');
    rig.net.attach('b');
    const link = rig.net.link('b')!;
    await assert.rejects(link.request('trend-backfill/line1', { op: 'read', v: 1, tag: 'TT1', from: 5, to: 1, limit: 10 }), /from ≤ to/);
    await assert.rejects(link.request('trend-backfill/line1', { op: 'read', v: 1, tag: 'TT1', from: 0, to: 1, limit: 1e6 }), /limit must be 1\.\.20000/);
    await assert.rejects(link.request('trend-backfill/line1', { op: 'drop-table', v: 1 }), /unknown trend-backfill op drop-table/);
    assert.throws(() => rig.servers.a!.update('TT1', NaN), /value null of TT1 is not a number|value NaN/);
    assert.throws(() => rig.servers.a!.update('TT1', 'abc'), /value "abc" of TT1 is not a number/);
    // B runs a different period: A's backfill is deferred with the reason.
    const storeB = new SqlitePairStore(join(rig.dir, 'b.sqlite'));
    rig.stores.b = storeB;
    rig.servers.b = await TrendServer.start({ group: 'line1', link, store: storeB, clock: rig.clocks.b, periodMs: 500, tags: ['TT1'], startWaitMs: 1000 });
    rig.servers.a!.backfill.kick();
    await rig.run(3);
    assert.ok(rig.events.a.some((e) => e.kind === 'backfill-deferred' && /the peer samples every 500 ms, this instance every 1000 ms/.test(e.reason)), JSON.stringify(rig.events.a));
    // Both fail after hello: they must not wake each other up in a loop.
    const hellos = rig.net.requests.filter((r) => r.op === 'hello').length;
    await rig.run(2);
    assert.ok(rig.net.requests.filter((r) => r.op === 'hello').length - hellos <= 2, 'no hello ping-pong');
  });
});

describe('trend backfill, large', function () {
  this.timeout(60_000);
  it('fills 10 tags × 1 h at 1 s in bounded chunks, the event loop served between every step', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'trend-large-'));
    const source = new SqlitePairStore(join(dir, 'a.sqlite'));
    const target = new SqlitePairStore(join(dir, 'b.sqlite'));
    try {
      const tags = Array.from({ length: 10 }, (_, i) => `T${i}`);
      const end = T0 + 3600_000;
      for (const tag of tags) {
        const rows: TrendSample[] = [];
        for (let t = T0; t < end; t += P) rows.push({ tag, t, value: t % 977, quality: 'good', origin: 'local' });
        await source.writeSamples('g', rows);
      }
      const net = new FakeNetwork(0);
      const clock = new FakeClock(end + 10_000); // the scan ends at now − 10 s (settle) = the source's end
      const { TrendBackfill } = await import('../../lib/trend/backfill');
      const serve = new TrendBackfill(source, net.attach('a'), { group: 'g', clock, periodMs: P, tags: () => tags, scanWindowMs: 3600_000 + 10_000 });
      const fill = new TrendBackfill(target, net.attach('b'), { group: 'g', clock, periodMs: P, tags: () => tags, scanWindowMs: 3600_000 + 10_000, chunk: 1000 });
      await serve.start();
      // Count turns of the event loop while the backfill runs: a pass that held the loop would let none through.
      let turns = 0;
      let ticking = true;
      const tick = () => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      // Every write is a bounded slice, and the loop turned between any two of them.
      const writes: Array<{ rows: number; turn: number }> = [];
      const fillSamples = target.fillSamples.bind(target);
      target.fillSamples = (g, rows) => {
        writes.push({ rows: rows.length, turn: turns });
        return fillSamples(g, rows);
      };
      await fill.start();
      await fill.idle();
      ticking = false;
      const reads = net.requests.filter((r) => r.from === 'b' && r.op === 'read').length;
      assert.equal(reads, 10 * 4, '3600 samples per tag in 4 chunks of ≤ 1000');
      assert.ok(writes.length >= 36 && writes.every((w) => w.rows <= 1000), `${writes.length} writes of ≤ 1000 rows`);
      assert.ok(writes.every((w, i) => i === 0 || w.turn > writes[i - 1].turn), 'the event loop turned between every two writes');
      for (const tag of tags) assert.deepEqual(strip(await target.readSamples('g', tag, T0, end, 10_000)), strip(await source.readSamples('g', tag, T0, end, 10_000)));
      assert.deepEqual(fill.listGaps(), []);
      await fill.stop();
      await serve.stop();
    } finally {
      await source.close();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trend server pair on PostgreSQL stores', function () {
  this.timeout(60_000);
  let cluster: PostgresCluster | undefined;
  before(async function () {
    const bin = requirePostgres(this);
    cluster = await startPostgres(bin);
  });
  after(async function () {
    await cluster?.stop();
  });
  afterEach(async () => rig && (await rig.close()));

  it('backfills the interval a crashed instance missed with the peer\'s exact samples', async function () {
    await crashBackfill((side, dir) => openPairStore({ backend: 'postgres', connectionString: cluster!.connectionString, schema: `${basename(dir).replace(/\W/g, '_')}_${side}` }));
  });
});

describe('trend sampler', function () {
  it('samples on the grid: n/a before a value, bad as the source says, n/a when stale, catches up a late timer', async function () {
    const clock = new FakeClock(T0 + 300);
    const written: TrendSample[][] = [];
    const s = new TrendSampler({ periodMs: P, clock, staleMs: 2500, tags: ['X'], write: async (rows) => void written.push(rows), onError: (e) => assert.fail(e) });
    s.start();
    await clock.advance(700); // T0 + 1000: no value yet
    s.update('X', 5);
    await clock.advance(1000);
    s.update('X', 6, false);
    await clock.advance(1000);
    s.update('X', true);
    await clock.advance(1000);
    await clock.advance(3000); // no value since T0 + 3000: stale (> 2.5 s) from T0 + 6000 on
    const flat = written.flat().map((r) => [r.t - T0, r.value, r.quality]);
    assert.deepEqual(flat, [[1000, null, 'na'], [2000, 5, 'good'], [3000, 6, 'bad'], [4000, 1, 'good'], [5000, 1, 'good'], [6000, null, 'na'], [7000, null, 'na']]);
    assert.ok(written.every((batch) => batch.every((r) => r.t % P === 0)));
    // The event loop stalls 3.5 s: the next tick writes the grid points it skipped.
    written.length = 0;
    (clock as unknown as { current: number }).current += 3500;
    s.update('X', 9);
    await clock.advance(0);
    assert.deepEqual(written.flat().map((r) => [r.t - T0, r.value, r.quality]), [[8000, 9, 'good'], [9000, 9, 'good'], [10_000, 9, 'good']]);
    await s.stop();
    assert.equal(clock.pendingTimers(), 0);
    assert.throws(() => s.update('X', Infinity), /is not a number/);
    assert.throws(() => s.update('X', { v: 1 }), /is not a number/);
  });
});
