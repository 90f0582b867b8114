// The peer-link dialog's properties as the runtime checks them, and what the duty node's status says.
import assert from 'node:assert/strict';
import { parsePeerLinkConfig } from '../../nodes/common/peer-config';
import { dutyNodeStatus } from '../../nodes/common/peer-status';
import type { DutyStatus, PeerLinkStatus } from '../../lib/peer/api';

const good = { id: 'l', type: 'peer-link', name: 'line-1', peerUrl: 'http://host-b:1880', heartbeatInterval: 1000, heartbeatTimeout: 3000, preferred: 'primary', handback: 'return', holdOff: 10000, witness: false };

describe('peer-link configuration', function () {
  it('turns the dialog into link options', function () {
    const o = parsePeerLinkConfig(good, { secret: 'long enough secret' });
    assert.equal(o.name, 'line-1');
    assert.equal(o.handback, true);
    assert.equal(o.witness, undefined);
    const w = parsePeerLinkConfig({ ...good, handback: 'stay', witness: true, witnessUrl: 'mqtt://broker:1883', witnessPrefix: 'plant/a', witnessKeepalive: 5 }, { secret: 'long enough secret', witnessUser: 'u', witnessPassword: 'p' });
    assert.equal(w.handback, false);
    assert.deepEqual(w.witness, { url: 'mqtt://broker:1883', prefix: 'plant/a', keepaliveS: 5, username: 'u', password: 'p' });
  });

  it('lists every problem in one message', function () {
    assert.throws(
      () => parsePeerLinkConfig({ ...good, name: 'a b', peerUrl: 'ftp://x', heartbeatInterval: 1000, heartbeatTimeout: 1500, preferred: 'boss', witness: true, witnessUrl: 'http://broker', witnessKeepalive: 0 }, { secret: 'short' }),
      (err: Error) => {
        for (const part of ['link name "a b"', 'http:// or https://', 'shorter than 8', 'at least twice the interval', 'preferred role', 'not an MQTT scheme', 'keep-alive']) assert.ok(err.message.includes(part), `${part} in: ${err.message}`);
        return true;
      },
    );
  });
});

describe('duty node status', function () {
  const link = (state: PeerLinkStatus['state']): PeerLinkStatus => ({ state, reason: 'x', since: 0 });
  const duty = (holder: boolean, witness: DutyStatus['witness'] = 'none'): DutyStatus => ({ holder, epoch: 4, reason: 'r', witness, since: 0 });

  it('says plainly, without a witness, that a holder with the link down may not be the only one', function () {
    assert.deepEqual(dutyNodeStatus(link('down'), duty(true), false), { fill: 'yellow', shape: 'dot', text: 'holder #4, link down: peer may hold too (no witness)' });
    assert.equal(dutyNodeStatus(link('up'), duty(true), false).text, 'holder #4 (no witness)');
    assert.equal(dutyNodeStatus(link('up'), duty(false), false).text, 'standby, link up (no witness)');
  });

  it('with a witness: holder green; standby red when it can reach neither the peer nor the witness', function () {
    assert.deepEqual(dutyNodeStatus(link('up'), duty(true, 'up'), true), { fill: 'green', shape: 'dot', text: 'holder #4' });
    assert.equal(dutyNodeStatus(link('down'), duty(true, 'up'), true).text, 'holder #4, link down, witness up');
    assert.equal(dutyNodeStatus(link('down'), duty(false, 'down'), true).fill, 'red');
    assert.match(String(dutyNodeStatus(link('refused'), duty(false, 'up'), true).text), /^link refused/);
  });
});
