// Failover conditions judged per server with fake time: each kind holds and clears on the server
// whose data says so and not on the other; the pair engine's switch rule is tested with the engine (test/unit/pair.test.ts).
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { ConditionMonitor, type ConditionSpec, validateCondition, validateConditions } from '../../lib/core/conditions';
import type { DataChange } from '../../lib/core/types';

const COUNTER = 'ns=1;s=Counter';
const LEVEL = 'ns=1;s=Level';

function good(item: string, value: unknown): DataChange {
  return { item, value, statusCode: 'Good', good: true, quality: 'good' };
}
function bad(item: string, statusCode = 'BadCommunicationError'): DataChange {
  return { item, value: null, statusCode, good: false, quality: 'bad' };
}

function monitor(specs: ConditionSpec[]): { clock: FakeClock; m: ConditionMonitor } {
  const clock = new FakeClock(0);
  return { clock, m: new ConditionMonitor(specs, clock) };
}

describe('failover conditions', () => {
  describe('stale', () => {
    const spec: ConditionSpec = { name: 'stale counter', kind: 'stale', item: COUNTER, staleMs: 3000 };

    it('holds on the server whose item stops updating, not on the other', async () => {
      const { clock, m } = monitor([spec]);
      m.resetServer('primary');
      m.resetServer('secondary');
      m.observe('primary', [good(COUNTER, 1)]);
      m.observe('secondary', [good(COUNTER, 1)]);
      await clock.advance(2000);
      m.observe('secondary', [good(COUNTER, 2)]);
      await clock.advance(999);
      assert.deepEqual(m.holding('primary'), []);
      assert.equal(m.nextDeadline(), 3000);
      await clock.advance(1);
      assert.deepEqual(m.holding('primary'), [{ name: 'stale counter', reason: 'ns=1;s=Counter not updated for 3000 ms (limit 3000)' }]);
      assert.deepEqual(m.holding('secondary'), []);
      assert.equal(m.nextDeadline(), 5000);
      await clock.advance(12);
      assert.equal(m.holding('primary')[0].reason, 'ns=1;s=Counter not updated for 3012 ms (limit 3000)');
      // An update clears it.
      m.observe('primary', [good(COUNTER, 1)]);
      assert.deepEqual(m.holding('primary'), []);
      assert.equal(m.nextDeadline(), 5000);
    });

    it('counts an item never seen on an observed server from resetServer', async () => {
      const { clock, m } = monitor([spec]);
      await clock.advance(10_000);
      m.resetServer('secondary');
      assert.equal(m.knows('secondary'), true);
      assert.equal(m.knows('primary'), false);
      await clock.advance(2999);
      assert.deepEqual(m.holding('secondary'), []);
      await clock.advance(1);
      assert.deepEqual(m.holding('secondary'), [{ name: 'stale counter', reason: 'ns=1;s=Counter no value received for 3000 ms (limit 3000)' }]);
      // Never observed: nothing can be judged, nothing holds.
      assert.deepEqual(m.holding('primary'), []);
    });

    it('measures from the first observation when the server was never reset', async () => {
      const { clock, m } = monitor([spec]);
      await clock.advance(500);
      m.observe('primary', [good('ns=1;s=Other', 1)]);
      assert.equal(m.nextDeadline(), 3500);
      await clock.advance(3000);
      assert.equal(m.holding('primary').length, 1);
    });

    it('resetServer restarts the measure after a reconnect', async () => {
      const { clock, m } = monitor([spec]);
      m.observe('primary', [good(COUNTER, 1)]);
      await clock.advance(5000);
      assert.equal(m.holding('primary').length, 1);
      m.resetServer('primary');
      assert.deepEqual(m.holding('primary'), []);
      await clock.advance(3000);
      assert.equal(m.holding('primary')[0].reason, 'ns=1;s=Counter not updated for 3000 ms (limit 3000)');
    });

    it('a bad-quality update is still an update (quality is its own condition)', async () => {
      const { clock, m } = monitor([spec]);
      m.observe('primary', [good(COUNTER, 1)]);
      await clock.advance(2500);
      m.observe('primary', [bad(COUNTER)]);
      await clock.advance(2500);
      assert.deepEqual(m.holding('primary'), []);
    });
  });

  describe('value', () => {
    it('compares with each operator', () => {
      const cases: Array<[Partial<ConditionSpec>, unknown, boolean]> = [
        [{ op: 'eq', value: 5 }, 5, true],
        [{ op: 'eq', value: 5 }, 6, false],
        [{ op: 'eq', value: '5' }, 5, true],
        [{ op: 'eq', value: 'RUN' }, 'RUN', true],
        [{ op: 'eq', value: 'RUN' }, 'STOP', false],
        [{ op: 'eq', value: true }, true, true],
        [{ op: 'eq', value: true }, 1, true],
        [{ op: 'neq', value: 5 }, 6, true],
        [{ op: 'neq', value: 5 }, 5, false],
        [{ op: 'neq', value: 'RUN' }, 'STOP', true],
        [{ op: 'lt', value: 10 }, 9.5, true],
        [{ op: 'lt', value: 10 }, 10, false],
        [{ op: 'lte', value: 10 }, 10, true],
        [{ op: 'lte', value: 10 }, 10.1, false],
        [{ op: 'gt', value: 10 }, 10.1, true],
        [{ op: 'gt', value: 10 }, 10, false],
        [{ op: 'gte', value: '10' }, 10, true],
        [{ op: 'gte', value: 10 }, 9, false],
        [{ op: 'gt', value: 10 }, 11n, true],
        [{ op: 'gt', value: 10 }, 'abc', false],
        [{ op: 'between', value: 1, value2: 3 }, 1, true],
        [{ op: 'between', value: 1, value2: 3 }, 3, true],
        [{ op: 'between', value: 1, value2: 3 }, 2.5, true],
        [{ op: 'between', value: 1, value2: 3 }, 3.01, false],
        [{ op: 'between', value: 1, value2: 3 }, 0.99, false],
        [{ op: 'true' }, true, true],
        [{ op: 'true' }, 1, true],
        [{ op: 'true' }, false, false],
        [{ op: 'true' }, 0, false],
        [{ op: 'true' }, 2, false],
        [{ op: 'false' }, false, true],
        [{ op: 'false' }, 0, true],
        [{ op: 'false' }, true, false],
        [{ op: 'false' }, 1, false],
        [{ op: 'eq', value: 0 }, null, false],
        [{ op: 'neq', value: 0 }, null, false],
      ];
      for (const [extra, value, expected] of cases) {
        const { m } = monitor([{ name: 'v', kind: 'value', item: LEVEL, ...extra } as ConditionSpec]);
        m.observe('primary', [good(LEVEL, value)]);
        assert.equal(m.holding('primary').length === 1, expected, `${JSON.stringify(extra)} on ${String(value)}`);
      }
    });

    it('holds on the server with the fault value only, with the value in the reason, and clears', () => {
      const { m } = monitor([{ name: 'fault', kind: 'value', item: LEVEL, op: 'gt', value: 95 }]);
      m.observe('primary', [good(LEVEL, 97.5)]);
      m.observe('secondary', [good(LEVEL, 50)]);
      assert.deepEqual(m.holding('primary'), [{ name: 'fault', reason: 'ns=1;s=Level = 97.5 (holds when > 95)' }]);
      assert.deepEqual(m.holding('secondary'), []);
      m.observe('primary', [good(LEVEL, 80)]);
      assert.deepEqual(m.holding('primary'), []);
      // Value conditions have no timer.
      assert.equal(m.nextDeadline(), undefined);
    });

    it('between and true/false reasons', () => {
      const { m } = monitor([
        { name: 'range', kind: 'value', item: LEVEL, op: 'between', value: 1, value2: 3 },
        { name: 'master', kind: 'value', item: COUNTER, op: 'false' },
      ]);
      m.observe('secondary', [good(LEVEL, 2), good(COUNTER, 0)]);
      assert.deepEqual(m.holding('secondary'), [
        { name: 'range', reason: 'ns=1;s=Level = 2 (holds when between 1 and 3)' },
        { name: 'master', reason: 'ns=1;s=Counter = 0 (holds when it is false)' },
      ]);
    });

    it('arrays: any element by default, all elements with arrayMode all', () => {
      const any = monitor([{ name: 'any fault', kind: 'value', item: LEVEL, op: 'eq', value: 1 }]);
      any.m.observe('primary', [good(LEVEL, [0, 0, 1, 0])]);
      any.m.observe('secondary', [good(LEVEL, [0, 0, 0, 0])]);
      assert.deepEqual(any.m.holding('primary'), [{ name: 'any fault', reason: 'ns=1;s=Level[2] = 1 (holds when any element = 1)' }]);
      assert.deepEqual(any.m.holding('secondary'), []);

      const all = monitor([{ name: 'all low', kind: 'value', item: LEVEL, op: 'lt', value: 5, arrayMode: 'all' }]);
      all.m.observe('primary', [good(LEVEL, new Float32Array([1, 2, 3]))]);
      all.m.observe('secondary', [good(LEVEL, [1, 2, 7])]);
      assert.deepEqual(all.m.holding('primary'), [{ name: 'all low', reason: 'ns=1;s=Level: all 3 elements < 5' }]);
      assert.deepEqual(all.m.holding('secondary'), []);
      // An empty array proves nothing either way.
      all.m.observe('primary', [good(LEVEL, [])]);
      assert.deepEqual(all.m.holding('primary'), []);
      any.m.observe('primary', [good(LEVEL, [])]);
      assert.deepEqual(any.m.holding('primary'), []);
    });

    it('a value never seen does not hold', () => {
      const { m } = monitor([{ name: 'v', kind: 'value', item: LEVEL, op: 'lt', value: 5 }]);
      m.resetServer('primary');
      assert.deepEqual(m.holding('primary'), []);
    });
  });

  describe('quality', () => {
    it('holds only after the item has been not Good for qualityMs, per server', async () => {
      const { clock, m } = monitor([{ name: 'bad level', kind: 'quality', item: LEVEL, qualityMs: 1000 }]);
      m.observe('primary', [good(LEVEL, 1)]);
      m.observe('secondary', [good(LEVEL, 1)]);
      await clock.advance(100);
      m.observe('primary', [bad(LEVEL)]);
      assert.equal(m.nextDeadline(), 1100);
      await clock.advance(500);
      // Another bad update does not restart the measure.
      m.observe('primary', [bad(LEVEL, 'BadSensorFailure')]);
      await clock.advance(499);
      assert.deepEqual(m.holding('primary'), []);
      await clock.advance(1);
      assert.deepEqual(m.holding('primary'), [{ name: 'bad level', reason: 'ns=1;s=Level quality BadSensorFailure for 1000 ms (limit 1000)' }]);
      assert.deepEqual(m.holding('secondary'), []);
      m.observe('primary', [good(LEVEL, 2)]);
      assert.deepEqual(m.holding('primary'), []);
      assert.equal(m.nextDeadline(), undefined);
    });

    it('qualityMs 0 (or absent) holds at once', () => {
      const { m } = monitor([{ name: 'q', kind: 'quality', item: LEVEL }]);
      m.observe('secondary', [bad(LEVEL)]);
      assert.deepEqual(m.holding('secondary'), [{ name: 'q', reason: 'ns=1;s=Level quality BadCommunicationError for 0 ms (limit 0)' }]);
    });

    it('resetServer restarts the bad-quality measure', async () => {
      const { clock, m } = monitor([{ name: 'q', kind: 'quality', item: LEVEL, qualityMs: 1000 }]);
      m.observe('primary', [bad(LEVEL)]);
      await clock.advance(1500);
      assert.equal(m.holding('primary').length, 1);
      m.resetServer('primary');
      assert.deepEqual(m.holding('primary'), []);
      await clock.advance(1000);
      assert.equal(m.holding('primary').length, 1);
    });
  });

  describe('service level', () => {
    it('holds when below the threshold, per server; unknown level never holds', () => {
      const { m } = monitor([{ name: 'low SL', kind: 'service-level', threshold: 200 }]);
      assert.equal(m.knows('primary'), false);
      m.observeServiceLevel('primary', 150);
      m.observeServiceLevel('secondary', 200);
      assert.equal(m.knows('primary'), true);
      assert.deepEqual(m.holding('primary'), [{ name: 'low SL', reason: 'ServiceLevel 150 below 200' }]);
      assert.deepEqual(m.holding('secondary'), []);
      m.observeServiceLevel('primary', undefined);
      assert.deepEqual(m.holding('primary'), []);
      m.observeServiceLevel('primary', 255);
      assert.deepEqual(m.holding('primary'), []);
    });
  });

  describe('external health', () => {
    it('a false input holds as "external" on that server until it is true again', () => {
      const { m } = monitor([]);
      m.setExternalHealth('secondary', false, 'PLC master bit off');
      assert.deepEqual(m.holding('secondary'), [{ name: 'external', reason: 'PLC master bit off' }]);
      assert.deepEqual(m.holding('primary'), []);
      assert.equal(m.knows('secondary'), true);
      m.setExternalHealth('primary', false);
      assert.deepEqual(m.holding('primary'), [{ name: 'external', reason: 'the external health input reports the primary bad' }]);
      m.setExternalHealth('secondary', true);
      assert.deepEqual(m.holding('secondary'), []);
    });
  });

  it('knows nothing about a server that was never observed (cold standby)', () => {
    const { m } = monitor([{ name: 's', kind: 'stale', item: COUNTER, staleMs: 100 }]);
    assert.equal(m.knows('primary'), false);
    assert.equal(m.knows('secondary'), false);
    m.observe('primary', [good(COUNTER, 1)]);
    assert.equal(m.knows('primary'), true);
    assert.equal(m.knows('secondary'), false);
    assert.equal(m.nextDeadline(), 100);
  });

  it('lists several holding conditions in the order given, then external', async () => {
    const { clock, m } = monitor([
      { name: 'stale', kind: 'stale', item: COUNTER, staleMs: 1000 },
      { name: 'high', kind: 'value', item: LEVEL, op: 'gte', value: 90 },
    ]);
    m.observe('primary', [good(COUNTER, 1), good(LEVEL, 95)]);
    m.setExternalHealth('primary', false, 'master bit');
    await clock.advance(1000);
    assert.deepEqual(m.holding('primary').map((h) => h.name), ['stale', 'high', 'external']);
  });

  describe('validation', () => {
    const messages: Array<[unknown, string | undefined]> = [
      [null, 'a condition must be an object with a name and a kind'],
      [{ kind: 'stale', item: COUNTER, staleMs: 1 }, 'the condition needs a name'],
      [{ name: 'x', kind: 'flaky', item: COUNTER }, 'unknown condition kind "flaky" (expected stale, value, quality, service-level)'],
      [{ name: 'x', kind: 'stale', staleMs: 100 }, '"item not updating" needs the item it watches'],
      [{ name: 'x', kind: 'stale', item: COUNTER }, '"stale after" must be a number of milliseconds > 0 (got nothing)'],
      [{ name: 'x', kind: 'stale', item: COUNTER, staleMs: 'soon' }, '"stale after" must be a number of milliseconds > 0 (got "soon")'],
      [{ name: 'x', kind: 'stale', item: COUNTER, staleMs: '3000' }, undefined],
      [{ name: 'x', kind: 'quality', item: COUNTER, qualityMs: -1 }, '"bad for" must be a number of milliseconds ≥ 0 (got -1)'],
      [{ name: 'x', kind: 'quality', item: COUNTER }, undefined],
      [{ name: 'x', kind: 'service-level', threshold: NaN }, 'the ServiceLevel threshold must be 0–255 (got NaN)'],
      [{ name: 'x', kind: 'service-level', threshold: 'abc' }, 'the ServiceLevel threshold must be 0–255 (got "abc")'],
      [{ name: 'x', kind: 'service-level', threshold: 300 }, 'the ServiceLevel threshold must be 0–255 (got 300)'],
      [{ name: 'x', kind: 'service-level', threshold: 200 }, undefined],
      [{ name: 'x', kind: 'value', item: LEVEL }, 'unknown comparison nothing (expected eq, neq, lt, lte, gt, gte, between, true, false)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'like' }, 'unknown comparison "like" (expected eq, neq, lt, lte, gt, gte, between, true, false)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'between', value: 1 }, '"between" needs a numeric upper bound (got nothing)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'between', value: 5, value2: 1 }, '"between" needs the lower bound first (got 5 and 1)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'lt', value: 'ten' }, '"<" needs a numeric value (got "ten")'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'eq' }, '"=" needs a value to compare with (number, text or true/false)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'eq', value: NaN }, 'the value must be a finite number (got NaN)'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'true', arrayMode: 'some' }, 'arrayMode must be "any" or "all" (got "some")'],
      [{ name: 'x', kind: 'value', item: LEVEL, op: 'true' }, undefined],
    ];
    for (const [spec, expected] of messages) {
      it(`${JSON.stringify(spec)} → ${expected ?? 'valid'}`, () => {
        assert.equal(validateCondition(spec), expected);
      });
    }

    it('a list: unique names, "external" reserved, the failing condition named', () => {
      assert.equal(validateConditions('x'), 'conditions must be a list');
      assert.equal(validateConditions([{ name: 'a', kind: 'service-level', threshold: 1 }, { name: 'a', kind: 'service-level', threshold: 2 }]), 'condition 2 (a): the name "a" is used twice (conditions 1 and 2)');
      assert.equal(validateConditions([{ name: 'external', kind: 'service-level', threshold: 1 }]), 'condition 1 (external): the name "external" is reserved for the external health input');
      assert.equal(validateConditions([{ name: 'ok', kind: 'service-level', threshold: 1 }, { name: 'sl', kind: 'service-level', threshold: NaN }]), 'condition 2 (sl): the ServiceLevel threshold must be 0–255 (got NaN)');
      assert.equal(validateConditions([]), undefined);
    });

    it('the monitor refuses an invalid condition with the same message', () => {
      assert.throws(() => new ConditionMonitor([{ name: 'sl', kind: 'service-level', threshold: NaN }], new FakeClock()), {
        message: 'condition 1 (sl): the ServiceLevel threshold must be 0–255 (got NaN)',
      });
    });
  });

});
