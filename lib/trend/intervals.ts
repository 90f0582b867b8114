// Interval arithmetic for the trend pair, on half-open [from, to) ranges of ms, and the rule that
// says where a tag's samples are missing. Both instances sample on the same grid (multiples of the
// period since the epoch), so "missing" means grid points without a good sample:
// - between two good samples further apart than 1.5 periods: [previous + period, next);
// - at the start of the range: [from, first good) when the first good sample is at least half a
//   period after `from`;
// - at the end: [last good + period, to) when `to` is at least 1.5 periods after the last good one;
// - the whole range when it holds no good sample.
// The half-period tolerances absorb samples slightly off the grid (a changed period, a late timer)
// without calling them holes.
import type { TimeRange } from './types';

export function alignUp(t: number, periodMs: number): number {
  return Math.ceil(t / periodMs) * periodMs;
}

export function alignDown(t: number, periodMs: number): number {
  return Math.floor(t / periodMs) * periodMs;
}

/** Holes of [from, to) from the good samples' first, last and the pairs of neighbours ≥ 1.5 periods apart. */
export function holesFromPairs(from: number, to: number, periodMs: number, bounds: { first: number; last: number } | undefined, pairs: Array<[number, number]>): TimeRange[] {
  if (to <= from) return [];
  if (!bounds) return [{ from, to }];
  const out: TimeRange[] = [];
  if (bounds.first - from >= periodMs / 2) out.push({ from, to: bounds.first });
  for (const [prev, next] of pairs) out.push({ from: prev + periodMs, to: next });
  if (to - bounds.last >= periodMs * 1.5) out.push({ from: bounds.last + periodMs, to });
  return union(out.filter((r) => r.to > r.from));
}

/** Holes of [from, to) given the (sorted) times of the good samples in it. */
export function holesFromGood(from: number, to: number, periodMs: number, good: number[]): TimeRange[] {
  if (good.length === 0) return to > from ? [{ from, to }] : [];
  const pairs: Array<[number, number]> = [];
  for (let i = 1; i < good.length; i++) if (good[i] - good[i - 1] >= periodMs * 1.5) pairs.push([good[i - 1], good[i]]);
  return holesFromPairs(from, to, periodMs, { first: good[0], last: good[good.length - 1] }, pairs);
}

/** Sorted, overlapping and touching ranges merged, empty ones dropped. */
export function union(ranges: TimeRange[]): TimeRange[] {
  const sorted = ranges.filter((r) => r.to > r.from).sort((a, b) => a.from - b.from || a.to - b.to);
  const out: TimeRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to) last.to = Math.max(last.to, r.to);
    else out.push({ from: r.from, to: r.to });
  }
  return out;
}

/** a minus b. */
export function subtract(a: TimeRange[], b: TimeRange[]): TimeRange[] {
  const cut = union(b);
  const out: TimeRange[] = [];
  for (const r of union(a)) {
    let from = r.from;
    for (const c of cut) {
      if (c.to <= from) continue;
      if (c.from >= r.to) break;
      if (c.from > from) out.push({ from, to: c.from });
      from = Math.max(from, c.to);
      if (from >= r.to) break;
    }
    if (from < r.to) out.push({ from, to: r.to });
  }
  return out;
}

export function intersect(a: TimeRange[], b: TimeRange[]): TimeRange[] {
  const ub = union(b);
  const out: TimeRange[] = [];
  for (const r of union(a)) {
    for (const c of ub) {
      const from = Math.max(r.from, c.from);
      const to = Math.min(r.to, c.to);
      if (to > from) out.push({ from, to });
    }
  }
  return union(out);
}

export function totalMs(ranges: TimeRange[]): number {
  return ranges.reduce((s, r) => s + (r.to - r.from), 0);
}

/** Grid points (multiples of the period) in a range: the number of samples a hole stands for. */
export function gridPoints(r: TimeRange, periodMs: number): number {
  const first = alignUp(r.from, periodMs);
  return first >= r.to ? 0 : Math.floor((r.to - 1 - first) / periodMs) + 1;
}

export function formatRange(r: TimeRange): string {
  return `${new Date(r.from).toISOString()} – ${new Date(r.to).toISOString()}`;
}
