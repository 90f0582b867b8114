// A simulator in its own process, both ends of it: a crash is a real SIGKILL (sockets reset by the
// kernel), and a benchmark's servers do not share the CPU time of the process being measured.
// The child gets its options as JSON in argv[2], says it is ready with a message of its own, then
// answers commands over IPC; it exits when its parent goes away, never orphaned.
import { type ChildProcess, fork } from 'node:child_process';

interface Request {
  id: number;
  command: string;
  arg?: unknown;
}

/** The parent's handle on a simulator process: commands as calls, a crash, a clean close. */
export class ChildSimulator<Command extends string> {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  protected constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('simulator process exited'));
      this.pending.clear();
    });
  }

  /** Starts `script` (a compiled child entry beside this file) and waits for its ready message. */
  protected static fork<Ready>(script: string, options: unknown, what: string, timeoutMs: number): Promise<{ child: ChildProcess; ready: Ready }> {
    const child = fork(script, [JSON.stringify(options)], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${what} process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', (msg: Ready & { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (msg.ready) resolve({ child, ready: msg });
        else {
          child.kill('SIGKILL');
          reject(new Error(`${what} process failed: ${msg.error ?? 'unknown error'}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${what} process exited with code ${code}`));
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call(command: Command, arg?: unknown): Promise<unknown> {
    if (!this.child.connected) return Promise.reject(new Error('simulator process is gone'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, command, arg });
    });
  }

  /** A crash: the process dies without closing anything. Resolves when it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  /** Graceful: `stop` is sent (with `stopArg`), then the process is let go. */
  protected async closeWith(stop: Command, stopArg?: unknown): Promise<void> {
    if (this.child.connected) {
      await this.call(stop, stopArg).catch(() => undefined);
      this.child.disconnect();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * The child's side: starts the simulator made by `start` from the options, sends `ready`, answers
 * each command through `handlers`, and stops the simulator and exits when the parent goes away.
 */
export function serveSimulator<Sim, Command extends string>(
  start: (options: unknown) => Promise<{ sim: Sim; ready: Record<string, unknown> }>,
  handlers: Record<Command, (sim: Sim, arg: unknown) => unknown>,
  stop: (sim: Sim) => Promise<void>,
): void {
  const send = (msg: unknown) => process.send?.(msg);
  start(JSON.parse(process.argv[2] ?? '{}'))
    .then(({ sim, ready }) => {
      send({ ...ready, ready: true });
      process.on('message', async (req: Request) => {
        try {
          const handler = handlers[req.command as Command];
          if (!handler) throw new Error(`unknown simulator command ${String(req.command)}`);
          send({ id: req.id, result: await handler(sim, req.arg) });
        } catch (err) {
          send({ id: req.id, error: err instanceof Error ? err.message : String(err) });
        }
      });
      process.on('disconnect', () => {
        void stop(sim).finally(() => process.exit(0));
      });
    })
    .catch((err) => {
      send({ ready: false, error: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    });
}
