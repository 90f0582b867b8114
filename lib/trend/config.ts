// The trend-backfill node's editor properties and input messages, checked.
import { checkServiceGroup } from '../rules/names';

function num(def: Record<string, unknown>, key: string, fallback: number): number {
  const raw = def[key];
  return raw === undefined || raw === null || raw === '' ? fallback : Number(raw);
}

export interface TrendConfig {
  group: string;
  periodMs: number;
  tags: string[];
  acceptNew: boolean;
  staleMs: number;
  retentionMs: number;
  chunk: number;
  retryMs: number;
  scanWindowMs: number;
  /** Not in the editor: tests and examples shorten the newest part left for the next pass. */
  settleMs?: number;
}

export function parseTrendConfig(def: Record<string, unknown>): TrendConfig {
  const problems: string[] = [];
  const group = String(def.group || def.name || 'trends').trim();
  const groupProblem = checkServiceGroup(group, 'trend group');
  if (groupProblem) problems.push(groupProblem);
  const periodMs = num(def, 'period', 1000);
  if (!Number.isInteger(periodMs) || periodMs < 100 || periodMs > 86_400_000) problems.push(`sampling period must be 100 ms .. 1 day, whole ms (got ${String(def.period)})`);
  const tags = String(def.tags ?? '').split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
  if (new Set(tags).size !== tags.length) problems.push('a tag is listed twice');
  const acceptNew = def.acceptNew === undefined || def.acceptNew === '' ? true : def.acceptNew === true || def.acceptNew === 'true';
  if (!acceptNew && tags.length === 0) problems.push('no tags listed and new tags not accepted: nothing would be trended');
  const staleMs = num(def, 'stale', 0);
  if (!Number.isFinite(staleMs) || staleMs < 0) problems.push('stale time must be ≥ 0 ms (0: values never go stale)');
  else if (staleMs > 0 && staleMs < periodMs) problems.push('stale time shorter than the period would mark every sample n/a');
  const retentionMs = num(def, 'retention', 7) * 86_400_000;
  if (!Number.isFinite(retentionMs) || retentionMs < 0) problems.push('retention must be ≥ 0 days (0: keep everything)');
  const chunk = num(def, 'chunk', 2000);
  if (!Number.isInteger(chunk) || chunk < 100 || chunk > 20_000) problems.push('backfill chunk must be 100..20000 samples');
  const retryMs = num(def, 'retry', 60) * 1000;
  if (!Number.isFinite(retryMs) || retryMs < 1000) problems.push('retry interval must be at least 1 s');
  const scanWindowMs = num(def, 'scanWindow', 24) * 3600_000;
  if (!Number.isFinite(scanWindowMs) || scanWindowMs < 60_000) problems.push('backfill window must be at least 1 min (0.02 h)');
  if (retentionMs > 0 && scanWindowMs > retentionMs) problems.push('backfill window longer than the retention');
  if (problems.length) throw new Error(problems.join('; '));
  const settle = def.settle === undefined || def.settle === '' ? undefined : Number(def.settle);
  if (settle !== undefined && (!Number.isFinite(settle) || settle < 0)) problems.push('settle must be ≥ 0 ms');
  if (problems.length) throw new Error(problems.join('; '));
  return { group, periodMs, tags, acceptNew, staleMs, retentionMs, chunk, retryMs, scanWindowMs, ...(settle === undefined ? {} : { settleMs: settle }) };
}

export type TrendCommand =
  | { kind: 'value'; tag: string; value: unknown; good: boolean }
  | { kind: 'query'; query: Record<string, unknown> }
  | { kind: 'gaps'; tag?: string }
  | { kind: 'backfill' };

export function parseTrendCommand(msg: { topic?: unknown; payload?: unknown; good?: unknown; quality?: unknown; statusCode?: unknown }): TrendCommand {
  const topic = typeof msg.topic === 'string' ? msg.topic.trim() : '';
  const p = msg.payload && typeof msg.payload === 'object' && !Array.isArray(msg.payload) ? (msg.payload as Record<string, unknown>) : undefined;
  if (topic === 'query') {
    if (!p) throw new Error('a query needs payload {tag, from, to, maxPoints, agg}');
    return { kind: 'query', query: p };
  }
  if (topic === 'gaps') return { kind: 'gaps', ...(p?.tag ? { tag: String(p.tag) } : {}) };
  if (topic === 'backfill') return { kind: 'backfill' };
  if (!topic) throw new Error('a value needs its tag in msg.topic (or topic query / gaps / backfill)');
  if (topic.length > 200) throw new Error('tag too long (at most 200 characters)');
  if (p) throw new Error(`the value of ${topic} is an object: send a number, a boolean or null (no value)`);
  const bad = msg.good === false || (typeof msg.quality === 'string' && /^(bad|n\/?a|uncertain)/i.test(msg.quality)) || (typeof msg.statusCode === 'string' && !/^good/i.test(msg.statusCode));
  return { kind: 'value', tag: topic, value: msg.payload, good: !bad };
}
