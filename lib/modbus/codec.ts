// Register images to values and back, for every item type of lib/rules/modbus.ts: byte and word
// order, scaling, bits in registers, strings, BCD, arrays. Pure (no I/O): the driver decodes what
// a read returned and encodes what a write sends; the unit tests check known register images.
import type { ModbusItem } from '../rules/modbus';
import { TYPE_REGISTERS } from '../rules/modbus';

/** A value that cannot be encoded or a register image that cannot be decoded; statusCode is an OPC UA status name. */
export class CodecError extends Error {
  constructor(
    message: string,
    readonly statusCode: string,
  ) {
    super(message);
    this.name = 'CodecError';
  }
}

export type ModbusValue = number | bigint | boolean | string | Array<number | bigint | boolean | string>;

const TWO_POW_53 = 2n ** 53n;

/** A 64-bit integer as a number when it is exact, else as a bigint. */
function int64Value(v: bigint): number | bigint {
  return v <= TWO_POW_53 && v >= -TWO_POW_53 ? Number(v) : v;
}

/** `raw * factor + offset`, dividing when the factor is 1/n so that 123 * 0.1 gives 12.3, not 12.300000000000001. */
export function applyScale(item: ModbusItem, raw: number): number {
  const s = item.scale;
  if (!s) return raw;
  let v: number;
  if (s.op === '/') v = raw / s.operand;
  else {
    const inv = 1 / s.operand;
    const n = Math.round(inv);
    v = Math.abs(s.operand) < 1 && n !== 0 && Math.abs(inv - n) < 1e-9 * Math.abs(inv) ? raw / n : raw * s.operand;
  }
  return s.offset ? v + s.offset : v;
}

function unscale(item: ModbusItem, value: number): number {
  const s = item.scale;
  if (!s) return value;
  const v = value - s.offset;
  return s.op === '/' ? v * s.operand : v / s.operand;
}

/** The bytes of one value in big-endian order, from its registers as sent on the wire. */
function valueBytes(item: ModbusItem, words: ArrayLike<number>, start: number, n: number): DataView {
  const view = new DataView(new ArrayBuffer(n * 2));
  for (let i = 0; i < n; i++) {
    const w = words[start + (item.wordSwap ? n - 1 - i : i)] & 0xffff;
    view.setUint16(i * 2, item.byteSwap ? ((w & 0xff) << 8) | (w >> 8) : w);
  }
  return view;
}

/** The registers of one value, from its big-endian bytes. */
function wordsOf(item: ModbusItem, view: DataView, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const w = view.getUint16(i * 2);
    out[item.wordSwap ? n - 1 - i : i] = item.byteSwap ? ((w & 0xff) << 8) | (w >> 8) : w;
  }
  return out;
}

function bcdDecode(n: number, digits: number, item: ModbusItem): number {
  let v = 0;
  for (let d = digits - 1; d >= 0; d--) {
    const nibble = Math.floor(n / 16 ** d) % 16;
    if (nibble > 9) throw new CodecError(`${item.type} value 0x${n.toString(16).padStart(digits, '0')} is not BCD (a digit is ${nibble})`, 'BadDecodingError');
    v = v * 10 + nibble;
  }
  return v;
}

function bcdEncode(v: number, digits: number): number {
  let n = 0;
  for (let d = 0; d < digits; d++) {
    n += (v % 10) * 16 ** d;
    v = Math.floor(v / 10);
  }
  return n;
}

function decodeOne(item: ModbusItem, words: ArrayLike<number>, start: number): number | bigint {
  // One register (the common case, 1 000 items a poll): no DataView.
  if (item.type === 'uint16' || item.type === 'int16') {
    let w = words[start] & 0xffff;
    if (item.byteSwap) w = ((w & 0xff) << 8) | (w >> 8);
    return item.type === 'int16' ? (w << 16) >> 16 : w;
  }
  const n = TYPE_REGISTERS[item.type as keyof typeof TYPE_REGISTERS];
  const view = valueBytes(item, words, start, n);
  switch (item.type) {
    case 'int32':
      return view.getInt32(0);
    case 'uint32':
      return view.getUint32(0);
    case 'float32':
      return view.getFloat32(0);
    case 'float64':
      return view.getFloat64(0);
    case 'int64':
      return int64Value(view.getBigInt64(0));
    case 'uint64':
      return int64Value(view.getBigUint64(0));
    case 'bcd16':
      return bcdDecode(view.getUint16(0), 4, item);
    case 'bcd32':
      return bcdDecode(view.getUint32(0), 8, item);
    default:
      throw new CodecError(`cannot decode ${item.type} from registers`, 'BadDecodingError');
  }
}

function scaled(item: ModbusItem, v: number | bigint): number | bigint {
  if (!item.scale) return v;
  return applyScale(item, Number(v));
}

/**
 * The value of a register item from a read's registers; `start` is the index of the item's first
 * register in `words`. Throws CodecError for an image that is no value of the type (BCD digits).
 */
export function decodeRegisters(item: ModbusItem, words: ArrayLike<number>, start = 0): ModbusValue {
  if (start < 0 || start + item.span > words.length) {
    throw new CodecError(`the answer holds ${words.length} registers; ${item.span} expected from index ${start}`, 'BadDecodingError');
  }
  if (item.bit !== undefined) return ((words[start] >> item.bit) & 1) === 1;
  if (item.type === 'string') {
    let s = '';
    const len = item.length ?? 0;
    for (let i = 0; i < len; i++) {
      const w = words[start + (i >> 1)];
      const hi = (i & 1) === 0;
      const code = hi !== item.byteSwap ? (w >> 8) & 0xff : w & 0xff;
      if (code === 0) break;
      s += String.fromCharCode(code);
    }
    return s;
  }
  const per = TYPE_REGISTERS[item.type as keyof typeof TYPE_REGISTERS];
  if (!item.array) return scaled(item, decodeOne(item, words, start));
  const out: Array<number | bigint> = new Array(item.count);
  for (let i = 0; i < item.count; i++) out[i] = scaled(item, decodeOne(item, words, start + i * per));
  return out;
}

/** The value of a coil or discrete input item from a read's bits; `start` is the index of its first bit. */
export function decodeBits(item: ModbusItem, bits: ArrayLike<boolean>, start = 0): ModbusValue {
  if (start < 0 || start + item.span > bits.length) {
    throw new CodecError(`the answer holds ${bits.length} bits; ${item.span} expected from index ${start}`, 'BadDecodingError');
  }
  if (!item.array) return bits[start] === true;
  const out: boolean[] = new Array(item.count);
  for (let i = 0; i < item.count; i++) out[i] = bits[start + i] === true;
  return out;
}

// ------------------------------------------------------------------------------------- encoding

function describeValue(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/** A boolean from a flow value: true/false, 1/0, "true"/"false", "1"/"0", "on"/"off". */
export function toBoolean(v: unknown, what: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1' || s === 'on') return true;
    if (s === 'false' || s === '0' || s === 'off') return false;
  }
  throw new CodecError(`${what}: ${describeValue(v)} is not a boolean (true/false, 1/0)`, 'BadTypeMismatch');
}

function toNumber(v: unknown, what: string): number {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) throw new CodecError(`${what}: NaN is not a number to write`, 'BadTypeMismatch');
    return v;
  }
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw new CodecError(`${what}: ${describeValue(v)} is not a number`, 'BadTypeMismatch');
}

const INT_RANGES: Record<string, [number, number]> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  bcd16: [0, 9999],
  bcd32: [0, 99999999],
};
const BIG_RANGES: Record<string, [bigint, bigint]> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function encodeOne(item: ModbusItem, v: unknown, what: string): number[] {
  const n = TYPE_REGISTERS[item.type as keyof typeof TYPE_REGISTERS];
  const view = new DataView(new ArrayBuffer(n * 2));
  const type = item.type;
  if (type === 'int64' || type === 'uint64') {
    let big: bigint;
    if (!item.scale && typeof v === 'bigint') big = v;
    else if (!item.scale && typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) big = BigInt(v.trim());
    else {
      const raw = Math.round(unscale(item, toNumber(v, what)));
      if (!Number.isFinite(raw)) throw new CodecError(`${what}: ${describeValue(v)} is out of range for ${type}`, 'BadOutOfRange');
      big = BigInt(raw);
    }
    const [lo, hi] = BIG_RANGES[type];
    if (big < lo || big > hi) throw new CodecError(`${what}: ${describeValue(v)} is out of range for ${type} (${lo}..${hi})`, 'BadOutOfRange');
    if (type === 'int64') view.setBigInt64(0, big);
    else view.setBigUint64(0, big);
    return wordsOf(item, view, n);
  }
  const x = unscale(item, toNumber(v, what));
  if (type === 'float32' || type === 'float64') {
    if (type === 'float32' && Number.isFinite(x) && Math.abs(x) > 3.4028234663852886e38) {
      throw new CodecError(`${what}: ${describeValue(v)} is out of range for float32`, 'BadOutOfRange');
    }
    if (type === 'float32') view.setFloat32(0, x);
    else view.setFloat64(0, x);
    return wordsOf(item, view, n);
  }
  const raw = Math.round(x);
  const [lo, hi] = INT_RANGES[type];
  if (!Number.isFinite(raw) || raw < lo || raw > hi) {
    const scaledNote = item.scale ? ` (raw ${Number.isFinite(raw) ? raw : x} after removing the scale)` : '';
    throw new CodecError(`${what}: ${describeValue(v)} is out of range for ${type} (${lo}..${hi})${scaledNote}`, 'BadOutOfRange');
  }
  switch (type) {
    case 'int16':
      view.setInt16(0, raw);
      break;
    case 'uint16':
      view.setUint16(0, raw);
      break;
    case 'int32':
      view.setInt32(0, raw);
      break;
    case 'uint32':
      view.setUint32(0, raw);
      break;
    case 'bcd16':
      view.setUint16(0, bcdEncode(raw, 4));
      break;
    case 'bcd32':
      view.setUint32(0, bcdEncode(raw, 8));
      break;
    default:
      throw new CodecError(`${what}: cannot encode ${type}`, 'BadTypeMismatch');
  }
  return wordsOf(item, view, n);
}

/**
 * The registers to write for a value of a register item (not a bit in a register: see
 * setRegisterBit). Throws CodecError (BadTypeMismatch, BadOutOfRange) with a message for the operator.
 */
export function encodeRegisters(item: ModbusItem, value: unknown, itemId = 'value'): number[] {
  const what = `write to ${itemId}`;
  if (item.bit !== undefined) throw new CodecError(`${what}: a bit in a register is written with setRegisterBit`, 'BadTypeMismatch');
  if (item.type === 'string') {
    if (typeof value !== 'string') throw new CodecError(`${what}: ${describeValue(value)} is not a string`, 'BadTypeMismatch');
    const len = item.length ?? 0;
    if (value.length > len) throw new CodecError(`${what}: "${value.length > 40 ? `${value.slice(0, 37)}...` : value}" has ${value.length} characters, the item holds ${len}`, 'BadOutOfRange');
    const words = new Array<number>(item.span).fill(0);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code > 255) throw new CodecError(`${what}: character "${value[i]}" is not a single byte (Latin-1)`, 'BadOutOfRange');
      const hi = (i & 1) === 0;
      words[i >> 1] |= hi !== item.byteSwap ? code << 8 : code;
    }
    return words;
  }
  if (!item.array) {
    if (Array.isArray(value)) {
      if (value.length !== 1) throw new CodecError(`${what}: an array of ${value.length} for a single ${item.type}`, 'BadTypeMismatch');
      return encodeOne(item, value[0], what);
    }
    return encodeOne(item, value, what);
  }
  if (!Array.isArray(value)) throw new CodecError(`${what}: ${describeValue(value)} is not an array of ${item.count} ${item.type}`, 'BadTypeMismatch');
  if (value.length !== item.count) throw new CodecError(`${what}: an array of ${value.length} for ${item.count} elements`, 'BadTypeMismatch');
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) out.push(...encodeOne(item, value[i], `${what}[${i}]`));
  return out;
}

/** The bits to write for a value of a coil item. */
export function encodeBits(item: ModbusItem, value: unknown, itemId = 'value'): boolean[] {
  const what = `write to ${itemId}`;
  if (!item.array) {
    if (Array.isArray(value) && value.length === 1) return [toBoolean(value[0], what)];
    return [toBoolean(value, what)];
  }
  if (!Array.isArray(value)) throw new CodecError(`${what}: ${describeValue(value)} is not an array of ${item.count} booleans`, 'BadTypeMismatch');
  if (value.length !== item.count) throw new CodecError(`${what}: an array of ${value.length} for ${item.count} coils`, 'BadTypeMismatch');
  return value.map((v, i) => toBoolean(v, `${what}[${i}]`));
}

/** A register with one bit set or cleared (read-modify-write of a bit in a holding register). */
export function setRegisterBit(word: number, bit: number, on: boolean): number {
  return on ? (word | (1 << bit)) & 0xffff : word & ~(1 << bit) & 0xffff;
}

/** AND and OR masks of FC 22 (mask write register) for one bit. */
export function bitMasks(bit: number, on: boolean): { and: number; or: number } {
  return { and: ~(1 << bit) & 0xffff, or: on ? 1 << bit : 0 };
}

/** Value equality for change detection: arrays element-wise, NaN equal to NaN, bigints by value. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
    return true;
  }
  return false;
}
