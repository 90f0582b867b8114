import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { type PlanEntry, planReads } from '../../lib/modbus/planner';
import { PRIORITY, RequestQueue } from '../../lib/modbus/queue';
import { parseItem } from '../../lib/rules/modbus';

function entries(...texts: string[]): PlanEntry[] {
  return texts.map((t) => {
    const r = parseItem(t);
    if (!r.ok) throw new Error(r.error);
    return { key: t, unit: r.value.unit ?? 1, area: r.value.area, address: r.value.address, span: r.value.span };
  });
}

const LIMITS = { maxRegisters: 125, maxBits: 2000, maxGap: 0 };
const brief = (blocks: ReturnType<typeof planReads>) => blocks.map((b) => `${b.unit}/FC${b.fc} ${b.address}+${b.count}`);

describe('Modbus request planner', function () {
  it('merges touching and overlapping items into one read', function () {
    const blocks = planReads(entries('HR0:float32', 'HR2', 'HR3:int32', 'HR1', 'HR0.3'), LIMITS);
    assert.deepEqual(brief(blocks), ['1/FC3 0+5']);
    const offsets = Object.fromEntries(blocks[0].members.map((m) => [m.key, m.offset]));
    assert.deepEqual(offsets, { 'HR0:float32': 0, 'HR0.3': 0, HR1: 1, HR2: 2, 'HR3:int32': 3 });
  });

  it('never spans a gap of unmapped registers unless maxGap allows it', function () {
    const items = entries('HR0', 'HR2', 'HR10', 'HR11');
    assert.deepEqual(brief(planReads(items, LIMITS)), ['1/FC3 0+1', '1/FC3 2+1', '1/FC3 10+2']);
    assert.deepEqual(brief(planReads(items, { ...LIMITS, maxGap: 1 })), ['1/FC3 0+3', '1/FC3 10+2']);
    assert.deepEqual(brief(planReads(items, { ...LIMITS, maxGap: 7 })), ['1/FC3 0+12']);
  });

  it('keeps unit ids and tables (function codes) apart', function () {
    const blocks = planReads(entries('HR0', 'HR1@2', 'IR1', 'C0', 'DI1', 'HR1', 'C1', 'IR0'), LIMITS);
    assert.deepEqual(brief(blocks), ['1/FC1 0+2', '1/FC2 1+1', '1/FC3 0+2', '1/FC4 0+2', '2/FC3 1+1']);
  });

  it('splits at the protocol limits: 125 registers, 2000 bits (and lower device limits)', function () {
    const regs = entries(...Array.from({ length: 300 }, (_, i) => `HR${i}`));
    assert.deepEqual(brief(planReads(regs, LIMITS)), ['1/FC3 0+125', '1/FC3 125+125', '1/FC3 250+50']);
    assert.deepEqual(brief(planReads(regs, { ...LIMITS, maxRegisters: 100 })), ['1/FC3 0+100', '1/FC3 100+100', '1/FC3 200+100']);
    const floats = entries(...Array.from({ length: 100 }, (_, i) => `HR${2 * i}:float32`));
    const fb = planReads(floats, LIMITS);
    assert.deepEqual(brief(fb), ['1/FC3 0+124', '1/FC3 124+76'], 'a float32 is never cut in two');
    const coils = entries('C0[2000]', 'C2000[10]');
    assert.deepEqual(brief(planReads(coils, LIMITS)), ['1/FC1 0+2000', '1/FC1 2000+10']);
  });

  it('reads isolated items alone and does not bridge known unreadable ranges', function () {
    const e = entries('HR0', 'HR1', 'HR2', 'HR5');
    e[1].isolated = true;
    assert.deepEqual(brief(planReads(e, LIMITS)), ['1/FC3 1+1', '1/FC3 0+1', '1/FC3 2+1', '1/FC3 5+1'], 'HR0 and HR2 are not merged across the isolated HR1');
    assert.deepEqual(brief(planReads(e, { ...LIMITS, maxGap: 1 })), ['1/FC3 1+1', '1/FC3 0+1', '1/FC3 2+1', '1/FC3 5+1'], 'not even when gaps may be read');
    const unreadable = new Map([['1:holding', [[3, 4]] as Array<[number, number]>]]);
    assert.deepEqual(brief(planReads(entries('HR0', 'HR2', 'HR5'), { ...LIMITS, maxGap: 10, unreadable })), ['1/FC3 0+3', '1/FC3 5+1']);
  });

  it('plans 1 000 contiguous holding registers into 8 reads', function () {
    const items = entries(...Array.from({ length: 1000 }, (_, i) => `HR${1000 + i}`));
    const blocks = planReads(items, LIMITS);
    assert.equal(blocks.length, 8);
    assert.equal(blocks.reduce((n, b) => n + b.members.length, 0), 1000);
  });
});

describe('Modbus request queue', function () {
  it('runs one request at a time, pings first, then commands, then polls in order', async function () {
    const clock = new FakeClock();
    const q = new RequestQueue(clock);
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const gates: Array<() => void> = [];
    const job = (name: string) => () =>
      new Promise<string>((resolve) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        order.push(name);
        gates.push(() => {
          running--;
          resolve(name);
        });
      });
    const all = [q.enqueue(PRIORITY.poll, job('poll1')), q.enqueue(PRIORITY.poll, job('poll2')), q.enqueue(PRIORITY.poll, job('poll3'))];
    // poll1 is in flight; a ping and a write arrive behind a backlog of polls
    all.push(q.enqueue(PRIORITY.command, job('write')), q.enqueue(PRIORITY.ping, job('ping')));
    for (let i = 0; i < 5; i++) {
      await clock.advance(0);
      gates.shift()!();
    }
    await Promise.all(all.map((r) => r.promise));
    assert.deepEqual(order, ['poll1', 'ping', 'write', 'poll2', 'poll3']);
    assert.equal(maxRunning, 1);
  });

  it('cancels a request that has not started, clears on disconnect, and keeps a pause between requests', async function () {
    const clock = new FakeClock();
    const q = new RequestQueue(clock, 50);
    const started: number[] = [];
    const run = () => {
      started.push(clock.now());
      return Promise.resolve();
    };
    const a = q.enqueue(PRIORITY.poll, run);
    const b = q.enqueue(PRIORITY.poll, run);
    const c = q.enqueue(PRIORITY.poll, run);
    assert.equal(c.cancel('not needed'), true);
    await assert.rejects(c.promise, /not needed/);
    await a.promise;
    await clock.advance(49);
    assert.equal(started.length, 1);
    await clock.advance(1);
    await b.promise;
    assert.deepEqual(started.map((t) => t - started[0]), [0, 50]);
    const d = q.enqueue(PRIORITY.poll, run);
    const e = q.enqueue(PRIORITY.poll, run);
    q.clear('disconnected');
    await assert.rejects(d.promise, /disconnected/);
    await assert.rejects(e.promise, /disconnected/);
    assert.equal(clock.pendingTimers(), 0);
  });
});
