// One channel of a pair: one endpoint's connection life. It connects, pings, backs off, keeps its
// items in line with what the pair wants (incrementally: items added or removed one by one, never
// the whole set again), and probes when asked. Every operation on its driver runs in one queue, so
// connect, item changes, probes and disconnects never interleave on a driver; an operation that
// throws is reported and leaves the channel in a state from which it recovers (dropped and retried),
// never "connected, checking" for ever. It decides nothing about which channel is active: it reports
// to its host (the pair) and does what the host asks.
import { type Clock, type TimerHandle, withTimeout } from './clock';
import type { HoldingCondition } from './conditions';
import type { ChannelDriver, GrantedItem, ItemError, ItemSpec, MonitoringState, PingResult } from './driver';
import type { ServerState } from './types';

export interface ChannelOptions {
  clock: Clock;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

/** What a channel tells its pair. Each call is made outside the channel's own bookkeeping. */
export interface ChannelHost {
  /** A connection attempt starts (`first`: the first of a streak of attempts). */
  connecting(ch: Channel, first: boolean): void;
  /** `firstEver`: this channel had never been connected before. */
  connected(ch: Channel, downForMs: number | undefined, firstEver: boolean): void;
  connectFailed(ch: Channel, reason: string): void;
  /** The connection is gone (socket, session, ping); the channel has already closed it. */
  lost(ch: Channel, reason: string, kind: 'connection-lost' | 'ping-timeout', graceful: boolean, upForMs: number | undefined): void;
  pinged(ch: Channel, result: PingResult): void;
  /** The item set or monitoring state on the connection changed (first time: the channel is ready). */
  itemsSynced(ch: Channel, refused: ItemError[]): void;
  data(ch: Channel, changes: import('./driver').DataChange[]): void;
  /**
   * Items refused after their creation (the driver's report) and items that work again, or were
   * forgotten with a new connection (`recovered`); the channel's record (refusedItems) is updated.
   */
  itemErrors(ch: Channel, errors: ItemError[], recovered: string[]): void;
  /** Something the channel cannot explain went wrong (a bug, a throwing host): logged by the pair. */
  failed(ch: Channel, what: string, err: unknown): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Channel {
  state: ServerState = 'idle';
  reason = 'not started';
  since: number;
  serviceLevel?: number;
  lastPingMs?: number;
  /** Server clock minus ours, from the last ping (diagnostics only). */
  clockOffsetMs?: number;
  connected = false;
  /** A ping answered on this connection (a session that cannot read is not usable). */
  answered = false;
  /** The first item sync on this connection is done. */
  itemsReady = false;
  /** Consecutive failed connection attempts (only the first of a streak is an event). */
  failures = 0;
  /** Why the last connection attempt failed (kept while the next attempt runs), until one succeeds. */
  lastConnectFailure?: string;
  connectedAt?: number;
  unreachableSince?: number;
  /** Start of the current uninterrupted healthy period (promotion hold-off). */
  healthySince?: number;
  /** Last sign of life (ping answer or data), for detect_ms. */
  lastAlive?: number;
  /** First data since the items were last changed: stream comparisons settle from here. */
  dataSince?: number;
  /** Granted sampling intervals and queue sizes, by item. */
  readonly granted = new Map<string, GrantedItem>();
  /** Revised publishing interval (OPC UA) or poll period (Modbus), ms. */
  publishingIntervalMs?: number;
  probing = false;
  /** Cold mode: answered probes (reachable while not connected). */
  probedHealthy = false;
  // Failover conditions, per owner (several failover-condition nodes may watch one pair).
  readonly conditionOwners = new Map<string, { holding: HoldingCondition[]; known: boolean }>();
  conditions: HoldingCondition[] = [];
  conditionsKnown = true;
  leftForCondition = false;

  private generation = 0;
  private queue: Promise<void> = Promise.resolve();
  private pingTimer?: TimerHandle;
  private reconnectTimer?: TimerHandle;
  private backoffMs: number;
  private stopped = false;
  // What the pair wants on this connection, and what is there.
  private wantItems = new Map<string, ItemSpec>();
  private wantList: readonly ItemSpec[] = [];
  private wantState: MonitoringState = 'reporting';
  private wantQueue = 1;
  private applied = new Map<string, ItemSpec>();
  /**
   * The items this connection refuses now, with the reason: at creation (not applied, not retried
   * on this connection) or later by the driver's report (applied: an illegal Modbus address at the
   * first poll), until the driver reports them working again. The one record of refused items.
   */
  private refused = new Map<string, ItemError>();
  private appliedState: MonitoringState = 'reporting';
  private syncQueued = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly driver: ChannelDriver,
    private readonly opts: ChannelOptions,
    private readonly host: ChannelHost,
  ) {
    this.since = opts.clock.now();
    this.backoffMs = opts.reconnectMinMs;
    driver.attach({
      data: (changes) => {
        if (this.connected && !this.stopped && changes.length > 0) this.call('data', () => host.data(this, changes));
      },
      lost: (reason, graceful) => {
        if (this.connected && !this.stopped) this.drop(graceful ? `server shutting down: ${reason}` : `connection lost: ${reason}`, 'connection-lost', graceful);
      },
      itemErrors: (errors, recovered) => {
        if (!this.connected || this.stopped) return;
        const back = recovered.filter((id) => this.refused.delete(id));
        for (const e of errors) this.refused.set(e.id, e);
        if (errors.length > 0 || back.length > 0) this.call('item errors', () => host.itemErrors(this, errors, back));
      },
    });
  }

  get endpoint(): string {
    return this.driver.endpoint;
  }

  get connecting(): boolean {
    return this.state === 'connecting';
  }

  get reconnectPending(): boolean {
    return this.reconnectTimer !== undefined;
  }

  /** Connected, answering, with its items: data can come from here. */
  get ready(): boolean {
    return this.connected && this.answered && this.itemsReady;
  }

  setState(state: ServerState, reason: string, keepHealthySince = false): boolean {
    const now = this.opts.clock.now();
    if (this.state !== state) this.since = now;
    if (state === 'healthy' && this.conditions.length === 0) this.healthySince ??= now;
    else if (!keepHealthySince) this.healthySince = undefined;
    const changed = this.state !== state || this.reason !== reason;
    this.state = state;
    this.reason = reason;
    return changed;
  }

  // ---------------------------------------------------------------- connection

  connect(): void {
    if (this.stopped || this.connected || this.state === 'connecting') return;
    this.cancelReconnect();
    const gen = ++this.generation;
    this.setState('connecting', `connecting to ${this.endpoint}`);
    const first = this.failures === 0;
    this.call('connecting', () => this.host.connecting(this, first));
    this.enqueue('connect', async () => {
      if (gen !== this.generation) return;
      try {
        await this.driver.connect();
      } catch (err) {
        if (gen !== this.generation || this.stopped) return;
        this.failures++;
        this.lastConnectFailure = errorText(err);
        this.unreachableSince ??= this.opts.clock.now();
        this.setState('down', `connect failed: ${errorText(err)}`);
        this.call('connect failure', () => this.host.connectFailed(this, errorText(err)));
        return;
      }
      if (gen !== this.generation || this.stopped) {
        await this.driver.disconnect().catch(() => undefined);
        return;
      }
      const now = this.opts.clock.now();
      const downFor = this.unreachableSince !== undefined ? now - this.unreachableSince : undefined;
      const firstEver = this.connectedAt === undefined;
      this.connected = true;
      this.answered = false;
      this.itemsReady = false;
      this.connectedAt = now;
      this.lastAlive = now;
      this.dataSince = undefined;
      this.failures = 0;
      this.lastConnectFailure = undefined;
      this.backoffMs = this.opts.reconnectMinMs;
      this.unreachableSince = undefined;
      this.applied.clear();
      // A new connection creates its items afresh: what the last one refused is forgotten (and
      // reported again if this one refuses it too).
      const forgotten = [...this.refused.keys()];
      this.refused.clear();
      this.granted.clear();
      this.appliedState = this.wantState;
      // Healthy only once a ping answered: a session that cannot read is no better than none.
      this.setState('connecting', 'connected, checking');
      // Pinging starts before the host hears of it: whatever the host does, the link is watched.
      this.pingNow(gen);
      if (forgotten.length > 0) this.call('item errors', () => this.host.itemErrors(this, [], forgotten));
      this.call('connected', () => this.host.connected(this, downFor, firstEver));
    });
  }

  /** Forgets the connection at once (late results are ignored) and closes it in the queue. */
  close(): void {
    this.generation++;
    this.connected = false;
    this.answered = false;
    this.itemsReady = false;
    this.opts.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.enqueue('disconnect', () => this.driver.disconnect().catch(() => undefined));
  }

  /** The connection failed under us: close it, mark the channel down, tell the host. */
  drop(reason: string, kind: 'connection-lost' | 'ping-timeout', graceful = false): void {
    if (!this.connected) return;
    const now = this.opts.clock.now();
    const upFor = this.connectedAt !== undefined ? now - this.connectedAt : undefined;
    this.unreachableSince = now;
    this.healthySince = undefined;
    this.failures = 1;
    this.close();
    this.setState('down', reason);
    this.call('connection loss', () => this.host.lost(this, reason, kind, graceful, upFor));
  }

  scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer || this.connected || this.state === 'connecting') return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.opts.reconnectMaxMs, this.backoffMs * 2);
    this.reconnectTimer = this.opts.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  cancelReconnect(): void {
    this.opts.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  /** Closes everything for good. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.cancelReconnect();
    const wasConnected = this.connected;
    this.close();
    this.stopped = true;
    if (!wasConnected) this.enqueue('disconnect', () => this.driver.disconnect().catch(() => undefined));
    await this.queue;
  }

  // ---------------------------------------------------------------- pings

  private pingNow(gen: number): void {
    if (gen !== this.generation || !this.connected || this.stopped) return;
    this.pingTimer = undefined;
    const clock = this.opts.clock;
    const sentAt = clock.now();
    withTimeout(clock, this.driver.ping(this.opts.pingTimeoutMs), this.opts.pingTimeoutMs, `ping timeout: no answer within ${this.opts.pingTimeoutMs} ms`).then(
      (result) => {
        if (gen !== this.generation || !this.connected) return;
        const now = clock.now();
        this.lastPingMs = now - sentAt;
        this.answered = true;
        this.lastAlive = now;
        if (result.serverTime !== undefined) this.clockOffsetMs = Math.round(result.serverTime - (sentAt + this.lastPingMs / 2));
        this.pingTimer = clock.setTimeout(() => this.pingNow(gen), this.opts.pingIntervalMs);
        this.call('ping answer', () => this.host.pinged(this, result));
        if (!this.itemsReady) this.sync();
      },
      (err) => {
        if (gen !== this.generation || !this.connected) return;
        const text = errorText(err);
        this.drop(text.startsWith('ping timeout') ? text : `ping failed: ${text}`, 'ping-timeout');
      },
    );
  }

  // ---------------------------------------------------------------- items

  /** What the pair wants on this connection: these items, in this state. Applied incrementally. */
  want(items: readonly ItemSpec[], state: MonitoringState, queueSize: number): void {
    // The pair passes the same array until its item set changes: no per-item comparison on every
    // decision (10 000 items, a decision per ping).
    if (items === this.wantList && state === this.wantState && queueSize === this.wantQueue) return;
    this.wantList = items;
    this.wantItems = new Map(items.map((it) => [it.id, it]));
    this.wantState = state;
    this.wantQueue = queueSize;
    if (this.connected && this.answered) this.sync();
  }

  /** Items this channel refuses now (at creation or later), with the reason. */
  refusedItems(): ItemError[] {
    return [...this.refused.values()];
  }

  /** Items the pair no longer has are no longer reported as refused. */
  forgetRefused(ids: readonly string[]): void {
    for (const id of ids) this.refused.delete(id);
  }

  /** Whether the connection holds what is wanted (items and monitoring state). */
  get inSync(): boolean {
    if (!this.itemsReady || this.appliedState !== this.wantState) return false;
    for (const id of this.wantItems.keys()) if (!this.applied.has(id) && !this.refused.has(id)) return false;
    for (const [id, spec] of this.applied) if (this.wantItems.get(id)?.samplingIntervalMs !== spec.samplingIntervalMs) return false;
    return true;
  }

  get monitoring(): MonitoringState {
    return this.appliedState;
  }

  private sync(): void {
    if (this.syncQueued) return;
    this.syncQueued = true;
    const gen = this.generation;
    this.enqueue('item changes', async () => {
      this.syncQueued = false;
      if (gen !== this.generation || !this.connected) return;
      const first = !this.itemsReady;
      const refusedNow: ItemError[] = [];
      let changed = false;
      try {
        const remove = [...this.applied].filter(([id, spec]) => this.wantItems.get(id)?.samplingIntervalMs !== spec.samplingIntervalMs).map(([id]) => id);
        for (const id of this.refused.keys()) if (!this.wantItems.has(id)) this.refused.delete(id);
        if (remove.length > 0) {
          await this.driver.removeItems(remove);
          if (gen !== this.generation) return;
          for (const id of remove) {
            this.applied.delete(id);
            this.granted.delete(id);
          }
          // Re-created below: a refusal reported after its creation is forgotten (the driver
          // reports it again if the new item fails too).
          const recreated = remove.filter((id) => this.refused.delete(id));
          if (recreated.length > 0) this.call('item errors', () => this.host.itemErrors(this, [], recreated));
        }
        const state = this.wantState;
        const queue = this.wantQueue;
        if (this.appliedState !== state && this.applied.size > 0) {
          await this.driver.setMonitoring(state, queue);
          if (gen !== this.generation) return;
          changed = true;
        }
        this.appliedState = state;
        const add = [...this.wantItems.values()].filter((it) => !this.applied.has(it.id) && !this.refused.has(it.id));
        if (add.length > 0) {
          const result = await this.driver.addItems(add, state, queue);
          if (gen !== this.generation) return;
          const refusedIds = new Set(result.errors.map((e) => e.id));
          for (const it of add) if (!refusedIds.has(it.id)) this.applied.set(it.id, it);
          for (const g of result.granted) this.granted.set(g.id, g);
          for (const e of result.errors) this.refused.set(e.id, e);
          if (result.publishingIntervalMs !== undefined) this.publishingIntervalMs = result.publishingIntervalMs;
          refusedNow.push(...result.errors);
        }
        if (remove.length > 0 || add.length > 0) {
          this.dataSince = undefined;
          changed = true;
        }
      } catch (err) {
        if (gen !== this.generation || !this.connected) return;
        this.drop(`cannot create items: ${errorText(err)}`, 'connection-lost');
        return;
      }
      this.itemsReady = true;
      if (first || changed) this.call('item sync', () => this.host.itemsSynced(this, refusedNow));
      // The pair may have wanted something else meanwhile: converge again.
      if (!this.inSync) this.sync();
    });
  }

  // ---------------------------------------------------------------- cold mode probes

  /** Cold mode: connect, ping and disconnect, in the queue (never beside a connect of the channel). */
  probe(connectTimeoutMs: number): Promise<{ ok: boolean; serviceLevel?: number; reason: string }> {
    return new Promise((resolve) => {
      if (this.connected || this.probing || this.state === 'connecting' || this.stopped) {
        resolve({ ok: false, reason: 'busy' });
        return;
      }
      this.probing = true;
      const gen = this.generation;
      this.enqueue('probe', async () => {
        let result: { ok: boolean; serviceLevel?: number; reason: string } = { ok: false, reason: 'not reachable' };
        try {
          if (gen !== this.generation || this.connected) {
            result = { ok: false, reason: 'busy' };
            return;
          }
          const clock = this.opts.clock;
          await withTimeout(clock, this.driver.connect(), connectTimeoutMs, `probe connect: no answer within ${connectTimeoutMs} ms`);
          const ping = await withTimeout(clock, this.driver.ping(this.opts.pingTimeoutMs), this.opts.pingTimeoutMs, `probe ping: no answer within ${this.opts.pingTimeoutMs} ms`);
          result = { ok: true, serviceLevel: ping.serviceLevel, reason: 'reachable (probed)' };
        } catch (err) {
          result = { ok: false, reason: `probe failed: ${errorText(err)}` };
        } finally {
          await this.driver.disconnect().catch(() => undefined);
          this.probing = false;
          resolve(result);
        }
      });
    });
  }

  // ---------------------------------------------------------------- conditions

  /** Returns true when what holds on this channel changed. */
  setConditions(owner: string, holding: HoldingCondition[], known: boolean): boolean {
    const before = this.conditions.map((c) => `${c.name}:${c.reason}`).join('\n');
    if (holding.length === 0 && known) this.conditionOwners.delete(owner);
    else this.conditionOwners.set(owner, { holding: holding.slice(), known });
    this.conditions = [...this.conditionOwners.values()].flatMap((o) => o.holding);
    this.conditionsKnown = [...this.conditionOwners.values()].every((o) => o.known);
    const changed = before !== this.conditions.map((c) => `${c.name}:${c.reason}`).join('\n');
    if (changed && this.conditions.length === 0) this.leftForCondition = false;
    return changed;
  }

  // ---------------------------------------------------------------- plumbing

  /** Runs an operation on the driver after every earlier one; a failure is reported, never swallowed. */
  private enqueue(what: string, op: () => Promise<void>): void {
    this.queue = this.queue.then(op).catch((err) => {
      this.call('failure report', () => this.host.failed(this, what, err));
      // Whatever broke, a connection in an unknown state is dropped and tried again.
      if (this.connected) this.drop(`internal error during ${what}: ${errorText(err)}`, 'connection-lost');
    });
  }

  /** Calls the host; a throwing host is reported and does not break the channel. */
  private call(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      try {
        this.host.failed(this, what, err);
      } catch {
        /* nothing left to tell */
      }
    }
  }
}
