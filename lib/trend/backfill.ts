// The trend pair over the peer link: finds the intervals this instance is missing (no samples;
// samples stored bad or n/a because IO was lost) and fills them from the peer's good samples, in
// bounded chunks, yielding to the event loop between chunks. Service "trend-backfill/<group>"; its
// requests and answers (hello, read) are in lib/trend/protocol.ts.
// What the peer cannot fill is never invented: where it has no good sample either (after its
// first), the interval is remembered as missing on both, re-checked `bothRetries` times (a peer
// whose clock is behind may simply not have sampled it yet), then reported. What fails because
// the peer is down or answers an error stays pending and is retried at every run: when the link
// comes up, and every `retryMs` while it is up.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock';
import type { PeerLinkApi, PeerLinkStatus } from '../peer/api';
import { alignDown, alignUp, formatRange, gridPoints, holesFromGood, intersect, subtract, union } from './intervals';
import { MAX_READ, TREND_BACKFILL_VERSION, answerRead, checkRequest, decodeSamples } from './protocol';
import type { TimeRange, TrendGap, TrendStore } from './types';

export { TREND_BACKFILL_VERSION, decodeSamples, encodeSamples } from './protocol';
/** Rows per write transaction of a backfill. */
const FILL_SLICE = 1000;

export interface BackfillOptions {
  group: string;
  clock: Clock;
  periodMs: number;
  /** The tags this instance trends (sampled now, and known from the store). */
  tags: () => string[];
  /** Sampled now (default: all). A tag not sampled is looked at only up to its last sample: it stopped. */
  isLive?: (tag: string) => boolean;
  /** Samples per request. Default 2000 (Plant SCADA asks for 500). */
  chunk?: number;
  /** Runs while the link is up. Default 60 s. */
  retryMs?: number;
  /** How far back the first run looks for holes. Default 24 h. */
  scanWindowMs?: number;
  /** The newest part not looked at yet: the peer may not have sampled it (clocks differ). Default max(2 periods, 10 s). */
  settleMs?: number;
  /** Re-checks of an interval missing on both before it is final. Default 3. */
  bothRetries?: number;
  /** Scan slice (one query), to keep each step short. Default 1 h. */
  scanSliceMs?: number;
  /** At start with the link not up: first pass (finding holes, reporting them deferred) after this. Default 10 s. */
  startWaitMs?: number;
}

export interface BackfillEvent {
  kind: 'backfill-started' | 'backfill-progress' | 'backfill-complete' | 'backfill-deferred' | 'trend-gap-both';
  severity: 'info' | 'warning' | 'error';
  reason: string;
  durationMs?: number;
  tag?: string;
  ranges?: TimeRange[];
}

export interface BackfillState {
  running: boolean;
  pending: number;
  pendingSamples: number;
  both: number;
  filledTotal: number;
  lastRun?: number;
  lastError?: string;
  link: PeerLinkStatus['state'];
}

export interface BackfillEvents {
  event: [BackfillEvent];
  state: [BackfillState];
  /** Samples written from the peer (tag, count). */
  filled: [string, number];
}

export class TrendBackfill extends EventEmitter<BackfillEvents> {
  readonly service: string;
  private readonly o: Required<Omit<BackfillOptions, 'tags' | 'isLive'>> & { tags: () => string[]; isLive: (tag: string) => boolean };
  private readonly gaps = new Map<string, TrendGap[]>();
  private readonly scannedTo = new Map<string, number>();
  private unregister: (() => void) | undefined;
  private timer: TimerHandle | undefined;
  private run: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private filledTotal = 0;
  private lastRun: number | undefined;
  private lastError: string | undefined;
  private helloKicked = false;

  constructor(
    private readonly store: TrendStore,
    private readonly link: PeerLinkApi,
    options: BackfillOptions,
  ) {
    super();
    const P = options.periodMs;
    this.o = {
      chunk: 2000,
      retryMs: 60_000,
      scanWindowMs: 24 * 3600_000,
      settleMs: Math.max(2 * P, 10_000),
      bothRetries: 3,
      scanSliceMs: 3600_000,
      startWaitMs: 10_000,
      isLive: () => true,
      ...options,
    };
    if (this.o.chunk < 1 || this.o.chunk > MAX_READ) throw new Error(`backfill chunk must be 1..${MAX_READ} samples`);
    this.service = `trend-backfill/${options.group}`;
  }

  async start(): Promise<void> {
    for (const g of await this.store.listGaps(this.o.group)) {
      const list = this.gaps.get(g.tag) ?? [];
      list.push(g);
      this.gaps.set(g.tag, list);
    }
    this.unregister = this.link.register(this.service, (body) => this.handle(body));
    this.link.on('state', this.onLinkState);
    if (this.link.status().state === 'up') this.kick();
    else this.timer = this.o.clock.setTimeout(() => this.kick(), this.o.startWaitMs);
    this.emitState();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unregister?.();
    this.link.off('state', this.onLinkState);
    this.o.clock.clearTimeout(this.timer);
    await this.run?.catch(() => undefined);
  }

  /** Looks for holes and fills what it can, now (coalesces with a running pass). */
  kick(): void {
    if (this.stopped) return;
    if (this.run) {
      this.again = true;
      return;
    }
    this.run = this.pass()
      .catch((err: unknown) => {
        this.lastError = err instanceof Error ? err.message : String(err);
      })
      .finally(() => {
        this.run = undefined;
        this.emitState();
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        } else this.schedule();
      });
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.run) await this.run.catch(() => undefined);
  }

  /** Remembered gaps (pending and missing on both), per tag. */
  listGaps(tag?: string): TrendGap[] {
    if (tag !== undefined) return [...(this.gaps.get(tag) ?? [])];
    return [...this.gaps.values()].flat().sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : a.from - b.from));
  }

  state(): BackfillState {
    const all = this.listGaps();
    const pending = all.filter((g) => g.state === 'pending');
    return {
      running: !!this.run,
      pending: pending.length,
      pendingSamples: pending.reduce((s, g) => s + gridPoints(g, this.o.periodMs), 0),
      both: all.length - pending.length,
      filledTotal: this.filledTotal,
      ...(this.lastRun ? { lastRun: this.lastRun } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      link: this.link.status().state,
    };
  }

  // ---- serving the peer ----

  private async handle(body: unknown): Promise<unknown> {
    const b = checkRequest(body);
    if (b.op === 'hello') {
      // The peer's service is up: if our last pass could not reach it, try again now.
      // Once per retry period: two instances failing after hello must not bounce passes.
      if (this.lastError && !this.run && !this.stopped && !this.helloKicked) {
        this.helloKicked = true;
        this.kick();
      }
      return { v: TREND_BACKFILL_VERSION, instance: this.link.instanceId, periodMs: this.o.periodMs };
    }
    return answerRead(this.store, this.o.group, this.o.periodMs, b);
  }

  // ---- passes ----

  private readonly onLinkState = (s: PeerLinkStatus): void => {
    if (s.state === 'up') this.kick();
    this.emitState();
  };

  private schedule(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.link.status().state !== 'up') return;
    this.timer = this.o.clock.setTimeout(() => {
      this.helloKicked = false;
      this.kick();
    }, this.o.retryMs);
  }

  private async pass(): Promise<void> {
    const t0 = this.o.clock.now();
    await this.scan();
    const todo = this.listGaps().filter((g) => g.state === 'pending' || g.attempts < this.o.bothRetries);
    if (todo.length === 0) return;
    const samples = todo.reduce((s, g) => s + gridPoints(g, this.o.periodMs), 0);
    if (this.link.status().state !== 'up') {
      this.emit('event', { kind: 'backfill-deferred', severity: 'warning', reason: `${todo.length} interval${todo.length === 1 ? '' : 's'} (${samples} samples) wait for the peer: the peer link is ${this.link.status().state} (${this.link.status().reason})` });
      return;
    }
    const hello = (await this.link.request(this.service, { op: 'hello', v: TREND_BACKFILL_VERSION }).catch((err: unknown) => {
      this.deferAll(todo.length, samples, err);
      return undefined;
    })) as { v?: number; periodMs?: number } | undefined;
    if (!hello) return;
    if (hello.v !== TREND_BACKFILL_VERSION) return this.deferAll(todo.length, samples, new Error(`the peer speaks trend-backfill version ${String(hello.v)}`));
    if (hello.periodMs !== this.o.periodMs) return this.deferAll(todo.length, samples, new Error(`the peer samples every ${hello.periodMs} ms, this instance every ${this.o.periodMs} ms: configure the same period on both`));
    this.emit('event', { kind: 'backfill-started', severity: 'info', reason: `backfilling ${todo.length} interval${todo.length === 1 ? '' : 's'} of ${new Set(todo.map((g) => g.tag)).size} tag(s), up to ${samples} samples, from the peer` });
    this.emitState();
    let filled = 0;
    let done = 0;
    let failed: unknown;
    const both: Array<{ tag: string; ranges: TimeRange[] }> = [];
    let lastProgress = this.o.clock.now();
    for (const gap of todo) {
      if (this.stopped) return;
      try {
        const r = await this.fillGap(gap);
        filled += r.filled;
        if (r.finalBoth.length) both.push({ tag: gap.tag, ranges: r.finalBoth });
        done++;
      } catch (err) {
        failed = err;
        if (this.link.status().state !== 'up') break;
      }
      if (this.o.clock.now() - lastProgress >= 10_000) {
        lastProgress = this.o.clock.now();
        this.emit('event', { kind: 'backfill-progress', severity: 'info', reason: `backfill: ${done} of ${todo.length} intervals, ${filled} samples written` });
        this.emitState();
      }
    }
    for (const b of both) {
      this.emit('event', { kind: 'trend-gap-both', severity: 'warning', tag: b.tag, ranges: b.ranges, reason: `${b.tag}: no good samples on either instance in ${b.ranges.map(formatRange).join(', ')} (${b.ranges.reduce((s, r) => s + gridPoints(r, this.o.periodMs), 0)} samples): left as a gap` });
    }
    this.lastRun = this.o.clock.now();
    const left = this.listGaps().filter((g) => g.state === 'pending').length;
    this.lastError = failed ? (failed instanceof Error ? failed.message : String(failed)) : undefined;
    this.emit('event', {
      kind: failed ? 'backfill-deferred' : 'backfill-complete',
      severity: failed ? 'warning' : 'info',
      reason: `backfill: ${filled} samples written in ${done} of ${todo.length} intervals${both.length ? `; ${both.reduce((s, b) => s + b.ranges.length, 0)} interval(s) missing on both instances` : ''}${left ? `; ${left} interval(s) pending, retried later${failed ? ` (${this.lastError})` : ''}` : ''}`,
      durationMs: this.lastRun - t0,
    });
  }

  private deferAll(n: number, samples: number, err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.emit('event', { kind: 'backfill-deferred', severity: 'warning', reason: `${n} interval(s) (${samples} samples) wait for the peer: ${this.lastError}` });
  }

  /** Adds the holes found since the last scan to the remembered gaps (pending). */
  private async scan(): Promise<void> {
    const P = this.o.periodMs;
    const now = this.o.clock.now();
    const to = alignDown(now - this.o.settleMs, P);
    for (const tag of this.o.tags()) {
      let from = this.scannedTo.get(tag);
      const live = this.o.isLive(tag);
      const bounds = from === undefined || !live ? await this.store.sampleBounds(this.o.group, tag) : undefined;
      if (from === undefined) {
        // First scan: the window, or back to where this instance stopped sampling before a longer outage.
        from = now - this.o.scanWindowMs;
        if (bounds && bounds.last < from && bounds.last >= now - 7 * this.o.scanWindowMs) from = bounds.last;
      } else from -= 2 * P;
      from = alignUp(from, P);
      // A tag no longer fed ends with its last sample: what follows is no hole.
      const end = live ? to : Math.min(to, bounds ? bounds.last + P : from);
      if (from >= end) continue;
      const found: TimeRange[] = [];
      for (let a = from; a < end; a += this.o.scanSliceMs) {
        found.push(...(await this.store.missing(this.o.group, tag, a, Math.min(end, a + this.o.scanSliceMs), P)));
        await yieldToLoop();
      }
      this.scannedTo.set(tag, live ? to : end);
      const known = this.gaps.get(tag) ?? [];
      const fresh = subtract(union(found), known);
      if (fresh.length === 0) continue;
      const pending = union([...known.filter((g) => g.state === 'pending'), ...fresh]);
      const merged: TrendGap[] = [
        ...known.filter((g) => g.state === 'both'),
        ...pending.map((r) => ({ tag, from: r.from, to: r.to, state: 'pending' as const, attempts: known.find((k) => k.state === 'pending' && k.from === r.from)?.attempts ?? 0, reason: 'missing here' })),
      ].sort((x, y) => x.from - y.from);
      await this.setGaps(tag, merged);
    }
  }

  /** Fills one gap chunk by chunk; what the peer lacks becomes "both", what failed stays pending. */
  private async fillGap(gap: TrendGap): Promise<{ filled: number; finalBoth: TimeRange[] }> {
    const P = this.o.periodMs;
    let cursor = gap.from;
    let filled = 0;
    const peerLacks: TimeRange[] = [];
    let error: unknown;
    while (cursor < gap.to && !this.stopped) {
      let res: Record<string, unknown>;
      try {
        res = (await this.link.request(this.service, { op: 'read', v: TREND_BACKFILL_VERSION, tag: gap.tag, from: cursor, to: gap.to, limit: this.o.chunk })) as Record<string, unknown>;
      } catch (err) {
        error = err;
        break;
      }
      const samples = decodeSamples(gap.tag, res);
      const covered = typeof res.next === 'number' && res.next > cursor && res.next < gap.to ? res.next : gap.to;
      const good = samples.filter((s) => s.quality === 'good' && s.t >= cursor && s.t < covered).map((s) => ({ ...s, origin: 'peer' as const }));
      // Written in slices, the event loop served between them: one slice is one short transaction.
      for (let i = 0; i < good.length; i += FILL_SLICE) {
        const n = await this.store.fillSamples(this.o.group, good.slice(i, i + FILL_SLICE));
        filled += n;
        this.filledTotal += n;
        this.emit('filled', gap.tag, n);
        await yieldToLoop();
      }
      // Where the peer has no good sample either: missing on both (before its first sample, nobody trended).
      const holes = holesFromGood(cursor, covered, P, good.map((s) => s.t));
      const since = typeof res.first === 'number' ? res.first : Infinity;
      peerLacks.push(...intersect(holes, [{ from: since, to: Infinity }]));
      cursor = alignUp(covered, P);
      await yieldToLoop();
    }
    const now = this.o.clock.now();
    const rest = cursor < gap.to ? [{ from: cursor, to: gap.to }] : [];
    const attempts = gap.attempts + 1;
    const bothState = (r: TimeRange): TrendGap => ({ tag: gap.tag, from: r.from, to: r.to, state: 'both', attempts: gap.state === 'both' ? attempts : 1, lastAttempt: now, reason: 'the peer has no good samples there either' });
    const replacement: TrendGap[] = [
      ...union(peerLacks).map(bothState),
      ...rest.map((r) => ({ tag: gap.tag, from: r.from, to: r.to, state: 'pending' as const, attempts, lastAttempt: now, reason: error instanceof Error ? error.message : 'not filled yet' })),
    ];
    const others = (this.gaps.get(gap.tag) ?? []).filter((g) => !(g.from === gap.from && g.to === gap.to && g.state === gap.state));
    await this.setGaps(gap.tag, [...others, ...replacement].sort((a, b) => a.from - b.from));
    if (error) throw error;
    const finalBoth = replacement.filter((g) => g.state === 'both' && g.attempts >= this.o.bothRetries);
    return { filled, finalBoth };
  }

  private async setGaps(tag: string, list: TrendGap[]): Promise<void> {
    // Final "missing on both" pieces that touch (a hole found in two scans) show as one.
    const gaps: TrendGap[] = [];
    const final = (g: TrendGap) => g.state === 'both' && g.attempts >= this.o.bothRetries;
    for (const g of list) {
      const last = gaps[gaps.length - 1];
      if (last && final(last) && final(g) && g.from <= last.to) last.to = Math.max(last.to, g.to);
      else gaps.push({ ...g });
    }
    if (gaps.length) this.gaps.set(tag, gaps);
    else this.gaps.delete(tag);
    await this.store.replaceGaps(this.o.group, tag, gaps);
  }

  private emitState(): void {
    this.emit('state', this.state());
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export { totalMs } from './intervals';
