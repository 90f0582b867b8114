// A scriptable EndpointDriver for unit tests of the engine (the engine only; integration tests use
// real servers). Each behaviour can be switched at any time to model a fault.
import type { DataChange, DriverListener, EndpointDriver, ItemError, ItemSpec, PingResult } from '../../lib/core/types';

export type Behaviour = 'ok' | 'fail' | 'hang';

export class FakeDriver implements EndpointDriver {
  listener?: DriverListener;
  connectBehaviour: Behaviour = 'ok';
  pingBehaviour: Behaviour = 'ok';
  serviceLevel: number | undefined = 255;
  connected = false;
  items: ItemSpec[] = [];
  reporting = false;
  refused = new Set<string>();
  writes: Array<{ item: string; value: unknown }> = [];
  connects = 0;
  disconnects = 0;
  calls: string[] = [];

  constructor(readonly endpoint: string) {}

  attach(listener: DriverListener): void {
    this.listener = listener;
  }

  async connect(): Promise<void> {
    this.connects++;
    this.calls.push('connect');
    if (this.connectBehaviour === 'fail') throw new Error('ECONNREFUSED');
    if (this.connectBehaviour === 'hang') return new Promise<void>(() => undefined);
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
    this.calls.push('disconnect');
    this.connected = false;
    this.reporting = false;
    this.items = [];
  }

  async ping(): Promise<PingResult> {
    if (!this.connected) throw new Error('not connected');
    if (this.pingBehaviour === 'fail') throw new Error('BadSessionIdInvalid');
    if (this.pingBehaviour === 'hang') return new Promise<PingResult>(() => undefined);
    return { serviceLevel: this.serviceLevel, serverTime: Date.now() };
  }

  async setItems(items: ItemSpec[], reporting: boolean): Promise<ItemError[]> {
    this.calls.push(`setItems:${items.length}:${reporting}`);
    this.items = items.filter((i) => !this.refused.has(i.id));
    this.reporting = reporting;
    return items.filter((i) => this.refused.has(i.id)).map((i) => ({ id: i.id, error: 'BadNodeIdUnknown' }));
  }

  async setReporting(reporting: boolean): Promise<void> {
    this.calls.push(`setReporting:${reporting}`);
    this.reporting = reporting;
  }

  async read(items: string[]): Promise<DataChange[]> {
    return items.map((item) => ({ item, value: 0, statusCode: 'Good', good: true }));
  }

  async write(item: string, value: unknown): Promise<void> {
    if (!this.connected) throw new Error('not connected');
    this.writes.push({ item, value });
  }

  /** The server sends changes (only when connected and reporting, like a real one). */
  emit(changes: DataChange[]): boolean {
    if (!this.connected || !this.reporting || !this.listener) return false;
    this.listener.data(changes);
    return true;
  }

  /** The socket closes (crash). */
  drop(reason = 'socket closed', graceful = false): void {
    const was = this.connected;
    this.connected = false;
    if (was) this.listener?.lost(reason, graceful);
  }
}

export function counterChange(item: string, n: number, periodMs = 100): DataChange {
  return { item, value: n, statusCode: 'Good', good: true, sourceTimestamp: n * periodMs, serverTimestamp: n * periodMs };
}
