// Rate limit with digest: a flapping pair must not flood a mailbox, and nothing may be lost.
import type { Clock, TimerHandle } from './clock';

export interface EventDigestOptions<T> {
  /** Items emitted singly per window; the rest go into the window's digest. 0 = digest everything. */
  maxPerWindow: number;
  windowMs: number;
  clock: Clock;
  /** Called with one item (single, digest null) or with the items collected in a window (single null). */
  emit: (single: T | null, digest: T[] | null) => void;
}

/**
 * Windows are fixed and start with the first item after a quiet period: the first maxPerWindow
 * items of a window are emitted at once, one by one; later ones are collected and emitted as one
 * digest when the window ends. So at most maxPerWindow + 1 messages leave per window. The next
 * item after a window ends opens a new window.
 */
export class EventDigest<T> {
  private readonly maxPerWindow: number;
  private readonly windowMs: number;
  private readonly clock: Clock;
  private readonly emit: (single: T | null, digest: T[] | null) => void;
  private timer: TimerHandle | undefined;
  private sentInWindow = 0;
  private pending: T[] = [];
  private closed = false;

  constructor(opts: EventDigestOptions<T>) {
    if (!Number.isFinite(opts.maxPerWindow) || opts.maxPerWindow < 0) throw new Error(`maxPerWindow must be a number ≥ 0 (got ${opts.maxPerWindow})`);
    if (!Number.isFinite(opts.windowMs) || opts.windowMs <= 0) throw new Error(`windowMs must be a number of milliseconds > 0 (got ${opts.windowMs})`);
    this.maxPerWindow = Math.floor(opts.maxPerWindow);
    this.windowMs = opts.windowMs;
    this.clock = opts.clock;
    this.emit = opts.emit;
  }

  push(item: T): void {
    if (this.closed) return;
    if (this.timer === undefined) {
      this.sentInWindow = 0;
      this.timer = this.clock.setTimeout(() => this.endWindow(), this.windowMs);
    }
    if (this.sentInWindow < this.maxPerWindow) {
      this.sentInWindow++;
      this.emit(item, null);
    } else {
      this.pending.push(item);
    }
  }

  /** Items collected but not yet emitted. */
  pendingCount(): number {
    return this.pending.length;
  }

  /** Emits the collected items now (if any) and ends the current window. */
  flush(): void {
    this.clock.clearTimeout(this.timer);
    this.endWindow();
  }

  /** Stops the window timer; items still collected are dropped (call flush() first to keep them). */
  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private endWindow(): void {
    this.timer = undefined;
    this.sentInWindow = 0;
    if (this.pending.length === 0) return;
    const digest = this.pending;
    this.pending = [];
    this.emit(null, digest);
  }
}
