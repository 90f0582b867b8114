// The outbox of one alarm group: operator actions made here (acks, comments, shelving) that the
// peer has not confirmed yet. Each entry is stored in the same transaction as its fact (the engine
// writes both), pushed oldest first by lib/alarm/sync.ts, and removed only once the peer answered:
// none is lost while the peer is away, even across a restart of this instance.
import type { OutboxEntry } from './types';

export class AlarmOutbox {
  private readonly entries = new Map<string, OutboxEntry>();

  /** The stored entries at start; returns the greatest stamp among them ('' when none). */
  load(entries: OutboxEntry[]): string {
    let newest = '';
    for (const o of entries) {
      this.entries.set(o.id, o);
      if (o.id > newest) newest = o.id;
    }
    return newest;
  }

  add(entry: OutboxEntry): void {
    this.entries.set(entry.id, entry);
  }

  /** Oldest first (queue time, then stamp). */
  pending(): OutboxEntry[] {
    return [...this.entries.values()].sort((a, b) => a.queuedAt - b.queuedAt || (a.id < b.id ? -1 : 1));
  }

  /** Removes what the peer confirmed; returns the ids that were there (to delete from the store). */
  remove(ids: string[]): string[] {
    return ids.filter((id) => this.entries.delete(id));
  }

  get size(): number {
    return this.entries.size;
  }
}
