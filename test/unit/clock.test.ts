// withTimeout on a busy process: an answer that reached the socket while this process's event loop
// was blocked past the deadline is an answer, not a timeout; a missing answer is still a timeout.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FakeClock, realClock, withTimeout } from '../../lib/core/clock';

function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // the event loop is busy (10 000 initial values, another process on the core)
  }
}

describe('withTimeout', function () {
  let server: Server;
  let port: number;
  const sockets: Socket[] = [];

  before(async function () {
    // Answers every line after 30 ms: a server that is fine.
    server = createServer((s) => {
      sockets.push(s);
      s.on('data', () => setTimeout(() => s.write('pong\n'), 30));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  after(async function () {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  function ask(silent = false): { answer: Promise<string>; socket: Socket } {
    const socket = connect(port, '127.0.0.1');
    const answer = new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(String(d).trim()));
      socket.once('error', reject);
    });
    if (!silent) socket.write('ping\n');
    return { answer, socket };
  }

  it('an answer that arrived while the event loop was blocked past the deadline resolves', async function () {
    const { answer, socket } = ask();
    try {
      const result = withTimeout(realClock, answer, 100, 'ping timeout');
      // Blocked for three times the timeout: the answer (30 ms) is in the socket, the timer overdue.
      block(300);
      assert.equal(await result, 'pong');
    } finally {
      socket.destroy();
    }
  });

  it('no answer is still a timeout, within twice the time at worst', async function () {
    const { answer, socket } = ask(true);
    try {
      const t0 = Date.now();
      const result = withTimeout(realClock, answer, 100, 'ping timeout');
      block(150);
      await assert.rejects(result, /ping timeout/);
      const took = Date.now() - t0;
      assert.ok(took >= 100 && took < 1000, `rejected after ${took} ms`);
    } finally {
      socket.destroy();
    }
  });

  it('a failure after the deadline (a library timeout of the same length) is reported as this timeout', async function () {
    let failLate!: (e: Error) => void;
    const late = withTimeout(realClock, new Promise<string>((_, reject) => (failLate = reject)), 100, 'no answer within 100 ms');
    // The library's own 100 ms timer and ours are both due; the library's error is first in.
    block(150);
    failLate(new Error('The connection may have been rejected by server'));
    await assert.rejects(late, /no answer within 100 ms/);
    let failEarly!: (e: Error) => void;
    const early = withTimeout(realClock, new Promise<string>((_, reject) => (failEarly = reject)), 1000, 'no answer within 1000 ms');
    failEarly(new Error('BadSecurityChecksFailed'));
    await assert.rejects(early, /BadSecurityChecksFailed/, 'a failure before the deadline is itself');
  });

  it('on a fake clock, the timeout is exact', async function () {
    const clock = new FakeClock();
    let settled: string | undefined;
    withTimeout(clock, new Promise<string>(() => undefined), 500, 'ping timeout').catch((e: Error) => {
      settled = `${e.message} at ${clock.now() - 1_700_000_000_000}`;
    });
    await clock.advance(499);
    assert.equal(settled, undefined);
    await clock.advance(1);
    assert.equal(settled, 'ping timeout at 500');
  });
});
