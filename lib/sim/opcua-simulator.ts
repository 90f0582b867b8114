// The embedded OPC UA simulator: a node-opcua server standing for "an OPC server reading a PLC".
// Two simulators stand for two servers reading ONE PLC, so every value derives from the clock
// (ticks since a shared epoch), never from a server's own start: both show the same counter with
// the same source timestamp, and a lost or duplicated change can be counted exactly.
import type { Socket, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataType,
  type DataValue,
  OPCUACertificateManager,
  OPCUAServer,
  RegisterServerMethod,
  StatusCodes,
  Subscription,
  type UAVariable,
  Variant,
  VariantArrayType,
} from 'node-opcua';

export interface SimulatorOptions {
  port: number;
  host?: string;
  /** applicationName / productName, e.g. 'sim-primary'. */
  name?: string;
  /** Period of Counter, Sine, RandomWalk, Array (ms). */
  counterPeriodMs?: number;
  /** Shared epoch: simulators with equal settings show equal values. */
  epochMs?: number;
  /** Extra variables for benchmarks: ns=1;s=Bulk.00000 … */
  bulkItems?: number;
  bulkPeriodMs?: number;
  /**
   * The bulk items change in this many groups spread evenly over the period (item i in group
   * i % slices), each group stamped with its own change time: changes arrive all the time, as a
   * plant's do, not in one burst per period. 1 (default): all at once.
   */
  bulkSlices?: number;
  /**
   * The fastest publishing interval this server grants (ms). node-opcua's default is 50; a smaller
   * one stands for a server that publishes faster. node-opcua keeps it per process (a class static):
   * it applies to every node-opcua server of the process, so set it only where the simulator runs
   * in a process of its own (SimulatorProcess).
   */
  minPublishingIntervalMs?: number;
  /** Initial ServiceLevel (Server_ServiceLevel, i=2267). */
  serviceLevel?: number;
  /** Graceful stop: shutdown announced (ServerState, SecondsTillShutdown) this long before closing. */
  shutdownDelayMs?: number;
  /** Accounts for user/password logins (anonymous stays allowed). */
  users?: Array<{ user: string; password: string }>;
  /** Further URLs clients reach this server by (a proxy, a NAT): advertised as endpoints too. */
  advertisedUrls?: string[];
  /**
   * This server's clock runs this far ahead of true time (negative: behind), ms. Two real servers
   * never share a clock: it shows in CurrentTime and, with timestamps 'server', in every value.
   */
  clockOffsetMs?: number;
  /**
   * The server reads the PLC this long after each of the PLC's changes (0 ≤ phase < period): two
   * servers never poll in step. Values change on the server at its reads, not at the PLC's ticks.
   */
  samplingPhaseMs?: number;
  /**
   * 'device': values carry the PLC's own change time (equal on two servers reading one PLC);
   * 'server': the server stamps its reads with its own (offset) clock, as most gateways do.
   */
  timestamps?: 'device' | 'server';
}

export const SIM_ITEMS = {
  counter: 'ns=1;s=Simulation.Counter',
  sine: 'ns=1;s=Simulation.Sine',
  randomWalk: 'ns=1;s=Simulation.RandomWalk',
  setpoint: 'ns=1;s=Simulation.Setpoint',
  running: 'ns=1;s=Simulation.Running',
  array: 'ns=1;s=Simulation.Array',
  deviceOk: 'ns=1;s=Simulation.DeviceOk',
} as const;

export const SIM_RESOURCE_PATH = '/UA/Simulator';

/** The endpoint URL of a simulator on host:port (known before it starts, e.g. to put a proxy in front). */
export function simulatorEndpointUrl(port: number, host = '127.0.0.1'): string {
  return `opc.tcp://${host}:${port}${SIM_RESOURCE_PATH}`;
}

export function bulkItemId(i: number): string {
  return `ns=1;s=Bulk.${String(i).padStart(5, '0')}`;
}

/** Deterministic pseudo-random in [0, 1) from an integer (both servers agree). */
function hash01(n: number): number {
  let x = (n | 0) ^ 0x9e3779b9;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

/** A smooth wandering value with no history: value noise between hashed points. */
function randomWalkAt(tick: number): number {
  const scale = 20;
  const i = Math.floor(tick / scale);
  const f = tick / scale - i;
  const s = f * f * (3 - 2 * f);
  const a = hash01(i);
  const b = hash01(i + 1);
  return 50 + 40 * (a + (b - a) * s - 0.5);
}

let sharedCertificateManager: Promise<OPCUACertificateManager> | undefined;
/** One PKI for every simulator of the process, outside the repo, created once. */
function certificateManager(): Promise<OPCUACertificateManager> {
  if (!sharedCertificateManager) {
    const manager = new OPCUACertificateManager({
      rootFolder: join(tmpdir(), 'node-red-contrib-redundancy-pki', 'server'),
      automaticallyAcceptUnknownCertificate: true,
    });
    sharedCertificateManager = manager.initialize().then(() => manager);
  }
  return sharedCertificateManager;
}

export class OpcuaSimulator {
  readonly endpointUrl: string;
  readonly writes: Array<{ item: string; value: unknown; time: number }> = [];
  private readonly opts: Required<Omit<SimulatorOptions, 'users' | 'advertisedUrls'>> & Pick<SimulatorOptions, 'users' | 'advertisedUrls'>;
  private server?: OPCUAServer;
  private timer?: NodeJS.Timeout;
  private bulkTimer?: NodeJS.Timeout;
  private vars: Partial<Record<keyof typeof SIM_ITEMS, UAVariable>> = {};
  private bulk: UAVariable[] = [];
  private setpoint = 0;
  private serviceLevel: number;
  private linkOk = true;
  private frozen = false;
  private stalled = false;
  private sockets = new Set<Socket>();
  private starting?: Promise<void>;
  private lastCounterTick?: number;
  private lastBulkTick?: number;

  constructor(options: SimulatorOptions) {
    this.opts = {
      port: options.port,
      host: options.host ?? '127.0.0.1',
      name: options.name ?? 'redundancy-simulator',
      counterPeriodMs: options.counterPeriodMs ?? 100,
      epochMs: options.epochMs ?? 0,
      bulkItems: options.bulkItems ?? 0,
      bulkPeriodMs: options.bulkPeriodMs ?? options.counterPeriodMs ?? 100,
      bulkSlices: options.bulkSlices ?? 1,
      minPublishingIntervalMs: options.minPublishingIntervalMs ?? Subscription.minimumPublishingInterval,
      serviceLevel: options.serviceLevel ?? 255,
      shutdownDelayMs: options.shutdownDelayMs ?? 1000,
      users: options.users,
      advertisedUrls: options.advertisedUrls,
      clockOffsetMs: options.clockOffsetMs ?? 0,
      samplingPhaseMs: options.samplingPhaseMs ?? 0,
      timestamps: options.timestamps ?? 'device',
    };
    if (!Number.isFinite(this.opts.clockOffsetMs)) throw new Error(`clock offset must be a number of ms (got ${options.clockOffsetMs})`);
    if (!(this.opts.samplingPhaseMs >= 0 && this.opts.samplingPhaseMs < this.opts.counterPeriodMs)) throw new Error(`sampling phase must be 0 ≤ phase < counter period ${this.opts.counterPeriodMs} ms (got ${options.samplingPhaseMs})`);
    if (this.opts.timestamps !== 'device' && this.opts.timestamps !== 'server') throw new Error(`timestamps must be 'device' or 'server' (got ${String(options.timestamps)})`);
    if (!Number.isInteger(this.opts.port) || this.opts.port < 1 || this.opts.port > 65535) throw new Error(`simulator port must be 1..65535 (got ${options.port})`);
    if (!(this.opts.counterPeriodMs >= 10)) throw new Error(`counter period must be ≥ 10 ms (got ${options.counterPeriodMs})`);
    if (!(Number.isInteger(this.opts.bulkSlices) && this.opts.bulkSlices >= 1 && this.opts.bulkPeriodMs / this.opts.bulkSlices >= 1)) throw new Error(`bulk slices must be an integer from 1 to the bulk period in ms (got ${options.bulkSlices})`);
    if (!(this.opts.minPublishingIntervalMs >= 1)) throw new Error(`minimum publishing interval must be ≥ 1 ms (got ${options.minPublishingIntervalMs})`);
    this.serviceLevel = this.opts.serviceLevel;
    this.endpointUrl = simulatorEndpointUrl(this.opts.port, this.opts.host);
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get isStalled(): boolean {
    return this.stalled;
  }

  get isLinkOk(): boolean {
    return this.linkOk;
  }

  getSetpoint(): number {
    return this.setpoint;
  }

  getServiceLevel(): number {
    return this.serviceLevel;
  }

  async start(): Promise<void> {
    if (this.server) return;
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const users = this.opts.users ?? [];
    const serverCertificateManager = await certificateManager();
    if (this.opts.minPublishingIntervalMs !== Subscription.minimumPublishingInterval) Subscription.minimumPublishingInterval = this.opts.minPublishingIntervalMs;
    const server = new OPCUAServer({
      port: this.opts.port,
      hostname: this.opts.host,
      // Its certificate names the address it is reached by (an IP literal is not a host name).
      alternateHostname: [this.opts.host],
      resourcePath: SIM_RESOURCE_PATH,
      buildInfo: { productName: this.opts.name, productUri: `urn:${this.opts.name}`, manufacturerName: 'node-red-contrib-redundancy', softwareVersion: '1.0' },
      serverInfo: { applicationName: { text: this.opts.name }, applicationUri: 'urn:node-red-contrib-redundancy:simulator' },
      serverCertificateManager,
      registerServerMethod: RegisterServerMethod.HIDDEN,
      allowAnonymous: true,
      maxConnectionsPerEndpoint: 100,
      userManager: { isValidUser: (user: string, password: string) => users.some((u) => u.user === user && u.password === password) },
      // MinSupportedSampleRate 0: an item asked for with sampling interval 0 gets every change. With
      // node-opcua's default (its minimum sampling interval) changes inside a window are folded, so
      // a counter caught up after a late timer (a busy machine) would show holes the PLC never had.
      serverCapabilities: { maxSessions: 100, minSupportedSampleRate: 0 } as never,
      ...(this.opts.advertisedUrls?.length ? { advertisedEndpoints: this.opts.advertisedUrls } : {}),
    });
    await server.initialize();
    // The PKI is shared by every simulator on the machine: a certificate made for another address
    // is made again once, so that clients checking host names accept it.
    if (server.checkCertificateSAN().length > 0) await server.regenerateSelfSignedCertificate();
    this.buildAddressSpace(server);
    await server.start();
    // Track sockets so that stall() can stop answering without closing anything.
    const net = (server.endpoints[0] as unknown as { _server?: NetServer })._server;
    net?.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      if (this.stalled) socket.pause();
    });
    this.server = server;
    this.tick();
    this.bulkTick();
  }

  /**
   * Stops the server. graceful: the shutdown is announced first (ServerState = Shutdown,
   * SecondsTillShutdown) so clients can switch bumplessly; otherwise connections just drop.
   */
  async stop(graceful = false): Promise<void> {
    if (this.starting) await this.starting.catch(() => undefined);
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    clearTimeout(this.timer);
    clearTimeout(this.bulkTimer);
    this.timer = undefined;
    this.bulkTimer = undefined;
    if (!graceful) {
      // An abrupt stop: sockets first, as a crashing process would drop them.
      for (const s of this.sockets) s.destroy();
    }
    this.sockets.clear();
    await new Promise<void>((resolve) => server.shutdown(graceful ? this.opts.shutdownDelayMs : 0, () => resolve()));
    this.vars = {};
    this.bulk = [];
    this.lastCounterTick = undefined;
    this.lastBulkTick = undefined;
  }

  /**
   * Monitored items on this server's nodes by node id (every session and subscription): what a
   * gateway in front of it costs, counted where it is spent.
   */
  monitoredItemCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const sessions = (this.server?.engine as unknown as { _sessions?: Record<string, { publishEngine?: { subscriptions: Array<{ monitoredItems: Map<number, { itemToMonitor: { nodeId: { toString(): string } } }> }> } }> })?._sessions ?? {};
    for (const session of Object.values(sessions)) {
      for (const sub of session.publishEngine?.subscriptions ?? []) {
        for (const m of sub.monitoredItems.values()) {
          const id = m.itemToMonitor.nodeId.toString();
          counts[id] = (counts[id] ?? 0) + 1;
        }
      }
    }
    return counts;
  }

  setServiceLevel(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level > 255) throw new Error(`ServiceLevel must be an integer 0..255 (got ${level})`);
    this.serviceLevel = level;
  }

  /** false: the server's device link is lost: values freeze and go BadNoCommunication. */
  setLinkOk(ok: boolean): void {
    this.linkOk = ok;
    this.lastCounterTick = undefined;
    this.vars.deviceOk?.setValueFromSource(new Variant({ dataType: DataType.Boolean, value: ok }), StatusCodes.Good, new Date());
    if (!ok) {
      const now = new Date();
      for (const key of ['counter', 'sine', 'randomWalk', 'array'] as const) {
        const v = this.vars[key];
        if (v) v.setValueFromSource(v.readValue().value, StatusCodes.BadNoCommunication, now);
      }
    }
  }

  /** Values stop updating but stay Good: stale data. */
  freeze(on: boolean): void {
    this.frozen = on;
    this.lastCounterTick = undefined;
  }

  /** The server stops answering (its sockets stop being read) but keeps connections open. */
  stall(on: boolean): void {
    this.stalled = on;
    for (const s of this.sockets) {
      if (on) s.pause();
      else s.resume();
    }
  }

  private buildAddressSpace(server: OPCUAServer): void {
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('simulator: no address space');
    const ns = addressSpace.getOwnNamespace();
    const folder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Simulation', nodeId: 's=Simulation' });
    const add = (key: keyof typeof SIM_ITEMS, browseName: string, dataType: DataType, value: unknown, arrayType?: VariantArrayType, writable = false) => {
      const v = ns.addVariable({
        componentOf: folder,
        browseName,
        nodeId: SIM_ITEMS[key].replace('ns=1;', ''),
        dataType: DataType[dataType],
        valueRank: arrayType ? 1 : -1,
        minimumSamplingInterval: 0,
        accessLevel: writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead',
        userAccessLevel: writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead',
      });
      v.setValueFromSource(new Variant({ dataType, value, arrayType }), StatusCodes.Good, new Date());
      this.vars[key] = v;
      return v;
    };
    add('counter', 'Counter', DataType.UInt32, 0);
    add('sine', 'Sine', DataType.Double, 0);
    add('randomWalk', 'RandomWalk', DataType.Double, 50);
    add('array', 'Array', DataType.Double, new Float64Array(4), VariantArrayType.Array);
    add('running', 'Running', DataType.Boolean, true);
    add('deviceOk', 'DeviceOk', DataType.Boolean, this.linkOk);
    const setpoint = add('setpoint', 'Setpoint', DataType.Double, this.setpoint, undefined, true);
    // Record every write, to prove where writes landed.
    const original = setpoint.writeValue.bind(setpoint) as (...args: unknown[]) => unknown;
    (setpoint as unknown as { writeValue: (...args: unknown[]) => unknown }).writeValue = (...args: unknown[]) => {
      const dataValue = args[1] as DataValue;
      const value = dataValue?.value?.value;
      this.setpoint = Number(value);
      this.writes.push({ item: SIM_ITEMS.setpoint, value, time: Date.now() });
      return original(...args);
    };

    if (this.opts.bulkItems > 0) {
      const bulkFolder = ns.addFolder(addressSpace.rootFolder.objects, { browseName: 'Bulk', nodeId: 's=Bulk' });
      for (let i = 0; i < this.opts.bulkItems; i++) {
        const v = ns.addVariable({ componentOf: bulkFolder, browseName: `Bulk.${String(i).padStart(5, '0')}`, nodeId: bulkItemId(i).replace('ns=1;', ''), dataType: 'Double', minimumSamplingInterval: 0 });
        v.setValueFromSource(new Variant({ dataType: DataType.Double, value: 0 }), StatusCodes.Good, new Date(this.opts.epochMs));
        this.bulk.push(v);
      }
    }

    const serviceLevel = addressSpace.findNode('i=2267') as UAVariable | null;
    serviceLevel?.bindVariable({ get: () => new Variant({ dataType: DataType.Byte, value: this.serviceLevel }) }, true);
    if (this.opts.clockOffsetMs !== 0) {
      // The server's own clock (what a ping's CurrentTime read shows). node-opcua serves
      // ServerStatus (and its CurrentTime) from an extension object behind a proxy: wrap it.
      const status = addressSpace.findNode('i=2256') as unknown as { $extensionObject?: object } | null;
      const inner = status?.$extensionObject as Record<string | symbol, unknown> | undefined;
      if (status && inner) {
        const offset = this.opts.clockOffsetMs;
        status.$extensionObject = new Proxy(inner, { get: (target, prop) => (prop === 'currentTime' ? new Date((target.currentTime as Date).getTime() + offset) : target[prop]) });
      }
    }
  }

  private tickOf(periodMs: number, now = Date.now()): number {
    return Math.floor((now - this.opts.epochMs) / periodMs);
  }

  /** Timers aligned to period boundaries (plus the sampling phase), not a drifting setInterval. */
  private schedule(periodMs: number, fn: () => void): NodeJS.Timeout {
    const now = Date.now() - this.opts.samplingPhaseMs;
    const next = this.opts.epochMs + (this.tickOf(periodMs, now) + 1) * periodMs + this.opts.samplingPhaseMs;
    const t = setTimeout(fn, Math.max(1, next - now));
    t.unref?.();
    return t;
  }

  /**
   * The timestamp of the value of PLC tick `k`: the PLC's change time ('device'), or the time this
   * server read it on its own clock ('server').
   */
  private stamp(k: number, period: number): Date {
    const change = this.opts.epochMs + k * period;
    return new Date(this.opts.timestamps === 'device' ? change : change + this.opts.samplingPhaseMs + this.opts.clockOffsetMs);
  }

  private tick = (): void => {
    if (!this.server) return;
    const period = this.opts.counterPeriodMs;
    // The PLC's value at this read: its ticks happen on true time; this server reads them late by its phase.
    const n = this.tickOf(period, Date.now() - this.opts.samplingPhaseMs);
    if (this.linkOk && !this.frozen) {
      const ts = this.stamp(n, period);
      const set = (key: keyof typeof SIM_ITEMS, dataType: DataType, value: unknown, arrayType?: VariantArrayType) =>
        this.vars[key]?.setValueFromSource(new Variant({ dataType, value, arrayType }), StatusCodes.Good, ts);
      // A late timer must not make the counter skip: every tick since the last one is a change
      // of its own, with its own timestamp, as the PLC counted it (capped after a long freeze).
      const from = this.lastCounterTick === undefined ? n : Math.max(this.lastCounterTick + 1, n - 50);
      for (let k = from; k <= n; k++) {
        this.vars.counter?.setValueFromSource(new Variant({ dataType: DataType.UInt32, value: k >>> 0 }), StatusCodes.Good, this.stamp(k, period));
      }
      this.lastCounterTick = n;
      const phase = (2 * Math.PI * n) / 100;
      set('sine', DataType.Double, Math.round(Math.sin(phase) * 1e6) / 1e6);
      set('randomWalk', DataType.Double, Math.round(randomWalkAt(n) * 1e4) / 1e4);
      set('array', DataType.Double, Float64Array.from([Math.sin(phase), Math.cos(phase), n % 10, Math.floor(n / 10)]), VariantArrayType.Array);
    }
    this.timer = this.schedule(period, this.tick);
  };

  /**
   * One group of bulk items changes per sub-period (period / slices): item i holds n + i at PLC tick
   * n, so a client can tell which tick a value belongs to. A late timer skips nothing: every
   * sub-period since the last one changes, each with its own timestamp (capped after a long freeze).
   */
  private bulkTick = (): void => {
    if (!this.server || this.bulk.length === 0) return;
    const slices = this.opts.bulkSlices;
    const step = this.opts.bulkPeriodMs / slices;
    const m = this.tickOf(step, Date.now() - this.opts.samplingPhaseMs);
    if (this.linkOk && !this.frozen) {
      const from = this.lastBulkTick === undefined ? m : Math.max(this.lastBulkTick + 1, m - 50 * slices);
      for (let k = from; k <= m; k++) {
        const n = Math.floor(k / slices);
        const ts = this.stamp(k, step);
        for (let i = k - n * slices; i < this.bulk.length; i += slices) {
          this.bulk[i].setValueFromSource(new Variant({ dataType: DataType.Double, value: n + i }), StatusCodes.Good, ts);
        }
      }
      this.lastBulkTick = m;
    }
    this.bulkTimer = this.schedule(step, this.bulkTick);
  };
}
