// What a message says about the health of the path it came over, in the shapes the nodes that feed a
// channel selector produce: an error (node-red-contrib-modbus with "empty message on fail", a catch
// node), our sources' quality/statusCode, OPC UA status codes as node-red-contrib-opcua and others
// put them (an object, a number, a name), or a DataValue in the payload. Pure.
import type { Quality } from '../driver';

export interface MessageQuality {
  quality: Quality;
  /** Words for an operator: "error: Timed out", "BadCommunicationError". '' when good. */
  reason: string;
  /** True when the message reports a failure instead of data (msg.error): it is no sign of life. */
  error: boolean;
}

const GOOD: MessageQuality = { quality: 'good', reason: '', error: false };

/** OPC UA status code severity (bits 30-31): 00 good, 01 uncertain, 10/11 bad. */
export function qualityOfCode(code: number): Quality {
  const severity = (code >>> 30) & 0x3;
  if (severity === 0) return 'good';
  if (severity === 1) return 'uncertain';
  return 'bad';
}

function qualityOfName(name: string): Quality | undefined {
  const n = name.trim();
  if (/^good/i.test(n)) return 'good';
  if (/^uncertain/i.test(n)) return 'uncertain';
  if (/^bad/i.test(n)) return 'bad';
  return undefined;
}

function hexCode(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** A status code in any common shape → quality and its name; undefined when it is none. */
export function statusCodeQuality(sc: unknown): { quality: Quality; name: string } | undefined {
  if (sc === undefined || sc === null) return undefined;
  if (typeof sc === 'number' && Number.isFinite(sc)) {
    return { quality: qualityOfCode(sc), name: hexCode(sc) };
  }
  if (typeof sc === 'string') {
    const q = qualityOfName(sc);
    if (q) return { quality: q, name: sc.replace(/\s*\(0x[0-9a-f]+\)\s*$/i, '').trim() || sc };
    const num = /^(0x[0-9a-f]+|\d+)$/i.test(sc.trim()) ? Number(sc.trim()) : NaN;
    return Number.isFinite(num) ? { quality: qualityOfCode(num), name: hexCode(num) } : undefined;
  }
  if (typeof sc === 'object') {
    const o = sc as Record<string, unknown>;
    // node-opcua StatusCode (getters name/value, fields _name/_value) and its JSON ({value}).
    const name = typeof o.name === 'string' ? o.name : typeof o._name === 'string' ? o._name : undefined;
    const value = typeof o.value === 'number' ? o.value : typeof o._value === 'number' ? o._value : typeof o.code === 'number' ? o.code : undefined;
    if (name) {
      const q = qualityOfName(name);
      if (q) return { quality: q, name };
    }
    if (value !== undefined) return { quality: qualityOfCode(value), name: name ?? hexCode(value) };
    if (typeof (o as { toString?: unknown }).toString === 'function' && o.toString !== Object.prototype.toString) {
      const text = String(o);
      const q = qualityOfName(text);
      if (q) return { quality: q, name: text.replace(/\s*\(0x[0-9a-f]+\)\s*$/i, '') };
    }
  }
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object') {
    const m = (err as { message?: unknown }).message;
    if (typeof m === 'string' && m) return m;
  }
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

function fromQualityField(q: unknown): Quality | undefined {
  if (q === 'good' || q === 'uncertain' || q === 'bad') return q;
  if (typeof q === 'string') return qualityOfName(q);
  if (typeof q === 'boolean') return q ? 'good' : 'bad';
  return undefined;
}

/** A DataValue-like payload: {value, statusCode} (OPC UA nodes that output the whole DataValue). */
function payloadStatus(payload: unknown): unknown {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return undefined;
  const p = payload as Record<string, unknown>;
  return 'statusCode' in p && ('value' in p || 'sourceTimestamp' in p) ? p.statusCode : undefined;
}

/**
 * The health a message reports. Order: msg.error (a failure, no data); msg.quality (our sources);
 * msg.statusCode; a DataValue payload's statusCode; otherwise good.
 */
export function messageQuality(msg: Record<string, unknown>): MessageQuality {
  if (msg.error !== undefined && msg.error !== null && msg.error !== false && msg.error !== '') {
    return { quality: 'bad', reason: `error: ${errorText(msg.error)}`, error: true };
  }
  const fromField = fromQualityField(msg.quality);
  const sc = statusCodeQuality(msg.statusCode) ?? statusCodeQuality(payloadStatus(msg.payload));
  const quality = worst(fromField, sc?.quality);
  if (!quality || quality === 'good') return GOOD;
  const name = sc && sc.quality !== 'good' ? sc.name : quality;
  return { quality, reason: `quality ${name}`, error: false };
}

export function worst(a: Quality | undefined, b: Quality | undefined): Quality | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const rank: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
  return rank[a] >= rank[b] ? a : b;
}

/** One element of a batch (our source's batch output): item key and quality. */
export interface BatchEntry {
  key: string;
  quality: MessageQuality;
}

/**
 * Our source's batch output (msg.payload = [{item, name, quality, statusCode, value}, ...]): one
 * entry per element; undefined for any other message.
 */
export function batchEntries(msg: Record<string, unknown>): BatchEntry[] | undefined {
  const p = msg.payload;
  if (!Array.isArray(p) || p.length === 0) return undefined;
  const entries: BatchEntry[] = [];
  for (const el of p) {
    if (!el || typeof el !== 'object' || typeof (el as { item?: unknown }).item !== 'string' || !('statusCode' in el || 'quality' in el)) return undefined;
    const e = el as Record<string, unknown>;
    entries.push({ key: String(e.name ?? e.item), quality: messageQuality({ quality: e.quality, statusCode: e.statusCode }) });
  }
  return entries;
}
