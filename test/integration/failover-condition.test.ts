// failover-condition in the real runtime against two simulators: each condition kind fails over
// from the server it holds on and not from the other; "both bad" never switches to a bad standby;
// arrays; clear and return; manual switch; external health; anti-flap; bad input.
import assert from 'node:assert/strict';
import type { ConditionSpec } from '../../lib/core/conditions';
import type { RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, RedundancyEvent } from '../../lib/core/types';
import { OpcuaSimulator, SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { type Msg, collect, helper, loadFlow, loggedErrors, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const conditionModule = require('../../nodes/failover-condition');

const HOLD_OFF = 1500;

interface Rig {
  primary: OpcuaSimulator;
  secondary: OpcuaSimulator;
  pair: RedundantPair;
  fired: Msg[];
  events: RedundancyEvent[];
}

let sims: OpcuaSimulator[] = [];

async function rig(conditions: ConditionSpec[], opts: { mode?: ConnectionMode; minSwitchInterval?: number } = {}): Promise<Rig> {
  const primary = new OpcuaSimulator({ port: await freePort(), name: 'cond-primary' });
  const secondary = new OpcuaSimulator({ port: await freePort(), name: 'cond-secondary' });
  sims = [primary, secondary];
  await Promise.all([primary.start(), secondary.start()]);
  await loadFlow([pairModule, sourceModule, conditionModule], [
    {
      id: 'pair-c', type: 'redundant-pair', name: 'cond-pair', protocol: 'opcua', primaryEndpoint: primary.endpointUrl, secondaryEndpoint: secondary.endpointUrl,
      securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: opts.mode ?? 'hot', pingInterval: 300, pingTimeout: 300, autoPromote: true, holdOff: HOLD_OFF, reconnectMax: 1000,
    },
    { id: 'src', type: 'redundant-source', pair: 'pair-c', items: [{ id: SIM_ITEMS.counter, name: 'counter' }], samplingInterval: 0, output: 'change', wires: [['out']] },
    { id: 'out', type: 'helper', wires: [] },
    { id: 'cond', type: 'failover-condition', name: 'watch', pair: 'pair-c', conditions, samplingInterval: 100, minSwitchInterval: opts.minSwitchInterval ?? 0, wires: [['fired']] },
    { id: 'fired', type: 'helper', wires: [] },
  ]);
  const pair = helper.getNode('pair-c').pair as RedundantPair;
  const events: RedundancyEvent[] = [];
  pair.on('event', (e) => events.push(e));
  const fired = collect('fired');
  await waitFor(() => pair.getActive() === 'primary' && pair.isConnected('secondary'), 10_000, 'the pair up on the primary', () => pair.status());
  await sleep(300);
  return { primary, secondary, pair, fired, events };
}

function firedOn(r: Rig, event: 'fired' | 'cleared', server: string, name?: string): boolean {
  return r.fired.some((m) => {
    const p = m.payload as { event: string; server: string; condition: string };
    return p.event === event && p.server === server && (!name || p.condition === name);
  });
}

describe('failover-condition (real runtime, real servers)', function () {
  this.timeout(30_000);
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
    await Promise.all(sims.map((s) => s.stop()));
    sims = [];
  });

  it('stale item on the primary: fails over, clears, and the primary returns after the hold-off', async function () {
    const r = await rig([{ name: 'counter stale', kind: 'stale', item: SIM_ITEMS.counter, staleMs: 800 }]);
    r.primary.freeze(true);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'failover on the stale primary', () => r.pair.status());
    await waitFor(() => firedOn(r, 'fired', 'primary', 'counter stale'), 2000, 'the fired message');
    assert.ok(!firedOn(r, 'fired', 'secondary'), 'not fired on the secondary');
    // hot mode may notice the frozen stream first (stream lag); the condition fires as well
    assert.match(r.events.find((e) => e.kind === 'failover')?.reason ?? '', /failover condition on the primary: .*not updated for|stream \d+ ms behind/);
    r.primary.freeze(false);
    await waitFor(() => firedOn(r, 'cleared', 'primary'), 5000, 'the condition cleared');
    await waitFor(() => r.pair.getActive() === 'primary', HOLD_OFF + 5000, 'promotion back to the primary');
  });

  it('warm mode: the standby reports nothing, its condition items are read at each check', async function () {
    const r = await rig([{ name: 'counter stale', kind: 'stale', item: SIM_ITEMS.counter, staleMs: 800 }], { mode: 'warm' });
    await sleep(1500);
    assert.ok(!firedOn(r, 'fired', 'secondary'), 'the (non-reporting) standby is not taken for stale');
    r.primary.freeze(true);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'failover on the stale primary', () => r.pair.status());
    await waitFor(() => firedOn(r, 'fired', 'primary', 'counter stale'), 2000, 'the fired message');
    assert.match(r.events.find((e) => e.kind === 'failover')?.reason ?? '', /failover condition on the primary/);
  });

  it('value condition (device link bit false) on the primary only', async function () {
    const r = await rig([{ name: 'device link', kind: 'value', item: SIM_ITEMS.deviceOk, op: 'false' }]);
    r.primary.setLinkOk(false);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'failover on the link bit');
    await waitFor(() => firedOn(r, 'fired', 'primary', 'device link'), 2000, 'the fired message');
    assert.ok(!firedOn(r, 'fired', 'secondary'));
  });

  it('quality bad for longer than N ms', async function () {
    const r = await rig([{ name: 'counter quality', kind: 'quality', item: SIM_ITEMS.counter, qualityMs: 300 }]);
    r.primary.setLinkOk(false);
    // In hot mode the frozen stream may be noticed first (stream lag); the condition fires too.
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'failover on bad quality');
    await waitFor(() => r.events.some((x) => x.kind === 'condition-fired' && /quality BadNoCommunication/.test(x.reason)), 3000, 'the quality condition');
  });

  it('ServiceLevel below a threshold (a level the engine alone would accept)', async function () {
    const r = await rig([{ name: 'service level', kind: 'service-level', threshold: 250 }]);
    r.primary.setServiceLevel(240);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'failover on ServiceLevel 240 < 250');
    await waitFor(() => firedOn(r, 'fired', 'primary', 'service level'), 2000, 'the fired message');
  });

  it('both bad: stays on the active server and says so, never switches to the bad standby', async function () {
    const r = await rig([{ name: 'counter stale', kind: 'stale', item: SIM_ITEMS.counter, staleMs: 800 }]);
    // The standby goes bad first, so when the primary goes bad there is nowhere better to go.
    r.secondary.freeze(true);
    await waitFor(() => firedOn(r, 'fired', 'secondary'), 5000, 'fired on the secondary');
    r.primary.freeze(true);
    await waitFor(() => firedOn(r, 'fired', 'primary'), 5000, 'fired on the primary too');
    await waitFor(() => r.events.some((e) => e.kind === 'both-bad'), 3000, 'a both-bad event');
    await sleep(500);
    assert.equal(r.pair.getActive(), 'primary');
    assert.equal(r.events.filter((e) => e.kind === 'failover').length, 0);
    r.secondary.freeze(false);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'switch once the secondary is good');
  });

  it('arrays: "any element" holds where "all elements" does not', async function () {
    const r = await rig([
      { name: 'any big', kind: 'value', item: SIM_ITEMS.array, op: 'gt', value: 1000, arrayMode: 'any' },
      { name: 'all big', kind: 'value', item: SIM_ITEMS.array, op: 'gt', value: 1000, arrayMode: 'all' },
    ]);
    await waitFor(() => firedOn(r, 'fired', 'primary', 'any big') && firedOn(r, 'fired', 'secondary', 'any big'), 5000, '"any" fired on both servers');
    assert.ok(!r.fired.some((m) => (m.payload as { condition: string }).condition === 'all big'), '"all" never fired');
    assert.equal(r.pair.getActive(), 'primary', 'both bad: no switch');
  });

  it('manual switch messages and external health', async function () {
    const r = await rig([]);
    helper.getNode('cond').receive({ payload: 'force-secondary' });
    await waitFor(() => r.pair.getActive() === 'secondary', 3000, 'forced to the secondary');
    await sleep(HOLD_OFF + 300);
    assert.equal(r.pair.getActive(), 'secondary', 'forced: no promotion');
    helper.getNode('cond').receive({ payload: 'auto' });
    await waitFor(() => r.pair.getActive() === 'primary', 3000, 'automatic again');
    helper.getNode('cond').receive({ topic: 'health', server: 'primary', payload: false, reason: 'PLC A is not master' });
    await waitFor(() => r.pair.getActive() === 'secondary', 3000, 'failover on external health');
    assert.match(r.events.find((e) => e.kind === 'failover')?.reason ?? '', /PLC A is not master/);
    helper.getNode('cond').receive({ payload: 'sideways' });
    await waitFor(() => loggedErrors().some((e) => /unknown message/.test(e)), 2000, 'a clear error for bad input');
  });

  it('anti-flap: a second condition switch waits for the minimum interval', async function () {
    const r = await rig([{ name: 'device link', kind: 'value', item: SIM_ITEMS.deviceOk, op: 'false' }], { minSwitchInterval: 4000 });
    const switches = () => r.events.filter((e) => e.kind === 'failover' || e.kind === 'promotion');
    const log = () => r.events.map((e) => `${e.kind} ${e.server ?? ''}${e.from ? `${e.from}→${e.to}` : ''}: ${e.reason}`).join('\n');
    r.primary.setLinkOk(false);
    await waitFor(() => r.pair.getActive() === 'secondary', 5000, 'first switch');
    assert.equal(switches().length, 1, log());
    assert.match(switches()[0].reason, /failover condition on the primary/, log());
    const first = switches()[0].time;
    r.primary.setLinkOk(true);
    r.secondary.setLinkOk(false);
    await sleep(1500);
    assert.equal(r.pair.getActive(), 'secondary', `too soon for a second condition switch\n${log()}`);
    await waitFor(() => r.pair.getActive() === 'primary', 8000, 'the second switch after the interval');
    const second = switches()[1];
    // The events are stamped when each switch took effect, a few ms after the decision.
    assert.ok(second.time - first >= 3950, `second switch ${second.time - first} ms after the first\n${log()}`);
  });

  it('a bad condition is a clear configuration error and a red status; the flow still deploys', async function () {
    const r = await rig([{ name: 'weird', kind: 'smell' as never, item: SIM_ITEMS.counter }]);
    assert.match(loggedErrors().join('\n'), /unknown condition kind "smell"/);
    assert.equal(r.pair.getActive(), 'primary', 'the pair is unaffected');
  });
});
