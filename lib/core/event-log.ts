// The diagnostics event log: every transition of every pair with its reason, bounded (oldest
// dropped), in order, optionally kept in a store so it survives a restart.
import type { RedundancyEvent, RedundancyEventKind, Severity } from './types';

export interface LoggedEvent extends RedundancyEvent {
  /** Increases by one per appended event and continues after a restart or a clear. */
  id: number;
}

/** All given criteria must match. An empty or absent list does not filter. */
export interface EventFilter {
  pairs?: string[];
  kinds?: RedundancyEventKind[];
  severities?: Severity[];
  /** Inclusive bounds on event time, ms since epoch. */
  since?: number;
  until?: number;
  /** Keep only the newest N of the matches (query only). */
  limit?: number;
}

/** Where the log persists. Events are inserted in id order; load returns them oldest first. */
export interface EventStore {
  /** The newest `max` events, oldest first. */
  load(max: number): LoggedEvent[];
  insert(e: LoggedEvent): void;
  /** Keep only the newest `keep` events. */
  trim(keep: number): void;
  clear(): void;
  close(): void;
  /** The highest id ever stored, also after a clear, so ids never repeat. Optional. */
  lastId?(): number;
}

export interface EventLogOptions {
  maxEvents: number;
  store?: EventStore;
  /**
   * Called when the store fails (disk full, file removed...). The log then keeps working in memory:
   * a broken disk must not break the pair that reports the events. Called once per failure streak.
   */
  onStoreError?: (err: Error) => void;
}

export function matchesFilter(e: RedundancyEvent, f: EventFilter): boolean {
  if (f.pairs && f.pairs.length > 0 && !f.pairs.includes(e.pair)) return false;
  if (f.kinds && f.kinds.length > 0 && !f.kinds.includes(e.kind)) return false;
  if (f.severities && f.severities.length > 0 && !f.severities.includes(e.severity)) return false;
  if (typeof f.since === 'number' && e.time < f.since) return false;
  if (typeof f.until === 'number' && e.time > f.until) return false;
  return true;
}

/**
 * The store is trimmed in batches, not per insert: between trims it holds up to this many events
 * more than maxEvents (load() takes the newest maxEvents, so nobody sees them).
 */
function trimInterval(maxEvents: number): number {
  return Math.max(1, Math.min(256, Math.ceil(maxEvents / 8)));
}

export class EventLog {
  private readonly maxEvents: number;
  private store: EventStore | undefined;
  private readonly onStoreError?: (err: Error) => void;
  /** events[head..] are the live ones; the dropped prefix is compacted away in batches. */
  private events: LoggedEvent[] = [];
  private head = 0;
  private nextId = 1;
  private insertsSinceTrim = 0;
  private readonly trimEvery: number;
  private storeFailing = false;

  constructor(opts: EventLogOptions) {
    if (!Number.isInteger(opts.maxEvents) || opts.maxEvents < 1) throw new Error(`maxEvents must be a whole number ≥ 1 (got ${opts.maxEvents})`);
    this.maxEvents = opts.maxEvents;
    this.store = opts.store;
    this.onStoreError = opts.onStoreError;
    this.trimEvery = trimInterval(opts.maxEvents);
    if (this.store) {
      // A store that cannot even be read is the caller's problem to report: let it throw.
      this.events = this.store.load(this.maxEvents);
      const maxLoaded = this.events.length > 0 ? this.events[this.events.length - 1].id : 0;
      this.nextId = Math.max(maxLoaded, this.store.lastId?.() ?? 0) + 1;
      // maxEvents may have been lowered since the last run.
      this.storeCall((s) => s.trim(this.maxEvents));
    }
  }

  /** Logs the event with the next id; the oldest events beyond maxEvents are dropped. */
  append(e: RedundancyEvent): LoggedEvent {
    const logged: LoggedEvent = { ...e, id: this.nextId++ };
    this.events.push(logged);
    if (this.events.length - this.head > this.maxEvents) {
      this.head++;
      // Compact once the dropped prefix is as long as the log: amortised O(1) per append.
      if (this.head >= this.maxEvents) {
        this.events = this.events.slice(this.head);
        this.head = 0;
      }
    }
    if (this.store) {
      this.storeCall((s) => s.insert(logged));
      if (++this.insertsSinceTrim >= this.trimEvery) {
        this.insertsSinceTrim = 0;
        this.storeCall((s) => s.trim(this.maxEvents));
      }
    }
    return logged;
  }

  /** Matching events, oldest first; `limit` keeps the newest N of them. */
  query(filter: EventFilter = {}): LoggedEvent[] {
    const limit = typeof filter.limit === 'number' && !Number.isNaN(filter.limit) ? Math.max(0, Math.floor(filter.limit)) : Infinity;
    if (limit === 0) return [];
    // Walk from the newest so a small limit over a big log stays cheap.
    const out: LoggedEvent[] = [];
    for (let i = this.events.length - 1; i >= this.head && out.length < limit; i--) {
      if (matchesFilter(this.events[i], filter)) out.push(this.events[i]);
    }
    return out.reverse();
  }

  /** Removes every event (memory and store). Ids continue. */
  clear(): void {
    this.events = [];
    this.head = 0;
    this.insertsSinceTrim = 0;
    this.storeCall((s) => s.clear());
  }

  size(): number {
    return this.events.length - this.head;
  }

  /** Trims and closes the store. The log keeps working in memory afterwards (nothing persisted). */
  close(): void {
    const store = this.store;
    if (!store) return;
    this.storeCall((s) => s.trim(this.maxEvents));
    this.store = undefined;
    try {
      store.close();
    } catch (err) {
      this.reportStoreError(err);
    }
  }

  private storeCall(fn: (s: EventStore) => void): void {
    if (!this.store) return;
    try {
      fn(this.store);
      this.storeFailing = false;
    } catch (err) {
      this.reportStoreError(err);
    }
  }

  private reportStoreError(err: unknown): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.onStoreError?.(err instanceof Error ? err : new Error(String(err)));
  }
}
