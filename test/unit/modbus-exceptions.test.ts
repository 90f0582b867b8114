// Modbus exception answers, classified once (lib/modbus/transport.ts) by what the Modbus
// Application Protocol Specification V1.1b3 (§7) says they mean, and that classification as the
// poller and the ping use it: an item's refusal, a device-level refusal, no answer.
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import type { ItemError } from '../../lib/core/driver';
import type { ReadBlock } from '../../lib/modbus/planner';
import { type BlockOutcome, ModbusPoller } from '../../lib/modbus/poller';
import { ModbusFailure, exceptionClass, exceptionText } from '../../lib/modbus/transport';
import { parseItem } from '../../lib/rules/modbus';

const failure = (code: number) => new ModbusFailure('exception', exceptionText(code), code);

describe('Modbus exceptions: one classification', function () {
  it('classifies every code by its meaning in the specification, with its status code', function () {
    const row = (code: number) => {
      const f = failure(code);
      return [code, exceptionClass(code), f.statusCode, f.itemProblem, f.deviceRefusal, f.exceptionClass === 'failure', f.answered, f.signOfLife];
    };
    //  code, class, status, item refused, device-level refusal, device fault (class 'failure': 4, 8, no
    //  data and no proof that it works), device answered, sign of life
    assert.deepEqual([1, 2, 3, 4, 5, 6, 8, 10, 11, 7, 12].map(row), [
      [1, 'item', 'BadNotSupported', true, false, false, true, true],
      [2, 'item', 'BadOutOfRange', true, false, false, true, true],
      [3, 'item', 'BadOutOfRange', true, false, false, true, true],
      [4, 'failure', 'BadDeviceFailure', false, true, true, true, false],
      [5, 'busy', 'BadResourceUnavailable', false, true, false, true, true],
      [6, 'busy', 'BadResourceUnavailable', false, true, false, true, true],
      [8, 'failure', 'BadDeviceFailure', false, true, true, true, false],
      [10, 'path', 'BadNoCommunication', false, false, false, false, false],
      [11, 'path', 'BadNoCommunication', false, false, false, false, false],
      // Codes the specification does not define: the device answered, with nothing usable.
      [7, 'busy', 'BadUnexpectedError', false, true, false, true, true],
      [12, 'busy', 'BadUnexpectedError', false, true, false, true, true],
    ]);
    assert.equal(exceptionText(11), 'Modbus exception 11 (gateway target device failed to respond)');
    assert.equal(exceptionText(7), 'Modbus exception 7 (unknown exception)');
  });

  it('failures without an exception answer are no exception class: no item refusal, no answer', function () {
    for (const kind of ['timeout', 'closed', 'garbled'] as const) {
      const f = new ModbusFailure(kind, kind);
      assert.deepEqual([f.exceptionClass, f.itemProblem, f.deviceRefusal, f.answered, f.signOfLife], [undefined, false, false, false, false], kind);
    }
  });

  describe('as the poller uses it (every read answered with one exception)', function () {
    const DEVICE_FAILURE_MS = 1000;
    const POLL_MS = 100;

    function rig(code: number) {
      const clock = new FakeClock(0);
      const lost: Array<[number, string]> = [];
      const itemErrors: ItemError[] = [];
      const reads: ReadBlock[] = [];
      const poller = new ModbusPoller({
        clock,
        limits: { maxRegisters: 125, maxBits: 2000, maxGap: 0 },
        read: async (block): Promise<BlockOutcome> => {
          reads.push(block);
          return { ok: false, failure: failure(code), at: clock.now() };
        },
        data: () => undefined,
        itemErrors: (errors) => itemErrors.push(...errors),
        deviceLost: (reason) => lost.push([clock.now(), reason]),
        deviceFailureMs: DEVICE_FAILURE_MS,
      });
      for (const id of ['HR1', 'HR2']) {
        const parsed = parseItem(id);
        assert.ok(parsed.ok);
        poller.add({ id, spec: parsed.value, unit: 1, intervalMs: POLL_MS, state: 'reporting', isolated: false });
      }
      poller.start();
      return { clock, poller, lost, itemErrors, reads };
    }

    for (const code of [4, 5, 6, 8]) {
      it(`exception ${code}: a device-level refusal, the device is lost once every read was refused so for the request timeout`, async function () {
        const r = rig(code);
        await r.clock.advance(DEVICE_FAILURE_MS - POLL_MS);
        assert.deepEqual(r.lost, [], 'not before the request timeout');
        await r.clock.advance(2 * POLL_MS);
        assert.equal(r.lost.length, 1, JSON.stringify(r.lost));
        assert.match(r.lost[0][1], new RegExp(`every read refused for ${DEVICE_FAILURE_MS} ms or more: Modbus exception ${code}`));
        assert.deepEqual(r.itemErrors, [], 'no item is refused for it');
        r.poller.stop();
      });
    }

    for (const code of [10, 11]) {
      it(`exception ${code}: the device behind the gateway did not answer, lost at the first cycle`, async function () {
        const r = rig(code);
        await r.clock.advance(1);
        assert.equal(r.lost.length, 1);
        assert.match(r.lost[0][1], new RegExp(`no answer from the device .*Modbus exception ${code}`));
        assert.deepEqual(r.itemErrors, []);
        r.poller.stop();
      });
    }

    for (const code of [1, 2, 3]) {
      it(`exception ${code}: the items are refused (each read alone), the device is not lost`, async function () {
        const r = rig(code);
        await r.clock.advance(3 * DEVICE_FAILURE_MS);
        assert.deepEqual(r.lost, []);
        assert.deepEqual(r.itemErrors.map((e) => [e.id, e.statusCode]), [['HR1', failure(code).statusCode], ['HR2', failure(code).statusCode]]);
        assert.ok(r.reads.some((b) => b.count === 1), 'the merged read was split');
        r.poller.stop();
      });
    }
  });
});
