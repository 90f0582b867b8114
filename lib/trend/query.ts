// Trend queries shaped for a Dashboard 2.0 ui-chart: [{x: ms, y: value | null}] where null breaks
// the line (a hole, bad or n/a samples), at most `maxPoints` points, decimated into buckets with
// min, max, avg or min+max (two points per bucket, keeping spikes visible). Also says which
// intervals were backfilled from the peer and which gaps are remembered, so a chart can show them.
import { holesFromGood, intersect } from './intervals';
import type { TimeRange, TrendGap, TrendStore } from './types';

export type Decimation = 'avg' | 'min' | 'max' | 'minmax';
export const DECIMATIONS: readonly Decimation[] = ['avg', 'min', 'max', 'minmax'];

export interface TrendQuery {
  tag: string;
  from: number;
  to: number;
  maxPoints: number;
  agg: Decimation;
}

export interface TrendQueryResult {
  query: TrendQuery;
  points: Array<{ x: number; y: number | null }>;
  /** True when the points are buckets, not samples. */
  decimated: boolean;
  bucketMs?: number;
  /** Intervals whose samples came from the peer (backfill). */
  backfilled: TimeRange[];
  /** Remembered gaps overlapping the range (pending, or missing on both). */
  gaps: TrendGap[];
}

export const MAX_POINTS_LIMIT = 20_000;

function toTime(v: unknown, name: string, fallback: number, base: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`${name} is not a time`);
    return v;
  }
  if (typeof v === 'string') {
    const rel = /^-(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)$/.exec(v.trim());
    if (rel) {
      const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3600_000, d: 86_400_000 }[rel[2]] as number;
      return base - Number(rel[1]) * unit;
    }
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  if (v instanceof Date && Number.isFinite(v.getTime())) return v.getTime();
  throw new Error(`${name} ${JSON.stringify(v)} is not a time (ms since epoch, an ISO date, or relative like "-1h": to now, from to)`);
}

/** Checks a query from a message; throws one message with what is wrong. */
export function parseQuery(raw: Record<string, unknown>, knownTags: string[], now: number): TrendQuery {
  const tag = typeof raw.tag === 'string' ? raw.tag.trim() : '';
  if (!tag) throw new Error('a trend query needs a tag (payload.tag)');
  if (!knownTags.includes(tag)) throw new Error(`unknown tag ${tag} (this trend has ${knownTags.length ? knownTags.slice(0, 10).join(', ') + (knownTags.length > 10 ? ', …' : '') : 'no tags yet'})`);
  const to = toTime(raw.to, 'to', now, now);
  const from = toTime(raw.from, 'from', to - 3600_000, to);
  if (!(from < to)) throw new Error(`from must be before to (from ${new Date(from).toISOString()}, to ${new Date(to).toISOString()})`);
  const maxPoints = raw.maxPoints === undefined || raw.maxPoints === null || raw.maxPoints === '' ? 500 : Number(raw.maxPoints);
  if (!Number.isInteger(maxPoints) || maxPoints < 2 || maxPoints > MAX_POINTS_LIMIT) throw new Error(`maxPoints must be a whole number 2..${MAX_POINTS_LIMIT} (got ${JSON.stringify(raw.maxPoints)})`);
  const agg = (raw.agg === undefined || raw.agg === '' ? 'avg' : raw.agg) as Decimation;
  if (!DECIMATIONS.includes(agg)) throw new Error(`agg must be one of ${DECIMATIONS.join(', ')} (got ${JSON.stringify(raw.agg)})`);
  return { tag, from, to, maxPoints, agg };
}

export async function runQuery(store: TrendStore, group: string, q: TrendQuery, periodMs: number, gaps: TrendGap[]): Promise<TrendQueryResult> {
  const [count, backfilled] = await Promise.all([store.countSamples(group, q.tag, q.from, q.to), store.peerRanges(group, q.tag, q.from, q.to, periodMs)]);
  const overlapping = gaps.filter((g) => g.tag === q.tag && g.to > q.from && g.from < q.to);
  const clipped = intersect(backfilled, [{ from: q.from, to: q.to }]);
  if (count <= q.maxPoints) {
    const rows = await store.readSamples(group, q.tag, q.from, q.to, q.maxPoints);
    const points: Array<{ x: number; y: number | null }> = rows.map((r) => ({ x: r.t, y: r.quality === 'good' ? r.value : null }));
    // A hole without any stored row still breaks the line.
    const holes = holesFromGood(q.from, q.to, periodMs, rows.filter((r) => r.quality === 'good').map((r) => r.t));
    for (const h of holes) if (!rows.some((r) => r.t >= h.from && r.t < h.to)) points.push({ x: h.from, y: null });
    points.sort((a, b) => a.x - b.x);
    return { query: q, points, decimated: false, backfilled: clipped, gaps: overlapping };
  }
  const buckets = q.agg === 'minmax' ? Math.max(1, Math.floor(q.maxPoints / 2)) : q.maxPoints;
  const bucketMs = Math.max(periodMs, Math.ceil((q.to - q.from) / buckets));
  const rows = await store.aggregate(group, q.tag, q.from, q.to, bucketMs);
  const points: Array<{ x: number; y: number | null }> = [];
  let expect = q.from;
  for (const b of rows) {
    if (b.t > expect) points.push({ x: expect, y: null });
    if (q.agg === 'minmax') {
      points.push({ x: b.t, y: b.min });
      points.push({ x: b.t + Math.floor(bucketMs / 2), y: b.max });
    } else points.push({ x: b.t, y: q.agg === 'min' ? b.min : q.agg === 'max' ? b.max : b.avg });
    expect = b.t + bucketMs;
  }
  if (expect < q.to) points.push({ x: expect, y: null });
  return { query: q, points, decimated: true, bucketMs, backfilled: clipped, gaps: overlapping };
}
