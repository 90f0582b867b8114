// One alarm server of a pair: the engine (facts, state, store), the sync over the peer link, the
// value conditions, and the on/off actions that follow the duty. What the alarm-sync node runs;
// the unit tests run two of them over a pair of fake links.
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock';
import type { DutyStatus, PeerLinkApi } from '../peer/api';
import { AlarmActions } from './actions';
import { LimitCondition, type LimitSpec } from './condition';
import { type AlarmChange, AlarmEngine } from './engine';
import type { AlarmStore } from './store';
import { AlarmSync, type AlarmSyncEvent, type AlarmSyncOptions, type AlarmSyncState } from './sync';
import type { AckRequest, AlarmAction, AlarmObservation, AlarmView, ShelveRequest } from './types';

export interface AlarmServerOptions extends Omit<AlarmSyncOptions, 'clock'> {
  group: string;
  link: PeerLinkApi;
  store: AlarmStore;
  clock: Clock;
  conditions?: LimitSpec[];
  maxShelveMs?: number;
}

export interface AlarmServerEvent {
  kind: AlarmSyncEvent['kind'] | 'alarm-actions-taken-over' | 'store-error';
  severity: 'info' | 'warning' | 'error';
  reason: string;
  durationMs?: number;
}

export interface AlarmServerEvents {
  action: [AlarmAction];
  change: [AlarmChange];
  event: [AlarmServerEvent];
  state: [AlarmSyncState];
}

export class AlarmServer extends EventEmitter<AlarmServerEvents> {
  readonly engine: AlarmEngine;
  readonly sync: AlarmSync;
  readonly actions: AlarmActions;
  private readonly conditions = new Map<string, LimitCondition[]>();
  private readonly link: PeerLinkApi;
  private holder: boolean;
  private closed = false;

  private constructor(options: AlarmServerOptions) {
    super();
    this.link = options.link;
    this.engine = new AlarmEngine({ group: options.group, instanceId: options.link.instanceId, clock: options.clock, store: options.store, maxShelveMs: options.maxShelveMs });
    this.sync = new AlarmSync(this.engine, options.link, options);
    this.actions = new AlarmActions(this.engine, () => this.link.duty(), (a) => this.emit('action', a));
    this.holder = options.link.duty().holder;
    for (const spec of options.conditions ?? []) {
      const c = new LimitCondition(spec, options.clock, (o) => void this.observe(o));
      const list = this.conditions.get(spec.source) ?? [];
      list.push(c);
      this.conditions.set(spec.source, list);
    }
    this.engine.declare((options.conditions ?? []).map((c) => c.key));
  }

  /** Opens the store, starts serving the peer and catching up. */
  static async start(options: AlarmServerOptions): Promise<AlarmServer> {
    const server = new AlarmServer(options);
    await server.engine.open();
    server.wire();
    server.sync.start();
    return server;
  }

  private wire(): void {
    this.engine.on('change', (c) => {
      this.emit('change', c);
      void this.actions.check(c.key).catch((err) => this.storeError(err));
    });
    this.engine.on('error', (err) => this.storeError(err));
    this.sync.on('event', (e) => this.emit('event', e));
    this.sync.on('state', (s) => this.emit('state', s));
    this.sync.once('started', () => void this.enableActions());
    this.link.on('duty', this.onDuty);
  }

  private async enableActions(): Promise<void> {
    const n = await this.actions.enable().catch((err) => (this.storeError(err), 0));
    if (n > 0) this.emit('event', { kind: 'alarm-actions-taken-over', severity: 'warning', reason: `ran ${n} alarm action${n === 1 ? '' : 's'} owed at start (this instance holds the duty)` });
  }

  private readonly onDuty = (d: DutyStatus): void => {
    const was = this.holder;
    this.holder = d.holder;
    if (!d.holder || was || this.closed) return;
    void this.actions.sweep(true).then((n) => {
      this.emit('event', { kind: 'alarm-actions-taken-over', severity: n > 0 ? 'warning' : 'info', reason: `took the alarm actions over with the duty (epoch ${d.epoch}): ${n} owed action${n === 1 ? '' : 's'} run` });
    }, (err) => this.storeError(err));
  };

  /** A value for the configured conditions (msg.topic = source). Returns false when none watches it. */
  input(source: string, value: unknown, good = true): boolean {
    const list = this.conditions.get(source);
    if (!list) return false;
    for (const c of list) c.input(value, good);
    return true;
  }

  hasSource(source: string): boolean {
    return this.conditions.has(source);
  }

  observe(o: AlarmObservation): Promise<void> {
    return this.engine.observe(o);
  }

  ack(req: AckRequest): Promise<AlarmView> {
    return this.engine.ack(req);
  }

  ackAll(by: string, comment?: string): Promise<number> {
    return this.engine.ackAll(by, comment);
  }

  comment(req: AckRequest): Promise<AlarmView> {
    return this.engine.comment(req);
  }

  shelve(req: ShelveRequest): Promise<AlarmView | undefined> {
    return this.engine.shelve(req);
  }

  views(): AlarmView[] {
    return this.engine.views();
  }

  state(): AlarmSyncState {
    return this.sync.state();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.link.off('duty', this.onDuty);
    for (const list of this.conditions.values()) for (const c of list) c.close();
    await this.sync.stop();
    await this.engine.close();
  }

  private storeError(err: unknown): void {
    this.emit('event', { kind: 'store-error', severity: 'error', reason: err instanceof Error ? err.message : String(err) });
  }
}
