// Failover conditions: Kepware's link-based failures. The server answers, but its data says the
// device behind it is gone: an item stops updating, goes bad, shows a fault value, or the server
// lowers its ServiceLevel. Every condition is judged per server on that server's own data, so the
// pair can tell "the active server is bad" from "both are bad" and never switch to a bad standby.
import type { Clock } from './clock';
import type { DataChange, ServerRole } from './types';

// The condition rows and their validation live in lib/rules/conditions (shared with the editor).
import { type CompareOp, type ConditionSpec, EXTERNAL_CONDITION, OP_TEXT, validateCondition } from '../rules/conditions';
import { toNumber } from '../rules/numbers';
import { quote as describe } from '../rules/text';

export {
  COMPARE_OPS,
  CONDITION_KINDS,
  type CompareOp,
  type ConditionKind,
  type ConditionSpec,
  EXTERNAL_CONDITION,
  conditionProblems,
  validateCondition,
  validateConditions,
} from '../rules/conditions';

/** A condition that holds on a server, with the reason in an operator's words. */
export interface HoldingCondition {
  name: string;
  reason: string;
}

/** A condition with its numbers parsed once. */
interface Compiled {
  spec: ConditionSpec;
  name: string;
  item: string;
  staleMs: number;
  qualityMs: number;
  threshold: number;
  value: number | string | boolean | undefined;
  numValue: number;
  numValue2: number;
  all: boolean;
}

interface ItemState {
  value: unknown;
  statusCode: string;
  good: boolean;
  /** When the last update for this item arrived (clock time). */
  updatedAt: number;
  /** Start of the current run of non-Good updates. */
  badSince?: number;
}

interface ServerData {
  /** resetServer time, or the first observation: staleness of never-seen items counts from here. */
  since?: number;
  items: Map<string, ItemState>;
  serviceLevel?: number;
  external?: { ok: boolean; reason?: string };
}

/** The boolean an item value stands for: booleans, the numbers 0/1 and the text "true"/"false"; otherwise undefined. */
function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : undefined;
  if (typeof v === 'bigint') return v === 1n ? true : v === 0n ? false : undefined;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    return t === 'true' ? true : t === 'false' ? false : undefined;
  }
  return undefined;
}

/** The number an item value stands for (numbers, bigints, booleans as 0/1, numeric text, dates); NaN otherwise. */
function asNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return toNumber(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/** Whether one scalar satisfies the comparison. Values that cannot be compared never satisfy it. */
function satisfies(c: Compiled, v: unknown): boolean {
  if (v === null || v === undefined) return false;
  const op = c.spec.op as CompareOp;
  switch (op) {
    case 'true':
      return asBoolean(v) === true;
    case 'false':
      return asBoolean(v) === false;
    case 'eq':
    case 'neq': {
      let equal: boolean | undefined;
      if (typeof v === 'boolean') {
        const want = asBoolean(c.value);
        equal = want === undefined ? undefined : v === want;
      } else if (typeof v === 'string') {
        equal = v === String(c.value);
      } else {
        const n = asNumber(v);
        equal = Number.isNaN(n) || Number.isNaN(c.numValue) ? undefined : n === c.numValue;
      }
      if (equal === undefined) return op === 'neq' && typeof v !== 'object';
      return op === 'eq' ? equal : !equal;
    }
    default: {
      const n = asNumber(v);
      if (Number.isNaN(n)) return false;
      if (op === 'lt') return n < c.numValue;
      if (op === 'lte') return n <= c.numValue;
      if (op === 'gt') return n > c.numValue;
      if (op === 'gte') return n >= c.numValue;
      return n >= c.numValue && n <= c.numValue2;
    }
  }
}

/** Arrays from OPC UA arrive as plain arrays or typed arrays (Float32Array for a Float array...). */
function asArray(v: unknown): ArrayLike<unknown> | undefined {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as unknown as ArrayLike<unknown>;
  return undefined;
}

function wantText(c: Compiled): string {
  const op = c.spec.op as CompareOp;
  if (op === 'true' || op === 'false') return OP_TEXT[op];
  if (op === 'between') return `between ${c.numValue} and ${c.numValue2}`;
  return `${OP_TEXT[op]} ${describe(c.value)}`;
}

/**
 * Evaluates all conditions of one pair, per server. Feed it each server's data (observe), its
 * ServiceLevel and any external health input; ask holding() whenever a verdict is needed and
 * re-ask at nextDeadline() so time-based conditions (stale, quality) fire without new data.
 */
export class ConditionMonitor {
  private readonly conditions: Compiled[];
  /** Items some condition watches: data for other items is not kept. */
  private readonly watched: Set<string>;
  /** Per channel (by name), created when first observed. */
  private readonly servers = new Map<ServerRole, ServerData>();

  private server(name: ServerRole): ServerData {
    let s = this.servers.get(name);
    if (!s) {
      s = { items: new Map() };
      this.servers.set(name, s);
    }
    return s;
  }

  constructor(specs: ConditionSpec[], private readonly clock: Clock) {
    // Names are checked for uniqueness by validateConditions (editor-facing); here only what
    // would make evaluation meaningless is refused.
    specs.forEach((spec, i) => {
      const err = validateCondition(spec);
      if (err) throw new Error(`condition ${i + 1}${spec && typeof spec.name === 'string' && spec.name ? ` (${spec.name})` : ''}: ${err}`);
    });
    this.conditions = specs.map((spec) => ({
      spec,
      name: spec.name.trim(),
      item: spec.item ?? '',
      staleMs: toNumber(spec.staleMs),
      qualityMs: spec.qualityMs === undefined || (spec.qualityMs as unknown) === '' ? 0 : toNumber(spec.qualityMs),
      threshold: toNumber(spec.threshold),
      value: spec.value,
      numValue: asNumber(spec.value),
      numValue2: toNumber(spec.value2),
      all: spec.arrayMode === 'all',
    }));
    this.watched = new Set(this.conditions.filter((c) => c.spec.kind !== 'service-level').map((c) => c.item));
  }

  /** Live data from that server. Every update counts as a sign of life for staleness, whatever its value. */
  observe(server: ServerRole, changes: DataChange[]): void {
    const s = this.server(server);
    const now = this.clock.now();
    if (s.since === undefined) s.since = now;
    for (const ch of changes) {
      if (!this.watched.has(ch.item)) continue;
      const prev = s.items.get(ch.item);
      const badSince = ch.good ? undefined : prev && !prev.good && prev.badSince !== undefined ? prev.badSince : now;
      s.items.set(ch.item, { value: ch.value, statusCode: ch.statusCode, good: ch.good, updatedAt: now, badSince });
    }
  }

  /** The server's OPC UA ServiceLevel; undefined when it has none or is not connected. */
  observeServiceLevel(server: ServerRole, level: number | undefined): void {
    this.server(server).serviceLevel = typeof level === 'number' && Number.isFinite(level) ? level : undefined;
  }

  /** An outside verdict on a server, e.g. a PLC master bit read by another node. false holds as 'external'. */
  setExternalHealth(server: ServerRole, ok: boolean, reason?: string): void {
    this.server(server).external = { ok, reason };
  }

  /**
   * The server (re)starts delivering: staleness and bad-quality durations count from now, not from
   * data of an earlier connection. Last values are kept (value conditions keep their verdict until
   * new data arrives).
   */
  resetServer(server: ServerRole): void {
    const s = this.server(server);
    const now = this.clock.now();
    s.since = now;
    for (const item of s.items.values()) if (item.badSince !== undefined) item.badSince = now;
  }

  /**
   * Whether the server's data can be judged: true once data was observed for it, it was reset
   * (is delivering), its ServiceLevel is known, or an external input says it is bad. A cold standby
   * that was never connected is not known: no condition holding on it proves nothing.
   */
  knows(server: ServerRole): boolean {
    const s = this.server(server);
    return s.since !== undefined || s.serviceLevel !== undefined || s.external?.ok === false;
  }

  /** The conditions holding on that server now, in the order they were given, then 'external'. */
  holding(server: ServerRole): HoldingCondition[] {
    const s = this.server(server);
    const now = this.clock.now();
    const out: HoldingCondition[] = [];
    for (const c of this.conditions) {
      const reason = this.check(c, s, now);
      if (reason !== undefined) out.push({ name: c.name, reason });
    }
    if (s.external && !s.external.ok) {
      out.push({ name: EXTERNAL_CONDITION, reason: s.external.reason || `the external health input reports the ${server} bad` });
    }
    return out;
  }

  /**
   * The earliest future time at which a stale or quality timer turns a verdict to "holds", or
   * undefined when no timer is running. Data, ServiceLevel and external input change verdicts only
   * when they arrive, so the caller re-checks on those and at this time.
   */
  nextDeadline(): number | undefined {
    const now = this.clock.now();
    let next: number | undefined;
    const consider = (t: number) => {
      if (t > now && (next === undefined || t < next)) next = t;
    };
    for (const s of this.servers.values()) {
      for (const c of this.conditions) {
        if (c.spec.kind === 'stale') {
          const ref = this.staleReference(c, s);
          if (ref !== undefined) consider(ref + c.staleMs);
        } else if (c.spec.kind === 'quality') {
          const item = s.items.get(c.item);
          if (item && item.badSince !== undefined) consider(item.badSince + c.qualityMs);
        }
      }
    }
    return next;
  }

  /** Time from which staleness of the item counts on that server; undefined = not observed yet. */
  private staleReference(c: Compiled, s: ServerData): number | undefined {
    const item = s.items.get(c.item);
    if (item) return s.since === undefined ? item.updatedAt : Math.max(item.updatedAt, s.since);
    return s.since;
  }

  /** The reason the condition holds on this server's data, or undefined. */
  private check(c: Compiled, s: ServerData, now: number): string | undefined {
    switch (c.spec.kind) {
      case 'stale': {
        const ref = this.staleReference(c, s);
        if (ref === undefined || now - ref < c.staleMs) return undefined;
        const what = s.items.has(c.item) ? 'not updated' : 'no value received';
        return `${c.item} ${what} for ${now - ref} ms (limit ${c.staleMs})`;
      }
      case 'quality': {
        const item = s.items.get(c.item);
        if (!item || item.badSince === undefined || now - item.badSince < c.qualityMs) return undefined;
        return `${c.item} quality ${item.statusCode || 'not Good'} for ${now - item.badSince} ms (limit ${c.qualityMs})`;
      }
      case 'service-level': {
        if (s.serviceLevel === undefined || !(s.serviceLevel < c.threshold)) return undefined;
        return `ServiceLevel ${s.serviceLevel} below ${c.threshold}`;
      }
      case 'value': {
        const item = s.items.get(c.item);
        if (!item) return undefined;
        const arr = asArray(item.value);
        if (!arr) return satisfies(c, item.value) ? `${c.item} = ${describe(item.value)} (holds when ${c.spec.op === 'true' || c.spec.op === 'false' ? 'it ' : ''}${wantText(c)})` : undefined;
        if (arr.length === 0) return undefined;
        if (c.all) {
          for (let i = 0; i < arr.length; i++) if (!satisfies(c, arr[i])) return undefined;
          return `${c.item}: all ${arr.length} elements ${wantText(c)}`;
        }
        for (let i = 0; i < arr.length; i++) {
          if (satisfies(c, arr[i])) return `${c.item}[${i}] = ${describe(arr[i])} (holds when any element ${wantText(c)})`;
        }
        return undefined;
      }
    }
  }
}
