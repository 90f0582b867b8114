// The alarm and trend store in PostgreSQL, for plants that already run one (or TimescaleDB) or
// outgrow one box. Same interface and semantics as the SQLite store; the same test suite runs on
// both (test/unit/pair-store.test.ts).
// Schema: time as timestamptz (what SQL tools, Grafana and TimescaleDB expect); the primary key
// (grp, tag, t) contains the time column, so when the timescaledb extension is installed in the
// database the samples table becomes a hypertable, and nothing else changes. Batches are written
// with one statement per batch (unnest of arrays), not one per row.
import type { Pool, PoolClient, PoolConfig } from 'pg';
import type { AlarmBatch, AlarmStore, StoredAlarms } from '../alarm/store';
import type { AlarmFact, OutboxEntry, ShelveFact } from '../alarm/types';
import { holesFromPairs } from '../trend/intervals';
import { QUALITY_CODE, QUALITY_OF_CODE, type TimeRange, type TrendBucket, type TrendGap, type TrendSample, type TrendStore } from '../trend/types';

export interface PgStoreOptions {
  /** postgres://user:password@host:port/database, or the separate fields below. */
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  /** Schema holding the tables (created when missing). Default "redundancy". */
  schema?: string;
  /** Pool size. Default 4. */
  maxConnections?: number;
  connectTimeoutMs?: number;
}

/** ms since epoch → timestamptz, exact. */
const TS = (p: string) => `(timestamptz 'epoch' + (${p})::bigint * interval '1 millisecond')`;
/** timestamptz → ms since epoch, exact (extract returns numeric). */
const MS = (c: string) => `(extract(epoch from ${c}) * 1000)::bigint`;

export class PgPairStore implements AlarmStore, TrendStore {
  readonly backend = 'postgres' as const;
  readonly location: string;
  /** What opening found: "timescaledb hypertable", or why not. */
  timescale = 'no timescaledb extension in this database';
  private pool: Pool | undefined;
  private readonly s: string;

  private constructor(pool: Pool, schema: string, location: string) {
    this.pool = pool;
    this.s = `"${schema}"`;
    this.location = location;
  }

  /** Connects, creates the schema and tables when missing; rejects with the reason an operator needs. */
  static async open(options: PgStoreOptions): Promise<PgPairStore> {
    const schema = options.schema || 'redundancy';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`schema name "${schema}" is not a plain SQL identifier (letters, digits, _)`);
    let pg: typeof import('pg');
    try {
      pg = require('pg') as typeof import('pg');
    } catch {
      throw new Error('the PostgreSQL store needs the "pg" package');
    }
    const config: PoolConfig = {
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      application_name: 'node-red-contrib-redundancy',
    };
    if (options.connectionString) config.connectionString = options.connectionString;
    else Object.assign(config, { host: options.host || '127.0.0.1', port: options.port || 5432, database: options.database, user: options.user, password: options.password });
    const where = options.connectionString ? redactUrl(options.connectionString) : `${options.user ?? ''}@${options.host || '127.0.0.1'}:${options.port || 5432}/${options.database ?? ''}`;
    const pool = new pg.Pool(config);
    // An idle client losing its server must not crash Node-RED: the next query reports it.
    pool.on('error', () => undefined);
    const store = new PgPairStore(pool, schema, `postgres ${where} schema ${schema}`);
    try {
      await store.init();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the PostgreSQL store (${where}): ${err instanceof Error ? err.message : String(err)}`);
    }
    return store;
  }

  private async init(): Promise<void> {
    const s = this.s;
    await this.q(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await this.q(`CREATE TABLE IF NOT EXISTS ${s}.trend_samples (
      grp text NOT NULL, tag text NOT NULL, t timestamptz NOT NULL,
      value double precision, quality smallint NOT NULL, origin smallint NOT NULL,
      PRIMARY KEY (grp, tag, t))`);
    await this.q(`CREATE TABLE IF NOT EXISTS ${s}.trend_gaps (
      grp text NOT NULL, tag text NOT NULL, from_t bigint NOT NULL, to_t bigint NOT NULL,
      state text NOT NULL, attempts integer NOT NULL, last_attempt bigint, reason text NOT NULL,
      PRIMARY KEY (grp, tag, from_t))`);
    await this.q(`CREATE TABLE IF NOT EXISTS ${s}.alarm_facts (
      grp text NOT NULL, key text NOT NULL, id text NOT NULL, seq integer NOT NULL, body jsonb NOT NULL,
      PRIMARY KEY (grp, key, id))`);
    await this.q(`CREATE TABLE IF NOT EXISTS ${s}.alarm_shelves (
      grp text NOT NULL, key text NOT NULL, id text NOT NULL, body jsonb NOT NULL, PRIMARY KEY (grp, key))`);
    await this.q(`CREATE TABLE IF NOT EXISTS ${s}.alarm_outbox (
      grp text NOT NULL, id text NOT NULL, queued_at bigint NOT NULL, body jsonb NOT NULL, PRIMARY KEY (grp, id))`);
    const ext = await this.q("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'");
    if (ext.rowCount) {
      try {
        await this.q(`SELECT create_hypertable('${s}.trend_samples', 't', if_not_exists => TRUE, migrate_data => TRUE)`);
        this.timescale = 'timescaledb hypertable';
      } catch (err) {
        this.timescale = `timescaledb present, hypertable not created: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }

  // ---- trend ----

  async writeSamples(group: string, samples: TrendSample[]): Promise<void> {
    await this.upsertSamples(group, samples, false);
  }

  async fillSamples(group: string, samples: TrendSample[]): Promise<number> {
    return this.upsertSamples(group, samples, true);
  }

  private async upsertSamples(group: string, samples: TrendSample[], onlyOverBad: boolean): Promise<number> {
    if (samples.length === 0) return 0;
    // One statement may not touch a row twice: the last sample of a (tag, t) wins, as row by row.
    const byKey = new Map<string, TrendSample>();
    for (const x of samples) byKey.set(`${x.t}\u0000${x.tag}`, x);
    const rows = [...byKey.values()];
    const r = await this.q(
      `INSERT INTO ${this.s}.trend_samples (grp, tag, t, value, quality, origin)
       SELECT $1, u.tag, ${TS('u.ms')}, u.value, u.quality, u.origin
       FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::int2[], $6::int2[]) AS u(tag, ms, value, quality, origin)
       ON CONFLICT (grp, tag, t) DO UPDATE SET value = EXCLUDED.value, quality = EXCLUDED.quality, origin = EXCLUDED.origin
       WHERE ${this.s}.trend_samples.quality <> 0${onlyOverBad ? '' : ' OR EXCLUDED.quality = 0'}`,
      [group, rows.map((x) => x.tag), rows.map((x) => x.t), rows.map((x) => x.value), rows.map((x) => QUALITY_CODE[x.quality]), rows.map((x) => (x.origin === 'peer' ? 1 : 0))],
    );
    return r.rowCount ?? 0;
  }

  async readSamples(group: string, tag: string, from: number, to: number, limit: number): Promise<TrendSample[]> {
    const r = await this.q(
      `SELECT ${MS('t')} AS t, value, quality, origin FROM ${this.s}.trend_samples
       WHERE grp = $1 AND tag = $2 AND t >= ${TS('$3')} AND t < ${TS('$4')} ORDER BY t LIMIT $5`,
      [group, tag, from, to, Math.max(0, Math.floor(limit))],
    );
    return r.rows.map((x) => ({
      tag,
      t: Number(x.t),
      value: x.value === null ? null : Number(x.value),
      quality: QUALITY_OF_CODE[Number(x.quality)] ?? 'na',
      origin: Number(x.origin) === 1 ? 'peer' : 'local',
    }));
  }

  async sampleBounds(group: string, tag: string): Promise<{ first: number; last: number } | undefined> {
    const r = await this.q(`SELECT ${MS('MIN(t)')} AS first, ${MS('MAX(t)')} AS last FROM ${this.s}.trend_samples WHERE grp = $1 AND tag = $2`, [group, tag]);
    const row = r.rows[0];
    return row && row.first !== null ? { first: Number(row.first), last: Number(row.last) } : undefined;
  }

  async countSamples(group: string, tag: string, from: number, to: number): Promise<number> {
    const r = await this.q(`SELECT COUNT(*) AS n FROM ${this.s}.trend_samples WHERE grp = $1 AND tag = $2 AND t >= ${TS('$3')} AND t < ${TS('$4')}`, [group, tag, from, to]);
    return Number(r.rows[0]?.n ?? 0);
  }

  async tags(group: string): Promise<string[]> {
    // A loose index scan: one probe per tag instead of reading every sample.
    const r = await this.q(
      `WITH RECURSIVE t AS (
         (SELECT tag FROM ${this.s}.trend_samples WHERE grp = $1 ORDER BY tag LIMIT 1)
         UNION ALL
         SELECT (SELECT tag FROM ${this.s}.trend_samples WHERE grp = $1 AND tag > t.tag ORDER BY tag LIMIT 1) FROM t WHERE t.tag IS NOT NULL
       ) SELECT tag FROM t WHERE tag IS NOT NULL`,
      [group],
    );
    return r.rows.map((x) => String(x.tag));
  }

  async missing(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]> {
    const where = `grp = $1 AND tag = $2 AND t >= ${TS('$3')} AND t < ${TS('$4')} AND quality = 0`;
    const b = await this.q(`SELECT ${MS('MIN(t)')} AS first, ${MS('MAX(t)')} AS last FROM ${this.s}.trend_samples WHERE ${where}`, [group, tag, from, to]);
    const row = b.rows[0];
    const bounds = row && row.first !== null ? { first: Number(row.first), last: Number(row.last) } : undefined;
    let pairs: Array<[number, number]> = [];
    if (bounds) {
      const r = await this.q(
        `SELECT ${MS('prev')} AS prev, ${MS('t')} AS t FROM (SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM ${this.s}.trend_samples WHERE ${where}) x
         WHERE prev IS NOT NULL AND t - prev >= $5::float8 * interval '1 millisecond'`,
        [group, tag, from, to, periodMs * 1.5],
      );
      pairs = r.rows.map((x) => [Number(x.prev), Number(x.t)]);
    }
    return holesFromPairs(from, to, periodMs, bounds, pairs);
  }

  async aggregate(group: string, tag: string, from: number, to: number, bucketMs: number): Promise<TrendBucket[]> {
    const w = Math.max(1, Math.floor(bucketMs));
    const r = await this.q(
      `SELECT (${MS('t')} - $3::bigint) / $5::bigint AS b, MIN(value) AS mn, MAX(value) AS mx, AVG(value) AS av, COUNT(*) AS n, SUM(origin) AS peer
       FROM ${this.s}.trend_samples WHERE grp = $1 AND tag = $2 AND t >= ${TS('$3')} AND t < ${TS('$4')} AND quality = 0
       GROUP BY b ORDER BY b`,
      [group, tag, from, to, w],
    );
    return r.rows.map((x) => ({ t: from + Number(x.b) * w, min: Number(x.mn), max: Number(x.mx), avg: Number(x.av), count: Number(x.n), peer: Number(x.peer) }));
  }

  async peerRanges(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]> {
    const where = `grp = $1 AND tag = $2 AND t >= ${TS('$3')} AND t < ${TS('$4')} AND origin = 1`;
    const r = await this.q(
      `SELECT ${MS('prev')} AS prev, ${MS('t')} AS t FROM (SELECT t, LAG(t) OVER (ORDER BY t) AS prev FROM ${this.s}.trend_samples WHERE ${where}) x
       WHERE prev IS NULL OR t - prev >= $5::float8 * interval '1 millisecond' ORDER BY t`,
      [group, tag, from, to, periodMs * 1.5],
    );
    if (r.rows.length === 0) return [];
    const lastR = await this.q(`SELECT ${MS('MAX(t)')} AS t FROM ${this.s}.trend_samples WHERE ${where}`, [group, tag, from, to]);
    const last = Number(lastR.rows[0].t);
    const starts = r.rows.map((x) => ({ prev: x.prev === null ? undefined : Number(x.prev), t: Number(x.t) }));
    return starts.map((s, i) => ({ from: s.t, to: (i + 1 < starts.length ? (starts[i + 1].prev as number) : last) + periodMs }));
  }

  async listGaps(group: string, tag?: string): Promise<TrendGap[]> {
    const r = tag === undefined
      ? await this.q(`SELECT * FROM ${this.s}.trend_gaps WHERE grp = $1 ORDER BY tag, from_t`, [group])
      : await this.q(`SELECT * FROM ${this.s}.trend_gaps WHERE grp = $1 AND tag = $2 ORDER BY from_t`, [group, tag]);
    return r.rows.map((x) => ({
      tag: String(x.tag),
      from: Number(x.from_t),
      to: Number(x.to_t),
      state: x.state === 'both' ? 'both' : 'pending',
      attempts: Number(x.attempts),
      ...(x.last_attempt === null ? {} : { lastAttempt: Number(x.last_attempt) }),
      reason: String(x.reason),
    }));
  }

  async replaceGaps(group: string, tag: string, gaps: TrendGap[]): Promise<void> {
    await this.tx(async (c) => {
      await c.query(`DELETE FROM ${this.s}.trend_gaps WHERE grp = $1 AND tag = $2`, [group, tag]);
      if (gaps.length === 0) return;
      await c.query(
        `INSERT INTO ${this.s}.trend_gaps (grp, tag, from_t, to_t, state, attempts, last_attempt, reason)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::int[], $7::bigint[], $8::text[])`,
        [group, tag, gaps.map((g) => g.from), gaps.map((g) => g.to), gaps.map((g) => g.state), gaps.map((g) => g.attempts), gaps.map((g) => g.lastAttempt ?? null), gaps.map((g) => g.reason)],
      );
    });
  }

  async prune(group: string, before: number): Promise<number> {
    const r = await this.q(`DELETE FROM ${this.s}.trend_samples WHERE grp = $1 AND t < ${TS('$2')}`, [group, before]);
    await this.q(`DELETE FROM ${this.s}.trend_gaps WHERE grp = $1 AND to_t <= $2`, [group, before]);
    return r.rowCount ?? 0;
  }

  // ---- alarms ----

  async loadAlarms(group: string): Promise<StoredAlarms> {
    const [facts, shelves, outbox] = await Promise.all([
      this.q(`SELECT body FROM ${this.s}.alarm_facts WHERE grp = $1`, [group]),
      this.q(`SELECT body FROM ${this.s}.alarm_shelves WHERE grp = $1`, [group]),
      this.q(`SELECT body FROM ${this.s}.alarm_outbox WHERE grp = $1 ORDER BY queued_at, id`, [group]),
    ]);
    return {
      facts: facts.rows.map((x) => x.body as AlarmFact),
      shelves: shelves.rows.map((x) => x.body as ShelveFact),
      outbox: outbox.rows.map((x) => x.body as OutboxEntry),
    };
  }

  async commitAlarms(group: string, batch: AlarmBatch): Promise<void> {
    await this.tx(async (c) => {
      const s = this.s;
      // Facts first: a batch may hold an older episode's facts and the newer one that supersedes them.
      const facts = batch.facts ?? [];
      if (facts.length) {
        await c.query(
          `INSERT INTO ${s}.alarm_facts (grp, key, id, seq, body) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
          [group, facts.map((f) => f.key), facts.map((f) => f.id), facts.map((f) => f.seq), facts.map((f) => JSON.stringify(f))],
        );
      }
      const sup = batch.supersede ?? [];
      if (sup.length) {
        await c.query(
          `DELETE FROM ${s}.alarm_facts f USING unnest($2::text[], $3::int[]) AS x(key, seq) WHERE f.grp = $1 AND f.key = x.key AND f.seq < x.seq`,
          [group, sup.map((x) => x.key), sup.map((x) => x.seq)],
        );
      }
      // One row per key (the newest), as one statement may not touch a row twice.
      const newest = new Map<string, ShelveFact>();
      for (const x of batch.shelves ?? []) if ((newest.get(x.key)?.id ?? '') < x.id) newest.set(x.key, x);
      const shelves = [...newest.values()];
      if (shelves.length) {
        await c.query(
          `INSERT INTO ${s}.alarm_shelves (grp, key, id, body) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::jsonb[])
           ON CONFLICT (grp, key) DO UPDATE SET id = EXCLUDED.id, body = EXCLUDED.body WHERE EXCLUDED.id > ${s}.alarm_shelves.id`,
          [group, shelves.map((x) => x.key), shelves.map((x) => x.id), shelves.map((x) => JSON.stringify(x))],
        );
      }
      const add = batch.outboxAdd ?? [];
      if (add.length) {
        await c.query(
          `INSERT INTO ${s}.alarm_outbox (grp, id, queued_at, body) SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::jsonb[]) ON CONFLICT DO NOTHING`,
          [group, add.map((o) => o.id), add.map((o) => o.queuedAt), add.map((o) => JSON.stringify(o))],
        );
      }
      if (batch.outboxRemove?.length) await c.query(`DELETE FROM ${s}.alarm_outbox WHERE grp = $1 AND id = ANY($2::text[])`, [group, batch.outboxRemove]);
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    this.pool = undefined;
    await pool.end();
  }

  private pg(): Pool {
    if (!this.pool) throw new Error(`the store ${this.location} is closed`);
    return this.pool;
  }

  private q(sql: string, params?: unknown[]) {
    return this.pg().query(sql, params);
  }

  private async tx(fn: (c: PoolClient) => Promise<void>): Promise<void> {
    const c = await this.pg().connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }
}

/** A connection URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(connection string)';
  }
}
