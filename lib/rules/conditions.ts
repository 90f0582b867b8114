// Failover-condition rows as an operator fills them in: the editor marks each invalid row with its
// message, the runtime arms the valid rows and reports the others (yellow, never "armed"). Pure.
import { toNumber } from './numbers';
import { protocolRules } from './protocols';
import { quote } from './text';

export type ConditionKind = 'stale' | 'value' | 'quality' | 'service-level';
export const CONDITION_KINDS: readonly ConditionKind[] = ['stale', 'value', 'quality', 'service-level'];

export type CompareOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'between' | 'true' | 'false';
export const COMPARE_OPS: readonly CompareOp[] = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'between', 'true', 'false'];

export const OP_TEXT: Record<CompareOp, string> = {
  eq: '=', neq: '≠', lt: '<', lte: '≤', gt: '>', gte: '≥', between: 'between', true: 'is true', false: 'is false',
};

/** How the dialog names each kind (the messages use the same words). */
export const KIND_TEXT: Record<ConditionKind, string> = {
  stale: 'item not updating',
  value: 'item value',
  quality: 'item quality bad',
  'service-level': 'ServiceLevel below',
};

/** The name under which a bad external health input (e.g. a PLC master bit) holds. */
export const EXTERNAL_CONDITION = 'external';

export interface ConditionSpec {
  name: string;
  kind: ConditionKind;
  /** Item id (required for stale, value and quality). */
  item?: string;
  /** stale: holds when the item has had no update for this long. */
  staleMs?: number;
  /** value: compare the last value; between = value..value2 inclusive. */
  op?: CompareOp;
  value?: number | string | boolean;
  value2?: number;
  /** value on arrays: any element / all elements satisfy (Kepware cannot do arrays); default 'any'. */
  arrayMode?: 'any' | 'all';
  /** quality: holds when the item has not been Good for at least this long (0 = at once). */
  qualityMs?: number;
  /** service-level: holds when ServiceLevel < threshold. */
  threshold?: number;
}

export type ConditionField = 'row' | 'name' | 'kind' | 'item' | 'ms' | 'op' | 'value' | 'value2' | 'threshold' | 'array';

export interface ConditionProblem {
  /** Row index, 0-based; -1 for the list as a whole. */
  index: number;
  field: ConditionField;
  message: string;
}

/**
 * Every problem of one condition as an operator typed it (numbers may be numeric text), each with
 * the field it is about: the name, the item, and the kind's own fields are judged independently,
 * so the dialog marks all of them at once. With `protocol` ('opcua') the item's syntax is checked
 * too (a tag name without its node id never matches anything).
 */
export function conditionFieldProblems(spec: unknown, protocol?: string): Array<{ field: ConditionField; message: string }> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return [{ field: 'row', message: 'a condition must be an object with a name and a kind' }];
  const s = spec as Record<string, unknown>;
  const out: Array<{ field: ConditionField; message: string }> = [];
  if (typeof s.name !== 'string' || s.name.trim() === '') out.push({ field: 'name', message: 'the condition needs a name' });
  if (!CONDITION_KINDS.includes(s.kind as ConditionKind)) {
    out.push({ field: 'kind', message: `unknown condition kind ${quote(s.kind)} (expected ${CONDITION_KINDS.join(', ')})` });
    return out;
  }
  const kind = s.kind as ConditionKind;
  if (kind !== 'service-level') {
    if (typeof s.item !== 'string' || s.item.trim() === '') out.push({ field: 'item', message: `"${KIND_TEXT[kind]}" needs the item it watches` });
    else {
      const rules = protocol === undefined ? undefined : protocolRules(protocol);
      const itemErr = rules === undefined ? undefined : rules.checkItem(s.item.trim());
      if (itemErr) out.push({ field: 'item', message: itemErr });
    }
  }
  const own = kindProblem(kind, s);
  if (own) out.push(own);
  return out;
}

function kindProblem(kind: ConditionKind, s: Record<string, unknown>): { field: ConditionField; message: string } | undefined {
  switch (kind) {
    case 'stale': {
      const ms = toNumber(s.staleMs);
      if (!Number.isFinite(ms) || ms <= 0) return { field: 'ms', message: `"stale after" must be a number of milliseconds > 0 (got ${quote(s.staleMs)})` };
      return undefined;
    }
    case 'quality': {
      if (s.qualityMs === undefined || s.qualityMs === null || s.qualityMs === '') return undefined;
      const ms = toNumber(s.qualityMs);
      if (!Number.isFinite(ms) || ms < 0) return { field: 'ms', message: `"bad for" must be a number of milliseconds ≥ 0 (got ${quote(s.qualityMs)})` };
      return undefined;
    }
    case 'service-level': {
      const t = toNumber(s.threshold);
      if (!Number.isFinite(t) || t < 0 || t > 255) return { field: 'threshold', message: `the ServiceLevel threshold must be 0–255 (got ${quote(s.threshold)})` };
      return undefined;
    }
    case 'value': {
      if (!COMPARE_OPS.includes(s.op as CompareOp)) return { field: 'op', message: `unknown comparison ${quote(s.op)} (expected ${COMPARE_OPS.join(', ')})` };
      if (s.arrayMode !== undefined && s.arrayMode !== 'any' && s.arrayMode !== 'all') return { field: 'array', message: `arrayMode must be "any" or "all" (got ${quote(s.arrayMode)})` };
      const op = s.op as CompareOp;
      if (op === 'true' || op === 'false') return undefined;
      if (op === 'eq' || op === 'neq') {
        const t = typeof s.value;
        if ((t !== 'number' && t !== 'string' && t !== 'boolean') || s.value === '') return { field: 'value', message: `"${OP_TEXT[op]}" needs a value to compare with (number, text or true/false)` };
        if (t === 'number' && !Number.isFinite(s.value)) return { field: 'value', message: `the value must be a finite number (got ${quote(s.value)})` };
        return undefined;
      }
      const v = toNumber(s.value);
      if (!Number.isFinite(v)) return { field: 'value', message: `"${OP_TEXT[op]}" needs a numeric value (got ${quote(s.value)})` };
      if (op === 'between') {
        const v2 = toNumber(s.value2);
        if (!Number.isFinite(v2)) return { field: 'value2', message: `"between" needs a numeric upper bound (got ${quote(s.value2)})` };
        if (v > v2) return { field: 'value2', message: `"between" needs the lower bound first (got ${v} and ${v2})` };
      }
      return undefined;
    }
  }
}

/** The first problem of one condition, or undefined when it can be evaluated. */
export function conditionProblem(spec: unknown, protocol?: string): { field: ConditionField; message: string } | undefined {
  return conditionFieldProblems(spec, protocol)[0];
}

/** The problem of one condition as a message, or undefined (the runtime's and the API's form). */
export function validateCondition(spec: unknown, protocol?: string): string | undefined {
  return conditionProblem(spec, protocol)?.message;
}

/** Every problem of a list, row by row: each row's first problem, reserved and duplicate names. */
export function conditionProblems(specs: unknown, protocol?: string): ConditionProblem[] {
  if (!Array.isArray(specs)) return [{ index: -1, field: 'row', message: 'conditions must be a list' }];
  const out: ConditionProblem[] = [];
  const seen = new Map<string, number>();
  specs.forEach((spec, i) => {
    const found = conditionFieldProblems(spec, protocol);
    if (found.length > 0) {
      for (const p of found) out.push({ index: i, ...p });
      return;
    }
    const n = String((spec as { name: string }).name).trim();
    if (n === EXTERNAL_CONDITION) out.push({ index: i, field: 'name', message: `the name "${EXTERNAL_CONDITION}" is reserved for the external health input` });
    else if (seen.has(n)) out.push({ index: i, field: 'name', message: `the name "${n}" is used twice (conditions ${seen.get(n)! + 1} and ${i + 1})` });
    else seen.set(n, i);
  });
  return out;
}

/** 'condition 2 (device link)' for messages. */
export function conditionLabel(specs: unknown, index: number): string {
  const name = Array.isArray(specs) ? (specs[index] as { name?: unknown } | null)?.name : undefined;
  return `condition ${index + 1}${typeof name === 'string' && name.trim() ? ` (${name.trim()})` : ''}`;
}

/** The first problem of a list as one message, or undefined. */
export function validateConditions(specs: unknown, protocol?: string): string | undefined {
  const [first] = conditionProblems(specs, protocol);
  if (!first) return undefined;
  return first.index < 0 ? first.message : `${conditionLabel(specs, first.index)}: ${first.message}`;
}
