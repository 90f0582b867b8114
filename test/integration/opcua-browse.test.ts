// The address space as the gateway and the editor read it, from a real server: what an item is
// (data type, array shape, access), the children of a node, the endpoints a server offers.
import assert from 'node:assert/strict';
import { discoverEndpoints } from '../../lib/drivers/opcua-browse';
import { OpcuaDriver } from '../../lib/drivers/opcua';
import { OpcuaSimulator, SIM_ITEMS, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { freePort } from '../helpers/ports';

describe('OPC UA address space: describe, browse, discover', function () {
  this.timeout(30_000);
  let sim: OpcuaSimulator;
  let driver: OpcuaDriver;
  let url: string;

  before(async function () {
    const port = await freePort();
    sim = new OpcuaSimulator({ port, name: 'browse-sim' });
    await sim.start();
    url = simulatorEndpointUrl(port);
    driver = new OpcuaDriver({ endpointUrl: url, pingIntervalMs: 1000, pingTimeoutMs: 1000 });
    driver.attach({ data: () => undefined, lost: () => undefined, itemErrors: () => undefined });
    await driver.connect();
  });

  after(async function () {
    await driver?.disconnect();
    await sim?.stop();
  });

  it('describes variables with their data type, array shape and access; refuses what is not a variable', async function () {
    const [counter, setpoint, array, folder, unknown, malformed] = await driver.describe([SIM_ITEMS.counter, SIM_ITEMS.setpoint, SIM_ITEMS.array, 'ns=1;s=Simulation', 'ns=1;s=NoSuchTag', 'not a node id']);
    assert.deepEqual({ t: counter.dataType, r: counter.valueRank, read: counter.readable, write: counter.writable }, { t: 'UInt32', r: -1, read: true, write: false });
    assert.equal(counter.displayName, 'Counter');
    assert.deepEqual({ t: setpoint.dataType, write: setpoint.writable }, { t: 'Double', write: true });
    assert.equal(array.valueRank, 1);
    assert.match(String(folder.error), /not a variable \(Object\)/);
    assert.equal(unknown.error, 'BadNodeIdUnknown');
    assert.match(String(malformed.error), /not a node id/);
  });

  it('browses the Objects folder and a folder below it, variables with type and access', async function () {
    const root = await driver.browse(undefined, 100);
    const simulation = root.find((e) => e.browseName.endsWith('Simulation'));
    assert.ok(simulation, `a Simulation folder among ${root.map((e) => e.browseName).join(', ')}`);
    assert.equal(simulation.nodeClass, 'Object');
    assert.equal(simulation.hasChildren, true);
    const children = await driver.browse(simulation.id, 100);
    const counter = children.find((e) => e.id === SIM_ITEMS.counter);
    assert.ok(counter, `the counter among ${children.map((e) => e.id).join(', ')}`);
    assert.deepEqual({ c: counter.nodeClass, t: counter.dataType, w: counter.writable, kids: counter.hasChildren }, { c: 'Variable', t: 'UInt32', w: false, kids: false });
    assert.equal((await driver.browse(simulation.id, 2)).length, 2, 'bounded by max');
  });

  it('discovers the endpoints a server offers, and fails in time on a port nobody listens on', async function () {
    const endpoints = await discoverEndpoints(url, 5000);
    assert.ok(endpoints.some((e) => e.securityMode === 'None' && e.securityPolicy === 'None' && e.userTokens.includes('Anonymous')), JSON.stringify(endpoints));
    const dead = `opc.tcp://127.0.0.1:${await freePort()}/x`;
    const started = Date.now();
    await assert.rejects(discoverEndpoints(dead, 2000));
    assert.ok(Date.now() - started < 10_000);
  });
});
