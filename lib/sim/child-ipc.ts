// A helper process driven over IPC, both ends of it: the simulators (a crash is a real SIGKILL,
// sockets reset by the kernel, and a benchmark's servers do not share the CPU time of the process
// being measured) and the tests' OPC UA clients (test/helpers/ua-clients.ts).
// The child gets its options as JSON in argv[2], says it is ready with a message of its own, then
// answers commands over IPC; it exits when its parent goes away, never orphaned. Every command has
// a bounded wait for its answer.
import { type ChildProcess, fork } from 'node:child_process';

interface Request {
  id: number;
  command: string;
  arg?: unknown;
}

/** How long a command waits for its answer unless told otherwise (room for a loaded machine). */
const DEFAULT_CALL_TIMEOUT_MS = 60_000;

/** A started child process (IpcChild.fork) and the name it goes by in errors ("simulator", "OPC UA client"). */
export interface ForkedChild {
  process: ChildProcess;
  what: string;
}

/** The parent's handle on a child process: commands as calls (each bounded), a crash, a clean close. */
export class IpcChild<Command extends string> {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly what: string;

  protected constructor(
    forked: ForkedChild,
    private readonly callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
  ) {
    this.child = forked.process;
    this.what = forked.what;
    const { child, what } = this;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.settle(msg.id);
      if (!p) return;
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    child.once('exit', () => {
      for (const id of [...this.pending.keys()]) this.settle(id)?.reject(new Error(`${what} process exited`));
    });
  }

  /** Starts `script` (a compiled child entry), named `what` in errors, and waits for its ready message. */
  protected static fork<Ready>(script: string, options: unknown, what: string, timeoutMs: number): Promise<{ child: ForkedChild; ready: Ready }> {
    const child = fork(script, [JSON.stringify(options ?? {})], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${what} process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', (msg: Ready & { ready?: boolean; error?: string }) => {
        clearTimeout(timer);
        if (msg.ready) resolve({ child: { process: child, what }, ready: msg });
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

  /**
   * Sends a command and resolves with its answer; rejects with the child's error, when the process
   * exits, or when no answer came within `timeoutMs` (default: the handle's call timeout).
   */
  call<T = unknown>(command: Command, arg?: unknown, timeoutMs = this.callTimeoutMs): Promise<T> {
    if (!this.child.connected) return Promise.reject(new Error(`${this.what} process is gone`));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id)?.reject(new Error(`${this.what} process did not answer ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.child.send({ id, command, arg });
    });
  }

  /** A crash: the process dies without closing anything. Resolves when it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.running) this.child.kill(signal);
    await this.exited;
  }

  /**
   * Graceful: `stop` is sent (with `stopArg`) when given, then the process is let go (it exits when
   * its parent disconnects); killed when it has not exited within 5 s.
   */
  protected async closeWith(stop?: Command, stopArg?: unknown): Promise<void> {
    if (!this.running) return;
    if (this.child.connected) {
      if (stop !== undefined) await this.call(stop, stopArg).catch(() => undefined);
      this.child.disconnect();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Takes a pending call out (its timer cleared); undefined when it was settled already. */
  private settle(id: number) {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }
}

/**
 * The child's side: makes its state with `start` from the options, sends `ready`, answers each
 * command through `handlers` (`Arg`: what the parent sends as a command's argument), and runs
 * `stop` and exits when the parent goes away.
 */
export function serveIpcChild<State, Command extends string, Arg = unknown>(
  start: (options: unknown) => Promise<{ state: State; ready: Record<string, unknown> }>,
  handlers: Record<Command, (state: State, arg: Arg) => unknown>,
  stop: (state: State) => Promise<unknown>,
): void {
  const send = (msg: unknown) => process.send?.(msg);
  start(JSON.parse(process.argv[2] ?? '{}'))
    .then(({ state, ready }) => {
      send({ ...ready, ready: true });
      process.on('message', async (req: Request) => {
        try {
          const handler = Object.hasOwn(handlers, req.command) ? handlers[req.command as Command] : undefined;
          if (!handler) throw new Error(`unknown command ${String(req.command)}`);
          send({ id: req.id, result: await handler(state, req.arg as Arg) });
        } catch (err) {
          send({ id: req.id, error: err instanceof Error ? err.message : String(err) });
        }
      });
      process.on('disconnect', () => {
        void stop(state).finally(() => process.exit(0));
      });
    })
    .catch((err) => {
      send({ ready: false, error: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    });
}
