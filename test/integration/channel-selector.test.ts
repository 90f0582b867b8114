// channel-selector in the real runtime, fed by node-red-contrib-modbus 5.23.3 read nodes polling
// real Modbus TCP servers (modbus-serial's ServerTCP on loopback, each behind the fault proxy), its
// write nodes on the selector's per-channel outputs. The preferred path fails (server crash,
// connection reset, blackhole, exception replies), the selector switches, values continue, writes go
// to the active path only, the guard never writes to a slave PLC (read back from both devices),
// return or stay as configured, all paths down then one back, bad configuration.
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { pairHub } from '../../lib/core/hub';
import { formatDuration } from '../../lib/core/status-table';
import type { RedundancyEvent } from '../../lib/core/types';
import { FaultProxy } from '../helpers/fault-proxy';
import { type Msg, collect, helper, loadFlow, loggedErrors, sleep, startServer, stopServer, waitFor } from '../helpers/flow';
import { HR_SETPOINT, ModbusTestDevice } from '../helpers/modbus-device';
import { freePort } from '../helpers/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const selectorModule = require('../../nodes/channel-selector');
const diagnosticsModule = require('../../nodes/redundancy-diagnostics');
const mbClient = require('node-red-contrib-modbus/modbus/modbus-client.js');
const mbRead = require('node-red-contrib-modbus/modbus/modbus-read.js');
const mbWrite = require('node-red-contrib-modbus/modbus/modbus-write.js');
/* eslint-enable @typescript-eslint/no-require-imports */

const POLL_MS = 100;
const STALE_MS = 600;
const HOLD_OFF_MS = 1500;
/** contrib-modbus: first connect after 500 ms; a reconnect takes two of these. */
const RECONNECT_MS = 300;
const CLIENT_TIMEOUT_MS = 400;
/** Room for a loaded machine (two cores, seven engineers) on top of what the configuration implies. */
const SLACK_MS = 4000;

interface Path {
  name: string;
  device: ModbusTestDevice;
  proxy: FaultProxy;
}

interface Rig {
  paths: Path[];
  out: Msg[];
  caught: Msg[];
  events: RedundancyEvent[];
  kinds(): string[];
  /** The channel of the last value forwarded. */
  lastChannel(): string | undefined;
  /** Counter values forwarded since index `from` (HR0, tenths of a second). */
  counters(from?: number): number[];
  write(value: number): void;
  status(): { fill?: string; shape?: string; text?: string };
}

let devices: ModbusTestDevice[] = [];
let proxies: FaultProxy[] = [];
let unhook: (() => void) | undefined;

interface RigOptions {
  names?: string[];
  returnMode?: 'return' | 'stay';
  guard?: boolean;
  /** node-red-contrib-modbus "empty message on fail": errors arrive as msg.error. */
  emptyMsgOnFail?: boolean;
  holdWrites?: number;
}

function channelNodes(name: string, port: number, emptyMsgOnFail: boolean): Array<Record<string, unknown>> {
  return [
    {
      id: `cl-${name}`, type: 'modbus-client', name: `client ${name}`, clienttype: 'tcp', bufferCommands: true, stateLogEnabled: false, queueLogEnabled: false, failureLogEnabled: false,
      tcpHost: '127.0.0.1', tcpPort: String(port), tcpType: 'DEFAULT', serialPort: '', serialType: 'RTU-BUFFERD', serialBaudrate: '9600', serialDatabits: '8', serialStopbits: '1', serialParity: 'none',
      serialConnectionDelay: '100', serialAsciiResponseStartDelimiter: '0x3A', unit_id: '1', commandDelay: '1', clientTimeout: String(CLIENT_TIMEOUT_MS), reconnectOnTimeout: true, reconnectTimeout: String(RECONNECT_MS), parallelUnitIdsAllowed: true,
    },
    {
      id: `rd-${name}`, type: 'modbus-read', name: `read ${name}`, topic: `${name}/regs`, showStatusActivities: false, logIOActivities: false, showErrors: false, unitid: '1', dataType: 'HoldingRegister',
      adr: '0', quantity: '2', rate: String(POLL_MS), rateUnit: 'ms', delayOnStart: false, startDelayTime: '', server: `cl-${name}`, useIOFile: false, ioFile: '', useIOForPayload: false, emptyMsgOnFail, wires: [['sel'], []],
    },
    {
      id: `wr-${name}`, type: 'modbus-write', name: `write ${name}`, showStatusActivities: false, showErrors: false, unitid: '1', dataType: 'HoldingRegister', adr: String(HR_SETPOINT), quantity: '1',
      server: `cl-${name}`, emptyMsgOnFail: false, keepMsgProperties: false, wires: [['wrote'], []],
    },
  ];
}

async function rig(opts: RigOptions = {}): Promise<Rig> {
  const names = opts.names ?? ['A', 'B'];
  const paths: Path[] = [];
  for (const name of names) {
    const device = await ModbusTestDevice.start(await freePort(), name);
    const proxy = await FaultProxy.start('127.0.0.1', device.port);
    devices.push(device);
    proxies.push(proxy);
    paths.push({ name, device, proxy });
  }
  if (opts.guard) paths[0].device.setMaster(true);
  const channels = names.map((name) => ({
    name, by: 'topic', pattern: `${name}/*`, staleMs: STALE_MS,
    ...(opts.guard ? { master: { by: 'topic', pattern: `${name}/*`, path: 'payload[1]', test: 'eq', value: '1' } } : {}),
  }));
  const flow: Array<Record<string, unknown>> = [
    {
      id: 'sel', type: 'channel-selector', name: 'plc', channels, returnMode: opts.returnMode ?? 'return', holdOff: HOLD_OFF_MS, minSwitch: 0, topicOut: 'item',
      writeBy: 'property', writeProperty: 'write', writePattern: '', guard: opts.guard ?? false, holdWrites: opts.holdWrites ?? 5000, maxHeldWrites: 100,
      outputs: 1 + names.length, wires: [['out'], ...names.map((n) => [`wr-${n}`])],
    },
    { id: 'out', type: 'helper', wires: [] },
    { id: 'wrote', type: 'helper', wires: [] },
    { id: 'catch', type: 'catch', scope: ['sel'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', wires: [] },
    ...paths.flatMap((p) => channelNodes(p.name, p.proxy.port, opts.emptyMsgOnFail ?? true)),
  ];
  const events: RedundancyEvent[] = [];
  const onEvent = (e: RedundancyEvent) => {
    if (e.pair === 'plc') events.push(e);
  };
  pairHub.on('event', onEvent);
  unhook = () => pairHub.off('event', onEvent);
  await loadFlow([selectorModule, mbClient, mbRead, mbWrite], flow);
  const out = collect('out');
  const caught = collect('caught');
  const sel = helper.getNode('sel');
  const r: Rig = {
    paths,
    out,
    caught,
    events,
    kinds: () => events.map((e) => e.kind),
    lastChannel: () => out.at(-1)?.channel as string | undefined,
    counters: (from = 0) => out.slice(from).map((m) => (m.payload as number[])[0]),
    write: (value) => sel.receive({ write: true, payload: value }),
    status: () => nodeStatus(sel),
  };
  await waitFor(() => r.lastChannel() === names[0] && r.out.length >= 3, 5000 + SLACK_MS, `data from ${names[0]}`, () => ({ status: r.status(), events }));
  return r;
}

/** The node's own last status (the runtime's status spy is shared by every node). */
function nodeStatus(node: { status: { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> } }): { fill?: string; shape?: string; text?: string } {
  const calls = node.status.getCalls().filter((c) => c.thisValue === node);
  return (calls.at(-1)?.args[0] ?? {}) as { fill?: string; shape?: string; text?: string };
}

/** The largest step between successive forwarded counter values, in ms. */
function largestGapMs(values: number[]): number {
  let gap = 0;
  for (let i = 1; i < values.length; i++) gap = Math.max(gap, ((values[i] - values[i - 1] + 0x10000) % 0x10000) * 100);
  return gap;
}

describe('channel-selector (real runtime, node-red-contrib-modbus, Modbus TCP servers)', function () {
  this.timeout(60_000);
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    unhook?.();
    unhook = undefined;
    await helper.unload();
    await stopServer();
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(devices.map((d) => d.stop()));
    proxies = [];
    devices = [];
  });

  it('server redundancy: the preferred server crashes, values continue from the standby, writes follow the active path, return after the hold-off', async function () {
    const r = await rig();
    const [a, b] = r.paths;
    r.write(101);
    await waitFor(() => a.device.written(HR_SETPOINT).includes(101), 3000 + SLACK_MS, 'the write on A');
    const mark = r.out.length;
    await a.device.stop('crash');
    await waitFor(() => r.lastChannel() === 'B', STALE_MS + SLACK_MS, 'values from B', () => r.events);
    const fo = r.events.find((e) => e.kind === 'failover');
    assert.equal(fo?.from, 'A');
    assert.equal(fo?.to, 'B');
    assert.match(fo?.reason ?? '', /^A: /);
    await waitFor(() => r.out.filter((m, i) => i >= mark && m.channel === 'B').length >= 10, 2000 + SLACK_MS, '10 values from B');
    assert.ok(largestGapMs(r.counters(mark)) <= STALE_MS + SLACK_MS, `values continue (largest gap ${largestGapMs(r.counters(mark))} ms)`);
    r.write(102);
    await waitFor(() => b.device.written(HR_SETPOINT).includes(102), 3000 + SLACK_MS, 'the write on B');
    assert.deepEqual(a.device.written(HR_SETPOINT), [101], 'nothing else on A');
    assert.match(r.status().text ?? '', /^B: A /);
    assert.equal(r.status().fill, 'yellow');
    // A back: return after the hold-off, not before.
    await a.device.start();
    await waitFor(() => r.kinds().includes('channel-up'), 2 * RECONNECT_MS + 500 + SLACK_MS, 'A up again', () => r.events);
    const upAt = r.events.find((e) => e.kind === 'channel-up')?.time as number;
    await waitFor(() => r.kinds().includes('promotion'), HOLD_OFF_MS + SLACK_MS, 'the return to A', () => r.events);
    const promo = r.events.find((e) => e.kind === 'promotion') as RedundancyEvent;
    assert.ok(promo.time - upAt >= HOLD_OFF_MS - 50, `returned ${promo.time - upAt} ms after A came back (hold-off ${HOLD_OFF_MS})`);
    await waitFor(() => r.lastChannel() === 'A', 1000 + SLACK_MS, 'values from A');
    r.write(103);
    await waitFor(() => a.device.written(HR_SETPOINT).includes(103), 3000 + SLACK_MS, 'the write on A');
    assert.deepEqual(b.device.written(HR_SETPOINT), [102]);
    assert.deepEqual(r.kinds().filter((k) => ['failover', 'promotion', 'switch-complete'].includes(k)), ['failover', 'switch-complete', 'promotion', 'switch-complete']);
    assert.equal(r.status().fill, 'green');
    assert.equal(r.caught.length, 0, 'no write failed');
  });

  it('data path redundancy: connection reset on the preferred path; stay mode keeps the standby after the path is back', async function () {
    const r = await rig({ returnMode: 'stay' });
    const [a, b] = r.paths;
    a.proxy.setMode('reset');
    await waitFor(() => r.lastChannel() === 'B', STALE_MS + SLACK_MS, 'values from B', () => r.events);
    a.proxy.setMode('pass');
    await waitFor(() => r.kinds().includes('channel-up'), 2 * RECONNECT_MS + 1000 + SLACK_MS, 'A up again', () => r.events);
    // Stays on B for well past the hold-off.
    await sleep(HOLD_OFF_MS + 1000);
    assert.equal(r.lastChannel(), 'B');
    assert.ok(!r.kinds().includes('promotion'), 'no return in stay mode');
    assert.match(r.status().text ?? '', /^B: staying \(A healthy\)/);
    r.write(7);
    await waitFor(() => b.device.written(HR_SETPOINT).includes(7), 3000 + SLACK_MS, 'the write on B');
    assert.deepEqual(a.device.written(HR_SETPOINT), []);
    // Now B's path fails: back to A at once.
    b.proxy.setMode('reset');
    await waitFor(() => r.lastChannel() === 'A', STALE_MS + SLACK_MS, 'values from A again', () => r.events);
    assert.deepEqual(r.events.filter((e) => e.kind === 'failover').map((e) => `${e.from}>${e.to}`), ['A>B', 'B>A']);
  });

  it('silent link (blackhole) without error messages: the freshness finds it; the path returns after the hold-off', async function () {
    const r = await rig({ emptyMsgOnFail: false });
    const [a] = r.paths;
    const mark = r.out.length;
    a.proxy.setMode('blackhole');
    await waitFor(() => r.lastChannel() === 'B', STALE_MS + SLACK_MS, 'values from B', () => r.events);
    const fo = r.events.find((e) => e.kind === 'failover');
    assert.equal(fo?.reason, `A: no data for ${formatDuration(STALE_MS)}`);
    assert.ok((fo?.detectMs ?? 0) >= STALE_MS, 'detected from the last data');
    await waitFor(() => r.out.filter((m, i) => i >= mark && m.channel === 'B').length >= 5, 2000 + SLACK_MS, 'values from B');
    assert.ok(largestGapMs(r.counters(mark)) <= STALE_MS + SLACK_MS, `values continue (largest gap ${largestGapMs(r.counters(mark))} ms)`);
    a.proxy.setMode('pass');
    await waitFor(() => r.kinds().includes('promotion'), CLIENT_TIMEOUT_MS + 2 * RECONNECT_MS + HOLD_OFF_MS + 2000 + SLACK_MS, 'the return to A', () => r.events);
    await waitFor(() => r.lastChannel() === 'A', 1000 + SLACK_MS, 'values from A');
  });

  it('exception replies on the preferred device: failover at once, with the Modbus exception as the reason', async function () {
    const r = await rig();
    const [a] = r.paths;
    a.device.exception = 4;
    await waitFor(() => r.lastChannel() === 'B', 2000 + SLACK_MS, 'values from B', () => r.events);
    const fo = r.events.find((e) => e.kind === 'failover');
    assert.match(fo?.reason ?? '', /^A: A\/regs: error: .*(exception|Slave device failure)/i);
    assert.ok((fo?.detectMs ?? Infinity) < STALE_MS, `the error decided, not the freshness (${fo?.detectMs} ms)`);
    a.device.exception = 0;
    await waitFor(() => r.kinds().includes('promotion'), HOLD_OFF_MS + 2000 + SLACK_MS, 'the return to A', () => r.events);
  });

  it('IO device redundancy: the guard never writes to the slave PLC; held writes go to the new master; rejected ones are catchable', async function () {
    const HOLD = 1500;
    const r = await rig({ guard: true, holdWrites: HOLD });
    const [a, b] = r.paths;
    assert.match(r.status().text ?? '', /^A \(master\)$/);
    r.write(201);
    await waitFor(() => a.device.written(HR_SETPOINT).includes(201), 3000 + SLACK_MS, 'the write on the master A');
    // Citect's hazard: the master PLC's cable fails; the PLC stays master. The selector reads from B (the slave).
    a.proxy.setMode('blackhole');
    await waitFor(() => r.lastChannel() === 'B', STALE_MS + SLACK_MS, 'values from B', () => r.events);
    assert.match(r.status().text ?? '', /^B \(not master\)/);
    r.write(202);
    await waitFor(() => r.caught.length === 1, HOLD + SLACK_MS, 'the rejected write at the catch node', () => r.events);
    const err = r.caught[0].error as { message: string };
    assert.match(err.message, /^WriteRejected: write not sent: channel B \(active\) is not confirmed as the master: not master \(0\); held 1500 ms/);
    assert.ok(r.kinds().includes('write-held') && r.kinds().includes('write-rejected'));
    // A write held while the PLC pair switches over: it goes to B once B says master.
    r.write(203);
    await sleep(300);
    a.device.setMaster(false);
    b.device.setMaster(true);
    await waitFor(() => b.device.written(HR_SETPOINT).includes(203), HOLD + SLACK_MS, 'the held write on the new master B', () => r.events);
    assert.ok(r.kinds().includes('write-released'));
    assert.equal(r.caught.length, 1, 'only the first write was rejected');
    // Read back from both devices: nothing ever written to a PLC while it was the slave.
    await sleep(500);
    assert.deepEqual(a.device.written(HR_SETPOINT), [201]);
    assert.deepEqual(b.device.written(HR_SETPOINT), [203]);
    for (const d of [a.device, b.device]) for (const w of d.writes) assert.equal(w.master, 1, `${d.name} got ${w.value} while its master register was ${w.master}`);
    // A's path back: A is the slave now, so the selector stays with the master B.
    a.proxy.setMode('pass');
    await waitFor(() => r.events.some((e) => e.kind === 'channel-up' && e.server === 'A'), CLIENT_TIMEOUT_MS + 2 * RECONNECT_MS + 2000 + SLACK_MS, 'A up again');
    await sleep(HOLD_OFF_MS + 500);
    assert.equal(r.lastChannel(), 'B', 'the master is kept');
    assert.ok(!r.kinds().includes('promotion'));
  });

  it('all paths down, then one back: nothing forwarded meanwhile, writes held, the first back is taken at once', async function () {
    const r = await rig();
    const [a, b] = r.paths;
    await Promise.all([a.device.stop('crash'), b.device.stop('crash')]);
    await waitFor(() => r.kinds().includes('all-down'), STALE_MS + SLACK_MS, 'all down', () => r.events);
    assert.equal(r.status().fill, 'red');
    assert.match(r.status().text ?? '', /^no channel: A .*; B /);
    const mark = r.out.length;
    r.write(55);
    await sleep(500);
    assert.equal(r.out.length, mark, 'nothing forwarded while all are down');
    await b.device.start();
    await waitFor(() => r.lastChannel() === 'B', 2 * RECONNECT_MS + 1000 + SLACK_MS, 'values from B', () => r.events);
    assert.ok(r.kinds().includes('recovered'));
    await waitFor(() => b.device.written(HR_SETPOINT).includes(55), 3000 + SLACK_MS, 'the held write on B');
    assert.deepEqual(a.device.written(HR_SETPOINT), []);
    // Manual control: pin A while it is down (forced means forced), then automatic again.
    helper.getNode('sel').receive({ topic: 'control', payload: 'A' });
    await waitFor(() => r.kinds().includes('manual-switch'), 1000, 'the manual switch');
    assert.match(r.status().text ?? '', /^A pinned, down/);
    helper.getNode('sel').receive({ topic: 'control', payload: 'auto' });
    await waitFor(() => r.status().text?.startsWith('B:') === true, 1000 + SLACK_MS, 'B again', () => r.status());
    await a.device.start();
    await waitFor(() => r.kinds().includes('promotion'), 2 * RECONNECT_MS + HOLD_OFF_MS + 1000 + SLACK_MS, 'the return to A', () => r.events);
  });

  it('events reach redundancy-diagnostics and read right in its e-mails and event list', async function () {
    await loadFlow([selectorModule, diagnosticsModule], [
      {
        id: 'sel', type: 'channel-selector', name: 'line 3 IO', channels: [{ name: 'eth', by: 'channel', staleMs: 300 }, { name: 'serial', by: 'channel', staleMs: 3000 }],
        holdOff: 500, outputs: 3, wires: [['out'], [], []],
      },
      { id: 'out', type: 'helper', wires: [] },
      { id: 'diag', type: 'redundancy-diagnostics', name: 'diag', pairs: 'line 3 IO', kinds: [], severities: [], maxEvents: 100, persist: false, subject: '', body: '', rateLimit: 0, rateWindow: 60000, listSize: 50, wires: [['mail'], [], ['list']] },
      { id: 'mail', type: 'helper', wires: [] },
      { id: 'list', type: 'helper', wires: [] },
    ]);
    const mail = collect('mail');
    const list = collect('list');
    const sel = helper.getNode('sel');
    sel.receive({ channel: 'eth', payload: 1 });
    sel.receive({ channel: 'serial', payload: 1 });
    // eth goes quiet: failover after its 300 ms freshness; serial keeps reporting.
    await waitFor(() => mail.some((m) => /Failover/.test(String(m.topic))), 300 + SLACK_MS, 'the failover e-mail', () => mail.map((m) => m.topic));
    const fo = mail.find((m) => /Failover/.test(String(m.topic))) as Msg;
    assert.equal(fo.topic, '[ERROR] line 3 IO: Failover to serial');
    assert.match(String(fo.payload), /Switch: +eth → serial/);
    assert.match(String(fo.payload), /Reason: +eth: no data for 300 ms/);
    assert.ok(mail.some((m) => m.topic === '[WARNING] line 3 IO: Channel down on eth'), JSON.stringify(mail.map((m) => m.topic)));
    sel.receive({ channel: 'serial', payload: 2 });
    await waitFor(() => mail.some((m) => m.topic === '[INFO] line 3 IO: Switch complete to serial'), 2000, 'switch complete');
    const rows = (list.at(-1)?.payload ?? []) as Array<{ pair: string; kind: string; servers: string }>;
    assert.ok(rows.some((r) => r.pair === 'line 3 IO' && r.kind === 'failover' && r.servers === 'eth → serial'), JSON.stringify(rows));
  });

  it('bad configuration: a clear error on the status and for each message; the rest of the flow deploys and runs', async function () {
    const lib = (await new Function('u', 'return import(u)')(pathToFileURL(join(__dirname, '..', '..', '..', 'scripts', 'examples', 'lib.mjs')).href)) as {
      startExample(n: number): void;
      channelSelector(z: string, x: number, y: number, name: string, channels: unknown[], wires: string[][], extra?: Record<string, unknown>): Record<string, unknown>;
    };
    lib.startExample(99);
    // A working selector written as an example generator writes it (by msg.channel).
    const good = lib.channelSelector('test-tab', 300, 100, 'good', [{ name: 'eth', by: 'channel' }, { name: 'serial', by: 'channel' }], [['good-out'], [], []]);
    assert.equal(good.outputs, 3);
    await loadFlow([selectorModule], [
      { id: 'bad', type: 'channel-selector', name: 'bad', channels: [{ name: 'A', by: 'topic', pattern: 'A/*' }, { name: 'A', by: 'topic', pattern: '/(/' }], guard: true, outputs: 3, wires: [[], [], []] },
      { id: 'catch', type: 'catch', scope: ['bad'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', wires: [] },
      good,
      { id: 'good-out', type: 'helper', wires: [] },
      { id: 'stale-outputs', type: 'channel-selector', name: 'stale outputs', channels: [{ name: 'A', by: 'channel' }, { name: 'B', by: 'channel' }, { name: 'C', by: 'channel' }], outputs: 3, wires: [[], [], []] },
    ]);
    const caught = collect('caught');
    const goodOut = collect('good-out');
    const bad = helper.getNode('bad');
    const status = nodeStatus(bad);
    assert.equal(status.fill, 'red');
    assert.equal(status.shape, 'ring');
    assert.match(status.text ?? '', /^config: channel 1 "A": the write guard is on/);
    const logged = loggedErrors().join('\n');
    assert.match(logged, /channel 2 "A": the name is used twice/);
    assert.match(logged, /channel 2 "A": match: \/\(\/ is not a valid regular expression/);
    bad.receive({ topic: 'A/x', payload: 1 });
    await waitFor(() => caught.length === 1, 2000, 'the error at the catch node');
    assert.match((caught[0].error as { message: string }).message, /^Error: channel selector configuration: channel 1 "A": the write guard is on/);
    const log = helper.log();
    const warnings = log.args.filter((a: Array<{ level: number }>) => a[0].level === log.WARN).map((a: Array<{ msg: unknown }>) => String(a[0].msg));
    assert.ok(warnings.some((w: string) => /the node has 3 outputs but 3 channels \(it needs 4/.test(w)), JSON.stringify(warnings));
    helper.getNode(String(good.id)).receive({ channel: 'eth', payload: 5 });
    await waitFor(() => goodOut.length === 1, 2000, 'the good selector forwards');
    assert.equal(goodOut[0].channel, 'eth');
  });
});
