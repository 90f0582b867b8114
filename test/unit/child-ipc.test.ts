// The IPC between a parent and a helper process (lib/sim/child-ipc.ts: the simulators' and the
// tests' OPC UA client processes): answers, errors, the bounded wait for an answer, a crash.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { IpcChild } from '../../lib/sim/child-ipc';
import type { IpcTestCommand } from '../helpers/ipc-test-child';

class TestChild extends IpcChild<IpcTestCommand> {
  static async start(callTimeoutMs?: number): Promise<{ proc: TestChild; ready: { pid: number } }> {
    const { child, ready } = await IpcChild.fork<{ pid: number }>(join(__dirname, '../helpers/ipc-test-child.js'), { greeting: 'hello' }, 'test child', 30_000);
    return { proc: new TestChild(child, callTimeoutMs), ready };
  }
  close(): Promise<void> {
    return this.closeWith();
  }
}

describe('child-ipc: a helper process driven over IPC', function () {
  let proc: TestChild | undefined;

  afterEach(async function () {
    await proc?.kill();
    proc = undefined;
  });

  it('starts with its options, answers commands, and passes a command error back', async function () {
    const started = await TestChild.start();
    proc = started.proc;
    assert.equal(started.ready.pid, proc.pid, 'the ready message comes from the child');
    assert.deepEqual(await proc.call('echo', { x: 1 }), { greeting: 'hello', arg: { x: 1 } });
    await assert.rejects(proc.call('fail', 'boom'), /^Error: failed: boom$/);
    await assert.rejects(proc.call('nope' as IpcTestCommand), /unknown command nope/);
  });

  it('a command that gets no answer fails after its bound with a clear error; the process still answers others', async function () {
    proc = (await TestChild.start(300)).proc;
    await assert.rejects(proc.call('never'), { message: 'test child process did not answer never within 300 ms' });
    await assert.rejects(proc.call('never', undefined, 100), { message: 'test child process did not answer never within 100 ms' });
    assert.deepEqual(await proc.call('echo', 2), { greeting: 'hello', arg: 2 }, 'later commands are answered');
  });

  it('a crash fails the pending calls at once, and later calls say the process is gone', async function () {
    proc = (await TestChild.start()).proc;
    const pending = proc.call('never');
    await proc.kill();
    await assert.rejects(pending, { message: 'test child process exited' });
    await assert.rejects(proc.call('echo'), { message: 'test child process is gone' });
  });

  it('a clean close lets the process exit', async function () {
    proc = (await TestChild.start()).proc;
    const pid = proc.pid;
    await proc.close();
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the process has exited');
  });
});
