// Who holds the duty of a peer link (Citect's report server hot standby), decided on each instance
// from what it knows: the heartbeat exchanges with the peer and, when configured, the MQTT witness.
// Pure: time through `Clock` (monotonic in production), every effect through `DutyHost`. The rules
// (docs/peer-link.md has the timeline):
//
// Link up (a verified exchange within the heartbeat timeout T):
//   - one holds: it keeps the duty; the preferred instance gets it back from the other once the
//     link has been up for the hold-off (if hand-back is on): the holder releases first, then tells
//     the peer, which takes it (never two holders; no message lost, see catchUpFrom);
//   - none holds: the instance of higher priority (preferred primary; then the lower instance id)
//     takes it; the other never takes it while the link is up;
//   - both hold (after a partition without witness): the lower rank releases at once (rank: higher
//     epoch, then priority).
// Link down:
//   - without witness: the non-holder takes the duty once no exchange succeeded for T. A cut link
//     while both run then gives two holders (said in the dialog, the help and the status).
//   - with witness: the non-holder takes it only when, besides, no other instance's claim has been
//     on the witness for G = 3 heartbeat intervals (the broker saw the holder die and published its
//     last will, or the holder cleared its claim), and it can reach the witness. The holder keeps
//     it while the link or the witness confirms it: a link exchange within T - I/2, or a witness
//     ping it sent within 2 I acknowledged by the broker. Both gone: it releases, before the other
//     may take (the will is published after the broker stopped hearing it, and the other waits G
//     after that). A taker publishes its claim, and holds after the broker acknowledged it and half
//     an interval more passed without a competing claim of higher rank.
// Graceful stop: the holder releases, clears its claim and hands over at once over the link.
// Every take increases the epoch (persisted), so a stale holder's late output can be recognised.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock';
import type { DutyStatus } from './api';

export type PreferredRole = 'primary' | 'standby';

export interface DutyOptions {
  instanceId: string;
  preferred: PreferredRole;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** Give the duty back to the preferred instance when it returns (else stay). */
  handback: boolean;
  holdOffMs: number;
  witness: boolean;
  /** The last epoch this instance knew of (persisted across restarts). */
  initialEpoch: number;
  /** Wall clock for `since` in statuses (ms since epoch). */
  wallNow?: () => number;
  /** This run of the instance (a new one at each start): the peer's hold-off restarts with it. */
  bootId?: string;
}

/** What the peer says about itself in every heartbeat. */
export interface PeerDutyView {
  instanceId: string;
  preferred: PreferredRole;
  holder: boolean;
  epoch: number;
  stopping: boolean;
  /** The peer's run; a new one (restart, redeploy) counts as a return: the hold-off starts again. */
  boot?: string;
}

export interface WitnessClaim {
  instance: string;
  epoch: number;
  preferred: PreferredRole;
}

export interface HandoverRequest {
  /** The epoch the sender held (0: it held nothing; a stop notice). */
  epoch: number;
  holder: boolean;
  stopping: boolean;
  reason: string;
  /** ms between the sender's release and the send (sender's own clock: a difference). */
  stoppedAgoMs: number;
}

export interface DutyHost {
  /** Publishes this instance's retained claim; resolves when the broker acknowledged it. */
  publishClaim(epoch: number): Promise<void>;
  clearClaim(): Promise<void>;
  /** Tells the peer; resolves true when the peer took the duty. */
  handOver(request: HandoverRequest): Promise<boolean>;
  persistEpoch(epoch: number): void;
}

export interface DutyTransition {
  taken: boolean;
  epoch: number;
  reason: string;
  /** On a coordinated take: pass the messages received since this time (engine clock). */
  catchUpFrom?: number;
}

export interface DutyEvents {
  duty: [DutyStatus];
  transition: [DutyTransition];
}

interface Rankable {
  instance: string;
  epoch: number;
  preferred: PreferredRole;
}

/** Priority alone: the preferred primary first, then the lower instance id. */
export function priorityOver(a: { instance: string; preferred: PreferredRole }, b: { instance: string; preferred: PreferredRole }): boolean {
  if (a.preferred !== b.preferred) return a.preferred === 'primary';
  return a.instance < b.instance;
}

/** Rank of two holders: the newer epoch, then priority. */
export function outranks(a: Rankable, b: Rankable): boolean {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch;
  return priorityOver(a, b);
}

export class DutyElection extends EventEmitter<DutyEvents> {
  readonly tickMs: number;
  readonly holderLinkLeaseMs: number;
  readonly witnessLeaseMs: number;
  readonly claimAbsenceMs: number;
  /** After the broker acknowledged a claim: time for a competing claim to show up. */
  readonly claimSettleMs: number;

  private holder = false;
  private epoch: number;
  private maxEpoch: number;
  private reason = 'starting';
  private since: number;
  private stopping = false;
  private claiming = false;
  private handingOver = false;
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;

  private lastVerified: number | undefined;
  private linkUpSince: number | undefined;
  private peer: PeerDutyView | undefined;
  /** When the peer last said it held the duty (a release just after is a hand-over in flight). */
  private peerHeldAt: number | undefined;

  private witnessUp = false;
  private claims = new Map<string, WitnessClaim>();
  /** Since when no other instance's claim is known on the witness (undefined: one is). */
  private othersAbsentSince: number | undefined;
  private lastPingAckSentAt: number | undefined;
  private lastStatusKey = '';

  constructor(
    readonly options: DutyOptions,
    private readonly host: DutyHost,
    private readonly clock: Clock,
  ) {
    super();
    const i = options.heartbeatIntervalMs;
    this.tickMs = Math.max(20, Math.min(250, Math.floor(i / 8)));
    this.holderLinkLeaseMs = options.heartbeatTimeoutMs - i / 2;
    this.witnessLeaseMs = 2 * i;
    this.claimAbsenceMs = 3 * i;
    this.claimSettleMs = i / 2;
    this.epoch = options.initialEpoch;
    this.maxEpoch = options.initialEpoch;
    this.startedAt = clock.now();
    this.since = this.wall();
  }

  start(): void {
    this.setReason(this.options.witness ? 'waiting for the peer or the witness' : 'waiting for the peer');
    this.schedule();
  }

  status(): DutyStatus {
    return {
      holder: this.holder,
      epoch: this.holder ? this.epoch : this.maxEpoch,
      reason: this.reason,
      witness: this.options.witness ? (this.witnessUp ? 'up' : 'down') : 'none',
      since: this.since,
    };
  }

  isStopping(): boolean {
    return this.stopping;
  }

  /** What this instance tells the peer in heartbeats. */
  view(): PeerDutyView {
    return { instanceId: this.options.instanceId, preferred: this.options.preferred, holder: this.holder, epoch: this.holder ? this.epoch : this.maxEpoch, stopping: this.stopping, boot: this.options.bootId };
  }

  linkUp(now = this.clock.now()): boolean {
    return this.lastVerified !== undefined && now - this.lastVerified < this.options.heartbeatTimeoutMs;
  }

  /** A verified exchange with the peer (its heartbeat, or its answer to ours). */
  exchange(peer: PeerDutyView): void {
    const now = this.clock.now();
    if (!this.linkUp(now) || (peer.boot !== undefined && this.peer?.boot !== undefined && peer.boot !== this.peer.boot)) this.linkUpSince = now;
    this.lastVerified = now;
    this.peer = peer;
    if (peer.holder) this.peerHeldAt = now;
    this.seeEpoch(peer.epoch);
    this.evaluate();
  }

  witnessConnected(up: boolean): void {
    if (up === this.witnessUp) return;
    this.witnessUp = up;
    // Claims are known only while connected. Retained claims may arrive before the subscription is
    // confirmed: kept. After a (re)connection, absence counts only from now (time for them to come).
    if (!up) {
      this.claims.clear();
      this.lastPingAckSentAt = undefined;
    }
    this.othersAbsentSince = up && this.othersLive().length === 0 ? this.clock.now() : undefined;
    if (up) {
      if (this.holder) this.host.publishClaim(this.epoch).catch(() => undefined);
      else this.host.clearClaim().catch(() => undefined);
    }
    this.emitStatus();
    this.evaluate();
  }

  /** A retained claim seen on the witness (null: cleared, by the instance or by its last will). */
  claimSeen(instance: string, claim: WitnessClaim | null): void {
    if (instance === this.options.instanceId) return;
    const now = this.clock.now();
    if (claim) {
      this.claims.set(instance, claim);
      this.seeEpoch(claim.epoch);
      this.othersAbsentSince = undefined;
    } else {
      this.claims.delete(instance);
      if (this.othersLive().length === 0 && this.othersAbsentSince === undefined) this.othersAbsentSince = now;
    }
    this.evaluate();
  }

  /** An epoch learned outside heartbeats (the peer's answer to a hand-over). */
  observeEpoch(epoch: number): void {
    this.seeEpoch(epoch);
  }

  /** The broker acknowledged a witness ping sent at `sentAt` (engine clock). */
  pingAcked(sentAt: number): void {
    if (this.lastPingAckSentAt === undefined || sentAt > this.lastPingAckSentAt) this.lastPingAckSentAt = sentAt;
  }

  /** The peer hands the duty over (graceful stop or hand-back), or says it is stopping. */
  receiveHandover(req: HandoverRequest, catchUpFrom: number): { taken: boolean; epoch: number } {
    this.seeEpoch(req.epoch);
    if (this.peer) this.peer = { ...this.peer, holder: false, stopping: req.stopping };
    if (!req.holder || this.stopping) return { taken: false, epoch: this.maxEpoch };
    if (!this.holder) this.take(`handed over by the peer (${req.reason})`, catchUpFrom);
    return { taken: this.holder, epoch: this.epoch };
  }

  /** Graceful stop: release and hand over at once. Resolves when the peer answered (or not). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const held = this.holder;
    const epoch = this.epoch;
    const stoppedAt = this.clock.now();
    if (held) this.release('stopped: handed over to the peer');
    else this.setReason('stopped');
    const clear = this.options.witness && this.witnessUp ? this.host.clearClaim().catch(() => undefined) : Promise.resolve();
    const told = this.host
      .handOver({ epoch: held ? epoch : 0, holder: held, stopping: true, reason: 'graceful stop', stoppedAgoMs: this.clock.now() - stoppedAt })
      .catch(() => false);
    await Promise.all([clear, told]);
  }

  private wall(): number {
    return (this.options.wallNow ?? Date.now)();
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.evaluate();
      this.schedule();
    }, this.tickMs);
  }

  private seeEpoch(e: number): void {
    if (Number.isSafeInteger(e) && e > this.maxEpoch) this.maxEpoch = e;
  }

  private me(epoch = this.epoch): Rankable {
    return { instance: this.options.instanceId, epoch, preferred: this.options.preferred };
  }

  private othersLive(): WitnessClaim[] {
    return [...this.claims.values()];
  }

  private witnessLease(now: number): boolean {
    return this.witnessUp && this.lastPingAckSentAt !== undefined && now - this.lastPingAckSentAt < this.witnessLeaseMs;
  }

  private peerPriorityOverMe(peer: PeerDutyView): boolean {
    return priorityOver({ instance: peer.instanceId, preferred: peer.preferred }, { instance: this.options.instanceId, preferred: this.options.preferred });
  }

  /** The whole rule, applied to what is known now. */
  evaluate(): void {
    if (this.stopping || this.claiming || this.handingOver) return;
    const now = this.clock.now();
    const linkUp = this.linkUp(now);
    const peer = linkUp ? this.peer : undefined;
    if (this.holder) {
      if (peer?.holder && outranks({ instance: peer.instanceId, epoch: peer.epoch, preferred: peer.preferred }, this.me())) {
        this.release(`the peer holds the duty too, with epoch ${peer.epoch} (newer or of higher priority): released`);
        return;
      }
      if (this.options.witness) {
        const higher = this.othersLive().find((c) => outranks(c, this.me()));
        if (higher) {
          this.release(`a claim of higher rank is on the witness (instance ${higher.instance}, epoch ${higher.epoch}): released`);
          return;
        }
        const linkLease = this.lastVerified !== undefined && now - this.lastVerified < this.holderLinkLeaseMs;
        if (!linkLease && !this.witnessLease(now)) {
          this.release('neither the peer link nor the witness confirms this holder any more: released (fencing), the peer may take over');
          return;
        }
      }
      if (peer && !peer.holder && !peer.stopping && this.options.handback && this.peerPriorityOverMe(peer)) {
        const upFor = now - (this.linkUpSince ?? now);
        if (upFor >= this.options.holdOffMs) {
          void this.handOver(`the preferred instance has been back for ${Math.round(upFor / 100) / 10} s (hold-off ${this.options.holdOffMs / 1000} s)`);
          return;
        }
        this.setReason(`holds the duty; hands it back to the preferred instance after the hold-off (${Math.ceil((this.options.holdOffMs - upFor) / 1000)} s)`);
        return;
      }
      if (peer) this.setReason(peer.stopping ? 'holds the duty; the peer is stopping' : 'holds the duty; the peer is standing by');
      else if (this.options.witness) this.setReason(this.witnessLease(now) ? 'holds the duty; the link is down, the witness confirms the claim' : 'holds the duty; the link confirms it, the witness is unreachable');
      else this.setReason('holds the duty; the peer link is down (no witness: the peer may hold it too)');
      return;
    }

    // Not holding.
    if (peer) {
      if (peer.holder) {
        this.setReason(peer.stopping ? 'standby: the peer is stopping and hands the duty over' : 'standby: the peer holds the duty');
        return;
      }
      if (this.peerPriorityOverMe(peer) && !peer.stopping) {
        this.setReason('standby: the preferred peer takes the duty');
        return;
      }
      // The peer released a moment ago: its hand-over request (with the catch-up point) is on its way.
      if (this.peerHeldAt !== undefined && now - this.peerHeldAt < this.options.heartbeatTimeoutMs) {
        this.setReason('standby: the peer released the duty, waiting for its hand-over');
        return;
      }
      this.take(peer.stopping ? 'the peer stopped' : 'neither instance held the duty; this one has priority');
      return;
    }
    const silentFor = now - (this.lastVerified ?? this.startedAt);
    if (silentFor < this.options.heartbeatTimeoutMs) {
      this.setReason(this.lastVerified === undefined ? 'waiting for the peer' : 'standby: the peer is silent');
      return;
    }
    const silent = `no heartbeat for ${Math.round(silentFor / 100) / 10} s`;
    if (!this.options.witness) {
      this.take(`${silent}; no witness: taken by priority and timeout (if the link is cut while the peer runs, both hold the duty)`);
      return;
    }
    if (!this.witnessUp) {
      this.setReason(`standby: ${silent}, and the witness is unreachable: not taking over (it could not prove the peer is gone)`);
      return;
    }
    const live = this.othersLive();
    if (live.length > 0) {
      this.setReason(`standby: ${silent}, but the claim of ${live[0].instance} (epoch ${live[0].epoch}) stands on the witness: the peer is alive, the link alone is cut`);
      return;
    }
    const absentFor = now - (this.othersAbsentSince ?? now);
    if (absentFor < this.claimAbsenceMs) {
      this.setReason(`standby: ${silent}; no claim on the witness, confirming (${Math.round(absentFor)} of ${this.claimAbsenceMs} ms)`);
      return;
    }
    void this.claimAndTake(`${silent}, and no claim on the witness for ${Math.round(absentFor / 100) / 10} s (the broker saw the holder go)`);
  }

  private take(reason: string, catchUpFrom?: number, epoch = this.maxEpoch + 1): void {
    this.epoch = epoch;
    this.maxEpoch = Math.max(this.maxEpoch, epoch);
    this.host.persistEpoch(this.epoch);
    this.holder = true;
    this.since = this.wall();
    this.reason = `took the duty: ${reason}`;
    if (this.options.witness && this.witnessUp) this.host.publishClaim(this.epoch).catch(() => undefined);
    this.emitStatus();
    this.emit('transition', { taken: true, epoch: this.epoch, reason, catchUpFrom });
  }

  private release(reason: string): void {
    if (!this.holder) return;
    this.holder = false;
    this.since = this.wall();
    this.reason = reason;
    if (this.options.witness && this.witnessUp && !this.stopping) this.host.clearClaim().catch(() => undefined);
    this.emitStatus();
    this.emit('transition', { taken: false, epoch: this.epoch, reason });
  }

  /** Witness take-over: claim, wait for the broker's acknowledgement and one interval, then hold. */
  private async claimAndTake(reason: string): Promise<void> {
    this.claiming = true;
    const epoch = this.maxEpoch + 1;
    this.setReason(`claiming the duty with epoch ${epoch} on the witness: ${reason}`);
    let ok = false;
    try {
      await this.host.publishClaim(epoch);
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.claimSettleMs));
      const now = this.clock.now();
      const rival = this.othersLive().find((c) => outranks(c, this.me(epoch)));
      ok = !this.stopping && !rival && !this.linkUp(now) && this.witnessUp;
      if (!ok && !this.stopping) this.setReason(rival ? `standby: withdrew the claim, instance ${rival.instance} claimed with higher rank` : 'standby: withdrew the claim (the link or the witness changed meanwhile)');
    } catch {
      this.setReason('standby: the witness did not acknowledge the claim');
    } finally {
      this.claiming = false;
    }
    if (ok) this.take(reason, undefined, epoch); else if (!this.stopping) {
      this.host.clearClaim().catch(() => undefined);
    }
  }

  /** Hand-back: release first, then the peer takes it. */
  private async handOver(reason: string): Promise<void> {
    const epoch = this.epoch;
    const stoppedAt = this.clock.now();
    this.handingOver = true;
    this.release(`handed the duty back: ${reason}`);
    try {
      await this.host.handOver({ epoch, holder: true, stopping: false, reason, stoppedAgoMs: this.clock.now() - stoppedAt });
    } catch {
      /* the peer takes it by the rules if it did not get the message */
    } finally {
      this.handingOver = false;
    }
  }

  private setReason(reason: string): void {
    this.reason = reason;
    this.emitStatus();
  }

  private emitStatus(): void {
    const s = this.status();
    const key = `${s.holder}|${s.epoch}|${s.witness}|${s.reason.replace(/[\d.]+ (s|ms)\b/g, '')}`;
    if (key === this.lastStatusKey) return;
    this.lastStatusKey = key;
    this.emit('duty', s);
  }
}
