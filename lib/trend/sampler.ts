// Samples named values at a period, on the grid both instances share (multiples of the period
// since the epoch), into the store. The value of a tag is the last one received; its quality:
// good; bad when the source said so (msg.good false / quality bad); n/a when there is none yet, or
// when none came for `staleMs` (IO lost). Citect writes "n/a" too; here those samples are marked,
// found again, and filled from the peer (lib/trend/backfill.ts). Pure: time through `Clock`.
import type { Clock, TimerHandle } from '../core/clock';
import { alignDown } from './intervals';
import type { TrendSample } from './types';

export interface SamplerOptions {
  periodMs: number;
  clock: Clock;
  /** No value for this long makes samples n/a. 0: values never go stale (exception-based sources). */
  staleMs?: number;
  /** Tags sampled from the start, before their first value (as n/a). */
  tags?: string[];
  /** Accept tags not configured (the first message adds them). Default true. */
  acceptNew?: boolean;
  /** Most tags accepted (protection against a topic per message). Default 10 000. */
  maxTags?: number;
  /** Writes one period's samples; runs one at a time. */
  write: (samples: TrendSample[]) => Promise<void>;
  onError: (err: Error) => void;
}

/** A timer more than this many periods late leaves holes rather than repeating old values. */
const MAX_CATCH_UP_PERIODS = 10;

interface TagState {
  value: number | null;
  good: boolean;
  /** ms of the last update (undefined: never). */
  at?: number;
}

export class TrendSampler {
  private readonly tags = new Map<string, TagState>();
  private timer: TimerHandle | undefined;
  private lastTick: number | undefined;
  private writing: Promise<void> = Promise.resolve();
  private running = false;

  constructor(private readonly opts: SamplerOptions) {
    if (!Number.isInteger(opts.periodMs) || opts.periodMs < 10) throw new Error(`sampling period must be a whole number of ms ≥ 10 (got ${opts.periodMs})`);
    for (const t of opts.tags ?? []) this.tags.set(t, { value: null, good: false });
  }

  /** Records a value; throws for one that is not a number (the message is refused, nothing stored). */
  update(tag: string, value: unknown, good = true): void {
    if (!this.tags.has(tag)) {
      if (this.opts.acceptNew === false) throw new Error(`unknown tag ${tag}: not in the configured list`);
      if (this.tags.size >= (this.opts.maxTags ?? 10_000)) throw new Error(`too many tags (${this.tags.size}): ${tag} refused`);
    }
    const v = toNumber(value);
    if (v === undefined) throw new Error(`value ${shown(value)} of ${tag} is not a number (nor a boolean, nor null for no value)`);
    this.tags.set(tag, { value: v, good: good && v !== null, at: this.opts.clock.now() });
  }

  knownTags(): string[] {
    return [...this.tags.keys()];
  }

  /** Whether the tag is sampled here (no copy of the tag list: the backfill asks once per tag). */
  has(tag: string): boolean {
    return this.tags.has(tag);
  }

  get size(): number {
    return this.tags.size;
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
  }

  /** Resolves when the samples written so far are stored. */
  flush(): Promise<void> {
    return this.writing;
  }

  private schedule(): void {
    if (!this.running) return;
    const now = this.opts.clock.now();
    const next = alignDown(now, this.opts.periodMs) + this.opts.periodMs;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), next - now);
  }

  private tick(): void {
    const P = this.opts.periodMs;
    const now = this.opts.clock.now();
    const t = alignDown(now, P);
    // A late timer: the grid points it skipped get the values as they are now, up to a limit.
    const first = this.lastTick !== undefined && t - this.lastTick <= MAX_CATCH_UP_PERIODS * P ? this.lastTick + P : t;
    this.lastTick = t;
    const samples: TrendSample[] = [];
    for (let at = first; at <= t; at += P) for (const [tag, s] of this.tags) samples.push(this.sample(tag, s, at, now));
    if (samples.length) {
      this.writing = this.writing.then(() => this.opts.write(samples)).catch((err: unknown) => this.opts.onError(err instanceof Error ? err : new Error(String(err))));
    }
    this.schedule();
  }

  private sample(tag: string, s: TagState, t: number, now: number): TrendSample {
    const stale = !!this.opts.staleMs && (s.at === undefined || now - s.at > this.opts.staleMs);
    if (s.at === undefined || stale) return { tag, t, value: null, quality: 'na', origin: 'local' };
    if (!s.good) return { tag, t, value: s.value, quality: 'bad', origin: 'local' };
    return { tag, t, value: s.value, quality: 'good', origin: 'local' };
  }
}

/** A trend value: a finite number, a boolean (1/0), a numeric string; null means no value. */
export function toNumber(value: unknown): number | null | undefined {
  if (value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A refused value as the error shows it: NaN and Infinity by name (JSON would say null). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
}
