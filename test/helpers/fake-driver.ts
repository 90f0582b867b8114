// A scriptable ChannelDriver for unit tests of the engine (the engine only; integration tests use
// real servers). Each behaviour can be switched at any time to model a fault.
import type { ChannelDriver, DataChange, DriverCapabilities, DriverListener, ItemDescription, ItemSpec, ItemsResult, MonitoringState, PingResult } from '../../lib/core/driver';

export type Behaviour = 'ok' | 'fail' | 'hang';

export class FakeDriver implements ChannelDriver {
  readonly capabilities: DriverCapabilities = { delivery: 'subscription', timestamps: 'source', serviceLevel: true, sampling: true, browse: false };
  listener?: DriverListener;
  connectBehaviour: Behaviour = 'ok';
  /** Ends a connect hanging now ('hang') with a refusal. */
  failHungConnect: () => void = () => undefined;
  pingBehaviour: Behaviour = 'ok';
  serviceLevel: number | undefined = 255;
  connected = false;
  items: ItemSpec[] = [];
  state: MonitoringState = 'disabled';
  refused = new Set<string>();
  writes: Array<{ item: string; value: unknown }> = [];
  connects = 0;
  disconnects = 0;
  calls: string[] = [];
  /** Changes sampled while in 'sampling' state (flushed when reporting starts). */
  queued: DataChange[] = [];
  /** The server's clock, as its ping reports it (undefined: it reports none). */
  serverTime?: () => number;

  constructor(readonly endpoint: string) {}

  get reporting(): boolean {
    return this.state === 'reporting';
  }

  attach(listener: DriverListener): void {
    this.listener = listener;
  }

  async connect(): Promise<void> {
    this.connects++;
    this.calls.push('connect');
    if (this.connectBehaviour === 'fail') throw new Error('ECONNREFUSED');
    if (this.connectBehaviour === 'hang') return new Promise<void>((_, reject) => (this.failHungConnect = () => reject(new Error('ECONNREFUSED'))));
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
    this.calls.push('disconnect');
    this.connected = false;
    this.state = 'disabled';
    this.items = [];
    this.queued = [];
  }

  async ping(): Promise<PingResult> {
    if (!this.connected) throw new Error('not connected');
    if (this.pingBehaviour === 'fail') throw new Error('BadSessionIdInvalid');
    if (this.pingBehaviour === 'hang') return new Promise<PingResult>(() => undefined);
    return { serviceLevel: this.serviceLevel, serverTime: this.serverTime?.() };
  }

  async addItems(items: ItemSpec[], state: MonitoringState): Promise<ItemsResult> {
    this.calls.push(`addItems:${items.map((i) => i.id).join(',')}:${state}`);
    if (!this.connected) throw new Error('not connected');
    this.items.push(...items.filter((i) => !this.refused.has(i.id)));
    this.setState(state);
    return {
      granted: items.filter((i) => !this.refused.has(i.id)).map((i) => ({ id: i.id, samplingIntervalMs: i.samplingIntervalMs, queueSize: 1 })),
      errors: items.filter((i) => this.refused.has(i.id)).map((i) => ({ id: i.id, error: 'BadNodeIdUnknown', statusCode: 'BadNodeIdUnknown' })),
      publishingIntervalMs: 100,
    };
  }

  async removeItems(ids: string[]): Promise<void> {
    this.calls.push(`removeItems:${ids.join(',')}`);
    this.items = this.items.filter((i) => !ids.includes(i.id));
  }

  async setMonitoring(state: MonitoringState): Promise<void> {
    this.calls.push(`setMonitoring:${state}`);
    this.setState(state);
  }

  private setState(state: MonitoringState): void {
    const was = this.state;
    this.state = state;
    if (state === 'reporting' && was === 'sampling' && this.queued.length > 0 && this.listener) {
      const flush = this.queued;
      this.queued = [];
      queueMicrotask(() => this.listener?.data(flush));
    }
  }

  async read(items: string[]): Promise<DataChange[]> {
    return items.map((item) => ({ item, value: 0, statusCode: 'Good', good: true, quality: 'good' as const }));
  }

  async write(item: string, value: unknown): Promise<void> {
    if (!this.connected) throw new Error('not connected');
    this.writes.push({ item, value });
  }

  async describe(items: string[]): Promise<ItemDescription[]> {
    return items.map((id) => ({ id, dataType: 'Double', valueRank: -1, readable: true, writable: true }));
  }

  /** The server sends changes (only when connected and reporting, like a real one; sampling queues them). */
  emit(changes: DataChange[]): boolean {
    if (!this.connected || !this.listener) return false;
    if (this.state === 'sampling') {
      this.queued.push(...changes);
      return false;
    }
    if (this.state !== 'reporting') return false;
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

/** A counter value as a server stamps it: `clockMs` is its clock's offset, `phaseMs` its sampling phase. */
export function counterChange(item: string, n: number, periodMs = 100, clockMs = 0, phaseMs = 0): DataChange {
  const ts = n * periodMs + phaseMs + clockMs;
  return { item, value: n, statusCode: 'Good', good: true, quality: 'good', sourceTimestamp: ts, serverTimestamp: ts };
}
