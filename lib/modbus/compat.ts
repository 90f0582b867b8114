// node-red-contrib-modbus's read node message shape, for a Modbus source that users swap in for it:
// msg.payload = the values as an array, msg.responseBuffer = { data, buffer } (the registers or
// bits as read, and their bytes as on the wire), msg.input = the request (unitid, fc, address,
// quantity). A flow written for its read node (payload[0], a buffer-parser on
// responseBuffer.buffer, a channel-selector matching msg.input) keeps working.
import type { DataChange } from '../core/driver';
import { CodecError, encodeBits, encodeRegisters } from './codec';
import { READ_FC } from './planner';
import { type ModbusItem, parseEndpoint, parseItem } from '../rules/modbus';

// A type, not an interface: it is a Record<string, unknown> (the driver's compatOutput fields).
export type ContribReadFields = {
  payload: unknown[];
  responseBuffer?: { data: number[] | boolean[]; buffer: Buffer };
  input: { topic?: string; payload: { unitid: number; fc: number; address: number; quantity: number } };
  error?: { message: string };
};

const parsed = new Map<string, ModbusItem | undefined>();

function itemOf(id: string): ModbusItem | undefined {
  if (!parsed.has(id)) {
    if (parsed.size >= 10_000) parsed.clear();
    const r = parseItem(id);
    parsed.set(id, r.ok ? r.value : undefined);
  }
  return parsed.get(id);
}

/** The registers or bits of a value as the device holds them (re-encoded from the decoded value). */
function rawOf(item: ModbusItem, value: unknown): { data: number[] | boolean[]; buffer: Buffer } | undefined {
  try {
    if (item.area === 'coil' || item.area === 'discrete' || item.bit !== undefined) {
      const bits = item.area === 'coil' || item.area === 'discrete' ? encodeBits({ ...item, area: 'coil' }, value) : [Boolean(value)];
      const buffer = Buffer.alloc(Math.ceil(bits.length / 8));
      bits.forEach((b, i) => {
        if (b) buffer[i >> 3] |= 1 << (i & 7);
      });
      return { data: bits, buffer };
    }
    const words = encodeRegisters(item, value);
    const buffer = Buffer.alloc(words.length * 2);
    words.forEach((w, i) => buffer.writeUInt16BE(w & 0xffff, i * 2));
    return { data: words, buffer };
  } catch (err) {
    if (err instanceof CodecError) return undefined;
    throw err;
  }
}

/**
 * The fields of a read node's message for the changes from one endpoint (one channel of a pair):
 * its unit id (1 without one; an item's own unit comes first) is parsed here, once, not per change.
 */
export function contribReadFields(endpoint: string | undefined): (change: DataChange) => ContribReadFields {
  const ep = endpoint ? parseEndpoint(endpoint) : undefined;
  const endpointUnit = ep?.ok ? ep.value.unit : 1;
  return (change) => {
    const item = itemOf(change.item);
    const unit = item?.unit ?? endpointUnit;
    const input = {
      topic: change.item,
      payload: item ? { unitid: unit, fc: READ_FC[item.area], address: item.address, quantity: item.span } : { unitid: unit, fc: 0, address: 0, quantity: 0 },
    };
    if (!change.good || change.value === null || change.value === undefined) {
      return { payload: [], input, error: { message: change.detail ?? change.statusCode } };
    }
    const payload = Array.isArray(change.value) ? change.value : [change.value];
    const raw = item ? rawOf(item, change.value) : undefined;
    return raw ? { payload, responseBuffer: raw, input } : { payload, input };
  };
}
