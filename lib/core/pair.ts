// The redundant pair: two endpoint drivers that look like one reliable source.
//
// It owns the whole life of both connections: connecting per mode (cold: one at a time; warm:
// both, items reporting on the active one; hot: both reporting), pinging, back-off while a server
// is down, choosing the active server (failover, promotion back after a hold-off, manual control,
// ServiceLevel and failover conditions), and merging the data into one stream without holes or
// duplicates. It knows no protocol and no Node-RED: drivers come in through EndpointDriver, and
// everything that happens goes out as events.
import { EventEmitter } from 'node:events';
import { type Clock, type TimerHandle, realClock, withTimeout } from './clock';
import type { HoldingCondition } from './conditions';
import { ChangeRing, DeliveryGate, StreamLagDetector, admitAll } from './stream';
import { classifyServiceLevel } from './service-level';
import type { BrowseEntry, ItemDescription } from './driver';
import {
  type ConnectionMode,
  type DataChange,
  type DeliveredChange,
  type EndpointDriver,
  type ItemError,
  type ItemSpec,
  type PairStatus,
  type RedundancyEvent,
  type RedundancyEventKind,
  type ServerHealth,
  type ServerRole,
  type ServerState,
  type Severity,
  type SwitchControl,
  SERVER_ROLES,
  otherRole,
} from './types';

export interface PairOptions {
  /** Name (alias) used in events and status. */
  name: string;
  mode: ConnectionMode;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Return to the primary when it has been healthy for holdOffMs. */
  autoPromote: boolean;
  holdOffMs: number;
  /** Reconnect back-off: first retry after min, doubling to max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Hot mode: changes of the standby kept for replay at failover. */
  hotBufferSize?: number;
  /**
   * Hot mode: fail over when the active stream falls this far behind the standby's (ms);
   * 0 disables. Default: 5 sampling intervals, at least 250 ms.
   */
  streamLagMs?: number;
  /** Cold mode: how often the primary is probed while the secondary is active. */
  probeIntervalMs?: number;
  /**
   * At start, the primary is waited for (and retried) this long before the secondary is used:
   * servers deployed with the pair, or restarting with it, are given a moment. Default 2000 ms.
   */
  startupGraceMs?: number;
  clock?: Clock;
}

export interface PairEvents {
  data: [DeliveredChange[]];
  event: [RedundancyEvent];
  status: [PairStatus];
  'item-errors': [ServerRole, ItemError[]];
  /** Every batch from every server, before selection: failover conditions judge both servers. */
  'server-data': [ServerRole, DataChange[]];
}

export class NoActiveServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoActiveServerError';
  }
}

/** 'activate' = make a server active without a new switch decision (start-up, switch ready). */
type SwitchKind = 'failover' | 'promotion' | 'manual-switch' | 'activate';

interface ServerRuntime {
  role: ServerRole;
  driver: EndpointDriver;
  state: ServerState;
  reason: string;
  since: number;
  serviceLevel?: number;
  lastPingMs?: number;
  /** Bumped on every connect/disconnect so late async results of an old connection are ignored. */
  generation: number;
  connected: boolean;
  /** Items are created on this connection (with the given reporting flag). */
  itemsApplied: boolean;
  reporting: boolean;
  itemsKey: string;
  pingTimer?: TimerHandle;
  reconnectTimer?: TimerHandle;
  backoffMs: number;
  /** setItems is under way on this connection. */
  itemsPending: boolean;
  /** A ping answered on this connection (a session that cannot read is not usable). */
  answered: boolean;
  /** Consecutive failed connection attempts (only the first of a streak is an event). */
  failures: number;
  connectedAt?: number;
  /** Since when it has been unreachable (connection lost or refused), for the outage on reconnect. */
  unreachableSince?: number;
  /** Start of the current uninterrupted healthy period, for the promotion hold-off. */
  healthySince?: number;
  /** Last sign of life (ping answer or data), for detect_ms. */
  lastAlive?: number;
  /** First data since this connection's items were last (re)applied: stream-lag settles from here. */
  dataSince?: number;
  conditions: HoldingCondition[];
  /** Conditions per owner (several failover-condition nodes may watch one pair). */
  conditionOwners: Map<string, { holding: HoldingCondition[]; known: boolean }>;
  /** Cold mode: the conditions that held when this server was last left for a condition. */
  leftForCondition: boolean;
  /** Conditions were evaluated for this server (a cold standby has none known). */
  conditionsKnown: boolean;
  /** Operations on a driver are serialized so connect/items/reporting never interleave. */
  queue: Promise<void>;
  /** Cold mode: an idle server being probed (connect, ping, disconnect). */
  probing: boolean;
}

const DEFAULT_RECONNECT_MIN = 500;
const DEFAULT_RECONNECT_MAX = 10_000;
/** Start-up failures are held back at least this long (servers deployed with the pair). */
const STARTUP_QUIET_MIN_MS = 5000;
/** Shortest run of a server's stream before it is compared with the other's (hot mode). */
const STREAM_SETTLE_MIN_MS = 1000;

export class RedundantPair extends EventEmitter<PairEvents> {
  readonly name: string;
  readonly mode: ConnectionMode;
  private readonly opts: Required<Omit<PairOptions, 'streamLagMs' | 'clock'>> & { streamLagMs?: number };
  private readonly clock: Clock;
  private readonly servers: Record<ServerRole, ServerRuntime>;
  private active: ServerRole | null = null;
  /** The last server that was active (survives both being down), for failover accounting. */
  private lastActiveRole: ServerRole | null = null;
  private control: SwitchControl = 'auto';
  private controlReason = '';
  private started = false;
  private stopped = false;
  private owners = new Map<string, ItemSpec[]>();
  private items: ItemSpec[] = [];
  private readonly gate = new DeliveryGate();
  private readonly standbyRing: ChangeRing;
  private readonly lag: StreamLagDetector;
  private promotionTimer?: TimerHandle;
  private probeTimer?: TimerHandle;
  private failovers = 0;
  private lastEvent?: RedundancyEvent;
  private lastSwitchMs?: number;
  private lastSwitchReason?: string;
  /** A switch waiting for its first data, to measure its duration. */
  private pendingSwitch?: { kind: RedundancyEventKind; from: ServerRole | null; to: ServerRole; decidedAt: number };
  private bothDownReported = false;
  private writeRedirectReported = false;
  private activeSince?: number;
  private activeTime: Record<ServerRole, number> = { primary: 0, secondary: 0 };
  private lagReported = false;
  private conditionSwitchIntervalMs = 0;
  private lastConditionSwitchAt = -Infinity;
  private conditionTimer?: TimerHandle;
  private bothBadReported = false;
  private graceTimer?: TimerHandle;
  /** Runs while first connect failures and a "both down" before any activation are held back. */
  private quietTimer?: TimerHandle;

  constructor(options: PairOptions, drivers: Record<ServerRole, EndpointDriver>) {
    super();
    validatePairOptions(options);
    this.name = options.name;
    this.mode = options.mode;
    this.clock = options.clock ?? realClock;
    this.opts = {
      name: options.name,
      mode: options.mode,
      pingIntervalMs: options.pingIntervalMs,
      pingTimeoutMs: options.pingTimeoutMs,
      autoPromote: options.autoPromote,
      holdOffMs: options.holdOffMs,
      reconnectMinMs: options.reconnectMinMs ?? DEFAULT_RECONNECT_MIN,
      reconnectMaxMs: options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX,
      hotBufferSize: options.hotBufferSize ?? 100_000,
      probeIntervalMs: options.probeIntervalMs ?? Math.max(options.pingIntervalMs, 2000),
      startupGraceMs: options.startupGraceMs ?? 2000,
      streamLagMs: options.streamLagMs,
    };
    this.standbyRing = new ChangeRing(this.opts.hotBufferSize);
    this.lag = new StreamLagDetector(this.lagTolerance());
    const now = this.clock.now();
    const runtime = (role: ServerRole): ServerRuntime => ({
      role,
      driver: drivers[role],
      state: 'idle',
      reason: 'not started',
      since: now,
      generation: 0,
      connected: false,
      answered: false,
      itemsPending: false,
      itemsApplied: false,
      reporting: false,
      itemsKey: '',
      backoffMs: this.opts.reconnectMinMs,
      failures: 0,
      conditions: [],
      conditionOwners: new Map(),
      leftForCondition: false,
      // No failover-condition watches this server: nothing holds on it.
      conditionsKnown: true,
      queue: Promise.resolve(),
      probing: false,
    });
    this.servers = { primary: runtime('primary'), secondary: runtime('secondary') };
    for (const role of SERVER_ROLES) {
      drivers[role].attach({
        data: (changes) => this.onData(role, changes),
        lost: (reason, graceful) => this.onLost(role, reason, graceful),
      });
    }
  }

  // ---------------------------------------------------------------- public API

  start(): void {
    if (this.started) return;
    this.started = true;
    if (this.opts.startupGraceMs > 0) {
      this.quietTimer = this.clock.setTimeout(() => this.endQuietStart(), Math.max(this.opts.startupGraceMs, STARTUP_QUIET_MIN_MS));
      this.graceTimer = this.clock.setTimeout(() => {
        this.graceTimer = undefined;
        this.reevaluate();
        if (this.mode === 'cold' && this.active === null && !this.servers.secondary.connected && this.servers.secondary.state !== 'connecting' && !this.servers.primary.connected) {
          this.connect('secondary');
        }
      }, this.opts.startupGraceMs);
    }
    if (this.mode === 'cold') {
      this.servers.secondary.reason = 'standby (cold mode)';
      this.connect(this.preferredTarget());
    } else {
      for (const role of SERVER_ROLES) this.connect(role);
    }
  }

  /** Stops every timer and closes both connections. The pair cannot be restarted. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.promotionTimer);
    this.clock.clearTimeout(this.probeTimer);
    this.clock.clearTimeout(this.conditionTimer);
    this.clock.clearTimeout(this.graceTimer);
    this.clock.clearTimeout(this.quietTimer);
    this.accountActiveTime();
    const closing: Promise<void>[] = [];
    for (const role of SERVER_ROLES) {
      const s = this.servers[role];
      this.clock.clearTimeout(s.pingTimer);
      this.clock.clearTimeout(s.reconnectTimer);
      s.generation++;
      s.connected = false;
      closing.push(s.driver.disconnect().catch(() => undefined));
    }
    this.standbyRing.clear();
    await Promise.all(closing);
    this.removeAllListeners();
  }

  /** A flow node's items. Several owners share one monitored item per id. */
  setItems(owner: string, items: ItemSpec[]): void {
    this.owners.set(owner, items);
    this.rebuildItems();
  }

  removeItems(owner: string): void {
    if (this.owners.delete(owner)) this.rebuildItems();
  }

  /** Writes go to the active server only. Resolves with the server written to. */
  async write(item: string, value: unknown): Promise<ServerRole> {
    const role = this.active;
    if (!role || !this.servers[role].connected) {
      const why = `no active server (${this.describeServers()})`;
      this.emitEvent('write-rejected', 'error', `write to ${item} rejected: ${why}`);
      throw new NoActiveServerError(`${this.name}: write to ${item} rejected: ${why}`);
    }
    if (role === 'secondary' && !this.writeRedirectReported) {
      this.writeRedirectReported = true;
      this.emitEvent('write-redirected', 'warning', `writes go to the secondary while the primary is not active (first: ${item})`, { server: role });
    }
    await this.servers[role].driver.write(item, value);
    return role;
  }

  /** One-shot read from the active server (or, with `role`, from that server). */
  async read(items: string[], role?: ServerRole): Promise<DeliveredChange[]> {
    const from = role ?? this.active;
    if (!from || !this.servers[from].connected) {
      throw new NoActiveServerError(`${this.name}: cannot read: ${from ? `${from} not connected` : 'no active server'} (${this.describeServers()})`);
    }
    const values = await this.servers[from].driver.read(items);
    return values.map((v) => ({ ...v, server: from }));
  }

  /**
   * What items are (data type, array shape, access), asked of the active server (or, with none
   * active, of any connected one): the gateway's address space, the editor's item picker.
   */
  async describe(items: string[]): Promise<ItemDescription[]> {
    const driver = this.describingDriver('describe items');
    if (!driver.describe) throw new Error(`${this.name}: the ${driver.endpoint} driver cannot describe items`);
    return driver.describe(items);
  }

  /** Children of a node in the active (or any connected) server's address space. */
  async browse(nodeId: string | undefined, max = 1000): Promise<BrowseEntry[]> {
    const driver = this.describingDriver('browse');
    if (!driver.browse) throw new Error(`${this.name}: the ${driver.endpoint} driver cannot browse`);
    return driver.browse(nodeId, max);
  }

  private describingDriver(what: string): EndpointDriver {
    const role = this.active && this.servers[this.active].connected ? this.active : SERVER_ROLES.find((r) => this.servers[r].connected);
    if (!role) throw new NoActiveServerError(`${this.name}: cannot ${what}: no server connected (${this.describeServers()})`);
    return this.servers[role].driver;
  }

  /** Manual switch: pin a server, or return to automatic selection. */
  setControl(control: SwitchControl, reason = 'manual switch'): void {
    if (control === this.control) return;
    this.control = control;
    this.controlReason = `${reason}: ${control}`;
    const before = this.lastEvent;
    this.reevaluate();
    // The switch itself is the event; a control change that moves nothing is logged on its own.
    if (this.lastEvent === before || this.lastEvent?.kind !== 'manual-switch') {
      this.emitEvent('manual-switch', 'warning', this.controlReason, { from: this.active, to: this.active });
    }
  }

  getControl(): SwitchControl {
    return this.control;
  }

  /**
   * Failover conditions holding on a server (link-based failures: stale items, bad quality,
   * values, external health). `known` = false when the server's data could not be judged.
   */
  setConditions(owner: string, role: ServerRole, holding: HoldingCondition[], known = true): void {
    const s = this.servers[role];
    const before = s.conditions.map((c) => `${c.name}:${c.reason}`).join('\n');
    if (holding.length === 0 && known) s.conditionOwners.delete(owner);
    else s.conditionOwners.set(owner, { holding: holding.slice(), known });
    s.conditions = [...s.conditionOwners.values()].flatMap((o) => o.holding);
    s.conditionsKnown = [...s.conditionOwners.values()].every((o) => o.known);
    if (before !== s.conditions.map((c) => `${c.name}:${c.reason}`).join('\n')) {
      if (s.conditions.length === 0) s.leftForCondition = false;
      this.refreshState(role);
      this.reevaluate();
    }
  }

  /** A failover-condition node went away: its conditions no longer count. */
  clearConditions(owner: string): void {
    for (const role of SERVER_ROLES) {
      if (this.servers[role].conditionOwners.has(owner)) this.setConditions(owner, role, [], true);
    }
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
    return this.active;
  }

  isConnected(role: ServerRole): boolean {
    return this.servers[role].connected;
  }

  health(role: ServerRole): ServerHealth {
    const s = this.servers[role];
    return {
      role,
      state: s.state,
      reason: s.reason,
      since: s.since,
      serviceLevel: s.serviceLevel,
      lastPingMs: s.lastPingMs,
      conditions: s.conditions.map((c) => c.name),
    };
  }

  status(): PairStatus {
    const now = this.clock.now();
    const activeTime = { ...this.activeTime };
    if (this.active && this.activeSince !== undefined) activeTime[this.active] += now - this.activeSince;
    return {
      pair: this.name,
      mode: this.mode,
      control: this.control,
      active: this.active,
      servers: { primary: this.health('primary'), secondary: this.health('secondary') },
      failovers: this.failovers,
      lastEvent: this.lastEvent,
      lastSwitchMs: this.lastSwitchMs,
      lastSwitchReason: this.lastSwitchReason,
      activeTimeMs: activeTime,
    };
  }

  currentItems(): ItemSpec[] {
    return this.items.slice();
  }

  // ---------------------------------------------------------------- connections

  private connect(role: ServerRole): void {
    const s = this.servers[role];
    if (this.stopped || s.connected || s.state === 'connecting') return;
    this.clock.clearTimeout(s.reconnectTimer);
    s.reconnectTimer = undefined;
    const gen = ++s.generation;
    this.setState(role, 'connecting', `connecting to ${s.driver.endpoint}`);
    if (s.failures === 0) this.emitEvent('connecting', 'info', `connecting to ${s.driver.endpoint}`, { server: role });
    this.enqueue(role, async () => {
      try {
        await s.driver.connect();
      } catch (err) {
        if (gen !== s.generation || this.stopped) return;
        this.onConnectFailed(role, errorText(err));
        return;
      }
      if (gen !== s.generation || this.stopped) {
        await s.driver.disconnect().catch(() => undefined);
        return;
      }
      // A first connect in the quiet start ends no reported outage (its refusals were held back).
      const outageHeld = s.connectedAt === undefined && this.inQuietStart();
      s.connected = true;
      s.answered = false;
      s.connectedAt = this.clock.now();
      s.lastAlive = s.connectedAt;
      s.failures = 0;
      s.backoffMs = this.opts.reconnectMinMs;
      s.itemsApplied = false;
      s.itemsKey = '';
      s.dataSince = undefined;
      this.lag.reset(role);
      const downFor = s.unreachableSince !== undefined && !outageHeld ? s.connectedAt - s.unreachableSince : undefined;
      s.unreachableSince = undefined;
      this.emitEvent('connected', 'info', `connected to ${s.driver.endpoint}`, { server: role, durationMs: downFor });
      // Healthy only once a ping answered: a session that cannot read is no better than none.
      this.setState(role, 'connecting', 'connected, checking');
      this.pingNow(role, gen);
    });
  }

  private onConnectFailed(role: ServerRole, reason: string): void {
    const s = this.servers[role];
    s.failures++;
    s.unreachableSince ??= this.clock.now();
    this.setState(role, 'down', `connect failed: ${reason}`);
    // In the quiet start a server never connected yet may simply not listen yet (deployed together).
    if (s.failures === 1 && !(this.inQuietStart() && s.connectedAt === undefined)) this.reportConnectFailed(role, reason);
    this.afterServerLoss(role);
  }

  /** The driver saw the connection go (socket closed, session lost, server shutting down). */
  private onLost(role: ServerRole, reason: string, graceful: boolean): void {
    const s = this.servers[role];
    if (!s.connected || this.stopped) return;
    this.dropConnection(role, graceful ? `server shutting down: ${reason}` : `connection lost: ${reason}`, 'connection-lost', graceful ? 'warning' : 'error');
  }

  /** Marks a connected server down, closes its connection and plans the next step. */
  private dropConnection(role: ServerRole, reason: string, kind: RedundancyEventKind, severity: Severity): void {
    const s = this.servers[role];
    const upFor = s.connectedAt !== undefined ? this.clock.now() - s.connectedAt : undefined;
    s.unreachableSince = this.clock.now();
    s.healthySince = undefined;
    s.failures = 1;
    if (role !== this.active) this.standbyRing.clear();
    this.closeConnection(role);
    this.setState(role, 'down', reason);
    this.emitEvent(kind, severity, reason, { server: role, durationMs: upFor });
    this.afterServerLoss(role);
  }

  /**
   * Forgets a server's connection (late results of it are ignored from now on) and closes it in
   * the background: a dead link must not delay a failover.
   */
  private closeConnection(role: ServerRole): void {
    const s = this.servers[role];
    s.generation++;
    s.connected = false;
    s.itemsApplied = false;
    s.reporting = false;
    this.clock.clearTimeout(s.pingTimer);
    s.pingTimer = undefined;
    this.enqueue(role, () => s.driver.disconnect().catch(() => undefined));
  }

  private afterServerLoss(role: ServerRole): void {
    if (this.stopped) return;
    const s = this.servers[role];
    // A switch towards a server that just failed will not complete.
    if (this.pendingSwitch?.to === role && this.active !== role) this.pendingSwitch = undefined;
    if (this.mode !== 'cold') {
      this.scheduleReconnect(role);
      this.reevaluate();
      return;
    }
    // Cold: one connection at a time. Losing the active (or the one being connected) means
    // trying the other; the two are tried in turn ("ping-pong") until one answers.
    const other = otherRole(role);
    if (role === 'primary' && this.inStartupGrace()) {
      // Start-up: the primary may just not be listening yet; keep trying it for a moment.
      this.scheduleReconnect(role);
      return;
    }
    if (this.active === role || this.active === null) {
      if (this.active === role) this.setActive(null);
      const pinned = this.pinnedRole();
      const next = pinned ?? other;
      if (next === role) {
        this.scheduleReconnect(role);
      } else if (!this.servers[next].connected && this.servers[next].state !== 'connecting') {
        const wasActive = this.lastActiveRole === role && this.pendingSwitch?.to !== next;
        if (wasActive) this.decideSwitch('failover', next, s.reason, this.detectMs(role));
        // Give the other one a go at once the first time, with back-off in later rounds.
        if (this.servers[next].failures === 0) this.connect(next);
        else this.scheduleReconnect(next);
      }
      this.checkBothDown();
      this.emitStatus();
    } else {
      // An idle standby's probe failed; keep it idle-down until the next probe.
      this.reevaluate();
    }
  }

  private scheduleReconnect(role: ServerRole): void {
    const s = this.servers[role];
    if (this.stopped || s.reconnectTimer) return;
    const delay = s.backoffMs;
    s.backoffMs = Math.min(this.opts.reconnectMaxMs, s.backoffMs * 2);
    s.reconnectTimer = this.clock.setTimeout(() => {
      s.reconnectTimer = undefined;
      if (this.mode === 'cold' && this.active !== null && this.active !== role) return;
      this.connect(role);
    }, delay);
  }

  // ---------------------------------------------------------------- pings

  private schedulePing(role: ServerRole, gen: number): void {
    const s = this.servers[role];
    this.clock.clearTimeout(s.pingTimer);
    s.pingTimer = this.clock.setTimeout(() => this.pingNow(role, gen), this.opts.pingIntervalMs);
  }

  private pingNow(role: ServerRole, gen: number): void {
    const s = this.servers[role];
    if (gen !== s.generation || !s.connected || this.stopped) return;
    s.pingTimer = undefined;
    const sentAt = this.clock.now();
    let settled = false;
    const timeout = this.clock.setTimeout(() => {
      if (settled) return;
      settled = true;
      if (gen !== s.generation || !s.connected) return;
      this.dropConnection(role, `ping timeout: no answer within ${this.opts.pingTimeoutMs} ms`, 'ping-timeout', 'error');
    }, this.opts.pingTimeoutMs);
    s.driver.ping(this.opts.pingTimeoutMs).then(
      (result) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timeout);
        if (gen !== s.generation || !s.connected) return;
        s.lastPingMs = this.clock.now() - sentAt;
        s.answered = true;
        s.lastAlive = this.clock.now();
        this.onPingAnswer(role, result.serviceLevel);
        this.schedulePing(role, gen);
      },
      (err) => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(timeout);
        if (gen !== s.generation || !s.connected) return;
        this.dropConnection(role, `ping failed: ${errorText(err)}`, 'ping-timeout', 'error');
      },
    );
  }

  private onPingAnswer(role: ServerRole, serviceLevel: number | undefined): void {
    const s = this.servers[role];
    const previousLevel = s.serviceLevel;
    s.serviceLevel = serviceLevel;
    const first = !s.itemsApplied && s.itemsKey === '' && !s.itemsPending;
    if (previousLevel !== serviceLevel && previousLevel !== undefined && serviceLevel !== undefined) {
      const cls = classifyServiceLevel(serviceLevel);
      if (cls !== classifyServiceLevel(previousLevel)) {
        this.emitEvent(cls === 'healthy' ? 'restored' : 'degraded', cls === 'healthy' ? 'info' : 'warning', `ServiceLevel ${previousLevel} → ${serviceLevel} (${cls})`, { server: role });
      }
    }
    this.refreshState(role);
    if (first) this.syncItems(role);
    this.reevaluate();
  }

  /** Derives healthy/degraded/down for a connected server from ServiceLevel and conditions. */
  private refreshState(role: ServerRole): void {
    const s = this.servers[role];
    if (!s.connected) return;
    if (!s.answered) return;
    const level = s.serviceLevel;
    const cls = level === undefined ? 'healthy' : classifyServiceLevel(level);
    if (cls === 'unusable') {
      this.setState(role, 'down', `ServiceLevel ${level} (${level === 0 ? 'maintenance' : 'no data'})`);
    } else if (this.lagging(role)) {
      this.setState(role, 'degraded', `stream ${Math.round(this.lag.lag(role, otherRole(role)))} ms behind the ${otherRole(role)}`);
    } else if (s.conditions.length > 0) {
      this.setState(role, 'degraded', s.conditions.map((c) => c.reason).join('; '));
    } else if (cls === 'degraded') {
      this.setState(role, 'degraded', `ServiceLevel ${level} (degraded)`);
    } else {
      this.setState(role, 'healthy', level === undefined ? 'answering' : `answering, ServiceLevel ${level}`);
    }
  }

  // ---------------------------------------------------------------- items

  private rebuildItems(): void {
    const byId = new Map<string, ItemSpec>();
    for (const list of this.owners.values()) {
      for (const it of list) {
        const prev = byId.get(it.id);
        if (!prev || it.samplingIntervalMs < prev.samplingIntervalMs) byId.set(it.id, { ...it });
      }
    }
    const removed = this.items.filter((it) => !byId.has(it.id)).map((it) => it.id);
    this.items = [...byId.values()];
    this.gate.forget(removed);
    this.lag.toleranceMs = this.lagTolerance();
    for (const role of SERVER_ROLES) if (this.servers[role].connected) this.syncItems(role);
  }

  /** Should this server's items report now? Hot: always; warm/cold: only on the active one. */
  private wantsReporting(role: ServerRole): boolean {
    // Cold: the one connected server is the one about to be active.
    return this.mode !== 'warm' || this.active === role;
  }

  /** Brings a connected server's monitored items and reporting in line with the pair's state. */
  private syncItems(role: ServerRole): void {
    const s = this.servers[role];
    if (!s.connected) return;
    const gen = s.generation;
    s.itemsPending = true;
    this.enqueue(role, async () => {
      s.itemsPending = false;
      if (gen !== s.generation || !s.connected) return;
      const key = itemsKey(this.items);
      const reporting = this.wantsReporting(role);
      try {
        if (s.itemsKey !== key) {
          const errors = await s.driver.setItems(this.items, reporting);
          if (gen !== s.generation) return;
          s.itemsKey = key;
          s.itemsApplied = true;
          s.dataSince = undefined;
          s.reporting = reporting;
          if (errors.length > 0) {
            this.emit('item-errors', role, errors);
            this.emitEvent('item-error', 'warning', `${errors.length} item(s) refused by the ${role}: ${errors.slice(0, 3).map((e) => `${e.id}: ${e.error}`).join('; ')}${errors.length > 3 ? ' …' : ''}`, { server: role });
          }
        } else if (s.reporting !== reporting) {
          await s.driver.setReporting(reporting);
          if (gen !== s.generation) return;
          s.reporting = reporting;
        }
      } catch (err) {
        if (gen !== s.generation || !s.connected) return;
        this.dropConnection(role, `cannot create items: ${errorText(err)}`, 'connection-lost', 'error');
        return;
      }
      // The world may have moved on while the request ran (another switch): converge again.
      if (s.itemsKey !== itemsKey(this.items) || s.reporting !== this.wantsReporting(role)) this.syncItems(role);
      else this.reevaluate();
    });
  }

  // ---------------------------------------------------------------- data

  private onData(role: ServerRole, changes: DataChange[]): void {
    if (this.stopped || changes.length === 0) return;
    const s = this.servers[role];
    if (!s.connected) return;
    s.lastAlive = this.clock.now();
    s.dataSince ??= s.lastAlive;
    this.emit('server-data', role, changes);
    if (this.mode === 'hot') {
      this.lag.observe(role, changes);
      this.checkLag();
    }
    if (role === this.active) {
      this.deliver(role, changes);
    } else if (this.mode === 'hot') {
      this.standbyRing.pushAll(changes);
    }
  }

  private deliver(role: ServerRole, changes: DataChange[]): void {
    const out = admitAll(this.gate, role, changes);
    if (out.length === 0) return;
    if (this.pendingSwitch && this.pendingSwitch.to === role) {
      const ms = this.clock.now() - this.pendingSwitch.decidedAt;
      this.lastSwitchMs = ms;
      this.emitEvent('switch-complete', 'info', `${this.pendingSwitch.kind} to the ${role} complete: first data after ${ms} ms`, { from: this.pendingSwitch.from, to: role, durationMs: ms });
      this.pendingSwitch = undefined;
    }
    this.emit('data', out);
  }

  private lagTolerance(): number {
    if (this.opts.streamLagMs !== undefined) return this.opts.streamLagMs > 0 ? this.opts.streamLagMs : Infinity;
    const minSampling = this.items.reduce((m, it) => Math.min(m, it.samplingIntervalMs), Infinity);
    return Number.isFinite(minSampling) ? Math.max(250, 5 * Math.max(minSampling, 50)) : Infinity;
  }

  private lagging(role: ServerRole): boolean {
    if (this.mode !== 'hot') return false;
    const other = otherRole(role);
    return this.streamSettled(role) && this.streamSettled(other) && this.lag.isBehind(role, other);
  }

  /**
   * Both streams are compared only once each has run for a while with its current items: the first
   * publish cycles after a connect or an item change start at arbitrary phases on each server, and
   * a one-off gap there is no stall (it made spurious failovers at start-up).
   */
  private streamSettled(role: ServerRole): boolean {
    const s = this.servers[role];
    if (!s.connected || s.dataSince === undefined) return false;
    return this.clock.now() - s.dataSince >= Math.max(STREAM_SETTLE_MIN_MS, 2 * this.lag.toleranceMs);
  }

  private checkLag(): void {
    const active = this.active;
    if (!active) return;
    const behind = this.lagging(active);
    if (behind && !this.lagReported) {
      this.lagReported = true;
      const ms = Math.round(this.lag.lag(active, otherRole(active)));
      this.emitEvent('stream-lag', 'warning', `the ${active}'s data is ${ms} ms behind the ${otherRole(active)}'s`, { server: active });
      this.refreshState(active);
      this.reevaluate();
    } else if (!behind && this.lagReported) {
      this.lagReported = false;
    }
    // A former active that caught up is healthy again.
    const other = otherRole(active);
    if (this.servers[other].state === 'degraded' && this.servers[other].reason.startsWith('stream ') && !this.lagging(other)) this.refreshState(other);
  }

  // ---------------------------------------------------------------- selection

  private pinnedRole(): ServerRole | null {
    return this.control === 'force-primary' ? 'primary' : this.control === 'force-secondary' ? 'secondary' : null;
  }

  private preferredTarget(): ServerRole {
    return this.pinnedRole() ?? 'primary';
  }

  /** 3 healthy, 2 degraded (ServiceLevel or stream lag), 1 failover condition holds, 0 unusable. */
  private score(role: ServerRole): number {
    const s = this.servers[role];
    if (!s.connected || !s.itemsApplied || !s.answered) return 0;
    if (s.state === 'down' || s.state === 'connecting' || s.state === 'idle') return 0;
    if (s.conditions.length > 0) return 1;
    if (s.state === 'degraded') return 2;
    return 3;
  }

  /** What the active server should be now; null = keep things as they are. */
  private decide(): { to: ServerRole | null; kind: SwitchKind; reason: string } | null {
    const current = this.active;
    const pinned = this.pinnedRole();
    if (pinned) {
      if (this.score(pinned) > 0) return current === pinned ? null : { to: pinned, kind: current ? 'manual-switch' : 'activate', reason: this.controlReason };
      // A forced server that is still connecting may take over from the current one (handover);
      // one that is down leaves nothing active: forced means forced.
      const pinnedState = this.servers[pinned].state;
      if ((pinnedState === 'connecting' || (pinnedState === 'idle' && this.mode === 'cold')) && current && this.score(current) > 0) return null;
      return current === null ? null : { to: null, kind: 'activate', reason: `forced to the ${pinned}, which is ${this.servers[pinned].state}` };
    }
    const pending = this.pendingSwitch?.to;
    if (pending && pending !== current && this.score(pending) > 0) return { to: pending, kind: 'activate', reason: 'switch ready' };

    if (current === null) {
      // Start-up, or everything was down: prefer the primary, but do not wait for a primary that
      // is known down; wait for one still connecting (bounded by its connect attempt).
      const p = this.score('primary');
      const sec = this.score('secondary');
      let pick: ServerRole | null = null;
      if (p > 0 && p >= sec) pick = 'primary';
      else if (sec > 0 && ((!this.primaryPending() && !this.inStartupGrace()) || this.lastActiveRole !== null)) pick = 'secondary';
      else if (p > 0) pick = 'primary';
      if (!pick) return null;
      const known = pick === this.lastActiveRole || this.lastActiveRole === null || pending === pick;
      return { to: pick, kind: known ? 'activate' : 'failover', reason: `the ${this.lastActiveRole} is ${this.lastActiveRole ? this.servers[this.lastActiveRole].state : 'unavailable'}` };
    }

    const other = otherRole(current);
    const a = this.score(current);
    const b = this.score(other);
    if (a === 0) return b > 0 ? { to: other, kind: 'failover', reason: this.servers[current].reason } : { to: null, kind: 'activate', reason: this.servers[current].reason };
    if (a === 1) {
      // Never to a server on which the same condition holds. A cold standby cannot be judged
      // until connected: it is tried unless it was itself left for a condition.
      const coldCandidate = this.mode === 'cold' && !this.servers[other].connected && this.servers[other].state === 'idle' && !this.servers[other].leftForCondition;
      // A standby whose conditions are not judged yet (just connected) is no target yet.
      if (b >= 2 && !this.servers[other].conditionsKnown) return null;
      if (b >= 2 || coldCandidate) {
        const wait = this.lastConditionSwitchAt + this.conditionSwitchIntervalMs - this.clock.now();
        if (wait > 0) {
          this.scheduleConditionCheck(wait);
          return null;
        }
        return { to: other, kind: 'failover', reason: `failover condition on the ${current}: ${this.servers[current].reason}` };
      }
      if (b === 1 || (this.mode === 'cold' && this.servers[other].leftForCondition)) this.reportBothBad(current, other);
      return null;
    }
    if (a === 2 && b === 3) return { to: other, kind: 'failover', reason: `${this.servers[current].reason}; the ${other} is healthy` };
    if (current === 'secondary' && this.opts.autoPromote && this.primaryPromotable()) {
      return { to: 'primary', kind: 'promotion', reason: `the primary has been healthy for ${this.opts.holdOffMs} ms` };
    }
    return null;
  }

  /** Decides the active server from the current health. Called after every change. */
  private reevaluate(): void {
    if (this.stopped || !this.started) return;
    const decision = this.decide();
    if (decision) {
      if (decision.to === null) {
        this.setActive(null);
        if (this.mode === 'cold') {
          for (const role of SERVER_ROLES) if (role !== this.pinnedRole() && this.servers[role].connected) this.releaseColdStandby(role);
        }
      } else {
        this.switchTo(decision.to, decision.kind, decision.reason);
      }
    }
    const pinned = this.pinnedRole();
    if (this.mode === 'cold' && pinned && !this.servers[pinned].connected && this.servers[pinned].state !== 'connecting' && !this.servers[pinned].reconnectTimer) {
      this.connect(pinned);
    }
    this.finishEvaluation();
  }

  private reportBothBad(current: ServerRole, other: ServerRole): void {
    if (this.bothBadReported) return;
    this.bothBadReported = true;
    this.emitEvent('both-bad', 'error', `both servers bad, staying on the ${current}: ${current}: ${this.servers[current].reason}; ${other}: ${this.servers[other].reason}`, { server: current });
  }

  private scheduleConditionCheck(ms: number): void {
    if (this.conditionTimer) return;
    this.conditionTimer = this.clock.setTimeout(() => {
      this.conditionTimer = undefined;
      this.reevaluate();
    }, ms);
  }

  /** Nothing was ever active and the start-up grace is still running (any server). */
  private inStartup(): boolean {
    return this.lastActiveRole === null && this.graceTimer !== undefined;
  }

  /** First connect failures of servers never connected are not reported yet (see endQuietStart). */
  private inQuietStart(): boolean {
    return this.quietTimer !== undefined;
  }

  /**
   * Servers deployed with the pair (simulators in the same flow, a machine booting beside it) may
   * take a few seconds to listen: a refusal in the first seconds is reported only if the server is
   * still down when the quiet start runs out, not as a "both down" at every start. The health
   * states show the refusal at once; only the events wait.
   */
  private endQuietStart(): void {
    this.quietTimer = undefined;
    for (const r of SERVER_ROLES) {
      const srv = this.servers[r];
      // Never connected and down: its refusals were all held back.
      if (srv.connectedAt === undefined && srv.state === 'down') this.reportConnectFailed(r, srv.reason.replace(/^connect failed: /, ''));
    }
    this.checkBothDown();
  }

  private reportConnectFailed(role: ServerRole, reason: string): void {
    this.emitEvent('connect-failed', 'error', `cannot connect to ${this.servers[role].driver.endpoint}: ${reason}`, { server: role });
  }

  /** In start-up and the primary is to be waited for (not when the secondary is forced). */
  private inStartupGrace(): boolean {
    return this.inStartup() && this.pinnedRole() !== 'secondary';
  }

  /** The primary is on its way (connecting, or connected with its items being created). */
  private primaryPending(): boolean {
    const p = this.servers.primary;
    return p.state === 'connecting' || (p.connected && !p.itemsApplied && p.state !== 'down');
  }

  /** Promotion needs the primary healthy (and no worse than the secondary) for the hold-off. */
  private primaryPromotable(): boolean {
    const p = this.servers.primary;
    if (this.score('primary') !== 3 || p.healthySince === undefined) return false;
    return this.clock.now() - p.healthySince >= this.opts.holdOffMs;
  }

  private finishEvaluation(): void {
    if (this.bothBadReported && SERVER_ROLES.some((r) => this.servers[r].conditions.length === 0)) this.bothBadReported = false;
    this.schedulePromotionCheck();
    this.scheduleColdProbe();
    this.checkBothDown();
    for (const role of SERVER_ROLES) {
      const s = this.servers[role];
      if (s.connected && s.itemsApplied && s.reporting !== this.wantsReporting(role)) this.syncItems(role);
    }
    this.emitStatus();
  }

  private schedulePromotionCheck(): void {
    this.clock.clearTimeout(this.promotionTimer);
    this.promotionTimer = undefined;
    if (!this.opts.autoPromote || this.control !== 'auto' || this.active !== 'secondary') return;
    const p = this.servers.primary;
    if (p.healthySince === undefined || this.score('primary') !== 3) return;
    const due = p.healthySince + this.opts.holdOffMs - this.clock.now();
    this.promotionTimer = this.clock.setTimeout(() => {
      this.promotionTimer = undefined;
      this.reevaluate();
    }, Math.max(0, due));
  }

  /**
   * Makes `to` the active server. A cold-mode target that is not ready yet is connected first;
   * the current server stays active meanwhile if it still can (make-before-break).
   */
  private switchTo(to: ServerRole, kind: SwitchKind, reason: string): void {
    const from = this.active ?? this.lastActiveRole;
    // The decision's event goes out once the switch has taken effect (listeners read the status).
    const announce = kind !== 'activate' && this.pendingSwitch?.to !== to ? this.decideSwitch(kind, to, reason, kind === 'failover' && from ? this.detectMs(from) : undefined, false) : undefined;
    const target = this.servers[to];
    if (!(target.connected && target.itemsApplied)) {
      if (this.active !== null && this.score(this.active) === 0) this.setActive(null);
      announce?.();
      if (!target.connected && target.state !== 'connecting') this.connect(to);
      return;
    }
    const recovering = this.active === null && this.bothDownReported;
    this.setActive(to);
    announce?.();
    if (recovering) {
      this.bothDownReported = false;
      this.emitEvent('recovered', 'info', `the ${to} is active again after both servers were down`, { to });
    }
    if (this.mode === 'hot') {
      // Zero lost changes: whatever the new active sent that is newer than what was delivered.
      const replay = this.standbyRing.drain();
      if (replay.length > 0) this.deliver(to, replay);
    } else {
      this.standbyRing.clear();
    }
    if (this.mode === 'cold' && this.servers[otherRole(to)].connected) {
      // Make-before-break: the old server is released only now that the new one is active.
      this.releaseColdStandby(otherRole(to));
    }
    this.syncItems(to);
  }

  /** Records a switch decision; its event is emitted now, or by the returned function. */
  private decideSwitch(kind: RedundancyEventKind, to: ServerRole, reason: string, detectMs?: number, emitNow = true): () => void {
    const from = this.active ?? this.lastActiveRole;
    if (from && from !== to && this.servers[from].conditions.length > 0 && this.servers[from].state !== 'down') {
      this.lastConditionSwitchAt = this.clock.now();
      this.servers[from].leftForCondition = true;
    }
    if (kind === 'failover') this.failovers++;
    this.lastSwitchReason = reason;
    this.pendingSwitch = { kind, from, to, decidedAt: this.clock.now() };
    this.writeRedirectReported = false;
    const emit = () => this.emitEvent(kind, kind === 'failover' ? 'error' : 'warning', reason, { from, to, detectMs });
    if (emitNow) emit();
    return emit;
  }

  private releaseColdStandby(role: ServerRole): void {
    this.closeConnection(role);
    this.setState(role, 'idle', 'standby (cold mode)');
  }

  private setActive(role: ServerRole | null): void {
    if (role === this.active) return;
    this.accountActiveTime();
    this.active = role;
    if (role) this.lastActiveRole = role;
    this.activeSince = role ? this.clock.now() : undefined;
    this.lagReported = false;
  }

  private accountActiveTime(): void {
    if (this.active && this.activeSince !== undefined) this.activeTime[this.active] += this.clock.now() - this.activeSince;
    this.activeSince = this.active ? this.clock.now() : undefined;
  }

  private checkBothDown(): void {
    if (this.active !== null || this.bothDownReported || !this.started) return;
    // Both down before anything was ever active: the servers may still be starting (quiet start).
    if (this.lastActiveRole === null && this.inQuietStart()) return;
    const bothTried = SERVER_ROLES.every((r) => this.servers[r].state === 'down');
    if (bothTried) {
      this.bothDownReported = true;
      this.emitEvent('both-down', 'error', `no server usable: ${this.describeServers()}; retrying both`);
    }
  }

  /** Cold mode: while on the secondary, probe the primary now and then to know when to return. */
  private scheduleColdProbe(): void {
    if (this.mode !== 'cold' || this.probeTimer || !this.opts.autoPromote || this.control !== 'auto') return;
    if (this.active !== 'secondary' || this.servers.primary.connected) return;
    this.probeTimer = this.clock.setTimeout(() => {
      this.probeTimer = undefined;
      void this.probePrimary();
    }, this.opts.probeIntervalMs);
  }

  private async probePrimary(): Promise<void> {
    const p = this.servers.primary;
    if (this.stopped || this.active !== 'secondary' || p.connected || p.probing || p.state === 'connecting') return;
    p.probing = true;
    const gen = p.generation;
    let ok = false;
    let serviceLevel: number | undefined;
    try {
      await withTimeout(this.clock, p.driver.connect(), this.opts.pingTimeoutMs + 5_000, `probe connect: no answer within ${this.opts.pingTimeoutMs + 5_000} ms`);
      serviceLevel = (await withTimeout(this.clock, p.driver.ping(this.opts.pingTimeoutMs), this.opts.pingTimeoutMs, `probe ping: no answer within ${this.opts.pingTimeoutMs} ms`)).serviceLevel;
      ok = serviceLevel === undefined || classifyServiceLevel(serviceLevel) === 'healthy';
    } catch {
      ok = false;
    } finally {
      await p.driver.disconnect().catch(() => undefined);
      p.probing = false;
    }
    if (this.stopped || gen !== p.generation) return;
    const now = this.clock.now();
    p.serviceLevel = serviceLevel;
    if (ok) {
      if (p.healthySince === undefined) p.healthySince = now;
      this.setState('primary', 'idle', `reachable (probed), standby (cold mode)`, true);
      if (now - p.healthySince >= this.opts.holdOffMs && this.active === 'secondary' && this.control === 'auto') {
        this.switchTo('primary', 'promotion', `the primary has answered probes for ${this.opts.holdOffMs} ms`);
        this.emitStatus();
        return;
      }
    } else {
      p.healthySince = undefined;
      this.setState('primary', 'down', 'probe failed: not reachable');
    }
    this.scheduleColdProbe();
    this.emitStatus();
  }

  // ---------------------------------------------------------------- helpers

  private setState(role: ServerRole, state: ServerState, reason: string, keepHealthySince = false): void {
    const s = this.servers[role];
    const now = this.clock.now();
    if (s.state !== state) s.since = now;
    if (state === 'healthy' && s.conditions.length === 0) {
      if (s.healthySince === undefined) s.healthySince = now;
    } else if (!keepHealthySince) {
      s.healthySince = undefined;
    }
    const changed = s.state !== state || s.reason !== reason;
    s.state = state;
    s.reason = reason;
    if (changed) this.emitStatus();
  }

  private detectMs(role: ServerRole): number | undefined {
    const alive = this.servers[role].lastAlive;
    return alive === undefined ? undefined : this.clock.now() - alive;
  }

  private describeServers(): string {
    return SERVER_ROLES.map((r) => `${r}: ${this.servers[r].state}${this.servers[r].reason ? ` (${this.servers[r].reason})` : ''}`).join(', ');
  }

  private enqueue(role: ServerRole, op: () => Promise<void>): void {
    const s = this.servers[role];
    s.queue = s.queue.then(op).catch(() => undefined);
  }

  private emitEvent(
    kind: RedundancyEventKind,
    severity: Severity,
    reason: string,
    extra: Partial<Pick<RedundancyEvent, 'server' | 'from' | 'to' | 'durationMs' | 'detectMs'>> = {},
  ): void {
    const event: RedundancyEvent = { time: this.clock.now(), pair: this.name, kind, severity, reason };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
    this.lastEvent = event;
    this.emit('event', event);
  }

  private statusQueued = false;
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

export function validatePairOptions(o: PairOptions): void {
  const problems: string[] = [];
  if (!o.name) problems.push('a name is required');
  if (!['cold', 'warm', 'hot'].includes(o.mode)) problems.push(`mode must be cold, warm or hot (got ${String(o.mode)})`);
  const positive = (label: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) problems.push(`${label} must be a number ≥ ${min} ms (got ${String(v)})`);
  };
  positive('ping interval', o.pingIntervalMs, 50);
  positive('ping timeout', o.pingTimeoutMs, 50);
  positive('hold-off', o.holdOffMs, 0);
  if (o.reconnectMinMs !== undefined) positive('reconnect minimum', o.reconnectMinMs, 10);
  if (o.reconnectMaxMs !== undefined) positive('reconnect maximum', o.reconnectMaxMs, o.reconnectMinMs ?? 10);
  if (problems.length) throw new Error(`invalid pair configuration: ${problems.join('; ')}`);
}

function itemsKey(items: ItemSpec[]): string {
  return items.map((i) => `${i.id}@${i.samplingIntervalMs}`).join('|');
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

