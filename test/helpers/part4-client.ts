// A client of a non-transparent redundant server set, as OPC 10000-4 §6.6.2.4.5 describes one
// (written on node-opcua's client, nothing of the gateway): it reads ServerRedundancy of the server
// it is given (RedundancySupport, ServerUriArray), finds the other servers' endpoints with
// FindServers, keeps a session to each and watches their ServiceLevel, and takes its data from the
// one with the highest ServiceLevel, moving when that server goes or falls behind another.
import {
  AttributeIds,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  OPCUAClient,
  TimestampsToReturn,
} from 'node-opcua';

const SERVICE_LEVEL = 'i=2267';
const REDUNDANCY_SUPPORT = 'i=3709';
const SERVER_URI_ARRAY = 'i=11314';
const SERVER_REDUNDANCY = 'i=2296';

interface Member {
  uri: string;
  url: string;
  client?: OPCUAClient;
  session?: ClientSession;
  watch?: ClientSubscription;
  serviceLevel: number;
  alive: boolean;
}

export interface SetInfo {
  redundancySupport: number;
  serverUris: string[];
  /** Browse names below ServerRedundancy (ServerUriArray must be among them). */
  redundancyChildren: string[];
  redundancyType: string;
}

export class RedundantSetClient {
  readonly values: Array<{ value: unknown; from: string; status: string }> = [];
  readonly switches: Array<{ to: string; reason: string; at: number }> = [];
  info?: SetInfo;
  private members = new Map<string, Member>();
  private activeUri?: string;
  private data?: ClientSubscription;
  private closed = false;
  /** Selection waits until every member's ServiceLevel is known (or a moment has passed). */
  private gathered = false;
  private switching = Promise.resolve();

  constructor(
    private readonly firstUrl: string,
    private readonly nodeId: string,
  ) {}

  get active(): string | undefined {
    return this.activeUri;
  }

  serviceLevels(): Record<string, number> {
    return Object.fromEntries([...this.members.values()].map((m) => [m.uri, m.alive ? m.serviceLevel : -1]));
  }

  async start(): Promise<void> {
    const first = await this.open('(first)', this.firstUrl);
    const session = first.session!;
    const [support, uris] = await session.read([
      { nodeId: REDUNDANCY_SUPPORT, attributeId: AttributeIds.Value },
      { nodeId: SERVER_URI_ARRAY, attributeId: AttributeIds.Value },
    ]);
    const browse = await session.browse(SERVER_REDUNDANCY);
    // Its type, as a client browsing the Server object sees it.
    const server = await session.browse('i=2253');
    const redundancyRef = (server.references ?? []).find((r) => r.nodeId.toString() === 'ns=0;i=2296');
    const serverUris = (uris.value?.value as string[] | null) ?? [];
    this.info = {
      redundancySupport: Number(support.value?.value),
      serverUris,
      redundancyChildren: (browse.references ?? []).map((r) => r.browseName.name ?? ''),
      redundancyType: redundancyRef?.typeDefinition.toString() ?? '',
    };
    // The endpoints of the set's servers: FindServers on the server we know.
    const servers = await first.client!.findServers({ serverUris } as never);
    const own = servers.find((s) => s.discoveryUrls?.includes(this.firstUrl))?.applicationUri;
    await this.close(first);
    for (const uri of serverUris) {
      const desc = servers.find((s) => s.applicationUri === uri);
      const url = uri === own ? this.firstUrl : desc?.discoveryUrls?.[0];
      if (!url) throw new Error(`FindServers does not know ${uri}: ${JSON.stringify(servers.map((s) => s.applicationUri))}`);
      const m: Member = { uri, url, serviceLevel: -1, alive: false };
      this.members.set(uri, m);
      await this.watch(m).catch(() => undefined);
    }
    const deadline = Date.now() + 5000;
    while ([...this.members.values()].some((m) => m.alive && m.serviceLevel < 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    this.gathered = true;
    await this.reselect('start');
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.switching.catch(() => undefined);
    for (const m of this.members.values()) await this.close(m);
  }

  private async open(uri: string, url: string): Promise<Member> {
    const client = OPCUAClient.create({
      applicationName: 'part4-redundant-client',
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      keepSessionAlive: true,
      transportTimeout: 3000,
      requestedSessionTimeout: 30_000,
    });
    await client.connect(url);
    const session = await client.createSession();
    return { uri, url, client, session, serviceLevel: -1, alive: true };
  }

  private async close(m: Member): Promise<void> {
    m.alive = false;
    await m.watch?.terminate().catch(() => undefined);
    await m.session?.close().catch(() => undefined);
    await m.client?.disconnect().catch(() => undefined);
    m.client = m.session = m.watch = undefined;
  }

  /** A session to a member, with its ServiceLevel subscribed. */
  private async watch(m: Member): Promise<void> {
    const opened = await this.open(m.uri, m.url);
    Object.assign(m, { client: opened.client, session: opened.session, alive: true });
    const lost = () => {
      if (!m.alive) return;
      m.alive = false;
      this.queue(`${m.uri} lost`);
    };
    m.client!.on('connection_lost', lost);
    m.client!.on('close', lost);
    m.watch = await m.session!.createSubscription2({ requestedPublishingInterval: 100, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100, publishingEnabled: true });
    const item = await m.watch.monitor({ nodeId: SERVICE_LEVEL, attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 1 }, TimestampsToReturn.Neither);
    item.on('changed', (dv: DataValue) => {
      m.serviceLevel = Number(dv.value?.value);
      this.queue(`ServiceLevel of ${m.uri} is ${m.serviceLevel}`);
    });
  }

  private queue(reason: string): void {
    if (this.closed) return;
    this.switching = this.switching.then(() => this.reselect(reason)).catch(() => undefined);
  }

  /** Data from the live member with the highest ServiceLevel (≥ 2: 0 and 1 serve no data). */
  private async reselect(reason: string): Promise<void> {
    if (this.closed || !this.gathered) return;
    const best = [...this.members.values()].filter((m) => m.alive && m.serviceLevel >= 2).sort((a, b) => b.serviceLevel - a.serviceLevel)[0];
    const current = this.activeUri ? this.members.get(this.activeUri) : undefined;
    if (!best || (current?.alive && current.serviceLevel >= best.serviceLevel)) return;
    await this.data?.terminate().catch(() => undefined);
    this.data = await best.session!.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 200, publishingEnabled: true });
    const item = await this.data.monitor({ nodeId: this.nodeId, attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 100 }, TimestampsToReturn.Both);
    const from = best.uri;
    item.on('changed', (dv: DataValue) => this.values.push({ value: dv.value?.value, from, status: dv.statusCode.name }));
    this.activeUri = best.uri;
    this.switches.push({ to: best.uri, reason, at: Date.now() });
  }
}
