// A simulator in its own process: a crash is a real SIGKILL, and a benchmark's servers do not
// share the CPU time of the process being measured.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SimulatorOptions } from './opcua-simulator';
import type { SimCommand } from './sim-child';

export class SimulatorProcess {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly endpointUrl: string,
  ) {
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

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static spawn(options: SimulatorOptions, timeoutMs = 30_000): Promise<SimulatorProcess> {
    const child = fork(join(__dirname, 'sim-child.js'), [JSON.stringify(options)], {
      execPath: process.execPath,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`simulator process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', (msg: { ready?: boolean; endpointUrl?: string; error?: string }) => {
        clearTimeout(timer);
        if (msg.ready && msg.endpointUrl) resolve(new SimulatorProcess(child, msg.endpointUrl));
        else {
          child.kill('SIGKILL');
          reject(new Error(`simulator process failed: ${msg.error ?? 'unknown error'}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`simulator process exited with code ${code}`));
      });
    });
  }

  call(command: SimCommand, arg?: unknown): Promise<unknown> {
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

  /** Graceful: stop the server, then let the process exit. */
  async close(): Promise<void> {
    if (this.child.connected) {
      await this.call('stop', false).catch(() => undefined);
      this.child.disconnect();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
