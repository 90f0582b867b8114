// Two in-memory peer links joined by a fake network, implementing PeerLinkApi (lib/peer/api.ts) for
// unit tests only: requests cross as JSON (what is not serialisable fails here as it would on the
// wire), with a latency, and the network can be cut and healed; a side can die (its link vanishes,
// the other sees the link down) and be replaced by a restarted one. The duty is set by the test.
// Integration tests use the real peer-link node.
import { EventEmitter } from 'node:events';
import type { DutyStatus, PeerHandler, PeerLinkApi, PeerLinkEvents, PeerLinkStatus, PeerRequestOptions } from '../../lib/peer/api';

export type Side = 'a' | 'b';

export class FakeNetwork {
  latencyMs: number;
  private connected = true;
  private readonly sides: Partial<Record<Side, FakePeerLink>> = {};
  private epoch = 0;
  /** Requests sent, per service and op (tests count round trips). */
  readonly requests: Array<{ from: Side; service: string; op?: string }> = [];

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  /** A link for a side (a restarted instance gets a new one: same side, same instance id or not). */
  attach(side: Side, instanceId = `node-${side}`, name = 'fake-link'): FakePeerLink {
    const link = new FakePeerLink(this, side, instanceId, name);
    this.sides[side] = link;
    this.refreshStates();
    return link;
  }

  /** The process of a side died: its link is gone, the other side sees the link down. */
  kill(side: Side): void {
    const link = this.sides[side];
    if (!link) return;
    delete this.sides[side];
    link.dead = true;
    link.setState('down', 'this instance stopped');
    this.refreshStates();
  }

  cut(): void {
    this.connected = false;
    this.refreshStates();
  }

  heal(): void {
    this.connected = true;
    this.refreshStates();
  }

  isUp(): boolean {
    return this.connected && !!this.sides.a && !!this.sides.b;
  }

  link(side: Side): FakePeerLink | undefined {
    return this.sides[side];
  }

  peerOf(side: Side): FakePeerLink | undefined {
    return this.sides[side === 'a' ? 'b' : 'a'];
  }

  /** Gives the duty to one side (or none), with a new epoch. */
  setDuty(holder: Side | undefined, reason = 'set by the test'): void {
    this.epoch++;
    for (const side of ['a', 'b'] as const) this.sides[side]?.setDuty(side === holder, this.epoch, reason);
  }

  /** Waits the link latency (real time: a macrotask even at 0 ms, like network I/O). */
  delay(): Promise<void> {
    return new Promise((resolve) => (this.latencyMs > 0 ? setTimeout(resolve, this.latencyMs) : setImmediate(resolve)));
  }

  private refreshStates(): void {
    const up = this.isUp();
    for (const side of ['a', 'b'] as const) {
      const l = this.sides[side];
      if (!l) continue;
      if (up) l.setState('up', 'fake network up', this.peerOf(side)?.instanceId);
      else l.setState('down', this.connected ? 'the peer instance is not running' : 'fake network cut');
    }
  }
}

export class FakePeerLink extends EventEmitter implements PeerLinkApi {
  dead = false;
  private readonly handlers = new Map<string, PeerHandler>();
  private st: PeerLinkStatus = { state: 'connecting', reason: 'starting', since: Date.now() };
  private dutyStatus: DutyStatus = { holder: false, epoch: 0, reason: 'no duty set', witness: 'none', since: Date.now() };

  constructor(
    private readonly net: FakeNetwork,
    readonly side: Side,
    readonly instanceId: string,
    readonly name: string,
  ) {
    super();
    this.setMaxListeners(0);
  }

  status(): PeerLinkStatus {
    return { ...this.st };
  }

  duty(): DutyStatus {
    return { ...this.dutyStatus };
  }

  register(service: string, handler: PeerHandler): () => void {
    if (this.handlers.has(service)) throw new Error(`service ${service} is already registered on this link`);
    this.handlers.set(service, handler);
    return () => {
      if (this.handlers.get(service) === handler) this.handlers.delete(service);
    };
  }

  services(): string[] {
    return [...this.handlers.keys()];
  }

  async request(service: string, body: unknown, _options?: PeerRequestOptions): Promise<unknown> {
    const wire = JSON.stringify(body);
    this.net.requests.push({ from: this.side, service, op: (body as { op?: string } | null)?.op });
    if (this.dead) throw new Error('peer link down: this instance stopped');
    if (!this.net.isUp()) throw new Error('peer link down');
    await this.net.delay();
    const peer = this.net.peerOf(this.side);
    if (!peer || !this.net.isUp() || this.dead) throw new Error('peer link down (lost while sending)');
    const handler = peer.handlers.get(service);
    if (!handler) throw new Error(`the peer has no service ${service}`);
    let reply: string;
    try {
      reply = JSON.stringify((await handler(JSON.parse(wire))) ?? null);
    } catch (err) {
      throw new Error(err instanceof Error ? err.message : String(err));
    }
    await this.net.delay();
    if (!this.net.isUp() || this.dead) throw new Error('peer link down (lost while answering)');
    return JSON.parse(reply);
  }

  setState(state: PeerLinkStatus['state'], reason: string, peerInstanceId?: string): void {
    if (this.st.state === state) return;
    this.st = { state, reason, since: Date.now(), ...(peerInstanceId ? { peerInstanceId } : {}) };
    this.emit('state', this.status());
  }

  setDuty(holder: boolean, epoch: number, reason: string): void {
    this.dutyStatus = { holder, epoch, reason, witness: 'none', since: Date.now() };
    this.emit('duty', this.duty());
  }

  override on<K extends keyof PeerLinkEvents>(event: K, listener: (...args: PeerLinkEvents[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override off<K extends keyof PeerLinkEvents>(event: K, listener: (...args: PeerLinkEvents[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}

/** Two linked sides, up, no duty set. */
export function fakeLinkPair(latencyMs = 0): { net: FakeNetwork; a: FakePeerLink; b: FakePeerLink } {
  const net = new FakeNetwork(latencyMs);
  const a = net.attach('a');
  const b = net.attach('b');
  return { net, a, b };
}
