// The trend pair's protocol over the peer link, service "trend-backfill/<group>" (JSON, v = 1):
//   hello {v, periodMs}                       → {v, instance, periodMs}
//   read  {v, tag, from, to, limit}           → {periodMs, first?, t, v, q, next?}
//     the peer's samples of [from, to), at most `limit`: t delta-encoded (first absolute), values,
//     qualities as one string ('g' good, 'b' bad, 'n' n/a); `next` (where to continue) when cut
//     short; `first` = the peer's oldest sample of the tag (before it, nobody was trending).
// The serving side (checking a request, answering a read) and the wire form of samples; the
// backfill that asks is lib/trend/backfill.ts.
import type { TrendSample, TrendStore } from './types';

export const TREND_BACKFILL_VERSION = 1;
/** Most samples one read answers. */
export const MAX_READ = 20_000;
const Q_CHAR: Record<TrendSample['quality'], string> = { good: 'g', bad: 'b', na: 'n' };
const CHAR_Q: Record<string, TrendSample['quality']> = { g: 'good', b: 'bad', n: 'na' };

export interface TrendRequest {
  op: string;
  v: number;
  [key: string]: unknown;
}

/** A request from the peer with its op and our version, or an Error naming what is wrong. */
export function checkRequest(body: unknown): TrendRequest {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || typeof b.op !== 'string') throw new Error('malformed trend-backfill request: no op');
  if (b.v !== TREND_BACKFILL_VERSION) throw new Error(`trend-backfill protocol version ${String(b.v)} is not ${TREND_BACKFILL_VERSION}: update both instances to the same package version`);
  if (b.op !== 'hello' && b.op !== 'read') throw new Error(`unknown trend-backfill op ${b.op}`);
  return b as TrendRequest;
}

/** The answer to a read: this instance's samples of [from, to) of a tag, at most `limit`. */
export async function answerRead(store: TrendStore, group: string, periodMs: number, b: TrendRequest): Promise<Record<string, unknown>> {
  const { tag, from, to, limit } = b;
  if (typeof tag !== 'string' || !tag) throw new Error('malformed trend-backfill read: no tag');
  if (typeof from !== 'number' || typeof to !== 'number' || !Number.isFinite(from) || !Number.isFinite(to) || to < from) throw new Error('malformed trend-backfill read: from and to must be times (ms), from ≤ to');
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_READ) throw new Error(`malformed trend-backfill read: limit must be 1..${MAX_READ}`);
  const rows = await store.readSamples(group, tag, from, to, limit as number);
  const bounds = await store.sampleBounds(group, tag);
  return {
    periodMs,
    ...(bounds ? { first: bounds.first } : {}),
    ...encodeSamples(rows),
    ...(rows.length === limit ? { next: rows[rows.length - 1].t + 1 } : {}),
  };
}

/** Samples as the wire carries them: times delta-encoded, qualities one character each. */
export function encodeSamples(rows: TrendSample[]): { t: number[]; v: Array<number | null>; q: string } {
  const t: number[] = [];
  let prev = 0;
  for (const r of rows) {
    t.push(r.t - prev);
    prev = r.t;
  }
  return { t, v: rows.map((r) => r.value), q: rows.map((r) => Q_CHAR[r.quality]).join('') };
}

export function decodeSamples(tag: string, res: Record<string, unknown> | null): TrendSample[] {
  if (!res || typeof res !== 'object' || !Array.isArray(res.t) || !Array.isArray(res.v) || typeof res.q !== 'string' || res.t.length !== res.v.length || res.q.length !== res.t.length) {
    throw new Error('malformed trend-backfill answer: t, v and q must be lists of the same length');
  }
  const out: TrendSample[] = [];
  let t = 0;
  for (let i = 0; i < res.t.length; i++) {
    t += Number(res.t[i]);
    const quality = CHAR_Q[res.q[i]];
    const v = res.v[i];
    if (!Number.isFinite(t) || !quality || (v !== null && typeof v !== 'number')) throw new Error(`malformed trend-backfill answer: sample ${i}`);
    out.push({ tag, t, value: v as number | null, quality, origin: 'local' });
  }
  return out;
}
