// The gateway's pure parts: the request concentrator (client monitored items to upstream items),
// the ServiceLevel of a gateway from its pairs (OPC 10000-4 §6.6), the status code of a failure.
import assert from 'node:assert/strict';
import { DriverError } from '../../lib/core/driver';
import { FakeClock } from '../../lib/core/clock';
import { NoActiveServerError, RedundantPair } from '../../lib/core/pair';
import type { PairStatus } from '../../lib/core/types';
import { Concentrator } from '../../lib/gateway/concentrator';
import { statusOfError } from '../../lib/core/error-status';
import { type PairHealth, healthOf, pairSource } from '../../lib/gateway/pair-source';
import { FakeDriver } from '../helpers/fake-driver';
import { gatewayServiceLevel, serviceLevelClass } from '../../lib/gateway/service-level';
import type { ItemSpec } from '../../lib/core/types';

class FakeUpstream {
  items = new Map<string, ItemSpec[]>();
  calls: string[] = [];
  setItems(owner: string, items: ItemSpec[]): void {
    this.items.set(owner, items);
    this.calls.push(`set ${owner} ${items.map((i) => i.samplingIntervalMs).join(',')}`);
  }
  removeItems(owner: string): void {
    this.items.delete(owner);
    this.calls.push(`remove ${owner}`);
  }
}

function rig() {
  const up = new FakeUpstream();
  const queue: Array<() => void> = [];
  let now = 1000;
  const c = new Concentrator(up, 'gw', (fn) => queue.push(fn), () => now);
  const turn = () => queue.splice(0).forEach((fn) => fn());
  return { up, c, turn, tick: (ms: number) => (now += ms) };
}

describe('request concentrator', function () {
  it('any number of client items on a node cost one upstream item; it goes with the last client', function () {
    const { up, c, turn } = rig();
    const leases = Array.from({ length: 20 }, () => c.acquire('ns=1;s=A', 100));
    assert.equal(up.calls.length, 0, 'nothing before the turn ends');
    turn();
    assert.deepEqual(up.calls, ['set gw:ns=1;s=A 100']);
    assert.equal(c.upstreamCount(), 1);
    assert.equal(c.clientCount(), 20);
    for (const l of leases.slice(1)) c.release(l);
    turn();
    assert.deepEqual(up.calls, ['set gw:ns=1;s=A 100'], 'still one client: nothing upstream changes');
    c.release(leases[0]);
    turn();
    assert.deepEqual(up.calls, ['set gw:ns=1;s=A 100', 'remove gw:ns=1;s=A']);
    assert.equal(c.upstreamCount(), 0);
    assert.equal(c.isMonitored('ns=1;s=A'), false);
  });

  it('upstream samples at the fastest client interval, and slows down when that client leaves', function () {
    const { up, c, turn } = rig();
    c.acquire('x', 1000);
    turn();
    const fast = c.acquire('x', 100);
    turn();
    c.release(fast);
    turn();
    assert.deepEqual(up.calls, ['set gw:x 1000', 'set gw:x 100', 'set gw:x 1000']);
  });

  it('one owner per node: adding or removing one node never touches another', function () {
    const { up, c, turn } = rig();
    const a = c.acquire('a', 0);
    c.acquire('b', 0);
    turn();
    c.release(a);
    turn();
    assert.deepEqual(up.calls, ['set gw:a 0', 'set gw:b 0', 'remove gw:a']);
    assert.deepEqual([...up.items.keys()], ['gw:b']);
  });

  it('a client that comes and goes within a turn costs nothing upstream; releasing twice is harmless', function () {
    const { up, c, turn } = rig();
    const l = c.acquire('a', 0);
    c.release(l);
    c.release(l);
    turn();
    assert.deepEqual(up.calls, []);
  });

  it('frozen (the exposure is going): clients leaving change nothing upstream until close removes everything', function () {
    const { up, c, turn } = rig();
    const l = c.acquire('a', 0);
    turn();
    c.freeze();
    c.release(l);
    turn();
    assert.deepEqual(up.calls, ['set gw:a 0']);
    c.close();
    assert.deepEqual(up.calls, ['set gw:a 0', 'remove gw:a']);
  });

  it('knows since when an item is monitored (the cached value is live only after that); close removes everything', function () {
    const { up, c, turn, tick } = rig();
    c.acquire('a', 0);
    assert.equal(c.monitoredSince('a'), undefined);
    tick(50);
    turn();
    assert.equal(c.monitoredSince('a'), 1050);
    c.close();
    assert.deepEqual(up.calls, ['set gw:a 0', 'remove gw:a']);
    c.acquire('b', 0);
    turn();
    assert.equal(up.calls.length, 2, 'a closed concentrator asks for nothing');
  });

  it('an upstream that takes several owners at once gets one call per turn (a thousand nodes: one change of the pair\'s item list)', function () {
    const calls: Array<{ set: number; remove: number }> = [];
    const up = Object.assign(new FakeUpstream(), {
      updateItems(set: Array<[string, ItemSpec[]]>, remove: string[]) {
        calls.push({ set: set.length, remove: remove.length });
        for (const [owner, items] of set) up.items.set(owner, items);
        for (const owner of remove) up.items.delete(owner);
      },
    });
    const queue: Array<() => void> = [];
    const c = new Concentrator(up, 'gw', (fn) => queue.push(fn));
    const turn = () => queue.splice(0).forEach((fn) => fn());
    const leases = Array.from({ length: 1000 }, (_, i) => c.acquire(`n${i}`, 0));
    for (let i = 0; i < 1000; i++) c.acquire(`n${i}`, 0);
    turn();
    assert.deepEqual(calls, [{ set: 1000, remove: 0 }]);
    assert.equal(up.items.size, 1000);
    assert.deepEqual(up.calls, [], 'no single-owner call');
    for (const l of leases.slice(0, 500)) c.release(l);
    turn();
    assert.equal(calls.length, 1, 'the other client still holds every node');
    c.close();
    assert.deepEqual(calls.at(-1), { set: 0, remove: 1000 });
    assert.equal(up.items.size, 0);
  });

  it('over a pair: the turn\'s nodes become the pair\'s items at once, and go at once', function () {
    const pair = new RedundantPair({ name: 'p', mode: 'hot', pingIntervalMs: 1000, pingTimeoutMs: 500, autoPromote: true, holdOffMs: 5000, clock: new FakeClock(0) }, { primary: new FakeDriver('opc.tcp://p:4840'), secondary: new FakeDriver('opc.tcp://s:4840') });
    let rebuilds = 0;
    const rebuild = (pair as unknown as { rebuildItems(): void }).rebuildItems;
    (pair as unknown as { rebuildItems(): void }).rebuildItems = function (this: RedundantPair) {
      rebuilds++;
      rebuild.call(this);
    };
    const queue: Array<() => void> = [];
    const c = new Concentrator(pairSource(pair), 'gw', (fn) => queue.push(fn));
    const leases = Array.from({ length: 300 }, (_, i) => c.acquire(`ns=1;s=N${i}`, i % 2 ? 0 : 500));
    queue.splice(0).forEach((fn) => fn());
    assert.equal(rebuilds, 1);
    const items = pair.currentItems();
    assert.equal(items.length, 300);
    assert.deepEqual(items.find((it) => it.id === 'ns=1;s=N1'), { id: 'ns=1;s=N1', samplingIntervalMs: 0 });
    assert.deepEqual(items.find((it) => it.id === 'ns=1;s=N2'), { id: 'ns=1;s=N2', samplingIntervalMs: 500 });
    for (const l of leases) c.release(l);
    queue.splice(0).forEach((fn) => fn());
    assert.equal(rebuilds, 2);
    assert.deepEqual(pair.currentItems(), []);
  });
});

const healthy: PairHealth = { serving: true, preferred: true, degraded: false, active: 'primary', text: '' };
const standby: PairHealth = { serving: true, preferred: false, degraded: false, active: 'secondary', text: '' };
const conditioned: PairHealth = { serving: true, preferred: true, degraded: true, active: 'primary', text: '' };
const none: PairHealth = { serving: false, preferred: false, degraded: false, active: null, text: '' };

describe('gateway ServiceLevel (OPC 10000-4 §6.6.2.4.2)', function () {
  const cases: Array<[string, PairHealth[], boolean, number, number | [number, number]]> = [
    ['all pairs on their preferred channel', [healthy, healthy], false, 1, 255],
    ['rank 2 of a redundant set, healthy', [healthy], false, 2, 250],
    ['a standby serves', [standby], false, 1, [2, 199]],
    ['a failover condition holds on the serving channel', [conditioned], false, 1, [2, 199]],
    ['one of two pairs has no data', [healthy, none], false, 1, [2, 199]],
    ['no pair has data', [none, none], false, 1, 1],
    ['nothing exposed yet', [], false, 1, 1],
    ['maintenance, whatever the pairs', [healthy], true, 1, 0],
  ];
  for (const [what, pairs, maintenance, rank, expected] of cases) {
    it(`${what}: ${Array.isArray(expected) ? `${expected[0]}..${expected[1]}` : expected}`, function () {
      const level = gatewayServiceLevel({ pairs, maintenance, rank });
      if (Array.isArray(expected)) assert.ok(level >= expected[0] && level <= expected[1], String(level));
      else assert.equal(level, expected);
    });
  }

  it('ranks: more data served well is higher; the preferred gateway is higher than its peer in the same state', function () {
    const lvl = (pairs: PairHealth[], rank = 1) => gatewayServiceLevel({ pairs, maintenance: false, rank });
    assert.ok(lvl([healthy, standby]) > lvl([standby, standby]));
    assert.ok(lvl([standby, standby]) > lvl([healthy, none]));
    assert.ok(lvl([standby], 1) > lvl([standby], 2));
    assert.ok(lvl([healthy], 2) > lvl([standby], 1), 'a healthy backup gateway outranks a degraded preferred one');
    assert.deepEqual([0, 1, 150, 255].map(serviceLevelClass), ['maintenance', 'no data', 'degraded', 'healthy']);
  });

  it('a pair status reads as serving, preferred and degraded', function () {
    const server = (state: string, conditions: string[] = []) => ({ role: 'primary', state, reason: 'r', since: 0, conditions });
    const status = (active: 'primary' | 'secondary' | null, p = server('healthy'), s = server('healthy')) => ({ pair: 'p', mode: 'hot', control: 'auto', active, servers: { primary: p, secondary: s }, failovers: 0, activeTimeMs: { primary: 0, secondary: 0 } }) as unknown as PairStatus;
    assert.deepEqual(healthOf(status('primary')).preferred, true);
    assert.deepEqual([healthOf(status('secondary')).serving, healthOf(status('secondary')).preferred], [true, false]);
    assert.equal(healthOf(status('primary', server('degraded'))).degraded, true);
    assert.equal(healthOf(status('primary', server('healthy', ['stale counter']))).degraded, true);
    assert.equal(healthOf(status(null)).serving, false);
  });
});

describe('status code of a failed upstream operation', function () {
  it('maps the engine and driver errors to what an OPC UA client expects', function () {
    assert.equal(statusOfError(new NoActiveServerError('x')), 'BadNoCommunication');
    assert.equal(statusOfError(new DriverError('refused', 'BadOutOfRange')), 'BadOutOfRange');
    assert.equal(statusOfError(new Error('write to x refused: BadNotWritable')), 'BadNotWritable');
    assert.equal(statusOfError(new Error('not connected to opc.tcp://x')), 'BadNoCommunication');
    assert.equal(statusOfError(new Error('ping timeout after 500 ms')), 'BadTimeout');
    assert.equal(statusOfError(new Error('write to x: "a" is not a number (Double)')), 'BadTypeMismatch');
    assert.equal(statusOfError(new Error('something else')), 'BadCommunicationError');
  });
});
