// What a user types for Modbus: items (HR0:float32:CDAB*0.1), endpoints (modbus-tcp://host:502)
// and the pair's Modbus options. Pure and dependency-free (no Node builtins, no packages, no
// imports), so the editor can bundle this one file and validate in the dialog with the very
// messages the runtime gives. docs/modbus.md is the user's reference.

// ------------------------------------------------------------------------------------------ items

/** The four Modbus tables. */
export type Area = 'coil' | 'discrete' | 'input' | 'holding';

export type DataTypeName = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64' | 'bcd16' | 'bcd32' | 'string';

export interface Scale {
  /** value = raw * factor + offset (factor 1 when only an offset is given). */
  factor: number;
  offset: number;
  /** How it was written, kept for format(): '*' factor or '/' divisor. */
  op: '*' | '/';
  /** The number after * or / as typed (the divisor for '/'). */
  operand: number;
}

export interface ModbusItem {
  area: Area;
  /** 0-based protocol address (what goes on the wire). */
  address: number;
  /** Bit in a register (0 = least significant), holding and input registers only. */
  bit?: number;
  /** Unit id of this item; undefined = the endpoint's. */
  unit?: number;
  type: DataTypeName;
  /** Number of values; 1 for a scalar. */
  count: number;
  /** Written with [n]: the value is an array (even [1]). */
  array: boolean;
  /** Characters of a string item. */
  length?: number;
  /** Byte swap inside each register (BA, BADC, BADCFEHG). */
  byteSwap: boolean;
  /** Registers in reverse order (CDAB, DCBA, GHEFCDAB, HGFEDCBA). */
  wordSwap: boolean;
  scale?: Scale;
  /** Registers (holding/input) or bits (coils/discrete inputs) the item spans. */
  span: number;
}

export const AREA_PREFIX: Record<Area, string> = { coil: 'C', discrete: 'DI', input: 'IR', holding: 'HR' };
const PREFIX_AREA: Record<string, Area> = { C: 'coil', DI: 'discrete', IR: 'input', HR: 'holding' };
const MODICON_DIGIT: Record<Area, string> = { coil: '0', discrete: '1', input: '3', holding: '4' };
const DIGIT_AREA: Record<string, Area> = { '0': 'coil', '1': 'discrete', '3': 'input', '4': 'holding' };
export const AREA_NAME: Record<Area, string> = { coil: 'coil', discrete: 'discrete input', input: 'input register', holding: 'holding register' };

/** Protocol limits of one read (Modbus Application Protocol 1.1b3, FC 1-4). */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;
/** FC 16 writes at most 123 registers, FC 15 at most 1968 coils. */
export const MAX_WRITE_REGISTERS = 123;
export const MAX_WRITE_BITS = 1968;
export const MAX_STRING_LENGTH = 250;

/** Registers per value of each register type. */
export const TYPE_REGISTERS: Record<Exclude<DataTypeName, 'bool' | 'string'>, number> = {
  int16: 1,
  uint16: 1,
  bcd16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  bcd32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

const TYPE_ALIASES: Record<string, DataTypeName> = {
  bool: 'bool',
  boolean: 'bool',
  bit: 'bool',
  int16: 'int16',
  short: 'int16',
  int: 'int16',
  uint16: 'uint16',
  word: 'uint16',
  uint: 'uint16',
  int32: 'int32',
  long: 'int32',
  dint: 'int32',
  uint32: 'uint32',
  dword: 'uint32',
  udint: 'uint32',
  int64: 'int64',
  llong: 'int64',
  lint: 'int64',
  uint64: 'uint64',
  qword: 'uint64',
  ulint: 'uint64',
  float32: 'float32',
  float: 'float32',
  real: 'float32',
  float64: 'float64',
  double: 'float64',
  lreal: 'float64',
  bcd16: 'bcd16',
  bcd: 'bcd16',
  bcd32: 'bcd32',
  lbcd: 'bcd32',
};

/** Byte/word order codes by register count of one value: [code, byteSwap, wordSwap]. */
const ORDERS: Array<[string, number, boolean, boolean]> = [
  ['AB', 1, false, false],
  ['BA', 1, true, false],
  ['ABCD', 2, false, false],
  ['BADC', 2, true, false],
  ['CDAB', 2, false, true],
  ['DCBA', 2, true, true],
  ['ABCDEFGH', 4, false, false],
  ['BADCFEHG', 4, true, false],
  ['GHEFCDAB', 4, false, true],
  ['HGFEDCBA', 4, true, true],
];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const NUM = '(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';
const SCALE_RE = new RegExp(`(?:([*/])(-?${NUM}))?(?:([+-])(${NUM}))?$`);
const SYNTAX_HINT = 'examples: HR0, HR0:float32:CDAB*0.1, 40001, IR5@2:int32, C0[16], HR10.3, HR100:string20';

function fail<T>(text: string, error: string): ParseResult<T> {
  return { ok: false, error: `"${text}": ${error}` };
}

/** Registers (or bits) of one value of an item's type. */
function valueSpan(item: Pick<ModbusItem, 'area' | 'type' | 'length'>): number {
  if (item.area === 'coil' || item.area === 'discrete') return 1;
  if (item.type === 'bool') return 1;
  if (item.type === 'string') return Math.ceil((item.length ?? 0) / 2);
  return TYPE_REGISTERS[item.type];
}

function isBitArea(area: Area): boolean {
  return area === 'coil' || area === 'discrete';
}

/**
 * Parses an item. Address forms: a prefix and the 0-based protocol address (HR0, IR0x10, C5, DI0),
 * or a 5/6-digit Modicon reference, 1-based (40001 = 400001 = HR0, 30001 = IR0, 00001 = C0,
 * 10001 = DI0). Then optionally .bit (registers) or .nnH / .nnL (Kepware string), [n] (array),
 * @unit, :type[n], :order, and a scale: *factor or /divisor, then +offset or -offset.
 */
export function parseItem(input: string): ParseResult<ModbusItem> {
  const text = typeof input === 'string' ? input.trim() : '';
  if (!text) return { ok: false, error: `an item is required (${SYNTAX_HINT})` };
  if (/\s/.test(text)) return fail(text, 'an item has no spaces');

  // Scale at the end: *f or /d, then +o or -o.
  let rest = text;
  let scale: Scale | undefined;
  const sm = SCALE_RE.exec(rest);
  if (sm && sm[0].length > 0) {
    const op = (sm[1] as '*' | '/' | undefined) ?? '*';
    const operand = sm[2] !== undefined ? Number(sm[2]) : 1;
    const offset = sm[4] !== undefined ? (sm[3] === '-' ? -Number(sm[4]) : Number(sm[4])) : 0;
    if (!Number.isFinite(operand) || !Number.isFinite(offset)) return fail(text, 'the scale is not a finite number');
    if (operand === 0) return fail(text, op === '/' ? 'cannot divide by 0' : 'a factor of 0 makes every value 0');
    scale = { op, operand, factor: op === '/' ? 1 / operand : operand, offset };
    rest = rest.slice(0, rest.length - sm[0].length);
    // "40001-5" would otherwise be read as the address 40001 with an offset: fine; but "HR-5" is not.
    if (!rest) return fail(text, `an address is required before the scale (${SYNTAX_HINT})`);
  }

  const parts = rest.split(':');
  const addressPart = parts[0];
  let typeName: DataTypeName | undefined;
  let typeArray: number | undefined;
  let length: number | undefined;
  let order: { code: string; bytes: number; byteSwap: boolean; wordSwap: boolean } | undefined;
  for (const raw of parts.slice(1)) {
    if (!raw) return fail(text, 'an empty field between ":" separators');
    const tm = /^([A-Za-z]+\d*)(?:\[(\d+)\])?$/.exec(raw);
    const word = tm ? tm[1].toLowerCase() : '';
    const sm2 = /^(?:string|str)(\d*)$/.exec(word);
    const alias = tm ? TYPE_ALIASES[word] : undefined;
    if (tm && (sm2 || alias)) {
      if (typeName) return fail(text, `two data types (${typeName} and ${raw})`);
      if (sm2) {
        if (!sm2[1]) return fail(text, `a string needs its length in characters, e.g. string20`);
        length = Number(sm2[1]);
        if (!(length >= 1 && length <= MAX_STRING_LENGTH)) return fail(text, `a string is 1..${MAX_STRING_LENGTH} characters long (got ${sm2[1]})`);
        typeName = 'string';
      } else typeName = alias;
      if (tm[2] !== undefined) typeArray = Number(tm[2]);
      continue;
    }
    const upper = raw.toUpperCase();
    const o = ORDERS.find((x) => x[0] === upper);
    if (o) {
      if (order) return fail(text, `two byte orders (${order.code} and ${upper})`);
      order = { code: o[0], bytes: o[1], byteSwap: o[2], wordSwap: o[3] };
      continue;
    }
    if (/^[A-Ha-h]+$/.test(raw) && raw.length >= 2) {
      return fail(text, `unknown byte order ${raw}: use AB or BA (16-bit types, strings), ABCD, CDAB, BADC or DCBA (32- and 64-bit types), or ABCDEFGH, GHEFCDAB, BADCFEHG, HGFEDCBA (64-bit types)`);
    }
    return fail(text, `unknown data type "${raw}": use bool, int16, uint16, int32, uint32, int64, uint64, float32, float64, bcd16, bcd32 or string<n> (Kepware names such as word, dword, float, double, long work too)`);
  }

  // The address: area + number, then .bit / .nnH, [n] and @unit in any order.
  const am = /^([A-Za-z]*)(0[xX][0-9A-Fa-f]+|\d+)(.*)$/.exec(addressPart);
  if (!am) return fail(text, `no address (${SYNTAX_HINT})`);
  const prefix = am[1].toUpperCase();
  let area: Area;
  let address: number;
  if (prefix) {
    const a = PREFIX_AREA[prefix];
    if (!a) return fail(text, `unknown table "${am[1]}": use HR (holding registers), IR (input registers), C (coils) or DI (discrete inputs)`);
    area = a;
    address = am[2].toLowerCase().startsWith('0x') ? parseInt(am[2].slice(2), 16) : Number(am[2]);
    if (!(address >= 0 && address <= 65535)) return fail(text, `the address ${am[2]} is out of range 0..65535 (after ${prefix} comes the 0-based protocol address)`);
  } else {
    const digits = am[2];
    if (/^0[xX]/.test(digits)) return fail(text, `a hexadecimal address needs its table: HR${digits}, IR${digits}, C${digits} or DI${digits}`);
    if (digits.length !== 5 && digits.length !== 6) {
      return fail(text, `"${digits}" is ambiguous: write a table and the 0-based address (HR${digits}, IR${digits}, C${digits}, DI${digits}) or a 5- or 6-digit reference such as 40001 (= HR0)`);
    }
    const a = DIGIT_AREA[digits[0]];
    if (!a) return fail(text, `${digits} is no Modbus reference: it starts with 0 (coils), 1 (discrete inputs), 3 (input registers) or 4 (holding registers)`);
    area = a;
    const n = Number(digits.slice(1));
    const max = digits.length === 5 ? 9999 : 65536;
    if (n < 1 || n > max) {
      return fail(text, `${digits} is out of range: ${digits.length}-digit references run from ${digits[0]}${'0'.repeat(digits.length - 2)}1 to ${digits[0]}${max}${n === 0 ? ` (for the 0-based address 0 write ${AREA_PREFIX[a]}0)` : ''}`);
    }
    address = n - 1;
  }

  let tail = am[3];
  let bit: number | undefined;
  let unit: number | undefined;
  let addressArray: number | undefined;
  while (tail) {
    let m: RegExpExecArray | null;
    if ((m = /^\.(\d+)([HhLl])/.exec(tail))) {
      // Kepware string: 40001.20H (20 characters, high byte first) or .20L (low byte first).
      if (typeName && typeName !== 'string') return fail(text, `.${m[1]}${m[2]} is a string address but the type is ${typeName}`);
      if (length !== undefined && length !== Number(m[1])) return fail(text, `two string lengths (${m[1]} and ${length})`);
      length = Number(m[1]);
      if (!(length >= 1 && length <= MAX_STRING_LENGTH)) return fail(text, `a string is 1..${MAX_STRING_LENGTH} characters long (got ${m[1]})`);
      typeName = 'string';
      const swap = m[2].toUpperCase() === 'L';
      if (order && order.byteSwap !== swap) return fail(text, `.${m[1]}${m[2]} and the order ${order.code} disagree`);
      order = { code: swap ? 'BA' : 'AB', bytes: 1, byteSwap: swap, wordSwap: false };
    } else if ((m = /^\.(\d+)/.exec(tail))) {
      if (bit !== undefined) return fail(text, 'two bit numbers');
      bit = Number(m[1]);
      if (!(bit >= 0 && bit <= 15)) return fail(text, `bit ${m[1]} is out of range 0..15 (0 is the least significant bit)`);
    } else if ((m = /^\[(\d+)\]/.exec(tail))) {
      if (addressArray !== undefined) return fail(text, 'two array sizes');
      addressArray = Number(m[1]);
    } else if ((m = /^@(\d+)/.exec(tail))) {
      if (unit !== undefined) return fail(text, 'two unit ids');
      unit = Number(m[1]);
      if (unit === 0) return fail(text, 'unit id 0 is the broadcast address: no device answers a read sent to it (use 1..247, or 255 for a Modbus TCP device that ignores the unit id)');
      if (!(unit >= 1 && unit <= 255)) return fail(text, `unit id ${m[1]} is out of range 1..255`);
    } else {
      return fail(text, `unexpected "${tail}" after the address (${SYNTAX_HINT})`);
    }
    tail = tail.slice(m[0].length);
  }
  if (addressArray !== undefined && typeArray !== undefined) return fail(text, 'the array size is given twice');
  const arraySize = addressArray ?? typeArray;

  const bitArea = isBitArea(area);
  if (bitArea && typeName && typeName !== 'bool') return fail(text, `${AREA_NAME[area]}s hold single bits: the type can only be bool (got ${typeName})`);
  if (bit !== undefined) {
    if (bitArea) return fail(text, `.${bit} selects a bit in a register: ${AREA_NAME[area]}s are bits already`);
    if (typeName && typeName !== 'bool') return fail(text, `a bit in a register is a bool (got ${typeName})`);
    if (arraySize !== undefined) return fail(text, 'a bit in a register cannot be an array');
  }
  if (!bitArea && bit === undefined && typeName === 'bool') return fail(text, `a bool in a ${AREA_NAME[area]} needs a bit number, e.g. ${AREA_PREFIX[area]}${address}.0`);
  const type: DataTypeName = typeName ?? (bitArea || bit !== undefined ? 'bool' : 'uint16');
  if (type === 'string' && arraySize !== undefined) return fail(text, 'a string cannot be an array (use one string item per text)');
  if (arraySize !== undefined && !(arraySize >= 1)) return fail(text, 'an array has at least 1 element');

  const perValue = valueSpan({ area, type, length });
  if (order) {
    if (type === 'bool') return fail(text, 'a bool has no byte order');
    const expected = type === 'string' ? 1 : perValue;
    if (order.bytes !== expected) {
      const allowed = expected === 1 ? 'AB or BA' : expected === 2 ? 'ABCD, CDAB, BADC or DCBA' : 'ABCD, CDAB, BADC, DCBA or their 8-letter forms ABCDEFGH, GHEFCDAB, BADCFEHG, HGFEDCBA';
      // 64-bit types also take the 4-letter codes (words reversed as a whole).
      if (!(expected === 4 && order.bytes === 2)) return fail(text, `byte order ${order.code} does not fit ${type}: use ${allowed}`);
    }
  }
  if (scale && (type === 'bool' || type === 'string')) return fail(text, `a ${type} cannot be scaled`);

  const count = arraySize ?? 1;
  const span = perValue * count;
  const limit = bitArea ? MAX_READ_BITS : MAX_READ_REGISTERS;
  if (span > limit) {
    return fail(text, `${span} ${bitArea ? 'bits' : 'registers'} do not fit into one read (at most ${limit}): split it into several items`);
  }
  if (address + span > 65536) return fail(text, `it runs past the last address 65535 (${span} ${bitArea ? 'bits' : 'registers'} from ${address})`);

  return {
    ok: true,
    value: {
      area,
      address,
      bit,
      unit,
      type,
      count,
      array: arraySize !== undefined,
      length: type === 'string' ? length : undefined,
      byteSwap: order?.byteSwap ?? false,
      wordSwap: order?.wordSwap ?? false,
      scale,
      span,
    },
  };
}

/** undefined when the item is valid, else a message saying what is wrong and what is expected. */
export function validateItem(text: string): string | undefined {
  const r = parseItem(text);
  return r.ok ? undefined : r.error;
}

/** The byte order code of an item ('' when the default). */
export function orderCode(item: ModbusItem): string {
  if (item.type === 'bool') return '';
  const n = item.type === 'string' ? 1 : valueSpan(item);
  const o = ORDERS.find((x) => x[1] === n && x[2] === item.byteSwap && x[3] === item.wordSwap);
  return o && (item.byteSwap || item.wordSwap) ? o[0] : '';
}

function numberText(n: number): string {
  return String(n);
}

/** The canonical text of an item: HR0[4]@2:float32:CDAB*0.1+5. parseItem(formatItem(x)) equals x. */
export function formatItem(item: ModbusItem): string {
  let s = `${AREA_PREFIX[item.area]}${item.address}`;
  if (item.bit !== undefined) s += `.${item.bit}`;
  if (item.array) s += `[${item.count}]`;
  if (item.unit !== undefined) s += `@${item.unit}`;
  const defaultType = isBitArea(item.area) || item.bit !== undefined ? 'bool' : 'uint16';
  if (item.type === 'string') s += `:string${item.length}`;
  else if (item.type !== defaultType) s += `:${item.type}`;
  const order = orderCode(item);
  if (order) s += `:${order}`;
  if (item.scale) {
    const { op, operand, offset } = item.scale;
    if (!(op === '*' && operand === 1)) s += `${op}${numberText(operand)}`;
    if (offset !== 0) s += offset > 0 ? `+${numberText(offset)}` : `-${numberText(-offset)}`;
  }
  return s;
}

/** The Modicon reference of an address (40001 style), 6 digits when 5 do not suffice. */
export function modiconReference(area: Area, address: number): string {
  const n = address + 1;
  return n <= 9999 ? `${MODICON_DIGIT[area]}${String(n).padStart(4, '0')}` : `${MODICON_DIGIT[area]}${String(n).padStart(5, '0')}`;
}

/** One line for the dialog: "holding register 0 (40001), 2 registers: float32, words CDAB, ×0.1". */
export function describeItemText(item: ModbusItem): string {
  const where = `${AREA_NAME[item.area]} ${item.address}${item.bit !== undefined ? ` bit ${item.bit}` : ''} (${modiconReference(item.area, item.address)}${item.bit !== undefined ? `.${item.bit}` : ''})`;
  const unit = item.unit !== undefined ? `, unit ${item.unit}` : '';
  const bits = isBitArea(item.area);
  const size = item.span > 1 ? `, ${item.span} ${bits ? 'bits' : 'registers'}` : '';
  let type: string = item.type === 'string' ? `string of ${item.length} characters` : item.type;
  if (item.array) type = `${item.count} × ${type}`;
  const order = orderCode(item);
  const parts = [type];
  if (order) parts.push(`order ${order}`);
  if (item.scale) {
    const { op, operand, offset } = item.scale;
    parts.push(`${op === '*' ? '×' : '÷'}${operand}${offset ? (offset > 0 ? ` + ${offset}` : ` − ${-offset}`) : ''}`);
  }
  return `${where}${unit}${size}: ${parts.join(', ')}`;
}

/**
 * Valid but probably not meant (for the dialog, not an error): HR40001 is the protocol address
 * 40001, not the Modicon reference 40001; a write to a bit of a register by read-modify-write.
 */
export function itemWarnings(text: string): string[] {
  const r = parseItem(text);
  if (!r.ok) return [];
  const out: string[] = [];
  const m = /^\s*(HR|IR|C|DI)(\d{5,6})\b/i.exec(text);
  if (m && DIGIT_AREA[m[2][0]] === PREFIX_AREA[m[1].toUpperCase()]) {
    const n = Number(m[2].slice(1));
    if (n >= 1) {
      out.push(`${m[1]}${m[2]} is the 0-based protocol address ${m[2]} (Modicon ${modiconReference(r.value.area, r.value.address)}); for the Modicon reference ${m[2]} write ${m[2]} or ${m[1].toUpperCase()}${n - 1}`);
    }
  }
  return out;
}

/** Holding registers and coils can be written; input registers and discrete inputs cannot. */
export function isWritable(item: ModbusItem): boolean {
  return item.area === 'holding' || item.area === 'coil';
}

/** Two items that read the same registers differently: most often a 32-bit value taken for two 16-bit ones. */
export interface Overlap {
  a: string;
  b: string;
  message: string;
}

/**
 * Items whose registers overlap (same unit and table): HR0:float32 and HR1 share register 1. Bits
 * of a register beside the register itself, and identical spans read as different types, are
 * intended views and not reported. `defaultUnit` resolves items without @unit.
 */
export function findOverlaps(items: string[], defaultUnit = 1): Overlap[] {
  const parsed: Array<{ id: string; item: ModbusItem; unit: number }> = [];
  for (const id of items) {
    const r = parseItem(id);
    if (r.ok && r.value.bit === undefined) parsed.push({ id, item: r.value, unit: r.value.unit ?? defaultUnit });
  }
  parsed.sort((x, y) => (x.unit - y.unit) || x.item.area.localeCompare(y.item.area) || (x.item.address - y.item.address));
  const out: Overlap[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const x = parsed[i];
    for (let j = i + 1; j < parsed.length; j++) {
      const y = parsed[j];
      if (y.unit !== x.unit || y.item.area !== x.item.area) break;
      if (y.item.address >= x.item.address + x.item.span) break;
      if (y.item.address === x.item.address && y.item.span === x.item.span) continue;
      const unitText = x.item.unit !== undefined || y.item.unit !== undefined ? ` of unit ${x.unit}` : '';
      const shared = Math.min(x.item.address + x.item.span, y.item.address + y.item.span) - y.item.address;
      out.push({
        a: x.id,
        b: y.id,
        message: `${x.id} and ${y.id} share ${shared === 1 ? `${AREA_NAME[x.item.area]} ${y.item.address}` : `${shared} ${AREA_NAME[x.item.area]}s from ${y.item.address}`}${unitText}: ${x.id} spans ${x.item.span} (${x.item.address}..${x.item.address + x.item.span - 1}); is one of them off by one or the other's size?`,
      });
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------- endpoints

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';

export type ModbusEndpoint =
  | { transport: 'tcp'; host: string; port: number; unit: number }
  | { transport: 'rtu-tcp'; host: string; port: number; unit: number }
  | { transport: 'rtu'; path: string; baudRate: number; parity: Parity; dataBits: 8; stopBits: 1 | 1.5 | 2; unit: number };

const ENDPOINT_HINT = 'modbus-tcp://host[:port], modbus-rtu-tcp://host:port or modbus-rtu:/dev/ttyUSB0?baud=9600&parity=none, each with an optional ?unit=1';
const PARITIES: Parity[] = ['none', 'even', 'odd', 'mark', 'space'];

function parseQuery(query: string, allowed: string[]): ParseResult<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!query) return { ok: true, value: out };
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).trim();
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    const canonical = allowed.find((k) => k.toLowerCase() === key.toLowerCase()) ?? (key.toLowerCase() === 'baudrate' && allowed.includes('baud') ? 'baud' : undefined);
    if (!canonical) return { ok: false, error: `unknown parameter "${key}" (known: ${allowed.join(', ')})` };
    if (canonical in out) return { ok: false, error: `parameter ${canonical} is given twice` };
    if (!value) return { ok: false, error: `parameter ${canonical} has no value` };
    out[canonical] = value;
  }
  return { ok: true, value: out };
}

function parseUnit(value: string | undefined, max: number): ParseResult<number> {
  if (value === undefined) return { ok: true, value: 1 };
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (n === 0) return { ok: false, error: 'unit 0 is the broadcast address: no device answers a read sent to it' };
  if (!(n >= 1 && n <= max)) return { ok: false, error: `unit ${value} is out of range 1..${max}` };
  return { ok: true, value: n };
}

/** Parses and validates an endpoint; the error says what is wrong and what is expected. */
export function parseEndpoint(input: string): ParseResult<ModbusEndpoint> {
  const text = typeof input === 'string' ? input.trim() : '';
  if (!text) return { ok: false, error: `an endpoint is required (${ENDPOINT_HINT})` };
  const bad = (error: string): ParseResult<ModbusEndpoint> => ({ ok: false, error: `"${text}": ${error}` });
  const net = /^(modbus-tcp|modbus-rtu-tcp):\/\/(\[[0-9A-Fa-f:.]+\]|[^\s/:?#[\]]+)(?::(\d*))?\/?(?:\?(.*))?$/i.exec(text);
  if (net) {
    const transport = net[1].toLowerCase() === 'modbus-tcp' ? 'tcp' : 'rtu-tcp';
    const host = net[2].startsWith('[') ? net[2].slice(1, -1) : net[2];
    if (net[3] === '' ) return bad('a port number is expected after ":"');
    if (net[3] === undefined && transport === 'rtu-tcp') return bad('RTU over TCP has no standard port: give the gateway\'s port, e.g. modbus-rtu-tcp://10.0.0.9:4001');
    const port = net[3] === undefined ? 502 : Number(net[3]);
    if (!(port >= 1 && port <= 65535)) return bad(`port ${net[3]} is out of range 1..65535`);
    const q = parseQuery(net[4] ?? '', ['unit']);
    if (!q.ok) return bad(q.error);
    const unit = parseUnit(q.value.unit, transport === 'tcp' ? 255 : 247);
    if (!unit.ok) return bad(unit.error);
    return { ok: true, value: { transport, host, port, unit: unit.value } };
  }
  const rtu = /^modbus-rtu:([^?]*)(?:\?(.*))?$/i.exec(text);
  if (rtu) {
    const path = rtu[1].trim();
    if (!path) return bad('the serial port is missing, e.g. modbus-rtu:/dev/ttyUSB0 or modbus-rtu:COM3');
    if (path.startsWith('//')) return bad('a serial port is written without //, e.g. modbus-rtu:/dev/ttyUSB0 (for RTU over a network use modbus-rtu-tcp://host:port)');
    const q = parseQuery(rtu[2] ?? '', ['baud', 'parity', 'dataBits', 'stopBits', 'unit']);
    if (!q.ok) return bad(q.error);
    const v = q.value;
    const baudRate = v.baud === undefined ? 9600 : /^\d+$/.test(v.baud) ? Number(v.baud) : NaN;
    if (!(baudRate >= 50 && baudRate <= 4_000_000)) return bad(`baud ${v.baud} is not a baud rate (e.g. 9600, 19200, 38400, 115200)`);
    const parity = (v.parity ?? 'none').toLowerCase() as Parity;
    if (!PARITIES.includes(parity)) return bad(`parity ${v.parity} is unknown (none, even, odd, mark, space)`);
    const dataBits = v.dataBits === undefined ? 8 : Number(v.dataBits);
    if (dataBits !== 8) return bad(`Modbus RTU uses 8 data bits (got ${v.dataBits}; 7 data bits is Modbus ASCII, which this driver does not speak)`);
    const stopBits = v.stopBits === undefined ? 1 : Number(v.stopBits);
    if (stopBits !== 1 && stopBits !== 1.5 && stopBits !== 2) return bad(`stopBits ${v.stopBits} must be 1, 1.5 or 2`);
    const unit = parseUnit(v.unit, 247);
    if (!unit.ok) return bad(unit.error);
    return { ok: true, value: { transport: 'rtu', path, baudRate, parity, dataBits: 8, stopBits, unit: unit.value } };
  }
  if (/^(modbus-tcp|modbus-rtu-tcp):/i.test(text)) return bad(`not a valid address: ${ENDPOINT_HINT}`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^modbus/i.test(text)) return bad(`not a Modbus endpoint: ${ENDPOINT_HINT}`);
  return bad(`unknown form: ${ENDPOINT_HINT}`);
}

export function validateEndpoint(text: string): string | undefined {
  const r = parseEndpoint(text);
  return r.ok ? undefined : r.error;
}

/**
 * An endpoint for comparing two endpoints: its canonical text with the host name in lower case
 * (modbus-tcp://PLC1:502?unit=1 = modbus-tcp://plc1). Text that is no endpoint is its own key.
 */
export function endpointKey(text: string): string {
  const r = parseEndpoint(text);
  if (!r.ok) return String(text ?? '').trim();
  return formatEndpoint(r.value.transport === 'rtu' ? r.value : { ...r.value, host: r.value.host.toLowerCase() });
}

/** The canonical text of an endpoint (defaults left out), as the dialog composes it from fields. */
export function formatEndpoint(e: ModbusEndpoint): string {
  if (e.transport === 'rtu') {
    const q: string[] = [];
    if (e.baudRate !== 9600) q.push(`baud=${e.baudRate}`);
    if (e.parity !== 'none') q.push(`parity=${e.parity}`);
    if (e.stopBits !== 1) q.push(`stopBits=${e.stopBits}`);
    if (e.unit !== 1) q.push(`unit=${e.unit}`);
    return `modbus-rtu:${e.path}${q.length ? `?${q.join('&')}` : ''}`;
  }
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  const port = e.transport === 'tcp' && e.port === 502 ? '' : `:${e.port}`;
  return `modbus-${e.transport}://${host}${port}${e.unit !== 1 ? `?unit=${e.unit}` : ''}`;
}

// ------------------------------------------------------------------------------------ pair options

export interface ModbusOptions {
  /** Read by ping() (default HR0 at the endpoint's unit; any answer but a gateway exception proves life). */
  pingItem: string;
  /** Largest run of unmapped registers (bits for coils) a merged read may span; 0 = never read unmapped ones. */
  maxGap: number;
  /** Registers per read request (1..125): some devices take fewer. */
  maxRegisters: number;
  /** Coils / discrete inputs per read request (1..2000). */
  maxBits: number;
  /** Request timeout, ms; undefined = the pair's ping timeout. */
  timeoutMs?: number;
  /** Pause between two requests on one connection, ms (slow serial devices, gateways). */
  requestDelayMs: number;
  /** One register / one coil written with FC 6 / FC 5; false: always FC 16 / FC 15. */
  writeSingle: boolean;
  /** A bit in a holding register written by read-modify-write (FC 3 + FC 6/16) or mask write (FC 22). */
  bitWrite: 'read-modify-write' | 'mask';
}

export const DEFAULT_MODBUS_OPTIONS: ModbusOptions = {
  pingItem: '',
  maxGap: 0,
  maxRegisters: MAX_READ_REGISTERS,
  maxBits: MAX_READ_BITS,
  timeoutMs: undefined,
  requestDelayMs: 0,
  writeSingle: true,
  bitWrite: 'read-modify-write',
};

function optionNumber(props: Record<string, unknown>, key: string, fallback: number | undefined, min: number, max: number, problems: string[], what: string): number | undefined {
  const raw = props[key];
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${what} must be an integer ${min}..${max} (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return n;
}

/**
 * The Modbus options of a redundant-pair config node (properties named modbus*), with every
 * problem found: one message each, fit for the dialog and the node status.
 */
export function parseModbusOptions(props: Record<string, unknown>): { options: ModbusOptions; problems: string[] } {
  const problems: string[] = [];
  const d = DEFAULT_MODBUS_OPTIONS;
  const pingItem = typeof props.modbusPingItem === 'string' ? props.modbusPingItem.trim() : '';
  if (pingItem) {
    const r = parseItem(pingItem);
    if (!r.ok) problems.push(`ping item: ${r.error}`);
  }
  const maxRegisters = optionNumber(props, 'modbusMaxRegisters', d.maxRegisters, 1, MAX_READ_REGISTERS, problems, 'registers per read') ?? d.maxRegisters;
  const maxBits = optionNumber(props, 'modbusMaxBits', d.maxBits, 1, MAX_READ_BITS, problems, 'bits per read') ?? d.maxBits;
  const maxGap = optionNumber(props, 'modbusMaxGap', d.maxGap, 0, MAX_READ_BITS, problems, 'largest gap of unmapped addresses') ?? d.maxGap;
  const timeoutMs = optionNumber(props, 'modbusTimeout', undefined, 10, 600_000, problems, 'request timeout (ms)');
  const requestDelayMs = optionNumber(props, 'modbusRequestDelay', d.requestDelayMs, 0, 10_000, problems, 'delay between requests (ms)') ?? 0;
  const ws = props.modbusWriteSingle;
  const writeSingle = ws === undefined || ws === '' ? d.writeSingle : ws === true || ws === 'true';
  if (ws !== undefined && ws !== '' && typeof ws !== 'boolean' && ws !== 'true' && ws !== 'false') problems.push(`single writes (FC 5/6) must be true or false (got ${JSON.stringify(ws)})`);
  const bw = props.modbusBitWrite === undefined || props.modbusBitWrite === '' ? d.bitWrite : String(props.modbusBitWrite);
  if (bw !== 'read-modify-write' && bw !== 'mask') problems.push(`bit writes must be read-modify-write or mask (got ${JSON.stringify(props.modbusBitWrite)})`);
  return {
    options: {
      pingItem,
      maxGap,
      maxRegisters,
      maxBits,
      timeoutMs,
      requestDelayMs,
      writeSingle,
      bitWrite: bw === 'mask' ? 'mask' : 'read-modify-write',
    },
    problems,
  };
}
