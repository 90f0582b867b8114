// Alarms from a value: a limit with deadband and delays (ISA-18.2 / Citect analog alarms).
// Raised when the condition holds continuously for `onDelayMs`; cleared when the value is back
// beyond the limit by the deadband, continuously for `offDelayMs`. Between the two thresholds the
// state is kept (no chattering). A value of bad quality is not evaluated (the state stays; the
// trend records the loss). Pure: time through `Clock`.
import type { Clock, TimerHandle } from '../core/clock';
import { type AlarmObservation, parseSeverity, validateKey } from './types';

export type LimitOp = 'gt' | 'gte' | 'lt' | 'lte' | 'eq' | 'neq';
export const LIMIT_OPS: readonly LimitOp[] = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];
const OP_TEXT: Record<LimitOp, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=', neq: '≠' };

export interface LimitSpec {
  /** The alarm's key (its tag in the list). */
  key: string;
  /** msg.topic of the values it watches (default: the key). */
  source: string;
  op: LimitOp;
  limit: number;
  deadband: number;
  onDelayMs: number;
  offDelayMs: number;
  severity: number;
  text: string;
  category: string;
}

/** Checks one configured condition; throws one message listing what is wrong. */
export function parseLimitSpec(raw: Record<string, unknown>): LimitSpec {
  const problems: string[] = [];
  let key = '';
  try {
    key = validateKey(raw.key ?? raw.name);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const op = String(raw.op ?? 'gt') as LimitOp;
  if (!LIMIT_OPS.includes(op)) problems.push(`unknown comparison ${op} (use ${LIMIT_OPS.join(', ')})`);
  const num = (name: string, fallback: number, min = -Infinity): number => {
    const v = raw[name];
    const n = v === undefined || v === null || v === '' ? fallback : Number(v);
    if (!Number.isFinite(n) || n < min) problems.push(`${name} must be a number${min > -Infinity ? ` ≥ ${min}` : ''} (got ${JSON.stringify(v)})`);
    return n;
  };
  const limit = num('limit', NaN);
  const deadband = num('deadband', 0, 0);
  const onDelayMs = num('onDelay', 0, 0);
  const offDelayMs = num('offDelay', 0, 0);
  let severity = 500;
  try {
    severity = parseSeverity(raw.severity);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) throw new Error(`alarm ${key || '(no name)'}: ${problems.join('; ')}`);
  const source = String(raw.source ?? '').trim() || key;
  return { key, source, op, limit, deadband, onDelayMs, offDelayMs, severity, text: String(raw.text ?? '') || `${source} ${OP_TEXT[op]} ${limit}`, category: String(raw.category ?? '') };
}

export class LimitCondition {
  private active = false;
  private pending: { to: boolean; timer: TimerHandle } | undefined;
  private lastValue: number | undefined;

  constructor(
    readonly spec: LimitSpec,
    private readonly clock: Clock,
    private readonly emit: (o: AlarmObservation) => void,
  ) {}

  /** Feeds a value; `good` false: not evaluated. Throws for a value that is not a number. */
  input(value: unknown, good = true): void {
    if (!good) return;
    const v = typeof value === 'boolean' ? (value ? 1 : 0) : typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(v)) throw new Error(`alarm ${this.spec.key}: value ${typeof value === 'number' ? String(value) : JSON.stringify(value)} of ${this.spec.source} is not a number`);
    this.lastValue = v;
    const want = this.active ? !this.clears(v) : this.raises(v);
    if (want === this.active) {
      this.cancel();
      return;
    }
    const delay = want ? this.spec.onDelayMs : this.spec.offDelayMs;
    if (delay <= 0) {
      this.cancel();
      this.set(want);
      return;
    }
    if (this.pending?.to === want) return; // already counting down
    this.cancel();
    this.pending = { to: want, timer: this.clock.setTimeout(() => {
      this.pending = undefined;
      this.set(want);
    }, delay) };
  }

  isActive(): boolean {
    return this.active;
  }

  close(): void {
    this.cancel();
  }

  private raises(v: number): boolean {
    const { op, limit } = this.spec;
    switch (op) {
      case 'gt': return v > limit;
      case 'gte': return v >= limit;
      case 'lt': return v < limit;
      case 'lte': return v <= limit;
      case 'eq': return v === limit;
      case 'neq': return v !== limit;
    }
  }

  /** Back to normal, with the deadband on the safe side of the limit. */
  private clears(v: number): boolean {
    const { op, limit, deadband } = this.spec;
    switch (op) {
      case 'gt': return v <= limit - deadband;
      case 'gte': return v < limit - deadband;
      case 'lt': return v >= limit + deadband;
      case 'lte': return v > limit + deadband;
      case 'eq': return v !== limit;
      case 'neq': return v === limit;
    }
  }

  private set(active: boolean): void {
    this.active = active;
    const { key, severity, text, category } = this.spec;
    this.emit({ key, active, severity, text, category, value: this.lastValue });
  }

  private cancel(): void {
    if (this.pending) this.clock.clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
