// The diagnostics log on disk: one SQLite file (node:sqlite, built into Node 22: nothing to compile).
// WAL with synchronous=NORMAL: a commit is a write to the WAL without fsync, so logging an event
// costs microseconds; a power cut may lose the last events, never the file. One index, (pair, time):
// every extra index is another page written per event, and rows are already in time order by id
// (the log itself answers queries from memory; the index serves people querying the file).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { EventStore, LoggedEvent } from '../core/event-log';
import { inTransaction, openDatabase } from './sqlite';

export class SqliteEventStore implements EventStore {
  readonly filePath: string;
  private db: DatabaseSync | undefined;
  private readonly insertStmt: StatementSync;
  private readonly loadStmt: StatementSync;
  private readonly trimStmt: StatementSync;
  private readonly maxIdStmt: StatementSync;
  private readonly clearedIdStmt: StatementSync;

  constructor(filePath: string) {
    this.filePath = filePath;
    let db: DatabaseSync | undefined;
    try {
      if (filePath !== ':memory:') mkdirSync(dirname(filePath), { recursive: true });
      db = openDatabase(filePath, 'the persistent event log');
      db.exec(`
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = 2000;
        CREATE TABLE IF NOT EXISTS events (
          id INTEGER PRIMARY KEY,
          time INTEGER NOT NULL,
          pair TEXT NOT NULL,
          kind TEXT NOT NULL,
          severity TEXT NOT NULL,
          event TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS events_pair_time ON events (pair, time);
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      `);
      // Queryable columns beside the whole event as JSON: nothing is lost on the round trip
      // (null "to" stays null, absent fields stay absent) and new event fields need no migration.
      this.insertStmt = db.prepare('INSERT INTO events (id, time, pair, kind, severity, event) VALUES (?, ?, ?, ?, ?, ?)');
      this.loadStmt = db.prepare('SELECT id, event FROM (SELECT id, event FROM events ORDER BY id DESC LIMIT ?) ORDER BY id ASC');
      this.trimStmt = db.prepare('DELETE FROM events WHERE id <= (SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)');
      this.maxIdStmt = db.prepare('SELECT MAX(id) AS id FROM events');
      this.clearedIdStmt = db.prepare("SELECT value FROM meta WHERE key = 'clearedAtId'");
      this.db = db;
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already failing: the first error is the one to report
      }
      throw new Error(`cannot open the event log file ${filePath}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  load(max: number): LoggedEvent[] {
    this.open();
    const rows = this.loadStmt.all(Math.max(0, Math.floor(max)));
    const out: LoggedEvent[] = [];
    for (const row of rows) {
      try {
        const event = JSON.parse(String(row.event)) as LoggedEvent;
        out.push({ ...event, id: Number(row.id) });
      } catch {
        // A damaged row must not cost the whole log: skip it.
      }
    }
    return out;
  }

  insert(e: LoggedEvent): void {
    this.open();
    const { id, ...event } = e;
    this.insertStmt.run(id, e.time, e.pair, e.kind, e.severity, JSON.stringify(event));
  }

  trim(keep: number): void {
    this.open();
    this.trimStmt.run(Math.max(0, Math.floor(keep)));
  }

  /** Deletes every event but remembers the highest id, so ids continue after a clear and a restart. */
  clear(): void {
    const db = this.open();
    inTransaction(db, () => {
      db.exec("INSERT INTO meta (key, value) VALUES ('clearedAtId', (SELECT COALESCE(MAX(id), 0) FROM events)) ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)");
      db.exec('DELETE FROM events');
    });
  }

  lastId(): number {
    this.open();
    const max = Number(this.maxIdStmt.get()?.id ?? 0);
    const cleared = Number(this.clearedIdStmt.get()?.value ?? 0);
    return Math.max(max, cleared);
  }

  /** Number of events in the file (tests, diagnostics). */
  count(): number {
    return Number(this.open().prepare('SELECT COUNT(*) AS n FROM events').get()?.n ?? 0);
  }

  close(): void {
    const db = this.db;
    if (!db) return;
    this.db = undefined;
    db.close();
  }

  private open(): DatabaseSync {
    if (!this.db) throw new Error(`the event log file ${this.filePath} is closed`);
    return this.db;
  }
}
