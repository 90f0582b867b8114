// OPC UA driver on node-opcua: one endpoint, driven by the pair engine. It never retries or
// decides anything itself (node-opcua's own reconnection is off): it reports a lost connection at
// once, answers pings within the engine's timeout, and adds, removes and switches monitored items
// in batches with the raw services (so one item can go without touching the others), reporting what
// the server granted (revised sampling and publishing intervals, queue sizes).
import {
  AttributeIds,
  type ClientSession,
  type ClientSessionRawSubscriptionService,
  type ClientSubscription,
  DataType,
  type DataValue,
  MessageSecurityMode,
  type ModifyMonitoredItemsRequestLike,
  type ModifyMonitoredItemsResponse,
  MonitoringMode,
  type NotificationMessage,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type UserIdentityInfo,
  Variant,
  VariantArrayType,
} from 'node-opcua';
import { realClock, withTimeout } from '../core/clock';
import {
  type BrowseEntry,
  type ChannelDriver,
  type DataChange,
  type DriverCapabilities,
  DriverError,
  type DriverFactory,
  type DriverListener,
  type GrantedItem,
  type ItemDescription,
  type ItemError,
  type ItemSpec,
  type ItemsResult,
  type MonitoringState,
  type PingResult,
  type Quality,
} from '../core/driver';
import { browseChildren, describeNodes } from './opcua-browse';
import { hasNamespaceUri, readNamespaceArray, resolveWith } from './opcua-nodeid';
import { certificateRefusal, certificateVerdict, checkingCertificateManager, clientCertificateManager } from './opcua-pki';
import { checkNodeId, checkOpcuaEndpoint, checkSecurity } from '../rules/opcua';
import { checkUser } from '../rules/pair';

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt';
export type SecurityPolicyName = 'None' | 'Basic128Rsa15' | 'Basic256' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';

export interface OpcuaDriverOptions {
  endpointUrl: string;
  securityMode?: SecurityModeName;
  securityPolicy?: SecurityPolicyName;
  /** Anonymous when empty. */
  userName?: string;
  password?: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Names this client's sessions on the server (what an operator sees in its diagnostics). */
  sessionName?: string;
  /**
   * The Node-RED user dir: the client certificate and trust lists live in
   * <userDir>/node-red-contrib-redundancy/pki/client (lib/drivers/opcua-pki.ts). Default: Node-RED's
   * own default, ~/.node-red (lib/core/user-dir.ts).
   */
  userDir?: string;
  /** Commissioning: accept a server certificate that is not trusted (it is not stored as trusted). */
  acceptUnknownCertificates?: boolean;
}

export const OPCUA_CAPABILITIES: DriverCapabilities = { delivery: 'subscription', timestamps: 'source', serviceLevel: true, sampling: true, browse: true };

/** Monitored items per CreateMonitoredItems / DeleteMonitoredItems / SetMonitoringMode request. */
const BATCH = 1000;
const SERVER_STATE = 'i=2259';
const CURRENT_TIME = 'i=2258';
const SERVICE_LEVEL = 'i=2267';
/** The client handle of the ServerState item (items count from FIRST_HANDLE). */
const SERVER_STATE_HANDLE = 1;
const FIRST_HANDLE = 100;
/**
 * The publishing interval asked for when an item wants every change (sampling 0): the smallest
 * there is, so the server revises it to the fastest it grants (node-opcua: 50 ms; others less).
 * A change then waits for the server's next publish at most that long. (0 cannot be asked for:
 * node-opcua's client turns a requested 0 into 100.)
 */
const FASTEST_PUBLISHING_MS = 1;
/** The fastest publishing most servers grant (node-opcua's default): see ensureSubscription. */
const ASSUMED_FASTEST_MS = 50;

/** The shared rule (lib/rules/opcua): IPv6 in brackets, ports 1–65535, a message that explains. */
export function validateEndpointUrl(url: string): string | undefined {
  return checkOpcuaEndpoint(url);
}

/** The shared rule (lib/rules/opcua): ns=, nsu= (resolved per server on connect), i/s/g/b. */
export function validateNodeId(id: string): string | undefined {
  return checkNodeId(id);
}

/** JS value of a node-opcua Variant: typed arrays to arrays, 64-bit integers to numbers. */
export function variantValue(v: Variant | undefined): unknown {
  if (!v) return undefined;
  const value = v.value as unknown;
  if (v.dataType === DataType.Int64 || v.dataType === DataType.UInt64) {
    const toNumber = (x: unknown) => (Array.isArray(x) && x.length === 2 ? x[0] * 4294967296 + x[1] : x);
    return v.arrayType === VariantArrayType.Scalar ? toNumber(value) : (value as unknown[]).map(toNumber);
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Status code names by value: the name lookup is not free, and 10 000 changes/s repeat a few. */
const statusNames = new Map<number, { name: string; good: boolean; quality: Quality }>();
function statusOf(sc: { value: number; name: string; isGood(): boolean; isBad(): boolean }): { name: string; good: boolean; quality: Quality } {
  let s = statusNames.get(sc.value);
  if (!s) {
    const good = sc.isGood();
    s = { name: sc.name, good, quality: good ? 'good' : sc.isBad() ? 'bad' : 'uncertain' };
    statusNames.set(sc.value, s);
  }
  return s;
}

function toChange(item: string, dv: DataValue, key?: number): DataChange {
  const status = statusOf(dv.statusCode ?? StatusCodes.Good);
  return {
    item,
    value: variantValue(dv.value),
    statusCode: status.name,
    good: status.good,
    quality: status.quality,
    sourceTimestamp: dv.sourceTimestamp ? dv.sourceTimestamp.getTime() : undefined,
    serverTimestamp: dv.serverTimestamp ? dv.serverTimestamp.getTime() : undefined,
    // The fields the pair stamps on delivery, present from the start: one object shape all the way
    // (adding them later would change each object's hidden class on the hot path).
    server: undefined,
    channel: undefined,
    key,
    name: undefined,
  } as DataChange;
}

const NUMERIC_TYPES = new Set([DataType.SByte, DataType.Byte, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32, DataType.Float, DataType.Double, DataType.Int64, DataType.UInt64]);

/** Coerces a value from a flow message to the variable's data type, with a clear error. */
export function coerceForWrite(item: string, value: unknown, dataType: DataType, isArray: boolean): Variant {
  const mismatch = (text: string) => new DriverError(`write to ${item}: ${text}`, 'BadTypeMismatch');
  const one = (v: unknown): unknown => {
    if (dataType === DataType.Boolean) {
      if (typeof v === 'boolean') return v;
      if (v === 1 || v === 0) return v === 1;
      if (v === 'true' || v === 'false') return v === 'true';
      throw mismatch(`${JSON.stringify(v)} is not a Boolean`);
    }
    if (NUMERIC_TYPES.has(dataType)) {
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof n === 'boolean') return n ? 1 : 0;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw mismatch(`${JSON.stringify(v)} is not a number (${DataType[dataType]})`);
      if (dataType !== DataType.Float && dataType !== DataType.Double && !Number.isInteger(n)) throw mismatch(`${n} is not an integer (${DataType[dataType]})`);
      return n;
    }
    if (dataType === DataType.String) return typeof v === 'string' ? v : JSON.stringify(v);
    if (dataType === DataType.DateTime) return v instanceof Date ? v : new Date(v as string | number);
    return v;
  };
  if (isArray) {
    if (!Array.isArray(value)) throw mismatch('an array is expected');
    return new Variant({ dataType, arrayType: VariantArrayType.Array, value: value.map(one) });
  }
  return new Variant({ dataType, value: one(value) });
}

const MODES: Record<MonitoringState, MonitoringMode> = { reporting: MonitoringMode.Reporting, sampling: MonitoringMode.Sampling, disabled: MonitoringMode.Disabled };

interface Monitored {
  spec: ItemSpec;
  handle: number;
  serverId: number;
}

/**
 * The publishing interval a subscription of these items asks for: its fastest item's sampling
 * interval (a sampled change waits for the next publish at most one sampling interval), the
 * fastest the server grants when an item wants every change (sampling 0); undefined: no item.
 */
export function wantedPublishing(monitored: Iterable<{ spec: ItemSpec }>, more: ItemSpec[] = []): number | undefined {
  let fastest = Infinity;
  for (const m of monitored) fastest = Math.min(fastest, m.spec.samplingIntervalMs);
  for (const it of more) fastest = Math.min(fastest, it.samplingIntervalMs);
  if (Number.isNaN(fastest) || fastest === Infinity) return undefined;
  return Math.max(FASTEST_PUBLISHING_MS, fastest);
}

/** One connection: client, session, subscription and the monitored items on it. */
interface Connection {
  client: OPCUAClient;
  session: ClientSession;
  subscription?: ClientSubscription;
  publishingIntervalMs: number;
  /** The publishing interval last asked for (the server may have revised it: publishingIntervalMs). */
  requestedPublishingMs?: number;
  /** Monitored items by id. */
  items: Map<string, Monitored>;
  /** Item id and the engine's key, by client handle. */
  byHandle: Map<number, { id: string; key?: number }>;
  nextHandle: number;
  lost: boolean;
  closing: boolean;
  /** The server's NamespaceArray, read once when a node id names its namespace by URI. */
  namespaces?: string[];
}

/** The raw subscription services: node-opcua implements them on every session but types them apart. */
function raw(session: ClientSession): ClientSession & ClientSessionRawSubscriptionService {
  return session as ClientSession & ClientSessionRawSubscriptionService;
}

function check(status: { isGood(): boolean; name: string } | undefined, what: string): void {
  if (status && !status.isGood()) throw new DriverError(`${what}: ${status.name}`, status.name);
}

export class OpcuaDriver implements ChannelDriver {
  readonly endpoint: string;
  readonly capabilities = OPCUA_CAPABILITIES;
  private listener?: DriverListener;
  private conn?: Connection;
  private dataTypes = new Map<string, { dataType: DataType; isArray: boolean }>();

  constructor(private readonly opts: OpcuaDriverOptions) {
    const err = validateEndpointUrl(opts.endpointUrl);
    if (err) throw new Error(err);
    this.endpoint = opts.endpointUrl;
  }

  attach(listener: DriverListener): void {
    this.listener = listener;
  }

  /** Socket-level inactivity limit: a silent link is dropped within ping interval + timeout. */
  private get transportTimeoutMs(): number {
    return Math.max(2000, this.opts.pingIntervalMs + this.opts.pingTimeoutMs);
  }

  /** Requests (other than pings) get more room: creating 10 000 items takes a while. */
  private get requestTimeoutMs(): number {
    return Math.max(15_000, 4 * this.transportTimeoutMs);
  }

  private get connectTimeoutMs(): number {
    return Math.max(3000, 2 * this.opts.pingTimeoutMs + 1000);
  }

  async connect(): Promise<void> {
    if (this.conn) await this.disconnect();
    const securityMode = MessageSecurityMode[this.opts.securityMode ?? 'None'];
    const securityPolicy = SecurityPolicy[this.opts.securityPolicy ?? 'None'];
    const client = OPCUAClient.create({
      // One application (and so one ApplicationUri) for every client of the package: the client
      // certificate is made once for it, and a per-pair URI would not match it (NODE-OPCUA-W06).
      applicationName: 'node-red-contrib-redundancy',
      clientName: this.opts.sessionName ?? 'node-red-contrib-redundancy',
      endpointMustExist: false,
      securityMode,
      securityPolicy,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      keepSessionAlive: false,
      requestedSessionTimeout: Math.max(20_000, 10 * this.transportTimeoutMs),
      transportTimeout: this.transportTimeoutMs,
      defaultTransactionTimeout: this.requestTimeoutMs,
      clientCertificateManager:
        securityMode === MessageSecurityMode.None
          ? undefined
          : checkingCertificateManager(await clientCertificateManager(this.opts.userDir), this.endpoint, this.opts.acceptUnknownCertificates === true),
    });
    let session: ClientSession | undefined;
    const attempt = (async () => {
      await client.connect(this.opts.endpointUrl);
      const identity: UserIdentityInfo = this.opts.userName
        ? { type: UserTokenType.UserName, userName: this.opts.userName, password: this.opts.password ?? '' }
        : { type: UserTokenType.Anonymous };
      session = await client.createSession(identity);
    })();
    try {
      await withTimeout(realClock, attempt, this.connectTimeoutMs, `no answer from ${this.endpoint} within ${this.connectTimeoutMs} ms`);
    } catch (err) {
      attempt.catch(() => undefined);
      await this.forceClose(client);
      const verdict = certificateVerdict(this.endpoint);
      if (verdict && !verdict.accepted && /certificate/i.test(err instanceof Error ? err.message : String(err))) throw new Error(certificateRefusal(verdict, this.opts.userDir));
      throw new Error(describeConnectError(err, this.endpoint));
    }
    if (!session) throw new Error(`no session on ${this.endpoint}`);
    const conn: Connection = { client, session, items: new Map(), byHandle: new Map(), nextHandle: FIRST_HANDLE, publishingIntervalMs: 0, lost: false, closing: false };
    this.conn = conn;
    const lost = (reason: string, graceful = false) => this.reportLost(conn, reason, graceful);
    client.on('connection_lost', () => lost('socket closed'));
    client.on('close', (err?: Error | null) => lost(err ? `socket closed (${err.message})` : 'socket closed'));
    client.on('start_reconnection', () => lost('secure channel broken'));
    session.on('session_closed', (status: { name?: string }) => lost(`session closed by the server (${status?.name ?? 'unknown'})`));
  }

  private reportLost(conn: Connection, reason: string, graceful: boolean): void {
    if (conn.lost || conn.closing || this.conn !== conn) return;
    conn.lost = true;
    this.listener?.lost(reason, graceful);
  }

  async disconnect(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (!conn) return;
    conn.closing = true;
    // A polite close, bounded: on a dead link the answers never come.
    const limit = Math.min(1000, this.opts.pingTimeoutMs + 200);
    if (!conn.lost) {
      await withTimeout(
        realClock,
        (async () => {
          await conn.subscription?.terminate().catch(() => undefined);
          await conn.session.close(true).catch(() => undefined);
        })(),
        limit,
        'close timeout',
      ).catch(() => undefined);
    }
    await this.forceClose(conn.client);
  }

  private async forceClose(client: OPCUAClient): Promise<void> {
    await withTimeout(realClock, client.disconnect(), 1000, 'disconnect timeout').catch(() => {
      // The transport did not close in time: destroy its socket.
      const channel = (client as unknown as { _secureChannel?: { _transport?: { _socket?: { destroy(): void } } } })._secureChannel;
      channel?._transport?._socket?.destroy();
    });
  }

  async ping(timeoutMs: number): Promise<PingResult> {
    const conn = this.requireConnection();
    const read = conn.session.read([
      { nodeId: CURRENT_TIME, attributeId: AttributeIds.Value },
      { nodeId: SERVICE_LEVEL, attributeId: AttributeIds.Value },
    ]);
    const [time, level] = await withTimeout(realClock, read, timeoutMs, `ping timeout after ${timeoutMs} ms`);
    if (!time.statusCode.isGood()) throw new Error(`ping: CurrentTime unreadable (${time.statusCode.name})`);
    const serviceLevel = level.statusCode.isGood() && typeof level.value?.value === 'number' ? (level.value.value as number) : undefined;
    const serverTime = time.value?.value instanceof Date ? (time.value.value as Date).getTime() : undefined;
    return { serviceLevel, serverTime };
  }

  // ---------------------------------------------------------------- items

  async addItems(items: ItemSpec[], state: MonitoringState, queueSize = 1): Promise<ItemsResult> {
    const conn = this.requireConnection();
    const errors: ItemError[] = [];
    const granted: GrantedItem[] = [];
    await this.ensureSubscription(conn, wantedPublishing(conn.items.values(), items) ?? 1000);
    const subscription = conn.subscription as ClientSubscription;
    const valid: ItemSpec[] = [];
    for (const it of items) {
      const err = conn.items.has(it.id) ? `${it.id} is already monitored` : validateNodeId(it.id);
      if (err) errors.push({ id: it.id, error: err, statusCode: 'BadNodeIdInvalid' });
      else valid.push(it);
    }
    const resolved = await this.resolveIds(conn, valid.map((it) => it.id));
    const usable = valid.filter((it) => {
      const r = resolved.get(it.id);
      if (r instanceof Error) errors.push({ id: it.id, error: r.message, statusCode: 'BadNodeIdUnknown' });
      return !(r instanceof Error);
    });
    for (let i = 0; i < usable.length; i += BATCH) {
      const batch = usable.slice(i, i + BATCH);
      const handles = batch.map(() => conn.nextHandle++);
      const response = await raw(conn.session).createMonitoredItems({
        subscriptionId: subscription.subscriptionId,
        timestampsToReturn: TimestampsToReturn.Both,
        itemsToCreate: batch.map((it, k) => ({
          itemToMonitor: { nodeId: String(resolved.get(it.id) ?? it.id), attributeId: AttributeIds.Value },
          monitoringMode: MODES[state],
          requestedParameters: { clientHandle: handles[k], samplingInterval: it.samplingIntervalMs, queueSize: Math.max(1, queueSize), discardOldest: true },
        })),
      });
      if (this.conn !== conn) throw new Error('connection closed while creating items');
      check(response.responseHeader.serviceResult, 'CreateMonitoredItems');
      const results = response.results ?? [];
      batch.forEach((it, k) => {
        const r = results[k];
        if (!r || !r.statusCode.isGood()) {
          errors.push({ id: it.id, error: r ? r.statusCode.name : 'no result', statusCode: r?.statusCode.name });
          return;
        }
        conn.items.set(it.id, { spec: it, handle: handles[k], serverId: r.monitoredItemId });
        conn.byHandle.set(handles[k], { id: it.id, key: it.key });
        granted.push({ id: it.id, samplingIntervalMs: r.revisedSamplingInterval, queueSize: r.revisedQueueSize });
      });
    }
    return { granted, errors, publishingIntervalMs: conn.publishingIntervalMs };
  }

  async removeItems(ids: string[]): Promise<void> {
    const conn = this.requireConnection();
    const gone = ids.map((id) => conn.items.get(id)).filter((m): m is Monitored => m !== undefined);
    for (const m of gone) {
      conn.items.delete(m.spec.id);
      conn.byHandle.delete(m.handle);
    }
    if (!conn.subscription || gone.length === 0) return;
    for (let i = 0; i < gone.length; i += BATCH) {
      const response = await raw(conn.session).deleteMonitoredItems({ subscriptionId: conn.subscription.subscriptionId, monitoredItemIds: gone.slice(i, i + BATCH).map((m) => m.serverId) });
      check(response.responseHeader.serviceResult, 'DeleteMonitoredItems');
    }
    // The subscription runs as fast as its fastest item: slower once the fast ones are gone.
    const wanted = wantedPublishing(conn.items.values());
    if (wanted !== undefined) await this.ensureSubscription(conn, wanted);
  }

  async setMonitoring(state: MonitoringState, queueSize = 1): Promise<void> {
    const conn = this.requireConnection();
    if (!conn.subscription) return;
    const all = [...conn.items.values()];
    const subscriptionId = conn.subscription.subscriptionId;
    const batches: Monitored[][] = [];
    for (let i = 0; i < all.length; i += BATCH) batches.push(all.slice(i, i + BATCH));
    if (state === 'sampling' && queueSize > 1) {
      // The queue must hold the longest outage the pair bridges.
      await Promise.all(
        batches.map(async (b) => {
          const r: ModifyMonitoredItemsResponse = await (raw(conn.session).modifyMonitoredItems as (req: ModifyMonitoredItemsRequestLike) => Promise<ModifyMonitoredItemsResponse>)({
            subscriptionId,
            timestampsToReturn: TimestampsToReturn.Both,
            itemsToModify: b.map((m) => ({ monitoredItemId: m.serverId, requestedParameters: { clientHandle: m.handle, samplingInterval: m.spec.samplingIntervalMs, queueSize, discardOldest: true } })),
          });
          check(r.responseHeader.serviceResult, 'ModifyMonitoredItems');
        }),
      );
    }
    await Promise.all(
      batches.map(async (b) => {
        const r = await raw(conn.session).setMonitoringMode({ subscriptionId, monitoringMode: MODES[state], monitoredItemIds: b.map((m) => m.serverId) });
        check(r.responseHeader.serviceResult, 'SetMonitoringMode');
      }),
    );
  }

  /**
   * A subscription publishing at `publishingMs` (created, or modified in place: no item is lost).
   * Keep-alive and lifetime counts are made for the interval the server will likely grant (no
   * faster than ASSUMED_FASTEST_MS) and made again when it granted another: counts made for 1 ms
   * and a grant of 50 would space keep-alives 50 times too far apart, and node-opcua's client
   * throws from inside its callback on creation (the creation never settles) when the granted
   * interval × keep-alive count exceed the session timeout.
   */
  private async ensureSubscription(conn: Connection, publishingMs: number): Promise<void> {
    const assumed = Math.max(ASSUMED_FASTEST_MS, publishingMs);
    if (conn.subscription) {
      if (publishingMs === conn.requestedPublishingMs) return;
      conn.requestedPublishingMs = publishingMs;
      await this.sendModify(conn, publishingMs, assumed);
      await this.fitCounts(conn, assumed);
      return;
    }
    const subscription = await conn.session.createSubscription2({
      requestedPublishingInterval: publishingMs,
      requestedMaxKeepAliveCount: this.keepAliveCount(assumed),
      requestedLifetimeCount: this.lifetimeCount(assumed),
      maxNotificationsPerPublish: 0,
      publishingEnabled: true,
      priority: 10,
    });
    conn.subscription = subscription;
    conn.requestedPublishingMs = publishingMs;
    conn.publishingIntervalMs = subscription.publishingInterval;
    // Data is taken from the raw NotificationMessage (one call per publish with all its changes);
    // node-opcua's own per-item dispatch would look up and notify each item a second time.
    (subscription as unknown as { __on_publish_response_DataChangeNotification: () => void }).__on_publish_response_DataChangeNotification = () => undefined;
    subscription.on('raw_notification', (msg: NotificationMessage) => this.onNotification(conn, msg));
    subscription.on('terminated', () => this.reportLost(conn, 'subscription terminated by the server', false));
    await this.fitCounts(conn, assumed);
    // The server's own state: anything but Running(0) announces a shutdown (bumpless switch).
    const r = await raw(conn.session).createMonitoredItems({
      subscriptionId: subscription.subscriptionId,
      timestampsToReturn: TimestampsToReturn.Neither,
      itemsToCreate: [{ itemToMonitor: { nodeId: SERVER_STATE, attributeId: AttributeIds.Value }, monitoringMode: MonitoringMode.Reporting, requestedParameters: { clientHandle: SERVER_STATE_HANDLE, samplingInterval: 0, queueSize: 1, discardOldest: true } }],
    });
    check(r.responseHeader.serviceResult, 'CreateMonitoredItems (ServerState)');
  }

  /** The counts were made for `assumed`: made again for the interval granted when they differ. */
  private async fitCounts(conn: Connection, assumed: number): Promise<void> {
    const granted = conn.publishingIntervalMs;
    if (!(granted > 0) || (this.keepAliveCount(granted) === this.keepAliveCount(assumed) && this.lifetimeCount(granted) === this.lifetimeCount(assumed))) return;
    await this.sendModify(conn, granted, granted);
  }

  private async sendModify(conn: Connection, publishingMs: number, countsFor: number): Promise<void> {
    const response = await raw(conn.session).modifySubscription({
      subscriptionId: (conn.subscription as ClientSubscription).subscriptionId,
      requestedPublishingInterval: publishingMs,
      requestedMaxKeepAliveCount: this.keepAliveCount(countsFor),
      requestedLifetimeCount: this.lifetimeCount(countsFor),
      maxNotificationsPerPublish: 0,
      priority: 10,
    });
    check(response.responseHeader.serviceResult, 'ModifySubscription');
    conn.publishingIntervalMs = response.revisedPublishingInterval;
  }

  /** Keep-alives at least every ping interval, so a silent subscription is telling. */
  private keepAliveCount(publishingMs: number): number {
    return Math.max(2, Math.ceil(this.opts.pingIntervalMs / publishingMs));
  }

  private lifetimeCount(publishingMs: number): number {
    return Math.max(this.keepAliveCount(publishingMs) * 10, Math.ceil(60_000 / publishingMs));
  }

  // ---------------------------------------------------------------- reads and writes

  async read(items: string[]): Promise<DataChange[]> {
    const conn = this.requireConnection();
    const resolved = await this.resolveIds(conn, items);
    const nodeIds = items.map((id) => {
      const r = resolved.get(id) ?? id;
      if (r instanceof Error) throw new DriverError(`read ${id}: ${r.message}`, 'BadNodeIdUnknown');
      return r;
    });
    const values = await conn.session.read(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
    return values.map((dv, i) => toChange(items[i], dv));
  }

  async write(item: string, value: unknown): Promise<void> {
    const conn = this.requireConnection();
    const nodeErr = validateNodeId(item);
    if (nodeErr) throw new DriverError(nodeErr, 'BadNodeIdInvalid');
    const target = (await this.resolveIds(conn, [item])).get(item) ?? item;
    if (target instanceof Error) throw new DriverError(`write to ${item}: ${target.message}`, 'BadNodeIdUnknown');
    let type = this.dataTypes.get(item);
    if (!type) {
      const [dt, rank] = await conn.session.read([
        { nodeId: target, attributeId: AttributeIds.DataType },
        { nodeId: target, attributeId: AttributeIds.ValueRank },
      ]);
      if (!dt.statusCode.isGood()) throw new DriverError(`write to ${item} refused: ${dt.statusCode.name}`, dt.statusCode.name);
      const typeId = dt.value.value as { namespace: number; value: number };
      const dataType = typeId && typeId.namespace === 0 && typeof typeId.value === 'number' && DataType[typeId.value] !== undefined ? (typeId.value as DataType) : DataType.Variant;
      type = { dataType, isArray: typeof rank.value?.value === 'number' && (rank.value.value as number) >= 1 };
      this.dataTypes.set(item, type);
    }
    const variant = type.dataType === DataType.Variant ? new Variant({ dataType: guessType(value), value }) : coerceForWrite(item, value, type.dataType, type.isArray);
    const status = await conn.session.write({ nodeId: target, attributeId: AttributeIds.Value, value: { value: variant } });
    if (!status.isGood()) throw new DriverError(`write to ${item} refused: ${status.name}`, status.name);
  }

  async describe(items: string[]): Promise<ItemDescription[]> {
    const conn = this.requireConnection();
    const resolved = await this.resolveIds(conn, items);
    const ids = items.map((id) => {
      const r = resolved.get(id) ?? id;
      return r instanceof Error ? id : r;
    });
    const out = await describeNodes(conn.session, ids);
    return out.map((d, i) => {
      const r = resolved.get(items[i]);
      return r instanceof Error ? { ...d, id: items[i], error: r.message } : { ...d, id: items[i] };
    });
  }

  /** nsu= ids in their ns= form for this server (the NamespaceArray is read once per connection). */
  private async resolveIds(conn: Connection, ids: string[]): Promise<Map<string, string | Error>> {
    const out = new Map<string, string | Error>();
    if (!ids.some(hasNamespaceUri)) return out;
    if (!conn.namespaces) conn.namespaces = await readNamespaceArray(conn.session);
    for (const id of ids) out.set(id, resolveWith(conn.namespaces, id));
    return out;
  }

  async browse(nodeId: string | undefined, max: number): Promise<BrowseEntry[]> {
    return browseChildren(this.requireConnection().session, nodeId, max);
  }

  private onNotification(conn: Connection, msg: NotificationMessage): void {
    if (this.conn !== conn || !msg.notificationData) return;
    const changes: DataChange[] = [];
    for (const data of msg.notificationData) {
      const items = (data as { monitoredItems?: Array<{ clientHandle: number; value: DataValue }> }).monitoredItems;
      if (!items) continue;
      for (const n of items) {
        const m = conn.byHandle.get(n.clientHandle);
        if (m !== undefined) changes.push(toChange(m.id, n.value, m.key));
        else if (n.clientHandle === SERVER_STATE_HANDLE) {
          const v = n.value.value?.value;
          if (typeof v === 'number' && v !== 0) this.reportLost(conn, `server state ${v === 4 ? 'Shutdown' : v}`, true);
        }
      }
    }
    if (changes.length > 0) this.listener?.data(changes);
  }

  private requireConnection(): Connection {
    if (!this.conn || this.conn.lost) throw new Error(`not connected to ${this.endpoint}`);
    return this.conn;
  }
}

function guessType(value: unknown): DataType {
  if (typeof value === 'boolean') return DataType.Boolean;
  if (typeof value === 'number') return DataType.Double;
  return DataType.String;
}

function describeConnectError(err: unknown, endpoint: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/ECONNREFUSED/.test(msg)) return `connection refused by ${endpoint}`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `host of ${endpoint} not found`;
  if (/BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/.test(msg)) return `login refused by ${endpoint} (check user name and password)`;
  if (/BadSecurityPolicyRejected|BadSecurityModeRejected|no endpoint/i.test(msg)) return `${endpoint} does not offer the chosen security mode/policy`;
  return msg.split('\n')[0];
}

/** The OPC UA protocol as the registry knows it. */
export interface OpcuaProtocolOptions {
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  userName?: string;
  password?: string;
  /** Commissioning: server certificates that are not trusted are accepted (users show yellow). */
  acceptUnknownCertificates: boolean;
}

export const opcuaFactory: DriverFactory<OpcuaProtocolOptions> = {
  protocol: 'opcua',
  label: 'OPC UA',
  capabilities: OPCUA_CAPABILITIES,
  validateEndpoint: validateEndpointUrl,
  validateItem: validateNodeId,
  parseOptions(props, credentials) {
    // The shared rules (lib/rules): the editor shows the same messages under the fields.
    const problems: string[] = [];
    const securityMode = String(props.securityMode || 'None') as SecurityModeName;
    const securityPolicy = String(props.securityPolicy || 'None') as SecurityPolicyName;
    const security = checkSecurity(securityMode, securityPolicy);
    if (security) problems.push(security);
    const user = checkUser(credentials.user, props);
    if (user) problems.push(user);
    const useLogin = props.authMode === 'username';
    const acceptUnknownCertificates = securityMode !== 'None' && (props.acceptUnknownCertificates === true || props.acceptUnknownCertificates === 'true');
    return { options: { securityMode, securityPolicy, userName: useLogin ? credentials.user : undefined, password: useLogin ? credentials.password : undefined, acceptUnknownCertificates }, problems };
  },
  create(endpoint, ctx) {
    return new OpcuaDriver({
      endpointUrl: endpoint,
      securityMode: ctx.options.securityMode,
      securityPolicy: ctx.options.securityPolicy,
      userName: ctx.options.userName,
      password: ctx.options.password,
      pingIntervalMs: ctx.pingIntervalMs,
      pingTimeoutMs: ctx.pingTimeoutMs,
      sessionName: ctx.sessionName,
      userDir: ctx.dataDir,
      acceptUnknownCertificates: ctx.options.acceptUnknownCertificates,
    });
  },
};
