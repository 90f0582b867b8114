// The fault matrix: for each mode, each failure case of MISSION.md injected for real (a killed
// server process, a graceful shutdown, a TCP reset / blackhole / delay through a loopback proxy, a
// restart that loses the session, both servers down) against real OPC UA simulators, through the
// Node-RED runtime. Asserts the active server, that output continues, that writes land on the
// active server only (read back from the servers), and in hot mode that the counter has no hole.
import assert from 'node:assert/strict';
import type { RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, RedundancyEvent } from '../../lib/core/types';
import { OpcuaSimulator, SIM_ITEMS, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../../lib/sim/sim-process';
import { FaultProxy } from '../helpers/fault-proxy';
import { type Msg, collect, helper, holes, loadFlow, loggedErrors, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 300;
const HOLD_OFF = 1500;
/** A failover must be decided within ping interval + ping timeout, plus scheduling slack. */
const DETECT_LIMIT = PING_INTERVAL + PING_TIMEOUT + 700;

interface Primary {
  endpointUrl: string;
  stop(graceful: boolean): Promise<void>;
  start(): Promise<void>;
  writes(): Promise<Array<{ item: string; value: unknown }>>;
  kill?(): Promise<void>;
  close(): Promise<void>;
}

interface Rig {
  mode: ConnectionMode;
  primary: Primary;
  secondary: OpcuaSimulator;
  pProxy: FaultProxy;
  sProxy: FaultProxy;
  pair: RedundantPair;
  out: Msg[];
  events: RedundancyEvent[];
  counters(): number[];
  teardown(): Promise<void>;
}

async function inProcessPrimary(port: number, advertisedUrls: string[]): Promise<Primary> {
  const sim = new OpcuaSimulator({ port, name: 'sim-primary', counterPeriodMs: 100, shutdownDelayMs: 300, advertisedUrls });
  await sim.start();
  return {
    endpointUrl: sim.endpointUrl,
    stop: (graceful) => sim.stop(graceful),
    start: () => sim.start(),
    writes: async () => sim.writes,
    close: () => sim.stop(false),
  };
}

async function processPrimary(port: number, advertisedUrls: string[]): Promise<Primary> {
  const proc = await SimulatorProcess.spawn({ port, name: 'sim-primary', counterPeriodMs: 100, shutdownDelayMs: 300, advertisedUrls });
  return {
    endpointUrl: proc.endpointUrl,
    stop: async (graceful) => void (await proc.call('stop', graceful)),
    start: async () => void (await proc.call('start')),
    // A killed process received nothing more: its writes are the ones it had.
    writes: async () => ((await proc.call('getWrites').catch(() => [])) as Array<{ item: string; value: unknown }>),
    kill: () => proc.kill('SIGKILL'),
    close: () => proc.close(),
  };
}

async function rig(mode: ConnectionMode, opts: { autoPromote?: boolean; crashable?: boolean } = {}): Promise<Rig> {
  const [pPort, sPort] = [await freePort(), await freePort()];
  // The proxies first: each server advertises the URL it is reached by (no endpoint mismatch warnings).
  const pProxy = await FaultProxy.start('127.0.0.1', pPort);
  const sProxy = await FaultProxy.start('127.0.0.1', sPort);
  const viaProxy = (proxy: FaultProxy, port: number) => [proxy.rewrite(simulatorEndpointUrl(port))];
  const primary = opts.crashable ? await processPrimary(pPort, viaProxy(pProxy, pPort)) : await inProcessPrimary(pPort, viaProxy(pProxy, pPort));
  const secondary = new OpcuaSimulator({ port: sPort, name: 'sim-secondary', counterPeriodMs: 100, shutdownDelayMs: 300, advertisedUrls: viaProxy(sProxy, sPort) });
  await secondary.start();
  const flow = [
    { id: 'tab', type: 'tab', label: 'faults' },
    {
      id: 'pair', type: 'redundant-pair', name: `faults-${mode}`, protocol: 'opcua',
      primaryEndpoint: pProxy.rewrite(primary.endpointUrl), secondaryEndpoint: sProxy.rewrite(secondary.endpointUrl),
      securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode,
      pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, autoPromote: opts.autoPromote ?? true, holdOff: HOLD_OFF, reconnectMax: 1000,
    },
    {
      id: 'src', type: 'redundant-source', z: 'tab', name: 'src', pair: 'pair', samplingInterval: 0, output: 'change',
      items: [{ id: SIM_ITEMS.counter, name: 'counter' }, { id: SIM_ITEMS.setpoint, name: 'setpoint' }], wires: [['out']],
    },
    { id: 'out', type: 'helper', z: 'tab', wires: [] },
  ];
  try {
    await loadFlow([pairModule, sourceModule], flow);
  } catch (err) {
    await Promise.allSettled([helper.unload(), pProxy.close(), sProxy.close(), primary.close(), secondary.stop(false)]);
    throw err;
  }
  const pair = helper.getNode('pair').pair as RedundantPair;
  const events: RedundancyEvent[] = [];
  pair.on('event', (e) => events.push(e));
  const out = collect('out');
  const counters = () => out.filter((m) => m.topic === 'counter').map((m) => m.payload as number);
  const teardown = async () => {
    await helper.unload();
    await Promise.allSettled([pProxy.close(), sProxy.close(), primary.close(), secondary.stop(false)]);
  };
  try {
    await waitFor(() => pair.getActive() === 'primary' && counters().length >= 3, 10_000, 'the primary active and data flowing', () => ({ status: pair.status(), log: loggedErrors() }));
  } catch (err) {
    await teardown();
    throw err;
  }
  return {
    mode, primary, secondary, pProxy, sProxy, pair, out, events, counters,
    teardown,
  };
}

async function expectFailover(r: Rig, faultAt: number, limitMs: number): Promise<void> {
  await waitFor(() => r.pair.getActive() === 'secondary', limitMs + 3000, 'failover to the secondary', () => r.pair.status());
  const f = r.events.find((e) => e.kind === 'failover');
  assert.ok(f, 'a failover event');
  assert.ok(f.time - faultAt <= limitMs, `failover decided ${f.time - faultAt} ms after the fault (limit ${limitMs} ms): ${f.reason}`);
  // output continues, from the secondary
  const before = r.counters().length;
  await waitFor(() => r.counters().length >= before + 3 && r.out[r.out.length - 1].server === 'secondary', 5000, 'output from the secondary');
}

/** Monotonic always; in hot mode also without a hole, unless both servers were down (nothing to replay). */
function assertCounterIntegrity(r: Rig, allowHoles = false): void {
  // With both servers down at some moment (a loaded machine can time out a ping of the survivor
  // too), nothing was there to replay: a hole is then the servers', not the pair's.
  if (r.events.some((e) => e.kind === 'both-down')) allowHoles = true;
  const values = r.counters();
  const counterMsgs = r.out.filter((m) => m.topic === 'counter');
  for (let i = 1; i < values.length; i++) {
    const context = () => counterMsgs.slice(Math.max(0, i - 4), i + 4).map((m) => `${m.payload}@${m.server}:${m.sourceTimestamp}`).join(' ');
    assert.ok(values[i] > values[i - 1], `no duplicate or going back: ${values[i - 1]} then ${values[i]}: ${context()} (events: ${r.events.map((e) => `${e.kind}:${e.reason}`).join(' | ')})`);
  }
  if (r.mode === 'hot' && !allowHoles) {
    const gaps = holes(values);
    const around = gaps.map(([a]) => r.out.filter((m) => m.topic === 'counter' && Math.abs((m.payload as number) - a) <= 3).map((m) => `${m.payload}@${m.server}`).join(' '));
    assert.deepEqual(gaps, [], `hot mode: the counter has no hole in the output: ${around.join(' / ')} (events: ${r.events.map((e) => `${e.kind}:${e.reason}`).join(' | ')})`);
  }
}

async function writeAndCheck(r: Rig, value: number): Promise<void> {
  const active = r.pair.getActive();
  helper.getNode('src').receive({ topic: 'setpoint', payload: value });
  await waitFor(() => r.out.some((m) => m.topic === 'setpoint' && m.payload === value), 5000, `the written setpoint ${value} read back`);
  const onSecondary = r.secondary.writes.filter((w) => w.value === value).length;
  const onPrimary = (await r.primary.writes()).filter((w) => w.value === value).length;
  if (active === 'secondary') assert.deepEqual([onPrimary, onSecondary], [0, 1], 'write landed on the secondary only');
  else assert.deepEqual([onPrimary, onSecondary], [1, 0], 'write landed on the primary only');
}

describe('redundant pair under real faults (fault matrix)', function () {
  this.timeout(40_000);

  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await stopServer();
  });

  for (const mode of ['cold', 'warm', 'hot'] as const) {
    describe(`${mode} mode`, function () {
      let r: Rig | undefined;
      afterEach(async function () {
        await r?.teardown();
        r = undefined;
      });

      it('primary crash (process killed): fails over, output continues, writes go to the secondary', async function () {
        r = await rig(mode, { crashable: true });
        await writeAndCheck(r, 11.5);
        const t = Date.now();
        await r.primary.kill?.();
        await expectFailover(r, t, DETECT_LIMIT);
        await writeAndCheck(r, 12.5);
        assertCounterIntegrity(r);
      });

      it('graceful shutdown of the primary: bumpless switch', async function () {
        r = await rig(mode);
        const t = Date.now();
        await r.primary.stop(true);
        await expectFailover(r, t, DETECT_LIMIT + 300);
        assertCounterIntegrity(r);
      });

      it('TCP reset on the path to the primary', async function () {
        r = await rig(mode);
        const t = Date.now();
        r.pProxy.setMode('reset');
        await expectFailover(r, t, DETECT_LIMIT);
        assertCounterIntegrity(r);
      });

      it('blackhole (silent loss): detected within ping interval + ping timeout', async function () {
        r = await rig(mode);
        const t = Date.now();
        r.pProxy.setMode('blackhole');
        await expectFailover(r, t, DETECT_LIMIT);
        assertCounterIntegrity(r);
      });

      it('replies slower than the ping timeout', async function () {
        r = await rig(mode);
        const t = Date.now();
        r.pProxy.setMode('delay', PING_TIMEOUT * 3);
        await expectFailover(r, t, DETECT_LIMIT + PING_TIMEOUT);
        assertCounterIntegrity(r);
      });

      it('primary returns: promoted back after the hold-off, not before', async function () {
        r = await rig(mode);
        const t = Date.now();
        r.pProxy.setMode('reset');
        await expectFailover(r, t, DETECT_LIMIT);
        r.pProxy.setMode('pass');
        const back = Date.now();
        await waitFor(() => r!.pair.getActive() === 'primary', HOLD_OFF + 8000, 'promotion back to the primary', () => r!.pair.status());
        assert.ok(Date.now() - back >= HOLD_OFF, `promoted only after the hold-off (${Date.now() - back} ms)`);
        const n = r.counters().length;
        await waitFor(() => r!.counters().length >= n + 3 && r!.out[r!.out.length - 1].server === 'primary', 5000, 'output from the primary again');
        await writeAndCheck(r, 21.25);
        assertCounterIntegrity(r);
      });

      it('primary returns without automatic promotion: stays on the secondary', async function () {
        r = await rig(mode, { autoPromote: false });
        const t = Date.now();
        r.pProxy.setMode('reset');
        await expectFailover(r, t, DETECT_LIMIT);
        r.pProxy.setMode('pass');
        if (mode !== 'cold') await waitFor(() => r!.pair.health('primary').state === 'healthy', 8000, 'the primary healthy again');
        await sleep(HOLD_OFF + 1000);
        assert.equal(r.pair.getActive(), 'secondary');
        assertCounterIntegrity(r);
      });

      it('flapping primary: the hold-off prevents ping-pong', async function () {
        r = await rig(mode);
        const t = Date.now();
        r.pProxy.setMode('reset');
        await expectFailover(r, t, DETECT_LIMIT);
        for (let i = 0; i < 4; i++) {
          r.pProxy.setMode('pass');
          await sleep(HOLD_OFF / 2);
          r.pProxy.setMode('reset');
          await sleep(200);
          assert.equal(r.pair.getActive(), 'secondary', `still on the secondary during flap ${i + 1}`);
        }
        r.pProxy.setMode('pass');
        await waitFor(() => r!.pair.getActive() === 'primary', HOLD_OFF + 8000, 'promotion once the primary is stable');
        assert.equal(r.events.filter((e) => e.kind === 'failover').length, 1, 'one failover');
        assert.equal(r.events.filter((e) => e.kind === 'promotion').length, 1, 'one promotion');
        assertCounterIntegrity(r);
      });

      it('both servers down, then one back: reported, resumed without a redeploy', async function () {
        r = await rig(mode);
        r.pProxy.setMode('reset');
        r.sProxy.setMode('reset');
        await waitFor(() => r!.pair.getActive() === null && r!.events.some((e) => e.kind === 'both-down'), 8000, 'both down reported', () => r!.pair.status());
        helper.getNode('src').receive({ topic: 'setpoint', payload: 99 });
        await sleep(300);
        assert.ok(r.events.some((e) => e.kind === 'write-rejected'), 'a write with no active server is rejected');
        const n = r.counters().length;
        r.sProxy.setMode('pass');
        await waitFor(() => r!.pair.getActive() === 'secondary', 8000, 'the secondary active', () => r!.pair.status());
        await waitFor(() => r!.counters().length >= n + 3, 5000, 'output resumed');
        assert.ok(r.events.some((e) => e.kind === 'recovered'));
        assertCounterIntegrity(r, true);
      });

      it('primary restart that loses the session: reconnects with a new session', async function () {
        r = await rig(mode);
        const t = Date.now();
        await r.primary.stop(false);
        await expectFailover(r, t, DETECT_LIMIT);
        await r.primary.start();
        await waitFor(() => r!.pair.getActive() === 'primary', HOLD_OFF + 10_000, 'back on the restarted primary', () => r!.pair.status());
        const n = r.counters().length;
        await waitFor(() => r!.counters().length >= n + 3, 5000, 'output from the new session');
        assertCounterIntegrity(r);
      });
    });
  }
});
