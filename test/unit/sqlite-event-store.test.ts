// The SQLite event store on a real file: survives close and reopen, trims, keeps ids and exact
// event contents; and the cost of one logged event.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../../lib/core/event-log';
import type { RedundancyEvent } from '../../lib/core/types';
import { SqliteEventStore } from '../../lib/store/sqlite-event-store';

function ev(i: number, extra: Partial<RedundancyEvent> = {}): RedundancyEvent {
  return { time: 1_700_000_000_000 + i, pair: i % 2 ? 'line1' : 'line2', kind: 'failover', severity: 'error', reason: `event ${i}`, ...extra };
}

describe('sqlite event store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'redundancy-store-test-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips events exactly, null and absent fields included', () => {
    const file = join(dir, 'events.sqlite');
    const store = new SqliteEventStore(file);
    const events = [
      { ...ev(1, { from: 'primary', to: null, server: 'primary', durationMs: 182, detectMs: 12.5 }), id: 1 },
      { ...ev(2, { kind: 'condition-fired', severity: 'warning', reason: 'quote " and ünïcode → ✓' }), id: 2 },
    ];
    for (const e of events) store.insert(e);
    store.close();
    const again = new SqliteEventStore(file);
    assert.deepEqual(again.load(10), events);
    assert.equal('from' in again.load(10)[1], false);
    again.close();
  });

  it('an event log survives close and reopen: same events, same order, ids continue', () => {
    const file = join(dir, 'sub', 'dir', 'events.sqlite');
    const log = new EventLog({ maxEvents: 50, store: new SqliteEventStore(file) });
    for (let i = 1; i <= 120; i++) log.append(ev(i));
    const before = log.query();
    log.close();

    const store = new SqliteEventStore(file);
    assert.equal(store.count(), 50, 'trimmed to maxEvents on close');
    const reopened = new EventLog({ maxEvents: 50, store });
    assert.deepEqual(reopened.query(), before);
    assert.deepEqual(reopened.query().map((e) => e.id).slice(0, 3), [71, 72, 73]);
    assert.equal(reopened.append(ev(121)).id, 121);
    assert.equal(reopened.query({ pairs: ['line1'], limit: 1 })[0].id, 121);
    reopened.close();
  });

  it('trim keeps the newest events', () => {
    const store = new SqliteEventStore(join(dir, 'e.sqlite'));
    for (let i = 1; i <= 30; i++) store.insert({ ...ev(i), id: i });
    store.trim(7);
    assert.equal(store.count(), 7);
    assert.deepEqual(store.load(100).map((e) => e.id), [24, 25, 26, 27, 28, 29, 30]);
    assert.deepEqual(store.load(2).map((e) => e.id), [29, 30]);
    store.trim(100);
    assert.equal(store.count(), 7);
    store.trim(0);
    assert.equal(store.count(), 0);
    store.close();
  });

  it('clear empties the file but ids continue after a reopen', () => {
    const file = join(dir, 'e.sqlite');
    const log = new EventLog({ maxEvents: 10, store: new SqliteEventStore(file) });
    log.append(ev(1));
    log.append(ev(2));
    log.append(ev(3));
    log.clear();
    log.close();
    const store = new SqliteEventStore(file);
    assert.equal(store.count(), 0);
    assert.equal(store.lastId(), 3);
    const again = new EventLog({ maxEvents: 10, store });
    assert.equal(again.size(), 0);
    assert.equal(again.append(ev(4)).id, 4);
    again.close();
  });

  it('uses WAL and has the (pair, time) index', () => {
    const file = join(dir, 'e.sqlite');
    new SqliteEventStore(file).close();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DatabaseSync } = require('node:sqlite') as typeof import('node:sqlite');
    const db = new DatabaseSync(file);
    try {
      assert.equal(db.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name").all().map((r) => r.name);
      assert.deepEqual(indexes, ['events_pair_time']);
    } finally {
      db.close();
    }
  });

  it('reports a file it cannot open, and use after close, in words', () => {
    const notADb = join(dir, 'notes.txt');
    writeFileSync(notADb, 'this is not a database, just some text that is long enough to have a header '.repeat(20));
    assert.throws(() => new SqliteEventStore(notADb), { message: `cannot open the event log file ${notADb}: file is not a database` });
    assert.throws(() => new SqliteEventStore(dir), { message: `cannot open the event log file ${dir}: unable to open database file` });
    const store = new SqliteEventStore(join(dir, 'e.sqlite'));
    store.close();
    assert.throws(() => store.insert({ ...ev(1), id: 1 }), { message: `the event log file ${join(dir, 'e.sqlite')} is closed` });
    store.close(); // twice is harmless
  });

  it('measures the cost per logged event (10 000 appends, maxEvents 1000)', function () {
    this.timeout(60_000);
    const log = new EventLog({ maxEvents: 1000, store: new SqliteEventStore(join(dir, 'bench.sqlite')) });
    const base: RedundancyEvent = { time: Date.now(), pair: 'bench', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary', reason: 'connection lost: socket closed' };
    const n = 10_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) log.append({ ...base, time: base.time + i });
    const usPerEvent = Number(process.hrtime.bigint() - t0) / 1000 / n;
    log.close();
    console.log(`      log write cost: ${usPerEvent.toFixed(1)} µs per event over ${n} appends (SQLite, WAL)`);
    // Generous bound so a loaded CI machine passes, tight enough to catch an fsync per event.
    assert.ok(usPerEvent < 500, `${usPerEvent} µs per event`);
  });
});
