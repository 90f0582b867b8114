// The pure parts of the alarm pair: the merge rule (the same facts in any order, any number of
// times, give the same state), value conditions (deadband, delays), severity and spec parsing.
import assert from 'node:assert/strict';
import { LimitCondition, parseLimitSpec } from '../../lib/alarm/condition';
import { AlarmRecord } from '../../lib/alarm/state';
import { type AlarmFact, type AlarmObservation, type ShelveFact, parseSeverity } from '../../lib/alarm/types';
import { FakeClock } from '../../lib/core/clock';
import { formatHlc } from '../../lib/core/hlc';

const T0 = 1_700_000_000_000;

function stamp(wall: number, node: string, counter = 0): string {
  return formatHlc({ wall, counter, node });
}

/** A small deterministic random generator (tests must be repeatable). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

describe('alarm merge rule', function () {
  it('gives the same state for the same facts in any order, duplicated or not', function () {
    const r = rng(42);
    const kinds: AlarmFact['kind'][] = ['raise', 'raise', 'clear', 'ack', 'comment', 'action'];
    for (let round = 0; round < 200; round++) {
      const facts: AlarmFact[] = [];
      const shelves: ShelveFact[] = [];
      const n = 1 + Math.floor(r() * 12);
      for (let i = 0; i < n; i++) {
        const node = r() < 0.5 ? 'a' : 'b';
        const kind = kinds[Math.floor(r() * kinds.length)];
        facts.push({ id: stamp(T0 + Math.floor(r() * 50), node, i), key: 'K', seq: 1 + Math.floor(r() * 3), kind, at: T0 + i, severity: 100 + i, text: `t${i}`, by: node, comment: `c${i}`, action: r() < 0.5 ? 'on' : 'off', epoch: 1 });
        if (r() < 0.2) shelves.push({ id: stamp(T0 + Math.floor(r() * 50), node, 100 + i), key: 'K', at: T0, state: r() < 0.5 ? 'oneshot' : 'timed', durationMs: 10, untilSeq: 2 });
      }
      const orders = [facts, [...facts].reverse(), [...facts, ...facts].sort(() => r() - 0.5)];
      const views = orders.map((order) => {
        const rec = new AlarmRecord('K');
        for (const f of order) rec.mergeFact(f);
        for (const s of [...shelves].sort(() => r() - 0.5)) rec.mergeShelve(s);
        return { view: rec.view(T0 + 20), ids: rec.factIds().sort() };
      });
      assert.deepEqual(views[1], views[0], `round ${round}`);
      assert.deepEqual(views[2], views[0], `round ${round}`);
    }
  });

  it('derives the state: first raise names time and origin, newest raise the attributes, first clear ends it', function () {
    const rec = new AlarmRecord('TT1.HI');
    rec.mergeFact({ id: stamp(T0 + 5, 'b'), key: 'TT1.HI', seq: 3, kind: 'raise', at: T0 + 5, severity: 700, text: 'high' });
    rec.mergeFact({ id: stamp(T0 + 1, 'a'), key: 'TT1.HI', seq: 3, kind: 'raise', at: T0 + 1, severity: 600, text: 'hi' });
    let v = rec.view(T0 + 10)!;
    assert.deepEqual([v.seq, v.active, v.raisedAt, v.raisedBy, v.severity, v.text], [3, true, T0 + 1, 'a', 700, 'high']);
    rec.mergeFact({ id: stamp(T0 + 9, 'a'), key: 'TT1.HI', seq: 3, kind: 'clear', at: T0 + 9 });
    rec.mergeFact({ id: stamp(T0 + 12, 'b'), key: 'TT1.HI', seq: 3, kind: 'clear', at: T0 + 12 });
    v = rec.view(T0 + 20)!;
    assert.deepEqual([v.active, v.clearedAt], [false, T0 + 9]);
    assert.equal(rec.mergeFact({ id: stamp(T0 + 1, 'a'), key: 'TT1.HI', seq: 2, kind: 'ack', at: T0 }), 'history');
    const dropped: string[] = [];
    assert.equal(rec.mergeFact({ id: stamp(T0 + 30, 'b'), key: 'TT1.HI', seq: 4, kind: 'raise', at: T0 + 30 }, dropped), 'superseded');
    assert.equal(dropped.length, 4);
    assert.deepEqual(rec.view(T0 + 31)!.acked, false);
  });
});

describe('alarm value conditions', function () {
  function rig(spec: Record<string, unknown>) {
    const clock = new FakeClock(T0);
    const out: AlarmObservation[] = [];
    const c = new LimitCondition(parseLimitSpec(spec), clock, (o) => out.push(o));
    return { clock, out, c, states: () => out.map((o) => o.active) };
  }

  it('raises above the limit and clears only below limit − deadband', function () {
    const { c, states, out } = rig({ key: 'TT1.HI', source: 'TT1', op: 'gt', limit: 80, deadband: 2, severity: 'high' });
    for (const v of [79, 80, 80.1, 79, 78.5, 78, 81, 77]) c.input(v);
    assert.deepEqual(states(), [true, false, true, false]);
    assert.deepEqual(out[0], { key: 'TT1.HI', active: true, severity: 750, text: 'TT1 > 80', category: '', value: 80.1 });
    assert.equal(out[1].value, 78);
  });

  it('low limits, and bad quality is not evaluated', function () {
    const { c, states } = rig({ key: 'L', op: 'lt', limit: 10, deadband: 1 });
    c.input(9);
    c.input(10.5);
    c.input(50, false);
    c.input(11);
    assert.deepEqual(states(), [true, false]);
  });

  it('raises only when the condition held for the on delay, clears after the off delay', async function () {
    const { c, clock, states } = rig({ key: 'D', op: 'gte', limit: 5, onDelay: 1000, offDelay: 500 });
    c.input(6);
    await clock.advance(900);
    c.input(4); // back before the delay ran out: nothing
    await clock.advance(2000);
    assert.deepEqual(states(), []);
    c.input(7);
    await clock.advance(500);
    c.input(8); // still holding: the countdown continues
    await clock.advance(500);
    assert.deepEqual(states(), [true]);
    c.input(1);
    await clock.advance(499);
    assert.deepEqual(states(), [true]);
    await clock.advance(1);
    assert.deepEqual(states(), [true, false]);
    c.close();
    assert.equal(clock.pendingTimers(), 0);
  });

  it('says what is wrong with a configured condition, all at once', function () {
    assert.throws(() => parseLimitSpec({ key: '', op: 'over', limit: 'x', deadband: -1, severity: 2000 }), (err: Error) => {
      assert.match(err.message, /needs a tag/);
      assert.match(err.message, /unknown comparison over/);
      assert.match(err.message, /limit must be a number/);
      assert.match(err.message, /deadband must be a number ≥ 0/);
      assert.match(err.message, /severity 2000 is not 1..1000/);
      return true;
    });
  });

  it('parses severities as OPC UA Part 9 has them', function () {
    assert.equal(parseSeverity(undefined), 500);
    assert.equal(parseSeverity('critical'), 900);
    assert.equal(parseSeverity('250'), 250);
    assert.throws(() => parseSeverity(0), /not 1..1000/);
    assert.throws(() => parseSeverity(3.5), /not 1..1000/);
  });
});
