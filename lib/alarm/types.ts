// The vocabulary of the alarm server pair. An alarm (one key, e.g. a tag name) lives through
// episodes: an episode starts when the alarm becomes active and lasts until it is active again
// after having cleared. Everything that happens to an episode is a fact, stamped with the hybrid
// logical clock of the instance that made it; the state both instances show is computed from the
// facts alone (lib/alarm/state.ts), so two instances holding the same facts show the same list.

/** What a fact says about an episode. */
export type AlarmFactKind = 'raise' | 'clear' | 'ack' | 'comment' | 'action';

export interface AlarmFact {
  /** The stamp (formatHlc) of the fact: unique, since every instance stamps with its own node id. */
  id: string;
  /** The alarm: its tag (unique within an alarm-sync group). */
  key: string;
  /** The episode the fact is about (1, 2, ...). */
  seq: number;
  kind: AlarmFactKind;
  /** ms since epoch on the clock of the instance that made the fact (for display). */
  at: number;
  /** raise: the alarm's attributes at that moment (the newest raise fact of an episode wins). */
  severity?: number;
  text?: string;
  category?: string;
  value?: unknown;
  /** ack / comment: who, and what they wrote. */
  by?: string;
  comment?: string;
  /** action: which action ran, and under which duty epoch. */
  action?: 'on' | 'off';
  epoch?: number;
}

/** OPC UA Part 9 ShelvedStateMachine states. */
export type ShelveState = 'unshelved' | 'timed' | 'oneshot';

/** The newest shelving fact of an alarm wins (last writer by hybrid logical clock). */
export interface ShelveFact {
  id: string;
  key: string;
  at: number;
  state: ShelveState;
  /** timed: ms the alarm stays shelved, counted from the stamp's wall time. */
  durationMs?: number;
  /** oneshot: the shelf ends when episode `untilSeq` (or a later one) has cleared. */
  untilSeq?: number;
  by?: string;
  comment?: string;
}

/** An operator's action waiting to reach the peer (persisted with the fact it carries). */
export interface OutboxEntry {
  /** The id of the fact it carries. */
  id: string;
  fact?: AlarmFact;
  shelve?: ShelveFact;
  /** ms since epoch when it was queued. */
  queuedAt: number;
}

/** The current state of one alarm, as both instances show it. */
export interface AlarmView {
  key: string;
  seq: number;
  /** The condition holds now (the newest transition of this episode is a raise). */
  active: boolean;
  acked: boolean;
  severity: number;
  text: string;
  category: string;
  value?: unknown;
  /** The first raise of the episode (ms, on the raising instance's clock) and its instance. */
  raisedAt: number;
  raisedBy: string;
  clearedAt?: number;
  ackedAt?: number;
  ackedBy?: string;
  ackComment?: string;
  /** Every acknowledgement (both sides may ack during a partition), oldest first. */
  acks: Array<{ at: number; by: string; comment?: string; instance: string }>;
  comments: Array<{ at: number; by: string; text: string; instance: string }>;
  shelved: ShelveState;
  /** timed: when the shelf ends (ms since epoch). */
  shelvedUntil?: number;
  shelvedBy?: string;
  /** The on action ran (by the duty holder), and the off action. */
  onActionDone: boolean;
  offActionDone: boolean;
}

/** An alarm as an input message or a value condition states it on this instance. */
export interface AlarmObservation {
  key: string;
  active: boolean;
  severity?: number;
  text?: string;
  category?: string;
  value?: unknown;
}

export interface AckRequest {
  key: string;
  /** The episode the operator saw; absent: the current one. */
  seq?: number;
  by: string;
  comment?: string;
}

export interface ShelveRequest {
  key: string;
  state: ShelveState;
  durationMs?: number;
  by: string;
  comment?: string;
}

/** An on/off action to run (output 1 of alarm-sync on the duty instance). */
export interface AlarmAction {
  action: 'on' | 'off';
  alarm: AlarmView;
  /** The duty epoch under which it ran: a consumer can drop a stale holder's late output. */
  epoch: number;
  /** True when the action is run by an instance that took the duty over (it was owed). */
  takenOver: boolean;
}

export const DEFAULT_SEVERITY = 500;

const SEVERITY_NAMES: Record<string, number> = { low: 250, medium: 500, high: 750, critical: 900 };

/**
 * Severity as OPC UA Part 9 has it (1..1000) from a number or a name (low 250, medium 500,
 * high 750, critical 900). Throws with the reason for anything else.
 */
export function parseSeverity(v: unknown): number {
  if (v === undefined || v === null || v === '') return DEFAULT_SEVERITY;
  if (typeof v === 'string' && v.toLowerCase() in SEVERITY_NAMES) return SEVERITY_NAMES[v.toLowerCase()];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`severity ${JSON.stringify(v)} is not 1..1000 or low/medium/high/critical`);
  return n;
}

/** A key fit for an alarm: a non-empty string of reasonable length. */
export function validateKey(v: unknown): string {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error('an alarm needs a tag (msg.topic or payload.tag)');
  const key = String(v).trim();
  if (!key) throw new Error('an alarm needs a tag (msg.topic or payload.tag)');
  if (key.length > 200) throw new Error(`alarm tag too long (${key.length} characters, at most 200)`);
  return key;
}
