// One trend server of a pair: samples into the local store, backfills from the peer, prunes what
// is older than the retention, answers chart queries. What the trend-backfill node runs; the unit
// tests run two of them over a pair of fake links.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock';
import type { PeerLinkApi } from '../peer/api';
import { type BackfillEvent, type BackfillOptions, type BackfillState, TrendBackfill } from './backfill';
import { type TrendQueryResult, parseQuery, runQuery } from './query';
import { TrendSampler } from './sampler';
import type { TrendGap, TrendStore } from './types';

export interface TrendServerOptions extends Omit<BackfillOptions, 'tags' | 'clock' | 'group' | 'periodMs'> {
  group: string;
  link: PeerLinkApi;
  store: TrendStore;
  clock: Clock;
  periodMs: number;
  staleMs?: number;
  /** Configured tags (sampled from the start); with acceptNew, any tag that arrives is added. */
  tags?: string[];
  acceptNew?: boolean;
  /** Samples older than this are deleted (hourly). Default 7 days; 0: keep everything. */
  retentionMs?: number;
}

export interface TrendServerEvent {
  kind: BackfillEvent['kind'] | 'store-error';
  severity: 'info' | 'warning' | 'error';
  reason: string;
  durationMs?: number;
}

export interface TrendServerEvents {
  event: [TrendServerEvent];
  state: [BackfillState];
}

const PRUNE_EVERY_MS = 3600_000;

export class TrendServer extends EventEmitter<TrendServerEvents> {
  readonly sampler: TrendSampler;
  readonly backfill: TrendBackfill;
  private pruneTimer: TimerHandle | undefined;
  private closed = false;
  /** Tags found in the store at start. */
  private readonly storeTags = new Set<string>();

  private constructor(private readonly o: TrendServerOptions) {
    super();
    this.sampler = new TrendSampler({
      periodMs: o.periodMs,
      clock: o.clock,
      staleMs: o.staleMs,
      tags: o.tags,
      acceptNew: o.acceptNew,
      write: (samples) => o.store.writeSamples(o.group, samples),
      onError: (err) => this.storeError(err),
    });
    const live = (tag: string) => this.sampler.has(tag);
    this.backfill = new TrendBackfill(o.store, o.link, { ...o, tags: () => this.allTags(), isLive: live });
    this.backfill.on('event', (e) => this.emit('event', e));
    this.backfill.on('state', (s) => this.emit('state', s));
  }

  static async start(options: TrendServerOptions): Promise<TrendServer> {
    const server = new TrendServer(options);
    // Tags trended before a restart are backfilled and queryable; they are sampled again once a
    // value comes (a tag no longer fed is not filled with n/a for ever).
    for (const t of await options.store.tags(options.group)) server.storeTags.add(t);
    server.sampler.start();
    await server.backfill.start();
    server.schedulePrune(0);
    return server;
  }

  update(tag: string, value: unknown, good = true): void {
    this.sampler.update(tag, value, good);
  }

  /** Sampled now, or trended before (in the store). */
  allTags(): string[] {
    return [...new Set([...this.sampler.knownTags(), ...this.storeTags])];
  }

  async query(raw: Record<string, unknown>): Promise<TrendQueryResult> {
    const q = parseQuery(raw, this.allTags(), this.o.clock.now());
    return runQuery(this.o.store, this.o.group, q, this.o.periodMs, this.backfill.listGaps(q.tag));
  }

  gaps(tag?: string): TrendGap[] {
    return this.backfill.listGaps(tag);
  }

  state(): BackfillState {
    return this.backfill.state();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.o.clock.clearTimeout(this.pruneTimer);
    await this.backfill.stop();
    await this.sampler.stop();
  }

  private schedulePrune(delay: number): void {
    const keep = this.o.retentionMs ?? 7 * 86_400_000;
    if (!keep || this.closed) return;
    this.pruneTimer = this.o.clock.setTimeout(() => {
      this.o.store.prune(this.o.group, this.o.clock.now() - keep).catch((err) => this.storeError(err)).finally(() => this.schedulePrune(PRUNE_EVERY_MS));
    }, delay);
  }

  private storeError(err: unknown): void {
    this.emit('event', { kind: 'store-error', severity: 'error', reason: `trend store: ${err instanceof Error ? err.message : String(err)}` });
  }
}
