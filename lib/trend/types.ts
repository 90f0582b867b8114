// The vocabulary of the trend server pair: samples on a time grid, their quality, the intervals
// that are missing, and the store both backends implement.

/** good: a value read; bad: the source said its value is bad; na: no value (IO lost, stale, none yet). */
export type Quality = 'good' | 'bad' | 'na';

export interface TrendSample {
  tag: string;
  /** ms since epoch, a multiple of the tag's period when sampled here. */
  t: number;
  /** null when there is no value (quality na, or bad without a last value). */
  value: number | null;
  quality: Quality;
  /** local: sampled by this instance; peer: backfilled from the peer's good sample. */
  origin: 'local' | 'peer';
}

/** A half-open interval [from, to) of ms since epoch. */
export interface TimeRange {
  from: number;
  to: number;
}

/**
 * An interval of one tag without good samples, remembered until it is filled.
 * pending: to be fetched from the peer (never tried, or the peer was down or failed);
 * both: the peer has no good samples there either (reported; re-checked a few times, never invented).
 */
export interface TrendGap extends TimeRange {
  tag: string;
  state: 'pending' | 'both';
  attempts: number;
  lastAttempt?: number;
  reason: string;
}

/** One bucket of a decimated query (good samples only). */
export interface TrendBucket {
  /** Bucket start, ms. */
  t: number;
  min: number;
  max: number;
  avg: number;
  count: number;
  /** How many of the bucket's samples were backfilled from the peer. */
  peer: number;
}

export interface TrendStore {
  readonly backend: 'sqlite' | 'postgres';
  readonly location: string;
  /**
   * Samples taken here: inserted, or replacing what is stored at the same time, except that a bad
   * or n/a sample never replaces a good one (a late write must not undo a backfill).
   */
  writeSamples(group: string, samples: TrendSample[]): Promise<void>;
  /**
   * Samples from the peer: inserted where nothing is stored, or replacing a bad/na sample; a good
   * sample stored here is never replaced. Returns how many rows were written.
   */
  fillSamples(group: string, samples: TrendSample[]): Promise<number>;
  /** Samples of [from, to), oldest first, at most `limit`. */
  readSamples(group: string, tag: string, from: number, to: number, limit: number): Promise<TrendSample[]>;
  /** First and last sample time of a tag (any quality). */
  sampleBounds(group: string, tag: string): Promise<{ first: number; last: number } | undefined>;
  countSamples(group: string, tag: string, from: number, to: number): Promise<number>;
  tags(group: string): Promise<string[]>;
  /**
   * Intervals of [from, to) without good samples on the tag's grid (see lib/trend/intervals.ts):
   * a hole between two good samples further apart than 1.5 periods, and the ends.
   */
  missing(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]>;
  /** Good samples of [from, to) in buckets of `bucketMs` starting at `from`; empty buckets left out. */
  aggregate(group: string, tag: string, from: number, to: number, bucketMs: number): Promise<TrendBucket[]>;
  /** Runs of peer-origin samples in [from, to) (what the backfill wrote), merged. */
  peerRanges(group: string, tag: string, from: number, to: number, periodMs: number): Promise<TimeRange[]>;
  listGaps(group: string, tag?: string): Promise<TrendGap[]>;
  /** Replaces every remembered gap of a tag (one transaction). */
  replaceGaps(group: string, tag: string, gaps: TrendGap[]): Promise<void>;
  /** Deletes samples and gaps older than `before`; returns the number of samples deleted. */
  prune(group: string, before: number): Promise<number>;
  close(): Promise<void>;
}

export const QUALITY_CODE: Record<Quality, number> = { good: 0, bad: 1, na: 2 };
export const QUALITY_OF_CODE: Quality[] = ['good', 'bad', 'na'];
