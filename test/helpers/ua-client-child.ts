// A plain node-opcua client in its own process (no code of the gateway): sessions that browse,
// read, write and subscribe, driven over IPC by test/helpers/ua-clients.ts. Each session records
// what its monitored items received, and whether its session or subscription ever broke.
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

/** Benchmark counters: changes received per client, and delays (receipt − source timestamp) while sampling. */
const bench = { counts: new Map<number, number>(), delays: [] as number[], sampling: false };
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

const handlers: Record<string, (arg: Record<string, unknown>) => Promise<unknown>> = {
  connect: async (a) => connect(a as unknown as ConnectOptions),
  /** Connects, expecting a refusal: resolves with the error message. */
  connectError: async (a) => {
    try {
      const id = await connect(a as unknown as ConnectOptions);
      await close(id);
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  },
  browse: async (a) => {
    const r = await get(Number(a.client)).session.browse(String(a.nodeId));
    return { status: r.statusCode.name, refs: (r.references ?? []).map((x) => ({ nodeId: x.nodeId.toString(), browseName: x.browseName.toString(), displayName: x.displayName.text, nodeClass: x.nodeClass, typeDefinition: x.typeDefinition.toString() })) };
  },
  read: async (a) => {
    const values = await get(Number(a.client)).session.read((a.nodeIds as string[]).map((nodeId) => ({ nodeId, attributeId: Number(a.attributeId ?? AttributeIds.Value) })));
    return values.map((dv) => ({ value: plain(dv.value?.value), dataType: DataType[dv.value?.dataType ?? 0], status: dv.statusCode.name, source: dv.sourceTimestamp?.getTime(), server: dv.serverTimestamp?.getTime() }));
  },
  write: async (a) => {
    const dataType = (DataType as unknown as Record<string, DataType>)[String(a.dataType)];
    const status = await get(Number(a.client)).session.write({ nodeId: String(a.nodeId), attributeId: AttributeIds.Value, value: { value: { dataType, arrayType: Array.isArray(a.value) ? VariantArrayType.Array : VariantArrayType.Scalar, value: a.value } } });
    return status.name;
  },
  subscribe: async (a) => subscribe(Number(a.client), a.nodeIds as string[], Number(a.samplingInterval ?? 0), Number(a.queueSize ?? 100), Number(a.publishingInterval ?? 50)),
  received: async (a) => {
    const c = get(Number(a.client));
    return c.items.get(String(a.nodeId))?.received ?? [];
  },
  counts: async (a) => {
    const c = get(Number(a.client));
    return Object.fromEntries([...c.items].map(([k, v]) => [k, v.received.length]));
  },
  /** Deletes the client's monitored items (and its subscription). */
  unsubscribe: async (a) => {
    const c = get(Number(a.client));
    await c.subscription?.terminate();
    c.subscription = undefined;
    c.items.clear();
    return null;
  },
  /** Benchmark: monitored items that only count changes and, while sampling, record their delay. */
  benchSubscribe: async (a) => {
    const id = Number(a.client);
    const c = get(id);
    const nodeIds = a.nodeIds as string[];
    c.subscription ??= await c.session.createSubscription2({ requestedPublishingInterval: Number(a.publishingInterval ?? 100), requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 600, maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
    bench.counts.set(id, 0);
    const group = await c.subscription.monitorItems(nodeIds.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })), { samplingInterval: Number(a.samplingInterval ?? 0), queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    group.on('changed', (_item: unknown, dv: DataValue) => {
      bench.counts.set(id, (bench.counts.get(id) ?? 0) + 1);
      if (bench.sampling && dv.sourceTimestamp) bench.delays.push(Date.now() - dv.sourceTimestamp.getTime());
    });
    return group.monitoredItems.filter((m) => (m as unknown as { statusCode?: { isGood(): boolean } }).statusCode?.isGood() !== false).length;
  },
  /** Starts (or ends) a measuring window: counts so far, and the delays of the window that ends. */
  benchWindow: async (a) => {
    const counts = Object.fromEntries(bench.counts);
    const delays = bench.delays;
    bench.delays = [];
    bench.sampling = a.sampling === true;
    return { counts, delays };
  },
  info: async (a) => {
    const c = get(Number(a.client));
    return { sessionId: c.session.sessionId.toString(), subscriptionId: c.subscription?.subscriptionId, broken: c.broken };
  },
  close: async (a) => close(Number(a.client)),
};

async function close(id: number): Promise<null> {
  const c = clients.get(id);
  if (!c) return null;
  clients.delete(id);
  await c.subscription?.terminate().catch(() => undefined);
  await c.session.close().catch(() => undefined);
  await c.client.disconnect().catch(() => undefined);
  return null;
}

process.on('message', async (req: { id: number; command: string; arg: Record<string, unknown> }) => {
  try {
    const handler = handlers[req.command];
    if (!handler) throw new Error(`unknown command ${req.command}`);
    process.send?.({ id: req.id, result: await handler(req.arg ?? {}) });
  } catch (err) {
    process.send?.({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
process.on('disconnect', () => {
  void Promise.all([...clients.keys()].map(close)).finally(() => process.exit(0));
});
process.send?.({ ready: true });
