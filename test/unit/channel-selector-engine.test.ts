// The channel selector engine with fake time: channel health (freshness, errors, quality), selection
// in use (start-up wait, failover, return after the hold-off or stay, pinned, all down), data
// forwarding, write routing and the IO device redundancy guard (held, released to a master,
// rejected, never to a slave), events and status texts, and the configuration's checks.
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { ChannelSelectorEngine, type SelectorStatus } from '../../lib/core/channel-selector/engine';
import { ChannelHealth, MAX_ITEMS } from '../../lib/core/channel-selector/health';
import { type SelectorDef, parseSelectorConfig } from '../../lib/core/channel-selector/config';
import { selectorStatusText } from '../../lib/core/channel-selector/status-text';
import type { RedundancyEvent } from '../../lib/core/types';

type Msg = Record<string, unknown>;

interface Rig {
  clock: FakeClock;
  engine: ChannelSelectorEngine;
  data: Msg[];
  writes: Array<{ channel: string; msg: Msg }>;
  events: RedundancyEvent[];
  statuses: SelectorStatus[];
  kinds(): string[];
  /** A message from channel `ch` (topic ch/item). */
  feed(ch: string, payload: unknown, item?: string, extra?: Msg): ReturnType<ChannelSelectorEngine['input']>;
}

const TWO: SelectorDef = {
  channels: [
    { name: 'A', by: 'topic', pattern: 'A/*', staleMs: 1000 },
    { name: 'B', by: 'topic', pattern: 'B/*', staleMs: 1000 },
  ],
  holdOff: 3000,
};

function guarded(extra: SelectorDef = {}): SelectorDef {
  return {
    channels: [
      { name: 'A', by: 'topic', pattern: 'A/*', staleMs: 1000, master: { by: 'topic', pattern: 'A/status', path: 'payload[0]', test: 'eq', value: '1' } },
      { name: 'B', by: 'topic', pattern: 'B/*', staleMs: 1000, master: { by: 'topic', pattern: 'B/status', path: 'payload[0]', test: 'eq', value: '1' } },
    ],
    guard: true,
    holdOff: 3000,
    holdWrites: 2000,
    ...extra,
  };
}

function rig(def: SelectorDef, start = true): Rig {
  const { config, problems } = parseSelectorConfig(def);
  assert.deepEqual(problems, []);
  const clock = new FakeClock(0);
  const data: Msg[] = [];
  const writes: Array<{ channel: string; msg: Msg }> = [];
  const events: RedundancyEvent[] = [];
  const statuses: SelectorStatus[] = [];
  const engine = new ChannelSelectorEngine('sel', config, clock, {
    data: (m) => data.push({ ...m }),
    write: (m, c) => writes.push({ channel: c.name, msg: { ...m } }),
    event: (e) => events.push(e),
    status: (s) => statuses.push(s),
  });
  if (start) engine.start();
  return {
    clock,
    engine,
    data,
    writes,
    events,
    statuses,
    kinds: () => events.map((e) => e.kind),
    feed: (ch, payload, item = 'v', extra = {}) => engine.input({ topic: `${ch}/${item}`, payload, ...extra }),
  };
}

/** Both channels reporting every 100 ms for `ms` (A's counter in the payload). */
async function run(r: Rig, ms: number, which: string[] = ['A', 'B'], extra: (ch: string) => Msg = () => ({})): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    for (const ch of which) r.feed(ch, r.clock.now(), 'v', extra(ch));
    await r.clock.advance(100);
  }
}

describe('channel selector engine (fake time)', () => {
  describe('health and selection', () => {
    it('forwards the preferred channel, with the item part as topic and msg.channel', async () => {
      const r = rig(TWO);
      r.feed('A', 1, 'level');
      r.feed('B', 1, 'level');
      assert.deepEqual(r.data, [{ topic: 'level', payload: 1, channel: 'A' }]);
      assert.equal(r.engine.getActive(), 'A');
      assert.deepEqual(r.events, [], 'no event for the start');
    });

    it('waits at start for the preferred channel, but not longer than its grace (freshness, at least 3 s)', async () => {
      const r = rig(TWO);
      r.feed('B', 1);
      assert.equal(r.engine.getActive(), null);
      assert.equal(r.data.length, 0);
      assert.match(selectorStatusText(r.engine.status()).text, /waiting for A/);
      await r.clock.advance(500);
      r.feed('A', 2);
      assert.equal(r.engine.getActive(), 'A');
      assert.deepEqual(r.data.map((m) => m.payload), [2]);

      const r2 = rig(TWO);
      await run(r2, 2900, ['B']);
      assert.equal(r2.engine.getActive(), null);
      await run(r2, 200, ['B']);
      assert.equal(r2.engine.getActive(), 'B', 'A never reported within 3 s: B');
      assert.match(r2.events.find((e) => e.kind === 'channel-down')?.reason ?? '', /^A: no data since start \(waited 3\.0 s\)$/);

      const r3 = rig({ channels: [{ name: 'A', by: 'topic', pattern: 'A/*', staleMs: 5000 }, { name: 'B', by: 'topic', pattern: 'B/*', staleMs: 5000 }] });
      await run(r3, 4900, ['B']);
      assert.equal(r3.engine.getActive(), null, 'a freshness longer than 3 s is the wait');
      await run(r3, 200, ['B']);
      assert.equal(r3.engine.getActive(), 'B');
      assert.ok(r2.kinds().includes('channel-down'), 'A reported down (nothing since start)');
      assert.match(r2.events.find((e) => e.kind === 'channel-down')?.reason ?? '', /A: no data since start/);
    });

    it('stale preferred channel: failover at its freshness, return after the hold-off, events with reasons', async () => {
      const r = rig(TWO);
      await run(r, 1000);
      await run(r, 800, ['B']);
      assert.equal(r.engine.getActive(), 'A', 'A is not stale yet');
      await run(r, 200, ['B']);
      assert.equal(r.engine.getActive(), 'B');
      const fo = r.events.find((e) => e.kind === 'failover');
      assert.ok(fo);
      assert.equal(fo.from, 'A');
      assert.equal(fo.to, 'B');
      assert.equal(fo.pair, 'sel');
      assert.equal(fo.severity, 'error');
      assert.equal(fo.reason, 'A: no data for 1.0 s');
      assert.equal(fo.detectMs, 1000);
      assert.deepEqual(r.kinds().slice(0, 3), ['channel-down', 'failover', 'switch-complete']);
      assert.equal(r.events.find((e) => e.kind === 'switch-complete')?.durationMs, 0);
      // B's data flows; A's would not.
      const before = r.data.length;
      r.feed('A', 'late');
      assert.equal(r.engine.getActive(), 'B', 'one message does not bring A back before the hold-off');
      assert.equal(r.data.length, before);
      // A is back; return 3 s after it is healthy again.
      await run(r, 2900);
      assert.equal(r.engine.getActive(), 'B');
      await run(r, 200);
      assert.equal(r.engine.getActive(), 'A');
      const up = r.events.find((e) => e.kind === 'channel-up');
      assert.match(up?.reason ?? '', /^A: data again after/);
      const promo = r.events.find((e) => e.kind === 'promotion');
      assert.equal(promo?.reason, 'A has been healthy for 3000 ms');
      assert.equal(promo?.severity, 'warning');
      // No value lost at the switches: every 100 ms tick delivered exactly once from one channel.
      const times = r.data.map((m) => m.payload as number);
      assert.equal(new Set(times).size, times.length, 'no duplicates');
    });

    it('stay mode: does not return while the current channel works', async () => {
      const r = rig({ ...TWO, returnMode: 'stay' });
      await run(r, 500);
      await run(r, 1100, ['B']);
      assert.equal(r.engine.getActive(), 'B');
      await run(r, 10_000);
      assert.equal(r.engine.getActive(), 'B');
      assert.ok(!r.kinds().includes('promotion'));
      assert.match(selectorStatusText(r.engine.status()).text, /^B: staying \(A healthy\)$/);
      // B fails: back to A at once.
      await run(r, 1100, ['A']);
      assert.equal(r.engine.getActive(), 'A');
    });

    it('msg.error on the active channel: failover at once, without waiting for freshness', async () => {
      const r = rig(TWO);
      await run(r, 300);
      r.feed('A', '', 'v', { error: new Error('Timed out') });
      assert.equal(r.engine.getActive(), 'B');
      const fo = r.events.find((e) => e.kind === 'failover');
      assert.equal(fo?.reason, 'A: A/v: error: Timed out');
      // A's next good message makes it healthy again (then the hold-off).
      r.feed('A', 5);
      assert.equal(r.engine.status().channels[0].state, 'healthy');
    });

    it('one bad item of several: degraded, left for a healthy channel, kept when the other has it too', async () => {
      const r = rig(TWO);
      r.feed('A', 1, 'level');
      r.feed('A', 1, 'flow');
      r.feed('B', 1, 'level');
      r.feed('B', 1, 'flow');
      r.feed('A', null, 'flow', { quality: 'bad', statusCode: 'BadSensorFailure' });
      assert.equal(r.engine.getActive(), 'B');
      assert.equal(r.engine.status().channels[0].state, 'degraded');
      assert.equal(r.engine.status().channels[0].reason, 'A/flow: quality BadSensorFailure (1 of 2 items)');
      assert.ok(r.kinds().includes('degraded'));
      r.feed('B', null, 'flow', { statusCode: { name: 'BadSensorFailure', value: 0x808f0000 } });
      assert.equal(r.engine.getActive(), 'B', 'both degraded: no switch');
      r.feed('A', 2, 'flow', { quality: 'good' });
      assert.equal(r.engine.getActive(), 'A', 'A healthy, B degraded: to A');
      assert.ok(r.kinds().includes('restored'));
    });

    it('every item bad: down', async () => {
      const r = rig(TWO);
      r.feed('A', 1);
      r.feed('B', 1);
      r.feed('A', null, 'v', { statusCode: 0x80050000 });
      assert.equal(r.engine.status().channels[0].state, 'down');
      assert.equal(r.engine.getActive(), 'B');
    });

    it('all channels down, then one back: all-down once, recovered at once, values continue', async () => {
      const r = rig(TWO);
      await run(r, 500);
      await r.clock.advance(1100);
      assert.equal(r.engine.getActive(), null);
      assert.equal(r.kinds().filter((k) => k === 'all-down').length, 1);
      assert.match(selectorStatusText(r.engine.status()).text, /^no channel: A no data for 1.0 s; B no data for 1.0 s/);
      assert.equal(selectorStatusText(r.engine.status()).fill, 'red');
      await run(r, 300, ['B']);
      assert.equal(r.engine.getActive(), 'B');
      assert.ok(r.kinds().includes('recovered'));
      assert.equal(r.data.at(-1)?.channel, 'B');
    });

    it('three channels: the first fails, then the second: ends on the third, returns in order', async () => {
      const r = rig({ channels: [...(TWO.channels as object[]), { name: 'C', by: 'topic', pattern: 'C/*', staleMs: 1000 }], holdOff: 2000 });
      await run(r, 500, ['A', 'B', 'C']);
      await run(r, 1100, ['B', 'C']);
      assert.equal(r.engine.getActive(), 'B');
      await run(r, 1100, ['C']);
      assert.equal(r.engine.getActive(), 'C');
      await run(r, 2100, ['B', 'C']);
      assert.equal(r.engine.getActive(), 'B');
      await run(r, 2100, ['A', 'B', 'C']);
      assert.equal(r.engine.getActive(), 'A');
      assert.deepEqual(r.events.filter((e) => e.kind === 'failover' || e.kind === 'promotion').map((e) => `${e.kind} ${e.from}>${e.to}`), ['failover A>B', 'failover B>C', 'promotion C>B', 'promotion B>A']);
    });

    it('remembers a bounded number of items per channel', () => {
      const { config } = parseSelectorConfig(TWO);
      const h = new ChannelHealth(config.channels[0], 0);
      const good = { quality: 'good' as const, reason: '', error: false };
      h.observe('first', { quality: 'bad', reason: 'quality bad', error: false }, 0);
      for (let i = 0; i < MAX_ITEMS; i++) h.observe(`t${i}`, good, 1);
      assert.equal(h.itemStates().length, MAX_ITEMS);
      assert.ok(!h.itemStates().some((s) => s.item === 'first'), 'the oldest item forgotten');
      assert.equal(h.judge(2).cls, 'healthy');
    });

    it('freshness 0: never stale (data on change)', async () => {
      const r = rig({ channels: [{ name: 'A', by: 'channel', staleMs: 0 }, { name: 'B', by: 'channel', staleMs: 0 }] });
      r.engine.input({ channel: 'A', payload: 1 });
      await r.clock.advance(60_000);
      assert.equal(r.engine.getActive(), 'A');
      assert.equal(r.clock.pendingTimers(), 0, 'nothing to wake up for');
      r.engine.input({ channel: 1, payload: 2 });
      assert.equal(r.data.length, 1, 'B by its index, not forwarded');
    });
  });

  describe('control', () => {
    it('pin, auto, disable, enable, and errors that say what is possible', async () => {
      const r = rig(TWO);
      await run(r, 300);
      assert.equal(r.engine.control('B'), 'pinned to B');
      assert.equal(r.engine.getActive(), 'B');
      const ms = r.events.find((e) => e.kind === 'manual-switch');
      assert.equal(ms?.reason, 'pinned to B (control message)');
      assert.equal(selectorStatusText(r.engine.status()).text, 'B pinned');
      // Pinned means pinned: B goes down, nothing is active (A is not taken), until B is back.
      await run(r, 1500, ['A']);
      assert.equal(r.engine.getActive(), null);
      assert.match(selectorStatusText(r.engine.status()).text, /^B pinned, down: no data for 1.0 s/);
      assert.equal(r.events.filter((e) => e.kind === 'manual-switch').at(-1)?.reason, 'forced to the B, which is unusable: no data for 1.0 s');
      const w = r.engine.input({ write: true, payload: 1 });
      assert.ok(w.kind === 'write' && w.held, 'a write waits for the pinned channel');
      r.feed('B', 1);
      assert.equal(r.engine.getActive(), 'B');
      assert.deepEqual(r.writes.map((x) => x.channel), ['B']);
      assert.equal(r.engine.control('auto'), 'automatic (was pinned to B)');
      assert.equal(r.engine.getActive(), 'B', 'automatic: B works, A is returned to after its hold-off');
      await run(r, 1300);
      assert.equal(r.engine.getActive(), 'A');
      assert.equal(r.events.at(-2)?.kind, 'promotion');
      assert.equal(r.engine.input({ topic: 'control', payload: { disable: 'A' } }).kind, 'control');
      assert.equal(r.engine.getActive(), 'B');
      assert.throws(() => r.engine.control({ pin: 'A' }), /channel A is disabled: send \{"enable": "A"\} first/);
      r.engine.control({ enable: 0 });
      await run(r, 3100);
      assert.equal(r.engine.getActive(), 'A', 'enabled again, returned after the hold-off');
      assert.throws(() => r.engine.control('Z'), /unknown channel "Z" \(channels: 0 A, 1 B\)/);
      assert.throws(() => r.engine.control({ foo: 1 }), /unknown control/);
      r.engine.control(1);
      assert.throws(() => r.engine.control({ disable: 'B' }), /pinned: send "auto" before disabling it/);
    });

    it('automatic again while the pinned channel is down: a manual switch to the best, not a recovery', async () => {
      const r = rig(TWO);
      await run(r, 300);
      r.engine.control('B');
      await run(r, 1100, ['A']);
      assert.equal(r.engine.getActive(), null);
      r.engine.control('auto');
      assert.equal(r.engine.getActive(), 'A');
      const last = r.events.filter((e) => e.kind === 'manual-switch').at(-1);
      assert.equal(last?.reason, 'automatic: A (control message)');
      assert.ok(!r.kinds().includes('recovered') && !r.kinds().includes('all-down'));
    });

    it('status request and unmatched messages', () => {
      const r = rig(TWO);
      r.feed('A', 1);
      const s = r.engine.input({ topic: 'status' });
      assert.equal(s.kind, 'status');
      if (s.kind === 'status') {
        assert.equal(s.status.active, 'A');
        assert.deepEqual(s.status.channels.map((c) => [c.name, c.state]), [['A', 'healthy'], ['B', 'pending']]);
      }
      const u = r.engine.input({ topic: 'C/x', payload: 1 });
      assert.equal(u.kind, 'unmatched');
      if (u.kind === 'unmatched') assert.equal(u.reason, 'the message matches no channel (topic "C/x"); channels: A (topic A/*), B (topic B/*)');
    });
  });

  describe('writes', () => {
    it('without the guard: out of the active channel only; held while none is active; released to the first back', async () => {
      const r = rig(TWO);
      await run(r, 300);
      const w = r.engine.input({ write: true, payload: 42 });
      assert.equal(w.kind, 'write');
      if (w.kind === 'write') assert.deepEqual(await w.sent, { index: 0, name: 'A' });
      assert.deepEqual(r.writes, [{ channel: 'A', msg: { write: true, payload: 42, channel: 'A' } }]);
      await run(r, 1100, ['B']);
      r.engine.input({ write: true, payload: 43 });
      assert.deepEqual(r.writes.map((x) => x.channel), ['A', 'B']);
      // All down: held, then sent to the first channel back, in order.
      await r.clock.advance(1100);
      const a = r.engine.input({ write: true, payload: 44 });
      const b = r.engine.input({ write: true, payload: 45 });
      assert.ok(a.kind === 'write' && a.held && b.kind === 'write' && b.held);
      assert.ok(r.kinds().includes('write-held'));
      assert.match(selectorStatusText(r.engine.status()).text, /2 writes held/);
      await r.clock.advance(500);
      r.feed('A', 1);
      assert.deepEqual(r.writes.map((x) => `${x.channel}:${x.msg.payload}`), ['A:42', 'B:43', 'A:44', 'A:45']);
      assert.ok(r.kinds().includes('write-released'));
      if (a.kind === 'write') assert.equal((await a.sent).name, 'A');
    });

    it('held writes expire with an error that says why; holding off rejects at once; the limit', async () => {
      const r = rig({ ...TWO, holdWrites: 1000, maxHeldWrites: 2 });
      const a = r.engine.input({ write: true, payload: 1 });
      r.engine.input({ write: true, payload: 2 });
      const c = r.engine.input({ write: true, payload: 3 });
      assert.ok(c.kind === 'write');
      await assert.rejects(c.sent, /write not sent: no channel is active: no channel has reported yet \(start-up\), and 2 writes are already held \(the limit\)\. Nothing was written\./);
      await r.clock.advance(1000);
      assert.ok(a.kind === 'write');
      await assert.rejects(a.sent, /write not sent: no channel is active: no channel has reported yet \(start-up\); held 1000 ms and no channel could take it\. Nothing was written\./);
      assert.equal(r.writes.length, 0);
      assert.ok(r.kinds().includes('write-rejected'));

      const z = rig({ ...TWO, holdWrites: 0 });
      const w = z.engine.input({ write: true, payload: 1 });
      assert.ok(w.kind === 'write');
      await assert.rejects(w.sent, /holding writes is off, so it was rejected at once/);
    });

    it('write recognised by topic', async () => {
      const r = rig({ ...TWO, writeBy: 'topic', writePattern: 'write/*' });
      r.feed('A', 1);
      const w = r.engine.input({ topic: 'write/setpoint', payload: 5 });
      assert.equal(w.kind, 'write');
      assert.deepEqual(r.writes.map((x) => x.msg.topic), ['write/setpoint']);
    });
  });

  describe('IO device redundancy guard', () => {
    /** Data and master status of both PLCs every 100 ms; master[ch] = 1 or 0. */
    async function plcs(r: Rig, ms: number, master: Record<string, number>, which = ['A', 'B']): Promise<void> {
      for (let t = 0; t < ms; t += 100) {
        for (const ch of which) {
          r.feed(ch, r.clock.now());
          r.engine.input({ topic: `${ch}/status`, payload: [master[ch]] });
        }
        await r.clock.advance(100);
      }
    }

    it('writes go to the master; the slave never gets one; held until a master appears', async () => {
      const r = rig(guarded());
      await plcs(r, 300, { A: 1, B: 0 });
      assert.equal(r.engine.getActive(), 'A');
      assert.ok(r.events.some((e) => e.kind === 'master-changed' && e.reason === 'A is the master (1)'));
      const w1 = r.engine.input({ write: true, payload: 1 });
      assert.ok(w1.kind === 'write' && !w1.held);
      // Citect's hazard: A's cable fails, its PLC stays master. The selector reads from B (slave)...
      await plcs(r, 1100, { A: 1, B: 0 }, ['B']);
      assert.equal(r.engine.getActive(), 'B');
      assert.match(selectorStatusText(r.engine.status()).text, /^B \(not master\): A no data for 1\.0 s/);
      // ...but a write is held, not written to the slave.
      const w2 = r.engine.input({ write: true, payload: 2 });
      assert.ok(w2.kind === 'write' && w2.held);
      assert.match(r.events.find((e) => e.kind === 'write-held')?.reason ?? '', /channel B \(active\) is not confirmed as the master: not master \(0\)/);
      await plcs(r, 500, { A: 1, B: 0 }, ['B']);
      assert.deepEqual(r.writes.map((x) => x.channel), ['A'], 'nothing written to B while it is the slave');
      // The PLC pair switches over: B becomes master: the held write goes to B.
      await plcs(r, 100, { A: 0, B: 1 }, ['B']);
      assert.deepEqual(r.writes.map((x) => `${x.channel}:${x.msg.payload}`), ['A:1', 'B:2']);
      assert.ok(w2.kind === 'write');
      assert.equal((await w2.sent).name, 'B');
      assert.ok(r.kinds().includes('write-released'));
    });

    it('rejected after the hold when no master appears, with the reason; nothing written', async () => {
      const r = rig(guarded());
      await plcs(r, 300, { A: 1, B: 0 });
      await plcs(r, 1100, { A: 1, B: 0 }, ['B']);
      const w = r.engine.input({ write: true, payload: 7 });
      const done = plcs(r, 2100, { A: 1, B: 0 }, ['B']);
      assert.ok(w.kind === 'write');
      await assert.rejects(w.sent, /write not sent: channel B \(active\) is not confirmed as the master: not master \(0\); held 2000 ms and no channel could take it\. Nothing was written\./);
      await done;
      assert.deepEqual(r.writes.map((x) => x.channel), []);
      const rej = r.events.find((e) => e.kind === 'write-rejected');
      assert.equal(rej?.severity, 'error');
      assert.equal(rej?.server, 'B');
    });

    it('a master status that stops updating is not master; selection follows the master', async () => {
      const r = rig(guarded());
      await plcs(r, 300, { A: 0, B: 1 });
      assert.equal(r.engine.getActive(), 'B', 'the master wins over the preferred slave');
      assert.equal(r.engine.status().channels[0].reason, 'not master (0)');
      // B's data keeps coming, its status item stops: after its max age (the freshness) it is unknown.
      for (let t = 0; t < 1100; t += 100) {
        r.feed('A', 1);
        r.engine.input({ topic: 'A/status', payload: [0] });
        r.feed('B', 1);
        await r.clock.advance(100);
      }
      assert.equal(r.engine.status().channels[1].master, null);
      assert.equal(r.engine.status().channels[1].masterReason, 'master status not updated for 1.0 s');
      const w = r.engine.input({ write: true, payload: 1 });
      assert.ok(w.kind === 'write' && w.held);
      assert.ok(r.events.some((e) => e.kind === 'master-changed' && /B is no longer confirmed as the master/.test(e.reason)));
    });

    it('an unreadable master status (error, bad quality, no value) is not master', async () => {
      const r = rig(guarded());
      await plcs(r, 200, { A: 1, B: 0 });
      r.engine.input({ topic: 'A/status', payload: '', error: new Error('Timed out') });
      assert.equal(r.engine.status().channels[0].master, null);
      assert.match(r.engine.status().channels[0].masterReason ?? '', /master status unreadable: error: Timed out/);
      r.engine.input({ topic: 'A/status', payload: [1] });
      assert.equal(r.engine.status().channels[0].master, true);
      r.engine.input({ topic: 'A/status', payload: [1], statusCode: 'BadCommunicationError' });
      assert.equal(r.engine.status().channels[0].master, null);
    });

    it('master status in the data message itself (one read of two registers)', async () => {
      const r = rig(guarded({ channels: [
        { name: 'A', by: 'topic', pattern: 'A/*', staleMs: 1000, master: { by: 'topic', pattern: 'A/*', path: 'payload[1]' } },
        { name: 'B', by: 'topic', pattern: 'B/*', staleMs: 1000, master: { by: 'topic', pattern: 'B/*', path: 'payload[1]' } },
      ] }));
      r.feed('A', [100, 0]);
      r.feed('B', [100, 1]);
      assert.equal(r.engine.getActive(), 'B');
      r.engine.input({ write: true, payload: 1 });
      assert.deepEqual(r.writes.map((x) => x.channel), ['B']);
      assert.deepEqual(r.data.map((m) => m.payload), [[100, 1]]);
    });

    it('stop rejects held writes and leaves no timer', async () => {
      const r = rig(guarded());
      await plcs(r, 200, { A: 0, B: 0 });
      const w = r.engine.input({ write: true, payload: 1 });
      r.engine.stop();
      assert.ok(w.kind === 'write');
      await assert.rejects(w.sent, /the channel selector was stopped/);
      assert.equal(r.clock.pendingTimers(), 0);
    });
  });

  describe('configuration', () => {
    const bad: Array<[string, SelectorDef, RegExp]> = [
      ['no channels', { channels: [] }, /no channels: add at least one/],
      ['no name', { channels: [{ name: '', by: 'topic', pattern: 'a' }] }, /channel 1: a name is needed/],
      ['duplicate name', { channels: [{ name: 'A', by: 'topic', pattern: 'a' }, { name: 'A', by: 'topic', pattern: 'b' }] }, /channel 2 "A": the name is used twice/],
      ['same rule', { channels: [{ name: 'A', by: 'topic', pattern: 'x/*' }, { name: 'B', by: 'topic', pattern: 'x/*' }] }, /channel 2 "B": matches the same messages as channel 1 "A"/],
      ['bad regex', { channels: [{ name: 'A', by: 'topic', pattern: '/(/' }] }, /channel 1 "A": match: \/\(\/ is not a valid regular expression/],
      ['freshness', { channels: [{ name: 'A', by: 'topic', pattern: 'a', staleMs: 'soon' }] }, /channel 1 "A": freshness must be a whole number of ms from 0 to 86400000 \(got "soon"\)/],
      ['guard without master', { channels: [{ name: 'A', by: 'topic', pattern: 'a' }], guard: true }, /channel 1 "A": the write guard is on, so a master-status item is needed/],
      ['guard without any expiry', { channels: [{ name: 'A', by: 'topic', pattern: 'a', staleMs: 0, master: { by: 'topic', pattern: 'm' } }], guard: true }, /the guard needs a recent reading, but the freshness is 0/],
      ['master eq without value', { channels: [{ name: 'A', by: 'topic', pattern: 'a', master: { by: 'topic', pattern: 'm', test: 'eq' } }] }, /channel 1 "A": master status: the value that means "master" is missing/],
      ['return mode', { ...TWO, returnMode: 'back' }, /return mode must be "return" or "stay"/],
      ['hold-off', { ...TWO, holdOff: -5 }, /hold-off must be a whole number of ms/],
      ['writes by channel', { ...TWO, writeBy: 'channel' }, /writes cannot be recognised by msg.channel/],
      ['writes by topic, no pattern', { ...TWO, writeBy: 'topic', writePattern: '' }, /writes: a topic pattern is needed/],
      ['max held', { ...TWO, maxHeldWrites: 0 }, /maximum held writes must be a whole number from 1 to 100000/],
    ];
    for (const [name, def, re] of bad) {
      it(`explains: ${name}`, () => {
        const { problems } = parseSelectorConfig(def);
        assert.ok(problems.some((p) => re.test(p)), `${re} in ${JSON.stringify(problems)}`);
      });
    }

    it('defaults: a minimal flow node is complete', () => {
      const { config, problems } = parseSelectorConfig({ channels: [{ name: 'A', by: 'channel' }, { name: 'B', by: 'channel' }] });
      assert.deepEqual(problems, []);
      assert.equal(config.holdOffMs, 5000);
      assert.equal(config.returnMode, 'return');
      assert.equal(config.channels[0].staleMs, 3000);
      assert.deepEqual(config.write, { by: 'property', property: 'write', pattern: '' });
      assert.equal(config.guard, false);
    });

    it('numbers as the editor stores them (text) are accepted', () => {
      const { config, problems } = parseSelectorConfig({ ...guarded(), holdOff: '2500', channels: [{ name: 'A', by: 'topic', pattern: 'a', staleMs: '800', master: { by: 'topic', pattern: 'm', test: 'bit', value: '3', maxAgeMs: '2000' } }] });
      assert.deepEqual(problems, []);
      assert.equal(config.holdOffMs, 2500);
      assert.equal(config.channels[0].staleMs, 800);
      assert.equal(config.channels[0].master?.maxAgeMs, 2000);
    });
  });
});
