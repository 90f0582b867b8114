// What a message to alarm-sync asks for, checked: an alarm state, a value for a condition, an ack
// (also from a Dashboard 2.0 ui-table button), a comment, shelving, the list. Malformed → an Error
// saying what is wrong (the node reports it with done(err); nothing is changed).
import { type AlarmObservation, type ShelveState, parseSeverity, validateKey } from './types';
import type { ListFilter } from './list';

export type AlarmCommand =
  | { kind: 'observe'; observation: AlarmObservation }
  | { kind: 'value'; source: string; value: unknown; good: boolean }
  | { kind: 'ack'; key: string; seq?: number; by: string; comment?: string }
  | { kind: 'ack-all'; by: string; comment?: string }
  | { kind: 'comment'; key: string; seq?: number; by: string; comment: string }
  | { kind: 'shelve'; key: string; state: ShelveState; durationMs?: number; by: string; comment?: string }
  | { kind: 'list'; filter: ListFilter };

interface Msg {
  topic?: unknown;
  payload?: unknown;
  action?: unknown;
  column?: unknown;
  good?: unknown;
  quality?: unknown;
  statusCode?: unknown;
  user?: unknown;
  _client?: { user?: { name?: unknown; username?: unknown; userId?: unknown } };
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Who did it: payload.by, msg.user, the dashboard's logged-in user, else the default. */
function who(msg: Msg, p: Record<string, unknown>, fallback: string): string {
  const u = msg._client?.user;
  const by = p.by ?? msg.user ?? u?.name ?? u?.username ?? u?.userId ?? fallback;
  const s = String(by).trim();
  if (s.length > 100) throw new Error('user name too long (at most 100 characters)');
  return s || fallback;
}

function seqOf(p: Record<string, unknown>): number | undefined {
  if (p.seq === undefined || p.seq === null || p.seq === '') return undefined;
  const n = Number(p.seq);
  if (!Number.isInteger(n) || n < 1) throw new Error(`occurrence (seq) ${JSON.stringify(p.seq)} is not a whole number ≥ 1`);
  return n;
}

function text(v: unknown, what: string, max = 1000): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v);
  if (s.length > max) throw new Error(`${what} too long (at most ${max} characters)`);
  return s;
}

function good(msg: Msg): boolean {
  if (msg.good === false) return false;
  if (typeof msg.quality === 'string' && /^(bad|n\/?a|uncertain)/i.test(msg.quality)) return false;
  if (typeof msg.statusCode === 'string' && !/^good/i.test(msg.statusCode)) return false;
  return true;
}

export function parseAlarmCommand(msg: Msg, isSource: (topic: string) => boolean, defaultUser = 'operator'): AlarmCommand {
  const topic = typeof msg.topic === 'string' ? msg.topic : msg.topic === undefined ? '' : String(msg.topic);
  const p = obj(msg.payload);
  // Dashboard 2.0 ui-table button column: msg.action "button_click", msg.payload the row.
  if (msg.action === 'button_click') {
    if (msg.column !== undefined && msg.column !== 'ack' && msg.column !== 'acknowledge') throw new Error(`unknown table button ${String(msg.column)} (name the button column "ack")`);
    return { kind: 'ack', key: validateKey(p.key ?? p.tag), seq: seqOf(p), by: who(msg, p, defaultUser) };
  }
  switch (topic) {
    case 'ack':
    case 'acknowledge':
      return { kind: 'ack', key: validateKey(p.tag ?? p.key), seq: seqOf(p), by: who(msg, p, defaultUser), comment: text(p.comment, 'comment') };
    case 'ack-all':
      return { kind: 'ack-all', by: who(msg, p, defaultUser), comment: text(p.comment, 'comment') };
    case 'comment': {
      const comment = text(p.comment ?? p.text, 'comment');
      if (!comment) throw new Error('a comment needs text (payload.comment)');
      return { kind: 'comment', key: validateKey(p.tag ?? p.key), seq: seqOf(p), by: who(msg, p, defaultUser), comment };
    }
    case 'shelve':
    case 'unshelve': {
      const key = validateKey(p.tag ?? p.key);
      const mode = topic === 'unshelve' ? 'unshelved' : String(p.mode ?? (p.minutes !== undefined || p.durationMs !== undefined ? 'timed' : 'oneshot'));
      if (mode !== 'timed' && mode !== 'oneshot' && mode !== 'unshelved') throw new Error(`shelving mode ${mode} is not timed or oneshot`);
      let durationMs: number | undefined;
      if (mode === 'timed') {
        durationMs = p.durationMs !== undefined ? Number(p.durationMs) : Number(p.minutes) * 60_000;
        if (!Number.isFinite(durationMs) || durationMs <= 0) throw new Error('timed shelving needs payload.minutes (or durationMs) > 0');
      }
      return { kind: 'shelve', key, state: mode as ShelveState, ...(durationMs ? { durationMs } : {}), by: who(msg, p, defaultUser), comment: text(p.comment, 'comment') };
    }
    case 'list': {
      const filter = String(p.filter ?? (typeof msg.payload === 'string' && msg.payload ? msg.payload : 'open'));
      if (filter !== 'open' && filter !== 'all' && filter !== 'shelved') throw new Error(`list filter ${filter} is not open, all or shelved`);
      return { kind: 'list', filter };
    }
  }
  if (topic && isSource(topic)) return { kind: 'value', source: topic, value: msg.payload, good: good(msg) };
  // An alarm state: payload true/false with the tag in msg.topic, or an object.
  if (typeof msg.payload === 'boolean') return { kind: 'observe', observation: { key: validateKey(topic), active: msg.payload } };
  if (msg.payload && typeof msg.payload === 'object') {
    if (typeof p.active !== 'boolean') throw new Error('an alarm message needs payload.active (true or false), or a boolean payload');
    const o: AlarmObservation = { key: validateKey(p.tag ?? topic), active: p.active };
    if (p.severity !== undefined) o.severity = parseSeverity(p.severity);
    const t = text(p.text, 'alarm text');
    if (t !== undefined) o.text = t;
    const c = text(p.category, 'category', 100);
    if (c !== undefined) o.category = c;
    if (p.value !== undefined) o.value = p.value;
    return { kind: 'observe', observation: o };
  }
  throw new Error(`cannot tell what msg.topic "${topic}" with this payload asks for: send an alarm (payload.active), a value of a configured condition, or topic ack / ack-all / comment / shelve / unshelve / list`);
}
