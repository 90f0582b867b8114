// The alarm and trend store, one suite run against both backends: SQLite (a real file) and
// PostgreSQL (a throw-away cluster started by the suite; skipped without PostgreSQL unless
// REQUIRE_TOOLS=1). Same inputs, same answers: the semantics the alarm and trend cores rely on.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmFact, OutboxEntry, ShelveFact } from '../../lib/alarm/types';
import { type PairStore, openPairStore } from '../../lib/store/pair-store';
import type { TrendSample } from '../../lib/trend/types';
import { type PostgresCluster, requirePostgres, startPostgres } from '../helpers/postgres';

const T0 = 1_700_000_000_000;
const P = 1000;

function s(tag: string, i: number, value: number | null, quality: TrendSample['quality'] = 'good', origin: TrendSample['origin'] = 'local'): TrendSample {
  return { tag, t: T0 + i * P, value, quality, origin };
}

function fact(key: string, seq: number, n: number, kind: AlarmFact['kind'], extra: Partial<AlarmFact> = {}): AlarmFact {
  return { id: `${String(T0 + n).padStart(15, '0')}.000000.a`, key, seq, kind, at: T0 + n, ...extra };
}

interface Backend {
  name: string;
  open(ctx: Mocha.Context): Promise<{ store: PairStore; reopen(): Promise<PairStore>; cleanup(): Promise<void> }>;
}

let cluster: PostgresCluster | undefined;
let schemaSeq = 0;

const backends: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'pair-store-'));
      const file = join(dir, 'sub', 'store.sqlite');
      return {
        store: await openPairStore({ backend: 'sqlite', file }),
        reopen: () => openPairStore({ backend: 'sqlite', file }),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async open(ctx) {
      const bin = requirePostgres(ctx);
      if (!cluster) cluster = await startPostgres(bin);
      const schema = `t${++schemaSeq}`;
      const cfg = { backend: 'postgres' as const, connectionString: cluster.connectionString, schema };
      return { store: await openPairStore(cfg), reopen: () => openPairStore(cfg), cleanup: async () => undefined };
    },
  },
];

after(async function () {
  this.timeout(30_000);
  await cluster?.stop();
});

for (const backend of backends) {
  describe(`pair store on ${backend.name}`, function () {
    this.timeout(30_000);
    let store: PairStore;
    let reopen: () => Promise<PairStore>;
    let cleanup: () => Promise<void>;
    const extra: PairStore[] = [];

    beforeEach(async function () {
      const opened = await backend.open(this);
      store = opened.store;
      reopen = opened.reopen;
      cleanup = opened.cleanup;
    });
    afterEach(async function () {
      for (const x of extra.splice(0)) await x.close();
      await store?.close();
      await cleanup?.();
    });

    it('round-trips samples exactly: values, null, quality, origin, order and limit', async function () {
      const written = [s('a', 2, 2.5), s('a', 0, -1e-9), s('a', 1, null, 'na'), s('a', 3, 7, 'bad'), s('a', 4, 1e15, 'good', 'peer'), s('b', 0, 42)];
      await store.writeSamples('g', written);
      const read = await store.readSamples('g', 'a', T0, T0 + 10 * P, 100);
      assert.deepEqual(read, [s('a', 0, -1e-9), s('a', 1, null, 'na'), s('a', 2, 2.5), s('a', 3, 7, 'bad'), s('a', 4, 1e15, 'good', 'peer')]);
      assert.deepEqual(await store.readSamples('g', 'a', T0 + P, T0 + 3 * P, 100), [s('a', 1, null, 'na'), s('a', 2, 2.5)], 'half-open range');
      assert.equal((await store.readSamples('g', 'a', T0, T0 + 10 * P, 2)).length, 2);
      assert.deepEqual(await store.readSamples('other', 'a', T0, T0 + 10 * P, 100), [], 'groups are separate');
      assert.deepEqual(await store.tags('g'), ['a', 'b']);
      assert.deepEqual(await store.sampleBounds('g', 'a'), { first: T0, last: T0 + 4 * P });
      assert.equal(await store.sampleBounds('g', 'zz'), undefined);
      assert.equal(await store.countSamples('g', 'a', T0, T0 + 3 * P), 3);
    });

    it('a local write replaces (but never a good sample by a bad one); a fill replaces bad and n/a only', async function () {
      await store.writeSamples('g', [s('a', 0, 1), s('a', 1, null, 'na'), s('a', 2, 5, 'bad'), s('a', 3, 3)]);
      await store.writeSamples('g', [s('a', 3, 4), s('a', 0, null, 'na'), s('a', 0, 9, 'bad')]);
      const n = await store.fillSamples('g', [s('a', 0, 100, 'good', 'peer'), s('a', 1, 11, 'good', 'peer'), s('a', 2, 12, 'good', 'peer'), s('a', 3, 103, 'good', 'peer'), s('a', 4, 14, 'good', 'peer'), s('a', 4, 14, 'good', 'peer')]);
      assert.equal(n, 3, 'two repaired, one inserted (the duplicate once), two good kept');
      assert.deepEqual(await store.readSamples('g', 'a', T0, T0 + 10 * P, 100), [s('a', 0, 1), s('a', 1, 11, 'good', 'peer'), s('a', 2, 12, 'good', 'peer'), s('a', 3, 4), s('a', 4, 14, 'good', 'peer')]);
    });

    it('finds missing intervals on the grid: no samples, and bad or n/a samples', async function () {
      // grid 0..19: good except 3 (absent), 6..8 (n/a), 9 (bad), 15..19 (absent, the tail)
      const rows: TrendSample[] = [];
      for (let i = 0; i < 15; i++) {
        if (i === 3) continue;
        rows.push(s('a', i, i, i >= 6 && i <= 8 ? 'na' : i === 9 ? 'bad' : 'good'));
      }
      await store.writeSamples('g', rows);
      assert.deepEqual(await store.missing('g', 'a', T0, T0 + 20 * P, P), [
        { from: T0 + 3 * P, to: T0 + 4 * P },
        { from: T0 + 6 * P, to: T0 + 10 * P },
        { from: T0 + 15 * P, to: T0 + 20 * P },
      ]);
      assert.deepEqual(await store.missing('g', 'a', T0 - 5 * P, T0 + 3 * P, P), [{ from: T0 - 5 * P, to: T0 }], 'head');
      assert.deepEqual(await store.missing('g', 'a', T0 + 10 * P, T0 + 15 * P, P), [], 'complete range');
      assert.deepEqual(await store.missing('g', 'nothing', T0, T0 + 5 * P, P), [{ from: T0, to: T0 + 5 * P }]);
    });

    it('aggregates good samples into buckets (min, max, avg, count, backfilled count)', async function () {
      const rows: TrendSample[] = [];
      for (let i = 0; i < 10; i++) rows.push(s('a', i, i * 2, i === 4 ? 'bad' : 'good', i >= 6 ? 'peer' : 'local'));
      await store.writeSamples('g', rows);
      const b = await store.aggregate('g', 'a', T0, T0 + 10 * P, 4 * P);
      assert.deepEqual(b, [
        { t: T0, min: 0, max: 6, avg: 3, count: 4, peer: 0 },
        { t: T0 + 4 * P, min: 10, max: 14, avg: 12, count: 3, peer: 2 },
        { t: T0 + 8 * P, min: 16, max: 18, avg: 17, count: 2, peer: 2 },
      ]);
      assert.deepEqual(await store.peerRanges('g', 'a', T0, T0 + 10 * P, P), [{ from: T0 + 6 * P, to: T0 + 10 * P }]);
      await store.writeSamples('g', [s('a', 20, 1, 'good', 'peer'), s('a', 21, 1, 'good', 'peer')]);
      assert.deepEqual(await store.peerRanges('g', 'a', T0, T0 + 30 * P, P), [{ from: T0 + 6 * P, to: T0 + 10 * P }, { from: T0 + 20 * P, to: T0 + 22 * P }]);
    });

    it('remembers gaps per tag and prunes old samples and gaps', async function () {
      await store.replaceGaps('g', 'a', [
        { tag: 'a', from: T0, to: T0 + P, state: 'pending', attempts: 0, reason: 'peer down' },
        { tag: 'a', from: T0 + 5 * P, to: T0 + 9 * P, state: 'both', attempts: 2, lastAttempt: T0 + 99, reason: 'the peer has no good samples there either' },
      ]);
      await store.replaceGaps('g', 'b', [{ tag: 'b', from: T0, to: T0 + P, state: 'pending', attempts: 1, reason: 'x' }]);
      assert.equal((await store.listGaps('g')).length, 3);
      assert.deepEqual(await store.listGaps('g', 'a'), [
        { tag: 'a', from: T0, to: T0 + P, state: 'pending', attempts: 0, reason: 'peer down' },
        { tag: 'a', from: T0 + 5 * P, to: T0 + 9 * P, state: 'both', attempts: 2, lastAttempt: T0 + 99, reason: 'the peer has no good samples there either' },
      ]);
      await store.replaceGaps('g', 'a', []);
      assert.deepEqual(await store.listGaps('g', 'a'), []);
      await store.writeSamples('g', [s('b', 0, 1), s('b', 1, 1), s('b', 2, 1)]);
      assert.equal(await store.prune('g', T0 + 2 * P), 2);
      assert.deepEqual((await store.readSamples('g', 'b', 0, T0 + 10 * P, 10)).map((x) => x.t), [T0 + 2 * P]);
      assert.deepEqual(await store.listGaps('g', 'b'), [], 'a gap older than the cut is gone');
    });

    it('keeps alarm facts, supersedes older episodes, shelving last-writer-wins, the outbox; all across a reopen', async function () {
      const f1 = fact('TIC101.HI', 1, 1, 'raise', { severity: 700, text: 'high', value: 81.5 });
      const f2 = fact('TIC101.HI', 1, 2, 'ack', { by: 'anna', comment: 'ünïcode "quoted"' });
      const f3 = fact('P1.TRIP', 4, 3, 'raise');
      await store.commitAlarms('g', { facts: [f1, f2, f3, f3] });
      const sh1: ShelveFact = { id: `${String(T0 + 10).padStart(15, '0')}.000000.a`, key: 'P1.TRIP', at: T0 + 10, state: 'timed', durationMs: 60_000, by: 'bo' };
      const sh0: ShelveFact = { ...sh1, id: `${String(T0 + 5).padStart(15, '0')}.000000.b`, state: 'oneshot', untilSeq: 4 };
      const o1: OutboxEntry = { id: f2.id, fact: f2, queuedAt: T0 + 2 };
      const o2: OutboxEntry = { id: sh1.id, shelve: sh1, queuedAt: T0 + 10 };
      await store.commitAlarms('g', { shelves: [sh1], outboxAdd: [o1, o2] });
      await store.commitAlarms('g', { shelves: [sh0] });
      const f4 = fact('TIC101.HI', 2, 20, 'raise');
      await store.commitAlarms('g', { facts: [f4], supersede: [{ key: 'TIC101.HI', seq: 2 }], outboxRemove: [o1.id] });
      await store.commitAlarms('other', { facts: [fact('X', 1, 1, 'raise')] });
      await store.close();
      store = await reopen();
      const loaded = await store.loadAlarms('g');
      const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
      assert.deepEqual(loaded.facts.sort(byId), [f3, f4].sort(byId));
      assert.deepEqual(loaded.shelves, [sh1], 'the older shelving fact did not replace the newer');
      assert.deepEqual(loaded.outbox, [o2]);
      assert.deepEqual((await store.loadAlarms('nothing')).facts, []);
    });

    it('keeps only the newest episode when one batch holds an older episode and the one superseding it', async function () {
      const old1 = fact('K', 1, 1, 'raise');
      const old2 = fact('K', 2, 2, 'raise');
      const cur = fact('K', 3, 3, 'raise');
      await store.commitAlarms('g', { facts: [old1, old2, cur], supersede: [{ key: 'K', seq: 2 }, { key: 'K', seq: 3 }] });
      assert.deepEqual((await store.loadAlarms('g')).facts, [cur]);
    });

    it('writes a day of one tag at 1 s in batches and answers range queries on it', async function () {
      const day = 86_400;
      for (let i = 0; i < day; i += 5000) {
        const batch: TrendSample[] = [];
        for (let j = i; j < Math.min(day, i + 5000); j++) batch.push(s('big', j, Math.sin(j / 100)));
        await store.writeSamples('g', batch);
      }
      assert.equal(await store.countSamples('g', 'big', T0, T0 + day * P), day);
      assert.deepEqual(await store.missing('g', 'big', T0, T0 + day * P, P), []);
      const b = await store.aggregate('g', 'big', T0, T0 + day * P, (day * P) / 480);
      assert.equal(b.length, 480);
      assert.ok(b.every((x) => x.count === day / 480 && x.min >= -1 && x.max <= 1));
    });
  });
}
