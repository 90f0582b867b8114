// Bad configuration and lifecycle, in the real runtime against real simulators: a clear error
// and a red status, the rest of the flow unaffected; credentials kept out of the flow; every
// socket and timer released on redeploy.
import assert from 'node:assert/strict';
import type { RedundantPair } from '../../lib/core/pair';
import { OpcuaSimulator, SIM_ITEMS, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { collect, helper, lastStatus, loadFlow, opcuaPairDef, loggedErrors, openHandles, pairModule, sleep, sourceModule, startServer, statusesOf, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

function sourceDef(id: string, pair: string, items: Array<{ id: string; name?: string }>, wire: string): Record<string, unknown> {
  return { id, type: 'redundant-source', pair, items, samplingInterval: 0, output: 'change', wires: [[wire]] };
}

describe('redundant-pair and redundant-source: configuration and lifecycle', function () {
  this.timeout(30_000);
  let primary: OpcuaSimulator;
  let secondary: OpcuaSimulator;

  before(async function () {
    primary = new OpcuaSimulator({ port: await freePort(), name: 'cfg-primary', users: [{ user: 'operator', password: 's3cret' }] });
    secondary = new OpcuaSimulator({ port: await freePort(), name: 'cfg-secondary', users: [{ user: 'operator', password: 's3cret' }] });
    await Promise.all([primary.start(), secondary.start()]);
  });
  after(async function () {
    await Promise.all([primary.stop(), secondary.stop()]);
  });
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
  });

  it('a malformed endpoint gives a clear error and a red status; a good pair beside it keeps working', async function () {
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('bad', 'bad-pair', 'http://not-opc-ua', secondary.endpointUrl),
      sourceDef('badsrc', 'bad', [{ id: SIM_ITEMS.counter }], 'badout'),
      { id: 'badout', type: 'helper', wires: [] },
      opcuaPairDef('good', 'good-pair', primary.endpointUrl, secondary.endpointUrl),
      sourceDef('goodsrc', 'good', [{ id: SIM_ITEMS.counter, name: 'counter' }], 'goodout'),
      { id: 'goodout', type: 'helper', wires: [] },
    ]);
    const good = collect('goodout');
    await waitFor(() => good.length >= 3, 10_000, 'data through the good pair');
    const errors = loggedErrors().join('\n');
    assert.match(errors, /primary endpoint: "http:\/\/not-opc-ua" uses http:\/\/; an OPC UA endpoint starts with opc\.tcp:\/\//);
    assert.equal(errors.split('not-opc-ua').length - 1, 1, `the pair's error is logged once, not again by its users:\n${errors}`);
    const status = lastStatus('badsrc');
    assert.equal(status?.fill, 'red');
    assert.match(status?.text ?? '', /^pair config: primary endpoint \(see the log\)$/);
  });

  it('batched output: one message per notification, its changes named, only the node\'s own items', async function () {
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('pair-b', 'line-pair', primary.endpointUrl, secondary.endpointUrl),
      { ...sourceDef('batch', 'pair-b', [{ id: SIM_ITEMS.counter, name: 'counter' }, { id: SIM_ITEMS.sine }], 'bout'), output: 'batch' },
      sourceDef('other', 'pair-b', [{ id: SIM_ITEMS.randomWalk, name: 'walk' }], 'oout'),
      { id: 'bout', type: 'helper', wires: [] },
      { id: 'oout', type: 'helper', wires: [] },
    ]);
    const out = collect('bout');
    const other = collect('oout');
    await waitFor(() => out.length >= 3 && other.length >= 1, 10_000, 'batched and per-change data');
    const changes = out.flatMap((m) => {
      assert.equal(m.topic, 'line-pair');
      assert.equal(m.pair, 'line-pair');
      assert.ok(Array.isArray(m.payload) && m.payload.length > 0, 'a batch holds changes');
      const payload = m.payload as Array<Record<string, unknown>>;
      for (const c of payload) assert.equal(c.server, m.server, 'a batch comes from one server');
      return payload;
    });
    assert.deepEqual([...new Set(changes.map((c) => c.item))].filter((i) => i === SIM_ITEMS.randomWalk), [], 'no item of another source node');
    const counter = changes.filter((c) => c.item === SIM_ITEMS.counter);
    assert.ok(counter.length >= 2, 'the counter in the batches');
    for (const c of counter) {
      assert.equal(c.name, 'counter', 'named by the node');
      assert.equal(c.statusCode, 'Good');
      assert.equal(typeof c.value, 'number');
      assert.equal(typeof c.sourceTimestamp, 'number');
    }
    assert.equal(changes.find((c) => c.item === SIM_ITEMS.sine)?.name, SIM_ITEMS.sine, 'an unnamed item is named by its id');
  });

  it('no items, or an invalid node id, is a configuration error', async function () {
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl),
      sourceDef('none', 'pair-x', [], 'o1'),
      sourceDef('invalid', 'pair-x', [{ id: 'ns=1;x=nonsense' }], 'o2'),
      { id: 'o1', type: 'helper', wires: [] },
      { id: 'o2', type: 'helper', wires: [] },
    ]);
    const errors = loggedErrors().join('\n');
    assert.match(errors, /add at least one item/);
    assert.match(errors, /item 1 \(ns=1;x=nonsense\): "ns=1;x=nonsense" is not a node id/);
    assert.equal(lastStatus('none')?.fill, 'red');
    assert.equal(lastStatus('invalid')?.fill, 'red');
    // a message to a misconfigured node fails clearly too (Catch-able)
    helper.getNode('invalid').receive({ topic: 'x', payload: 1 });
    await waitFor(() => loggedErrors().length > 2, 2000, 'the input error');
  });

  it('an item unknown to the server is reported and the other items still flow', async function () {
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl),
      sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter, name: 'counter' }, { id: 'ns=1;s=Does.Not.Exist', name: 'ghost' }], 'out'),
      { id: 'out', type: 'helper', wires: [] },
    ]);
    const out = collect('out');
    await waitFor(() => out.filter((m) => m.topic === 'counter').length >= 3, 10_000, 'counter data');
    await waitFor(() => /refused/.test(lastStatus('src')?.text ?? ''), 5000, 'the refused item on the status', () => statusesOf('src'));
    assert.equal(lastStatus('src')?.fill, 'yellow');
  });

  it('an unreachable host ends red with the reason, and recovers without a redeploy', async function () {
    const port = await freePort();
    const late = new OpcuaSimulator({ port, name: 'late' });
    const port2 = await freePort();
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('pair-x', 'line-pair', late.endpointUrl, simulatorEndpointUrl(port2)),
      sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter, name: 'counter' }], 'out'),
      { id: 'out', type: 'helper', wires: [] },
    ]);
    const pair = helper.getNode('pair-x').pair as RedundantPair;
    await waitFor(() => lastStatus('src')?.fill === 'red' && /connection refused/.test(lastStatus('src')?.text ?? ''), 8000, 'a red status with the reason', () => statusesOf('src'));
    assert.match(lastStatus('src')?.text ?? '', /no server: connect failed: connection refused/);
    helper.getNode('src').receive({ topic: 'counter', payload: 5 });
    await waitFor(() => loggedErrors().some((e) => /no active server/.test(e)), 3000, 'a Catch-able write error');
    const out = collect('out');
    await late.start();
    try {
      await waitFor(() => pair.getActive() === 'primary' && out.length > 0, 15_000, 'recovery once the server is there', () => pair.status());
      assert.equal(lastStatus('src')?.fill, 'green');
    } finally {
      await late.stop();
    }
  });

  it('logs in with user/password from credentials, never from the flow JSON', async function () {
    const flow = [
      opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl, { authMode: 'username' }),
      sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter, name: 'counter' }], 'out'),
      { id: 'out', type: 'helper', wires: [] },
    ];
    assert.ok(!JSON.stringify(flow).includes('s3cret'));
    await loadFlow([pairModule, sourceModule], flow, { 'pair-x': { user: 'operator', password: 's3cret' } });
    const out = collect('out');
    await waitFor(() => out.length >= 2, 10_000, 'data with a user login');
  });

  it('connects with SignAndEncrypt / Basic256Sha256 and a user login', async function () {
    await loadFlow([pairModule, sourceModule], [
      // Commissioning mode: the simulators' certificates are not in a trust list here (the
      // certificate flow itself is test/integration/certificates.test.ts).
      opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl, { securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authMode: 'username', acceptUnknownCertificates: true }),
      sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter, name: 'counter' }], 'out'),
      { id: 'out', type: 'helper', wires: [] },
    ], { 'pair-x': { user: 'operator', password: 's3cret' } });
    const out = collect('out');
    await waitFor(() => out.length >= 2, 20_000, 'data over an encrypted channel', () => statusesOf('src'));
  });

  it('gateway-expose on a pair with a configuration error: the pair logs it once; the node shows it and refuses messages without logging it again', async function () {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const modules = [pairModule, require('../../nodes/redundancy-gateway'), require('../../nodes/gateway-expose')];
    /* eslint-enable @typescript-eslint/no-require-imports */
    await loadFlow(modules, [
      opcuaPairDef('bad', 'bad-pair', 'http://not-opc-ua', secondary.endpointUrl),
      // A gateway that does not start (nobody could log in): the expose node has a gateway node, no server is opened.
      { id: 'gw', type: 'redundancy-gateway', port: await freePort(), allowAnonymous: false, users: [] },
      { id: 'expose', type: 'gateway-expose', gateway: 'gw', pair: 'bad', items: [{ id: SIM_ITEMS.counter }], wires: [[]] },
    ]);
    const status = lastStatus('expose');
    assert.deepEqual([status?.fill, status?.shape], ['red', 'ring']);
    assert.equal(status?.text, 'pair config: primary endpoint (see the log)');
    const pairErrors = () => loggedErrors().filter((e) => e.includes('not-opc-ua'));
    assert.equal(pairErrors().length, 1, `the pair's error is logged once, not again by its users:\n${loggedErrors().join('\n')}`);
    helper.getNode('expose').receive({ topic: 'status' });
    await waitFor(() => pairErrors().length === 2, 2000, 'the message refused with the pair\'s error', () => loggedErrors());
    assert.match(pairErrors()[1], /^Error: .*primary endpoint: "http:\/\/not-opc-ua" uses http:\/\//);
  });

  it('gateway-expose, duty and standby-write without their config nodes: the shared report (one log line, red "config:" status, every message refused)', async function () {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const modules = [require('../../nodes/gateway-expose'), require('../../nodes/duty'), require('../../nodes/standby-write')];
    /* eslint-enable @typescript-eslint/no-require-imports */
    await loadFlow(modules, [
      { id: 'expose', type: 'gateway-expose', gateway: '', pair: '', items: [], wires: [[]] },
      { id: 'duty', type: 'duty', link: '', wires: [[], []] },
      { id: 'sw', type: 'standby-write', link: '', store: 'plant', wires: [[]] },
    ]);
    const expected: Record<string, RegExp> = { expose: /gateway/i, duty: /no peer link configured/, sw: /peer link/i };
    for (const [id, re] of Object.entries(expected)) {
      const status = lastStatus(id);
      assert.deepEqual([status?.fill, status?.shape], ['red', 'ring'], id);
      assert.match(status?.text ?? '', /^config: /, id);
      assert.match(status?.text ?? '', re, id);
    }
    const before = loggedErrors();
    assert.equal(before.length, 3, `one log line per node: ${before.join('\n')}`);
    for (const id of Object.keys(expected)) helper.getNode(id).receive({ payload: 1 });
    await waitFor(() => loggedErrors().length === 6, 2000, 'each message refused with the configuration error', () => loggedErrors());
    assert.deepEqual(loggedErrors().slice(3), before.map((text) => `Error: ${text}`), 'the message fails with the logged text');
  });

  it('a wrong password is a clear error on the status', async function () {
    await loadFlow([pairModule, sourceModule], [
      opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl, { authMode: 'username' }),
      sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter }], 'out'),
      { id: 'out', type: 'helper', wires: [] },
    ], { 'pair-x': { user: 'operator', password: 'wrong' } });
    await waitFor(() => /login refused|BadUserAccessDenied|BadIdentityToken/.test(lastStatus('src')?.text ?? ''), 10_000, 'a login error on the status', () => statusesOf('src'));
    assert.equal(lastStatus('src')?.fill, 'red');
  });

  it('releases every socket and timer on redeploy', async function () {
    await sleep(300);
    const before = openHandles();
    for (let round = 0; round < 2; round++) {
      await loadFlow([pairModule, sourceModule], [
        opcuaPairDef('pair-x', 'line-pair', primary.endpointUrl, secondary.endpointUrl),
        sourceDef('src', 'pair-x', [{ id: SIM_ITEMS.counter, name: 'counter' }], 'out'),
        { id: 'out', type: 'helper', wires: [] },
      ]);
      const out = collect('out');
      await waitFor(() => out.length >= 3, 10_000, 'data');
      await helper.unload();
    }
    await waitFor(() => openHandles().sockets <= before.sockets, 5000, 'sockets released', () => ({ before, now: openHandles(), resources: process.getActiveResourcesInfo() }));
    await waitFor(() => openHandles().timers <= before.timers, 5000, 'timers released', () => ({ before, now: openHandles() }));
  });
});
