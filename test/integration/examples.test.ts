// Every example flow loads into the runtime and works as imported: its simulators start, the pair
// gets data, and the fault buttons fail the pair over. Ports are rewritten to free ones; core
// debug/inject/comment nodes are replaced by test helper nodes (the test helper loads no core nodes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import { collect, helper, loadFlow, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { EXAMPLES_DIR as EXAMPLES, type FlowNode as N, onFreePorts, readExample } from '../helpers/examples';
import { freePort } from '../helpers/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const simulatorModule = require('../../nodes/opcua-simulator');
const conditionModule = require('../../nodes/failover-condition');
const diagnosticsModule = require('../../nodes/redundancy-diagnostics');
const emailModule = require('node-red-node-email/61-email.js');
const peerLinkModule = require('../../nodes/peer-link');
const storeModule = require('../../nodes/redundancy-store');
const alarmModule = require('../../nodes/alarm-sync');
const trendModule = require('../../nodes/trend-backfill');
const dutyModule = require('../../nodes/duty');
/* eslint-enable @typescript-eslint/no-require-imports */
const MODULES = [pairModule, sourceModule, simulatorModule, conditionModule, diagnosticsModule, emailModule];
const OURS = new Set(['tab', 'redundant-pair', 'redundant-source', 'opcua-simulator', 'failover-condition', 'redundancy-diagnostics', 'e-mail']);


async function prepare(flow: N[]): Promise<{ flow: N[] }> {
  // Core and dashboard nodes become helper nodes (flow nodes) or are left out (config nodes).
  const out = (await onFreePorts(flow))
    .filter((n) => OURS.has(n.type as string) || n.wires !== undefined)
    .map((n) => (OURS.has(n.type as string) ? n : { id: n.id, type: 'helper', z: n.z, name: n.name, x: n.x, y: n.y, wires: n.wires ?? [] }));
  return { flow: out };
}

describe('examples run as imported', function () {
  this.timeout(40_000);
  let dir: string;
  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), 'examples-'));
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
    rmSync(dir, { recursive: true, force: true });
  });

  const files = readdirSync(EXAMPLES).filter((f) => /^0[1-3] .*\.json$/.test(f));
  it('examples/ is exactly what scripts/make-examples.mjs generates, node ids unique across examples', function () {
    const script = join(EXAMPLES, '..', 'scripts', 'make-examples.mjs');
    try {
      execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      assert.fail(String((err as { stderr?: string }).stderr || err));
    }
    const seen = new Map<string, string>();
    for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.json'))) {
      for (const n of readExample(f)) {
        assert.ok(!seen.has(n.id as string) || seen.get(n.id as string) === f, `node id ${String(n.id)} in ${f} and ${seen.get(n.id as string)}`);
        seen.set(n.id as string, f);
      }
    }
  });

  it('ships the examples of MISSION.md done so far (1-5, 9-12)', function () {
    assert.deepEqual(readdirSync(EXAMPLES).map((f) => f.slice(0, 2)).sort(), ['01', '02', '03', '04', '05', '09', '10', '11', '12']);
  });

  /** Examples 9 and 10 on one instance: the peer link's secret set (it cannot ship), its peer absent. */
  async function pairExample(file: string, modules: unknown[]): Promise<{ original: N[]; flow: N[] }> {
    const original = readExample(file);
    const nobody = await freePort();
    const ours = new Set([...OURS, 'peer-link', 'redundancy-store', 'alarm-sync', 'trend-backfill', 'duty']);
    const flow = original
      .filter((n) => ours.has(n.type as string) || n.wires !== undefined)
      .map((n) => {
        if (n.type === 'peer-link') return { ...n, peerUrl: `http://127.0.0.1:${nobody}`, heartbeatInterval: 200, heartbeatTimeout: 600 };
        if (n.type === 'redundancy-store') return { ...n, file: join(dir, `${n.id as string}.sqlite`) };
        if (n.type === 'alarm-sync') return { ...n, catchUpWait: 0.5 };
        return ours.has(n.type as string) ? n : { id: n.id, type: 'helper', z: n.z, name: n.name, x: n.x, y: n.y, wires: n.wires ?? [] };
      });
    const link = flow.find((n) => n.type === 'peer-link') as N;
    await loadFlow([...MODULES, ...modules], flow, { [link.id as string]: { secret: 'example-test-secret' } });
    return { original, flow };
  }

  it('09 (alarm server pair) loads: value alarms raised, the list on its ui-table with an Ack button column that acknowledges, the action on the duty instance', async function () {
    const { original } = await pairExample('09 - Alarm server pair.json', [peerLinkModule, storeModule, alarmModule, dutyModule]);
    const alarms = original.find((n) => n.type === 'alarm-sync') as N;
    const table = original.find((n) => n.type === 'ui-table') as N;
    assert.deepEqual((table.wires as string[][])[0], [alarms.id], 'table clicks go back to alarm-sync');
    assert.ok((table.columns as Array<{ key: string; type: string }>).some((c) => c.key === 'ack' && c.type === 'button'), 'an Ack button column');
    assert.equal((original.find((n) => n.type === 'peer-link') as N).credentials, undefined, 'no secret shipped');
    const rows = collect(table.id as string);
    const actionsOut = collect(((alarms.wires as string[][])[0][0]));
    const node = helper.getNode(alarms.id as string);
    await waitFor(() => rows.length > 0, 10_000, 'the first list');
    node.receive({ topic: 'TIC101.PV', payload: 85 });
    const tripButton = original.find((n) => n.type === 'ui-button' && n.name === 'Trip pump P101') as N;
    node.receive({ topic: tripButton.topic, payload: JSON.parse(tripButton.payload as string) });
    const last = () => (rows[rows.length - 1]?.payload ?? []) as Array<Record<string, unknown>>;
    await waitFor(() => last().length === 2, 10_000, 'two alarms listed (TIC101.HI after its 2 s delay, P101.TRIP)', () => last());
    const row = last().find((r) => r.key === 'P101.TRIP')!;
    assert.equal(row.ack, 'Ack');
    node.receive({ action: 'button_click', column: 'ack', payload: row });
    await waitFor(() => last().find((r) => r.key === 'P101.TRIP')?.acked === true, 5000, 'acknowledged by the button');
    // The peer is absent: without a witness this instance takes the duty after the timeout and runs the on actions.
    await waitFor(() => actionsOut.length === 2, 10_000, 'two on actions', () => actionsOut);
    assert.deepEqual(actionsOut.map((m) => m.payload), ['on', 'on']);
  });

  it('10 (trend server pair) loads: samples both tags, the chart query answers, the series function splits own and backfilled samples', async function () {
    const { original } = await pairExample('10 - Trend server pair with backfill.json', [peerLinkModule, storeModule, trendModule]);
    const trends = original.find((n) => n.type === 'trend-backfill') as N;
    const byTag = collect(((trends.wires as string[][])[0][0]));
    const node = helper.getNode(trends.id as string);
    const feed = setInterval(() => {
      node.receive({ topic: 'TIC101.PV', payload: 70 + Math.random() });
      node.receive({ topic: 'FIC102.PV', payload: 50 });
    }, 200);
    try {
      await sleep(2600);
      const query = original.find((n) => n.type === 'inject' && n.topic === 'query') as N;
      node.receive({ topic: 'query', payload: JSON.parse(query.payload as string) });
      await waitFor(() => byTag.length === 1, 5000, 'the query result');
    } finally {
      clearInterval(feed);
    }
    const res = byTag[0];
    assert.equal(res.topic, 'TIC101.PV');
    const points = res.payload as Array<{ x: number; y: number | null }>;
    assert.ok(points.filter((p) => p.y !== null).length >= 1, JSON.stringify(points));
    // The chart function of the example, run on a result with a backfilled run.
    const fn = original.find((n) => n.type === 'function' && n.name === 'own / backfilled') as N;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const run = new Function('msg', fn.func as string) as (m: Record<string, unknown>) => { payload: Array<{ x: number; y: number | null; series: string }> };
    const out = run({ topic: 'TIC101.PV', payload: [{ x: 1000, y: 1 }, { x: 2000, y: 2 }, { x: 3000, y: null }], backfilled: [{ from: 2000, to: 3000 }] });
    assert.deepEqual(out.payload.filter((p) => p.y !== null).map((p) => [p.x, p.series]), [[1000, 'TIC101.PV (sampled here)'], [2000, 'TIC101.PV (filled from the other instance)']]);
    const chart = original.find((n) => n.type === 'ui-chart') as N;
    assert.deepEqual([chart.category, chart.categoryType, chart.xAxisProperty, chart.yAxisProperty], ['series', 'property', 'x', 'y']);
  });

  it('04 (failover conditions with e-mail): a stale primary fails over, the event is mail-ready', async function () {
    const original = readExample('04 - Failover conditions with e-mail.json');
    const { flow } = await prepare(original);
    await loadFlow(MODULES, flow);
    const pair = helper.getNode((flow.find((n) => n.type === 'redundant-pair') as N).id as string).pair as RedundantPair;
    const mails = collect((original.find((n) => n.type === 'debug' && n.name === 'e-mail ready events') as N).id as string);
    await waitFor(() => pair.getActive() === 'primary', 20_000, 'the pair on the primary', () => pair.status());
    await sleep(1000);
    const freeze = original.find((n) => n.type === 'inject' && n.payload === 'freeze') as N;
    helper.getNode((freeze.wires as string[][])[0][0]).receive({ payload: 'freeze' });
    await waitFor(() => pair.getActive() === 'secondary', 10_000, 'failover on the stale counter', () => pair.status());
    await waitFor(() => mails.some((m) => /Failover to secondary/.test(String(m.topic))), 5000, 'a mail-ready failover message', () => mails.map((m) => m.topic));
  });

  it('12 (diagnostics to e-mail and dashboard, the npm start demo): status table and events flow', async function () {
    const original = readExample('12 - Diagnostics to e-mail and dashboard.json');
    const { flow } = await prepare(original);
    await loadFlow(MODULES, flow);
    const pair = helper.getNode((flow.find((n) => n.type === 'redundant-pair') as N).id as string).pair as RedundantPair;
    const tableNode = original.find((n) => n.type === 'ui-table' && n.name === 'Pairs') as N;
    const table = collect(tableNode.id as string);
    await waitFor(() => pair.getActive() === 'primary', 20_000, 'the pair on the primary', () => pair.status());
    const crash = original.find((n) => n.type === 'ui-button' && n.payload === 'crash') as N;
    helper.getNode((crash.wires as string[][])[0][0]).receive({ payload: 'crash' });
    await waitFor(() => table.some((m) => (m.payload as Array<{ active: string }>)[0]?.active === 'secondary'), 10_000, 'the status table showing the secondary');
  });

  for (const file of files) {
    it(`${file}: data flows, and "crash primary" fails over to the secondary`, async function () {
      const original = readExample(file);
      const { flow } = await prepare(original);
      await loadFlow(MODULES, flow);
      const pairDef = flow.find((n) => n.type === 'redundant-pair') as N;
      const pair = helper.getNode(pairDef.id as string).pair as RedundantPair;
      const debugNode = original.find((n) => n.type === 'debug') as N;
      const out = collect(debugNode.id as string);
      await waitFor(() => pair.getActive() === 'primary' && out.length >= 3, 20_000, `${file}: data from the primary`, () => pair.status());
      assert.ok(out.every((m) => m.server === 'primary'));
      const crash = original.find((n) => n.type === 'inject' && n.payload === 'crash') as N;
      const simId = (crash.wires as string[][])[0][0];
      helper.getNode(simId).receive({ payload: 'crash' });
      await waitFor(() => pair.getActive() === 'secondary', 10_000, `${file}: failover`, () => pair.status());
      const n = out.length;
      await waitFor(() => out.length > n + 2 && out[out.length - 1].server === 'secondary', 10_000, `${file}: data from the secondary`);
    });
  }
});
