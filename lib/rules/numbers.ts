// Numbers as the editor stores them (text or number) and the runtime reads them. Pure.
import { quote } from './text';

/** A number from a property: numbers as they are, numeric text parsed, anything else NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v.trim());
  return NaN;
}

/** undefined when `v` is a whole number within [min, max]; else a message naming `what`. */
export function checkInteger(v: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER, unit = ''): string | undefined {
  const n = toNumber(v);
  const u = unit ? ` ${unit}` : '';
  if (v === undefined || v === null || v === '') return `${what} is required (a whole number${max < Number.MAX_SAFE_INTEGER ? ` ${min}–${max}` : ` ≥ ${min}`}${u})`;
  if (!Number.isFinite(n) || !Number.isInteger(n)) return `${what} must be a whole number${u} (got ${quote(v)})`;
  if (n < min || n > max) return max < Number.MAX_SAFE_INTEGER ? `${what} must be ${min}–${max}${u} (got ${n})` : `${what} must be at least ${min}${u} (got ${n})`;
  return undefined;
}

/** undefined when `v` is a finite number ≥ min (fractions allowed). */
export function checkNumber(v: unknown, what: string, min: number, unit = ''): string | undefined {
  const n = toNumber(v);
  const u = unit ? ` ${unit}` : '';
  if (v === undefined || v === null || v === '') return `${what} is required (a number ≥ ${min}${u})`;
  if (!Number.isFinite(n)) return `${what} must be a number${u} (got ${quote(v)})`;
  if (n < min) return `${what} must be at least ${min}${u} (got ${n})`;
  return undefined;
}
