// Two real Node-RED processes joined by a peer link (each its own user dir and port, the link
// through loopback fault proxies), and a real mosquitto as witness: the duty after kill -9, restart,
// link cut with and without witness, the holder's broker connection cut, a graceful redeploy, wrong
// secrets; standby write with one instance's clock 20 s ahead, and writes queued over restarts.
// Who holds the duty is asked of both every 50 ms where it matters (DutySampler).
import assert from 'node:assert/strict';
import { Mosquitto, requireMosquitto } from '../helpers/mosquitto';
import { IDS, LINK_NAME, type Pair, type PairTiming, DutySampler, SECRET, linkState, startPair } from '../helpers/peer-pair';
import type { NodeRedProcess } from '../helpers/node-red-process';
import { sleep, until } from '../helpers/wait';

const TIMING: PairTiming = { intervalMs: 250, timeoutMs: 1500, holdOffMs: 2500, keepaliveS: 2 };
const { intervalMs: I, timeoutMs: T, holdOffMs: HOLD, keepaliveS: K } = TIMING;
/** Room for a loaded machine on top of what the configuration promises. */
const SLACK = 2000;
let redeploys = 0;

async function holder(p: NodeRedProcess): Promise<boolean> {
  return (await linkState(p))?.duty.holder === true;
}

async function both(pair: Pair): Promise<unknown> {
  return { a: await linkState(pair.a), b: await linkState(pair.b) };
}

/**
 * The steady state: a holds, b stands by, link up on both (and the witness up, with one). A test
 * that failed half-way leaves no stopped instance or cut link to the next one.
 */
async function steady(pair: Pair, witness: boolean, timeoutMs = 30_000): Promise<void> {
  pair.healLink();
  pair.brokerA?.setMode('pass');
  await Promise.all([pair.a, pair.b].map((p) => (p.running ? undefined : p.restart())));
  await until('a holding, b standing by, link up', timeoutMs, async () => {
    const [a, b] = [await linkState(pair.a), await linkState(pair.b)];
    return !!a && !!b && a.duty.holder && !b.duty.holder && a.link.state === 'up' && b.link.state === 'up' && (!witness || (a.duty.witness === 'up' && b.duty.witness === 'up'));
  }, () => both(pair));
}

async function storeCall(p: NodeRedProcess, msg: Record<string, unknown>): Promise<Record<string, unknown>> {
  const before = (await p.messages(IDS.storeOut)).length;
  await p.inject(IDS.store, msg);
  let got: Record<string, unknown> | undefined;
  const deadline = Date.now() + 5000;
  while (!got && Date.now() < deadline) {
    const list = await p.messages(IDS.storeOut, before);
    if (list.length) got = list[list.length - 1].msg;
    else await sleep(30);
  }
  if (!got) throw new Error(`${p.name}: no answer from the standby write node`);
  return got;
}

describe('two Node-RED instances, one peer link: duty and standby write', function () {
  this.timeout(120_000);

  describe('without witness (priority and timeout)', function () {
    let pair: Pair;
    before(async function () {
      pair = await startPair(TIMING, { envB: { REDUNDANCY_TEST_CLOCK_OFFSET_MS: '20000' } });
    });
    after(async function () {
      await pair?.dispose();
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed' && pair) console.log(`--- a:\n${pair.a.log().slice(-3000)}\n--- b:\n${pair.b.log().slice(-3000)}`);
    });

    it('the preferred instance holds the duty; messages pass there only, stamped with link, instance and epoch', async function () {
      await steady(pair, false);
      await pair.a.inject(IDS.duty, { payload: 'report' });
      await pair.b.inject(IDS.duty, { payload: 'report' });
      await until('the message out of a', 5000, async () => (await pair.a.messages(IDS.out)).length === 1);
      await sleep(300);
      assert.equal((await pair.b.messages(IDS.out)).length, 0, 'nothing passes on the standby');
      const [out] = await pair.a.messages(IDS.out);
      const a = (await linkState(pair.a))!;
      assert.deepEqual(out.msg.duty, { link: LINK_NAME, instance: a.instanceId, epoch: a.duty.epoch });
      const states = await pair.b.messages(IDS.state);
      const last = states[states.length - 1].msg.payload as { holder: boolean; link: string; witness: string };
      assert.equal(last.holder, false);
      assert.equal(last.link, 'up');
      assert.equal(last.witness, 'none');
    });

    it('kill -9 of the holder: b takes the duty within interval + timeout; a restarted gets it back after the hold-off; never two holders', async function () {
      await steady(pair, false);
      const sampler = new DutySampler(pair);
      const killedAt = Date.now();
      await pair.a.kill();
      await until('b holding', I + T + SLACK + 3000, () => holder(pair.b), () => both(pair));
      const b = (await linkState(pair.b))!;
      const takeoverMs = b.duty.since - killedAt;
      console.log(`      takeover ${takeoverMs} ms after kill -9 (interval ${I} + timeout ${T})`);
      assert.ok(takeoverMs <= I + T + SLACK, `takeover in ${takeoverMs} ms`);
      assert.match(pair.b.log(), /took the duty \(epoch \d+\): no heartbeat for [\d.]+ s; no witness/);
      await pair.a.restart();
      await until('a holding again', 30_000, () => holder(pair.a), () => both(pair));
      const a = (await linkState(pair.a))!;
      const samples = await sampler.stop();
      assert.ok(a.duty.since - a.link.since >= HOLD - 300, `handed back ${a.duty.since - a.link.since} ms after the link came up (hold-off ${HOLD})`);
      assert.match(pair.a.log(), /took the duty \(epoch \d+\): handed over by the peer \(the preferred instance has been back/, 'b handed the duty back (not a take by timeout)');
      assert.equal(a.duty.epoch, b.duty.epoch + 1, 'epoch increased at each take');
      assert.deepEqual(sampler.dual(), [], 'never two holders');
      assert.ok(samples.length > 40, `sampled ${samples.length} times`);
      await steady(pair, false);
    });

    it('link cut while both run: both hold the duty (no witness: documented and shown); healed: one holder, then hand-back', async function () {
      await steady(pair, false);
      pair.cutLink();
      try {
        await until('both holding, link down on both', T + I + SLACK + 3000, async () => {
          const [a, b] = [await linkState(pair.a), await linkState(pair.b)];
          return !!a?.duty.holder && !!b?.duty.holder && a.link.state === 'down' && b.link.state === 'down';
        }, () => both(pair));
        const [a, b] = [(await linkState(pair.a))!, (await linkState(pair.b))!];
        assert.match(a.duty.reason, /no witness: the peer may hold it too/);
        assert.match(b.duty.reason, /no witness/);
        assert.ok(b.duty.epoch > a.duty.epoch);
      } finally {
        pair.healLink();
      }
      await until('one holder after healing', 10_000, async () => (await holder(pair.a)) !== (await holder(pair.b)), () => both(pair));
      assert.equal(await holder(pair.b), true, 'the newer epoch keeps the duty');
      await steady(pair, false, HOLD + 15_000);
    });

    it('graceful redeploy of the holder: the duty is handed over at once and back after the hold-off, without a gap in the duty output', async function () {
      await steady(pair, false);
      const [outA, outB, stateB] = [(await pair.a.messages(IDS.out)).length, (await pair.b.messages(IDS.out)).length, (await pair.b.messages(IDS.state)).length];
      let n = 0;
      let ticking = true;
      const ticker = (async () => {
        while (ticking) {
          n++;
          // The same message to both instances (a trigger both see), one every 20 ms.
          await Promise.allSettled([pair.a.inject(IDS.duty, { payload: n }), pair.b.inject(IDS.duty, { payload: n })]);
          await sleep(20);
        }
      })();
      await sleep(1000);
      const first = n;
      // The link's configuration changed and deployed ("modified nodes"): the link and its users
      // restart, the probes after the duty node keep running, so they see all the duty node passed.
      redeploys++;
      const changed = pair.flowA.map((n) => (n.id === IDS.link ? { ...n, holdOff: HOLD + redeploys } : n));
      await pair.a.deploy(changed, 'nodes', { [IDS.link]: { secret: SECRET } });
      await until('b holding (handed over)', 10_000, () => holder(pair.b), () => both(pair));
      await steady(pair, false, HOLD + 15_000);
      const a = (await linkState(pair.a))!;
      assert.ok(a.duty.since - a.link.since >= HOLD - 300, `handed back after the hold-off (${a.duty.since - a.link.since} ms after the redeployed link came up)`);
      await sleep(1000);
      ticking = false;
      await ticker;
      const last = n;
      const passed = [...(await pair.a.messages(IDS.out, outA)), ...(await pair.b.messages(IDS.out, outB))].map((m) => m.msg.payload as number);
      const seen = new Set(passed);
      const missing: number[] = [];
      for (let i = first; i <= last - 5; i++) if (!seen.has(i)) missing.push(i);
      const duplicates = passed.length - seen.size;
      console.log(`      ticks ${first}..${last}: ${missing.length} missing, ${duplicates} passed twice (overlap of the catch-up)`);
      assert.deepEqual(missing, [], 'no message lost around the two hand-overs');
      assert.ok((await pair.b.messages(IDS.out, outB)).length > 0, 'b passed messages while a was redeployed');
      const bStates = (await pair.b.messages(IDS.state, stateB)).map((m) => (m.msg.payload as { reason: string }).reason);
      assert.ok(bStates.some((r) => /handed over by the peer \(graceful stop\)/.test(r)), `b took over on a's graceful stop, not by timeout: ${bStates.join(' | ')}`);
    });

    it('graceful shutdown of the holder (SIGTERM): the duty is handed over at once, not after the timeout', async function () {
      await steady(pair, false);
      const stateB = (await pair.b.messages(IDS.state)).length;
      const stoppingAt = Date.now();
      const stopped = pair.a.stop();
      await until('b holding', T + SLACK, () => holder(pair.b), () => both(pair));
      const b = (await linkState(pair.b))!;
      await stopped;
      console.log(`      b took the duty ${b.duty.since - stoppingAt} ms after SIGTERM to a`);
      const reasons = (await pair.b.messages(IDS.state, stateB)).map((m) => (m.msg.payload as { reason: string }).reason);
      assert.ok(reasons.some((r) => /handed over by the peer \(graceful stop\)/.test(r)), reasons.join(' | '));
      assert.ok(b.duty.since - stoppingAt < T, 'before a heartbeat timeout could have passed');
      await pair.a.restart();
      await steady(pair, false, HOLD + 30_000);
    });

    it('standby write: a write on either side reaches the other; causality beats b\'s clock running 20 s ahead', async function () {
      await steady(pair, false);
      await storeCall(pair.a, { topic: 'setpoint', payload: 42 });
      await until('the value at b', 5000, async () => (await storeCall(pair.b, { topic: 'setpoint' })).payload === 42);
      const fromB = await storeCall(pair.b, { topic: 'mode', payload: 'from-b' });
      await until('b\'s write at a', 5000, async () => (await storeCall(pair.a, { topic: 'mode' })).payload === 'from-b');
      const fromA = await storeCall(pair.a, { topic: 'mode', payload: 'from-a, later' });
      assert.ok(String(fromA.stamp) > String(fromB.stamp), `a's later write is stamped after b's (${fromA.stamp} > ${fromB.stamp}) though a's clock is 20 s behind`);
      await until('a\'s later write on b', 5000, async () => (await storeCall(pair.b, { topic: 'mode' })).payload === 'from-a, later');
      const peerWrites = await pair.b.messages(IDS.storePeer);
      assert.ok(peerWrites.some((m) => m.msg.topic === 'setpoint' && m.msg.payload === 42 && m.msg.fromPeer === true), 'b reports the value a wrote');
    });

    it('standby write: writes on both sides during a partition converge after it heals, by the hybrid clock rule', async function () {
      await steady(pair, false);
      pair.cutLink();
      try {
        await until('link down on both', T + SLACK + 3000, async () => (await linkState(pair.a))?.link.state === 'down' && (await linkState(pair.b))?.link.state === 'down');
        await storeCall(pair.b, { topic: 'batch', payload: 'b, during the cut' });
        await sleep(50);
        await storeCall(pair.a, { topic: 'batch', payload: 'a, during the cut, 50 ms later in real time' });
        await storeCall(pair.a, { topic: 'only-a', payload: 1 });
        await storeCall(pair.b, { topic: 'only-b', payload: 2 });
        await storeCall(pair.b, { topic: 'setpoint', action: 'delete' });
      } finally {
        pair.healLink();
      }
      await until('both stores equal', 15_000, async () => JSON.stringify((await storeCall(pair.a, { action: 'all' })).payload) === JSON.stringify((await storeCall(pair.b, { action: 'all' })).payload), async () => [(await storeCall(pair.a, { action: 'all' })).payload, (await storeCall(pair.b, { action: 'all' })).payload]);
      const all = (await storeCall(pair.a, { action: 'all' })).payload as Record<string, unknown>;
      // Concurrent writes: the greater stamp wins; b's clock is 20 s ahead, so b's write, though earlier.
      assert.equal(all.batch, 'b, during the cut');
      assert.equal(all['only-a'], 1);
      assert.equal(all['only-b'], 2);
      assert.equal('setpoint' in all, false, 'the delete replicated');
      await steady(pair, false, HOLD + 15_000);
    });

    it('standby write: writes made while the peer is down are queued persistently and arrive after both restart', async function () {
      await steady(pair, false);
      await pair.b.stop();
      await storeCall(pair.a, { topic: 'queued-1', payload: 'q1' });
      await storeCall(pair.a, { topic: 'queued-2', payload: { nested: [1, 2] } });
      await pair.a.stop(); // the outbox is on disk
      await pair.a.restart();
      await pair.b.restart();
      await until('the queued writes at b', 20_000, async () => {
        const all = (await storeCall(pair.b, { action: 'all' })).payload as Record<string, unknown>;
        return all['queued-1'] === 'q1' && JSON.stringify(all['queued-2']) === '{"nested":[1,2]}';
      });
      await steady(pair, false);
    });

    it('a wrong shared secret is refused on both sides, reported to diagnostics, and the link recovers with the right one', async function () {
      await steady(pair, false);
      const events = (await pair.a.messages(IDS.diagOut)).length;
      await pair.b.deploy(pair.flowB, 'full', { [IDS.link]: { secret: 'not-the-shared-secret' } });
      await until('refused on both', 15_000, async () => (await linkState(pair.a))?.link.state === 'refused' && (await linkState(pair.b))?.link.state === 'refused', () => both(pair));
      assert.match((await linkState(pair.a))!.link.reason, /shared secrets differ/);
      await until('the refusal in a\'s diagnostics', 5000, async () => (await pair.a.messages(IDS.diagOut, events)).some((m) => (m.msg.event as { kind: string }).kind === 'peer-refused'));
      assert.match(pair.a.log(), /peer link refused/);
      await pair.b.deploy(pair.flowB, 'full', { [IDS.link]: { secret: SECRET } });
      await steady(pair, false);
    });
  });

  describe('with an MQTT witness (mosquitto)', function () {
    let broker: Mosquitto;
    let pair: Pair;
    before(async function () {
      requireMosquitto(this);
      broker = await Mosquitto.start();
      pair = await startPair(TIMING, { broker });
    });
    after(async function () {
      await pair?.dispose();
      await broker?.dispose();
    });
    afterEach(function () {
      if (this.currentTest?.state === 'failed' && pair) console.log(`--- a:\n${pair.a.log().slice(-3000)}\n--- b:\n${pair.b.log().slice(-3000)}\n--- broker:\n${broker.log().slice(-2000)}`);
    });

    it('link cut while both run: exactly one holder throughout (the claim stands on the witness)', async function () {
      await steady(pair, true);
      const sampler = new DutySampler(pair);
      pair.cutLink();
      try {
        await until('link down on b', T + SLACK + 3000, async () => (await linkState(pair.b))?.link.state === 'down');
        await sleep(3 * I + T + 1000); // well past the claim-absence and timeout rules
        const b = (await linkState(pair.b))!;
        assert.match(b.duty.reason, /stands on the witness/);
      } finally {
        pair.healLink();
      }
      await steady(pair, true);
      await sampler.stop();
      assert.equal(sampler.holders('b'), 0, 'b never held the duty');
      assert.equal(sampler.holders('a'), sampler.samples.filter((s) => s.a).length, 'a held it throughout');
      assert.deepEqual(sampler.dual(), []);
    });

    it('the holder\'s broker connection cut, not the link: no change', async function () {
      await steady(pair, true);
      const sampler = new DutySampler(pair);
      pair.brokerA!.setMode('blackhole');
      try {
        // The broker drops a after 1.5 keep-alives and publishes its last will (the claim is cleared).
        await until('a\'s witness down', 3 * K * 1000 + SLACK, async () => (await linkState(pair.a))?.duty.witness === 'down', () => both(pair));
        await sleep(3 * I + 1000);
        await sampler.stop();
        assert.equal(sampler.holders('b'), 0, 'b never took the duty');
        assert.ok((await linkState(pair.a))!.duty.holder, 'a still holds it');
      } finally {
        pair.brokerA!.setMode('pass');
      }
      await steady(pair, true);
    });

    it('kill -9 of the holder: b takes the duty within interval + timeout (+ keep-alive); a restarted gets it back after the hold-off; never two holders', async function () {
      await steady(pair, true);
      const sampler = new DutySampler(pair);
      const killedAt = Date.now();
      await pair.a.kill();
      await until('b holding', I + T + K * 1000 + SLACK + 3000, () => holder(pair.b), () => both(pair));
      const b = (await linkState(pair.b))!;
      const takeoverMs = b.duty.since - killedAt;
      console.log(`      takeover ${takeoverMs} ms after kill -9 (interval ${I} + timeout ${T}, keep-alive ${K} s)`);
      assert.ok(takeoverMs <= I + T + K * 1000 + SLACK, `takeover in ${takeoverMs} ms`);
      assert.match(pair.b.log(), /took the duty \(epoch \d+\): no heartbeat for [\d.]+ s, and no claim on the witness/);
      await pair.a.restart();
      await until('a holding again', 30_000, () => holder(pair.a), () => both(pair));
      await sampler.stop();
      const a = (await linkState(pair.a))!;
      assert.ok(a.duty.since - a.link.since >= HOLD - 300, `handed back after the hold-off (${a.duty.since - a.link.since} ms)`);
      assert.deepEqual(sampler.dual(), [], 'never two holders');
      await steady(pair, true);
    });
  });
});
