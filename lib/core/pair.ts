// The redundant pair: an ordered list of 2..N channels (Citect: one device image, several paths,
// channel 0 preferred) that looks like one reliable source. It composes small parts, each with one
// job: Channel (one endpoint's connection life, one queue per driver), select() (which channel
// should be active, a pure function), ModePolicy (cold / warm / warm-sampling / hot as data), Merge
// (one stream without holes or duplicates on real clocks, stream progress) and SafeEmitter (no
// listener can break the engine). This file wires them: it turns channel reports into views for the
// selector, carries out its decisions, and says what happened as events. It knows no protocol and
// no Node-RED.
import { type Clock, type TimerHandle, realClock } from './clock';
import { Channel, type ChannelHost, errorText } from './channel';
import type { HoldingCondition } from './conditions';
import type { BrowseEntry, ChannelDriver, DataChange, ItemDescription, ItemError, ItemSpec, PingResult } from './driver';
import { Merge } from './merge';
import { type ModePolicy, policyFor, samplingQueueSize } from './policy';
import { type ChannelSpec, type PairOptions, type ResolvedPairOptions, resolvePairOptions, validatePairOptions } from './pair-options';
import { ColdLadder } from './cold-ladder';
import { SafeEmitter } from './safe-emitter';
import { StreamWatch } from './stream-watch';
import { type ChannelView, type HealthClass, type SwitchKind, select } from './selector';
import { classifyServiceLevel } from './service-level';
import {
  type ConnectionMode,
  type DeliveredChange,
  type PairStatus,
  type RedundancyEvent,
  type RedundancyEventKind,
  type ServerHealth,
  type ServerRole,
  type Severity,
  type SwitchControl,
  PRIMARY,
  pinnedChannel,
} from './types';

export { errorText };
export { type ChannelSpec, type PairOptions, validatePairOptions } from './pair-options';

export interface PairEvents {
  data: [DeliveredChange[]];
  event: [RedundancyEvent];
  status: [PairStatus];
  /**
   * Items a channel refuses (new or changed errors) and items that work again there (`recovered`);
   * `refusedItems(server)` gives the current list.
   */
  'item-errors': [ServerRole, ItemError[], string[]];
  /** Every batch from every channel, before selection: failover conditions judge every channel. */
  'server-data': [ServerRole, DataChange[]];
}

export class NoActiveServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoActiveServerError';
  }
}

/** Start-up failures are held back at least this long (servers deployed with the pair). */
const STARTUP_QUIET_MIN_MS = 5000;
/**
 * Queue per reporting monitored item: the changes of a publishing interval, bursts included (a
 * server that catches up after a stall of its own publishes them all, not just the last 20).
 */
const REPORTING_QUEUE = 50;

export class RedundantPair extends SafeEmitter<PairEvents> implements ChannelHost {
  readonly name: string;
  readonly mode: ConnectionMode;
  readonly policy: ModePolicy;
  private readonly opts: ResolvedPairOptions;
  private readonly clock: Clock;
  private readonly channels: Channel[];
  private readonly merge: Merge;
  private readonly watch: StreamWatch;
  /** Cold mode's connections and probes (undefined in warm and hot mode). */
  private readonly cold?: ColdLadder;
  private active: number | null = null;
  private lastActive: number | null = null;
  private control: SwitchControl = 'auto';
  private pinned: number | null = null;
  private controlReason = '';
  private running = false;
  private everStarted = false;
  private stopped = false;
  private owners = new Map<string, ItemSpec[]>();
  /** Every owner's items, one per id: a new array whenever the set changes (channels compare it by identity). */
  private items: ItemSpec[] = [];
  private fastestSampling = Infinity;
  /** A switch decided, waiting for its target to be ready and then for its first data. */
  private pendingSwitch?: { kind: RedundancyEventKind; from: number | null; to: number; decidedAt: number };
  private failovers = 0;
  private lastEvent?: RedundancyEvent;
  private lastSwitchMs?: number;
  private lastSwitchReason?: string;
  private bothDownReported = false;
  private bothBadReported = false;
  private writeRedirectReported = false;
  private activeSince?: number;
  private activeTime: number[];
  private lagReported = false;
  private conditionSwitchIntervalMs = 0;
  private lastConditionSwitchAt = -Infinity;
  private wakeTimer?: TimerHandle;
  private wakeAt?: number;
  private graceTimer?: TimerHandle;
  /** Runs while first connect failures and "all down" before any activation are held back. */
  private quietTimer?: TimerHandle;
  private statusQueued = false;

  constructor(options: PairOptions, channels: ChannelSpec[] | Record<string, ChannelDriver>) {
    super((event, err) => (options.log ?? ((t: string) => console.error(t)))(`${options.name}: a listener of "${event}" failed: ${errorText(err)}`));
    const specs = Array.isArray(channels) ? channels : Object.entries(channels).map(([name, driver]) => ({ name, driver }));
    validatePairOptions(options, specs);
    this.name = options.name;
    this.mode = options.mode;
    this.policy = policyFor(options.mode, options.standbySampling);
    this.clock = options.clock ?? realClock;
    this.opts = resolvePairOptions(options);
    const channelOpts = { clock: this.clock, pingIntervalMs: options.pingIntervalMs, pingTimeoutMs: options.pingTimeoutMs, reconnectMinMs: this.opts.reconnectMinMs, reconnectMaxMs: this.opts.reconnectMaxMs };
    this.channels = specs.map((s, i) => new Channel(i, s.name, s.driver, channelOpts, this));
    this.activeTime = this.channels.map(() => 0);
    this.merge = new Merge({
      channels: specs.map((s) => s.name),
      bufferSize: options.hotBufferSize ?? 100_000,
      coarseWindowMs: 600,
      alignWindowMs: 5000,
      arrival: specs.map((s) => s.driver.capabilities.timestamps === 'arrival'),
    });
    if (this.policy.connect === 'active') {
      const pair = this;
      this.cold = new ColdLadder(
        {
          channels: this.channels,
          get running() {
            return pair.running;
          },
          get active() {
            return pair.active;
          },
          get pinned() {
            return pair.pinned;
          },
          get pendingTarget() {
            return pair.pendingSwitch?.to;
          },
          inStartupGrace: () => this.inStartupGrace(),
          setChannelState: (ch, state, reason, keep) => this.setChannelState(ch, state, reason, keep),
          reevaluate: () => this.reevaluate(),
        },
        { clock: this.clock, autoPromote: options.autoPromote, probeIntervalMs: this.opts.probeIntervalMs, pingTimeoutMs: options.pingTimeoutMs },
      );
    }
    this.watch = new StreamWatch({ clock: this.clock, merge: this.merge, enabled: this.policy.streamLag, streamLagMs: options.streamLagMs, pingIntervalMs: options.pingIntervalMs, pingTimeoutMs: options.pingTimeoutMs });
    this.watch.update(this.items, this.channels);
  }

  // ================================================================ public API

  start(): void {
    if (this.stopped || this.running) return;
    this.running = true;
    if (!this.everStarted && this.opts.startupGraceMs > 0) {
      this.quietTimer = this.clock.setTimeout(() => this.endQuietStart(), Math.max(this.opts.startupGraceMs, STARTUP_QUIET_MIN_MS));
      this.graceTimer = this.clock.setTimeout(() => {
        this.graceTimer = undefined;
        this.reevaluate();
      }, this.opts.startupGraceMs);
    }
    this.everStarted = true;
    if (this.cold) this.cold.start();
    else for (const ch of this.channels) ch.connect();
    this.emitStatus();
  }

  /**
   * Closes every connection and timer but keeps the configuration: the pair's last user left (a
   * config node without users holds no connections). start() brings it back.
   */
  suspend(): void {
    if (!this.running || this.stopped) return;
    this.running = false;
    this.clearTimers();
    this.setActive(null);
    this.lastActive = null;
    this.pendingSwitch = undefined;
    for (const ch of this.channels) {
      ch.cancelReconnect();
      if (ch.connected) ch.close();
      this.merge.resetChannel(ch.index);
      this.setChannelState(ch, 'idle', 'not in use');
    }
    this.emitStatus();
  }

  /** Stops every timer and closes every connection. The pair cannot be restarted. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.running = false;
    this.stopped = true;
    this.clearTimers();
    this.accountActiveTime();
    await Promise.all(this.channels.map((ch) => ch.stop()));
    for (const ch of this.channels) this.merge.clearBuffer(ch.index);
    this.removeAllListeners();
  }

  /** A flow node's items. Several owners share one monitored item per id; changes are incremental. */
  setItems(owner: string, items: ItemSpec[]): void {
    this.owners.set(owner, items);
    this.rebuildItems();
  }

  removeItems(owner: string): void {
    if (this.owners.delete(owner)) this.rebuildItems();
  }

  /**
   * Several owners at once, one rebuild of the item list: `set` replaces each owner's items,
   * `remove` drops owners. (The gateway's concentrator owns one item per node: a thousand
   * setItems calls would rebuild the list a thousand times.)
   */
  updateItems(set: Iterable<[string, ItemSpec[]]>, remove: Iterable<string> = []): void {
    let changed = false;
    for (const [owner, items] of set) {
      this.owners.set(owner, items);
      changed = true;
    }
    for (const owner of remove) if (this.owners.delete(owner)) changed = true;
    if (changed) this.rebuildItems();
  }

  currentItems(): ItemSpec[] {
    return this.items.map(({ id, samplingIntervalMs }) => ({ id, samplingIntervalMs }));
  }

  /** Items a channel (by name; default the active one) refuses now, with the reason. */
  refusedItems(server?: ServerRole): ItemError[] {
    const ch = server !== undefined ? this.channelByName(server) : this.active === null ? undefined : this.channels[this.active];
    return ch ? ch.refusedItems() : [];
  }

  /** Writes go to the active channel only. Resolves with the channel written to. */
  async write(item: string, value: unknown): Promise<ServerRole> {
    const ch = this.active === null ? undefined : this.channels[this.active];
    if (!ch || !ch.connected) {
      const why = `no active server (${this.describeChannels()})`;
      this.emitEvent('write-rejected', 'error', `write to ${item} rejected: ${why}`);
      throw new NoActiveServerError(`${this.name}: write to ${item} rejected: ${why}`);
    }
    if (ch.index !== 0 && !this.writeRedirectReported) {
      this.writeRedirectReported = true;
      this.emitEvent('write-redirected', 'warning', `writes go to the ${ch.name} while the ${PRIMARY} is not active (first: ${item})`, { server: ch.name });
    }
    await ch.driver.write(item, value);
    return ch.name;
  }

  /** One-shot read from the active channel (or, by name, from that one). */
  async read(items: string[], server?: ServerRole): Promise<DeliveredChange[]> {
    const ch = server !== undefined ? this.channelByName(server) : this.active === null ? undefined : this.channels[this.active];
    if (!ch || !ch.connected) {
      throw new NoActiveServerError(`${this.name}: cannot read: ${server ? `${server} not connected` : 'no active server'} (${this.describeChannels()})`);
    }
    const values = await ch.driver.read(items);
    return values.map((v) => ({ ...v, server: ch.name, channel: ch.index }));
  }

  /** What items are (data type, array shape, access), asked of the active (or any connected) channel. */
  async describe(items: string[]): Promise<ItemDescription[]> {
    return this.describingChannel('describe items').driver.describe(items);
  }

  /** Children of a node in the active (or any connected) channel's address space. */
  async browse(nodeId: string | undefined, max = 1000): Promise<BrowseEntry[]> {
    const ch = this.describingChannel('browse');
    if (!ch.driver.browse) throw new Error(`${this.name}: ${ch.endpoint} has no address space to browse`);
    return ch.driver.browse(nodeId, max);
  }

  /**
   * Manual switch: 'auto', 'force-primary', 'force-secondary', 'force-channel-N' or
   * 'force-<channel name>'. Throws on a control that names no channel.
   */
  setControl(control: SwitchControl, reason = 'manual switch'): void {
    const pinned = pinnedChannel(control, this.channels.map((c) => c.name));
    if (pinned === undefined) throw new Error(`${this.name}: unknown switch control "${control}" (auto, force-primary, force-secondary, force-channel-N or force-<channel name>)`);
    const normalized = pinned === null ? 'auto' : pinned === 0 ? 'force-primary' : pinned === 1 ? 'force-secondary' : `force-channel-${pinned}`;
    if (normalized === this.control) return;
    this.control = normalized;
    this.pinned = pinned;
    this.controlReason = `${reason}: ${normalized}`;
    const before = this.lastEvent;
    this.reevaluate();
    // The switch itself is the event; a control change that moves nothing is logged on its own.
    if (this.lastEvent === before || this.lastEvent?.kind !== 'manual-switch') {
      const name = this.active === null ? null : this.channels[this.active].name;
      this.emitEvent('manual-switch', 'warning', this.controlReason, { from: name, to: name });
    }
  }

  getControl(): SwitchControl {
    return this.control;
  }

  /**
   * Failover conditions holding on a channel (link-based failures). `known` = false when the
   * channel's data could not be judged.
   */
  setConditions(owner: string, server: ServerRole, holding: HoldingCondition[], known = true): void {
    const ch = this.channelByName(server);
    if (!ch || !ch.setConditions(owner, holding, known)) {
      if (ch && !known !== !ch.conditionsKnown) this.reevaluate();
      return;
    }
    this.refreshState(ch);
    this.reevaluate();
  }

  /** A failover-condition node went away: its conditions no longer count. */
  clearConditions(owner: string): void {
    for (const ch of this.channels) if (ch.conditionOwners.has(owner)) this.setConditions(owner, ch.name, [], true);
  }

  /** Minimum time between two switches caused by conditions (anti-flap); 0 = none. */
  setConditionSwitchInterval(ms: number): void {
    this.conditionSwitchIntervalMs = Math.max(0, ms);
  }

  /** Lets flow nodes (conditions, writes) put their events into the pair's event stream. */
  logEvent(kind: RedundancyEventKind, severity: Severity, reason: string, extra: Partial<Pick<RedundancyEvent, 'server' | 'from' | 'to' | 'durationMs'>> = {}): void {
    this.emitEvent(kind, severity, reason, extra);
  }

  getActive(): ServerRole | null {
    return this.active === null ? null : this.channels[this.active].name;
  }

  getActiveIndex(): number | null {
    return this.active;
  }

  /** Channel names in order of preference. */
  channelNames(): ServerRole[] {
    return this.channels.map((c) => c.name);
  }

  isConnected(server: ServerRole): boolean {
    return this.channelByName(server)?.connected ?? false;
  }

  health(server: ServerRole): ServerHealth {
    const ch = this.channelByName(server);
    if (!ch) throw new Error(`${this.name} has no channel "${server}" (${this.channelNames().join(', ')})`);
    return this.healthOf(ch);
  }

  status(): PairStatus {
    const now = this.clock.now();
    const channels = this.channels.map((c) => this.healthOf(c));
    const activeTimeMs: Record<string, number> = {};
    for (const ch of this.channels) activeTimeMs[ch.name] = this.activeTime[ch.index] + (this.active === ch.index && this.activeSince !== undefined ? now - this.activeSince : 0);
    return {
      pair: this.name,
      mode: this.mode,
      standbySampling: this.policy.standby === 'sampling' || undefined,
      control: this.control,
      active: this.getActive(),
      activeIndex: this.active,
      channels,
      servers: Object.fromEntries(channels.map((h) => [h.name, h])),
      failovers: this.failovers,
      lastEvent: this.lastEvent,
      lastSwitchMs: this.lastSwitchMs,
      lastSwitchReason: this.lastSwitchReason,
      activeTimeMs,
    };
  }

  /** What the merge dropped at switches (already delivered, older) and replayed: diagnostics, tests. */
  mergeCounts(): { duplicates: number; older: number; replayed: number } {
    return { ...this.merge.counts };
  }

  // ================================================================ channel reports (ChannelHost)

  connecting(ch: Channel, first: boolean): void {
    if (first) this.emitEvent('connecting', 'info', `connecting to ${ch.endpoint}`, { server: ch.name });
    this.emitStatus();
  }

  connected(ch: Channel, downForMs: number | undefined, firstEver: boolean): void {
    if (!this.running) {
      ch.close();
      return;
    }
    this.merge.resetChannel(ch.index);
    // A first connect in the quiet start ends no reported outage (its refusals were held back).
    const outageHeld = firstEver && this.inQuietStart();
    this.emitEvent('connected', 'info', `connected to ${ch.endpoint}`, { server: ch.name, durationMs: outageHeld ? undefined : downForMs });
    this.wantItemsOn(ch);
    this.emitStatus();
  }

  connectFailed(ch: Channel, reason: string): void {
    // In the quiet start a channel never connected yet may simply not listen yet (deployed together).
    if (ch.failures === 1 && !(this.inQuietStart() && ch.connectedAt === undefined)) this.reportConnectFailed(ch, reason);
    this.afterLoss(ch);
  }

  lost(ch: Channel, reason: string, kind: 'connection-lost' | 'ping-timeout', graceful: boolean, upForMs: number | undefined): void {
    if (ch.index !== this.active) this.merge.clearBuffer(ch.index);
    this.emitEvent(kind, graceful ? 'warning' : 'error', reason, { server: ch.name, durationMs: upForMs });
    this.afterLoss(ch);
  }

  pinged(ch: Channel, result: PingResult): void {
    this.merge.setServerClock(ch.index, ch.clockOffsetMs);
    const previous = ch.serviceLevel;
    ch.serviceLevel = result.serviceLevel;
    if (previous !== undefined && result.serviceLevel !== undefined && previous !== result.serviceLevel) {
      const cls = classifyServiceLevel(result.serviceLevel);
      if (cls !== classifyServiceLevel(previous)) {
        this.emitEvent(cls === 'healthy' ? 'restored' : 'degraded', cls === 'healthy' ? 'info' : 'warning', `ServiceLevel ${previous} → ${result.serviceLevel} (${cls})`, { server: ch.name });
      }
    }
    this.refreshState(ch);
    this.reevaluate();
  }

  itemsSynced(ch: Channel, refused: ItemError[]): void {
    this.watch.update(this.items, this.channels);
    if (refused.length > 0) this.reportItemErrors(ch, refused);
    this.refreshState(ch);
    this.reevaluate();
  }

  itemErrors(ch: Channel, errors: ItemError[], recovered: string[]): void {
    if (errors.length > 0) this.reportItemErrors(ch, errors, recovered);
    else if (recovered.length > 0) this.emit('item-errors', ch.name, [], recovered);
  }

  failed(ch: Channel, what: string, err: unknown): void {
    (this.opts.log ?? ((t: string) => console.error(t)))(`${this.name} ${ch.name}: ${what} failed: ${errorText(err)}`);
  }

  data(ch: Channel, changes: DataChange[]): void {
    if (!this.running) return;
    const now = this.clock.now();
    ch.lastAlive = now;
    ch.dataSince ??= now;
    this.emit('server-data', ch.name, changes);
    if (ch.index === this.active) {
      this.deliver(this.merge.observe(ch.index, changes, now, false));
    } else {
      this.merge.observe(ch.index, changes, now, this.policy.buffer);
    }
    if (this.policy.streamLag) this.checkLag();
  }

  // ================================================================ decisions

  /** Asks the selector what the active channel should be, and carries it out. After every change. */
  private reevaluate(): void {
    if (!this.running || this.stopped) return;
    const decision = select({
      now: this.clock.now(),
      channels: this.channels.map((c) => this.view(c)),
      active: this.active,
      lastActive: this.lastActive,
      pinned: this.pinned,
      pinReason: this.controlReason,
      returnToPreferred: this.opts.autoPromote,
      holdOffMs: this.opts.holdOffMs,
      conditionSwitchNotBefore: this.lastConditionSwitchAt + this.conditionSwitchIntervalMs,
      startup: this.inStartupGrace(),
      pendingTarget: this.pendingSwitch?.to ?? null,
    });
    if (decision.action === 'switch') this.switchTo(decision.to, decision.kind, decision.reason);
    else if (decision.action === 'release' && this.active !== null) this.setActive(null);
    if (decision.action === 'stay') {
      this.scheduleWake(decision.wakeAt);
      if (decision.bothBad) this.reportBothBad(decision.bothBad);
    } else {
      this.scheduleWake(undefined);
    }
    if (this.bothBadReported && this.channels.some((c) => c.conditions.length === 0)) this.bothBadReported = false;
    this.applyConnections();
    this.cold?.scheduleProbe();
    this.checkBothDown();
    this.emitStatus();
  }

  private view(ch: Channel): ChannelView {
    return {
      index: ch.index,
      name: ch.name,
      cls: this.score(ch),
      reason: ch.reason,
      healthySince: ch.healthySince,
      pending: ch.state === 'connecting' || (ch.connected && !ch.ready && ch.state !== 'down'),
      judged: ch.conditionsKnown,
      untried: this.policy.connect === 'active' && !ch.connected && ch.state === 'idle',
      leftForCondition: ch.leftForCondition,
    };
  }

  /** 3 healthy, 2 degraded (ServiceLevel or stream lag), 1 failover condition holds, 0 unusable. */
  private score(ch: Channel): HealthClass {
    // Cold mode: an idle channel that answers its probes counts as healthy (it is connected when chosen).
    if (this.policy.connect === 'active' && !ch.connected && ch.state === 'idle' && ch.probedHealthy) return 3;
    if (!ch.ready) return 0;
    if (ch.state === 'down' || ch.state === 'connecting' || ch.state === 'idle') return 0;
    if (ch.conditions.length > 0) return 1;
    if (ch.state === 'degraded') return 2;
    return 3;
  }

  /**
   * Makes `to` the active channel. A target that is not ready yet (cold mode, or still creating its
   * items) is connected first; the current one stays active meanwhile if it still can (make-before-break).
   */
  private switchTo(to: number, kind: SwitchKind, reason: string): void {
    const target = this.channels[to];
    const from = this.active ?? this.lastActive;
    // The decision's event goes out once the switch has taken effect (listeners read the status).
    const announce = kind !== 'activate' && this.pendingSwitch?.to !== to ? this.decideSwitch(kind, to, reason, kind === 'failover' && from !== null ? this.detectMs(this.channels[from]) : undefined) : undefined;
    if (!target.ready) {
      if (this.active !== null && this.score(this.channels[this.active]) === 0) this.setActive(null);
      announce?.();
      if (!target.connected && !target.connecting) target.connect();
      return;
    }
    const recovering = this.active === null && this.bothDownReported;
    const replay = this.setActive(to);
    announce?.();
    if (recovering) {
      this.bothDownReported = false;
      this.emitEvent('recovered', 'info', `the ${target.name} is active again after ${this.channels.length === 2 ? 'both servers were' : 'all servers were'} down`, { to: target.name });
    }
    this.deliver(replay);
  }

  /** Records a switch decision; returns the function that emits its event. */
  private decideSwitch(kind: RedundancyEventKind, to: number, reason: string, detectMs?: number): () => void {
    const from = this.active ?? this.lastActive;
    if (from !== null && from !== to && this.channels[from].conditions.length > 0 && this.channels[from].state !== 'down') {
      this.lastConditionSwitchAt = this.clock.now();
      this.channels[from].leftForCondition = true;
    }
    if (kind === 'failover') this.failovers++;
    this.lastSwitchReason = reason;
    this.pendingSwitch = { kind, from, to, decidedAt: this.clock.now() };
    this.writeRedirectReported = false;
    const names = { from: from === null ? null : this.channels[from].name, to: this.channels[to].name };
    return () => this.emitEvent(kind, kind === 'failover' ? 'error' : 'warning', reason, { ...names, detectMs });
  }

  /** Returns what of the new active channel's buffered stream is to be delivered. */
  private setActive(index: number | null): DeliveredChange[] {
    if (index === this.active) return [];
    this.accountActiveTime();
    this.active = index;
    if (index !== null) this.lastActive = index;
    this.activeSince = index === null ? undefined : this.clock.now();
    this.lagReported = false;
    return this.merge.activate(index, this.clock.now());
  }

  private deliver(changes: DeliveredChange[]): void {
    if (changes.length === 0) return;
    const p = this.pendingSwitch;
    if (p && p.to === changes[0].channel) {
      const ms = this.clock.now() - p.decidedAt;
      this.lastSwitchMs = ms;
      this.pendingSwitch = undefined;
      const to = this.channels[p.to].name;
      this.emitEvent('switch-complete', 'info', `${p.kind} to the ${to} complete: first data after ${ms} ms`, { from: p.from === null ? null : this.channels[p.from].name, to, durationMs: ms });
    }
    this.emit('data', changes);
  }

  private scheduleWake(at: number | undefined): void {
    if (at === this.wakeAt) return;
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAt = at;
    if (at === undefined) return;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = undefined;
      this.reevaluate();
    }, Math.max(0, at - this.clock.now()));
  }

  // ================================================================ connections per mode

  /** Which channels are connected, and how their items are kept, as the mode's policy says. */
  private applyConnections(): void {
    if (!this.running) return;
    if (this.cold) this.cold.apply();
    for (const ch of this.channels) if (ch.connected) this.wantItemsOn(ch);
  }

  private wantItemsOn(ch: Channel): void {
    const reporting = ch.index === this.active || this.policy.connect === 'active';
    const minSampling = this.fastestSampling;
    // Reporting items queue the changes of one publishing interval (a burst must not be folded);
    // a sampling standby's queue holds the longest outage the pair bridges.
    const queue = this.policy.standby === 'sampling' ? samplingQueueSize(this.opts.pingIntervalMs, this.opts.pingTimeoutMs, Number.isFinite(minSampling) ? minSampling : 1000) : REPORTING_QUEUE;
    ch.want(this.items, reporting ? 'reporting' : this.policy.standby, queue);
  }

  /** A channel failed to connect or lost its connection: plan what comes next. */
  private afterLoss(ch: Channel): void {
    if (!this.running) return;
    // A switch towards a channel that just failed will not complete.
    if (this.pendingSwitch?.to === ch.index && this.active !== ch.index) this.pendingSwitch = undefined;
    if (this.policy.connect === 'all') {
      ch.scheduleReconnect();
      this.reevaluate();
      return;
    }
    // Cold: one connection at a time; the channels are tried in turn until one answers.
    this.cold?.afterLoss(ch);
  }

  // ================================================================ health

  /** Derives healthy/degraded/down for a connected channel from ServiceLevel, stream lag and conditions. */
  private refreshState(ch: Channel): void {
    if (!ch.connected || !ch.answered) return;
    const level = ch.serviceLevel;
    const cls = level === undefined ? 'healthy' : classifyServiceLevel(level);
    const lag = this.watch.lagOf(ch, this.channels);
    if (cls === 'unusable') this.setChannelState(ch, 'down', `ServiceLevel ${level} (${level === 0 ? 'maintenance' : 'no data'})`);
    else if (lag) this.setChannelState(ch, 'degraded', `stream ${Math.round(lag.ms)} ms behind the ${lag.name}`);
    else if (ch.conditions.length > 0) this.setChannelState(ch, 'degraded', ch.conditions.map((c) => c.reason).join('; '));
    else if (cls === 'degraded') this.setChannelState(ch, 'degraded', `ServiceLevel ${level} (degraded)`);
    else this.setChannelState(ch, 'healthy', level === undefined ? 'answering' : `answering, ServiceLevel ${level}`);
  }

  private checkLag(): void {
    if (this.active === null) return;
    const active = this.channels[this.active];
    const lag = this.watch.lagOf(active, this.channels);
    if (lag && !this.lagReported) {
      this.lagReported = true;
      this.emitEvent('stream-lag', 'warning', `the ${active.name}'s data is ${Math.round(lag.ms)} ms behind the ${lag.name}'s`, { server: active.name });
      this.refreshState(active);
      this.reevaluate();
    } else if (!lag && this.lagReported) {
      this.lagReported = false;
    }
    // A former active that caught up is healthy again.
    for (const ch of this.channels) if (ch !== active && ch.state === 'degraded' && ch.reason.startsWith('stream ') && !this.watch.lagOf(ch, this.channels)) this.refreshState(ch);
  }

  // ================================================================ items

  private rebuildItems(): void {
    const byId = new Map<string, ItemSpec>();
    for (const list of this.owners.values()) {
      for (const it of list) {
        const prev = byId.get(it.id);
        if (!prev || it.samplingIntervalMs < prev.samplingIntervalMs) byId.set(it.id, { ...it });
      }
    }
    const removed = this.items.filter((it) => !byId.has(it.id)).map((it) => it.id);
    this.merge.forget(removed);
    this.items = [...byId.values()].map((it) => ({ ...it, key: this.merge.keyOf(it.id) }));
    this.fastestSampling = this.items.reduce((m, it) => Math.min(m, it.samplingIntervalMs), Infinity);
    for (const ch of this.channels) ch.forgetRefused(removed);
    this.watch.update(this.items, this.channels);
    for (const ch of this.channels) if (ch.connected) this.wantItemsOn(ch);
  }

  private reportItemErrors(ch: Channel, errors: ItemError[], recovered: string[] = []): void {
    this.emit('item-errors', ch.name, errors, recovered);
    this.emitEvent('item-error', 'warning', `${errors.length} item(s) refused by the ${ch.name}: ${errors.slice(0, 3).map((e) => `${e.id}: ${e.error}`).join('; ')}${errors.length > 3 ? ' …' : ''}`, { server: ch.name });
  }

  // ================================================================ start-up and reports

  /** Nothing was ever active and the start-up grace is still running. */
  private inStartup(): boolean {
    return this.lastActive === null && this.graceTimer !== undefined;
  }

  /** In start-up, and the preferred channel is to be waited for (not when another one is pinned). */
  private inStartupGrace(): boolean {
    return this.inStartup() && (this.pinned === null || this.pinned === 0);
  }

  /** First connect failures of channels never connected are not reported yet (see endQuietStart). */
  private inQuietStart(): boolean {
    return this.quietTimer !== undefined;
  }

  /**
   * Servers deployed with the pair (simulators in the same flow, a machine booting beside it) may
   * take a few seconds to listen: a refusal in the first seconds is reported only if the server is
   * still down when the quiet start runs out. The health states show the refusal at once.
   */
  private endQuietStart(): void {
    this.quietTimer = undefined;
    for (const ch of this.channels) {
      // Down now or already trying again (a secure connect on a busy machine takes a while): the
      // refusal seen is reported either way, or it never would be (only a streak's first is).
      if (ch.connectedAt === undefined && ch.lastConnectFailure !== undefined) this.reportConnectFailed(ch, ch.lastConnectFailure);
    }
    this.checkBothDown();
  }

  private reportConnectFailed(ch: Channel, reason: string): void {
    this.emitEvent('connect-failed', 'error', `cannot connect to ${ch.endpoint}: ${reason}`, { server: ch.name });
  }

  private checkBothDown(): void {
    if (this.active !== null || this.bothDownReported || !this.running) return;
    // All down before anything was ever active: the servers may still be starting (quiet start).
    if (this.lastActive === null && this.inQuietStart()) return;
    if (this.channels.every((c) => c.state === 'down')) {
      this.bothDownReported = true;
      this.emitEvent('both-down', 'error', `no server usable: ${this.describeChannels()}; retrying ${this.channels.length === 2 ? 'both' : 'all'}`);
    }
  }

  private reportBothBad(text: string): void {
    if (this.bothBadReported || this.active === null) return;
    this.bothBadReported = true;
    this.emitEvent('both-bad', 'error', `${this.channels.length === 2 ? 'both servers' : 'no server free of conditions'} bad, ${text}`, { server: this.channels[this.active].name });
  }

  // ================================================================ helpers

  private channelByName(name: ServerRole): Channel | undefined {
    return this.channels.find((c) => c.name === name);
  }

  private describingChannel(what: string): Channel {
    const ch = this.active !== null && this.channels[this.active].connected ? this.channels[this.active] : this.channels.find((c) => c.connected);
    if (!ch) throw new NoActiveServerError(`${this.name}: cannot ${what}: no server connected (${this.describeChannels()})`);
    return ch;
  }

  private healthOf(ch: Channel): ServerHealth {
    return {
      role: ch.name,
      index: ch.index,
      name: ch.name,
      endpoint: ch.endpoint,
      state: ch.state,
      reason: ch.reason,
      since: ch.since,
      serviceLevel: ch.serviceLevel,
      lastPingMs: ch.lastPingMs,
      conditions: ch.conditions.map((c) => c.name),
      clockOffsetMs: ch.clockOffsetMs,
    };
  }

  private setChannelState(ch: Channel, state: Channel['state'], reason: string, keepHealthySince = false): void {
    if (ch.setState(state, reason, keepHealthySince)) this.emitStatus();
  }

  private detectMs(ch: Channel): number | undefined {
    return ch.lastAlive === undefined ? undefined : this.clock.now() - ch.lastAlive;
  }

  private describeChannels(): string {
    return this.channels.map((c) => `${c.name}: ${c.state}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
  }

  private accountActiveTime(): void {
    if (this.active !== null && this.activeSince !== undefined) this.activeTime[this.active] += this.clock.now() - this.activeSince;
    this.activeSince = this.active === null ? undefined : this.clock.now();
  }

  private clearTimers(): void {
    for (const t of [this.wakeTimer, this.graceTimer, this.quietTimer]) this.clock.clearTimeout(t);
    this.wakeTimer = this.graceTimer = this.quietTimer = undefined;
    this.wakeAt = undefined;
    this.cold?.stop();
  }

  private emitEvent(kind: RedundancyEventKind, severity: Severity, reason: string, extra: Partial<Pick<RedundancyEvent, 'server' | 'from' | 'to' | 'durationMs' | 'detectMs'>> = {}): void {
    const event: RedundancyEvent = { time: this.clock.now(), pair: this.name, kind, severity, reason };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
    this.lastEvent = event;
    this.emit('event', event);
  }

  private emitStatus(): void {
    // Several transitions in one turn produce one status message.
    if (this.statusQueued || this.stopped) return;
    this.statusQueued = true;
    queueMicrotask(() => {
      this.statusQueued = false;
      if (!this.stopped) this.emit('status', this.status());
    });
  }
}
