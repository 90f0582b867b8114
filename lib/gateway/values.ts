// Upstream values as the gateway's OPC UA server publishes them: the pair's JS values back into
// Variants of the exposed variable's data type, status code names back into StatusCodes, the
// upstream source timestamp kept as it is (no re-stamping); the server timestamp is the gateway's.
import {
  DataType,
  DataValue,
  type StatusCode,
  StatusCodes,
  type UAVariable,
  Variant,
  VariantArrayType,
  coerceInt64,
  coerceUInt64,
} from 'node-opcua';
import type { SourceChange } from './pair-source';

const statusByName = new Map<string, StatusCode>();

/** The StatusCode of a name the driver reported ("Good", "BadNoCommunication", "UncertainLastUsableValue"...). */
export function statusCode(name: string | undefined): StatusCode {
  if (!name) return StatusCodes.Good;
  let s = statusByName.get(name);
  if (!s) {
    s = (StatusCodes as unknown as Record<string, StatusCode>)[name] ?? StatusCodes.BadUnexpectedError;
    statusByName.set(name, s);
  }
  return s;
}

/** Built-in data type of a described item (its name); unknown and abstract types are Variant. */
export function dataTypeOf(name: string): DataType {
  const t = (DataType as unknown as Record<string, DataType>)[name];
  return typeof t === 'number' && t !== DataType.Null && t !== DataType.DiagnosticInfo && t !== DataType.DataValue ? t : DataType.Variant;
}

function guess(value: unknown): DataType {
  if (typeof value === 'boolean') return DataType.Boolean;
  if (typeof value === 'number') return DataType.Double;
  if (typeof value === 'string') return DataType.String;
  if (value instanceof Date) return DataType.DateTime;
  if (Buffer.isBuffer(value)) return DataType.ByteString;
  return DataType.Variant;
}

/** A Variant of `dataType` (Variant: guessed from the value) holding a value as the pair delivers it. */
export function toVariant(value: unknown, dataType: DataType, isArray: boolean): Variant {
  if (value === null || value === undefined) return new Variant({ dataType: DataType.Null });
  const array = isArray || Array.isArray(value);
  const list = array ? (Array.isArray(value) ? value : [value]) : undefined;
  let type = dataType;
  if (type === DataType.Variant) type = guess(list ? list[0] : value);
  if (type === DataType.Variant) return new Variant({ dataType: DataType.Null });
  const one = (v: unknown): unknown => {
    if (type === DataType.Int64) return typeof v === 'number' ? coerceInt64(v) : v;
    if (type === DataType.UInt64) return typeof v === 'number' ? coerceUInt64(v) : v;
    return v;
  };
  if (list) return new Variant({ dataType: type, arrayType: VariantArrayType.Array, value: list.map(one) });
  return new Variant({ dataType: type, arrayType: VariantArrayType.Scalar, value: one(value) });
}

/** The JS value of a Variant a client wrote, as the pair's write() takes it. */
export function fromVariant(v: Variant): unknown {
  const value = v.value as unknown;
  const int64 = v.dataType === DataType.Int64 || v.dataType === DataType.UInt64;
  const toNumber = (x: unknown) => (int64 && Array.isArray(x) && x.length === 2 ? x[0] * 4294967296 + x[1] : x);
  if (v.arrayType !== VariantArrayType.Scalar) {
    const list = ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as unknown as ArrayLike<number>) : (value as unknown[]);
    return list.map(toNumber);
  }
  return toNumber(value);
}

/** A DataValue of an upstream change: its value, status and source timestamp; served now. */
export function toDataValue(change: SourceChange, dataType: DataType, isArray: boolean): DataValue {
  const status = statusCode(change.statusCode);
  let value: Variant;
  try {
    value = toVariant(change.value, dataType, isArray);
  } catch {
    return new DataValue({ statusCode: StatusCodes.BadDataEncodingUnsupported, sourceTimestamp: stamp(change.sourceTimestamp), serverTimestamp: new Date() });
  }
  return new DataValue({ value, statusCode: status, sourceTimestamp: stamp(change.sourceTimestamp), serverTimestamp: new Date() });
}

function stamp(ms: number | undefined): Date | null {
  return ms === undefined ? null : new Date(ms);
}

/**
 * Makes a DataValue the variable's value without notifying its monitored items: the value a read
 * waiting for it answers with (the read's callers record it). False when it does not fit the type.
 */
export function settle(variable: UAVariable, dataValue: DataValue): boolean {
  const v = variable as unknown as InternalVariable & { $dataValue: DataValue };
  try {
    if (dataValue.value.dataType !== DataType.Null) v.verifyVariantCompatibility(dataValue.value);
    v.$dataValue = dataValue;
    return true;
  } catch {
    return false;
  }
}

interface InternalVariable {
  _internal_set_dataValue(dataValue: DataValue, indexRange?: unknown): void;
  verifyVariantCompatibility(v: Variant): void;
}

/**
 * Publishes a DataValue on a variable: the variable's monitored items see it (exception-based ones
 * at once). `setValueFromSource` would stamp the server timestamp with the source's; this keeps both.
 */
export function publish(variable: UAVariable, dataValue: DataValue): boolean {
  const v = variable as unknown as InternalVariable;
  try {
    if (dataValue.value.dataType !== DataType.Null) v.verifyVariantCompatibility(dataValue.value);
    v._internal_set_dataValue(dataValue);
    return true;
  } catch {
    v._internal_set_dataValue(new DataValue({ statusCode: StatusCodes.BadTypeMismatch, sourceTimestamp: dataValue.sourceTimestamp, serverTimestamp: new Date() }));
    return false;
  }
}
