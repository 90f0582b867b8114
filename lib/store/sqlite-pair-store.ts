// The alarm and trend store of one instance in one SQLite file (node:sqlite: nothing to install or
// compile), the zero-install default, kept in the Node-RED user dir.
// Samples: WITHOUT ROWID on (grp, tag, t), so a tag's samples are stored in time order and every
// query is a range scan of the primary key; quality and origin as small integers. WAL with
// synchronous=NORMAL as the event log: a power cut may lose the last commits, never the file;
// alarm commits that must survive a crash (an ack and its outbox entry) use synchronous=FULL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { AlarmBatch, AlarmStore, StoredAlarms } from '../alarm/store';
import type { AlarmFact, OutboxEntry, ShelveFact } from '../alarm/types';
import { holesFromPairs } from '../trend/intervals';
import { inTransaction, openDatabase } from './sqlite';
import { QUALITY_CODE, QUALITY_OF_CODE, type TimeRange, type TrendBucket, type TrendGap, type TrendSample, type TrendStore } from '../trend/types';

const SCHEMA = `
  PRAGMA journal_mode = WAL;
  PRAGMA synchronous = NORMAL;
  PRAGMA busy_timeout = 5000;
  CREATE TABLE IF NOT EXISTS trend_samples (
    grp TEXT NOT NULL, tag TEXT NOT NULL, t INTEGER NOT NULL,
    value REAL, quality INTEGER NOT NULL, origin INTEGER NOT NULL,
    PRIMARY KEY (grp, tag, t)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS trend_gaps (
    grp TEXT NOT NULL, tag TEXT NOT NULL, from_t INTEGER NOT NULL, to_t INTEGER NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, last_attempt INTEGER, reason TEXT NOT NULL,
    PRIMARY KEY (grp, tag, from_t)
  );
  CREATE TABLE IF NOT EXISTS alarm_facts (
    grp TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (grp, key, id)
  );
  CREATE TABLE IF NOT EXISTS alarm_shelves (
    grp TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (grp, key)
  );
  CREATE TABLE IF NOT EXISTS alarm_outbox (
    grp TEXT NOT NULL, id TEXT NOT NULL, queued_at INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (grp, id)
  );
`;

export class SqlitePairStore implements AlarmStore, TrendStore {
  readonly backend = 'sqlite' as const;
  readonly location: string;
  private db: DatabaseSync | undefined;
  private readonly stmts: Record<string, StatementSync> = {};

  constructor(readonly filePath: string) {
    this.location = filePath;
    let db: DatabaseSync | undefined;
    try {
      if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
      db = openDatabase(filePath, 'the alarm and trend store');
      db.exec(SCHEMA);
      this.db = db;
      const p = (name: string, sql: string) => {
        this.stmts[name] = db!.prepare(sql);
      };
      p('write', 'INSERT INTO trend_samples (grp, tag, t, value, quality, origin) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (grp, tag, t) DO UPDATE SET value = excluded.value, quality = excluded.quality, origin = excluded.origin WHERE excluded.quality = 0 OR trend_samples.quality <> 0');
      p('fill', 'INSERT INTO trend_samples (grp, tag, t, value, quality, origin) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (grp, tag, t) DO UPDATE SET value = excluded.value, quality = excluded.quality, origin = excluded.origin WHERE trend_samples.quality <> 0');
      p('read', 'SELECT t, value, quality, origin FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? ORDER BY t LIMIT ?');
      p('bounds', 'SELECT MIN(t) AS first, MAX(t) AS last FROM trend_samples WHERE grp = ? AND tag = ?');
      p('count', 'SELECT COUNT(*) AS n FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ?');
      p('tags', 'SELECT DISTINCT tag FROM trend_samples WHERE grp = ? ORDER BY tag');
      p('goodBounds', 'SELECT MIN(t) AS first, MAX(t) AS last FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? AND quality = 0');
      p('holePairs', 'SELECT prev, t FROM (SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? AND quality = 0) WHERE prev IS NOT NULL AND t - prev >= ?');
      p('aggregate', 'SELECT CAST((t - ?) / ? AS INTEGER) AS b, MIN(value) AS mn, MAX(value) AS mx, AVG(value) AS av, COUNT(*) AS n, SUM(origin) AS peer FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? AND quality = 0 GROUP BY b ORDER BY b');
      p('peerRuns', 'SELECT prev, t FROM (SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? AND origin = 1) WHERE prev IS NULL OR t - prev >= ?');
      p('lastPeer', 'SELECT MAX(t) AS t FROM trend_samples WHERE grp = ? AND tag = ? AND t >= ? AND t < ? AND origin = 1');
      p('gaps', 'SELECT tag, from_t, to_t, state, attempts, last_attempt, reason FROM trend_gaps WHERE grp = ? ORDER BY tag, from_t');
      p('gapsOfTag', 'SELECT tag, from_t, to_t, state, attempts, last_attempt, reason FROM trend_gaps WHERE grp = ? AND tag = ? ORDER BY from_t');
      p('gapsDelete', 'DELETE FROM trend_gaps WHERE grp = ? AND tag = ?');
      p('gapInsert', 'INSERT INTO trend_gaps (grp, tag, from_t, to_t, state, attempts, last_attempt, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      p('prune', 'DELETE FROM trend_samples WHERE grp = ? AND tag = ? AND t < ?');
      p('pruneGaps', 'DELETE FROM trend_gaps WHERE grp = ? AND to_t <= ?');
      p('facts', 'SELECT body FROM alarm_facts WHERE grp = ?');
      p('shelves', 'SELECT body FROM alarm_shelves WHERE grp = ?');
      p('outbox', 'SELECT body FROM alarm_outbox WHERE grp = ? ORDER BY queued_at, id');
      p('factInsert', 'INSERT INTO alarm_facts (grp, key, id, seq, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
      p('supersede', 'DELETE FROM alarm_facts WHERE grp = ? AND key = ? AND seq < ?');
      p('shelveUpsert', 'INSERT INTO alarm_shelves (grp, key, id, body) VALUES (?, ?, ?, ?) ON CONFLICT (grp, key) DO UPDATE SET id = excluded.id, body = excluded.body WHERE excluded.id > alarm_shelves.id');
      p('outboxInsert', 'INSERT INTO alarm_outbox (grp, id, queued_at, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
      p('outboxDelete', 'DELETE FROM alarm_outbox WHERE grp = ? AND id = ?');
    } catch (err) {
      try {
        db?.close();
      } catch {
        // the first error is the one to report
      }
      this.db = undefined;
      throw new Error(`cannot open the alarm and trend store ${filePath}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // ---- trend ----

  async writeSamples(group: string, samples: TrendSample[]): Promise<void> {
    this.transaction(() => {
      const st = this.stmts.write;
      for (const s of samples) st.run(group, s.tag, s.t, s.value, QUALITY_CODE[s.quality], s.origin === 'peer' ? 1 : 0);
    });
  }

  async fillSamples(group: string, samples: TrendSample[]): Promise<number> {
    let n = 0;
    this.transaction(() => {
      const st = this.stmts.fill;
      for (const s of samples) n += Number(st.run(group, s.tag, s.t, s.value, QUALITY_CODE[s.quality], s.origin === 'peer' ? 1 : 0).changes);
    });
    return n;
  }

  async readSamples(group: string, tag: string, from: number, to: number, limit: number): Promise<TrendSample[]> {
    this.open();
    return this.stmts.read.all(group, tag, from, to, Math.max(0, Math.floor(limit))).map((r) => ({
      tag,
      t: Number(r.t),
      value: r.value === null ? null : Number(r.value),
      quality: QUALITY_OF_CODE[Number(r.quality)] ?? 'na',
      origin: Number(r.origin) === 1 ? 'peer' : 'local',
    }));
  }

  async sampleBounds(group: string, tag: string): Promise<{ first: number; last: number } | undefined> {
    this.open();
    const r = this.stmts.bounds.get(group, tag);
    return r && r.first !== null ? { first: Number(r.first), last: Number(r.last) } : undefined;
  }

  async countSamples(group: string, tag: string, from: number, to: number): Promise<number> {
    this.open();
    return Number(this.stmts.count.get(group, tag, from, to)?.n ?? 0);
  }

  async tags(group: string): Promise<string[]> {
    this.open();
    return this.stmts.tags.all(group).map((r) => String(r.tag));
  }

  async missing(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]> {
    this.open();
    const b = this.stmts.goodBounds.get(group, tag, from, to);
    const bounds = b && b.first !== null ? { first: Number(b.first), last: Number(b.last) } : undefined;
    const pairs = bounds ? this.stmts.holePairs.all(group, tag, from, to, periodMs * 1.5).map((r) => [Number(r.prev), Number(r.t)] as [number, number]) : [];
    return holesFromPairs(from, to, periodMs, bounds, pairs);
  }

  async aggregate(group: string, tag: string, from: number, to: number, bucketMs: number): Promise<TrendBucket[]> {
    this.open();
    const w = Math.max(1, Math.floor(bucketMs));
    return this.stmts.aggregate.all(from, w, group, tag, from, to).map((r) => ({
      t: from + Number(r.b) * w,
      min: Number(r.mn),
      max: Number(r.mx),
      avg: Number(r.av),
      count: Number(r.n),
      peer: Number(r.peer),
    }));
  }

  async peerRanges(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]> {
    this.open();
    // Starts of runs: the first peer sample, and each one further than 1.5 periods from the one before.
    const starts = this.stmts.peerRuns.all(group, tag, from, to, periodMs * 1.5).map((r) => ({ prev: r.prev === null ? undefined : Number(r.prev), t: Number(r.t) }));
    if (starts.length === 0) return [];
    const last = Number(this.stmts.lastPeer.get(group, tag, from, to)?.t);
    const out: TimeRange[] = [];
    for (let i = 0; i < starts.length; i++) {
      const end = i + 1 < starts.length ? (starts[i + 1].prev as number) : last;
      out.push({ from: starts[i].t, to: end + periodMs });
    }
    return out;
  }

  async listGaps(group: string, tag?: string): Promise<TrendGap[]> {
    this.open();
    const rows = tag === undefined ? this.stmts.gaps.all(group) : this.stmts.gapsOfTag.all(group, tag);
    return rows.map((r) => ({
      tag: String(r.tag),
      from: Number(r.from_t),
      to: Number(r.to_t),
      state: String(r.state) === 'both' ? 'both' : 'pending',
      attempts: Number(r.attempts),
      ...(r.last_attempt === null ? {} : { lastAttempt: Number(r.last_attempt) }),
      reason: String(r.reason),
    }));
  }

  async replaceGaps(group: string, tag: string, gaps: TrendGap[]): Promise<void> {
    this.transaction(() => {
      this.stmts.gapsDelete.run(group, tag);
      for (const g of gaps) this.stmts.gapInsert.run(group, tag, g.from, g.to, g.state, g.attempts, g.lastAttempt ?? null, g.reason);
    });
  }

  async prune(group: string, before: number): Promise<number> {
    let n = 0;
    const tags = await this.tags(group);
    for (const tag of tags) this.transaction(() => (n += Number(this.stmts.prune.run(group, tag, before).changes)));
    this.stmts.pruneGaps.run(group, before);
    return n;
  }

  // ---- alarms ----

  async loadAlarms(group: string): Promise<StoredAlarms> {
    this.open();
    return {
      facts: this.stmts.facts.all(group).map((r) => JSON.parse(String(r.body)) as AlarmFact),
      shelves: this.stmts.shelves.all(group).map((r) => JSON.parse(String(r.body)) as ShelveFact),
      outbox: this.stmts.outbox.all(group).map((r) => JSON.parse(String(r.body)) as OutboxEntry),
    };
  }

  async commitAlarms(group: string, batch: AlarmBatch): Promise<void> {
    const durable = (batch.outboxAdd?.length ?? 0) > 0;
    const db = this.open();
    // An operator's action is on disk before it is confirmed: synchronous=FULL for that commit.
    if (durable) db.exec('PRAGMA synchronous = FULL');
    try {
      this.transaction(() => {
        // Facts first: a batch may hold an older episode's facts and the newer one that supersedes them.
        for (const f of batch.facts ?? []) this.stmts.factInsert.run(group, f.key, f.id, f.seq, JSON.stringify(f));
        for (const s of batch.supersede ?? []) this.stmts.supersede.run(group, s.key, s.seq);
        for (const s of batch.shelves ?? []) this.stmts.shelveUpsert.run(group, s.key, s.id, JSON.stringify(s));
        for (const o of batch.outboxAdd ?? []) this.stmts.outboxInsert.run(group, o.id, o.queuedAt, JSON.stringify(o));
        for (const id of batch.outboxRemove ?? []) this.stmts.outboxDelete.run(group, id);
      });
    } finally {
      if (durable) db.exec('PRAGMA synchronous = NORMAL');
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    db.close();
  }

  private transaction(fn: () => void): void {
    inTransaction(this.open(), fn);
  }

  private open(): DatabaseSync {
    if (!this.db) throw new Error(`the alarm and trend store ${this.filePath} is closed`);
    return this.db;
  }
}
