// Modbus pairs end to end in the real runtime: a redundant-pair with protocol modbus and a
// redundant-source, against the package's Modbus simulators on loopback (a child process for real
// crashes), each path behind the loopback fault proxy. For cold, warm and hot: the preferred path
// fails (crash, reset, blackhole, slow answers, exception replies, wrong unit id), the pair
// switches, values continue (hot: no counter value lost or repeated), writes go to the active path
// only (read back from both devices), return or stay as configured, all paths down then one back;
// data path redundancy (Modbus TCP and RTU over TCP, and a serial line on a socat pty pair to one
// device); the output shaped like node-red-contrib-modbus's read node; writes per data type with
// their status codes at a catch node; bad configuration is a clear status and the flow deploys.
import assert from 'node:assert/strict';
import type { RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, RedundancyEvent } from '../../lib/core/types';
import { ModbusSimulator, type SimWrite } from '../../lib/sim/modbus-simulator';
import { ModbusSimulatorProcess } from '../../lib/sim/modbus-sim-process';
import { FaultProxy } from '../helpers/fault-proxy';
import { type Msg, collect, helper, holes, loadFlow, loggedErrors, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';
import { ptyPair, requireSocat } from '../helpers/socat';

const PING_INTERVAL = 300;
const PING_TIMEOUT = 300;
const HOLD_OFF = 1500;
/**
 * Poll period of the source, and the simulators' counter period: five polls per step, so every
 * counter value is read by both paths even when a loaded machine delays a poll by 150 ms.
 */
const POLL = 50;
const COUNTER_PERIOD = 250;
/** A failover is decided within ping interval + ping timeout (a poll's timeout is the ping timeout); room for a loaded machine. */
const DETECT_LIMIT = PING_INTERVAL + PING_TIMEOUT + 1500;
const SLACK = 4000;

interface Device {
  endpoint: string;
  writes(): Promise<SimWrite[]>;
  kill?(): Promise<void>;
  setException(code: number | undefined): Promise<void>;
  close(): Promise<void>;
}

async function inProcessDevice(name: string): Promise<Device> {
  const sim = new ModbusSimulator({ port: await freePort(), name, counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
  await sim.start();
  return {
    endpoint: sim.endpoints().tcp,
    writes: async () => sim.writes.slice(),
    setException: async (code) => sim.setException(code === undefined ? undefined : { code }),
    close: () => sim.stop(),
  };
}

async function processDevice(name: string): Promise<Device> {
  const proc = await ModbusSimulatorProcess.spawn({ port: await freePort(), name, counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
  return {
    endpoint: proc.endpoints.tcp,
    // A killed device received nothing more: its writes are the ones it had.
    writes: async () => (await proc.writes().catch(() => [])) as SimWrite[],
    kill: () => proc.kill('SIGKILL'),
    setException: async (code) => void (await proc.setException(code === undefined ? undefined : { code })),
    close: () => proc.close(),
  };
}

interface Rig {
  mode: ConnectionMode;
  primary: Device;
  secondary: Device;
  pProxy: FaultProxy;
  sProxy: FaultProxy;
  pair: RedundantPair;
  out: Msg[];
  caught: Msg[];
  events: RedundancyEvent[];
  counters(): number[];
  teardown(): Promise<void>;
}

interface RigOptions {
  autoPromote?: boolean;
  crashable?: boolean;
  /** Query of the primary's endpoint (a wrong unit id). */
  primaryQuery?: string;
  /** Wait for the primary to be active with data (false: the test looks at the start itself). */
  waitPrimary?: boolean;
}

function pairNode(mode: ConnectionMode, primary: string, secondary: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'pair', type: 'redundant-pair', name: `modbus-${mode}`, protocol: 'modbus', primaryEndpoint: primary, secondaryEndpoint: secondary, mode,
    pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, autoPromote: true, holdOff: HOLD_OFF, reconnectMax: 1000, ...extra,
  };
}

function sourceNode(id: string, items: Array<{ id: string; name?: string }>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'redundant-source', z: 'tab', name: id, pair: 'pair', samplingInterval: POLL, output: 'change', items, wires: [['out']], ...extra };
}

const CATCH = [
  { id: 'catch', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'tab', wires: [] },
];

async function rig(mode: ConnectionMode, opts: RigOptions = {}): Promise<Rig> {
  const primary = opts.crashable ? await processDevice('plc-primary-path') : await inProcessDevice('plc-primary-path');
  const secondary = await inProcessDevice('plc-secondary-path');
  const port = (endpoint: string) => Number(/:(\d+)/.exec(endpoint.replace('modbus-tcp://', ''))![1]);
  const pProxy = await FaultProxy.start('127.0.0.1', port(primary.endpoint));
  const sProxy = await FaultProxy.start('127.0.0.1', port(secondary.endpoint));
  const flow = [
    { id: 'tab', type: 'tab', label: 'modbus pair' },
    pairNode(mode, `modbus-tcp://127.0.0.1:${pProxy.port}${opts.primaryQuery ?? ''}`, `modbus-tcp://127.0.0.1:${sProxy.port}`, { autoPromote: opts.autoPromote ?? true }),
    sourceNode('src', [{ id: 'HR0:uint32', name: 'counter' }, { id: 'HR20', name: 'setpoint' }]),
    { id: 'out', type: 'helper', z: 'tab', wires: [] },
    ...CATCH,
  ];
  const teardown = async () => {
    await helper.unload();
    await Promise.allSettled([pProxy.close(), sProxy.close(), primary.close(), secondary.close()]);
  };
  try {
    await loadFlow([pairModule, sourceModule], flow);
  } catch (err) {
    await teardown();
    throw err;
  }
  const pair = helper.getNode('pair').pair as RedundantPair;
  const events: RedundancyEvent[] = [];
  pair.on('event', (e) => events.push(e));
  const out = collect('out');
  const caught = collect('caught');
  // Good values only: a device answering exceptions delivers its bad status (value null) before the switch.
  const counters = () => out.filter((m) => m.topic === 'counter' && m.quality === 'good').map((m) => m.payload as number);
  const r: Rig = { mode, primary, secondary, pProxy, sProxy, pair, out, caught, events, counters, teardown };
  if (opts.waitPrimary === false) return r;
  try {
    await waitFor(() => pair.getActive() === 'primary' && counters().length >= 3, 10_000, 'the primary active and data flowing', () => ({ status: pair.status(), log: loggedErrors() }));
  } catch (err) {
    await teardown();
    throw err;
  }
  return r;
}

function eventsText(r: { events: RedundancyEvent[] }): string {
  return r.events.map((e) => `${e.kind}:${e.reason}`).join(' | ');
}

async function expectFailover(r: Rig, faultAt: number, limitMs = DETECT_LIMIT): Promise<void> {
  await waitFor(() => r.pair.getActive() === 'secondary', limitMs + SLACK, 'failover to the secondary', () => ({ status: r.pair.status(), events: eventsText(r) }));
  const f = r.events.find((e) => e.kind === 'failover');
  assert.ok(f, 'a failover event');
  assert.ok(f.time - faultAt <= limitMs, `failover decided ${f.time - faultAt} ms after the fault (limit ${limitMs} ms): ${f.reason}`);
  const before = r.counters().length;
  await waitFor(() => r.counters().length >= before + 3 && r.out[r.out.length - 1].server === 'secondary', 5000, 'values from the secondary');
}

/** Counter values strictly increasing (no repeat); in hot mode also without a hole. */
function assertCounter(r: Rig, allowHoles = false): void {
  const values = r.counters();
  const msgs = r.out.filter((m) => m.topic === 'counter' && m.quality === 'good');
  for (let i = 1; i < values.length; i++) {
    const around = () => msgs.slice(Math.max(0, i - 4), i + 4).map((m) => `${m.payload}@${m.server}`).join(' ');
    assert.ok(values[i] > values[i - 1], `no counter value twice or going back: ${values[i - 1]} then ${values[i]}: ${around()} (${eventsText(r)})`);
  }
  if (r.mode === 'hot' && !allowHoles) {
    const gaps = holes(values);
    assert.deepEqual(gaps, [], `hot mode: no counter value lost (${eventsText(r)})`);
  }
}

/** Writes the setpoint through the source and reads it back from both devices: only the active path's device has it. */
async function writeAndCheck(r: Rig, value: number): Promise<void> {
  const active = r.pair.getActive();
  helper.getNode('src').receive({ topic: 'setpoint', payload: value });
  await waitFor(() => r.out.some((m) => m.topic === 'setpoint' && m.payload === value), 5000, `the written setpoint ${value} read back`, () => r.caught.map((m) => m.error));
  const count = (ws: SimWrite[]) => ws.filter((w) => w.address === 20 && w.values[0] === value).length;
  const [p, s] = [count(await r.primary.writes()), count(await r.secondary.writes())];
  assert.deepEqual([p, s], active === 'primary' ? [1, 0] : [0, 1], `written on the ${active} only`);
  assert.equal(r.out.filter((m) => m.topic === 'setpoint' && m.payload === value).at(-1)?.server, active);
}

describe('Modbus pair (real runtime, Modbus simulators, real faults)', function () {
  this.timeout(40_000);
  let r: Rig | undefined;
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await r?.teardown();
    r = undefined;
    await stopServer();
  });

  describe('hot', function () {
    it('primary device crash (process killed): no counter value lost or repeated, writes go to the active path only', async function () {
      r = await rig('hot', { crashable: true });
      await writeAndCheck(r, 1111);
      const t = Date.now();
      await r.primary.kill?.();
      await expectFailover(r, t);
      await writeAndCheck(r, 2222);
      assertCounter(r);
      assert.equal(r.caught.length, 0, 'no write failed');
    });

    it('blackhole on the primary path: detected within ping interval + timeout, nothing lost', async function () {
      r = await rig('hot');
      const t = Date.now();
      r.pProxy.setMode('blackhole');
      await expectFailover(r, t);
      assertCounter(r);
    });

    it('answers slower than the timeout on the primary path', async function () {
      r = await rig('hot');
      const t = Date.now();
      r.pProxy.setMode('delay', PING_TIMEOUT * 3);
      await expectFailover(r, t, DETECT_LIMIT + PING_TIMEOUT);
      assertCounter(r);
    });

    it('exception replies (4, device failure) on every read: the device counts as down; back after the hold-off when it answers again', async function () {
      r = await rig('hot');
      const t = Date.now();
      await r.primary.setException(4);
      await expectFailover(r, t);
      assert.match(r.events.find((e) => e.kind === 'failover')!.reason, /exception 4/);
      const bad = r.out.filter((m) => m.topic === 'counter' && m.quality !== 'good');
      assert.ok(bad.every((m) => m.server === 'primary' && m.statusCode === 'BadDeviceFailure' && /exception 4/.test(String(m.detail))), 'the failing device\'s values are delivered as bad, with the exception');
      await r.primary.setException(undefined);
      const back = Date.now();
      await waitFor(() => r!.pair.getActive() === 'primary', HOLD_OFF + 8000, 'back on the primary', () => r!.pair.status());
      assert.ok(Date.now() - back >= HOLD_OFF, 'not before the hold-off');
      await writeAndCheck(r, 3333);
      assertCounter(r);
    });

    it('connection reset, no automatic return: stays on the secondary', async function () {
      r = await rig('hot', { autoPromote: false });
      const t = Date.now();
      r.pProxy.setMode('reset');
      await expectFailover(r, t);
      r.pProxy.setMode('pass');
      await waitFor(() => r!.pair.health('primary').state === 'healthy', 8000, 'the primary healthy again', () => ({ channels: r!.pair.status().channels, events: eventsText(r!) }));
      await sleep(HOLD_OFF + 500);
      assert.equal(r.pair.getActive(), 'secondary', eventsText(r));
      await writeAndCheck(r, 4444);
      assertCounter(r);
    });

    it('both paths down, then one back: a write is refused meanwhile, values resume without a redeploy', async function () {
      r = await rig('hot');
      r.pProxy.setMode('reset');
      r.sProxy.setMode('reset');
      await waitFor(() => r!.pair.getActive() === null && r!.events.some((e) => e.kind === 'both-down'), 8000, 'both down reported', () => r!.pair.status());
      helper.getNode('src').receive({ topic: 'setpoint', payload: 99 });
      await waitFor(() => r!.caught.length === 1, 3000, 'the refused write at the catch node');
      const err = r.caught[0].error as { message: string; code?: string };
      assert.match(err.message, /no active server/);
      assert.equal(err.code, 'BadNoCommunication');
      const n = r.counters().length;
      r.sProxy.setMode('pass');
      await waitFor(() => r!.pair.getActive() === 'secondary', 8000, 'the secondary active', () => r!.pair.status());
      await waitFor(() => r!.counters().length >= n + 3, 5000, 'values resumed');
      assert.ok(r.events.some((e) => e.kind === 'recovered'));
      assertCounter(r, true);
      for (const ws of [await r.primary.writes(), await r.secondary.writes()]) assert.equal(ws.filter((w) => w.values[0] === 99).length, 0, 'the refused write reached no device');
    });
  });

  describe('warm', function () {
    it('primary device crash: the standby (connected, not polled) takes over, writes follow', async function () {
      r = await rig('warm', { crashable: true });
      await writeAndCheck(r, 5555);
      const t = Date.now();
      await r.primary.kill?.();
      await expectFailover(r, t);
      await writeAndCheck(r, 6666);
      assertCounter(r, true);
    });

    it('blackhole on the primary path, then back after the hold-off', async function () {
      r = await rig('warm');
      const t = Date.now();
      r.pProxy.setMode('blackhole');
      await expectFailover(r, t);
      r.pProxy.setMode('pass');
      await waitFor(() => r!.pair.getActive() === 'primary', HOLD_OFF + 10_000, 'back on the primary', () => r!.pair.status());
      const n = r.counters().length;
      await waitFor(() => r!.counters().length >= n + 3 && r!.out.at(-1)!.server === 'primary', 5000, 'values from the primary again');
      assertCounter(r, true);
    });
  });

  describe('cold', function () {
    it('connection reset: the secondary is connected and polled, values continue, writes follow', async function () {
      r = await rig('cold');
      const t = Date.now();
      r.pProxy.setMode('reset');
      await expectFailover(r, t);
      await writeAndCheck(r, 7777);
      assertCounter(r, true);
    });

    it('wrong unit id on the primary (no device answers): starts on the secondary and says why', async function () {
      r = await rig('cold', { primaryQuery: '?unit=7', waitPrimary: false });
      await waitFor(() => r!.pair.getActive() === 'secondary' && r!.counters().length >= 3, 15_000, 'the secondary active', () => ({ status: r!.pair.status(), events: eventsText(r!) }));
      assert.match(eventsText(r), /primary|no answer|ping/);
      assert.ok(r.events.some((e) => e.server === 'primary' && /no answer|timeout/.test(e.reason)), eventsText(r));
      await writeAndCheck(r, 8888);
    });
  });

  describe('data path redundancy (one device, two paths)', function () {
    it('Modbus TCP and RTU over TCP: the TCP side dropped, values continue over RTU (hot: none lost), writes take the active path, back after the hold-off', async function () {
      const sim = new ModbusSimulator({ port: await freePort(), rtuTcpPort: await freePort(), name: 'plc', counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
      await sim.start();
      const ep = sim.endpoints();
      const flow = [
        { id: 'tab', type: 'tab', label: 'data path' },
        pairNode('hot', ep.tcp, ep.rtuTcp!),
        sourceNode('src', [{ id: 'HR0:uint32', name: 'counter' }, { id: 'HR20', name: 'setpoint' }]),
        { id: 'out', type: 'helper', z: 'tab', wires: [] },
      ];
      try {
        await loadFlow([pairModule, sourceModule], flow);
        const pair = helper.getNode('pair').pair as RedundantPair;
        const events: RedundancyEvent[] = [];
        pair.on('event', (e) => events.push(e));
        const states: string[] = [];
        pair.on('status', (st) => {
          const t = `${st.channels[0].state}:${st.channels[0].reason}`;
          if (states.at(-1)?.endsWith(t) !== true) states.push(`${Date.now() % 100000} ${t}`);
        });
        const out = collect('out');
        const counters = () => out.filter((m) => m.topic === 'counter').map((m) => m.payload as number);
        await waitFor(() => pair.getActive() === 'primary' && counters().length >= 3, 10_000, 'data over TCP', () => pair.status());
        sim.setSide('tcp', false);
        await waitFor(() => pair.getActive() === 'secondary', DETECT_LIMIT + SLACK, 'failover to RTU over TCP', () => pair.status());
        const n = counters().length;
        await waitFor(() => counters().length >= n + 3 && out.at(-1)!.server === 'secondary', 5000, 'values over RTU over TCP');
        sim.clearLog();
        helper.getNode('src').receive({ topic: 'setpoint', payload: 4242 });
        await waitFor(() => out.some((m) => m.topic === 'setpoint' && m.payload === 4242), 5000, 'the setpoint read back');
        const writes = sim.requests.filter((q) => q.fc === 6 || q.fc === 16);
        assert.deepEqual(writes.map((q) => q.side), ['rtu-tcp'], 'the write went over the active path only');
        sim.setSide('tcp', true);
        states.push(`${Date.now() % 100000} restored`);
        await waitFor(() => pair.getActive() === 'primary', HOLD_OFF + 8000, 'back on TCP', () => ({ states, events: events.map((e) => `${e.time % 100000} ${e.kind}:${e.reason}`) }));
        const values = counters();
        const msgs = out.filter((m) => m.topic === 'counter');
        const around = holes(values).map(([v]) => msgs.filter((m) => Math.abs((m.payload as number) - v) <= 4).map((m) => `${m.payload}@${m.server}:${(m.sourceTimestamp as number) % 100000}`).join(' '));
        assert.deepEqual(holes(values), [], `no counter value lost: ${around.join(' / ')} (${events.map((e) => `${e.time % 100000} ${e.kind}`).join(', ')})`);
        assert.ok(values.every((v, i) => i === 0 || v > values[i - 1]), 'none repeated');
      } finally {
        await helper.unload();
        await sim.stop();
      }
    });

    it('Modbus TCP and RTU on a serial line (socat pty pair): the TCP side dropped, values continue over the serial line', async function () {
      requireSocat(this);
      const pty = await ptyPair();
      const sim = new ModbusSimulator({ port: await freePort(), serialPath: pty.device, baudRate: 38400, name: 'plc', counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
      try {
        await sim.start();
        const flow = [
          { id: 'tab', type: 'tab', label: 'serial' },
          pairNode('hot', sim.endpoints().tcp, `modbus-rtu:${pty.master}?baud=38400`),
          sourceNode('src', [{ id: 'HR0:uint32', name: 'counter' }, { id: 'HR20', name: 'setpoint' }], { samplingInterval: 100 }),
          { id: 'out', type: 'helper', z: 'tab', wires: [] },
        ];
        await loadFlow([pairModule, sourceModule], flow);
        const pair = helper.getNode('pair').pair as RedundantPair;
        const out = collect('out');
        const counters = () => out.filter((m) => m.topic === 'counter').map((m) => m.payload as number);
        await waitFor(() => pair.getActive() === 'primary' && pair.health('secondary').state === 'healthy' && counters().length >= 3, 10_000, 'data over TCP, the serial path healthy', () => pair.status());
        sim.setSide('tcp', false);
        await waitFor(() => pair.getActive() === 'secondary', DETECT_LIMIT + SLACK, 'failover to the serial line', () => pair.status());
        const n = counters().length;
        await waitFor(() => counters().length >= n + 3 && out.at(-1)!.server === 'secondary', 5000, 'values over the serial line');
        helper.getNode('src').receive({ topic: 'setpoint', payload: 3838 });
        await waitFor(() => out.some((m) => m.topic === 'setpoint' && m.payload === 3838), 5000, 'the setpoint written over the serial line and read back');
        assert.deepEqual(sim.requests.filter((q) => q.fc === 6 || q.fc === 16).map((q) => q.side), ['serial']);
        const values = counters();
        assert.ok(values.every((v, i) => i === 0 || v > values[i - 1]), 'no counter value repeated');
      } finally {
        await helper.unload();
        await sim.stop();
        await pty.close();
      }
    });
  });

  describe('items, output and writes', function () {
    let sim: ModbusSimulator | undefined;
    afterEach(async function () {
      await helper.unload();
      await sim?.stop();
      sim = undefined;
    });

    async function oneDeviceTwoPaths(sources: Array<Record<string, unknown>>, pairExtra: Record<string, unknown> = {}): Promise<RedundantPair> {
      sim = new ModbusSimulator({ port: await freePort(), rtuTcpPort: await freePort(), name: 'plc', counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
      await sim.start();
      const ep = sim.endpoints();
      await loadFlow([pairModule, sourceModule], [
        { id: 'tab', type: 'tab', label: 'items' },
        pairNode('hot', ep.tcp, ep.rtuTcp!, pairExtra),
        ...sources,
        { id: 'out', type: 'helper', z: 'tab', wires: [] },
        ...CATCH,
      ]);
      return helper.getNode('pair').pair as RedundantPair;
    }

    it('writes every data type to the active path (single and multiple registers and coils, a bit, a string, 64-bit beyond 2^53 as text); refusals reach a catch node with their status code', async function () {
      const items = [
        { id: 'HR20:float32', name: 'f32' },
        { id: 'HR22:int32:CDAB', name: 'i32' },
        { id: 'HR24:uint64', name: 'u64' },
        { id: 'HR28:string8', name: 'text' },
        { id: 'HR32[3]:int16', name: 'arr' },
        { id: 'HR35.3', name: 'bit' },
        { id: 'C0', name: 'coil' },
        { id: 'C4[4]', name: 'coils' },
        { id: 'IR2', name: 'input' },
      ];
      const pair = await oneDeviceTwoPaths([sourceNode('src', items)]);
      const out = collect('out');
      const caught = collect('caught');
      await waitFor(() => pair.getActive() === 'primary' && items.every((i) => out.some((m) => m.topic === i.name)), 10_000, 'every item read', () => pair.status());
      const writes: Array<[string, unknown]> = [
        ['f32', 21.5],
        ['i32', -123456],
        ['u64', '9007199254740993'],
        ['text', 'PUMP-7'],
        ['arr', [-1, 0, 32767]],
        ['bit', true],
        ['coil', true],
        ['coils', [true, false, true, true]],
      ];
      sim!.clearLog();
      for (const [name, value] of writes) helper.getNode('src').receive({ topic: name, payload: value });
      for (const [name, value] of writes) {
        await waitFor(() => out.some((m) => m.topic === name && JSON.stringify(m.payload) === JSON.stringify(value)), 5000, `${name} read back as ${JSON.stringify(value)}`, () => ({ caught: caught.map((m) => m.error), last: out.filter((m) => m.topic === name).at(-1) }));
      }
      assert.equal(caught.length, 0, JSON.stringify(caught.map((m) => m.error)));
      const fcs = sim!.requests.filter((q) => q.fc === 5 || q.fc === 6 || q.fc === 15 || q.fc === 16);
      assert.deepEqual(fcs.map((q) => `${q.fc}@${q.address}+${q.count}`).sort(), ['15@4+4', '16@20+2', '16@22+2', '16@24+4', '16@28+4', '16@32+3', '5@0+1', '6@35+1'].sort());
      assert.ok(fcs.every((q) => q.side === 'tcp'), 'every write on the active path (Modbus TCP)');
      assert.equal(typeof out.filter((m) => m.topic === 'u64').at(-1)!.payload, 'string', 'a uint64 beyond 2^53 is output as a decimal string (JSON-safe, exact)');
      // Refusals, each with its status in msg.error.code.
      helper.getNode('src').receive({ topic: 'input', payload: 1 });
      helper.getNode('src').receive({ topic: 'f32', payload: 'warm' });
      helper.getNode('src').receive({ topic: 'arr', payload: [1, 2, 70000] });
      await waitFor(() => caught.length === 3, 5000, 'three refused writes at the catch node', () => caught.map((m) => m.error));
      const codes = caught.map((m) => (m.error as { code?: string; message: string })).map((e) => `${e.code}: ${e.message}`);
      assert.match(codes[0], /^BadNotWritable: .*input registers are read-only/);
      assert.match(codes[1], /^BadTypeMismatch: .*"warm".* not a number/);
      assert.match(codes[2], /^BadOutOfRange: .*70000.*int16/);
    });

    it('output as node-red-contrib-modbus read: payload = values array, responseBuffer = registers and bytes, input = the request', async function () {
      await oneDeviceTwoPaths([sourceNode('src', [{ id: 'HR20[3]', name: 'block' }, { id: 'HR4:float32', name: 'sine' }, { id: 'C16', name: 'toggle' }, { id: 'HR70@1:int16', name: 'missing' }], { output: 'modbus-read' })]);
      const out = collect('out');
      await waitFor(() => ['block', 'sine', 'toggle', 'missing'].every((n) => out.some((m) => m.topic === n)), 10_000, 'each item once');
      const last = (n: string) => out.filter((m) => m.topic === n).at(-1)!;
      const block = last('block');
      assert.deepEqual(block.payload, [0, 0, 0]);
      assert.deepEqual((block.responseBuffer as { data: number[] }).data, [0, 0, 0]);
      assert.deepEqual([...(block.responseBuffer as { buffer: Buffer }).buffer], [0, 0, 0, 0, 0, 0]);
      assert.deepEqual((block.input as { payload: unknown }).payload, { unitid: 1, fc: 3, address: 20, quantity: 3 });
      assert.equal(block.sendingNodeId, 'src');
      const sine = last('sine');
      assert.equal((sine.payload as number[]).length, 1);
      const buf = (sine.responseBuffer as { buffer: Buffer }).buffer;
      assert.equal(buf.readFloatBE(0), Math.fround((sine.payload as number[])[0]), 'the bytes are the float as read');
      assert.deepEqual((sine.input as { payload: unknown }).payload, { unitid: 1, fc: 3, address: 4, quantity: 2 });
      assert.equal(typeof (last('toggle').payload as boolean[])[0], 'boolean');
      assert.deepEqual((last('toggle').input as { payload: { fc: number } }).payload.fc, 1);
      const missing = last('missing');
      assert.deepEqual(missing.payload, []);
      assert.match((missing.error as { message: string }).message, /exception 2/);
      assert.equal(missing.statusCode, 'BadOutOfRange');
    });

    it('bad configuration: each bad item named on a red status, overlaps and Modicon slips warned on a yellow one, illegal addresses counted as refused; the rest of the flow runs', async function () {
      const pair = await oneDeviceTwoPaths([
        sourceNode('good', [{ id: 'HR0:uint32', name: 'counter' }]),
        sourceNode('bad', [{ id: 'HR70000' }, { id: 'HR0:float33' }, { id: 'HR0@0' }, { id: 'HRx' }]),
        sourceNode('overlap', [{ id: 'HR4:float32', name: 'sine' }, { id: 'HR5', name: 'low word' }]),
        sourceNode('modicon', [{ id: 'HR40021', name: 'slip' }, { id: 'HR2', name: 'c16' }]),
        sourceNode('refused', [{ id: 'HR5000', name: 'nothing there' }, { id: 'HR2', name: 'c16' }]),
      ]);
      const out = collect('out');
      await waitFor(() => pair.getActive() === 'primary' && out.filter((m) => m.topic === 'counter').length >= 3, 10_000, 'the good source running', () => pair.status());
      const statusOf = (id: string) => nodeStatus(helper.getNode(id));
      const bad = statusOf('bad');
      assert.equal(bad.fill, 'red');
      const logged = loggedErrors().join('\n');
      for (const re of [/HR70000.*65535/, /HR0:float33.*unknown data type/, /HR0@0.*broadcast/, /HRx/]) assert.match(logged, re);
      await waitFor(() => /share holding register 5/.test(statusOf('overlap').text ?? ''), 5000, 'the overlap on the status', () => statusOf('overlap'));
      assert.equal(statusOf('overlap').fill, 'yellow');
      await waitFor(() => out.some((m) => m.topic === 'low word'), 5000, 'overlapping items still read');
      await waitFor(() => /HR40021 is the 0-based protocol address 40021/.test(statusOf('modicon').text ?? ''), 5000, 'the Modicon slip on the status', () => statusOf('modicon'));
      await waitFor(() => /1 item\(s\) refused/.test(statusOf('refused').text ?? ''), 5000, 'the refused item on the status', () => statusOf('refused'));
      const nothing = out.find((m) => m.topic === 'nothing there')!;
      assert.equal(nothing.statusCode, 'BadOutOfRange');
      assert.match(String(nothing.detail), /Modbus exception 2 \(illegal data address\)/);
    });

    it('a pair with warm standby sampling or a unit id 0 endpoint is refused with the reason; its sources say so and the flow deploys', async function () {
      sim = new ModbusSimulator({ port: await freePort(), name: 'plc', counterPeriodMs: COUNTER_PERIOD, bulkRegisters: 0 });
      await sim.start();
      const tcp = sim.endpoints().tcp;
      await loadFlow([pairModule, sourceModule], [
        { id: 'tab', type: 'tab', label: 'refused' },
        { ...pairNode('warm', tcp, `${tcp}?unit=2`, { standbySampling: true }), id: 'pairW' },
        { ...pairNode('hot', `${tcp}?unit=0`, `${tcp}?unit=2`), id: 'pairU' },
        { ...sourceNode('srcW', [{ id: 'HR2' }]), pair: 'pairW' },
        { ...sourceNode('srcU', [{ id: 'HR2' }]), pair: 'pairU' },
        { id: 'out', type: 'helper', z: 'tab', wires: [] },
      ]);
      const w = nodeStatus(helper.getNode('srcW'));
      assert.equal(w.fill, 'red');
      assert.match(helper.getNode('pairW').configError, /standby sampling is not available for Modbus.*use hot mode/);
      assert.match(helper.getNode('pairU').configError, /unit 0 is the broadcast address/);
      assert.equal(nodeStatus(helper.getNode('srcU')).fill, 'red');
    });
  });
});

/** The node's own last status (the runtime's status spy is shared by every node). */
function nodeStatus(node: { status: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } }): { fill?: string; shape?: string; text?: string } {
  const calls = node.status.getCalls().filter((c) => c.thisValue === node);
  return (calls.at(-1)?.args[0] ?? {}) as { fill?: string; shape?: string; text?: string };
}
