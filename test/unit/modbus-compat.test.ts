// The node-red-contrib-modbus read message shape (lib/modbus/compat.ts), made once per endpoint:
// the request's unit is the item's own, else the endpoint's, else 1.
import assert from 'node:assert/strict';
import type { DataChange } from '../../lib/core/driver';
import { contribReadFields } from '../../lib/modbus/compat';

const change = (item: string, value: unknown, good = true): DataChange => ({ item, value, statusCode: good ? 'Good' : 'BadCommunicationError', good, quality: good ? 'good' : 'bad', detail: good ? undefined : 'link down' });

describe('Modbus: node-red-contrib-modbus read fields', function () {
  it('takes the unit from the item, else from the endpoint of the channel, else 1', function () {
    const unit7 = contribReadFields('modbus-tcp://10.0.0.7:502?unit=7');
    assert.deepEqual(unit7(change('HR20[3]', [1, 2, 3])), {
      payload: [1, 2, 3],
      responseBuffer: { data: [1, 2, 3], buffer: Buffer.from([0, 1, 0, 2, 0, 3]) },
      input: { topic: 'HR20[3]', payload: { unitid: 7, fc: 3, address: 20, quantity: 3 } },
    });
    assert.equal(unit7(change('HR5@2', 9)).input.payload.unitid, 2, 'the item\'s own unit comes first');
    assert.equal(contribReadFields('modbus-tcp://10.0.0.7')(change('HR5', 9)).input.payload.unitid, 1, 'an endpoint without a unit: 1');
    assert.equal(contribReadFields(undefined)(change('HR5', 9)).input.payload.unitid, 1, 'no endpoint: 1');
    assert.equal(contribReadFields('not an endpoint')(change('HR5', 9)).input.payload.unitid, 1, 'an endpoint that does not parse: 1');
  });

  it('a bad change: no values, the reason as the error', function () {
    const fields = contribReadFields('modbus-tcp://10.0.0.7:502?unit=3')(change('C16', null, false));
    assert.deepEqual(fields, { payload: [], input: { topic: 'C16', payload: { unitid: 3, fc: 1, address: 16, quantity: 1 } }, error: { message: 'link down' } });
  });
});
