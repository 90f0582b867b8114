// What the alarm pair keeps on disk: the facts of each alarm's current episode, the shelving of
// each alarm, and the outbox of operator actions (acks, comments, shelving) not yet confirmed by
// the peer. Implemented by lib/store/sqlite-pair-store.ts and lib/store/pg-pair-store.ts.
import type { AlarmFact, OutboxEntry, ShelveFact } from './types';

/** Everything one change writes, applied in one transaction. */
export interface AlarmBatch {
  /** Facts to add (a fact already stored is left as it is). */
  facts?: AlarmFact[];
  /** Alarms that started a newer episode: their facts of older episodes are deleted. */
  supersede?: Array<{ key: string; seq: number }>;
  /** The winning shelving fact of each alarm (replaces the stored one). */
  shelves?: ShelveFact[];
  outboxAdd?: OutboxEntry[];
  /** Outbox entries the peer confirmed. */
  outboxRemove?: string[];
}

export interface StoredAlarms {
  facts: AlarmFact[];
  shelves: ShelveFact[];
  /** Oldest first. */
  outbox: OutboxEntry[];
}

export interface AlarmStore {
  readonly backend: 'sqlite' | 'postgres';
  /** Where the data is, for messages ("/data/.node-red/redundancy.sqlite", "postgres db@host:5432"). */
  readonly location: string;
  loadAlarms(group: string): Promise<StoredAlarms>;
  commitAlarms(group: string, batch: AlarmBatch): Promise<void>;
  close(): Promise<void>;
}
