// The gateway as a plant's OPC UA clients see it: a separate node-opcua client process connects to
// the gateway (a redundancy-gateway + gateway-expose flow in the real Node-RED runtime, in front of a
// hot pair of real simulators), browses the alias folder, reads, subscribes and writes; the primary
// crashes and is blackholed under it; 20 clients share one upstream monitored item per node
// (counted on the upstream servers themselves); ServiceLevel follows the pair; bad input gets the
// proper status code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import type { GatewayServer } from '../../lib/gateway/server';
import { SIM_ITEMS, bulkItemId, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../../lib/sim/sim-process';
import { FaultProxy } from '../helpers/fault-proxy';
import { helper, holes, loadFlow, loggedErrors, pairModule, sleep, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';
import { UaClientProcess } from '../helpers/ua-clients';

/* eslint-disable @typescript-eslint/no-require-imports */
const gatewayModule = require('../../nodes/redundancy-gateway');
const exposeModule = require('../../nodes/gateway-expose');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Pings answer within this even on a loaded machine (the gateway, the runtime and 2 000 client
 * monitored items share this process); hot mode notices a silent primary from the data streams first.
 */
const PING = 2000;
/** A failover is decided within ping interval + timeout; room for a loaded machine on top. */
const FAILOVER_MS = 2 * PING + 5000;
const HOLD_OFF = 1500;
const BULK = 100;
/** The gateway's namespace is the first one it registers: ns=2 (after the server's own ns=1). */
const NS = 'ns=2';
const node = (id: string) => `${NS};s=line1/${id}`;
const SERVICE_LEVEL = 'i=2267';

describe('gateway: one OPC UA server for a redundant pair, as a separate client sees it', function () {
  this.timeout(90_000);
  let userDir: string;
  let pPort: number;
  let primary: SimulatorProcess;
  let secondary: SimulatorProcess;
  let pProxy: FaultProxy;
  let sProxy: FaultProxy;
  let pair: RedundantPair;
  let gateway: GatewayServer;
  let url: string;
  let clients: UaClientProcess;
  let anon: number;
  let operator: number;
  let watcher: number;
  const events: string[] = [];

  let sPort: number;
  // Both servers in processes of their own: a real crash, and the gateway's process measured alone.
  // Bulk items change every second: 20 clients × 100 items is 2 000 notifications/s, not 20 000.
  const spawnSim = (port: number, proxy: FaultProxy, name: string) => SimulatorProcess.spawn({ port, name, counterPeriodMs: 100, bulkItems: BULK, bulkPeriodMs: 1000, advertisedUrls: [proxy.rewrite(simulatorEndpointUrl(port))] });
  const spawnPrimary = () => spawnSim(pPort, pProxy, 'gw-primary');
  const serviceLevel = async () => (await clients.read(anon, [SERVICE_LEVEL]))[0].value as number;
  const counterValues = async () => (await clients.received(watcher, node(SIM_ITEMS.counter))).filter((r) => r.status === 'Good').map((r) => r.value as number);
  const countsOf = async (sim: SimulatorProcess) => (await sim.call('monitoredItems').catch(() => ({}))) as Record<string, number>;
  const primaryCounts = () => countsOf(primary);
  const secondaryCounts = () => countsOf(secondary);

  before(async function () {
    userDir = mkdtempSync(join(tmpdir(), 'gateway-test-'));
    pPort = await freePort();
    sPort = await freePort();
    const gwPort = await freePort();
    pProxy = await FaultProxy.start('127.0.0.1', pPort);
    sProxy = await FaultProxy.start('127.0.0.1', sPort);
    primary = await spawnPrimary();
    secondary = await spawnSim(sPort, sProxy, 'gw-secondary');
    clients = await UaClientProcess.start();
    helper.settings({ userDir });
    await startServer();
    await loadFlow(
      [pairModule, gatewayModule, exposeModule],
      [
        { id: 'tab', type: 'tab', label: 'gateway' },
        {
          id: 'pair', type: 'redundant-pair', name: 'line1', protocol: 'opcua',
          primaryEndpoint: pProxy.rewrite(simulatorEndpointUrl(pPort)), secondaryEndpoint: sProxy.rewrite(simulatorEndpointUrl(sPort)),
          securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'hot',
          pingInterval: PING, pingTimeout: PING, autoPromote: true, holdOff: HOLD_OFF, reconnectMax: 1000,
        },
        {
          id: 'gw', type: 'redundancy-gateway', name: 'test gateway', port: gwPort, hostname: '127.0.0.1', applicationName: 'gateway-test',
          modeNone: true, modeSign: false, modeSignAndEncrypt: false, allowAnonymous: true, anonymousWrite: false, readOnly: false,
          users: [{ name: 'operator', write: true, slot: 0 }],
        },
        {
          id: 'expose', type: 'gateway-expose', z: 'tab', name: '', gateway: 'gw', pair: 'pair', alias: '',
          items: [{ id: SIM_ITEMS.counter }, { id: SIM_ITEMS.setpoint, name: 'Setpoint' }, { id: SIM_ITEMS.array }],
          mirrorRoots: 'ns=1;s=Bulk', mirrorDepth: 1, maxNodes: 500, wires: [['state']],
        },
        { id: 'state', type: 'helper', z: 'tab', wires: [] },
      ],
      { gw: { password0: 'secret' } },
    );
    pair = helper.getNode('pair').pair as RedundantPair;
    pair.on('event', (e) => events.push(`${new Date(e.time).toISOString().slice(17, 23)} ${e.kind} ${e.server ?? ''}${e.from ? `${e.from}→${e.to}` : ''}: ${e.reason}`));
    gateway = (await helper.getNode('gw').ready) as GatewayServer;
    url = gateway.endpointUrl;
    await waitFor(() => pair.getActive() === 'primary' && gateway.state().pairs[0]?.state === 'ready', 20_000, 'the pair on the primary and the address space built', () => ({ pair: pair.status(), gw: gateway.state(), log: loggedErrors() }));
    anon = await clients.connect({ url });
    operator = await clients.connect({ url, user: 'operator', password: 'secret' });
    watcher = await clients.connect({ url });
  });

  after(async function () {
    await clients?.stop();
    await helper.unload().catch(() => undefined);
    await stopServer().catch(() => undefined);
    await Promise.allSettled([pProxy?.close(), sProxy?.close(), primary?.close(), secondary?.close()]);
    rmSync(userDir, { recursive: true, force: true });
  });

  it('browses the alias folder: the items and the mirrored subtree with upstream names, types, shapes and access', async function () {
    const objects = await clients.browse(anon, 'i=85');
    assert.ok(objects.refs.some((r) => r.nodeId === `${NS};s=line1` && r.browseName.endsWith('line1')), `a line1 folder under Objects: ${objects.refs.map((r) => r.browseName).join(', ')}`);
    const folder = await clients.browse(anon, `${NS};s=line1`);
    const names = folder.refs.map((r) => r.displayName);
    assert.ok(['Counter', 'Setpoint', 'Array', 'Bulk.00000', 'Bulk.00099'].every((n) => names.includes(n)), names.join(', '));
    assert.equal(folder.refs.length, 3 + BULK);
    // DataType (attribute 14), ValueRank (15), ArrayDimensions (16), AccessLevel (17), UserAccessLevel (18)
    const [counterType, arrayRank, setpointAccess, counterAccess] = await Promise.all([
      clients.read(anon, [node(SIM_ITEMS.counter)], 14),
      clients.read(anon, [node(SIM_ITEMS.array)], 15),
      clients.read(anon, [node(SIM_ITEMS.setpoint)], 17),
      clients.read(anon, [node(SIM_ITEMS.counter)], 17),
    ]);
    assert.equal(counterType[0].value, 'ns=0;i=7', 'Counter is UInt32 (i=7)');
    assert.equal(arrayRank[0].value, 1, 'Array is one-dimensional');
    assert.equal((setpointAccess[0].value as number) & 3, 3, 'Setpoint readable and writable');
    assert.equal((counterAccess[0].value as number) & 3, 1, 'Counter read-only');
  });

  it('reads the live value with the upstream status and source timestamp (no re-stamping); an unknown node is BadNodeIdUnknown', async function () {
    const [counter, array, unknown] = await clients.read(anon, [node(SIM_ITEMS.counter), node(SIM_ITEMS.array), `${NS};s=line1/ns=1;s=Nope`]);
    assert.equal(counter.status, 'Good');
    assert.equal(counter.dataType, 'UInt32');
    // The simulator stamps tick n with n × 100 ms and counts n (mod 2^32): the source timestamp is the server's.
    assert.ok(counter.source !== undefined && counter.source % 100 === 0, `source timestamp on a tick: ${counter.source}`);
    assert.equal(counter.value, (counter.source! / 100) >>> 0);
    assert.equal((array.value as number[]).length, 4);
    assert.equal(unknown.status, 'BadNodeIdUnknown');
  });

  it('writes go to the active server only and return the real result', async function () {
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), 42.5, 'Double'), 'Good');
    assert.equal(((await primary.call('getSetpoint')) as number), 42.5, 'the primary has the value');
    assert.equal(await secondary.call('getSetpoint'), 0, 'the secondary was not written');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), 'fast', 'String'), 'BadTypeMismatch');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.counter), 1, 'UInt32'), 'BadNotWritable');
    assert.equal(await clients.write(anon, node(SIM_ITEMS.setpoint), 1, 'Double'), 'BadUserAccessDenied', 'anonymous writes are refused by default');
    const [sp] = await clients.read(anon, [node(SIM_ITEMS.setpoint)]);
    assert.equal(sp.value, 42.5, 'read back through the gateway');
  });

  it('20 clients × 100 items cost one upstream monitored item per node; the last client leaving removes it', async function () {
    const bulk = Array.from({ length: BULK }, (_, i) => bulkItemId(i));
    const sessions: number[] = [];
    for (let c = 0; c < 20; c++) sessions.push(await clients.connect({ url }));
    const statuses = await Promise.all(sessions.map((s) => clients.subscribe(s, bulk.map(node), 100, 10)));
    assert.ok(statuses.every((list) => list.every((s) => s === 'Good')), 'every monitored item created');
    await waitFor(() => gateway.state().clientItems === 20 * BULK, 10_000, '2000 client monitored items', () => gateway.state());
    // Every client gets values, from one upstream item per node on each server (hot: both report).
    const deadline = Date.now() + 30_000;
    for (const s of sessions) {
      while (Object.values(await clients.counts(s)).filter((n) => n >= 2).length < BULK) {
        assert.ok(Date.now() < deadline, `client ${s} receives every item: ${JSON.stringify(await clients.counts(s))}`);
        await sleep(200);
      }
    }
    const onPrimary = await primaryCounts();
    const onSecondary = await secondaryCounts();
    assert.deepEqual(bulk.map((id) => onPrimary[id] ?? 0), bulk.map(() => 1), `exactly one monitored item per node on the primary; events: ${events.join(' | ')}`);
    assert.deepEqual(bulk.map((id) => onSecondary[id] ?? 0), bulk.map(() => 1), 'exactly one monitored item per node on the secondary');
    assert.equal(gateway.state().upstreamItems >= BULK, true);
    for (const s of sessions.slice(1)) await clients.close(s);
    await sleep(500);
    const oneLeft = await secondaryCounts();
    assert.deepEqual(bulk.map((id) => oneLeft[id] ?? 0), bulk.map(() => 1), 'one client left: still one per node');
    await clients.close(sessions[0]);
    const deadline2 = Date.now() + 20_000;
    for (;;) {
      const [p, q] = [await primaryCounts(), await secondaryCounts()];
      if (bulk.every((id) => !p[id] && !q[id])) break;
      assert.ok(Date.now() < deadline2, `upstream monitoring removed with the last client: ${JSON.stringify({ p, q })}`);
      await sleep(100);
    }
  });

  it('crash of the primary: the client keeps its session and subscription, the counter has no hole, writes go to the secondary, ServiceLevel degraded', async function () {
    assert.deepEqual(await clients.subscribe(watcher, [node(SIM_ITEMS.counter)], 0, 1000), ['Good']);
    const before = await clients.info(watcher);
    await waitFor(() => gateway.serviceLevel === 255, FAILOVER_MS, 'ServiceLevel healthy', () => pair.status());
    assert.equal(await serviceLevel(), 255);
    await sleep(1000);
    await primary.kill('SIGKILL');
    await waitFor(() => pair.getActive() === 'secondary', FAILOVER_MS, 'failover to the secondary', () => pair.status());
    const n = (await counterValues()).length;
    const deadline = Date.now() + 10_000;
    while ((await counterValues()).length < n + 10) {
      assert.ok(Date.now() < deadline, 'values keep coming after the failover');
      await sleep(100);
    }
    const values = (await counterValues()).slice(3);
    assert.deepEqual(holes(values), [], `no hole in the counter the client received: ${values.join(' ')}; events: ${events.join(' | ')}`);
    const after = await clients.info(watcher);
    assert.deepEqual(after.broken, [], 'session and subscription never broke');
    assert.equal(after.sessionId, before.sessionId);
    assert.equal(after.subscriptionId, before.subscriptionId);
    const level = await serviceLevel();
    assert.ok(level >= 2 && level < 200, `ServiceLevel degraded on the standby: ${level}`);
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), 7.25, 'Double'), 'Good');
    assert.equal(await secondary.call('getSetpoint'), 7.25, 'the write landed on the secondary (the active one)');
  });

  it('the primary returns: after the hold-off the pair is on it again, ServiceLevel healthy, still no hole', async function () {
    primary = await spawnPrimary();
    await waitFor(() => pair.getActive() === 'primary', HOLD_OFF + FAILOVER_MS + 10_000, 'promotion back to the primary', () => pair.status());
    await waitFor(() => gateway.serviceLevel === 255, FAILOVER_MS, 'ServiceLevel healthy again');
    assert.equal(await serviceLevel(), 255);
    await sleep(600);
    const values = (await counterValues()).slice(3);
    assert.deepEqual(holes(values), [], 'no hole through the promotion');
    assert.deepEqual((await clients.info(watcher)).broken, []);
  });

  it('blackhole of the primary: the client sees nothing but values, without a hole', async function () {
    const n = (await counterValues()).length;
    pProxy.setMode('blackhole');
    await waitFor(() => pair.getActive() === 'secondary', FAILOVER_MS, 'failover on the silent link', () => pair.status());
    const deadline = Date.now() + 10_000;
    while ((await counterValues()).length < n + 15) {
      assert.ok(Date.now() < deadline, 'values keep coming');
      await sleep(100);
    }
    pProxy.setMode('pass');
    const values = (await counterValues()).slice(3);
    assert.deepEqual(holes(values), [], 'no hole through the blackhole');
    assert.deepEqual((await clients.info(watcher)).broken, []);
  });

  it('no server usable: ServiceLevel 1 (NoData) and the values say BadNoCommunication; data again when a server returns', async function () {
    await primary.kill('SIGKILL');
    await secondary.kill('SIGKILL');
    await waitFor(() => gateway.serviceLevel === 1, FAILOVER_MS, 'ServiceLevel NoData', () => ({ pair: pair.status(), gw: gateway.state() }));
    assert.equal(await serviceLevel(), 1);
    let received = await clients.received(watcher, node(SIM_ITEMS.counter));
    const until = Date.now() + 5000;
    while (received[received.length - 1].status !== 'BadNoCommunication') {
      assert.ok(Date.now() < until, `the subscription says so: ${JSON.stringify(received.slice(-3))}`);
      await sleep(100);
      received = await clients.received(watcher, node(SIM_ITEMS.counter));
    }
    assert.equal((await clients.read(anon, [node(SIM_ITEMS.counter)]))[0].status, 'BadNoCommunication', 'a read says so');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), 1, 'Double'), 'BadNoCommunication', 'a write says so');
    secondary = await spawnSim(sPort, sProxy, 'gw-secondary');
    await waitFor(() => pair.getActive() === 'secondary', FAILOVER_MS + 10_000, 'the secondary serving again', () => pair.status());
    const n = received.length;
    const deadline = Date.now() + 10_000;
    while (true) {
      const r = await clients.received(watcher, node(SIM_ITEMS.counter));
      if (r.length > n + 3 && r[r.length - 1].status === 'Good') break;
      assert.ok(Date.now() < deadline, 'good values again');
      await sleep(100);
    }
    const level = await serviceLevel();
    assert.ok(level >= 2 && level < 200, `degraded while the secondary serves: ${level}`);
    assert.deepEqual((await clients.info(watcher)).broken, [], 'the session survived the outage');
  });

  it('maintenance (a message in): ServiceLevel 0 while on', async function () {
    helper.getNode('expose').receive({ topic: 'maintenance', payload: true });
    await waitFor(() => gateway.serviceLevel === 0, 5000, 'ServiceLevel 0');
    assert.equal(await serviceLevel(), 0);
    helper.getNode('expose').receive({ topic: 'maintenance', payload: false });
    await waitFor(() => gateway.serviceLevel > 1, 5000, 'ServiceLevel back', () => pair.status());
  });

  it('slow clients whose queues overflow get the Overflow bit on their own copy; the gateway keeps running', async function () {
    const slow = [await clients.connect({ url }), await clients.connect({ url })];
    // Queue of 2, published every 1.5 s, on a counter changing every 100 ms: both overflow.
    for (const c of slow) assert.deepEqual(await clients.subscribe(c, [node(SIM_ITEMS.counter)], 0, 2, 1500), ['Good']);
    for (const deadline = Date.now() + 10_000; ; await sleep(200)) {
      const got = await Promise.all(slow.map((c) => clients.received(c, node(SIM_ITEMS.counter))));
      if (got.every((r) => r.some((v) => /Overflow/.test(v.status)))) break;
      assert.ok(Date.now() < deadline, `both slow clients see the Overflow bit: ${JSON.stringify(got.map((r) => r.slice(-3)))}`);
    }
    const [fast] = await clients.read(anon, [node(SIM_ITEMS.counter)]);
    assert.equal(fast.status, 'Good', 'the value itself keeps its status for everyone else');
    for (const c of slow) await clients.close(c);
  });

  it('bad input gets the proper status code and the runtime keeps running', async function () {
    assert.deepEqual(await clients.subscribe(anon, [`${NS};s=line1/ns=1;s=Simulation.NotExposed`, 'ns=2;s=elsewhere']), ['BadNodeIdUnknown', 'BadNodeIdUnknown']);
    assert.equal(await clients.write(operator, `${NS};s=line1/ns=1;s=Nope`, 1, 'Double'), 'BadNodeIdUnknown');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), [1, 2], 'Double'), 'BadTypeMismatch', 'an array into a scalar');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), true, 'Boolean'), 'BadTypeMismatch');
    const [sp] = await clients.read(anon, [node(SIM_ITEMS.setpoint)]);
    assert.equal(sp.status, 'Good', 'the gateway still serves');
    assert.equal(gateway.running, true);
  });
});
