// The alarm-sync node's editor properties, checked: one message listing every problem.
import { checkServiceGroup } from '../rules/names';
import { type LimitSpec, parseLimitSpec } from './condition';
import type { ListFilter } from './list';

function num(def: Record<string, unknown>, key: string, fallback: number): number {
  const raw = def[key];
  return raw === undefined || raw === null || raw === '' ? fallback : Number(raw);
}

export interface AlarmConfig {
  group: string;
  conditions: LimitSpec[];
  catchUpWaitMs: number;
  maxShelveMs: number;
  defaultUser: string;
  listFilter: ListFilter;
}

export function parseAlarmConfig(def: Record<string, unknown>): AlarmConfig {
  const problems: string[] = [];
  const group = String(def.group || def.name || 'alarms').trim();
  const groupProblem = checkServiceGroup(group, 'alarm group');
  if (groupProblem) problems.push(groupProblem);
  const conditions: LimitSpec[] = [];
  const keys = new Set<string>();
  for (const raw of Array.isArray(def.conditions) ? (def.conditions as Array<Record<string, unknown>>) : []) {
    try {
      const spec = parseLimitSpec(raw);
      if (keys.has(spec.key)) problems.push(`alarm ${spec.key} is configured twice`);
      keys.add(spec.key);
      conditions.push(spec);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const catchUpWaitMs = num(def, 'catchUpWait', 10) * 1000;
  if (!Number.isFinite(catchUpWaitMs) || catchUpWaitMs < 0 || catchUpWaitMs > 600_000) problems.push('catch-up wait must be 0..600 s');
  const maxShelveMs = num(def, 'maxShelve', 480) * 60_000;
  if (!Number.isFinite(maxShelveMs) || maxShelveMs < 60_000) problems.push('longest shelving must be at least 1 min');
  const listFilter = String(def.listFilter || 'open') as ListFilter;
  if (!['open', 'all', 'shelved'].includes(listFilter)) problems.push(`list filter ${listFilter} is not open, all or shelved`);
  if (problems.length) throw new Error(problems.join('; '));
  return { group, conditions, catchUpWaitMs, maxShelveMs, defaultUser: String(def.defaultUser || 'operator'), listFilter };
}
