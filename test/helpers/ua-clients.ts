// OPC UA clients in a separate process (test/helpers/ua-client-child.ts): what a plant's HMI or
// historian would do to the gateway, with nothing of the gateway's code in that process.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { ConnectOptions } from './ua-client-child';

export type { ConnectOptions };

export interface Received {
  value: unknown;
  status: string;
  source?: number;
}

export interface BenchReport {
  clients: Record<string, { expected: number; received: number; lost: number; duplicates: number }>;
  /** Receipt − source timestamp, ms: [ms, count][]. */
  delay: Array<[number, number]>;
}

export class UaClientProcess {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (msg: { id?: number; result?: unknown; error?: string }) => {
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    child.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('client process exited'));
      this.pending.clear();
    });
  }

  static start(timeoutMs = 30_000): Promise<UaClientProcess> {
    const child = fork(join(__dirname, 'ua-client-child.js'), [], { execPath: process.execPath, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`client process did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('message', () => {
        clearTimeout(timer);
        resolve(new UaClientProcess(child));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`client process exited with code ${code}`));
      });
    });
  }

  call<T>(command: string, arg: Record<string, unknown> = {}): Promise<T> {
    if (!this.child.connected) return Promise.reject(new Error('client process is gone'));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command, arg });
    });
  }

  connect(options: ConnectOptions): Promise<number> {
    return this.call<number>('connect', options as unknown as Record<string, unknown>);
  }

  /** The error a refused connection gives, or null when it was accepted. */
  connectError(options: ConnectOptions): Promise<string | null> {
    return this.call<string | null>('connectError', options as unknown as Record<string, unknown>);
  }

  browse(client: number, nodeId: string) {
    return this.call<{ status: string; refs: Array<{ nodeId: string; browseName: string; displayName: string; nodeClass: number; typeDefinition: string }> }>('browse', { client, nodeId });
  }

  read(client: number, nodeIds: string[], attributeId?: number) {
    return this.call<Array<{ value: unknown; dataType: string; status: string; source?: number; server?: number }>>('read', { client, nodeIds, attributeId });
  }

  write(client: number, nodeId: string, value: unknown, dataType: string): Promise<string> {
    return this.call<string>('write', { client, nodeId, value, dataType });
  }

  /** Monitored items (one subscription per client); resolves with each item's status. */
  subscribe(client: number, nodeIds: string[], samplingInterval = 0, queueSize = 100, publishingInterval = 50): Promise<string[]> {
    return this.call<string[]>('subscribe', { client, nodeIds, samplingInterval, queueSize, publishingInterval });
  }

  received(client: number, nodeId: string): Promise<Received[]> {
    return this.call<Received[]>('received', { client, nodeId });
  }

  counts(client: number): Promise<Record<string, number>> {
    return this.call<Record<string, number>>('counts', { client });
  }

  unsubscribe(client: number): Promise<void> {
    return this.call<void>('unsubscribe', { client });
  }

  /** Benchmark monitored items on bulk items (see ua-client-child.ts); resolves with how many were created. */
  benchSubscribe(client: number, nodeIds: string[], samplingInterval = 0, publishingInterval = 100, queueSize = 10): Promise<number> {
    return this.call<number>('benchSubscribe', { client, nodeIds, samplingInterval, publishingInterval, queueSize });
  }

  /** Per benchmark client: changes received so far, and the oldest of its items' newest ticks. */
  benchProgress(): Promise<Record<string, { received: number; newest: number }>> {
    return this.call('benchProgress');
  }

  /** Per benchmark client over PLC ticks (from, to]: changes expected, received, lost, duplicated; the process's delay histogram ([ms, count][]). */
  benchReport(from: number, to: number): Promise<BenchReport> {
    return this.call('benchReport', { from, to });
  }

  benchUnsubscribe(client: number): Promise<void> {
    return this.call<void>('benchUnsubscribe', { client });
  }

  cpuUsage(): Promise<NodeJS.CpuUsage> {
    return this.call('cpuUsage');
  }

  info(client: number) {
    return this.call<{ sessionId: string; subscriptionId?: number; broken: string[] }>('info', { client });
  }

  close(client: number): Promise<void> {
    return this.call<void>('close', { client });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
