// The one way a node reports its configuration error (nodes/common/node-red.ts reportConfigError):
// one log line, a red status with the start of the problem, and every message failing with the
// whole text (Catch-able).
import assert from 'node:assert/strict';
import type { DoneFn, Node, NodeMessage, NodeStatus, SendFn } from '../../nodes/common/node-red';
import { reportConfigError } from '../../nodes/common/node-red';
import { STATUS_MAX } from '../../lib/rules/text';

function fakeNode() {
  const errors: unknown[] = [];
  const statuses: NodeStatus[] = [];
  let input: ((msg: NodeMessage, send: SendFn, done: DoneFn) => void) | undefined;
  const node = {
    id: 'n1',
    type: 'test',
    on(event: string, handler: never) {
      if (event === 'input') input = handler;
    },
    send: () => undefined,
    status: (s: NodeStatus) => statuses.push(s),
    log: () => undefined,
    warn: () => undefined,
    error: (e: unknown) => errors.push(e),
  } as unknown as Node;
  const receive = (msg: NodeMessage) =>
    new Promise<Error | undefined>((resolve) => {
      assert.ok(input, 'an input handler is registered');
      input(msg, () => undefined, resolve);
    });
  return { node, errors, statuses, receive };
}

describe('reportConfigError', function () {
  it('logs once, shows a red status with the start of the problem, and fails every message with the whole text', async function () {
    const f = fakeNode();
    const problem = `item 1 (DeviceOk): "DeviceOk" is not a node id; ${'x'.repeat(80)}`;
    reportConfigError(f.node, `alarm-sync configuration: ${problem}`, problem);
    assert.deepEqual(f.errors, [`alarm-sync configuration: ${problem}`]);
    assert.equal(f.statuses.length, 1);
    assert.equal(f.statuses[0].fill, 'red');
    assert.equal(f.statuses[0].shape, 'ring');
    assert.match(f.statuses[0].text ?? '', /^config: item 1 \(DeviceOk\): .*…$/);
    assert.ok((f.statuses[0].text ?? '').length <= STATUS_MAX);
    for (const msg of [{ payload: 1 }, { topic: 'x' }]) {
      const err = await f.receive(msg);
      assert.ok(err instanceof Error);
      assert.equal(err.message, `alarm-sync configuration: ${problem}`);
    }
  });

  it('the status shows the logged text when no shorter problem is given', async function () {
    const f = fakeNode();
    reportConfigError(f.node, 'no peer link configured');
    assert.deepEqual([f.errors, f.statuses[0].text, (await f.receive({}))?.message], [['no peer link configured'], 'config: no peer link configured', 'no peer link configured']);
  });
});
