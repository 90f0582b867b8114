// The merge: N channels' streams of the same items become one stream without holes or duplicates,
// on real clocks. Two servers never share a clock and never sample in step, so a change's source
// timestamp is only comparable with timestamps of the same channel. The merge therefore keeps, per
// channel and item, an offset that maps the channel's timestamps onto one time line:
//
// - coarse: the smallest (arrival - timestamp) seen, i.e. the channel's clock offset plus its
//   shortest delivery delay (a change cannot have happened after it arrived, so this is a hard
//   bound); for drivers without source timestamps (Modbus) the offset is exactly 0;
// - refined: while a hot standby reports the same change as the active channel (equal value and
//   status, close in time), its offset is set so both map to the same instant: exact when the
//   timestamps are the device's, and absorbing clock skew and sampling phase when each server
//   stamps with its own clock. The match is made whichever reports first: a standby that reads
//   the device earlier in each cycle (a Modbus poller ahead in phase) is matched when the active
//   channel delivers the change it saw.
//
// At a switch the new active channel's changes (its buffered stream in hot mode, its flushed queue
// in warm mode with standby sampling, its initial values otherwise) are aligned per item with what
// was delivered: a change equal in value and status to a recently delivered one at about the same
// mapped time is the same change (not delivered twice); one mapped before the last delivered is
// older (not delivered); the first newer one is delivered, and from then on everything of that item.
// The same mapped time line measures each live stream's progress (a standby's only where its
// offsets are refined): an active channel that falls behind a standby by more than the tolerance
// has stalled (silent link, hung server), whatever the clocks say. docs/design.md states what this guarantees and when.
import type { DataChange } from './driver';
import type { DeliveredChange } from './types';

/** Delivered changes remembered per item for the alignment at a switch. */
const HISTORY = 4;
/**
 * How sure an item's offset is: COARSE (arrival-based), ANCHORED (derived from the delivered
 * item's offset: equal timestamps when both channels carry the device's time, else the two
 * servers' clock offsets from their pings; exact up to the channels' sampling phases), MATCHED
 * (this channel reported the same change as the delivered one: exact).
 */
const COARSE = 0;
const MATCHED = 1;
const ANCHORED = 2;
/** A matched offset is trusted to this many ms (timer jitter of a loaded machine). */
const REFINED_WINDOW_MS = 100;
/** Equal (timestamp, value) pairs needed before two channels are taken to carry the device's time. */
const SAME_DOMAIN_MATCHES = 2;
/** How far apart a standby's change and the delivered one may be mapped to be found the same (unique values). */
const REFINE_SEARCH_MS = 1000;
/** A channel's mapped time more than this after its arrival for several changes: its clock stepped back. */
const STEP_MS = 3000;
/** ...for this long (ms): one old initial value or one flushed queue is no clock step. */
const STEP_PERSIST_MS = 10_000;

export interface MergeOptions {
  /** Channel names in preference order (msg.server). */
  channels: string[];
  /** Unmatched standby changes kept per channel for replay (hot mode), shared among its items. */
  bufferSize: number;
  /**
   * How far apart (ms) two channels' mapped times of one change may be while their offsets are only
   * coarse: the largest publishing or sampling interval granted, plus delivery jitter.
   */
  coarseWindowMs: number;
  /** How long after a switch the new active channel's changes are aligned (then passed directly). */
  alignWindowMs: number;
  /**
   * Per channel: its timestamps are arrival times of polls (DriverCapabilities.timestamps
   * 'arrival', Modbus). Two pollers see one change up to a poll period apart, and which of them sees
   * it first flips as their phases drift past the device's: a matched offset is then no tighter
   * than the coarse window, and is never trusted to the timer-jitter window.
   */
  arrival?: boolean[];
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

/** Removes the first n entries of an array in place (no new array: this runs per change). */
function dropFront(q: unknown[], n: number): void {
  const len = q.length;
  for (let k = n; k < len; k++) q[k - n] = q[k];
  q.length = len - n;
}

/**
 * Per channel: offsets per item, its progress, and (as a hot standby) its changes that no delivered
 * change has matched yet, per item, oldest first: what it would replay if it became active. A
 * change the active channel also delivers leaves the queue at once, so in a steady state the queues
 * stay short and their changes die young (no old-generation garbage).
 */
class ChannelTrack {
  /** Timestamps are poll arrival times (see MergeOptions.arrival). */
  arrival = false;
  off = new Float64Array(64).fill(Infinity);
  refined = new Uint8Array(64);
  stepSince = new Float64Array(64).fill(Number.NaN);
  /** Newest mapped time seen on this channel (stream progress), -Infinity before data. */
  progress = -Infinity;
  /** Unmatched changes per item index (hot standby), oldest first. */
  pending: Array<DataChange[] | undefined> = [];

  grow(size: number): void {
    if (size <= this.off.length) return;
    const n = Math.max(size, this.off.length * 2);
    const off = new Float64Array(n).fill(Infinity);
    off.set(this.off);
    this.off = off;
    const refined = new Uint8Array(n);
    refined.set(this.refined);
    this.refined = refined;
    const stepSince = new Float64Array(n).fill(Number.NaN);
    stepSince.set(this.stepSince);
    this.stepSince = stepSince;
  }

  /** Keeps an unmatched change of item i, at most `cap` per item (the oldest go first). */
  keep(i: number, change: DataChange, cap: number): void {
    const q = this.pending[i];
    if (!q) {
      this.pending[i] = [change];
      return;
    }
    q.push(change);
    if (q.length > cap) dropFront(q, q.length - cap);
  }

  /** Every kept change, item by item, each item's oldest first; the queues are emptied. */
  drain(): DataChange[] {
    const out: DataChange[] = [];
    for (let i = 0; i < this.pending.length; i++) {
      const q = this.pending[i];
      if (q && q.length) for (const c of q) out.push(c);
    }
    this.pending = [];
    return out;
  }

  reset(): void {
    this.off.fill(Infinity);
    this.refined.fill(0);
    this.stepSince.fill(Number.NaN);
    this.progress = -Infinity;
    this.pending = [];
  }
}

export class Merge {
  private readonly index = new Map<string, number>();
  /** Item id by index: a change's key is trusted only when it names the same item. */
  private readonly ids: Array<string | undefined> = [];
  private idxBuffer = new Int32Array(1024);
  private readonly free: number[] = [];
  private size = 0;
  private readonly tracks: ChannelTrack[];
  private readonly names: string[];
  // Delivered, per item: the last HISTORY changes (a ring per item), newest at hHead - 1.
  private hValue: unknown[] = [];
  private hStatus: Array<string | undefined> = [];
  private hMapped = new Float64Array(64 * HISTORY);
  private hTs = new Float64Array(64 * HISTORY);
  private hChannel = new Int16Array(64 * HISTORY).fill(-1);
  private hSeq = new Float64Array(64 * HISTORY).fill(-1);
  private hHead = new Uint8Array(64);
  private seq = 0;
  // Alignment after a switch: per item, the sequence number of the last delivered change the new
  // channel has matched (-1: none yet), and whether the item is through (delivering directly).
  /** Per item, the active channel's offset at its last delivery (NaN: none since the activation). */
  private lineOff = new Float64Array(64).fill(Number.NaN);
  private cursor = new Float64Array(64).fill(-1);
  private through = new Uint8Array(64);
  private alignUntil = -Infinity;
  /**
   * The align window runs from the new active channel's first data, not from the switch: a
   * flushed queue (warm with standby sampling) may come seconds after the decision on a busy
   * machine, and must be aligned all the same.
   */
  private alignStartsWithData = false;
  private active: number | null = null;
  /** Each channel's server clock minus ours (from its pings), NaN when unknown. */
  private readonly serverClock: number[];
  /** Per channel: changes found with exactly the timestamp and value of another channel's. */
  private readonly exactMatches: number[];
  /** Changes dropped at switches as already delivered / older, for diagnostics and tests. */
  readonly counts = { duplicates: 0, older: 0, replayed: 0 };

  constructor(private readonly opts: MergeOptions) {
    this.names = opts.channels.slice();
    this.tracks = opts.channels.map((_, k) => {
      const t = new ChannelTrack();
      t.arrival = opts.arrival?.[k] === true;
      return t;
    });
    this.serverClock = opts.channels.map(() => Number.NaN);
    this.exactMatches = opts.channels.map(() => 0);
  }

  /** Tolerances follow what the servers granted (publishing and sampling intervals). */
  setCoarseWindow(ms: number): void {
    this.opts.coarseWindowMs = Math.max(REFINED_WINDOW_MS, ms);
  }

  setAlignWindow(ms: number): void {
    this.opts.alignWindowMs = ms;
  }

  /** A channel's server clock minus ours, from its last ping (OPC UA CurrentTime). */
  setServerClock(channel: number, offsetMs: number | undefined): void {
    this.serverClock[channel] = offsetMs ?? Number.NaN;
  }

  /** Both channels carry the device's own timestamps (equal for the same change). */
  private sameDomain(a: number, b: number): boolean {
    return a === b || (this.exactMatches[a] >= SAME_DOMAIN_MATCHES && this.exactMatches[b] >= SAME_DOMAIN_MATCHES);
  }

  private noteExact(a: number, b: number): void {
    this.exactMatches[a]++;
    this.exactMatches[b]++;
  }

  /**
   * Ties an item's coarse offset on `channel` to the delivered item's: with equal timestamp
   * domains the same offset; else shifted by the two servers' clock difference from their pings.
   * Stays coarse when neither is known.
   */
  private anchor(track: ChannelTrack, channel: number, i: number): void {
    const last = this.lastSlot(i);
    const from = this.hChannel[last];
    const ts = this.hTs[last];
    if (from < 0 || Number.isNaN(ts)) return;
    const deliveredOff = this.hMapped[last] - ts;
    if (this.sameDomain(channel, from)) track.off[i] = deliveredOff;
    else if (Number.isFinite(this.serverClock[channel]) && Number.isFinite(this.serverClock[from])) track.off[i] = deliveredOff + this.serverClock[from] - this.serverClock[channel];
    else return;
    track.refined[i] = ANCHORED;
  }

  // ------------------------------------------------------------------ items

  private indexOf(item: string): number {
    let i = this.index.get(item);
    if (i !== undefined) return i;
    i = this.free.pop() ?? this.size++;
    this.index.set(item, i);
    this.ids[i] = item;
    if (i >= this.hHead.length) this.growItems(i + 1);
    for (const t of this.tracks) t.grow(this.hHead.length);
    return i;
  }

  private growItems(size: number): void {
    const n = Math.max(size, this.hHead.length * 2);
    const grow = <T extends Float64Array | Uint8Array | Int16Array>(a: T, fill: number | undefined, per = 1): T => {
      const b = new (a.constructor as { new (n: number): T })(n * per);
      if (fill !== undefined) b.fill(fill);
      b.set(a);
      return b;
    };
    this.hMapped = grow(this.hMapped, undefined, HISTORY);
    this.hTs = grow(this.hTs, undefined, HISTORY);
    this.hChannel = grow(this.hChannel, -1, HISTORY);
    this.hSeq = grow(this.hSeq, -1, HISTORY);
    this.hHead = grow(this.hHead, undefined);
    this.cursor = grow(this.cursor, -1);
    this.lineOff = grow(this.lineOff, Number.NaN);
    this.through = grow(this.through, undefined);
  }

  /** Items no longer monitored: their state goes (an item added again starts afresh). */
  forget(items: Iterable<string>): void {
    for (const item of items) {
      const i = this.index.get(item);
      if (i === undefined) continue;
      this.index.delete(item);
      this.ids[i] = undefined;
      this.free.push(i);
      for (let k = 0; k < HISTORY; k++) {
        const at = i * HISTORY + k;
        this.hValue[at] = undefined;
        this.hStatus[at] = undefined;
        this.hSeq[at] = -1;
        this.hChannel[at] = -1;
      }
      this.hHead[i] = 0;
      this.cursor[i] = -1;
      this.through[i] = 0;
      for (const t of this.tracks) {
        t.off[i] = Infinity;
        t.refined[i] = 0;
        t.stepSince[i] = Number.NaN;
        t.pending[i] = undefined;
      }
    }
  }

  /** A channel (re)connected: its clock and stream start afresh. */
  resetChannel(channel: number): void {
    this.tracks[channel].reset();
  }

  /** A standby that stops reporting (warm, cold, lost) keeps nothing for replay. */
  clearBuffer(channel: number): void {
    this.tracks[channel].pending = [];
  }

  /** Unmatched changes kept per item of a hot standby: its share of the buffer (the buffer size bounds the total). */
  private keepCap(): number {
    return Math.max(1, Math.floor(this.opts.bufferSize / Math.max(1, this.index.size)));
  }

  // ------------------------------------------------------------------ the time line

  /**
   * Takes in a batch's (arrival - timestamp) samples before any of it is mapped: a batch may hold
   * a queue of older samples (warm standby sampling) whose newest is the tightest bound.
   */
  private learn(track: ChannelTrack, idx: Int32Array, changes: DataChange[], now: number): void {
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      const ts = c.sourceTimestamp ?? c.serverTimestamp;
      if (ts === undefined) continue;
      const i = idx[k];
      const sample = now - ts;
      const off = track.off[i];
      if (sample < off && track.refined[i] === COARSE) {
        // Causality: nothing happened after it arrived; the coarse offset is the tightest bound
        // seen. (A refined offset maps onto the active channel's time line, which runs as late as
        // that channel's own delivery: it may lie after this channel's arrival, and stays.)
        track.off[i] = sample;
        track.stepSince[i] = Number.NaN;
      } else if (sample < off) {
        track.stepSince[i] = Number.NaN;
      } else if (sample - off > STEP_MS) {
        // Far later than its offset says for a while (not one old initial value, not one flushed
        // queue): the channel's clock stepped back.
        if (Number.isNaN(track.stepSince[i])) track.stepSince[i] = now;
        else if (now - track.stepSince[i] >= STEP_PERSIST_MS) {
          track.off[i] = sample;
          track.refined[i] = COARSE;
          track.stepSince[i] = Number.NaN;
        }
      } else {
        track.stepSince[i] = Number.NaN;
      }
    }
  }

  /**
   * The active channel's offset of item i moved by `delta` since its last delivery (a tighter
   * coarse bound after a late first publish or a loaded start): the item's common time line
   * moves with it. The standbys' refined offsets and the delivered history follow, or a standby
   * matched on the old line would match nothing any more (its changes kept for a replay and
   * delivered twice at the switch).
   */
  private moveLine(activeTrack: ChannelTrack, i: number, delta: number): void {
    for (const t of this.tracks) if (t !== activeTrack && t.refined[i] !== COARSE && Number.isFinite(t.off[i])) t.off[i] += delta;
    for (let h = 0; h < HISTORY; h++) {
      const at = i * HISTORY + h;
      if (this.hSeq[at] >= 0) this.hMapped[at] += delta;
    }
  }

  /** A change's instant on the common time line (its arrival when it carries no timestamp). */
  private mapped(track: ChannelTrack, i: number, c: DataChange, now: number): number {
    const ts = c.sourceTimestamp ?? c.serverTimestamp;
    return ts === undefined ? now : ts + track.off[i];
  }

  /** Item indices of a batch, in a buffer reused from batch to batch (read before the next one). */
  private indices(changes: DataChange[]): Int32Array {
    if (this.idxBuffer.length < changes.length) this.idxBuffer = new Int32Array(Math.max(changes.length, this.idxBuffer.length * 2));
    const idx = this.idxBuffer;
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      const key = c.key;
      idx[k] = key !== undefined && this.ids[key] === c.item ? key : this.indexOf(c.item);
    }
    return idx;
  }

  /** The key of an item (its index here): drivers may put it on the item's changes (ItemSpec.key). */
  keyOf(item: string): number {
    return this.indexOf(item);
  }

  /** The match window for a channel's item: tight once refined, the coarse window before. */
  private window(track: ChannelTrack, i: number): number {
    if (track.refined[i] === MATCHED && !track.arrival) return REFINED_WINDOW_MS;
    // An anchored offset is exact up to the two servers' sampling phases (one sampling interval).
    return this.opts.coarseWindowMs;
  }

  /** The delivered change of item i that `change` (mapped at `mapped`) is a copy of: history slot, or -1. */
  private findDelivered(i: number, change: DataChange, mapped: number, window: number, afterSeq: number, notFrom = -1): number {
    let found = -1;
    let bestGap = Infinity;
    const ts = change.sourceTimestamp;
    for (let k = 0; k < HISTORY; k++) {
      const at = i * HISTORY + k;
      if (this.hSeq[at] <= afterSeq || this.hChannel[at] === notFrom) continue;
      if (this.hStatus[at] !== change.statusCode || !sameValue(this.hValue[at], change.value)) continue;
      // Equal source timestamps of equal values: the device's own stamp on both channels.
      const gap = ts !== undefined && ts === this.hTs[at] ? 0 : Math.abs(mapped - this.hMapped[at]);
      if (gap <= window && gap < bestGap) {
        bestGap = gap;
        found = at;
      }
    }
    return found;
  }

  /** The latest mapped time among item i's delivered changes (a late one may be recorded last). */
  private newestMapped(i: number): number {
    let newest = -Infinity;
    for (let k = 0; k < HISTORY; k++) {
      const at = i * HISTORY + k;
      if (this.hSeq[at] >= 0 && this.hMapped[at] > newest) newest = this.hMapped[at];
    }
    return newest;
  }

  private lastSlot(i: number): number {
    return i * HISTORY + ((this.hHead[i] + HISTORY - 1) % HISTORY);
  }

  private record(i: number, channel: number, change: DataChange, mapped: number): void {
    const at = i * HISTORY + this.hHead[i];
    this.hValue[at] = change.value;
    this.hStatus[at] = change.statusCode;
    this.hMapped[at] = mapped;
    this.hTs[at] = change.sourceTimestamp ?? Number.NaN;
    this.hChannel[at] = channel;
    this.hSeq[at] = ++this.seq;
    this.hHead[i] = (this.hHead[i] + 1) % HISTORY;
  }

  // ------------------------------------------------------------------ streams

  /**
   * Changes from a channel. The active channel's are returned for delivery (aligned right after a
   * switch); a standby's are observed (offsets, progress) and, with `buffer`, kept for replay.
   */
  observe(channel: number, changes: DataChange[], now: number, buffer: boolean): DeliveredChange[] {
    const track = this.tracks[channel];
    const idx = this.indices(changes);
    this.learn(track, idx, changes, now);
    if (channel === this.active) return this.admit(channel, track, changes, idx, now);
    const cap = this.keepCap();
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      const i = idx[k];
      let mapped = this.mapped(track, i, c, now);
      // Refine: the same change as one delivered from another channel maps to the same instant.
      const ts = c.sourceTimestamp ?? c.serverTimestamp;
      if (ts !== undefined) {
        // An unrefined offset may be off by a loaded machine's delivery delays: search wider.
        const window = track.refined[i] === MATCHED && !track.arrival ? REFINED_WINDOW_MS : Math.max(REFINE_SEARCH_MS, 2 * this.opts.coarseWindowMs);
        const at = this.findDelivered(i, c, mapped, window, -1);
        if (at >= 0 && this.hChannel[at] !== channel) {
          if (c.sourceTimestamp !== undefined && c.sourceTimestamp === this.hTs[at]) this.noteExact(channel, this.hChannel[at]);
          track.off[i] = this.hMapped[at] - ts;
          track.refined[i] = MATCHED;
          mapped = this.hMapped[at];
          // Delivered already: nothing to replay. Older unmatched ones of this item are history.
          const q = track.pending[i];
          if (q) q.length = 0;
        } else if (buffer) {
          // Not delivered (yet): kept for a replay, and matched when the active channel delivers it.
          track.keep(i, c, cap);
        }
      } else if (buffer) {
        track.keep(i, c, cap);
      }
      // Progress counts only what is on the common time line for sure (refined): a fresh coarse
      // offset must not make a standby look ahead of the active channel.
      if (track.refined[i] && mapped > track.progress) track.progress = mapped;
    }
    return [];
  }

  private admit(channel: number, track: ChannelTrack, changes: DataChange[], idx: Int32Array, now: number): DeliveredChange[] {
    const out: DeliveredChange[] = [];
    if (this.alignStartsWithData) {
      this.alignStartsWithData = false;
      this.alignUntil = now + this.opts.alignWindowMs;
    }
    const aligning = now <= this.alignUntil;
    const name = this.names[channel];
    if (aligning) this.learnDomain(channel, changes, idx);
    const laterMatch = aligning ? this.laterMatches(track, channel, changes, idx, now) : undefined;
    for (let k = 0; k < changes.length; k++) {
      const c = changes[k];
      const i = idx[k];
      const last = this.lastSlot(i);
      const hasLast = this.hSeq[last] >= 0;
      const aligningItem = aligning && !this.through[i] && hasLast;
      if (aligningItem && track.refined[i] === COARSE) this.anchorChecked(track, channel, i, c, now);
      // The item's time line is this channel's once it delivers the item directly: it moves with
      // the channel's offset. While the item is still aligned after a switch, the delivered history
      // is the reference, and an offset still being learnt moves nothing.
      if (!aligningItem) {
        const o = track.off[i];
        const lo = this.lineOff[i];
        if (o !== lo) {
          if (Number.isFinite(lo) && Number.isFinite(o)) this.moveLine(track, i, o - lo);
          this.lineOff[i] = o;
        }
      }
      const mapped = this.mapped(track, i, c, now);
      if (mapped > track.progress) track.progress = mapped;
      if (aligningItem) {
        // Right after a switch: a change already delivered, or an older one, is not delivered.
        if (c.statusCode === this.hStatus[last] && sameValue(c.value, this.hValue[last])) {
          // Equal to the last delivered: no new change (an OPC UA client would see none either).
          this.counts.duplicates++;
          continue;
        }
        const window = this.window(track, i);
        const at = this.findDelivered(i, c, mapped, window, this.cursor[i]);
        if (at >= 0) {
          this.cursor[i] = this.hSeq[at];
          this.counts.duplicates++;
          continue;
        }
        const newest = this.newestMapped(i);
        if (mapped <= newest - window || (laterMatch !== undefined && (laterMatch.get(i) ?? -1) > k)) {
          // Older by time, or by the channel's own order: a later change of this item in the
          // same batch is one already delivered (a flushed queue reaching back past the history).
          this.counts.older++;
          continue;
        }
        // After everything delivered: from here on the item's changes pass directly. One mapped
        // before the newest delivered that matched nothing is a change the previous channel never
        // delivered (its sampling skipped that tick): it is delivered, late, and the item stays
        // aligned, so delivered changes that follow it in this channel's stream (the rest of a
        // flushed queue split over several publishes) are still recognised.
        if (mapped > newest) {
          this.through[i] = 1;
          this.lineOff[i] = track.off[i];
        }
      } else if (hasLast) {
        if (aligning && this.through[i]) {
          // Passed directly since a change mapped after everything delivered; but the channel's
          // own order outranks a mapping off by more than a tick (a clock measured 150 ms off): a
          // later change equal to one the previous channel delivered, after the last one matched,
          // is that change (the rest of a flushed queue split over publishes): not delivered again.
          const at = this.findDelivered(i, c, mapped, this.window(track, i), this.cursor[i], channel);
          if (at >= 0) {
            this.cursor[i] = this.hSeq[at];
            this.counts.duplicates++;
            continue;
          }
        }
        if (this.hChannel[last] === channel && c.sourceTimestamp !== undefined && c.sourceTimestamp === this.hTs[last] && c.statusCode === this.hStatus[last] && sameValue(c.value, this.hValue[last])) {
          // The same sample twice from one channel (an initial value racing the first notification).
          continue;
        }
      }
      this.record(i, channel, c, mapped);
      this.matchEarlyStandbys(channel, i, c, mapped);
      const d = c as DeliveredChange;
      d.server = name;
      d.channel = channel;
      out.push(d);
    }
    return out;
  }

  /**
   * The active channel delivered `c`: a standby that saw it first (it reads earlier in each cycle,
   * a Modbus poller ahead in phase) has it among its unmatched changes. It is matched now (its
   * offset set so both map to the same instant) and leaves the queue with everything older; with
   * no match, the standby's changes mapped before this one go (older than what was delivered).
   * Without this, such a standby would stay coarse, its progress would freeze, it would look ever
   * further behind and never be returned to; and its queue would only grow.
   */
  private matchEarlyStandbys(channel: number, i: number, c: DataChange, mapped: number): void {
    for (let k = 0; k < this.tracks.length; k++) {
      if (k === channel) continue;
      const t = this.tracks[k];
      const q = t.pending[i];
      if (!q || q.length === 0) continue;
      const window = t.refined[i] === MATCHED && !t.arrival ? REFINED_WINDOW_MS : Math.max(REFINE_SEARCH_MS, 2 * this.opts.coarseWindowMs);
      let found = -1;
      for (let j = q.length - 1; j >= 0; j--) {
        const e = q[j];
        const ts = e.sourceTimestamp ?? e.serverTimestamp;
        if (ts === undefined || e.statusCode !== c.statusCode || !sameValue(e.value, c.value)) continue;
        if (Math.abs(ts + t.off[i] - mapped) <= window) {
          found = j;
          t.off[i] = mapped - ts;
          t.refined[i] = MATCHED;
          if (mapped > t.progress) t.progress = mapped;
          break;
        }
      }
      if (found >= 0) {
        dropFront(q, found + 1);
        continue;
      }
      let drop = 0;
      while (drop < q.length) {
        const ts = q[drop].sourceTimestamp ?? q[drop].serverTimestamp;
        if (ts === undefined || ts + t.off[i] > mapped - window) break;
        drop++;
      }
      if (drop > 0) dropFront(q, drop);
    }
  }

  /**
   * Right after a switch: do this channel's changes carry exactly the timestamps (and values) of
   * delivered ones? Then both carry the device's time and share one time line.
   */
  /**
   * Anchors a coarse item (see anchor) unless that puts `c` after its arrival: then the
   * timestamps are neither the device's nor the server clock the ping reads, and the
   * arrival-based offset stays.
   */
  private anchorChecked(track: ChannelTrack, channel: number, i: number, c: DataChange, now: number): void {
    const coarse = track.off[i];
    this.anchor(track, channel, i);
    const level: number = track.refined[i];
    if (level === ANCHORED && this.mapped(track, i, c, now) > now + this.opts.coarseWindowMs) {
      track.off[i] = coarse;
      track.refined[i] = COARSE;
    }
  }

  /**
   * While aligning: per item not yet through, the position of its last change in this batch that
   * is a copy of a delivered one (mapped within the match window). What comes before it in the
   * channel's own stream is older, however far its offset is off.
   */
  private laterMatches(track: ChannelTrack, channel: number, changes: DataChange[], idx: Int32Array, now: number): Map<number, number> | undefined {
    let found: Map<number, number> | undefined;
    for (let k = 0; k < changes.length; k++) {
      const i = idx[k];
      if (this.through[i] || this.hSeq[this.lastSlot(i)] < 0) continue;
      const c = changes[k];
      if (track.refined[i] === COARSE) this.anchorChecked(track, channel, i, c, now);
      const at = this.findDelivered(i, c, this.mapped(track, i, c, now), this.window(track, i), this.cursor[i]);
      if (at >= 0) (found ??= new Map()).set(i, k);
    }
    return found;
  }

  private learnDomain(channel: number, changes: DataChange[], idx: Int32Array): void {
    for (let k = 0; k < changes.length && !this.sameDomainWithAny(channel); k++) {
      const ts = changes[k].sourceTimestamp;
      if (ts === undefined) continue;
      const i = idx[k];
      for (let h = 0; h < HISTORY; h++) {
        const at = i * HISTORY + h;
        if (this.hSeq[at] >= 0 && this.hTs[at] === ts && this.hChannel[at] !== channel && this.hStatus[at] === changes[k].statusCode && sameValue(this.hValue[at], changes[k].value)) {
          this.noteExact(channel, this.hChannel[at]);
          break;
        }
      }
    }
  }

  private sameDomainWithAny(channel: number): boolean {
    return this.exactMatches[channel] >= SAME_DOMAIN_MATCHES;
  }

  /**
   * Makes a channel the active one and returns what of its buffered stream must be delivered now.
   * Until the align window ends, its changes are aligned per item with what was delivered.
   */
  activate(channel: number | null, now: number): DeliveredChange[] {
    if (channel === this.active) return [];
    // The channel that was active defined the time line: its offsets are on it by definition.
    if (this.active !== null) {
      const prev = this.tracks[this.active];
      for (const i of this.index.values()) if (Number.isFinite(prev.off[i])) prev.refined[i] = MATCHED;
    }
    this.active = channel;
    if (channel === null) return [];
    this.alignUntil = Infinity;
    this.alignStartsWithData = true;
    this.cursor.fill(-1);
    this.through.fill(0);
    this.lineOff.fill(Number.NaN);
    const track = this.tracks[channel];
    const buffered = track.drain();
    if (buffered.length === 0) return [];
    // Mapped with the offsets as refined by now (the buffer was filled while they were learnt).
    const out = this.admit(channel, track, buffered, this.indices(buffered), now);
    this.counts.replayed += out.length;
    return out;
  }

  getActive(): number | null {
    return this.active;
  }

  // ------------------------------------------------------------------ progress

  /** How far (ms) `channel`'s stream is behind the most advanced of `others` on the common time line. */
  lag(channel: number, others: number[]): { ms: number; behind: number | null } {
    const own = this.tracks[channel].progress;
    if (!Number.isFinite(own)) return { ms: 0, behind: null };
    let ms = 0;
    let behind: number | null = null;
    for (const o of others) {
      const p = this.tracks[o].progress;
      if (Number.isFinite(p) && p - own > ms) {
        ms = p - own;
        behind = o;
      }
    }
    return { ms, behind };
  }

  /** Whether a channel's offsets for these items are refined (tests and diagnostics). */
  refinedShare(channel: number): number {
    let n = 0;
    let r = 0;
    for (const i of this.index.values()) {
      n++;
      if (this.tracks[channel].refined[i]) r++;
    }
    return n === 0 ? 0 : r / n;
  }
}
