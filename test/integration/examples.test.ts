// Every example flow loads into the runtime and works as imported: its simulators start, the pair
// gets data, and the fault buttons fail the pair over. Ports are rewritten to free ones; core
// debug/inject/comment nodes are replaced by test helper nodes (the test helper loads no core nodes).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import { collect, helper, loadFlow, pairModule, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const simulatorModule = require('../../nodes/opcua-simulator');

const EXAMPLES = join(__dirname, '..', '..', '..', 'examples');
type N = Record<string, unknown>;

async function prepare(flow: N[]): Promise<{ flow: N[]; ports: Map<number, number> }> {
  const ports = new Map<number, number>();
  for (const n of flow) if (n.type === 'opcua-simulator') ports.set(Number(n.port), await freePort());
  const text = JSON.stringify(flow).replace(/(127\.0\.0\.1:)(\d+)/g, (_m, host: string, port: string) => `${host}${ports.get(Number(port)) ?? port}`);
  const out = (JSON.parse(text) as N[])
    .filter((n) => n.type !== 'comment')
    .map((n) => {
      if (n.type === 'opcua-simulator') return { ...n, port: ports.get(Number(n.port)) };
      if (n.type === 'debug' || n.type === 'inject') return { id: n.id, type: 'helper', z: n.z, name: n.name, payload: n.payload, topic: n.topic, x: n.x, y: n.y, wires: n.wires ?? [] };
      return n;
    });
  return { flow: out, ports };
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
  it('ships the three OPC UA pair examples', function () {
    assert.equal(files.length, 3, files.join(', '));
  });

  for (const file of files) {
    it(`${file}: data flows, and "crash primary" fails over to the secondary`, async function () {
      const original = JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as N[];
      const { flow } = await prepare(original);
      await loadFlow([pairModule, sourceModule, simulatorModule], flow);
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
