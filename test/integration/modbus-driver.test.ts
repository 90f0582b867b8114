// The Modbus driver against real servers on 127.0.0.1: the simulator on modbus-serial's ServerTCP
// (in this process, or in a child process for crashes), RTU over TCP, RTU on a socat pty pair, and
// faults through the loopback fault proxy. Merging is checked by counting the requests the server
// received; writes by reading back what the server stored.
import assert from 'node:assert/strict';
import type { DataChange, ItemError } from '../../lib/core/driver';
import { DriverError } from '../../lib/core/driver';
import { type Clock, type TimerHandle, realClock } from '../../lib/core/clock';
import { driverFactory } from '../../lib/drivers';
import { ModbusDriver } from '../../lib/drivers/modbus';
import { ModbusSimulatorProcess } from '../../lib/sim/modbus-sim-process';
import { ModbusSimulator, type ModbusSimulatorOptions } from '../../lib/sim/modbus-simulator';
import { parseModbusOptions } from '../../lib/rules/modbus';
import { FaultProxy } from '../helpers/fault-proxy';
import { freePort } from '../helpers/ports';
import { type PtyPair, ptyPair, requireSocat } from '../helpers/socat';
import { sleep, waitFor } from '../helpers/wait';

interface Recorder {
  changes: DataChange[];
  batches: number;
  lost: string[];
  itemErrors: Array<{ errors: ItemError[]; recovered: string[] }>;
  latest(item: string): DataChange | undefined;
}

function recorder(driver: ModbusDriver): Recorder {
  const r: Recorder = {
    changes: [],
    batches: 0,
    lost: [],
    itemErrors: [],
    latest: (item) => [...r.changes].reverse().find((c) => c.item === item),
  };
  driver.attach({
    data: (c) => {
      r.batches++;
      r.changes.push(...c);
    },
    lost: (reason) => r.lost.push(reason),
    itemErrors: (errors, recovered) => r.itemErrors.push({ errors, recovered }),
  });
  return r;
}

/** The real clock, counting the timers the driver has pending. */
class CountingClock implements Clock {
  private live = new Set<TimerHandle>();
  get pending(): number {
    return this.live.size;
  }
  now(): number {
    return realClock.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h = realClock.setTimeout(() => {
      this.live.delete(h);
      fn();
    }, ms);
    this.live.add(h);
    return h;
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h) this.live.delete(h);
    realClock.clearTimeout(h);
  }
}

function driverFor(endpoint: string, props: Record<string, unknown> = {}, pingTimeoutMs = 1000, clock?: Clock): ModbusDriver {
  const { options, problems } = parseModbusOptions(props);
  assert.deepEqual(problems, []);
  return new ModbusDriver({ endpoint, options, pingTimeoutMs, clock });
}

const items = (ids: string[], samplingIntervalMs = 50) => ids.map((id) => ({ id, samplingIntervalMs }));

describe('Modbus driver against real servers', function () {
  this.timeout(20_000);
  let sim: ModbusSimulator | undefined;
  let driver: ModbusDriver | undefined;
  let proxy: FaultProxy | undefined;

  async function startSim(extra: Partial<ModbusSimulatorOptions> = {}): Promise<ModbusSimulator> {
    sim = new ModbusSimulator({ port: await freePort(), counterPeriodMs: 100, ...extra });
    await sim.start();
    return sim;
  }

  afterEach(async function () {
    await driver?.disconnect();
    driver = undefined;
    await proxy?.close();
    proxy = undefined;
    await sim?.stop();
    sim = undefined;
  });

  it('is registered as protocol modbus and validates endpoints and items through the registry', function () {
    const f = driverFactory('modbus');
    assert.equal(f.label, 'Modbus');
    assert.deepEqual(f.capabilities, { delivery: 'polling', timestamps: 'arrival', serviceLevel: false, sampling: false, browse: false });
    assert.equal(f.validateEndpoint('modbus-tcp://10.0.0.5'), undefined);
    assert.match(f.validateEndpoint('modbus-tcp://10.0.0.5?unit=0') ?? '', /broadcast/);
    assert.equal(f.validateItem('HR0:float32:CDAB*0.1'), undefined);
    assert.match(f.validateItem('HR0:float33') ?? '', /unknown data type/);
    assert.match(f.parseOptions({ modbusMaxRegisters: 0 }, {}).problems[0], /registers per read must be an integer 1..125/);
  });

  it('decodes every type and order from register images stored in the device', async function () {
    const s = await startSim();
    s.setRegisters(20, [0xfffe, 0x5678, 0x1234, 0x0000, 0x3fc0, 0x4009, 0x21fb, 0x5444, 0x2d18, 0x0807, 0x0605, 0x0403, 0x0201, 0x4142, 0x4300, 0x1234, 0x8001, 0x3412]);
    driver = driverFor(s.endpoints().tcp);
    await driver.connect();
    const ids = ['HR20:int16', 'HR20', 'HR21:int32:CDAB', 'HR23:float32:CDAB', 'HR25:float64', 'HR29:uint64:HGFEDCBA', 'HR33:string4', 'HR35:bcd16', 'HR36.15', 'HR36.0', 'HR36.1', 'HR37:int16:BA', 'HR35:int16*0.1', 'HR20[2]:int16', 'HR10'];
    const got = await driver.read(ids);
    assert.deepEqual(
      got.map((c) => [c.item, c.value, c.statusCode]),
      [
        ['HR20:int16', -2, 'Good'],
        ['HR20', 65534, 'Good'],
        ['HR21:int32:CDAB', 0x12345678, 'Good'],
        ['HR23:float32:CDAB', 1.5, 'Good'],
        ['HR25:float64', Math.PI, 'Good'],
        // Beyond 2^53: a decimal string (exact, JSON-safe), see docs/modbus.md.
        ['HR29:uint64:HGFEDCBA', 0x0102030405060708n.toString(), 'Good'],
        ['HR33:string4', 'ABC', 'Good'],
        ['HR35:bcd16', 1234, 'Good'],
        ['HR36.15', true, 'Good'],
        ['HR36.0', true, 'Good'],
        ['HR36.1', false, 'Good'],
        ['HR37:int16:BA', 0x1234, 'Good'],
        ['HR35:int16*0.1', 466, 'Good'],
        ['HR20[2]:int16', [-2, 0x5678], 'Good'],
        ['HR10', 1, 'Good'],
      ],
    );
    const all = got.every((c) => c.quality === 'good' && c.good && typeof c.sourceTimestamp === 'number');
    assert.ok(all, 'good quality, stamped on arrival');
  });

  it('merges items into as few reads as the ranges and limits allow (counted at the server)', async function () {
    const s = await startSim({ bulkRegisters: 300 });
    driver = driverFor(s.endpoints().tcp);
    const rec = recorder(driver);
    await driver.connect();
    const ids = [
      'HR0:uint32', 'HR2', 'HR3:int16', 'HR4:float32', 'HR6:float32:CDAB', // HR 0..7: one read
      ...Array.from({ length: 40 }, (_, i) => `HR${20 + i}`), // HR 20..59: one read
      ...Array.from({ length: 300 }, (_, i) => `HR${1000 + i}`), // 300 registers: 125 + 125 + 50
      'C0[16]', 'C16', // coils 0..16: one read
      'DI0[8]', 'DI8[8]', 'DI16', // discrete inputs 0..16: one read
      'IR0:uint32', 'IR2', // input registers 0..2: one read
    ];
    const result = await driver.addItems(items(ids, 60_000), 'reporting');
    assert.deepEqual(result.errors, []);
    assert.equal(result.granted.length, ids.length);
    await waitFor(() => rec.batches >= 1, 5000, 'the first poll cycle');
    const reads = s.requests.map((r) => `FC${r.fc} ${r.address}+${r.count}`).sort();
    assert.deepEqual(reads, ['FC1 0+17', 'FC2 0+17', 'FC3 0+8', 'FC3 1000+125', 'FC3 1125+125', 'FC3 1250+50', 'FC3 20+40', 'FC4 0+3'].sort());
    assert.equal(rec.changes.length, ids.length, 'one change per item in the first cycle');
    assert.ok(rec.changes.every((c) => c.statusCode === 'Good'), JSON.stringify(rec.changes.find((c) => c.statusCode !== 'Good')));
  });

  it('never reads unmapped registers unless maxGap allows it, and then splits a refused read', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp, { modbusMaxGap: 20 });
    const rec = recorder(driver);
    await driver.connect();
    // HR10 and HR20 merge across HR11..HR19, which the device does not map: it refuses the read.
    await driver.addItems(items(['HR10', 'HR20', 'HR21'], 100), 'reporting');
    await waitFor(() => rec.latest('HR10') !== undefined && rec.latest('HR20') !== undefined, 5000, 'both items');
    assert.equal(rec.latest('HR10')?.statusCode, 'Good');
    assert.equal(rec.latest('HR20')?.statusCode, 'Good');
    assert.deepEqual(rec.itemErrors, [], 'no item is to blame: the gap was');
    const cycles = driver.pollStats.cycles;
    await waitFor(() => driver!.pollStats.cycles >= cycles + 2, 5000, 'two more cycles');
    const tail = s.requests.slice(-4).map((r) => `${r.address}+${r.count}`);
    assert.ok(!tail.includes('10+12'), `the refused merged read is not sent again: ${tail.join(', ')}`);
    assert.ok(tail.includes('10+1') && tail.includes('20+2'), tail.join(', '));
    // maxGap 0 (the default) never asks for the gap in the first place
    await driver.disconnect();
    await waitFor(() => s.connectionCount === 0, 3000, 'the first connection closed (its last request logged)');
    s.clearLog();
    driver = driverFor(s.endpoints().tcp);
    const rec0 = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR10', 'HR20', 'HR21'], 60_000), 'reporting');
    await waitFor(() => rec0.batches >= 1, 5000, 'a cycle');
    assert.deepEqual(s.requests.map((r) => `${r.address}+${r.count}`).sort(), ['10+1', '20+2']);
  });

  it('marks only the affected items bad on exception answers, and reports illegal addresses as late item errors', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp);
    const rec = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR2', 'HR1000', 'HR1001', 'HR100:float32']), 'reporting');
    await waitFor(() => rec.latest('HR100:float32') !== undefined && rec.latest('HR1000') !== undefined, 5000, 'first values');
    const bad = rec.latest('HR100:float32')!;
    assert.deepEqual([bad.statusCode, bad.quality, bad.value], ['BadOutOfRange', 'bad', null]);
    assert.match(bad.detail ?? '', /Modbus exception 2 \(illegal data address\)/);
    assert.equal(rec.itemErrors.length, 1);
    assert.deepEqual(rec.itemErrors[0].errors.map((e) => [e.id, e.statusCode]), [['HR100:float32', 'BadOutOfRange']]);
    // The device fails on its bulk area: exception 4 there, the rest keeps answering.
    s.setException({ code: 4, area: 'holding', from: 1000, to: 1999 });
    await waitFor(() => rec.latest('HR1000')?.statusCode === 'BadDeviceFailure' && rec.latest('HR1001')?.statusCode === 'BadDeviceFailure', 5000, 'bulk items bad');
    assert.match(rec.latest('HR1001')!.detail ?? '', /Modbus exception 4 \(server device failure\)/);
    const before = rec.changes.filter((c) => c.item === 'HR2').length;
    await waitFor(() => rec.changes.filter((c) => c.item === 'HR2').length >= before + 2, 5000, 'HR2 still changing');
    assert.equal(rec.latest('HR2')!.statusCode, 'Good');
    assert.deepEqual(rec.lost, [], 'an exception answer is an answer: the device is not lost');
    assert.equal(rec.itemErrors.length, 1, 'a device failure is no item error');
    await driver.ping(1000);
    s.setException(undefined);
    await waitFor(() => rec.latest('HR1000')?.statusCode === 'Good', 5000, 'bulk items good again');
  });

  it('reports only changes: a frozen value is reported once, a disabled item not polled, re-enabled items at once', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp);
    const rec = recorder(driver);
    await driver.connect();
    s.freeze(true);
    await driver.addItems(items(['HR2', 'HR10']), 'reporting');
    await waitFor(() => driver!.pollStats.cycles >= 6, 5000, 'six cycles');
    assert.deepEqual(rec.changes.map((c) => c.item).sort(), ['HR10', 'HR2'], 'each once');
    await driver.setMonitoring('disabled');
    await waitFor(() => driver!.idle, 3000, 'the last poll done');
    s.clearLog();
    await sleep(300);
    assert.deepEqual(s.requests, [], 'no polls while disabled');
    await driver.ping(1000);
    assert.equal(s.requests.length, 1, 'the ping still reads');
    const n = rec.changes.length;
    await driver.setMonitoring('reporting');
    await waitFor(() => rec.changes.length >= n + 2, 2000, 'every value reported again after re-enabling');
    await assert.rejects(driver.setMonitoring('sampling'), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadMonitoringModeInvalid');
  });

  it('adds and removes items incrementally: the others keep being polled, removed ones are no longer read', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp);
    const rec = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR0:uint32'], 50), 'reporting');
    await waitFor(() => rec.changes.length >= 2, 5000, 'the counter');
    const counter = () => rec.changes.filter((c) => c.item === 'HR0:uint32').length;
    let n = counter();
    await driver.addItems(items(['HR20', 'C3', 'HR0:uint32'], 50), 'reporting'); // HR0:uint32 again: no duplicate
    await waitFor(() => rec.latest('HR20') !== undefined && rec.latest('C3') !== undefined && counter() >= n + 2, 5000, 'new items and the counter going on');
    const values = rec.changes.filter((c) => c.item === 'HR0:uint32').map((c) => c.value as number);
    assert.ok(values.every((v, i) => i === 0 || v > values[i - 1]), 'no value reported twice');
    await driver.removeItems(['HR20', 'C3']);
    await waitFor(() => driver!.idle, 3000, 'the cycle in flight done');
    s.clearLog();
    n = counter();
    await waitFor(() => counter() >= n + 2, 5000, 'the counter after the removal');
    assert.ok(s.requests.length > 0 && s.requests.every((r) => r.fc === 3 && r.address === 0 && r.count === 2), JSON.stringify(s.requests.slice(0, 5)));
  });

  it('answers a ping at the head of the queue, not behind 30 polls of a slow device', async function () {
    const s = await startSim({ bulkRegisters: 100 });
    s.setResponseDelay(40); // every answer 40 ms late: 30 reads take 1.2 s
    driver = driverFor(s.endpoints().tcp, {}, 2000);
    const rec = recorder(driver);
    await driver.connect();
    // 30 reads per cycle: every other bulk register (gaps are never bridged)
    await driver.addItems(items(Array.from({ length: 30 }, (_, i) => `HR${1000 + 2 * i}`), 100), 'reporting');
    await waitFor(() => driver!.queuedRequests >= 20, 5000, 'a backlog of polls');
    const cycles = driver.pollStats.cycles;
    const backlog = driver.queuedRequests;
    await driver.ping(400); // 30 × 40 ms behind the backlog would be 1.2 s: it would time out
    assert.ok(driver.queuedRequests >= backlog - 3, `the ping did not wait for the backlog (${backlog} queued before, ${driver.queuedRequests} after)`);
    assert.equal(driver.pollStats.cycles, cycles, 'answered within the same poll cycle');
    assert.deepEqual(rec.lost, []);
  });

  it('writes every encoding with the right function code and reads it back from the device', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp);
    await driver.connect();
    const stored: number[][] = [];
    const w = async (item: string, value: unknown) => {
      s.clearLog();
      await driver!.write(item, value);
      stored.push(...s.writes.map((x) => x.values));
      return s.requests.map((r) => `FC${r.fc} ${r.address}+${r.count}`).join(', ');
    };
    assert.equal(await w('HR20:int16', -5), 'FC6 20+1');
    assert.equal(await w('HR21:float32:CDAB', 1.5), 'FC16 21+2');
    assert.equal(await w('HR23:uint64', 0x0102030405060708n), 'FC16 23+4');
    assert.equal(await w('HR27:string5', 'Hello'), 'FC16 27+3');
    assert.equal(await w('HR30/10', 12.3), 'FC6 30+1');
    assert.equal(await w('HR31[3]:int16', [1, -1, 7]), 'FC16 31+3');
    assert.equal(await w('HR34.3', true), 'FC3 34+1, FC6 34+1', 'a bit: read-modify-write');
    assert.equal(await w('HR34.0', true), 'FC3 34+1, FC6 34+1');
    assert.equal(await w('HR34.3', false), 'FC3 34+1, FC6 34+1');
    assert.equal(await w('C3', true), 'FC5 3+1');
    assert.equal(await w('C4[4]', [true, false, true, true]), 'FC15 4+4');
    const back = await driver.read(['HR20:int16', 'HR21:float32:CDAB', 'HR23:uint64', 'HR27:string5', 'HR30/10', 'HR31[3]:int16', 'HR34', 'C3', 'C4[4]']);
    assert.deepEqual(back.map((c) => c.value), [-5, 1.5, 0x0102030405060708n.toString(), 'Hello', 12.3, [1, -1, 7], 1, true, [true, false, true, true]]);
    assert.deepEqual(stored.slice(0, 4), [[0xfffb], [0x0000, 0x3fc0], [0x0102, 0x0304, 0x0506, 0x0708], [0x4865, 0x6c6c, 0x6f00]], 'int16, float32 CDAB, uint64, string as stored by the device');
    assert.deepEqual(stored.slice(6, 9), [[0x0008], [0x0009], [0x0001]], 'bits set and cleared in the register');
    // Refused before anything is sent, with the status an operator can act on.
    s.clearLog();
    await assert.rejects(driver.write('HR20:int16', 40000), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadOutOfRange' && /out of range for int16/.test(e.message));
    await assert.rejects(driver.write('IR0', 1), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadNotWritable' && /input registers are read-only/.test(e.message));
    await assert.rejects(driver.write('HR20:foo', 1), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadNodeIdInvalid');
    assert.deepEqual(s.requests, []);
    // Refused by the device: its exception comes back as the status.
    await assert.rejects(driver.write('HR0', 1), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadOutOfRange' && /Modbus exception 2 \(illegal data address\)/.test(e.message));
  });

  it('honours the write options: always FC 16 / FC 15, and bit writes by FC 22 mask write', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp, { modbusWriteSingle: false, modbusBitWrite: 'mask' });
    await driver.connect();
    s.clearLog();
    await driver.write('HR20', 7);
    await driver.write('C0', true);
    assert.deepEqual(s.requests.map((r) => `FC${r.fc}`), ['FC16', 'FC15']);
    // The simulator (modbus-serial's ServerTCP) has no FC 22: the device says so.
    await assert.rejects(driver.write('HR21.2', true), (e: unknown) => e instanceof DriverError && e.statusCode === 'BadNotSupported' && /Modbus exception 1 \(illegal function\)/.test(e.message));
  });

  it('gives clear item errors for bad configuration and keeps the good items', async function () {
    const s = await startSim();
    driver = driverFor(s.endpoints().tcp, { modbusMaxRegisters: 10 });
    const rec = recorder(driver);
    await driver.connect();
    const result = await driver.addItems(items(['HR2', 'HR0:foo', '123', 'HR0:int16[20]', 'HR20@0']), 'reporting');
    assert.deepEqual(result.granted.map((g) => g.id), ['HR2']);
    assert.deepEqual(
      result.errors.map((e) => e.id),
      ['HR0:foo', '123', 'HR0:int16[20]', 'HR20@0'],
    );
    assert.match(result.errors[2].error, /spans 20 registers; this pair reads at most 10 per request \(modbusMaxRegisters\)/);
    assert.match(result.errors[3].error, /broadcast/);
    await waitFor(() => rec.latest('HR2')?.statusCode === 'Good', 5000, 'the good item');
    await assert.rejects(driver.addItems(items(['HR3']), 'sampling'), /no sampling state/);
    const desc = await driver.describe(['HR0:float32', 'HR0:int16*0.1', 'C0[8]', 'IR0:uint64', 'HR60:string20', 'HR9.1', 'HR0:foo']);
    assert.deepEqual(
      desc.map((d) => [d.dataType, d.valueRank, d.arrayDimensions, d.writable]),
      [
        ['Float', -1, undefined, true],
        ['Double', -1, undefined, true],
        ['Boolean', 1, [8], true],
        ['UInt64', -1, undefined, false],
        ['String', -1, undefined, true],
        ['Boolean', -1, undefined, true],
        ['Variant', -1, undefined, false],
      ],
    );
    assert.match(desc[6].error ?? '', /unknown data type/);
  });

  it('a wrong unit id gets no answer: the ping fails and polls report the device lost; per-item units work', async function () {
    const s = await startSim({ unitIds: [1, 2] });
    driver = driverFor(`${s.endpoints().tcp}?unit=5`, { modbusTimeout: 200 }, 200);
    const rec = recorder(driver);
    await driver.connect();
    await assert.rejects(driver.ping(300), /no answer/);
    await driver.addItems(items(['HR2']), 'reporting');
    await waitFor(() => rec.lost.length > 0, 5000, 'the device reported lost');
    assert.match(rec.lost[0], /no answer from the device to any of 1 read .*no answer within 200 ms/);
    await driver.disconnect();
    // Items with their own unit: unit 2 answers, unit 3 does not, and only its items go bad.
    driver = driverFor(s.endpoints().tcp, { modbusTimeout: 200 });
    const rec2 = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR2', 'HR2@2', 'HR10@3', 'HR2@3'], 100), 'reporting');
    await waitFor(() => ['HR2', 'HR2@2', 'HR10@3', 'HR2@3'].every((i) => rec2.latest(i)), 5000, 'all four items');
    assert.deepEqual(['HR2', 'HR2@2', 'HR10@3', 'HR2@3'].map((i) => rec2.latest(i)?.statusCode), ['Good', 'Good', 'BadTimeout', 'BadTimeout']);
    assert.match(rec2.latest('HR10@3')?.detail ?? rec2.latest('HR2@3')?.detail ?? '', /no answer within 200 ms|skipped: unit 3 did not answer/);
    const units = new Set(s.requests.filter((r) => r.unit === 3).map((r) => r.unit));
    assert.deepEqual([...units], [3]);
    const perCycle = s.requests.filter((r) => r.unit === 3).length / Math.max(1, driver.pollStats.cycles);
    assert.ok(perCycle <= 1.01, `one unanswered read of unit 3 per cycle, not one per item (${perCycle.toFixed(2)})`);
    assert.deepEqual(rec2.lost, []);
  });

  it('a silent link (blackhole) times out: ping fails, the device is lost, disconnect is bounded and leaves no timer', async function () {
    const s = await startSim();
    proxy = await FaultProxy.start('127.0.0.1', Number(s.endpoints().tcp.split(':').pop()));
    const clock = new CountingClock();
    driver = driverFor(`modbus-tcp://127.0.0.1:${proxy.port}`, { modbusTimeout: 300 }, 300, clock);
    const rec = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR2'], 50), 'reporting');
    await waitFor(() => rec.latest('HR2')?.statusCode === 'Good', 5000, 'values');
    proxy.setMode('blackhole');
    await assert.rejects(driver.ping(300), /no answer from .* within 300 ms/);
    await waitFor(() => rec.lost.length > 0, 5000, 'device lost');
    assert.match(rec.lost[0], /no answer within 300 ms/);
    const t0 = Date.now();
    await driver.disconnect();
    assert.ok(Date.now() - t0 < 3000, 'disconnect bounded');
    await waitFor(() => proxy!.connectionCount() === 0, 3000, 'the socket released');
    assert.equal(clock.pending, 0, 'no poll, ping or delay timer left');
    // And a disconnect in the middle of a cycle on a silent link, with a ping waiting:
    proxy.setMode('pass');
    await driver.connect();
    await waitFor(() => rec.changes.length > 0 && driver!.pollStats.cycles > 0, 5000, 'polling again');
    proxy.setMode('blackhole');
    const pinging = driver.ping(300).catch(() => undefined);
    await driver.disconnect();
    await pinging;
    assert.equal(clock.pending, 0, 'nothing left after a disconnect mid-cycle');
  });

  it('a reset link is reported lost at once, and a reconnect resumes polling', async function () {
    const s = await startSim();
    proxy = await FaultProxy.start('127.0.0.1', Number(s.endpoints().tcp.split(':').pop()));
    driver = driverFor(`modbus-tcp://127.0.0.1:${proxy.port}`, { modbusTimeout: 5000 }, 5000);
    const rec = recorder(driver);
    await driver.connect();
    await driver.addItems(items(['HR2'], 50), 'reporting');
    await waitFor(() => rec.latest('HR2') !== undefined, 5000, 'values');
    const t0 = Date.now();
    proxy.setMode('reset');
    await waitFor(() => rec.lost.length > 0, 3000, 'link lost');
    assert.ok(Date.now() - t0 < 3000, 'long before the 5 s request timeout');
    assert.match(rec.lost[0], /link closed/);
    await driver.disconnect();
    await assert.rejects(driver.connect(), /refused|closed|reset|ECONNRESET|no connection/i);
    proxy.setMode('pass');
    const n = rec.changes.length;
    await driver.connect();
    await waitFor(() => rec.changes.length > n, 5000, 'values after the reconnect (items kept)');
  });

  it('a crashed device process is reported lost, and its restart is reachable again', async function () {
    const port = await freePort();
    let p = await ModbusSimulatorProcess.spawn({ port, counterPeriodMs: 100 });
    try {
      driver = driverFor(p.endpoints.tcp, { modbusTimeout: 5000 }, 5000);
      const rec = recorder(driver);
      await driver.connect();
      await driver.addItems(items(['HR0:uint32'], 50), 'reporting');
      await waitFor(() => rec.latest('HR0:uint32') !== undefined, 5000, 'values');
      await p.kill();
      await waitFor(() => rec.lost.length > 0, 3000, 'crash noticed without waiting for a timeout');
      await driver.disconnect();
      await assert.rejects(driver.connect(), /refused the connection/);
      p = await ModbusSimulatorProcess.spawn({ port, counterPeriodMs: 100 });
      await driver.connect();
      const n = rec.changes.length;
      await waitFor(() => rec.changes.length > n, 5000, 'values from the restarted device');
    } finally {
      await p.close();
    }
  });

  it('speaks RTU over TCP (true RTU frames with CRC, not Modbus TCP framing)', async function () {
    const s = await startSim({ rtuTcpPort: await freePort() });
    driver = driverFor(s.endpoints().rtuTcp!);
    const rec = recorder(driver);
    await driver.connect();
    await driver.ping(1000);
    await driver.addItems(items(['HR0:uint32', 'HR2', 'HR4:float32', 'C16', 'DI16']), 'reporting');
    await waitFor(() => rec.changes.length >= 5, 5000, 'values over RTU');
    await driver.write('HR20:float32', -2.5);
    assert.deepEqual((await driver.read(['HR20:float32'])).map((c) => c.value), [-2.5]);
    assert.ok(s.requests.length > 0 && s.requests.every((r) => r.side === 'rtu-tcp'), 'served by the RTU side');
    // A Modbus TCP client on this port would get nothing it understands: the framing really is RTU.
    const tcpOnRtu = driverFor(`modbus-tcp://127.0.0.1:${s.endpoints().rtuTcp!.split(':').pop()}`, { modbusTimeout: 300 }, 300);
    await tcpOnRtu.connect();
    await assert.rejects(tcpOnRtu.ping(400));
    await tcpOnRtu.disconnect();
    // The device's RTU side dropped: no answers there, the TCP side still serves.
    s.setSide('rtu-tcp', false);
    await waitFor(() => rec.lost.length > 0, 5000, 'RTU side lost');
    const viaTcp = driverFor(s.endpoints().tcp);
    await viaTcp.connect();
    await viaTcp.ping(1000);
    await viaTcp.disconnect();
  });

  describe('RTU on a serial line (socat pty pair)', function () {
    let pty: PtyPair | undefined;
    before(function () {
      requireSocat(this);
    });
    afterEach(async function () {
      await driver?.disconnect();
      driver = undefined;
      await sim?.stop();
      sim = undefined;
      await pty?.close();
      pty = undefined;
    });

    it('reads, writes and pings over RTU, releases the port on disconnect, and loses the device when the serial side drops', async function () {
      pty = await ptyPair();
      const s = await startSim({ serialPath: pty.device, baudRate: 19200 });
      const endpoint = `modbus-rtu:${pty.master}?baud=19200`;
      driver = driverFor(endpoint, { modbusTimeout: 300 }, 300);
      const rec = recorder(driver);
      await driver.connect();
      await driver.ping(1000);
      await driver.addItems(items(['HR0:uint32', 'HR2', 'HR6:float32:CDAB', 'C16', 'DI0[16]'], 100), 'reporting');
      await waitFor(() => rec.changes.length >= 5, 5000, 'values over the serial line');
      await driver.write('HR22:int32', -123456);
      assert.deepEqual((await driver.read(['HR22:int32'])).map((c) => c.value), [-123456]);
      assert.ok(s.requests.every((r) => r.side === 'serial'));
      // The port is released: a second driver opens it after the first disconnects.
      await driver.disconnect();
      const second = driverFor(endpoint, { modbusTimeout: 300 }, 300);
      await second.connect();
      await second.ping(1000);
      await second.disconnect();
      // The cable is cut on the device's side: requests go unanswered.
      driver = driverFor(endpoint, { modbusTimeout: 300 }, 300);
      const rec2 = recorder(driver);
      await driver.connect();
      await driver.addItems(items(['HR2'], 100), 'reporting');
      await waitFor(() => rec2.latest('HR2') !== undefined, 5000, 'values');
      s.setSide('serial', false);
      await waitFor(() => rec2.lost.length > 0, 5000, 'device lost on the serial line');
      assert.match(rec2.lost[0], /no answer within 300 ms/);
    });
  });
});
