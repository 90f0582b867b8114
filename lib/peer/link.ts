// The peer link: one per pair of Node-RED instances. Heartbeats both ways over HTTP (the endpoint
// lives on the instance's own admin HTTP server, see nodes/peer-link.ts), every request signed and
// replay-safe (auth.ts), the duty election (duty.ts) with the optional MQTT witness (witness.ts),
// and named services for the two-instance nodes (standby write, alarm-sync, trend-backfill).
import { EventEmitter } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../core/clock';
import type { RedundancyEvent, RedundancyEventKind, ServerRole, Severity } from '../core/types';
import type { DutyStatus, PeerHandler, PeerLinkApi, PeerLinkEvents, PeerLinkStatus, PeerRequestOptions } from './api';
import { type Envelope, type PeerRequest, type PeerResponse, RefusedError, RequestGuard, newBootId, sealResponse } from './auth';
import { DutyElection, type DutyTransition, type HandoverRequest, type PeerDutyView, type PreferredRole } from './duty';
import { instanceIdOf, monotonicClock } from './identity';
import { PeerClient, errorText } from './transport';
import { MqttWitness, type WitnessOptions } from './witness';

export { PEER_PATH, PEER_CONTENT_TYPE, MAX_PEER_REQUEST_BYTES } from './transport';

/** A service request's default timeout: catch-up pages and backfill chunks take longer than a heartbeat. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export { instanceIdOf, monotonicClock, validatePeerUrl } from './identity';

export interface PeerLinkOptions {
  name: string;
  /** The other instance's base URL (its admin root), e.g. http://host-b:1880 */
  peerUrl: string;
  secret: string;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  preferred: PreferredRole;
  handback: boolean;
  holdOffMs: number;
  witness?: Omit<WitnessOptions, 'link' | 'instanceId' | 'preferred' | 'pingIntervalMs' | 'clock'>;
  /** Where the instance id and the epoch are kept (the Node-RED user dir). */
  stateDir?: string;
  clock?: Clock;
}

export interface DutyInterval {
  /** Wall-clock ms (Date.now) when this instance took the duty and when it released it. */
  from: number;
  to?: number;
  epoch: number;
}

export interface LinkEvents extends PeerLinkEvents {
  event: [RedundancyEvent];
  transition: [DutyTransition];
}

// Typed events over a plain EventEmitter (the generic one does not satisfy PeerLinkApi's on/off).
export interface PeerLink {
  on<K extends keyof LinkEvents>(event: K, listener: (...args: LinkEvents[K]) => void): this;
  off<K extends keyof LinkEvents>(event: K, listener: (...args: LinkEvents[K]) => void): this;
  once<K extends keyof LinkEvents>(event: K, listener: (...args: LinkEvents[K]) => void): this;
  emit<K extends keyof LinkEvents>(event: K, ...args: LinkEvents[K]): boolean;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class PeerLink extends EventEmitter implements PeerLinkApi {
  readonly name: string;
  readonly instanceId: string;
  readonly bootId = newBootId();
  readonly election: DutyElection;
  private readonly clock: Clock;
  private readonly guard: RequestGuard;
  private readonly services = new Map<string, PeerHandler>();
  private readonly witness: MqttWitness | undefined;
  private readonly epochFile: string | undefined;
  private readonly client: PeerClient;
  private linkStatus: PeerLinkStatus;
  private lastError = '';
  private refusedReason: string | undefined;
  private peerStopped = false;
  /** The peer's boot id as its heartbeats last said (a change: it restarted). */
  private peerBoot: string | undefined;
  private downSince: number | undefined;
  private timer: TimerHandle | undefined;
  private heartbeatInFlight = false;
  private lastHeartbeatAt = -Infinity;
  private rtts: number[] = [];
  private closed = false;
  /** close() began: no more heartbeats, requests answered "stopping". */
  private closing = false;
  private readonly startedAt: number;
  private readonly history: DutyInterval[] = [];
  private replays = 0;
  private lastReplayReport = -Infinity;

  constructor(readonly options: PeerLinkOptions) {
    super();
    this.setMaxListeners(0);
    this.name = options.name;
    this.clock = options.clock ?? monotonicClock;
    this.startedAt = this.clock.now();
    this.instanceId = instanceIdOf(options.stateDir);
    this.guard = new RequestGuard(() => this.options.secret, this.bootId, this.name);
    this.client = new PeerClient({ name: this.name, peerUrl: options.peerUrl, secret: () => this.options.secret, instanceId: this.instanceId, bootId: this.bootId });
    this.epochFile = options.stateDir ? join(options.stateDir, `redundancy-peer-${this.name.replace(/[^\w.-]/g, '_')}.json`) : undefined;
    this.linkStatus = { state: 'connecting', reason: `connecting to ${options.peerUrl}`, since: Date.now() };
    this.election = new DutyElection(
      {
        instanceId: this.instanceId,
        preferred: options.preferred,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs,
        handback: options.handback,
        holdOffMs: options.holdOffMs,
        witness: !!options.witness,
        initialEpoch: this.loadEpoch(),
        bootId: this.bootId,
      },
      {
        publishClaim: (epoch) => this.witness?.publishClaim(epoch) ?? Promise.resolve(),
        clearClaim: () => this.witness?.clearClaim() ?? Promise.resolve(),
        handOver: (req) => this.sendHandover(req),
        persistEpoch: (epoch) => this.saveEpoch(epoch),
      },
      this.clock,
    );
    this.election.on('duty', (d) => this.emit('duty', d));
    this.election.on('transition', (t) => this.onTransition(t));
    if (options.witness) {
      this.witness = new MqttWitness(
        { ...options.witness, link: this.name, instanceId: this.instanceId, preferred: options.preferred, pingIntervalMs: options.heartbeatIntervalMs, clock: this.clock },
        {
          connected: (up, reason) => {
            this.publishEvent(up ? 'witness-up' : 'witness-down', up ? 'info' : 'warning', `witness ${reason}`);
            this.election.witnessConnected(up);
          },
          claimSeen: (instance, claim) => this.election.claimSeen(instance, claim),
          pingAcked: (sentAt) => this.election.pingAcked(sentAt),
        },
      );
    }
  }

  start(): void {
    this.election.start();
    this.witness?.start();
    this.loop();
  }

  status(): PeerLinkStatus {
    return { ...this.linkStatus };
  }

  duty(): DutyStatus {
    return this.election.status();
  }

  /** Holding intervals of this instance since start (wall clock), for tests and dashboards. */
  dutyHistory(): DutyInterval[] {
    return this.history.map((h) => ({ ...h }));
  }

  /** The largest round trip of the last heartbeats, ms. */
  rttMaxMs(): number {
    return this.rtts.length ? Math.max(...this.rtts) : 0;
  }

  register(service: string, handler: PeerHandler): () => void {
    if (!service || /^(hello|heartbeat|duty\/)/.test(service)) throw new Error(`"${service}" is not a service name a node may register`);
    this.services.set(service, handler);
    return () => {
      if (this.services.get(service) === handler) this.services.delete(service);
    };
  }

  async request(service: string, body: unknown, options: PeerRequestOptions = {}): Promise<unknown> {
    if (this.closed) throw new Error(`peer link "${this.name}" is closed`);
    if (this.linkStatus.state === 'down' || this.linkStatus.state === 'refused') throw new Error(`peer link "${this.name}" is ${this.linkStatus.state}: ${this.linkStatus.reason}`);
    const res = await this.client.call(`svc:${service}`, body, options.timeoutMs ?? Math.max(DEFAULT_REQUEST_TIMEOUT_MS, this.options.heartbeatTimeoutMs));
    if (!res.ok) throw new Error(res.error ?? `the peer refused the request for "${service}"`);
    return res.body;
  }

  /** Graceful stop: hands the duty over at once, then closes the witness politely (no last will). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.election.stop();
    this.closed = true;
    await this.witness?.end();
    if (this.history.length && this.history[this.history.length - 1].to === undefined) this.history[this.history.length - 1].to = Date.now();
  }

  // ---- receiving -------------------------------------------------------------------------------

  /** Answers one request arriving at this instance's endpoint: HTTP status and envelope. */
  async handle(envelope: unknown): Promise<{ status: number; body: Envelope | PeerResponse }> {
    let req: PeerRequest;
    const signature = (envelope as Envelope | null)?.s ?? '';
    try {
      req = this.guard.open(envelope);
    } catch (err) {
      const e = err as RefusedError;
      if (e.code === 'signature' || e.code === 'format' || e.code === 'version' || e.code === 'link') {
        this.noteRefused(e.message);
        return { status: 401, body: { ok: false, boot: '', instance: '', code: e.code, error: e.message } };
      }
      if (e.code === 'replay') this.noteReplay(e.message);
      const res: PeerResponse = { ok: false, boot: this.bootId, instance: this.instanceId, code: e.code, error: e.message };
      return { status: 409, body: sealResponse(this.options.secret, res, signature) };
    }
    const reply = (res: Omit<PeerResponse, 'boot' | 'instance'>, status = 200) => ({
      status,
      body: sealResponse(this.options.secret, { ...res, boot: this.bootId, instance: this.instanceId }, signature),
    });
    if (this.closing) return reply({ ok: false, code: 'closed', error: 'the link is stopping' }, 503);
    if (req.from === this.instanceId) {
      // Two instances with one id (a copied user dir), or a peer URL that leads back here: refused
      // on both sides (the sender sees its own id in this answer), said plainly.
      const reason = sameInstanceReason(this.instanceId, req.fromBoot === this.bootId, this.options.peerUrl);
      this.noteRefused(reason);
      return reply({ ok: false, code: 'identity', error: reason }, 409);
    }
    try {
      switch (req.service) {
        case 'hello':
          return reply({ ok: true });
        case 'heartbeat': {
          this.verified(req.from, (req.body as { view: PeerDutyView }).view);
          return reply({ ok: true, body: { view: this.election.view() } });
        }
        case 'duty/handover': {
          const r = req.body as HandoverRequest;
          this.verified(req.from);
          // The peer stopped passing messages stoppedAgoMs before it sent this; the transit is at
          // most a round trip, taken twice (and 20 ms) for a loaded machine: a little overlap, no gap.
          const catchUpFrom = this.clock.now() - 2 * this.rttMaxMs() - 20 - Math.max(0, r.stoppedAgoMs);
          if (r.stopping) this.peerStopped = true;
          const taken = this.election.receiveHandover(r, catchUpFrom);
          return reply({ ok: true, body: taken });
        }
        default: {
          if (!req.service.startsWith('svc:')) return reply({ ok: false, code: 'service', error: `unknown request "${req.service}"` });
          const name = req.service.slice(4);
          const handler = this.services.get(name);
          if (!handler) return reply({ ok: false, code: 'service', error: `no service "${name}" on the peer (its node is not deployed there)` });
          const body = await handler(req.body);
          return reply({ ok: true, body });
        }
      }
    } catch (err) {
      // The handler's own message, unchanged: services put their reasons there.
      return reply({ ok: false, code: 'handler', error: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- sending ---------------------------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    this.heartbeatInFlight = true;
    const sent = this.clock.now();
    try {
      const res = await this.client.call('heartbeat', { view: this.election.view() }, this.options.heartbeatTimeoutMs);
      if (this.closing) return;
      if (!res.ok) throw new Error(res.error ?? 'heartbeat refused');
      this.rtts.push(this.clock.now() - sent);
      if (this.rtts.length > 16) this.rtts.shift();
      this.verified(res.instance, (res.body as { view: PeerDutyView }).view);
    } catch (err) {
      if (this.closing) return;
      if (err instanceof RefusedError) this.noteRefused(err.message);
      this.lastError = errorText(err);
      if (err instanceof RefusedError) this.lastError = err.message;
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  private async sendHandover(req: HandoverRequest): Promise<boolean> {
    try {
      const res = await this.client.call('duty/handover', req, Math.min(this.options.heartbeatTimeoutMs, 2000));
      const body = (res.body ?? {}) as { taken?: boolean; epoch?: number };
      if (typeof body.epoch === 'number') this.election.observeEpoch(body.epoch);
      return res.ok && !!body.taken;
    } catch {
      return false;
    }
  }

  // ---- state -----------------------------------------------------------------------------------

  private verified(peerInstance: string, view?: PeerDutyView): void {
    this.client.peerInstanceId = peerInstance;
    this.refusedReason = undefined;
    if (view?.boot) this.peerBoot = view.boot;
    if (view) {
      if (view.stopping === false) this.peerStopped = false;
      this.election.exchange(view);
    }
    this.updateState();
  }

  private loop(): void {
    if (this.closing) return;
    const now = this.clock.now();
    if (!this.heartbeatInFlight && now - this.lastHeartbeatAt >= this.options.heartbeatIntervalMs) {
      this.lastHeartbeatAt = now;
      void this.heartbeat();
    }
    this.updateState();
    this.timer = this.clock.setTimeout(() => this.loop(), this.election.tickMs);
  }

  private updateState(): void {
    if (this.closing) return;
    const now = this.clock.now();
    let state: PeerLinkStatus['state'];
    let reason: string;
    if (this.refusedReason && !this.election.linkUp(now)) {
      state = 'refused';
      reason = this.refusedReason;
    } else if (this.election.linkUp(now)) {
      state = 'up';
      reason = `heartbeats answered by ${this.client.peerInstanceId ?? 'the peer'}`;
    } else if (this.downSince === undefined && this.linkStatus.state === 'connecting' && now - this.startedAt < this.options.heartbeatTimeoutMs) {
      state = 'connecting';
      reason = `connecting to ${this.options.peerUrl}`;
    } else {
      state = 'down';
      reason = this.peerStopped ? 'the peer stopped (graceful shutdown or redeploy)' : `no answer from ${this.options.peerUrl}${this.lastError ? `: ${this.lastError}` : ''}`;
    }
    const prev = this.linkStatus;
    const peerBootId = state === 'up' ? this.peerBoot : prev.peerBootId;
    const restarted = state === 'up' && prev.state === 'up' && !!prev.peerBootId && peerBootId !== prev.peerBootId;
    if (state === prev.state && reason === prev.reason && !restarted) return;
    const changed = state !== prev.state;
    this.linkStatus = { state, reason, since: changed || restarted ? Date.now() : prev.since, peerInstanceId: this.client.peerInstanceId, ...(peerBootId ? { peerBootId } : {}) };
    this.emit('state', this.status());
    // The peer restarted within the heartbeat timeout: the link never looked down, but what the
    // peer held in memory is gone. Reported, and the `up` event above makes services catch up.
    if (restarted) this.publishEvent('peer-up', 'info', `peer link up: the peer restarted (new run ${peerBootId}) without the link going down`);
    if (!changed) return;
    if (state === 'up') {
      const downMs = this.downSince !== undefined ? Math.round(now - this.downSince) : undefined;
      this.downSince = undefined;
      this.publishEvent('peer-up', 'info', `peer link up: ${reason}`, { durationMs: downMs });
    } else if (state === 'down') {
      this.downSince = now;
      this.publishEvent('peer-down', this.peerStopped ? 'info' : 'warning', `peer link down: ${reason}`);
    } else if (state === 'refused') {
      this.downSince ??= now;
      this.publishEvent('peer-refused', 'error', `peer link refused: ${reason}`);
    }
  }

  private noteRefused(reason: string): void {
    this.refusedReason = reason;
    this.updateState();
  }

  /** Every replay is refused; reported at most once per 5 s (a flood must not flood the log). */
  private noteReplay(reason: string): void {
    this.replays++;
    const now = this.clock.now();
    if (now - this.lastReplayReport < 5000) return;
    this.lastReplayReport = now;
    this.publishEvent('peer-refused', 'error', this.replays > 1 ? `${reason} (${this.replays} replays refused since start)` : reason);
  }

  private onTransition(t: DutyTransition): void {
    const mine: ServerRole = this.options.preferred === 'primary' ? 'primary' : 'secondary';
    const theirs: ServerRole = mine === 'primary' ? 'secondary' : 'primary';
    if (t.taken) {
      this.history.push({ from: Date.now(), epoch: t.epoch });
      if (this.history.length > 200) this.history.shift();
      this.publishEvent('duty-taken', mine === 'primary' ? 'info' : 'warning', `${this.instanceId} took the duty (epoch ${t.epoch}): ${t.reason}`, { from: theirs, to: mine });
    } else {
      const last = this.history[this.history.length - 1];
      if (last && last.to === undefined) last.to = Date.now();
      this.publishEvent('duty-released', 'info', `${this.instanceId} released the duty (epoch ${t.epoch}): ${t.reason}`, { from: mine, to: theirs });
    }
    this.emit('transition', t);
  }

  private publishEvent(kind: RedundancyEventKind, severity: Severity, reason: string, extra: Partial<RedundancyEvent> = {}): void {
    this.emit('event', { time: Date.now(), pair: this.name, kind, severity, reason, ...extra });
  }

  private loadEpoch(): number {
    if (!this.epochFile) return 0;
    try {
      const e = (JSON.parse(readFileSync(this.epochFile, 'utf8')) as { epoch?: number }).epoch;
      return Number.isSafeInteger(e) && (e as number) > 0 ? (e as number) : 0;
    } catch {
      return 0;
    }
  }

  private saveEpoch(epoch: number): void {
    if (!this.epochFile) return;
    try {
      const tmp = `${this.epochFile}.tmp`;
      writeFileSync(tmp, JSON.stringify({ epoch, instanceId: this.instanceId }) + '\n');
      renameSync(tmp, this.epochFile);
    } catch (err) {
      this.publishEvent('peer-refused', 'error', `could not keep the duty epoch in ${this.epochFile}: ${errorText(err)}`);
    }
  }
}

function sameInstanceReason(id: string, sameBoot: boolean, peerUrl: string): string {
  return sameBoot
    ? `the peer URL ${peerUrl} leads back to this instance: set it to the other instance's URL`
    : `the peer has this instance's id ${id}: its user dir is a copy of this one's (redundancy-instance.json); delete that file in one of the two user dirs and restart that instance`;
}
