// The event log in memory and over a store: bound, order, ids across restarts, filters.
import assert from 'node:assert/strict';
import { type EventStore, EventLog, type LoggedEvent, matchesFilter } from '../../lib/core/event-log';
import type { RedundancyEvent } from '../../lib/core/types';

function ev(i: number, extra: Partial<RedundancyEvent> = {}): RedundancyEvent {
  return { time: 1_700_000_000_000 + i * 1000, pair: 'line1', kind: 'failover', severity: 'error', reason: `event ${i}`, ...extra };
}

/** A store in memory that records what the log asks of it. */
class MemoryStore implements EventStore {
  rows: LoggedEvent[] = [];
  cleared = 0;
  trims = 0;
  closed = false;
  failInsert = false;
  load(max: number): LoggedEvent[] {
    return this.rows.slice(-max).map((r) => ({ ...r }));
  }
  insert(e: LoggedEvent): void {
    if (this.failInsert) throw new Error('disk full');
    this.rows.push({ ...e });
  }
  trim(keep: number): void {
    this.trims++;
    if (this.rows.length > keep) this.rows = this.rows.slice(-keep);
  }
  clear(): void {
    this.cleared = Math.max(this.cleared, ...this.rows.map((r) => r.id));
    this.rows = [];
  }
  close(): void {
    this.closed = true;
  }
  lastId(): number {
    return Math.max(this.cleared, ...this.rows.map((r) => r.id), 0);
  }
}

describe('event log', () => {
  it('keeps order, assigns increasing ids and respects the bound', () => {
    const log = new EventLog({ maxEvents: 5 });
    for (let i = 1; i <= 12; i++) {
      const logged = log.append(ev(i));
      assert.equal(logged.id, i);
      assert.ok(log.size() <= 5);
    }
    assert.equal(log.size(), 5);
    assert.deepEqual(log.query().map((e) => e.reason), ['event 8', 'event 9', 'event 10', 'event 11', 'event 12']);
    assert.deepEqual(log.query().map((e) => e.id), [8, 9, 10, 11, 12]);
  });

  it('stays bounded and ordered over many appends (compaction)', () => {
    const log = new EventLog({ maxEvents: 3 });
    for (let i = 1; i <= 1000; i++) log.append(ev(i));
    assert.deepEqual(log.query().map((e) => e.id), [998, 999, 1000]);
  });

  it('query: limit keeps the newest N, oldest first; filters by pair, kind, severity, time', () => {
    const log = new EventLog({ maxEvents: 100 });
    log.append(ev(1, { pair: 'line1', kind: 'connection-lost', severity: 'warning', server: 'primary' }));
    log.append(ev(2, { pair: 'line2', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary' }));
    log.append(ev(3, { pair: 'line1', kind: 'failover', severity: 'error' }));
    log.append(ev(4, { pair: 'line1', kind: 'restored', severity: 'info' }));
    log.append(ev(5, { pair: 'line2', kind: 'promotion', severity: 'info' }));
    const ids = (f: Parameters<EventLog['query']>[0]) => log.query(f).map((e) => e.id);
    assert.deepEqual(ids({ limit: 2 }), [4, 5]);
    assert.deepEqual(ids({ limit: 0 }), []);
    assert.deepEqual(ids({ pairs: ['line1'] }), [1, 3, 4]);
    assert.deepEqual(ids({ pairs: ['line1'], limit: 2 }), [3, 4]);
    assert.deepEqual(ids({ kinds: ['failover'] }), [2, 3]);
    assert.deepEqual(ids({ severities: ['info', 'warning'] }), [1, 4, 5]);
    assert.deepEqual(ids({ since: ev(2).time, until: ev(4).time }), [2, 3, 4]);
    assert.deepEqual(ids({ pairs: [], kinds: [] }), [1, 2, 3, 4, 5]);
    assert.deepEqual(ids({ pairs: ['line3'] }), []);
  });

  it('matchesFilter: every given criterion must match', () => {
    const e = ev(1, { pair: 'p', kind: 'failover', severity: 'error' });
    assert.equal(matchesFilter(e, {}), true);
    assert.equal(matchesFilter(e, { pairs: ['p'], kinds: ['failover'], severities: ['error'] }), true);
    assert.equal(matchesFilter(e, { pairs: ['p'], kinds: ['promotion'] }), false);
    assert.equal(matchesFilter(e, { severities: ['info'] }), false);
    assert.equal(matchesFilter(e, { since: e.time + 1 }), false);
    assert.equal(matchesFilter(e, { until: e.time - 1 }), false);
    assert.equal(matchesFilter(e, { since: e.time, until: e.time }), true);
  });

  it('clear empties the log; ids continue', () => {
    const log = new EventLog({ maxEvents: 10 });
    log.append(ev(1));
    log.append(ev(2));
    log.clear();
    assert.equal(log.size(), 0);
    assert.deepEqual(log.query(), []);
    assert.equal(log.append(ev(3)).id, 3);
  });

  it('loads the newest events from the store and continues the ids after a restart', () => {
    const store = new MemoryStore();
    const first = new EventLog({ maxEvents: 4, store });
    for (let i = 1; i <= 6; i++) first.append(ev(i));
    first.close();
    assert.equal(store.closed, true);
    assert.deepEqual(store.rows.map((r) => r.id), [3, 4, 5, 6]);

    store.closed = false;
    const second = new EventLog({ maxEvents: 4, store });
    assert.deepEqual(second.query().map((e) => e.id), [3, 4, 5, 6]);
    assert.equal(second.append(ev(7)).id, 7);
    assert.deepEqual(second.query().map((e) => e.reason), ['event 4', 'event 5', 'event 6', 'event 7']);
  });

  it('ids continue after a clear and a restart (the store remembers the last id)', () => {
    const store = new MemoryStore();
    const first = new EventLog({ maxEvents: 4, store });
    first.append(ev(1));
    first.append(ev(2));
    first.clear();
    first.close();
    const second = new EventLog({ maxEvents: 4, store });
    assert.equal(second.size(), 0);
    assert.equal(second.append(ev(3)).id, 3);
  });

  it('a lowered maxEvents trims the store on load', () => {
    const store = new MemoryStore();
    const big = new EventLog({ maxEvents: 100, store });
    for (let i = 1; i <= 50; i++) big.append(ev(i));
    big.close();
    const small = new EventLog({ maxEvents: 10, store });
    assert.equal(small.size(), 10);
    assert.equal(store.rows.length, 10);
    assert.equal(store.rows[0].id, 41);
  });

  it('trims the store in batches, never letting it grow without bound', () => {
    const store = new MemoryStore();
    const log = new EventLog({ maxEvents: 16, store });
    for (let i = 1; i <= 1000; i++) {
      log.append(ev(i));
      assert.ok(store.rows.length <= 16 + 2, `store holds ${store.rows.length}`);
    }
    assert.ok(store.trims < 1000, 'not trimmed on every insert');
  });

  it('a failing store does not break appends; the error is reported once per streak', () => {
    const store = new MemoryStore();
    const errors: string[] = [];
    const log = new EventLog({ maxEvents: 10, store, onStoreError: (err) => errors.push(err.message) });
    store.failInsert = true;
    log.append(ev(1));
    log.append(ev(2));
    assert.deepEqual(errors, ['disk full']);
    assert.equal(log.size(), 2);
    store.failInsert = false;
    log.append(ev(3));
    store.failInsert = true;
    log.append(ev(4));
    assert.deepEqual(errors, ['disk full', 'disk full']);
  });

  it('refuses a nonsensical bound', () => {
    assert.throws(() => new EventLog({ maxEvents: 0 }), { message: 'maxEvents must be a whole number ≥ 1 (got 0)' });
    assert.throws(() => new EventLog({ maxEvents: NaN }), { message: 'maxEvents must be a whole number ≥ 1 (got NaN)' });
  });
});
