// A Modbus simulator in its own process: a crash is a real SIGKILL (sockets reset by the kernel,
// the serial side's pty end closed), and a benchmark's device does not share the CPU time of the
// process being measured.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { ModbusSimCommand } from './modbus-sim-child';
import type { ExceptionRule, ModbusSimulatorOptions, SimRequest, SimSide, SimWrite } from './modbus-simulator';

export interface SimEndpoints {
  tcp: string;
  rtuTcp?: string;
  serial?: string;
}

export class ModbusSimulatorProcess {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly endpoints: SimEndpoints,
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

  static spawn(options: ModbusSimulatorOptions, timeoutMs = 30_000): Promise<ModbusSimulatorProcess> {
    const child = fork(join(__dirname, 'modbus-sim-child.js'), [JSON.stringify(options)], {
      execPath: process.execPath,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`Modbus simulator process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', (msg: { ready?: boolean; endpoints?: SimEndpoints; error?: string }) => {
        clearTimeout(timer);
        if (msg.ready && msg.endpoints) resolve(new ModbusSimulatorProcess(child, msg.endpoints));
        else {
          child.kill('SIGKILL');
          reject(new Error(`Modbus simulator process failed: ${msg.error ?? 'unknown error'}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Modbus simulator process exited with code ${code}`));
      });
    });
  }

  call(command: ModbusSimCommand, arg?: unknown): Promise<unknown> {
    if (!this.child.connected) return Promise.reject(new Error('simulator process is gone'));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ id, command, arg });
    });
  }

  requests(): Promise<SimRequest[]> {
    return this.call('getRequests') as Promise<SimRequest[]>;
  }
  writes(): Promise<SimWrite[]> {
    return this.call('getWrites') as Promise<SimWrite[]>;
  }
  clearLog(): Promise<unknown> {
    return this.call('clearLog');
  }
  stall(on: boolean): Promise<unknown> {
    return this.call('stall', on);
  }
  setMaster(on: boolean): Promise<unknown> {
    return this.call('setMaster', on);
  }
  setException(rule: ExceptionRule | undefined): Promise<unknown> {
    return this.call('setException', rule ?? null);
  }
  setSide(side: SimSide, up: boolean): Promise<unknown> {
    return this.call('setSide', { side, up });
  }

  /** A crash: the process dies without closing anything. Resolves when it has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }

  /** Stops the device, then lets the process exit. */
  async close(): Promise<void> {
    if (this.child.connected) {
      await this.call('stop').catch(() => undefined);
      this.child.disconnect();
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
