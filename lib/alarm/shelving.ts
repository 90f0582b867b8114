// Shelving of one alarm group (OPC UA Part 9: TimedShelve, OneShotShelve, Unshelve): the rules an
// operator's request must meet, the shelving fact it becomes, and the timer that announces a timed
// shelf's end (the alarm list must show it when it happens). Which shelf is in force follows from
// the record (lib/alarm/state.ts: newest stamp wins, timed until stamp time + duration, one-shot
// until its episode has cleared).
import type { Clock, TimerHandle } from '../core/clock';
import { parseHlc } from '../core/hlc';
import type { AlarmRecord } from './state';
import type { ShelveFact, ShelveRequest } from './types';

/**
 * The shelving fact for a request, or an Error saying which rule it breaks: unshelving an alarm
 * that is not shelved, shelving the same way again, a timed shelf of no or too long a duration.
 */
export function shelveFact(rec: AlarmRecord | undefined, declared: boolean, req: ShelveRequest, now: number, maxShelveMs: number, stamp: () => { id: string; at: number }): ShelveFact {
  if (!rec && !declared) throw new Error(`no alarm ${req.key}`);
  const shelf = rec?.shelfAt(now);
  if (req.state === 'unshelved' && !shelf) throw new Error(`alarm ${req.key} is not shelved`);
  if (req.state === 'timed') {
    const d = req.durationMs;
    if (d === undefined || !Number.isFinite(d) || d <= 0 || d > maxShelveMs) {
      throw new Error(`shelving time must be more than 0 and at most ${Math.round(maxShelveMs / 60_000)} min (got ${d === undefined ? 'none' : `${Math.round(d / 1000)} s`})`);
    }
    if (shelf?.state === 'timed') throw new Error(`alarm ${req.key} is already shelved until ${new Date(shelf.until ?? 0).toISOString()}: unshelve it first`);
  }
  if (req.state === 'oneshot' && shelf?.state === 'oneshot') throw new Error(`alarm ${req.key} is already shelved (one-shot)`);
  const { id, at } = stamp(); // taken once the request passed: a refused one leaves the clock alone
  const s: ShelveFact = { id, key: req.key, at, state: req.state, ...(req.by ? { by: req.by } : {}), ...(req.comment ? { comment: req.comment } : {}) };
  if (req.state === 'timed') s.durationMs = req.durationMs;
  if (req.state === 'oneshot') {
    const view = rec?.view(now);
    s.untilSeq = view?.active ? view.seq : (rec?.seq ?? 0) + 1;
  }
  return s;
}

/** Calls `expired(record)` when a timed shelf ends; reschedule() after any shelving change. */
export class ShelfExpiry {
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly records: () => Iterable<AlarmRecord>,
    private readonly expired: (rec: AlarmRecord, at: number) => void,
  ) {}

  reschedule(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const now = this.clock.now();
    let next = Infinity;
    for (const rec of this.records()) {
      const shelf = rec.shelve?.state === 'timed' ? rec.shelfAt(now) : undefined;
      if (shelf?.until !== undefined && shelf.until < next) next = shelf.until;
    }
    if (next === Infinity) return;
    this.timer = this.clock.setTimeout(() => {
      const at = this.clock.now();
      for (const rec of this.records()) {
        if (rec.shelve?.state !== 'timed') continue;
        const until = parseHlc(rec.shelve.id).wall + (rec.shelve.durationMs ?? 0);
        if (until <= at && until > now - 1) this.expired(rec, at);
      }
      this.reschedule();
    }, Math.max(0, next - now));
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
