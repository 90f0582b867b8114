// Standby write's store (Citect Disk IO with StandbyWrite): a key-value table in SQLite (node:sqlite,
// one file per store in the Node-RED user dir), each value stamped with a hybrid logical clock, and
// an outbox of local writes not yet confirmed by the peer (kept across restarts).
//
// The rule for the newest value: the greater HLC stamp wins (lib/core/hlc.ts). A write made after
// this instance has seen the peer's value of the key is stamped after it, whatever the two wall
// clocks say; two writes made during a partition, without knowledge of each other, are ordered by
// the wall clock of their instance (the two may differ by the clocks' skew) and then by instance id,
// the same way on both sides: both converge to one value. Deletes are stamped tombstones.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { Clock } from '../core/clock';
import { inTransaction, openDatabase } from '../store/sqlite';
import { HybridClock, type HlcStamp, compareHlc, formatHlc, parseHlc } from '../core/hlc';

export interface StoredValue {
  key: string;
  /** undefined for a deleted key. */
  value: unknown;
  stamp: string;
  deleted: boolean;
}

export interface Replicated {
  key: string;
  /** JSON text of the value; null for a delete. */
  value: string | null;
  stamp: string;
}

export interface OutboxEntry extends Replicated {
  seq: number;
}

export class StandbyStore {
  readonly hlc: HybridClock;
  private db: DatabaseSync | undefined;
  private readonly getStmt: StatementSync;
  private readonly putStmt: StatementSync;
  private readonly outboxDelKeyStmt: StatementSync;
  private readonly outboxAddStmt: StatementSync;
  private readonly outboxReadStmt: StatementSync;
  private readonly outboxCountStmt: StatementSync;
  private readonly pageStmt: StatementSync;
  private readonly keysStmt: StatementSync;

  constructor(
    readonly filePath: string,
    instanceId: string,
    clock: Clock,
  ) {
    if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
    const db = openDatabase(filePath, 'standby write');
    try {
      db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 2000;
        CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT, stamp TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT, stamp TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS outbox_key ON outbox (key);
      `);
      this.getStmt = db.prepare('SELECT key, value, stamp, deleted FROM kv WHERE key = ?');
      this.putStmt = db.prepare('INSERT INTO kv (key, value, stamp, deleted) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, stamp = excluded.stamp, deleted = excluded.deleted');
      this.outboxDelKeyStmt = db.prepare('DELETE FROM outbox WHERE key = ?');
      this.outboxAddStmt = db.prepare('INSERT INTO outbox (key, value, stamp) VALUES (?, ?, ?)');
      this.outboxReadStmt = db.prepare('SELECT seq, key, value, stamp FROM outbox ORDER BY seq LIMIT ?');
      this.outboxCountStmt = db.prepare('SELECT COUNT(*) AS n FROM outbox');
      this.pageStmt = db.prepare('SELECT key, value, stamp, deleted FROM kv WHERE key > ? ORDER BY key LIMIT ?');
      this.keysStmt = db.prepare('SELECT key FROM kv WHERE deleted = 0 ORDER BY key');
      this.db = db;
    } catch (err) {
      db.close();
      throw err;
    }
    this.hlc = new HybridClock(instanceId, clock);
    const max = db.prepare('SELECT MAX(stamp) AS s FROM kv').get() as { s: string | null };
    if (max.s) this.hlc.restore(parseHlc(max.s));
  }

  get(key: string): StoredValue | undefined {
    const row = this.getStmt.get(key) as { key: string; value: string | null; stamp: string; deleted: number } | undefined;
    if (!row) return undefined;
    return { key: row.key, value: row.value === null ? undefined : JSON.parse(row.value), stamp: row.stamp, deleted: row.deleted === 1 };
  }

  keys(): string[] {
    return (this.keysStmt.all() as Array<{ key: string }>).map((r) => r.key);
  }

  /** All live values as one object. */
  all(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.page('', 1_000_000)) if (r.value !== null) out[r.key] = JSON.parse(r.value);
    return out;
  }

  /** A local write (value undefined = delete): stamped, stored, queued for the peer. */
  write(key: string, value: unknown): StoredValue {
    if (typeof key !== 'string' || key === '') throw new Error('a standby write needs a key (msg.topic), a non-empty string');
    const text = value === undefined ? null : JSON.stringify(value);
    if (text !== null && text.length > 1_000_000) throw new Error(`the value of "${key}" is ${text.length} characters as JSON; at most 1 000 000 are kept`);
    const stamp = formatHlc(this.hlc.now());
    this.tx(() => {
      this.putStmt.run(key, text, stamp, text === null ? 1 : 0);
      this.outboxDelKeyStmt.run(key);
      this.outboxAddStmt.run(key, text, stamp);
    });
    return { key, value: text === null ? undefined : JSON.parse(text), stamp, deleted: text === null };
  }

  /**
   * A write from the peer (replicated or cross-copied): applied when its stamp is greater than the
   * stored one. Returns the entries that changed the store.
   */
  apply(writes: Replicated[]): Replicated[] {
    const applied: Replicated[] = [];
    this.tx(() => {
      for (const w of writes) {
        const remote = parseHlc(w.stamp);
        this.hlc.receive(remote);
        const cur = this.getStmt.get(w.key) as { stamp: string } | undefined;
        if (cur && compareHlc(remote, parseHlc(cur.stamp)) <= 0) continue;
        this.putStmt.run(w.key, w.value, w.stamp, w.value === null ? 1 : 0);
        applied.push(w);
      }
    });
    return applied;
  }

  outbox(limit = 500): OutboxEntry[] {
    return this.outboxReadStmt.all(limit) as unknown as OutboxEntry[];
  }

  outboxSize(): number {
    return (this.outboxCountStmt.get() as { n: number }).n;
  }

  /** The peer confirmed these (by seq; a key rewritten meanwhile has a new seq and stays queued). */
  confirm(seqs: number[]): void {
    if (seqs.length === 0) return;
    this.tx(() => {
      const del = this.db!.prepare(`DELETE FROM outbox WHERE seq IN (${seqs.map(() => '?').join(',')})`);
      del.run(...seqs);
    });
  }

  /** Rows in key order after `after`, deletes included: a page of the cross-copy. */
  page(after: string, limit: number): Replicated[] {
    return (this.pageStmt.all(after, limit) as Array<{ key: string; value: string | null; stamp: string }>).map((r) => ({ key: r.key, value: r.value, stamp: r.stamp }));
  }

  lastStamp(): HlcStamp | undefined {
    const max = this.db?.prepare('SELECT MAX(stamp) AS s FROM kv').get() as { s: string | null } | undefined;
    return max?.s ? parseHlc(max.s) : undefined;
  }

  close(): void {
    try {
      this.db?.close();
    } catch {
      /* already closed */
    }
    this.db = undefined;
  }

  private tx(fn: () => void): void {
    const db = this.db;
    if (!db) throw new Error('the standby write store is closed');
    inTransaction(db, fn, 'BEGIN IMMEDIATE');
  }
}
