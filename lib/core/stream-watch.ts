// Hot mode's watch on the live streams, and the tolerances that follow what the servers granted:
// how far behind the most advanced other live stream a channel's is (on the merge's common time
// line, so clock skew alone is no lag), once both have run long enough to be compared.
import type { Channel } from './channel';
import type { ItemSpec } from './driver';
import type { Merge } from './merge';
import type { Clock } from './clock';

/** Shortest run of a stream before it is compared with another's. */
const STREAM_SETTLE_MIN_MS = 1000;

export interface StreamWatchOptions {
  clock: Clock;
  merge: Merge;
  /** Compare the live streams at all (the mode's policy: hot). */
  enabled: boolean;
  /** A fixed tolerance, ms (0 disables); default: from the granted intervals. */
  streamLagMs?: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export class StreamWatch {
  toleranceMs = Infinity;

  constructor(private readonly opts: StreamWatchOptions) {}

  /**
   * Tolerances from what the servers granted, not what was asked: the lag tolerance, and the merge's
   * match and alignment windows. An open62541 server that raises a 50 ms publishing interval to
   * 100 ms widens them; nothing fails over for it.
   */
  update(items: readonly ItemSpec[], channels: readonly Channel[]): void {
    let minSampling = Infinity;
    let maxSampling = 0;
    let maxPublishing = 0;
    for (const it of items) minSampling = Math.min(minSampling, it.samplingIntervalMs);
    for (const ch of channels) {
      for (const g of ch.granted.values()) {
        minSampling = Math.min(minSampling, g.samplingIntervalMs);
        maxSampling = Math.max(maxSampling, g.samplingIntervalMs);
      }
      maxPublishing = Math.max(maxPublishing, ch.publishingIntervalMs ?? 0);
    }
    // Polled channels (timestamps stamped on arrival) see one poll arrive late behind a slow
    // answer or a busy machine: their streams are compared with twice the room.
    const polled = channels.some((ch) => ch.driver.capabilities.timestamps === 'arrival');
    const fixed = this.opts.streamLagMs;
    if (fixed !== undefined) this.toleranceMs = fixed > 0 ? fixed : Infinity;
    else this.toleranceMs = Number.isFinite(minSampling) ? Math.max(polled ? 500 : 250, 5 * Math.max(minSampling, 50), 3 * maxPublishing) : Infinity;
    const coarse = maxPublishing + maxSampling + 100;
    this.opts.merge.setCoarseWindow(coarse);
    this.opts.merge.setAlignWindow(Math.max(2000, 2 * (this.opts.pingIntervalMs + this.opts.pingTimeoutMs) + coarse));
  }

  /**
   * A stream is compared only once it has run for a while with its current items: the first publish
   * cycles after a connect or an item change start at arbitrary phases, and that gap is no stall.
   */
  settled(ch: Channel): boolean {
    if (!ch.connected || ch.dataSince === undefined) return false;
    return this.opts.clock.now() - ch.dataSince >= Math.max(STREAM_SETTLE_MIN_MS, 2 * this.toleranceMs);
  }

  /** How far a channel's stream is behind the most advanced other live one, when beyond the tolerance. */
  lagOf(ch: Channel, channels: readonly Channel[]): { ms: number; name: string } | undefined {
    if (!this.opts.enabled || !this.settled(ch)) return undefined;
    const others = channels.filter((o) => o !== ch && o.ready && o.state !== 'down' && this.settled(o)).map((o) => o.index);
    const { ms, behind } = this.opts.merge.lag(ch.index, others);
    return behind !== null && ms > this.toleranceMs ? { ms, name: channels[behind].name } : undefined;
  }
}
