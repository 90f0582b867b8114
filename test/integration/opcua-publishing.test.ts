// The OPC UA driver's subscription publishes as fast as its items need: as fast as the server grants
// for an item that wants every change (sampling 0), as fast as the fastest item samples otherwise;
// adding a slower item never slows it down; its keep-alives stay within the ping interval whatever
// interval the server granted. (A change waits for the server's next publish: the gateway's clients
// and the pair's merge see it that much later.)
import assert from 'node:assert/strict';
import type { DataChange } from '../../lib/core/driver';
import { OpcuaDriver } from '../../lib/drivers/opcua';
import { OpcuaSimulator, SIM_ITEMS, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { Subscription } from 'node-opcua';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';

const PING_MS = 1000;

function driverOn(url: string, changes: DataChange[] = []): OpcuaDriver {
  const driver = new OpcuaDriver({ endpointUrl: url, pingIntervalMs: PING_MS, pingTimeoutMs: 2000 });
  driver.attach({ data: (c) => changes.push(...c), lost: () => undefined, itemErrors: () => undefined });
  return driver;
}

/** The server's view of the driver's subscription (the in-process simulator). */
function serverSubscription(sim: OpcuaSimulator, driver: OpcuaDriver): { publishingInterval: number; maxKeepAliveCount: number; lifeTimeCount: number } {
  const id = (driver as unknown as { conn: { subscription: { subscriptionId: number } } }).conn.subscription.subscriptionId;
  const engine = (sim as unknown as { server: { engine: { findSubscription(id: number): { publishingInterval: number; maxKeepAliveCount: number; lifeTimeCount: number } | null } } }).server.engine;
  const s = engine.findSubscription(id);
  assert.ok(s, `subscription ${id} on the server`);
  return s;
}

describe('OPC UA driver: publishing interval of its subscription', function () {
  this.timeout(60_000);

  describe('a server granting 5 ms', function () {
    let sim: OpcuaSimulator;
    let driver: OpcuaDriver;
    // node-opcua keeps the fastest publishing interval per process (a class static): set by the
    // simulator, restored here.
    const defaultMinimum = Subscription.minimumPublishingInterval;

    before(async function () {
      const port = await freePort();
      sim = new OpcuaSimulator({ port, name: 'publishing-fast', minPublishingIntervalMs: 5 });
      await sim.start();
      driver = driverOn(simulatorEndpointUrl(port));
      await driver.connect();
    });

    after(async function () {
      await driver?.disconnect().catch(() => undefined);
      await sim?.stop();
      Subscription.minimumPublishingInterval = defaultMinimum;
    });

    it('publishes as fast as the server grants for every-change items, its counts made for that; a slower item added later leaves it so; the fastest remaining item sets it once they go', async function () {
      const first = await driver.addItems([{ id: SIM_ITEMS.counter, samplingIntervalMs: 0 }], 'reporting');
      assert.deepEqual(first.errors, []);
      assert.equal(first.publishingIntervalMs, 5, 'every change wanted: the server\'s fastest');
      const s = serverSubscription(sim, driver);
      assert.equal(s.publishingInterval, 5);
      assert.ok(s.publishingInterval * s.maxKeepAliveCount <= PING_MS, `keep-alive every ${s.publishingInterval} × ${s.maxKeepAliveCount} ms: at most the ping interval`);
      assert.ok(s.publishingInterval * s.lifeTimeCount >= 30_000, `lifetime ${s.publishingInterval} × ${s.lifeTimeCount} ms: made for the 5 ms granted, not for 50`);
      const slower = await driver.addItems([{ id: SIM_ITEMS.setpoint, samplingIntervalMs: 1000 }], 'reporting');
      assert.equal(slower.publishingIntervalMs, 5, 'a slower item does not slow the subscription down');
      await driver.removeItems([SIM_ITEMS.counter]);
      const after = await driver.addItems([{ id: SIM_ITEMS.sine, samplingIntervalMs: 2000 }], 'reporting');
      assert.equal(after.publishingIntervalMs, 1000, 'the fastest remaining item (1000 ms)');
      const back = await driver.addItems([{ id: SIM_ITEMS.counter, samplingIntervalMs: 20 }], 'reporting');
      assert.equal(back.publishingIntervalMs, 20, 'a sampled item: its sampling interval');
    });
  });

  describe('a server granting 50 ms at the fastest (node-opcua\'s default)', function () {
    let sim: OpcuaSimulator;
    let driver: OpcuaDriver;
    const changes: DataChange[] = [];

    before(async function () {
      const port = await freePort();
      sim = new OpcuaSimulator({ port, name: 'publishing-default', counterPeriodMs: 100 });
      await sim.start();
      driver = driverOn(simulatorEndpointUrl(port), changes);
      await driver.connect();
    });

    after(async function () {
      await driver?.disconnect().catch(() => undefined);
      await sim?.stop();
    });

    it('gets the server\'s fastest for an every-change item, keep-alives within the ping interval, and the changes', async function () {
      const r = await driver.addItems([{ id: SIM_ITEMS.counter, samplingIntervalMs: 0 }], 'reporting');
      assert.equal(r.publishingIntervalMs, 50);
      const s = serverSubscription(sim, driver);
      assert.equal(s.publishingInterval, 50);
      assert.ok(s.publishingInterval * s.maxKeepAliveCount <= PING_MS, `keep-alive every ${s.publishingInterval} × ${s.maxKeepAliveCount} ms: at most the ping interval`);
      await waitFor(() => changes.filter((c) => c.item === SIM_ITEMS.counter).length >= 5, 20_000, 'five counter changes', () => changes.length);
    });
  });
});
