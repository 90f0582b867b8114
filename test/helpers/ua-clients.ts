// OPC UA clients in a separate process (test/helpers/ua-client-child.ts, driven over IPC by
// lib/sim/child-ipc.ts): what a plant's HMI or historian would do to the gateway, with nothing of the
// gateway's code in that process.
import { join } from 'node:path';
import { IpcChild } from '../../lib/sim/child-ipc';
import type { ConnectOptions, UaClientCommand } from './ua-client-child';

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

export class UaClientProcess extends IpcChild<UaClientCommand> {
  /** Starts the client process (each command waits for its answer as long as IpcChild's default). */
  static async start(timeoutMs = 30_000): Promise<UaClientProcess> {
    const { child } = await IpcChild.fork(join(__dirname, 'ua-client-child.js'), {}, 'OPC UA client', timeoutMs);
    return new UaClientProcess(child);
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

  /** Closes every session, then lets the process exit. */
  stop(): Promise<void> {
    return this.closeWith();
  }
}
