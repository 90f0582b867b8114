// What the package's SQLite files (the event log, the alarm and trend store, the standby write
// store) share: node:sqlite loaded on first use, so that a too old Node.js gets a clear message
// instead of a failed require; and a transaction that rolls back when its body throws.
import type { DatabaseSync } from 'node:sqlite';

/** Opens (creates) the database file; `what` names the feature in the message for an old Node.js. */
export function openDatabase(filePath: string, what: string): DatabaseSync {
  let sqlite: typeof import('node:sqlite');
  try {
    sqlite = require('node:sqlite') as typeof import('node:sqlite');
  } catch {
    throw new Error(`${what} needs Node.js 22.13 or later (node:sqlite); this is Node.js ${process.versions.node}`);
  }
  return new sqlite.DatabaseSync(filePath);
}

/** Runs `fn` in a transaction (`begin`: BEGIN, or BEGIN IMMEDIATE to take the write lock at once). */
export function inTransaction(db: DatabaseSync, fn: () => void, begin: 'BEGIN' | 'BEGIN IMMEDIATE' = 'BEGIN'): void {
  db.exec(begin);
  try {
    fn();
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}
