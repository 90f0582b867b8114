// The gateway examples as imported: example 5 (two pairs with aliases behind one endpoint) and the
// `npm start` demo's gateway (example 12), with a plain node-opcua client in its own process, the
// way the README tells a user to try them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import type { GatewayServer } from '../../lib/gateway/server';
import { SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { type FlowNode as N, onFreePorts, readExample } from '../helpers/examples';
import { helper, holes, loadFlow, loggedErrors, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { UaClientProcess } from '../helpers/ua-clients';

/* eslint-disable @typescript-eslint/no-require-imports */
const MODULES = [
  pairModule,
  sourceModule,
  require('../../nodes/opcua-simulator'),
  require('../../nodes/failover-condition'),
  require('../../nodes/redundancy-diagnostics'),
  require('../../nodes/redundancy-gateway'),
  require('../../nodes/gateway-expose'),
  require('node-red-node-email/61-email.js'),
];
/* eslint-enable @typescript-eslint/no-require-imports */
const OURS = new Set(['tab', 'redundant-pair', 'redundant-source', 'opcua-simulator', 'failover-condition', 'redundancy-diagnostics', 'e-mail', 'redundancy-gateway', 'gateway-expose']);

/** Core and dashboard nodes become helper nodes (flow nodes) or are left out (config nodes). */
async function prepare(file: string): Promise<N[]> {
  return (await onFreePorts(readExample(file)))
    .filter((n) => OURS.has(n.type as string) || n.wires !== undefined)
    .map((n) => (OURS.has(n.type as string) ? n : { id: n.id, type: 'helper', z: n.z, name: n.name, x: n.x, y: n.y, wires: n.wires ?? [] }));
}

describe('gateway examples as imported', function () {
  this.timeout(60_000);
  let userDir: string;
  let clients: UaClientProcess;

  before(async function () {
    userDir = mkdtempSync(join(tmpdir(), 'gateway-examples-'));
    clients = await UaClientProcess.start();
    helper.settings({ userDir });
  });
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
  });
  after(async function () {
    await clients?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('05: two pairs under their aliases behind one endpoint; a crash under line1 is invisible to its client', async function () {
    const flow = await prepare('05 - Several pairs with aliases behind one gateway.json');
    await loadFlow(MODULES, flow);
    const pairs = flow.filter((n) => n.type === 'redundant-pair').map((n) => helper.getNode(n.id as string).pair as RedundantPair);
    const gateway = (await helper.getNode(flow.find((n) => n.type === 'redundancy-gateway')!.id as string).ready) as GatewayServer;
    await waitFor(() => pairs.every((p) => p.getActive() === 'primary') && gateway.state().pairs.every((p) => p.state === 'ready') && gateway.serviceLevel === 255, 30_000, 'both pairs on their primaries, the address space built', () => ({ gw: gateway.state(), log: loggedErrors() }));
    const c = await clients.connect({ url: gateway.endpointUrl.replace(/\/\/[^:/]+:/, '//127.0.0.1:') });
    const folders = (await clients.browse(c, 'i=85')).refs.map((r) => r.nodeId);
    assert.ok(folders.includes('ns=2;s=line1') && folders.includes('ns=2;s=line2'), folders.join(', '));
    const line2 = (await clients.browse(c, 'ns=2;s=line2')).refs.map((r) => r.displayName);
    assert.ok(['Counter', 'Sine', 'Setpoint', 'Array'].every((n) => line2.includes(n)), `line2 mirrors the Simulation folder: ${line2.join(', ')}`);
    const counter = `ns=2;s=line1/${SIM_ITEMS.counter}`;
    const [v1, v2] = await clients.read(c, [counter, `ns=2;s=line2/${SIM_ITEMS.counter}`]);
    assert.deepEqual([v1.status, v2.status], ['Good', 'Good']);
    assert.deepEqual(await clients.subscribe(c, [counter], 0, 1000), ['Good']);
    await sleep(1000);
    const crash = flow.find((n) => n.type === 'helper' && n.name === 'crash line 1 primary')!;
    helper.getNode((crash.wires as string[][])[0][0]).receive({ payload: 'crash' });
    await waitFor(() => pairs[0].getActive() === 'secondary', 10_000, 'line 1 fails over', () => pairs[0].status());
    await waitFor(() => gateway.serviceLevel < 200 && gateway.serviceLevel > 1, 5000, 'ServiceLevel degraded');
    const n = (await clients.received(c, counter)).length;
    for (const deadline = Date.now() + 10_000; (await clients.received(c, counter)).length < n + 10; await sleep(100)) assert.ok(Date.now() < deadline, 'values go on');
    const values = (await clients.received(c, counter)).filter((r) => r.status === 'Good').map((r) => r.value as number);
    assert.deepEqual(holes(values), [], 'no hole (hot pair)');
    assert.deepEqual((await clients.info(c)).broken, []);
    await clients.close(c);
  });

  it('12 (the npm start demo): its gateway serves the demo pair to a plain client, as the README shows', async function () {
    const flow = await prepare('12 - Diagnostics to e-mail and dashboard.json');
    await loadFlow(MODULES, flow);
    const pair = helper.getNode(flow.find((n) => n.type === 'redundant-pair')!.id as string).pair as RedundantPair;
    const gateway = (await helper.getNode(flow.find((n) => n.type === 'redundancy-gateway')!.id as string).ready) as GatewayServer;
    await waitFor(() => pair.getActive() === 'primary' && gateway.state().pairs[0]?.state === 'ready', 30_000, 'the demo gateway ready', () => ({ gw: gateway.state(), log: loggedErrors() }));
    const c = await clients.connect({ url: gateway.endpointUrl.replace(/\/\/[^:/]+:/, '//127.0.0.1:') });
    const names = (await clients.browse(c, 'ns=2;s=demo')).refs.map((r) => r.displayName);
    assert.deepEqual([...names].sort(), ['Counter', 'RandomWalk', 'Setpoint', 'Sine']);
    const [counter, level] = await clients.read(c, [`ns=2;s=demo/${SIM_ITEMS.counter}`, 'i=2267']);
    assert.equal(counter.status, 'Good');
    assert.equal(level.value, 255);
    await clients.close(c);
  });
});
