// One alarm's facts and the state computed from them: the merge rule of the alarm pair.
//
// The rule (docs/alarm-trend.md has the long form):
// - An alarm keeps the facts of its newest episode only. A fact of an older episode is history and
//   is dropped; a fact of a newer episode starts that episode and drops the older one's facts.
// - Within an episode the facts form a set (keyed by their unique stamp): merging is union, so it
//   is commutative, associative and idempotent: the two instances, having exchanged their facts in
//   any order and any number of times, hold the same set and show the same state.
// - The state is a function of the set: active until the first clear; acknowledged once any ack is
//   there (the oldest names who); the attributes of the newest raise; comments oldest first.
// - Shelving belongs to the alarm, not to an episode: the newest shelving fact wins (stamp order).
// Stamps are hybrid logical clock stamps (lib/core/hlc.ts) formatted so that string order is stamp
// order; no decision compares two instances' wall clocks except the displayed times.
import { parseHlc } from '../core/hlc';
import { type AlarmFact, type AlarmView, DEFAULT_SEVERITY, type ShelveFact } from './types';

export type MergeResult = 'added' | 'duplicate' | 'history' | 'superseded';

export class AlarmRecord {
  /** The newest episode known (0: none yet). */
  seq = 0;
  private readonly facts = new Map<string, AlarmFact>();
  shelve?: ShelveFact;
  /**
   * The part of the view computed from the facts, kept until they change (null: to compute). Lists
   * of 10 000 alarms are computed several times a second; the shelf part depends on the time and is
   * added at each call.
   */
  private base: AlarmView | undefined | null = null;

  constructor(readonly key: string) {}

  /**
   * Adds a fact. 'superseded' means it started a newer episode: `dropped` lists the ids of the
   * older episode's facts it replaced.
   */
  mergeFact(f: AlarmFact, dropped?: string[]): MergeResult {
    if (f.seq < this.seq) return 'history';
    if (f.seq > this.seq) {
      for (const id of this.facts.keys()) dropped?.push(id);
      this.facts.clear();
      this.seq = f.seq;
      this.facts.set(f.id, f);
      this.base = null;
      return 'superseded';
    }
    if (this.facts.has(f.id)) return 'duplicate';
    this.facts.set(f.id, f);
    this.base = null;
    return 'added';
  }

  /** Last writer wins, by stamp. */
  mergeShelve(s: ShelveFact): boolean {
    if (this.shelve && this.shelve.id >= s.id) return false;
    this.shelve = s;
    return true;
  }

  allFacts(): AlarmFact[] {
    return [...this.facts.values()];
  }

  factIds(): string[] {
    return [...this.facts.keys()];
  }

  /** The episode has a raise on this instance (an episode known only by an early ack has not). */
  started(): boolean {
    for (const f of this.facts.values()) if (f.kind === 'raise') return true;
    return false;
  }

  /** The state every instance holding these facts shows; undefined before the first raise. A fresh object each call. */
  view(now: number): AlarmView | undefined {
    if (this.base === null) this.base = this.compute();
    const base = this.base;
    if (!base) return undefined;
    const view: AlarmView = { ...base, acks: base.acks.map((a) => ({ ...a })), comments: base.comments.map((c) => ({ ...c })) };
    const shelf = this.shelfAt(now, view.active);
    if (shelf) {
      view.shelved = shelf.state;
      if (shelf.until !== undefined) view.shelvedUntil = shelf.until;
      if (this.shelve?.by) view.shelvedBy = this.shelve.by;
    }
    return view;
  }

  private compute(): AlarmView | undefined {
    const sorted = [...this.facts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const raises = sorted.filter((f) => f.kind === 'raise');
    if (raises.length === 0) return undefined;
    const first = raises[0];
    const newest = raises[raises.length - 1];
    const clears = sorted.filter((f) => f.kind === 'clear');
    const acks = sorted.filter((f) => f.kind === 'ack');
    const active = clears.length === 0;
    const view: AlarmView = {
      key: this.key,
      seq: this.seq,
      active,
      acked: acks.length > 0,
      severity: newest.severity ?? DEFAULT_SEVERITY,
      text: newest.text ?? '',
      category: newest.category ?? '',
      raisedAt: first.at,
      raisedBy: instanceOf(first.id),
      acks: acks.map((a) => ({ at: a.at, by: a.by ?? '', ...(a.comment ? { comment: a.comment } : {}), instance: instanceOf(a.id) })),
      comments: sorted.filter((f) => f.kind === 'comment').map((c) => ({ at: c.at, by: c.by ?? '', text: c.comment ?? '', instance: instanceOf(c.id) })),
      shelved: 'unshelved',
      onActionDone: sorted.some((f) => f.kind === 'action' && f.action === 'on'),
      offActionDone: sorted.some((f) => f.kind === 'action' && f.action === 'off'),
    };
    if (newest.value !== undefined) view.value = newest.value;
    if (!active) view.clearedAt = clears[0].at;
    if (acks.length > 0) {
      view.ackedAt = acks[0].at;
      view.ackedBy = acks[0].by ?? '';
      if (acks[0].comment) view.ackComment = acks[0].comment;
    }
    return view;
  }

  /**
   * The shelf in force at `now`, following OPC UA Part 9: a timed shelf ends after its duration
   * (counted from the shelving stamp's wall time, the same number on both instances), a one-shot
   * shelf when the episode it was made for has cleared.
   */
  shelfAt(now: number, active = this.isActive()): { state: 'timed' | 'oneshot'; until?: number } | undefined {
    const s = this.shelve;
    if (!s || s.state === 'unshelved') return undefined;
    if (s.state === 'timed') {
      const until = parseHlc(s.id).wall + (s.durationMs ?? 0);
      return now < until ? { state: 'timed', until } : undefined;
    }
    const untilSeq = s.untilSeq ?? 0;
    if (this.seq > untilSeq) return undefined;
    if (this.seq === untilSeq && this.started() && !active) return undefined;
    return { state: 'oneshot' };
  }

  isActive(): boolean {
    let raised = false;
    for (const f of this.facts.values()) {
      if (f.kind === 'clear') return false;
      if (f.kind === 'raise') raised = true;
    }
    return raised;
  }
}

/** The instance that made a stamp. */
export function instanceOf(stampId: string): string {
  try {
    return parseHlc(stampId).node;
  } catch {
    return '';
  }
}

/** 32-bit FNV-1a of a string: the order-independent digest of a fact set is the sum of these. */
export function factHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
