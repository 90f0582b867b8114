// Cold mode's connections (Kepware: one connection at a time). The active channel is connected, and
// the one being handed over to (make-before-break) or pinned; when nothing is active, the channels
// are tried in turn with back-off until one answers (during the start-up grace, the preferred one
// only); while a less preferred channel serves, the more preferred ones are probed now and then
// (connect, ping, disconnect, in each channel's own queue) to know when to return.
import type { Channel } from './channel';
import type { Clock, TimerHandle } from './clock';
import { classifyServiceLevel } from './service-level';
import type { ServerState } from './types';

/** What the ladder reads of the pair and asks of it. */
export interface ColdHost {
  readonly channels: readonly Channel[];
  readonly running: boolean;
  readonly active: number | null;
  readonly pinned: number | null;
  /** The channel a decided switch waits for, if any. */
  readonly pendingTarget: number | undefined;
  inStartupGrace(): boolean;
  setChannelState(ch: Channel, state: ServerState, reason: string, keepHealthySince?: boolean): void;
  reevaluate(): void;
}

export interface ColdOptions {
  clock: Clock;
  autoPromote: boolean;
  probeIntervalMs: number;
  pingTimeoutMs: number;
}

export class ColdLadder {
  /** The channel tried last while nothing is active (they are tried in turn). */
  private lastTried = 0;
  private probeTimer?: TimerHandle;

  constructor(
    private readonly host: ColdHost,
    private readonly opts: ColdOptions,
  ) {}

  /** The start: the preferred (or pinned) channel is connected, the others are idle standbys. */
  start(): void {
    const first = this.preferred();
    for (const ch of this.host.channels) if (ch.index !== first) this.host.setChannelState(ch, 'idle', 'standby (cold mode)');
    this.host.channels[first].connect();
  }

  /** Connects and releases channels as cold mode wants them now. */
  apply(): void {
    const h = this.host;
    for (const ch of h.channels) {
      const wanted = ch.index === h.active || ch.index === h.pendingTarget || ch.index === h.pinned || (h.active === null && (ch.connected || ch.connecting));
      if (!wanted && h.active !== null && (ch.connected || ch.reconnectPending)) this.release(ch);
      else if (wanted && !ch.connected && !ch.connecting && !ch.reconnectPending && !ch.probing && (ch.index === h.pinned || ch.index === h.pendingTarget)) ch.connect();
    }
    if (h.active === null) this.tryNext();
  }

  /** A channel that is not wanted: disconnected, idle. */
  release(ch: Channel): void {
    ch.cancelReconnect();
    if (ch.connected) ch.close();
    ch.probedHealthy = false;
    this.host.setChannelState(ch, 'idle', 'standby (cold mode)');
  }

  /** A channel failed to connect or lost its connection. */
  afterLoss(ch: Channel): void {
    if (ch.index === this.preferred() && this.host.inStartupGrace()) {
      // Start-up: the preferred channel may just not be listening yet; keep trying it for a moment.
      ch.scheduleReconnect();
      return;
    }
    this.lastTried = ch.index;
    this.host.reevaluate();
  }

  /** While a less preferred channel is active, the more preferred ones are probed. */
  scheduleProbe(): void {
    const h = this.host;
    if (this.probeTimer || !this.opts.autoPromote || h.pinned !== null || h.active === null || h.active === 0) return;
    this.probeTimer = this.opts.clock.setTimeout(() => {
      this.probeTimer = undefined;
      void this.probeNow();
    }, this.opts.probeIntervalMs);
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private preferred(): number {
    return this.host.pinned ?? 0;
  }

  /** Nothing active and nothing on its way: the next channel in turn is tried. */
  private tryNext(): void {
    const h = this.host;
    if (h.channels.some((c) => c.connected || c.connecting || c.reconnectPending || c.probing)) return;
    if (h.inStartupGrace()) {
      h.channels[this.preferred()].scheduleReconnect();
      return;
    }
    const next = h.pinned ?? (this.lastTried + 1) % h.channels.length;
    const ch = h.channels[next];
    this.lastTried = next;
    // Each gets a go at once the first time round, with back-off in later rounds.
    if (ch.failures === 0) ch.connect();
    else ch.scheduleReconnect();
  }

  private async probeNow(): Promise<void> {
    const h = this.host;
    const active = h.active;
    if (!h.running || active === null) return;
    const candidates = h.channels.filter((c) => c.index < active && !c.connected && !c.connecting && !c.probing);
    await Promise.all(
      candidates.map(async (ch) => {
        const result = await ch.probe(this.opts.pingTimeoutMs + 5000);
        if (!h.running || ch.connected || result.reason === 'busy') return;
        const healthy = result.ok && (result.serviceLevel === undefined || classifyServiceLevel(result.serviceLevel) === 'healthy');
        ch.serviceLevel = result.serviceLevel;
        if (healthy) {
          ch.probedHealthy = true;
          ch.healthySince ??= this.opts.clock.now();
          h.setChannelState(ch, 'idle', 'reachable (probed), standby (cold mode)', true);
        } else {
          ch.probedHealthy = false;
          h.setChannelState(ch, 'down', result.ok ? `ServiceLevel ${result.serviceLevel} (probed)` : result.reason);
        }
      }),
    );
    h.reevaluate();
  }
}
