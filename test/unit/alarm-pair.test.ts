// Two alarm servers over a pair of fake peer links (test/helpers/fake-peer-link.ts), each with its
// own SQLite store and its own fake clock (skewed where it matters): replication of raises and
// acks, one identity for an alarm raised on both, persistent acks across a restart, catch-up,
// convergence after a partition, actions only on the duty holder, shelving, bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseLimitSpec } from '../../lib/alarm/condition';
import { AlarmServer } from '../../lib/alarm/service';
import type { AlarmAction, AlarmView } from '../../lib/alarm/types';
import { FakeClock } from '../../lib/core/clock';
import type { AlarmStore } from '../../lib/alarm/store';
import { openPairStore } from '../../lib/store/pair-store';
import { FakeNetwork, type Side } from '../helpers/fake-peer-link';
import { type PostgresCluster, requirePostgres, startPostgres } from '../helpers/postgres';

/** Where a side keeps its store: a SQLite file (default), or a PostgreSQL schema. */
type StoreFactory = (side: Side, dir: string) => Promise<AlarmStore>;
const sqliteStores: StoreFactory = (side, dir) => openPairStore({ backend: 'sqlite', file: join(dir, `${side}.sqlite`) });

const T0 = 1_700_000_000_000;

class Rig {
  readonly net = new FakeNetwork(0);
  readonly clocks: Record<Side, FakeClock>;
  readonly servers: Partial<Record<Side, AlarmServer>> = {};
  readonly stores: Partial<Record<Side, AlarmStore>> = {};
  readonly actions: Record<Side, AlarmAction[]> = { a: [], b: [] };
  readonly events: Record<Side, string[]> = { a: [], b: [] };
  readonly dir = mkdtempSync(join(tmpdir(), 'alarm-pair-'));

  constructor(skewMs = 0, private readonly extra: Record<string, unknown> = {}, private readonly openStore: StoreFactory = sqliteStores) {
    this.clocks = { a: new FakeClock(T0), b: new FakeClock(T0 - skewMs) };
  }

  async start(side: Side, attach = true): Promise<AlarmServer> {
    if (attach) this.net.attach(side);
    const link = this.net.link(side)!;
    const store = await this.openStore(side, this.dir);
    this.stores[side] = store;
    const server = await AlarmServer.start({ group: 'plant', link, store, clock: this.clocks[side], catchUpWaitMs: 2000, checkMs: 0, pageSize: 100, conditions: [parseLimitSpec({ key: 'TT1.HI', source: 'TT1', op: 'gt', limit: 80, deadband: 2, severity: 700 })], ...this.extra });
    server.on('action', (a) => this.actions[side].push(a));
    server.on('event', (e) => this.events[side].push(`${e.kind}: ${e.reason}`));
    this.servers[side] = server;
    return server;
  }

  s(side: Side): AlarmServer {
    return this.servers[side]!;
  }

  /** Lets requests, pushes and sessions run to the end. */
  async settle(): Promise<void> {
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setImmediate(r));
      await Promise.all(Object.values(this.servers).map((s) => s!.sync.idle()));
    }
    await Promise.all(Object.values(this.servers).map((s) => s!.engine.flush()));
  }

  async advance(ms: number): Promise<void> {
    await Promise.all([this.clocks.a.advance(ms), this.clocks.b.advance(ms)]);
    await this.settle();
  }

  /** The process of a side dies: no clean close of anything, the link vanishes. */
  async crash(side: Side): Promise<void> {
    this.net.kill(side);
    await this.servers[side]?.close();
    await this.stores[side]?.close();
    delete this.servers[side];
  }

  async close(): Promise<void> {
    for (const side of ['a', 'b'] as const) {
      await this.servers[side]?.close();
      await this.stores[side]?.close();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  list(side: Side): AlarmView[] {
    return this.s(side).views();
  }
}

let rig: Rig;

/** keeps acks made while the peer is down, across a crash and restart of the acking instance, and delivers them */
async function outboxAcrossRestart(stores: StoreFactory): Promise<void> {
  rig = new Rig(0, {}, stores);
  await rig.start('a');
  await rig.start('b');
  await rig.settle();
  for (const k of ['A1', 'A2', 'A3']) await rig.s('a').observe({ key: k, active: true, text: `alarm ${k}` });
  await rig.settle();
  await rig.crash('b');
  await rig.s('a').ack({ key: 'A1', by: 'anna' });
  await rig.s('a').comment({ key: 'A2', by: 'anna', comment: 'watching it' });
  assert.equal(rig.s('a').state().outbox, 2);
  await rig.crash('a');
  // A restarts while B is still down: the outbox is on disk.
  await rig.start('a');
  assert.equal(rig.s('a').engine.pendingOutbox().length, 2, 'the queued ack and comment survived the crash');
  await rig.advance(2500); // the catch-up wait runs out: A evaluates alone
  // B restarts and A meets it: the ack and the comment arrive, B acks A3 meanwhile.
  await rig.start('b');
  await rig.settle();
  await rig.s('b').ack({ key: 'A3', by: 'bo' });
  await rig.settle();
  assert.equal(rig.s('a').engine.pendingOutbox().length, 0);
  const b = rig.list('b');
  assert.deepEqual(b.map((v) => [v.key, v.acked, v.ackedBy ?? '', v.comments.map((c) => c.text).join()]), [['A1', true, 'anna', ''], ['A2', false, '', 'watching it'], ['A3', true, 'bo', '']]);
  assert.deepEqual(rig.list('a'), b);
  assert.ok(rig.events.a.some((e) => e.startsWith('alarm-acks-delivered: 2 operator actions')), rig.events.a.join('\n'));
}

/** converges after a partition: acks and raises on both sides, the same alarm acked on both */
async function convergesAfterPartition(stores: StoreFactory): Promise<void> {
  rig = new Rig(2000, {}, stores);
  await rig.start('a');
  await rig.start('b');
  await rig.settle();
  for (const k of ['X1', 'X2', 'X3']) await rig.s('a').observe({ key: k, active: true });
  await rig.settle();
  rig.net.cut();
  await rig.s('a').ack({ key: 'X1', by: 'anna' });
  await rig.advance(10);
  await rig.s('b').ack({ key: 'X1', by: 'bo' });
  await rig.s('b').ack({ key: 'X2', by: 'bo' });
  await rig.s('a').observe({ key: 'X3', active: false });
  await rig.s('b').observe({ key: 'Y9', active: true, text: 'only B saw it' });
  await rig.s('a').shelve({ key: 'X2', state: 'oneshot', by: 'anna' });
  assert.notDeepEqual(rig.list('a'), rig.list('b'));
  rig.net.heal();
  await rig.settle();
  const a = rig.list('a');
  assert.deepEqual(rig.list('b'), a);
  const x1 = a.find((v) => v.key === 'X1')!;
  assert.deepEqual(x1.acks.map((k) => k.by), ['anna', 'bo'], 'both acks kept, oldest stamp first');
  assert.equal(x1.ackedBy, 'anna');
  assert.deepEqual(a.map((v) => [v.key, v.active, v.acked, v.shelved]), [['X1', true, true, 'unshelved'], ['X2', true, true, 'oneshot'], ['X3', false, false, 'unshelved'], ['Y9', true, false, 'unshelved']]);
  assert.deepEqual(rig.s('a').engine.digest(), rig.s('b').engine.digest(), 'the same facts on both');
}

/** a started instance catches up the full state (active, acked, times, who, comments) from its peer */
async function catchUp(stores: StoreFactory): Promise<void> {
  rig = new Rig(1500, {}, stores);
  await rig.start('a');
  await rig.settle();
  await rig.advance(2500);
  for (let i = 0; i < 250; i++) await rig.s('a').observe({ key: `K${String(i).padStart(3, '0')}`, active: true, severity: 100 + i, text: `alarm ${i}`, category: i % 2 ? 'odd' : 'even', value: i / 3 });
  for (let i = 0; i < 250; i += 3) await rig.s('a').ack({ key: `K${String(i).padStart(3, '0')}`, by: 'op', comment: `ack ${i}` });
  for (let i = 0; i < 250; i += 5) await rig.s('a').observe({ key: `K${String(i).padStart(3, '0')}`, active: false });
  await rig.s('a').comment({ key: 'K007', by: 'anna', comment: 'first' });
  await rig.s('a').comment({ key: 'K007', by: 'bo', comment: 'second' });
  await rig.s('a').shelve({ key: 'K010', state: 'timed', durationMs: 600_000, by: 'op' });
  rig.net.requests.length = 0;
  const b = await rig.start('b');
  // Before the catch-up, B's own observations wait: B sees K001 active too (no second episode).
  await b.observe({ key: 'K001', active: true });
  await rig.settle();
  assert.deepEqual(rig.list('b'), rig.list('a'));
  assert.equal(rig.list('b').length, 250);
  assert.equal(rig.list('b').find((v) => v.key === 'K001')?.seq, 1);
  const pulls = rig.net.requests.filter((r) => r.from === 'b' && r.op === 'pull').length;
  assert.equal(pulls, 3, 'pages of 100 alarms');
  assert.ok(rig.events.b.some((e) => e.startsWith('alarm-caught-up: caught up the alarm state from the peer: 250 alarms')), rig.events.b.join('\n'));
}

describe('alarm server pair (fake links, fake clocks)', function () {
  afterEach(async () => rig && (await rig.close()));

  it('replicates a raise, and an ack made on either instance applies on both', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    await rig.settle();
    await rig.s('a').observe({ key: 'P1.TRIP', active: true, severity: 900, text: 'pump 1 tripped', category: 'motors' });
    await rig.settle();
    assert.equal(rig.list('b').length, 1);
    assert.deepEqual(rig.list('b')[0], rig.list('a')[0]);
    const acked = await rig.s('b').ack({ key: 'P1.TRIP', by: 'anna', comment: 'electrician called' });
    assert.equal(acked.acked, true);
    await rig.settle();
    const a = rig.list('a')[0];
    assert.equal(a.acked, true);
    assert.equal(a.ackedBy, 'anna');
    assert.equal(a.ackComment, 'electrician called');
    assert.deepEqual(rig.list('a'), rig.list('b'));
    assert.equal(rig.s('b').engine.pendingOutbox().length, 0, 'the ack was confirmed by the peer');
  });

  it('one alarm when both instances raise it a few ms apart on clocks 5 s apart', async function () {
    rig = new Rig(5000);
    await rig.start('a');
    await rig.start('b');
    await rig.settle();
    // Both see the value cross the limit; B (clock 5 s behind) a few ms later.
    rig.s('a').input('TT1', 85);
    await rig.advance(3);
    rig.s('b').input('TT1', 85.5);
    await rig.settle();
    // And concurrently, with the link cut: neither knows of the other's raise.
    rig.net.cut();
    await rig.s('a').observe({ key: 'V7.FAULT', active: true });
    await rig.s('b').observe({ key: 'V7.FAULT', active: true });
    rig.net.heal();
    await rig.settle();
    const a = rig.list('a');
    assert.deepEqual(a.map((v) => [v.key, v.seq, v.active]), [['TT1.HI', 1, true], ['V7.FAULT', 1, true]]);
    assert.deepEqual(rig.list('b'), a, 'both lists are the same');
    assert.equal(a[0].raisedBy, 'node-a', 'the first raise names the alarm\'s time and origin');
    assert.equal(a[0].raisedAt, T0);
    // Cleared on both, raised again: the second episode, one alarm again.
    rig.s('a').input('TT1', 70);
    rig.s('b').input('TT1', 70);
    await rig.settle();
    rig.s('b').input('TT1', 90);
    await rig.advance(2);
    rig.s('a').input('TT1', 90);
    await rig.settle();
    assert.deepEqual(rig.list('a').map((v) => [v.key, v.seq, v.active, v.acked]), [['TT1.HI', 2, true, false], ['V7.FAULT', 1, true, false]]);
    assert.deepEqual(rig.list('b'), rig.list('a'));
  });

  it('keeps acks made while the peer is down, across a crash and restart of the acking instance, and delivers them', async function () {
    await outboxAcrossRestart(sqliteStores);
  });

  it('a started instance catches up the full state (active, acked, times, who, comments) from its peer', async function () {
    await catchUp(sqliteStores);
  });

  it('converges after a partition: acks and raises on both sides, the same alarm acked on both', async function () {
    await convergesAfterPartition(sqliteStores);
  });

  it('runs on/off actions only on the duty holder, and the other takes the owed ones over with the duty', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    rig.net.setDuty('a');
    await rig.settle();
    rig.s('b').input('TT1', 95);
    await rig.settle();
    assert.deepEqual(rig.actions.a.map((x) => [x.action, x.alarm.key, x.epoch, x.takenOver]), [['on', 'TT1.HI', 1, false]]);
    assert.equal(rig.actions.b.length, 0);
    // A dies; the alarm clears on B; B gets the duty and runs the off action A owed.
    await rig.crash('a');
    rig.s('b').input('TT1', 70);
    await rig.s('b').observe({ key: 'M2', active: true });
    await rig.settle();
    assert.equal(rig.actions.b.length, 0, 'no duty, no action');
    rig.net.setDuty('b', 'peer lost');
    await rig.settle();
    assert.deepEqual(rig.actions.b.map((x) => [x.action, x.alarm.key, x.epoch, x.takenOver]).sort(), [['off', 'TT1.HI', 2, true], ['on', 'M2', 2, true]]);
    // A returns: it learns the actions ran; with the duty back it owes nothing.
    await rig.start('a');
    await rig.settle();
    rig.net.setDuty('a', 'preferred instance back');
    await rig.settle();
    assert.equal(rig.actions.a.length, 1, 'nothing run twice');
    assert.ok(rig.list('a').every((v) => v.onActionDone));
  });

  it('shelves following OPC UA Part 9: timed (ends by itself), one-shot (ends when the alarm clears), the rules', async function () {
    rig = new Rig(0, { maxShelveMs: 3600_000 });
    await rig.start('a');
    await rig.start('b');
    rig.net.setDuty('a');
    await rig.settle();
    await rig.s('a').shelve({ key: 'TT1.HI', state: 'timed', durationMs: 60_000, by: 'anna' });
    rig.s('a').input('TT1', 99);
    await rig.settle();
    assert.equal(rig.actions.a.length, 0, 'a shelved alarm is not annunciated');
    assert.equal(rig.list('b')[0].shelved, 'timed');
    await assert.rejects(rig.s('b').shelve({ key: 'TT1.HI', state: 'timed', durationMs: 1000, by: 'x' }), /already shelved/);
    await assert.rejects(rig.s('b').shelve({ key: 'P1', state: 'timed', durationMs: 1000, by: 'x' }), /no alarm P1/);
    await assert.rejects(rig.s('a').shelve({ key: 'TT1.HI', state: 'timed', durationMs: 7200_000, by: 'x' }), /at most 60 min/);
    await rig.advance(60_000);
    assert.equal(rig.list('a')[0].shelved, 'unshelved');
    assert.equal(rig.list('b')[0].shelved, 'unshelved');
    assert.deepEqual(rig.actions.a.map((x) => x.action), ['on'], 'annunciated when the shelf ended');
    await rig.s('b').shelve({ key: 'TT1.HI', state: 'oneshot', by: 'bo' });
    await rig.settle();
    assert.equal(rig.list('a')[0].shelved, 'oneshot');
    rig.s('a').input('TT1', 10);
    rig.s('b').input('TT1', 10);
    await rig.settle();
    assert.equal(rig.list('a')[0].shelved, 'unshelved', 'one-shot ends when the alarm returns to normal');
    await assert.rejects(rig.s('a').shelve({ key: 'TT1.HI', state: 'unshelved', by: 'x' }), /not shelved/);
    assert.deepEqual(rig.list('a'), rig.list('b'));
  });

  it('refuses bad input with the reason, and loses nothing', async function () {
    rig = new Rig();
    await rig.start('a');
    await rig.start('b');
    await rig.settle();
    await assert.rejects(rig.s('a').ack({ key: 'NOPE', by: 'x' }), /no alarm NOPE to acknowledge/);
    await rig.s('a').observe({ key: 'Q', active: true });
    await rig.settle();
    await assert.rejects(rig.s('a').ack({ key: 'Q', seq: 7, by: 'x' }), /no occurrence 7/);
    assert.throws(() => rig.s('a').input('TT1', 'warm'), /value "warm" of TT1 is not a number/);
    assert.throws(() => rig.s('a').input('TT1', NaN), /not a number/);
    const link = rig.net.link('a')!;
    await assert.rejects(link.request('alarm-sync/plant', { op: 'push', v: 1, facts: [{ id: 'garbage', key: 'Q', seq: 1, kind: 'ack', at: 1 }] }), /malformed alarm-sync message: fact garbage has no valid stamp/);
    await assert.rejects(link.request('alarm-sync/plant', { op: 'push', v: 2 }), /protocol version 2 is not 1/);
    const ahead = `${String(T0 + 48 * 3600_000).padStart(15, '0')}.000000.evil`;
    await assert.rejects(link.request('alarm-sync/plant', { op: 'push', v: 1, facts: [{ id: ahead, key: 'Q', seq: 1, kind: 'ack', at: 1, by: 'x' }] }), /s ahead of this clock/);
    await rig.settle();
    assert.equal(rig.list('b')[0].acked, false, 'the refused fact changed nothing');
    assert.deepEqual(rig.list('a'), rig.list('b'));
  });

  it('repairs a lost push by comparing digests', async function () {
    rig = new Rig(0, { checkMs: 1000 });
    await rig.start('a');
    await rig.start('b');
    await rig.settle();
    // A push that never arrives: the fact is made while B's service is not there.
    const unregister = (rig.s('b').sync as unknown as { unregister: () => void }).unregister;
    unregister();
    await rig.s('a').observe({ key: 'LOST', active: true });
    await rig.settle();
    assert.equal(rig.list('b').length, 0);
    (rig.s('b').sync as unknown as { unregister: () => void }).unregister = rig.net.link('b')!.register('alarm-sync/plant', (body) => (rig.s('b').sync as unknown as { handle: (b: unknown) => unknown }).handle(body));
    await rig.advance(1000);
    await rig.advance(10);
    assert.deepEqual(rig.list('b'), rig.list('a'));
  });
});

describe('alarm server pair on PostgreSQL stores', function () {
  this.timeout(30_000);
  let cluster: PostgresCluster | undefined;
  // One schema per rig and side (the rig's temp dir names it), so a restarted side finds its data.
  const pgStores: StoreFactory = (side, dir) => openPairStore({ backend: 'postgres', connectionString: cluster!.connectionString, schema: `${basename(dir).replace(/\W/g, '_')}_${side}` });
  before(async function () {
    this.timeout(60_000);
    const bin = requirePostgres(this);
    cluster = await startPostgres(bin);
  });
  after(async function () {
    await cluster?.stop();
  });
  afterEach(async () => rig && (await rig.close()));

  it('keeps acks made while the peer is down across a restart, and delivers them', async function () {
    await outboxAcrossRestart(pgStores);
  });
  it('catches up the full state', async function () {
    await catchUp(pgStores);
  });
  it('converges after a partition', async function () {
    await convergesAfterPartition(pgStores);
  });
});
