// The master-status item of a channel (IO device redundancy: two PLCs, one master): which message
// carries it and what value means "this PLC is the master". Read by any node (a Modbus read of a
// status register, an OPC UA item) and fed into the selector like data. Pure.
import { type Rule, type RuleSpec, compileRule, getPath, parsePath, ruleText, validatePath, validateRule } from './rules';

/**
 * How the value says "master": 'true' = true / non-zero / "true"; 'false' = the opposite (an active-low
 * standby bit); 'eq' = equals `value`; 'bit' = bit number `value` (0 = least significant) is set.
 */
export type MasterTest = 'true' | 'false' | 'eq' | 'bit';
export const MASTER_TESTS: readonly MasterTest[] = ['true', 'false', 'eq', 'bit'];

export interface MasterSpec extends RuleSpec {
  /** Where the value is in the message: `payload` (default), `payload[1]`, `payload.value`. */
  path?: string;
  test?: MasterTest;
  /** For 'eq' the value (text or number), for 'bit' the bit number 0..31. */
  value?: string | number;
  /**
   * How long a reading counts, ms. Empty/undefined: the channel's freshness. A master status older
   * than this is unknown, and unknown is not master.
   */
  maxAgeMs?: number | string;
}

export interface MasterReading {
  /** true = master, false = not master; undefined = unknown (with the reason). */
  master?: boolean;
  /** The value read, for status texts: "1", "false". */
  value?: string;
  reason?: string;
}

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** undefined when usable; otherwise what is wrong. */
export function validateMaster(spec: MasterSpec): string | undefined {
  const ruleErr = validateRule(spec, { allowEmptyPattern: false });
  if (ruleErr) return ruleErr;
  if (!isBlank(spec.path)) {
    const err = validatePath(spec.path);
    if (err) return `value: ${err}`;
  }
  const test = spec.test ?? 'true';
  if (!MASTER_TESTS.includes(test)) return `"${String(test)}" is no master test (use true, false, eq or bit)`;
  if (test === 'eq' && isBlank(spec.value)) return 'the value that means "master" is missing';
  if (test === 'bit') {
    const bit = Number(spec.value);
    if (isBlank(spec.value) || !Number.isInteger(bit) || bit < 0 || bit > 31) return `the bit number must be 0..31 (got ${isBlank(spec.value) ? 'nothing' : String(spec.value)})`;
  }
  if (!isBlank(spec.maxAgeMs)) {
    const ms = Number(spec.maxAgeMs);
    if (!Number.isInteger(ms) || ms <= 0) return `the master status's maximum age must be a whole number of ms > 0 (got ${String(spec.maxAgeMs)})`;
  }
  return undefined;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function truthyValue(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v !== 0 : undefined;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1' || s === 'on') return true;
    if (s === 'false' || s === '0' || s === 'off') return false;
  }
  return undefined;
}

export class MasterRule {
  readonly rule: Rule;
  private readonly path: Array<string | number>;
  private readonly test: MasterTest;
  private readonly value?: string | number;

  constructor(readonly spec: MasterSpec) {
    this.rule = compileRule(spec);
    this.path = parsePath(isBlank(spec.path) ? 'payload' : String(spec.path)) ?? ['payload'];
    this.test = spec.test ?? 'true';
    this.value = spec.value;
  }

  /** "topic plcA/status: payload[0] = 1". */
  get text(): string {
    const path = isBlank(this.spec.path) ? 'payload' : String(this.spec.path);
    const what = this.test === 'true' ? 'is true' : this.test === 'false' ? 'is false' : this.test === 'eq' ? `= ${String(this.value)}` : `bit ${String(this.value)} set`;
    return `${ruleText(this.spec)}: ${path} ${what}`;
  }

  /** Reads the master status from a message the rule matched (no error, good quality assumed by the caller). */
  read(msg: Record<string, unknown>): MasterReading {
    let v = getPath(msg, this.path);
    // A Modbus read of one register gives [value]: take it.
    if (Array.isArray(v) && v.length === 1) v = v[0];
    if (v && typeof v === 'object' && !Array.isArray(v) && 'value' in (v as object)) v = (v as { value: unknown }).value;
    if (Array.isArray(v)) return { reason: `the master status is an array of ${v.length} values; choose one, e.g. ${this.spec.path || 'payload'}[0]` };
    if (v === undefined || v === null) return { reason: `no value at ${this.spec.path || 'payload'}` };
    const text = scalar(v) ?? JSON.stringify(v);
    switch (this.test) {
      case 'true':
      case 'false': {
        const b = truthyValue(v);
        if (b === undefined) return { value: text, reason: `"${text}" is neither true nor false` };
        return { master: this.test === 'true' ? b : !b, value: text };
      }
      case 'eq': {
        const want = this.value;
        const eq = typeof v === 'number' && want !== '' && Number.isFinite(Number(want)) ? v === Number(want) : text === String(want);
        return { master: eq, value: text };
      }
      case 'bit': {
        const n = typeof v === 'boolean' ? Number(v) : Number(v);
        if (!Number.isInteger(n)) return { value: text, reason: `"${text}" is not a whole number (bit test)` };
        return { master: ((n >>> Number(this.value)) & 1) === 1, value: text };
      }
    }
  }
}
