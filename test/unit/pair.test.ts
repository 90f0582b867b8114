// The pair state machine with fake drivers and fake time: every transition of MISSION.md's
// failure list, per mode, without waiting for real clocks.
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { NoActiveServerError, type PairOptions, RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, DeliveredChange, RedundancyEvent } from '../../lib/core/types';
import { FakeDriver, counterChange } from '../helpers/fake-driver';

const ITEM = 'ns=1;s=Counter';

interface Rig {
  clock: FakeClock;
  pair: RedundantPair;
  primary: FakeDriver;
  secondary: FakeDriver;
  events: RedundancyEvent[];
  data: DeliveredChange[];
  kinds(): string[];
}

function rig(mode: ConnectionMode, extra: Partial<PairOptions> = {}): Rig {
  const clock = new FakeClock(0);
  const primary = new FakeDriver('opc.tcp://p:4840');
  const secondary = new FakeDriver('opc.tcp://s:4840');
  const pair = new RedundantPair(
    { name: 'pair1', mode, pingIntervalMs: 1000, pingTimeoutMs: 500, autoPromote: true, holdOffMs: 5000, reconnectMinMs: 500, reconnectMaxMs: 4000, clock, ...extra },
    { primary, secondary },
  );
  const events: RedundancyEvent[] = [];
  const data: DeliveredChange[] = [];
  pair.on('event', (e) => events.push(e));
  pair.on('data', (d) => data.push(...d));
  pair.setItems('node1', [{ id: ITEM, samplingIntervalMs: 100 }]);
  return { clock, pair, primary, secondary, events, data, kinds: () => events.map((e) => e.kind) };
}

async function started(r: Rig): Promise<void> {
  r.pair.start();
  await r.clock.advance(10);
}

describe('RedundantPair (core engine, fake time)', () => {
  describe('hot mode', () => {
    it('starts on the primary with both servers reporting', async () => {
      const r = rig('hot');
      await started(r);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.primary.reporting, true);
      assert.equal(r.secondary.reporting, true);
      assert.equal(r.pair.health('primary').state, 'healthy');
      assert.equal(r.pair.health('secondary').state, 'healthy');
      r.primary.emit([counterChange(ITEM, 1)]);
      r.secondary.emit([counterChange(ITEM, 1)]);
      assert.deepEqual(r.data.map((d) => [d.value, d.server]), [[1, 'primary']]);
      await r.pair.stop();
    });

    it('fails over at once on a lost connection and replays the standby without holes or duplicates', async () => {
      const r = rig('hot');
      await started(r);
      for (let n = 1; n <= 5; n++) {
        r.primary.emit([counterChange(ITEM, n)]);
        r.secondary.emit([counterChange(ITEM, n)]);
      }
      // the standby is ahead: 6 and 7 reached it but not the (dying) primary
      r.secondary.emit([counterChange(ITEM, 6)]);
      r.secondary.emit([counterChange(ITEM, 7)]);
      r.primary.drop('socket closed');
      assert.equal(r.pair.getActive(), 'secondary');
      r.secondary.emit([counterChange(ITEM, 8)]);
      assert.deepEqual(r.data.map((d) => d.value), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(r.data.slice(5).map((d) => d.server), ['secondary', 'secondary', 'secondary']);
      const failover = r.events.find((e) => e.kind === 'failover');
      assert.ok(failover);
      assert.equal(failover.from, 'primary');
      assert.equal(failover.to, 'secondary');
      assert.match(failover.reason, /connection lost: socket closed/);
      assert.ok(r.kinds().includes('switch-complete'));
      assert.equal(r.pair.status().failovers, 1);
      await r.pair.stop();
    });

    it('detects a silent primary by ping timeout within interval + timeout', async () => {
      const r = rig('hot', { streamLagMs: 0 });
      await started(r);
      r.primary.pingBehaviour = 'hang';
      await r.clock.advance(1000 + 500 + 1);
      assert.equal(r.pair.getActive(), 'secondary');
      const f = r.events.find((e) => e.kind === 'failover');
      assert.ok(f);
      assert.match(f.reason, /ping timeout/);
      await r.pair.stop();
    });

    it('detects a stalled primary stream from the standby long before a ping times out', async () => {
      const r = rig('hot', { pingIntervalMs: 10_000, pingTimeoutMs: 5_000 });
      await started(r);
      let n = 0;
      // both streams run past the settling time (1 s) before the fault
      for (; n < 12; n++) {
        r.primary.emit([counterChange(ITEM, n)]);
        r.secondary.emit([counterChange(ITEM, n)]);
        await r.clock.advance(100);
      }
      // primary goes silent; secondary keeps going; tolerance = 5 x 100 ms
      for (; n < 19; n++) {
        r.secondary.emit([counterChange(ITEM, n)]);
        await r.clock.advance(100);
      }
      assert.equal(r.pair.getActive(), 'secondary');
      assert.ok(r.kinds().includes('stream-lag'));
      assert.deepEqual(r.data.map((d) => d.value), Array.from({ length: 19 }, (_, i) => i));
      await r.pair.stop();
    });

    it('does not take a start-up gap between the two streams for a stall', async () => {
      const r = rig('hot', { pingIntervalMs: 10_000, pingTimeoutMs: 5_000 });
      await started(r);
      // both send the initial value, then the secondary's publish cycles run 700 ms ahead of the
      // primary's first one (tolerance 500 ms)
      r.primary.emit([counterChange(ITEM, 0)]);
      r.secondary.emit([counterChange(ITEM, 0)]);
      let n = 1;
      for (; n < 8; n++) {
        r.secondary.emit([counterChange(ITEM, n)]);
        await r.clock.advance(100);
      }
      for (; n < 20; n++) {
        r.primary.emit([counterChange(ITEM, n)]);
        r.secondary.emit([counterChange(ITEM, n)]);
        await r.clock.advance(100);
      }
      assert.equal(r.pair.getActive(), 'primary');
      assert.ok(!r.kinds().includes('stream-lag'), r.kinds().join(', '));
      await r.pair.stop();
    });

    it('promotes back to the primary only after the hold-off, and a flapping primary never gets it back', async () => {
      const r = rig('hot');
      await started(r);
      r.primary.drop();
      assert.equal(r.pair.getActive(), 'secondary');
      await r.clock.advance(600); // reconnect after 500 ms back-off
      assert.equal(r.pair.health('primary').state, 'healthy');
      await r.clock.advance(3000);
      assert.equal(r.pair.getActive(), 'secondary', 'hold-off not yet over');
      r.primary.drop(); // flap
      await r.clock.advance(1100);
      assert.equal(r.pair.health('primary').state, 'healthy');
      await r.clock.advance(4000);
      assert.equal(r.pair.getActive(), 'secondary', 'hold-off restarts after a flap');
      await r.clock.advance(1500);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.kinds().filter((k) => k === 'promotion').length, 1);
      assert.equal(r.kinds().filter((k) => k === 'failover').length, 1, 'one failover only: the second loss was of the standby');
      await r.pair.stop();
    });

    it('stays on the secondary without automatic promotion', async () => {
      const r = rig('hot', { autoPromote: false });
      await started(r);
      r.primary.drop();
      await r.clock.advance(60_000);
      assert.equal(r.pair.health('primary').state, 'healthy');
      assert.equal(r.pair.getActive(), 'secondary');
      await r.pair.stop();
    });

    it('reports both down, keeps trying both with back-off, and resumes without a restart', async () => {
      const r = rig('hot');
      await started(r);
      r.primary.connectBehaviour = 'fail';
      r.secondary.connectBehaviour = 'fail';
      r.primary.drop();
      r.secondary.drop();
      assert.equal(r.pair.getActive(), null);
      assert.ok(r.kinds().includes('both-down'));
      const before = r.primary.connects;
      await r.clock.advance(500 + 1000 + 2000 + 4000 + 4000); // 500, 1000, 2000, 4000 (max), 4000
      assert.equal(r.primary.connects - before, 5, 'back-off doubles up to its maximum');
      r.secondary.connectBehaviour = 'ok';
      await r.clock.advance(4000);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.ok(r.kinds().includes('recovered'));
      assert.equal(r.kinds().filter((k) => k === 'both-down').length, 1, 'reported once, not per retry');
      await r.pair.stop();
    });
  });

  describe('event details', () => {
    it('a server back after an outage: the connected event carries the outage, connection-lost the uptime, switch-complete its origin', async () => {
      const r = rig('hot');
      await started(r);
      await r.clock.advance(3000);
      r.primary.connectBehaviour = 'fail';
      r.primary.drop('socket closed');
      const lost = r.events.find((e) => e.kind === 'connection-lost');
      assert.equal(lost?.durationMs, 3010, 'up since the connect at 0 ms: 3010 ms');
      r.secondary.emit([counterChange(ITEM, 1)]);
      const complete = r.events.find((e) => e.kind === 'switch-complete');
      assert.deepEqual([complete?.from, complete?.to], ['primary', 'secondary']);
      await r.clock.advance(1200);
      r.primary.connectBehaviour = 'ok';
      const before = r.events.length;
      await r.clock.advance(4000);
      const back = r.events.slice(before).find((e) => e.kind === 'connected' && e.server === 'primary');
      assert.ok(back, 'the primary reconnected');
      assert.ok(back.durationMs !== undefined && back.durationMs >= 1200 && back.durationMs <= 5200, `outage ${back.durationMs} ms`);
      const first = r.events.find((e) => e.kind === 'connected');
      assert.equal(first?.durationMs, undefined, 'a first connect has no outage');
      await r.pair.stop();
    });
  });

  describe('start-up', () => {
    it('servers that listen only seconds after the pair starts: no failure is reported', async () => {
      const r = rig('hot');
      r.primary.connectBehaviour = 'fail';
      r.secondary.connectBehaviour = 'fail';
      await started(r);
      await r.clock.advance(3000);
      assert.equal(r.pair.getActive(), null);
      r.primary.connectBehaviour = 'ok';
      r.secondary.connectBehaviour = 'ok';
      await r.clock.advance(2000);
      assert.equal(r.pair.getActive(), 'primary');
      assert.deepEqual(r.kinds().filter((k) => ['connect-failed', 'both-down', 'recovered'].includes(k)), []);
      await r.pair.stop();
    });

    it('both servers down at start: reported once the quiet start has run out, not before', async () => {
      const r = rig('hot');
      r.primary.connectBehaviour = 'fail';
      r.secondary.connectBehaviour = 'fail';
      await started(r);
      await r.clock.advance(4900);
      assert.deepEqual(r.kinds().filter((k) => ['connect-failed', 'both-down'].includes(k)), []);
      await r.clock.advance(200);
      assert.deepEqual(r.kinds().filter((k) => ['connect-failed', 'both-down'].includes(k)), ['connect-failed', 'connect-failed', 'both-down']);
      await r.pair.stop();
    });

    it('a refusal at start is reported when the quiet start ends even if the server is being tried again at that moment', async () => {
      const r = rig('hot');
      r.primary.connectBehaviour = 'fail';
      await started(r);
      await r.clock.advance(2000);
      // The next attempt is still running when the quiet start ends (a slow secure connect).
      r.primary.connectBehaviour = 'hang';
      await r.clock.advance(3100);
      assert.equal(r.pair.health('primary').state, 'connecting');
      const refused = r.events.filter((e) => e.kind === 'connect-failed');
      assert.deepEqual(refused.map((e) => [e.server, e.reason]), [['primary', 'cannot connect to opc.tcp://p:4840: ECONNREFUSED']]);
      r.primary.failHungConnect();
      await r.pair.stop();
    });

    it('the primary down at start: the secondary takes over after the grace, the refusal is reported when the quiet start ends', async () => {
      const r = rig('hot');
      r.primary.connectBehaviour = 'fail';
      await started(r);
      await r.clock.advance(1900);
      assert.equal(r.pair.getActive(), null, 'the primary is waited for during the grace');
      assert.match(r.pair.health('primary').reason, /connect failed/, 'the health shows the refusal at once');
      await r.clock.advance(200);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.ok(!r.kinds().includes('connect-failed'));
      await r.clock.advance(3000);
      const refused = r.events.filter((e) => e.kind === 'connect-failed');
      assert.deepEqual(refused.map((e) => e.server), ['primary']);
      assert.ok(!r.kinds().includes('both-down'));
      await r.pair.stop();
    });
  });

  describe('warm mode', () => {
    it('reports on the active server only and enables the standby at failover', async () => {
      const r = rig('warm');
      await started(r);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.primary.reporting, true);
      assert.equal(r.secondary.reporting, false);
      assert.equal(r.secondary.items.length, 1, 'items exist on the standby');
      r.primary.emit([counterChange(ITEM, 1)]);
      r.primary.drop();
      await r.clock.advance(1);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.equal(r.secondary.reporting, true);
      r.secondary.emit([counterChange(ITEM, 1), counterChange(ITEM, 2)]);
      assert.deepEqual(r.data.map((d) => d.value), [1, 2], 'the initial value already delivered is not repeated');
      // primary back: created with reporting off, then promoted after the hold-off
      await r.clock.advance(600);
      assert.equal(r.primary.reporting, false);
      await r.clock.advance(5000);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.primary.reporting, true);
      assert.equal(r.secondary.reporting, false);
      await r.pair.stop();
    });
  });

  describe('cold mode', () => {
    it('connects the active server only and ping-pongs until one answers', async () => {
      const r = rig('cold');
      await started(r);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.secondary.connects, 0);
      assert.equal(r.pair.health('secondary').state, 'idle');
      r.secondary.connectBehaviour = 'fail';
      r.primary.connectBehaviour = 'fail';
      r.primary.drop();
      await r.clock.advance(1);
      assert.equal(r.secondary.connects, 1, 'the secondary is tried at once');
      await r.clock.advance(3000);
      assert.ok(r.primary.connects >= 2, 'then the primary again');
      assert.ok(r.secondary.connects >= 2, 'and so on');
      assert.equal(r.pair.getActive(), null);
      r.secondary.connectBehaviour = 'ok';
      await r.clock.advance(5000);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.equal(r.primary.connected, false, 'one connection at a time');
      await r.pair.stop();
    });

    it('fails over to the secondary, probes the primary and promotes make-before-break', async () => {
      const r = rig('cold', { probeIntervalMs: 1000 });
      await started(r);
      r.primary.connectBehaviour = 'fail';
      r.primary.drop();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.equal(r.secondary.reporting, true);
      assert.equal(r.pair.status().failovers, 1);
      r.primary.connectBehaviour = 'ok';
      await r.clock.advance(4000);
      assert.equal(r.pair.getActive(), 'secondary', 'hold-off');
      await r.clock.advance(3000);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.secondary.connected, false);
      assert.equal(r.pair.health('secondary').state, 'idle');
      assert.equal(r.kinds().filter((k) => k === 'promotion').length, 1);
      await r.pair.stop();
    });
  });

  describe('ServiceLevel', () => {
    it('leaves a degraded server for a healthy one, never a healthy one for its level alone', async () => {
      const r = rig('hot');
      await started(r);
      r.primary.serviceLevel = 220;
      r.secondary.serviceLevel = 255;
      await r.clock.advance(1000);
      assert.equal(r.pair.getActive(), 'primary');
      r.primary.serviceLevel = 150;
      await r.clock.advance(1000);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.match(r.events.find((e) => e.kind === 'failover')?.reason ?? '', /ServiceLevel 150/);
      await r.pair.stop();
    });

    it('treats 0 and 1 as unusable and stays on a degraded primary when the secondary is no better', async () => {
      const r = rig('hot');
      r.secondary.serviceLevel = 120;
      await started(r);
      r.primary.serviceLevel = 100;
      await r.clock.advance(1000);
      assert.equal(r.pair.getActive(), 'primary');
      r.primary.serviceLevel = 1;
      await r.clock.advance(1000);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.equal(r.pair.health('primary').state, 'down');
      await r.pair.stop();
    });
  });

  describe('manual control and writes', () => {
    it('forces a server and returns to automatic', async () => {
      const r = rig('hot');
      await started(r);
      r.pair.setControl('force-secondary');
      assert.equal(r.pair.getActive(), 'secondary');
      await r.clock.advance(60_000);
      assert.equal(r.pair.getActive(), 'secondary', 'no promotion while forced');
      r.pair.setControl('auto');
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'primary', 'primary healthy for longer than the hold-off');
      assert.equal(r.kinds().filter((k) => k === 'manual-switch').length, 2);
      await r.pair.stop();
    });

    it('hands over in cold mode when forced, without a gap', async () => {
      const r = rig('cold');
      await started(r);
      r.pair.setControl('force-secondary');
      assert.equal(r.pair.getActive(), 'primary', 'the primary serves until the secondary is ready');
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.equal(r.primary.connected, false);
      await r.pair.stop();
    });

    it('writes to the active server only, and rejects clearly when none is active', async () => {
      const r = rig('hot');
      await started(r);
      assert.equal(await r.pair.write(ITEM, 5), 'primary');
      r.primary.drop();
      assert.equal(await r.pair.write(ITEM, 6), 'secondary');
      assert.deepEqual(r.primary.writes, [{ item: ITEM, value: 5 }]);
      assert.deepEqual(r.secondary.writes, [{ item: ITEM, value: 6 }]);
      assert.ok(r.kinds().includes('write-redirected'));
      r.secondary.connectBehaviour = 'fail';
      r.primary.connectBehaviour = 'fail';
      r.secondary.drop();
      await assert.rejects(r.pair.write(ITEM, 7), (err: Error) => err instanceof NoActiveServerError && /no active server/.test(err.message));
      assert.ok(r.kinds().includes('write-rejected'));
      await r.pair.stop();
    });
  });

  describe('conditions and items', () => {
    it('fails over on a condition, but never to a server on which it also holds', async () => {
      const r = rig('hot');
      await started(r);
      r.pair.setConditions('c1', 'secondary', [{ name: 'stale', reason: 'Counter not updating' }]);
      r.pair.setConditions('c1', 'primary', [{ name: 'stale', reason: 'Counter not updating' }]);
      assert.equal(r.pair.getActive(), 'primary', 'both bad: stay');
      assert.equal(r.kinds().filter((k) => k === 'both-bad').length, 1);
      r.pair.setConditions('c1', 'secondary', []);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.match(r.events.find((e) => e.kind === 'failover')?.reason ?? '', /failover condition/);
      await r.pair.stop();
    });

    it('keeps conditions of several owners apart and honours the anti-flap interval', async () => {
      const r = rig('hot');
      await started(r);
      r.pair.setConditionSwitchInterval(10_000);
      r.pair.setConditions('c1', 'primary', [{ name: 'stale', reason: 'stale' }]);
      r.pair.setConditions('c2', 'primary', []);
      assert.equal(r.pair.getActive(), 'secondary', 'c2 clearing does not clear c1');
      r.pair.setConditions('c1', 'primary', []);
      await r.clock.advance(6000); // promotion back after the hold-off
      assert.equal(r.pair.getActive(), 'primary');
      r.pair.setConditions('c2', 'primary', [{ name: 'value', reason: 'fault bit' }]);
      assert.equal(r.pair.getActive(), 'primary', 'anti-flap: too soon after the last condition switch');
      await r.clock.advance(4100);
      assert.equal(r.pair.getActive(), 'secondary');
      r.pair.clearConditions('c2');
      assert.equal(r.pair.health('primary').conditions.length, 0);
      await r.pair.stop();
    });

    it('cold mode tries the unconnected standby on a condition, but not back and forth', async () => {
      const r = rig('cold', { autoPromote: false });
      await started(r);
      r.pair.setConditions('c1', 'primary', [{ name: 'stale', reason: 'stale' }]);
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      r.pair.setConditions('c1', 'secondary', [{ name: 'stale', reason: 'stale' }]);
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary', 'the primary was left for the same condition: both bad');
      assert.ok(r.kinds().includes('both-bad'));
      await r.pair.stop();
    });

    it('reports refused items and shares one monitored item among owners', async () => {
      const r = rig('hot');
      r.primary.refused.add('ns=1;s=Nope');
      const refused: string[] = [];
      r.pair.on('item-errors', (_role, errors) => refused.push(...errors.map((e) => e.id)));
      r.pair.setItems('node2', [{ id: ITEM, samplingIntervalMs: 50 }, { id: 'ns=1;s=Nope', samplingIntervalMs: 100 }]);
      await started(r);
      assert.deepEqual(refused, ['ns=1;s=Nope']);
      assert.deepEqual(r.pair.currentItems(), [{ id: ITEM, samplingIntervalMs: 50 }, { id: 'ns=1;s=Nope', samplingIntervalMs: 100 }]);
      r.pair.removeItems('node2');
      assert.deepEqual(r.pair.currentItems(), [{ id: ITEM, samplingIntervalMs: 100 }]);
      await r.pair.stop();
    });
    it('keeps each channel\'s refused items: late errors, recovery, a new connection, removed items (the source node\'s status)', async () => {
      const r = rig('hot');
      const BAD = 'HR5000';
      const seen: Array<[string, string[], string[]]> = [];
      r.pair.on('item-errors', (role, errors, recovered) => seen.push([role, errors.map((e) => e.id), recovered]));
      r.secondary.refused.add(BAD);
      r.pair.setItems('node2', [{ id: BAD, samplingIntervalMs: 100 }, { id: 'HR7', samplingIntervalMs: 100 }]);
      await started(r);
      assert.deepEqual(r.pair.refusedItems('secondary').map((e) => e.id), [BAD], 'refused at creation');
      assert.deepEqual(r.pair.refusedItems(), [], 'the active channel (primary) refuses none');
      // An illegal address shows at the first poll of the primary, and works again later.
      r.primary.listener?.itemErrors([{ id: 'HR7', error: 'Modbus exception 2 (illegal data address)', statusCode: 'BadOutOfRange' }], []);
      assert.deepEqual(r.pair.refusedItems().map((e) => [e.id, e.statusCode]), [['HR7', 'BadOutOfRange']]);
      r.primary.listener?.itemErrors([], ['HR7']);
      assert.deepEqual(r.pair.refusedItems(), []);
      assert.deepEqual(seen.slice(-2), [['primary', ['HR7'], []], ['primary', [], ['HR7']]]);
      // A new connection creates the items afresh: what it refused is forgotten until refused again.
      r.secondary.refused.clear();
      r.secondary.drop('socket closed');
      await r.clock.advance(600);
      assert.equal(r.pair.isConnected('secondary'), true);
      assert.deepEqual(r.pair.refusedItems('secondary'), []);
      assert.deepEqual(seen.find((x) => x[0] === 'secondary' && x[2].length > 0), ['secondary', [], [BAD]]);
      // Removed items are no longer reported as refused.
      r.primary.listener?.itemErrors([{ id: BAD, error: 'Modbus exception 2 (illegal data address)', statusCode: 'BadOutOfRange' }], []);
      assert.equal(r.pair.refusedItems('primary').length, 1);
      r.pair.removeItems('node2');
      assert.deepEqual(r.pair.refusedItems('primary'), []);
      await r.pair.stop();
    });
    it('an item refused after its creation is created again when its sampling changes (its refusal forgotten until reported again)', async () => {
      const r = rig('hot');
      const seen: Array<[string, string[], string[]]> = [];
      r.pair.on('item-errors', (role, errors, recovered) => seen.push([role, errors.map((e) => e.id), recovered]));
      r.pair.setItems('node2', [{ id: 'HR7', samplingIntervalMs: 100 }]);
      await started(r);
      r.primary.listener?.itemErrors([{ id: 'HR7', error: 'Modbus exception 2 (illegal data address)', statusCode: 'BadOutOfRange' }], []);
      assert.deepEqual(r.pair.refusedItems('primary').map((e) => e.id), ['HR7']);
      r.primary.calls.length = 0;
      r.pair.setItems('node2', [{ id: 'HR7', samplingIntervalMs: 50 }]);
      await r.clock.advance(10);
      assert.deepEqual(r.primary.calls, ['removeItems:HR7', 'addItems:HR7:reporting'], 'removed and created again with the new sampling');
      assert.deepEqual(r.pair.refusedItems('primary'), []);
      assert.deepEqual(seen.at(-1), ['primary', [], ['HR7']]);
      await r.pair.stop();
    });
  });

  describe('N channels', () => {
    function rig3(mode: ConnectionMode, extra: Partial<PairOptions> = {}) {
      const clock = new FakeClock(0);
      const d = [new FakeDriver('opc.tcp://a:4840'), new FakeDriver('opc.tcp://b:4840'), new FakeDriver('opc.tcp://c:4840')];
      const pair = new RedundantPair(
        { name: 'pair3', mode, pingIntervalMs: 1000, pingTimeoutMs: 500, autoPromote: true, holdOffMs: 5000, reconnectMinMs: 500, reconnectMaxMs: 2000, clock, ...extra },
        [{ name: 'primary', driver: d[0] }, { name: 'secondary', driver: d[1] }, { name: 'tertiary', driver: d[2] }],
      );
      const events: RedundancyEvent[] = [];
      pair.on('event', (e) => events.push(e));
      pair.setItems('n', [{ id: ITEM, samplingIntervalMs: 100 }]);
      return { clock, pair, d, events };
    }

    it('hot: channel 0 crashes, channel 1 goes silent: ends on channel 2, returns in order', async () => {
      const r = rig3('hot');
      r.pair.start();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'primary');
      r.d[0].connectBehaviour = 'fail';
      r.d[0].drop();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      r.d[1].pingBehaviour = 'hang';
      await r.clock.advance(1600);
      assert.equal(r.pair.getActive(), 'tertiary');
      assert.equal(r.pair.status().activeIndex, 2);
      // Channel 1 back first: promoted to after the hold-off, then channel 0.
      r.d[1].pingBehaviour = 'ok';
      await r.clock.advance(3000);
      assert.equal(r.pair.health('secondary').state, 'healthy');
      await r.clock.advance(5100);
      assert.equal(r.pair.getActive(), 'secondary');
      r.d[0].connectBehaviour = 'ok';
      await r.clock.advance(2100);
      assert.equal(r.pair.health('primary').state, 'healthy');
      await r.clock.advance(5100);
      assert.equal(r.pair.getActive(), 'primary');
      const switches = r.events.filter((e) => e.kind === 'failover' || e.kind === 'promotion').map((e) => `${e.kind}:${e.from}→${e.to}`);
      assert.deepEqual(switches, ['failover:primary→secondary', 'failover:secondary→tertiary', 'promotion:tertiary→secondary', 'promotion:secondary→primary']);
      await r.pair.stop();
    });

    it('cold: tries the channels in turn, pins any channel by name or index', async () => {
      const r = rig3('cold');
      r.pair.start();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'primary');
      assert.deepEqual(r.d.map((x) => x.connects), [1, 0, 0]);
      r.d[0].connectBehaviour = 'fail';
      r.d[1].connectBehaviour = 'fail';
      r.d[0].drop();
      await r.clock.advance(3000);
      assert.equal(r.pair.getActive(), 'tertiary', 'the third channel answers');
      assert.ok(r.d[1].connects >= 1);
      assert.deepEqual(r.d.map((x) => x.connected), [false, false, true], 'one connection at a time');
      r.d[1].connectBehaviour = 'ok';
      r.pair.setControl('force-secondary');
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      r.pair.setControl('force-channel-2');
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'tertiary');
      assert.equal(r.pair.getControl(), 'force-channel-2');
      r.pair.setControl('force-secondary');
      await r.clock.advance(10);
      r.pair.setControl('force-tertiary');
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'tertiary');
      assert.throws(() => r.pair.setControl('force-nowhere'), /unknown switch control "force-nowhere"/);
      await r.pair.stop();
    });
  });

  describe('warm mode with standby sampling', () => {
    it('the standby samples into a queue; a silent primary loses nothing: the queue is flushed and aligned', async () => {
      const r = rig('warm', { standbySampling: true, streamLagMs: 0 });
      r.primary.serverTime = () => r.clock.now();
      r.secondary.serverTime = () => r.clock.now() + 5000;
      await started(r);
      assert.equal(r.secondary.state, 'sampling');
      assert.equal(r.primary.state, 'reporting');
      let n = 1;
      const tick = async (primaryToo: boolean) => {
        await r.clock.advance(100);
        // the secondary's clock runs 5 s ahead of the primary's
        if (primaryToo) r.primary.emit([counterChange(ITEM, n, 100, 0, 3)]);
        r.secondary.emit([counterChange(ITEM, n, 100, 5000, 41)]);
        n++;
      };
      for (let k = 0; k < 10; k++) await tick(true);
      r.primary.pingBehaviour = 'hang';
      for (let k = 0; k < 16; k++) await tick(false);
      assert.equal(r.pair.getActive(), 'secondary', 'the ping timeout gave the primary up');
      for (let k = 0; k < 5; k++) await tick(false);
      const values = r.data.map((d) => d.value as number);
      assert.deepEqual(values, Array.from({ length: values.length }, (_, i) => i + 1), `every value once: ${values.join(' ')}`);
      assert.equal(values[values.length - 1], n - 1);
      await r.pair.stop();
    });
  });

  describe('tolerances from what the server granted', () => {
    it('a server that publishes slower than asked does not look stalled', async () => {
      const r = rig('hot');
      // Like an open62541 server raising a requested 50 ms publishing interval: here to 800 ms.
      for (const d of [r.primary, r.secondary]) {
        const add = d.addItems.bind(d);
        d.addItems = async (items, state) => ({ ...(await add(items, state)), publishingIntervalMs: 800 });
      }
      await started(r);
      // The primary's changes arrive up to a publishing interval later than the secondary's.
      for (let n = 1; n <= 40; n++) {
        await r.clock.advance(100);
        r.secondary.emit([counterChange(ITEM, n, 100, 0, 0)]);
        if (n % 8 === 0) r.primary.emit(Array.from({ length: 8 }, (_, k) => counterChange(ITEM, n - 7 + k)));
      }
      assert.equal(r.pair.getActive(), 'primary', `no stream-lag failover: ${r.kinds().join(', ')}`);
      assert.ok(!r.kinds().includes('stream-lag'));
      await r.pair.stop();
    });
  });

  describe('a robust engine', () => {
    it('a listener that throws is logged, and the pair carries on connecting, pinging and failing over', async () => {
      const logged: string[] = [];
      const r = rig('hot', { log: (t) => logged.push(t) });
      r.pair.on('event', () => {
        throw new Error('a broken flow node');
      });
      r.pair.on('status', () => {
        throw new Error('another one');
      });
      await started(r);
      assert.equal(r.pair.getActive(), 'primary');
      assert.equal(r.pair.health('primary').state, 'healthy');
      r.primary.drop();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      assert.ok(r.kinds().includes('failover'), 'the other listeners still hear everything');
      assert.equal(logged.length, 2, `each broken listener logged once: ${logged.join(' | ')}`);
      assert.match(logged[0], /listener of "event" failed: a broken flow node/);
      await r.pair.stop();
    });

    it('a force to the primary during a cold probe never runs two connects on one driver', async () => {
      const r = rig('cold', { probeIntervalMs: 1000 });
      await started(r);
      r.primary.connectBehaviour = 'fail';
      r.primary.drop();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'secondary');
      r.primary.connectBehaviour = 'hang';
      await r.clock.advance(1000); // the probe starts its connect, which hangs
      const before = r.primary.connects;
      r.pair.setControl('force-primary');
      await r.clock.advance(10);
      assert.equal(r.primary.connects, before, 'the forced connect waits for the probe in the driver queue');
      r.primary.connectBehaviour = 'ok';
      await r.clock.advance(8000); // the probe times out, then the forced connect runs
      assert.equal(r.pair.getActive(), 'primary');
      await r.pair.stop();
    });

    it('an item set changes incrementally: one owner leaving removes only its items', async () => {
      const r = rig('hot');
      r.pair.setItems('other', [{ id: 'ns=1;s=Other', samplingIntervalMs: 100 }]);
      await started(r);
      r.primary.calls.length = 0;
      r.pair.setItems('third', [{ id: 'ns=1;s=Third', samplingIntervalMs: 100 }]);
      await r.clock.advance(10);
      r.pair.removeItems('other');
      await r.clock.advance(10);
      assert.deepEqual(r.primary.calls, ['addItems:ns=1;s=Third:reporting', 'removeItems:ns=1;s=Other']);
      assert.deepEqual(r.primary.items.map((i) => i.id).sort(), [ITEM, 'ns=1;s=Third']);
      await r.pair.stop();
    });

    it('a pair without users holds no connections, and comes back when asked', async () => {
      const r = rig('hot');
      await started(r);
      r.pair.suspend();
      await r.clock.advance(10);
      assert.deepEqual([r.primary.connected, r.secondary.connected], [false, false]);
      assert.equal(r.pair.getActive(), null);
      assert.equal(r.clock.pendingTimers(), 0, 'no timer left while suspended');
      r.pair.start();
      await r.clock.advance(10);
      assert.equal(r.pair.getActive(), 'primary');
      await r.pair.stop();
    });
  });

  it('releases every timer and connection on stop', async () => {
    for (const mode of ['cold', 'warm', 'hot'] as const) {
      const r = rig(mode);
      await started(r);
      r.primary.connectBehaviour = 'fail';
      r.primary.drop();
      await r.clock.advance(100);
      await r.pair.stop();
      assert.equal(r.clock.pendingTimers(), 0, `${mode}: no timer left`);
      assert.equal(r.primary.connected || r.secondary.connected, false, `${mode}: nothing connected`);
    }
  });

  it('rejects a bad configuration with a clear message', () => {
    assert.throws(
      () => new RedundantPair({ name: 'x', mode: 'lukewarm' as ConnectionMode, pingIntervalMs: NaN, pingTimeoutMs: 500, autoPromote: true, holdOffMs: 0 }, { primary: new FakeDriver('a'), secondary: new FakeDriver('b') }),
      /mode must be cold, warm or hot.*ping interval must be a number/,
    );
  });
});
