// A plain node-opcua client in its own process (no code of the gateway): sessions that browse,
// read, write and subscribe, driven over IPC (lib/sim/child-ipc.ts) by test/helpers/ua-clients.ts.
// Each session records what its monitored items received, and whether its session or subscription
// ever broke.
import {
  AttributeIds,
  type ClientMonitoredItem,
  type ClientSession,
  type ClientSubscription,
  DataType,
  type DataValue,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  UserTokenType,
  VariantArrayType,
} from 'node-opcua';
import { serveIpcChild } from '../../lib/sim/child-ipc';

export interface ConnectOptions {
  url: string;
  securityMode?: 'None' | 'Sign' | 'SignAndEncrypt';
  securityPolicy?: string;
  user?: string;
  password?: string;
  /** PKI folder of this client (its certificate): a fresh one is a certificate the gateway never saw. */
  pki?: string;
  applicationName?: string;
}

interface Received {
  value: unknown;
  status: string;
  source?: number;
}

interface Client {
  client: OPCUAClient;
  session: ClientSession;
  subscription?: ClientSubscription;
  items: Map<string, { mi: ClientMonitoredItem; received: Received[]; status?: string }>;
  broken: string[];
}

const clients = new Map<number, Client>();

/** A benchmark subscription: receipts per PLC tick and item, and how far each item has got. */
interface Bench {
  subscription: ClientSubscription;
  items: number;
  /** Changes received in all (rates). */
  received: number;
  /** Receipts per tick, one count per item (saturating at 255). */
  ticks: Map<number, Uint8Array>;
  /** Newest tick received per item (-1: none yet). */
  newest: Float64Array;
}
const benches = new Map<number, Bench>();
/** Per change received: its tick and its delay (receipt − source timestamp), ms. */
let samples = { tick: new Float64Array(1 << 16), delay: new Int32Array(1 << 16), n: 0 };
let nextId = 0;

async function connect(o: ConnectOptions): Promise<number> {
  const pki = o.pki ? new OPCUACertificateManager({ rootFolder: o.pki, automaticallyAcceptUnknownCertificate: true }) : undefined;
  if (pki) await pki.initialize();
  const client = OPCUAClient.create({
    applicationName: o.applicationName ?? 'gateway-test-client',
    endpointMustExist: false,
    securityMode: MessageSecurityMode[o.securityMode ?? 'None'],
    securityPolicy: (SecurityPolicy as unknown as Record<string, SecurityPolicy>)[o.securityPolicy ?? 'None'],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    keepSessionAlive: true,
    requestedSessionTimeout: 60_000,
    clientCertificateManager: pki,
  });
  const broken: string[] = [];
  client.on('connection_lost', () => broken.push('connection lost'));
  client.on('start_reconnection', () => broken.push('reconnection'));
  try {
    await client.connect(o.url);
    const session = await client.createSession(o.user ? { type: UserTokenType.UserName, userName: o.user, password: o.password ?? '' } : { type: UserTokenType.Anonymous });
    session.on('session_closed', () => broken.push('session closed'));
    const id = ++nextId;
    clients.set(id, { client, session, items: new Map(), broken });
    return id;
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    throw err;
  }
}

function get(id: number): Client {
  const c = clients.get(id);
  if (!c) throw new Error(`no client ${id}`);
  return c;
}

async function subscribe(id: number, nodeIds: string[], samplingInterval: number, queueSize: number, publishingInterval = 50): Promise<string[]> {
  const c = get(id);
  if (!c.subscription) {
    c.subscription = await c.session.createSubscription2({ requestedPublishingInterval: publishingInterval, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
    c.subscription.on('terminated', () => c.broken.push('subscription terminated'));
  }
  const group = await c.subscription.monitorItems(
    nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
    { samplingInterval, queueSize, discardOldest: true },
    TimestampsToReturn.Both,
  );
  const statuses: string[] = [];
  group.monitoredItems.forEach((mi, i) => {
    const status = (mi as unknown as { statusCode?: { name: string } }).statusCode?.name ?? 'Good';
    statuses.push(status);
    const entry = { mi, received: [] as Received[], status };
    c.items.set(nodeIds[i], entry);
    mi.on('changed', (dv: DataValue) => entry.received.push({ value: plain(dv.value?.value), status: dv.statusCode.name, source: dv.sourceTimestamp?.getTime() }));
  });
  return statuses;
}

function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (v && typeof v === 'object' && v.constructor?.name === 'NodeId') return String(v);
  return v;
}

function record(tick: number, delay: number): void {
  if (samples.n === samples.tick.length) {
    const size = samples.n * 2;
    const grow = { tick: new Float64Array(size), delay: new Int32Array(size), n: samples.n };
    grow.tick.set(samples.tick);
    grow.delay.set(samples.delay);
    samples = grow;
  }
  samples.tick[samples.n] = tick;
  samples.delay[samples.n] = delay;
  samples.n++;
}

interface RawNotificationMessage {
  notificationData?: Array<{ monitoredItems?: Array<{ clientHandle: number; value: DataValue }> } | null>;
}

async function benchSubscribe(id: number, nodeIds: string[], samplingInterval: number, publishingInterval: number, queueSize: number): Promise<number> {
  const c = get(id);
  if (benches.has(id)) throw new Error(`client ${id} already has a benchmark subscription`);
  const subscription = await c.session.createSubscription2({ requestedPublishingInterval: publishingInterval, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  // The raw message only: node-opcua's dispatch to monitored item objects is not wanted here.
  (subscription as unknown as { __on_publish_response_DataChangeNotification: () => void }).__on_publish_response_DataChangeNotification = () => undefined;
  const b: Bench = { subscription, items: nodeIds.length, received: 0, ticks: new Map(), newest: new Float64Array(nodeIds.length).fill(-1) };
  subscription.on('raw_notification', (msg: RawNotificationMessage) => {
    const now = Date.now();
    for (const data of msg.notificationData ?? []) {
      for (const n of data?.monitoredItems ?? []) {
        const i = n.clientHandle - 1;
        const v = n.value.value?.value;
        if (i < 0 || i >= b.items || typeof v !== 'number') continue;
        b.received++;
        const tick = v - i;
        let counts = b.ticks.get(tick);
        if (!counts) {
          counts = new Uint8Array(b.items);
          b.ticks.set(tick, counts);
        }
        if (counts[i] < 255) counts[i]++;
        if (tick > b.newest[i]) b.newest[i] = tick;
        const source = n.value.sourceTimestamp?.getTime();
        if (source !== undefined) record(tick, now - source);
      }
    }
  });
  let created = 0;
  const raw = c.session as unknown as { createMonitoredItems(req: unknown): Promise<{ results?: Array<{ statusCode: { isGood(): boolean } }> }> };
  for (let k = 0; k < nodeIds.length; k += 1000) {
    const r = await raw.createMonitoredItems({
      subscriptionId: subscription.subscriptionId,
      timestampsToReturn: TimestampsToReturn.Both,
      itemsToCreate: nodeIds.slice(k, k + 1000).map((nodeId, j) => ({
        itemToMonitor: { nodeId, attributeId: AttributeIds.Value },
        monitoringMode: 2 /* Reporting */,
        requestedParameters: { clientHandle: k + j + 1, samplingInterval, queueSize, discardOldest: true },
      })),
    });
    created += (r.results ?? []).filter((x) => x.statusCode.isGood()).length;
  }
  benches.set(id, b);
  return created;
}

function benchProgress(): Record<string, { received: number; newest: number }> {
  const out: Record<string, { received: number; newest: number }> = {};
  for (const [id, b] of benches) {
    let oldest = Infinity;
    for (const t of b.newest) oldest = Math.min(oldest, t);
    out[id] = { received: b.received, newest: oldest };
  }
  return out;
}

/** Sparse histogram [value, count][] of the samples whose tick is in (from, to]. */
function histogram(values: Int32Array, from: number, to: number): Array<[number, number]> {
  const h = new Map<number, number>();
  for (let k = 0; k < samples.n; k++) {
    const t = samples.tick[k];
    if (t > from && t <= to) h.set(values[k], (h.get(values[k]) ?? 0) + 1);
  }
  return [...h];
}

function benchReport(from: number, to: number) {
  const clients: Record<string, { expected: number; received: number; lost: number; duplicates: number }> = {};
  for (const [id, b] of benches) {
    const r = { expected: 0, received: 0, lost: 0, duplicates: 0 };
    for (let t = from + 1; t <= to; t++) {
      const counts = b.ticks.get(t);
      for (let i = 0; i < b.items; i++) {
        const n = counts ? counts[i] : 0;
        r.expected++;
        r.received += n;
        if (n === 0) r.lost++;
        else r.duplicates += n - 1;
      }
    }
    for (const t of b.ticks.keys()) if (t <= to) b.ticks.delete(t);
    clients[id] = r;
  }
  const out = { clients, delay: histogram(samples.delay, from, to) };
  // Samples of later ticks are kept for the next window.
  let keep = 0;
  for (let k = 0; k < samples.n; k++) {
    if (samples.tick[k] <= to) continue;
    samples.tick[keep] = samples.tick[k];
    samples.delay[keep] = samples.delay[k];
    keep++;
  }
  samples.n = keep;
  return out;
}

type Args = Record<string, unknown>;

/** The commands (see ua-clients.ts); every one is given an argument object. */
const handlers = {
  connect: async (_, a) => connect(a as unknown as ConnectOptions),
  /** Connects, expecting a refusal: resolves with the error message. */
  connectError: async (_, a) => {
    try {
      const id = await connect(a as unknown as ConnectOptions);
      await close(id);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  },
  browse: async (_, a) => {
    const r = await get(Number(a.client)).session.browse(String(a.nodeId));
    return { status: r.statusCode.name, refs: (r.references ?? []).map((x) => ({ nodeId: x.nodeId.toString(), browseName: x.browseName.toString(), displayName: x.displayName.text, nodeClass: x.nodeClass, typeDefinition: x.typeDefinition.toString() })) };
  },
  read: async (_, a) => {
    const values = await get(Number(a.client)).session.read((a.nodeIds as string[]).map((nodeId) => ({ nodeId, attributeId: Number(a.attributeId ?? AttributeIds.Value) })));
    return values.map((dv) => ({ value: plain(dv.value?.value), dataType: DataType[dv.value?.dataType ?? 0], status: dv.statusCode.name, source: dv.sourceTimestamp?.getTime(), server: dv.serverTimestamp?.getTime() }));
  },
  write: async (_, a) => {
    const dataType = (DataType as unknown as Record<string, DataType>)[String(a.dataType)];
    const status = await get(Number(a.client)).session.write({ nodeId: String(a.nodeId), attributeId: AttributeIds.Value, value: { value: { dataType, arrayType: Array.isArray(a.value) ? VariantArrayType.Array : VariantArrayType.Scalar, value: a.value } } });
    return status.name;
  },
  subscribe: async (_, a) => subscribe(Number(a.client), a.nodeIds as string[], Number(a.samplingInterval ?? 0), Number(a.queueSize ?? 100), Number(a.publishingInterval ?? 50)),
  received: async (_, a) => {
    const c = get(Number(a.client));
    return c.items.get(String(a.nodeId))?.received ?? [];
  },
  counts: async (_, a) => {
    const c = get(Number(a.client));
    return Object.fromEntries([...c.items].map(([k, v]) => [k, v.received.length]));
  },
  /** Deletes the client's monitored items (and its subscription). */
  unsubscribe: async (_, a) => {
    const c = get(Number(a.client));
    await c.subscription?.terminate();
    c.subscription = undefined;
    c.items.clear();
    return null;
  },
  /**
   * Benchmark: one subscription of monitored items on bulk items (value = PLC tick + item index, see
   * lib/sim/opcua-simulator.ts) through the raw services (handle = index + 1) and the raw
   * NotificationMessage (no per-item dispatch: the bench measures the server, not this client).
   * Each change is counted under its tick, so lost and duplicated changes are counted exactly.
   */
  benchSubscribe: async (_, a) => benchSubscribe(Number(a.client), a.nodeIds as string[], Number(a.samplingInterval ?? 0), Number(a.publishingInterval ?? 100), Number(a.queueSize ?? 10)),
  /** Per client: changes received so far (for rates), and the oldest newest tick over its items (progress). */
  benchProgress: async () => benchProgress(),
  /** Per client, over PLC ticks (from, to]: received, lost, duplicated changes; the process's delay histogram. */
  benchReport: async (_, a) => benchReport(Number(a.from), Number(a.to)),
  benchUnsubscribe: async (_, a) => {
    const id = Number(a.client);
    const b = benches.get(id);
    benches.delete(id);
    await b?.subscription.terminate().catch(() => undefined);
    return null;
  },
  cpuUsage: async () => process.cpuUsage(),
  info: async (_, a) => {
    const c = get(Number(a.client));
    return { sessionId: c.session.sessionId.toString(), subscriptionId: c.subscription?.subscriptionId, broken: c.broken };
  },
  close: async (_, a) => close(Number(a.client)),
} satisfies Record<string, (state: null, a: Args) => Promise<unknown>>;

export type UaClientCommand = keyof typeof handlers;

async function close(id: number): Promise<null> {
  const c = clients.get(id);
  if (!c) return null;
  clients.delete(id);
  benches.delete(id);
  await c.subscription?.terminate().catch(() => undefined);
  await c.session.close().catch(() => undefined);
  await c.client.disconnect().catch(() => undefined);
  return null;
}

if (require.main === module) {
  serveIpcChild<null, UaClientCommand, Args>(
    async () => ({ state: null, ready: {} }),
    handlers,
    () => Promise.all([...clients.keys()].map(close)),
  );
}
