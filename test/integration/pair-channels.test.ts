// The engine on real clocks and real channels, through the Node-RED runtime: servers whose clocks
// differ by ±5 s and that read the PLC at different phases (hot and warm with standby sampling:
// no hole, no duplicate, no switch before the fault), a pair of three channels that falls back
// to its third and returns in order, and the lifecycle faults the engine must survive (a
// throwing listener, a redeploy of one of two sources, a forced switch during a cold probe).
import assert from 'node:assert/strict';
import type { RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, RedundancyEvent } from '../../lib/core/types';
import { OpcuaSimulator, SIM_ITEMS, type SimulatorOptions, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../../lib/sim/sim-process';
import { FaultProxy } from '../helpers/fault-proxy';
import { type Msg, collect, helper, holes, loadFlow, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

const PING = 300;

/** A simulator reached through a fault proxy; in a child process when it must be killed for real. */
interface Server {
  url: string;
  proxy: FaultProxy;
  port: number;
  kill(): Promise<void>;
  /** A new process (or server) on the same port: the server is back. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function server(name: string, options: Partial<SimulatorOptions>, inProcess = false): Promise<Server> {
  const port = await freePort();
  const proxy = await FaultProxy.start('127.0.0.1', port);
  const opts: SimulatorOptions = { port, name, counterPeriodMs: 100, shutdownDelayMs: 300, advertisedUrls: [proxy.rewrite(simulatorEndpointUrl(port))], ...options };
  let sim: OpcuaSimulator | undefined;
  let proc: SimulatorProcess | undefined;
  const start = async () => {
    if (inProcess) {
      sim = new OpcuaSimulator(opts);
      await sim.start();
    } else {
      proc = await SimulatorProcess.spawn(opts);
    }
  };
  await start();
  return {
    url: proxy.rewrite(simulatorEndpointUrl(port)),
    proxy,
    port,
    kill: async () => {
      if (proc) await proc.kill('SIGKILL');
      if (sim) await sim.stop(false);
    },
    restart: start,
    close: async () => {
      await Promise.allSettled([proxy.close(), proc?.close(), sim?.stop(false)]);
    },
  };
}

interface Rig {
  pair: RedundantPair;
  servers: Server[];
  out: Msg[];
  events: RedundancyEvent[];
  counters(): number[];
  teardown(): Promise<void>;
}

async function rig(mode: ConnectionMode, servers: Server[], extra: Record<string, unknown> = {}): Promise<Rig> {
  const flow = [
    { id: 'tab', type: 'tab', label: 'channels' },
    {
      id: 'pair', type: 'redundant-pair', name: `channels-${mode}`, protocol: 'opcua', primaryEndpoint: servers[0].url, secondaryEndpoint: servers[1].url,
      standbys: servers.slice(2).map((s, i) => ({ name: `standby ${i + 2}`, endpoint: s.url })),
      securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode, pingInterval: PING, pingTimeout: PING, autoPromote: true, holdOff: 1500, reconnectMax: 1000, ...extra,
    },
    { id: 'src', type: 'redundant-source', z: 'tab', name: 'src', pair: 'pair', samplingInterval: 0, output: 'change', items: [{ id: SIM_ITEMS.counter, name: 'counter' }], wires: [['out']] },
    { id: 'out', type: 'helper', z: 'tab', wires: [] },
  ];
  await loadFlow([pairModule, sourceModule], flow);
  const pair = helper.getNode('pair').pair as RedundantPair;
  const events: RedundancyEvent[] = [];
  pair.on('event', (e) => events.push(e));
  const out = collect('out');
  const counters = () => out.filter((m) => m.topic === 'counter').map((m) => m.payload as number);
  const teardown = async () => {
    await helper.unload();
    await Promise.allSettled(servers.map((s) => s.close()));
  };
  try {
    await waitFor(() => pair.getActive() === 'primary' && counters().length >= 3, 15_000, 'the primary active and data flowing', () => pair.status());
  } catch (err) {
    await teardown();
    throw err;
  }
  return { pair, servers, out, events, counters, teardown };
}

function describeOut(r: Rig, around?: number): string {
  const msgs = r.out.filter((m) => m.topic === 'counter' && (around === undefined || Math.abs((m.payload as number) - around) <= 4));
  return `${msgs.map((m) => `${m.payload}@${m.server}`).join(' ')} (events: ${r.events.map((e) => `${e.kind}:${e.reason}`).join(' | ')})`;
}

/** Every counter value once, in order, from the first to the last. */
function assertExactlyOnce(r: Rig): void {
  const values = r.counters();
  for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], `no duplicate: ${values[i - 1]} then ${values[i]}: ${describeOut(r, values[i])}`);
  const gaps = holes(values);
  assert.deepEqual(gaps, [], `no hole: ${gaps.map(([a]) => describeOut(r, a)).join(' / ')}`);
}

describe('the engine on real clocks and N channels', function () {
  this.timeout(60_000);
  let r: Rig | undefined;
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await r?.teardown();
    r = undefined;
    await stopServer();
  });

  // Server timestamps: each server stamps its reads with its own clock; the secondary's runs 5 s
  // off and reads the PLC 37 ms later than the primary.
  for (const mode of ['hot', 'warm-sampling'] as const) {
    for (const [fault, skew] of [['crash', 5000], ['crash', -5000], ['blackhole', 5000], ['blackhole', -5000]] as const) {
      it(`${mode}, secondary clock ${skew > 0 ? '+' : ''}${skew / 1000} s, ${fault} of the primary: no switch before, no hole, no duplicate`, async function () {
        const primary = await server('skew-primary', { timestamps: 'server' }, fault === 'blackhole');
        const secondary = await server('skew-secondary', { timestamps: 'server', clockOffsetMs: skew, samplingPhaseMs: 37 }, true);
        r = await rig(mode === 'hot' ? 'hot' : 'warm', [primary, secondary], mode === 'warm-sampling' ? { standbySampling: true } : {});
        // Long enough for the streams to settle and be compared: skew must not look like a stall.
        await sleep(2500);
        assert.deepEqual(r.events.filter((e) => ['failover', 'stream-lag', 'promotion'].includes(e.kind)).map((e) => e.reason), [], 'no switch before the fault');
        const faultAt = Date.now();
        if (fault === 'crash') await primary.kill();
        else primary.proxy.setMode('blackhole');
        await waitFor(() => r!.pair.getActive() === 'secondary', 2 * PING + 4000, 'the failover', () => r!.pair.status());
        const f = r.events.find((e) => e.kind === 'failover');
        assert.ok(f && f.time >= faultAt, `the failover follows the fault: ${f?.reason}`);
        const n = r.counters().length;
        await waitFor(() => r!.counters().length >= n + 8, 5000, 'values from the secondary');
        assertExactlyOnce(r);
      });
    }
  }

  it('hot, device timestamps, secondary clock -5 s and phase 71 ms, blackhole: no hole, no duplicate', async function () {
    // In their own processes: a stalled test process must not stall (and overflow) the servers too.
    const primary = await server('dev-primary', { timestamps: 'device' });
    const secondary = await server('dev-secondary', { timestamps: 'device', clockOffsetMs: -5000, samplingPhaseMs: 71 });
    r = await rig('hot', [primary, secondary]);
    await sleep(2000);
    primary.proxy.setMode('blackhole');
    await waitFor(() => r!.pair.getActive() === 'secondary', 2 * PING + 4000, 'the failover', () => r!.pair.status());
    const n = r.counters().length;
    await waitFor(() => r!.counters().length >= n + 8, 5000, 'values from the secondary');
    assertExactlyOnce(r);
  });

  it('three channels, hot: channel 0 crashes, channel 1 goes silent: the pair ends on channel 2, then returns in order', async function () {
    const servers = [await server('ch0', {}), await server('ch1', { samplingPhaseMs: 20 }), await server('ch2', { samplingPhaseMs: 55 })];
    // Pings of a second: the exact sequence of switches is asserted, and a loaded machine must not
    // add a ping timeout of its own to it.
    r = await rig('hot', servers, { pingInterval: 1000, pingTimeout: 1000 });
    await servers[0].kill();
    await waitFor(() => r!.pair.getActive() === 'secondary', 5000, 'channel 1', () => r!.pair.status());
    servers[1].proxy.setMode('blackhole');
    await waitFor(() => r!.pair.getActive() === 'standby 2', 2000 + 4000, 'channel 2', () => r!.pair.status());
    const n = r.counters().length;
    await waitFor(() => r!.counters().length >= n + 5 && r!.out[r!.out.length - 1].server === 'standby 2', 5000, 'values from channel 2');
    // Channel 1 comes back first: promoted to it after the hold-off; then channel 0.
    servers[1].proxy.setMode('pass');
    await waitFor(() => r!.pair.getActive() === 'secondary', 12_000, 'back on channel 1', () => r!.pair.status());
    await servers[0].restart();
    await waitFor(() => r!.pair.getActive() === 'primary', 15_000, 'back on channel 0', () => r!.pair.status());
    const switches = r.events.filter((e) => e.kind === 'failover' || e.kind === 'promotion').map((e) => `${e.kind} ${e.from} → ${e.to}`);
    assert.deepEqual(switches, ['failover primary → secondary', 'failover secondary → standby 2', 'promotion standby 2 → secondary', 'promotion secondary → primary']);
    const m = r.counters().length;
    await waitFor(() => r!.counters().length >= m + 3, 5000, 'values from channel 0 again');
    assertExactlyOnce(r);
  });

  it('a throwing event listener is logged, and the pair still fails over', async function () {
    const servers = [await server('throw-p', {}, true), await server('throw-s', {}, true)];
    r = await rig('hot', servers);
    r.pair.on('event', () => {
      throw new Error('a broken listener');
    });
    await servers[0].kill();
    await waitFor(() => r!.pair.getActive() === 'secondary', 5000, 'the failover', () => r!.pair.status());
    const n = r.counters().length;
    await waitFor(() => r!.counters().length >= n + 3, 5000, 'values from the secondary');
    const warned = (helper.log().args as Array<Array<{ msg: unknown }>>).some((a) => /listener of "event" failed: a broken listener/.test(String(a[0].msg)));
    assert.ok(warned, 'the failing listener is in the log');
  });

  it('redeploying one of two sources on a hot pair leaves the other one\'s counter without a hole', async function () {
    const servers = [await server('redeploy-p', {}, true), await server('redeploy-s', {}, true)];
    r = await rig('hot', servers);
    const flow = (sineName: string) => [
      { id: 'tab', type: 'tab', label: 'channels' },
      {
        id: 'pair', type: 'redundant-pair', name: 'channels-hot', protocol: 'opcua', primaryEndpoint: servers[0].url, secondaryEndpoint: servers[1].url,
        securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'hot', pingInterval: PING, pingTimeout: PING, autoPromote: true, holdOff: 1500, reconnectMax: 1000,
      },
      { id: 'src', type: 'redundant-source', z: 'tab', name: 'src', pair: 'pair', samplingInterval: 0, output: 'change', items: [{ id: SIM_ITEMS.counter, name: 'counter' }], wires: [['out']], x: 100, y: 100 },
      { id: 'out', type: 'helper', z: 'tab', wires: [], x: 300, y: 100 },
      { id: 'src2', type: 'redundant-source', z: 'tab', name: sineName, pair: 'pair', samplingInterval: 0, output: 'change', items: [{ id: SIM_ITEMS.sine, name: 'sine' }], wires: [['out2']], x: 100, y: 200 },
      { id: 'out2', type: 'helper', z: 'tab', wires: [], x: 300, y: 200 },
    ];
    await helper.setFlows(flow('sine'), 'full');
    const pair = helper.getNode('pair').pair as RedundantPair;
    const out = collect('out');
    r.out = out;
    await waitFor(() => pair.getActive() === 'primary' && out.length >= 5, 10_000, 'the counter after a full deploy', () => pair.status());
    // Only src2 changes: a "modified nodes" deploy stops and starts it alone.
    await helper.setFlows(flow('sine, renamed'), 'nodes');
    await sleep(1500);
    await helper.setFlows(flow('sine, renamed again'), 'nodes');
    await sleep(1500);
    assert.equal(helper.getNode('pair').pair, pair, 'the pair itself was not redeployed');
    r.counters = () => out.filter((m) => m.topic === 'counter').map((m) => m.payload as number);
    assertExactlyOnce(r);
    assert.ok(r.counters().length >= 25, `the counter kept coming (${r.counters().length} values)`);
  });

  it('cold: a forced switch to the primary while it is being probed connects it once, then serves from it', async function () {
    const servers = [await server('probe-p', {}, true), await server('probe-s', {}, true)];
    r = await rig('cold', servers);
    servers[0].proxy.setMode('reset');
    await waitFor(() => r!.pair.getActive() === 'secondary', 8000, 'the failover', () => r!.pair.status());
    // The primary's path now swallows everything: probes and connects hang until their timeouts.
    servers[0].proxy.setMode('blackhole');
    await sleep(800);
    helper.getNode('pair').pair.setControl('force-primary', 'test');
    await sleep(300);
    servers[0].proxy.setMode('pass');
    await waitFor(() => r!.pair.getActive() === 'primary', 20_000, 'the forced primary serving', () => r!.pair.status());
    const n = r.counters().length;
    await waitFor(() => r!.counters().length >= n + 3 && r!.out[r!.out.length - 1].server === 'primary', 5000, 'values from the primary');
    assert.ok(r.events.every((e) => !/internal error/.test(e.reason)), 'no driver call overlapped another');
  });
});
