// alarm-sync, trend-backfill and redundancy-store in the real Node-RED runtime, two "instances" in
// one runtime joined by a stand-in peer-link config node over the fake network (the real link
// between two Node-RED processes: alarm-trend-pair.test.ts): messages in, list/action/query messages out,
// the Dashboard ui-table ack button, duty-bound actions, diagnostics events, bad input and bad
// configuration reported with the reason, a redeploy that releases everything.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pairHub } from '../../lib/core/hub';
import type { RedundancyEvent } from '../../lib/core/types';
import { FakeNetwork } from '../helpers/fake-peer-link';
import { type Msg, collect, helper, loadFlow, loggedErrors, startServer, stopServer, waitFor } from '../helpers/flow';
import { until } from '../helpers/wait';
import { peerLinkStandin, standinNetworks } from '../helpers/peer-link-standin';

/* eslint-disable @typescript-eslint/no-require-imports */
const alarmModule = require('../../nodes/alarm-sync');
const trendModule = require('../../nodes/trend-backfill');
const storeModule = require('../../nodes/redundancy-store');
/* eslint-enable @typescript-eslint/no-require-imports */

interface StatusCall {
  thisValue: unknown;
  args: Array<{ fill?: string; text?: string }>;
}

/** The node's last status (the helper's spy is shared by all nodes: keep this node's calls). */
function lastStatus(id: string): { fill?: string; text?: string } | undefined {
  const node = helper.getNode(id);
  const calls = (node.status as { getCalls(): StatusCall[] }).getCalls().filter((c) => c.thisValue === node);
  return calls[calls.length - 1]?.args[0];
}

describe('alarm-sync and trend-backfill nodes (real runtime, stand-in peer link)', function () {
  this.timeout(30_000);
  let dir: string;
  let net: FakeNetwork;
  const events: RedundancyEvent[] = [];
  const onEvent = (e: RedundancyEvent) => events.push(e);

  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), 'alarm-trend-nodes-'));
    net = new FakeNetwork(0);
    standinNetworks.set('n1', net);
    events.length = 0;
    pairHub.on('event', onEvent);
    await startServer();
  });
  afterEach(async function () {
    pairHub.off('event', onEvent);
    await helper.unload();
    await stopServer();
    standinNetworks.delete('n1');
    rmSync(dir, { recursive: true, force: true });
  });

  const links = [
    { id: 'link-a', type: 'peer-link', net: 'n1', side: 'a' },
    { id: 'link-b', type: 'peer-link', net: 'n1', side: 'b' },
    { id: 'store-a', type: 'redundancy-store', backend: 'sqlite', file: '' },
    { id: 'store-b', type: 'redundancy-store', backend: 'sqlite', file: '' },
  ];

  function alarmFlow(extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
    const common = { type: 'alarm-sync', group: 'plant', catchUpWait: 1, conditions: [{ key: 'TT1.HI', source: 'TT1', op: 'gt', limit: 80, deadband: 2, severity: 'high', text: 'reactor hot' }], ...extra };
    return [
      ...links.map((l) => (l.type === 'redundancy-store' ? { ...l, file: join(dir, `${l.id}.sqlite`) } : l)),
      { id: 'al-a', link: 'link-a', store: 'store-a', ...common, wires: [['act-a'], ['list-a'], ['chg-a']] },
      { id: 'al-b', link: 'link-b', store: 'store-b', ...common, wires: [['act-b'], ['list-b'], ['chg-b']] },
      ...['act-a', 'list-a', 'chg-a', 'act-b', 'list-b', 'chg-b'].map((id) => ({ id, type: 'helper' })),
    ];
  }

  it('alarm-sync: raise on one, list and ack on the other (ui-table button), actions only on the duty instance', async function () {
    await loadFlow([peerLinkStandin, storeModule, alarmModule], alarmFlow());
    net.setDuty('a');
    const actA = collect('act-a');
    const actB = collect('act-b');
    const listA = collect('list-a');
    const listB = collect('list-b');
    const chgA = collect('chg-a');
    await waitFor(() => /0 active, 0 unacked/.test(lastStatus('al-b')?.text ?? ''), 5000, 'B started', () => lastStatus('al-b'));
    helper.getNode('al-b').receive({ topic: 'TT1', payload: 85.5 });
    helper.getNode('al-a').receive({ topic: 'P1.TRIP', payload: { active: true, severity: 900, text: 'pump 1 tripped', category: 'motors' } });
    const rowsOf = (m: Msg | undefined) => (m?.payload ?? []) as Array<Record<string, unknown>>;
    await waitFor(() => rowsOf(listA[listA.length - 1]).length === 2 && rowsOf(listB[listB.length - 1]).length === 2, 5000, 'both alarms in both lists');
    const rowB = rowsOf(listB[listB.length - 1]).find((r) => r.key === 'P1.TRIP')!;
    assert.deepEqual([rowB.state, rowB.acked, rowB.severity, rowB.text, rowB.ack, rowB.color], ['ACTIVE', false, 900, 'pump 1 tripped', 'Ack', '#d32f2f']);
    // The operator presses the Ack button of that row in B's dashboard table.
    helper.getNode('al-b').receive({ action: 'button_click', column: 'ack', payload: rowB, _client: { user: { name: 'anna' } } });
    await waitFor(() => rowsOf(listA[listA.length - 1]).some((r) => r.key === 'P1.TRIP' && r.acked === true && r.ackedBy === 'anna'), 5000, 'the ack on A');
    await waitFor(() => actA.length === 2, 3000, 'two on actions on A');
    assert.deepEqual(actA.map((m) => [m.topic, m.payload, m.epoch]).sort(), [['P1.TRIP', 'on', 1], ['TT1.HI', 'on', 1]]);
    assert.equal(actB.length, 0, 'no action on the instance without the duty');
    assert.ok(chgA.some((m) => m.topic === 'P1.TRIP' && (m.kinds as string[]).includes('acked')));
    // The duty moves to B; the alarm clears: B runs the off action, A nothing more.
    net.setDuty('b');
    helper.getNode('al-a').receive({ topic: 'TT1', payload: 50 });
    helper.getNode('al-b').receive({ topic: 'TT1', payload: 50 });
    await waitFor(() => actB.length === 1, 3000, 'the off action on B');
    assert.deepEqual([actB[0].topic, actB[0].payload, actB[0].epoch], ['TT1.HI', 'off', 2]);
    assert.equal(actA.length, 2);
    assert.ok(events.some((e) => e.pair === 'plant' && e.kind === 'alarm-caught-up'), JSON.stringify(events));
    // The status dot is refreshed at most every 250 ms.
    await waitFor(() => /duty/.test(lastStatus('al-b')?.text ?? ''), 2000, 'B\'s status naming the duty', () => lastStatus('al-b'));
  });

  it('alarm-sync: bad input refused with the reason; bad configuration red status; no peer link said plainly', async function () {
    await loadFlow([peerLinkStandin, storeModule, alarmModule], [
      ...alarmFlow(),
      { id: 'bad', type: 'alarm-sync', link: 'link-a', group: 'other', conditions: [{ key: 'X', op: 'over', limit: 'hot' }], wires: [[], [], []] },
      { id: 'nolink', type: 'alarm-sync', link: '', group: 'nolink', wires: [[], [], []] },
    ]);
    await waitFor(() => /0 active/.test(lastStatus('al-a')?.text ?? ''), 5000, 'A started');
    helper.getNode('al-a').receive({ topic: 'ack', payload: { tag: 'NOPE' } });
    helper.getNode('al-a').receive({ topic: 'TT1', payload: 'warm' });
    helper.getNode('al-a').receive({ topic: 'X', payload: { severity: 3 } });
    helper.getNode('al-a').receive({ topic: 'shelve', payload: { tag: 'TT1.HI', mode: 'timed', minutes: 100_000 } });
    await waitFor(() => loggedErrors().length >= 4, 3000, 'four errors', () => loggedErrors());
    const errs = loggedErrors().join('\n');
    assert.match(errs, /no alarm NOPE to acknowledge/);
    assert.match(errs, /value "warm" of TT1 is not a number/);
    assert.match(errs, /needs payload.active/);
    assert.match(errs, /shelving time must be more than 0 and at most 480 min/);
    assert.equal(lastStatus('bad')?.fill, 'red');
    assert.match(lastStatus('bad')?.text ?? '', /^config: alarm X: unknown comparison over/);
    assert.match(errs, /alarm-sync configuration: alarm X: unknown comparison over \(use gt, gte, lt, lte, eq, neq\); limit must be a number \(got "hot"\)/);
    await waitFor(() => lastStatus('nolink')?.fill === 'red', 3000, 'no link status');
    assert.match(lastStatus('nolink')?.text ?? '', /no peer link selected/);
  });

  it('trend-backfill: samples values, answers a chart query, reports gaps, refuses bad input, fills after a cut', async function () {
    const common = { type: 'trend-backfill', group: 'line1', period: 100, tags: 'TT1', stale: 300, retry: 1, settle: 300, scanWindow: 1 };
    await loadFlow([peerLinkStandin, storeModule, trendModule], [
      ...links.map((l) => (l.type === 'redundancy-store' ? { ...l, file: join(dir, `${l.id}.sqlite`) } : l)),
      { id: 'tr-a', link: 'link-a', store: 'store-a', ...common, wires: [['q-a'], ['g-a']] },
      { id: 'tr-b', link: 'link-b', store: 'store-b', ...common, wires: [['q-b'], ['g-b']] },
      { id: 'q-a', type: 'helper' }, { id: 'g-a', type: 'helper' }, { id: 'q-b', type: 'helper' }, { id: 'g-b', type: 'helper' },
    ]);
    const qB = collect('q-b');
    const gB = collect('g-b');
    await waitFor(() => /1 tags/.test(lastStatus('tr-b')?.text ?? ''), 5000, 'B started', () => lastStatus('tr-b'));
    let i = 0;
    let bFed = true;
    const feeder = setInterval(() => {
      i++;
      helper.getNode('tr-a').receive({ topic: 'TT1', payload: i });
      if (bFed) helper.getNode('tr-b').receive({ topic: 'TT1', payload: i });
    }, 40);
    try {
      await new Promise((r) => setTimeout(r, 800));
      // B loses its IO for a while (its samples go n/a), then gets it back: the n/a part is filled from A.
      bFed = false;
      await new Promise((r) => setTimeout(r, 1200));
      bFed = true;
      await waitFor(() => events.some((e) => e.pair === 'line1' && e.kind === 'backfill-complete' && /[1-9]\d* samples written/.test(e.reason)), 8000, 'a backfill that wrote samples', () => events.map((e) => `${e.kind}: ${e.reason}`));
    } finally {
      clearInterval(feeder);
    }
    // The event above may be A's (a loaded machine lets A's own samples go stale too): ask B until
    // its answer carries a backfilled interval (8 s at most).
    const ask = async (): Promise<boolean> => {
      const asked = qB.length;
      helper.getNode('tr-b').receive({ topic: 'query', payload: { tag: 'TT1', from: '-30s', maxPoints: 1000 } });
      await waitFor(() => qB.length > asked, 3000, 'the query result');
      return (qB.at(-1)!.backfilled as unknown[]).length > 0;
    };
    await until('an answer of B with a backfilled interval', 8000, ask, async () => qB.at(-1)?.backfilled, 300);
    const q = qB.at(-1)!;
    assert.equal(q.topic, 'TT1');
    assert.equal(q.action, 'replace');
    const points = q.payload as Array<{ x: number; y: number | null }>;
    const filled = q.backfilled as Array<{ from: number; to: number }>;
    assert.ok(filled.length >= 1, 'the backfilled interval is marked');
    const inFilled = points.filter((p) => filled.some((r) => p.x >= r.from && p.x < r.to));
    assert.ok(inFilled.length >= 1 && inFilled.every((p) => p.y !== null), `values where the peer filled: ${JSON.stringify(inFilled)}`);
    helper.getNode('tr-b').receive({ topic: 'gaps' });
    await waitFor(() => gB.some((m) => m.topic === 'gaps'), 3000, 'gaps');
    helper.getNode('tr-b').receive({ topic: 'query', payload: { tag: 'NOPE' } });
    helper.getNode('tr-b').receive({ topic: 'TT1', payload: 'NaN' });
    helper.getNode('tr-b').receive({ topic: 'TT1', payload: { v: 1 } });
    await waitFor(() => loggedErrors().length >= 3, 3000, 'three errors', () => loggedErrors());
    const errs = loggedErrors().join('\n');
    assert.match(errs, /unknown tag NOPE/);
    assert.match(errs, /value "NaN" of TT1 is not a number/);
    assert.match(errs, /is an object: send a number/);
  });

  it('redundancy-store: a bad PostgreSQL configuration is an error naming what is missing', async function () {
    await loadFlow([peerLinkStandin, storeModule, trendModule], [
      links[0],
      { id: 'pgbad', type: 'redundancy-store', backend: 'postgres', host: 'x', port: 99999, database: '', user: '' },
      { id: 'tr', type: 'trend-backfill', link: 'link-a', store: 'pgbad', group: 'g', period: 1000, wires: [[], []] },
    ]);
    await waitFor(() => lastStatus('tr')?.fill === 'red', 5000, 'red status', () => lastStatus('tr'));
    assert.match(lastStatus('tr')?.text ?? '', /store: port must be 1..65535/);
    assert.ok(loggedErrors().some((e) => /database name missing; user name missing/.test(e)), loggedErrors().join('\n'));
  });
});
