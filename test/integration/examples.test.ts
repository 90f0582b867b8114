// Every example flow loads into the runtime and works as imported: its simulators start, the pair
// gets data, and the fault buttons fail the pair over. Ports are rewritten to free ones; core
// debug/inject/comment nodes are replaced by test helper nodes (the test helper loads no core nodes).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import { collect, helper, loadFlow, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { EXAMPLES_DIR as EXAMPLES, type FlowNode as N, onFreePorts, readExample } from '../helpers/examples';

/* eslint-disable @typescript-eslint/no-require-imports */
const simulatorModule = require('../../nodes/opcua-simulator');
const conditionModule = require('../../nodes/failover-condition');
const diagnosticsModule = require('../../nodes/redundancy-diagnostics');
const emailModule = require('node-red-node-email/61-email.js');
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
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
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

  it('ships the examples of MISSION.md done so far (1-4, 11, 12)', function () {
    assert.deepEqual(readdirSync(EXAMPLES).map((f) => f.slice(0, 2)).sort(), ['01', '02', '03', '04', '11', '12']);
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
