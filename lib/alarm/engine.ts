// The alarm list of one instance: turns what this instance observes (alarm messages, value
// conditions) and what its operators do (ack, comment, shelve) into stamped facts, merges the
// peer's facts, keeps everything in the store, and says what changed. Pure: no Node-RED, no
// network (lib/alarm/sync.ts carries facts over the peer link); time through `Clock`.
//
// Identity: an alarm is its key; an occurrence is (key, episode). A transition to active on this
// instance starts episode n+1 only when the merged state (this instance's and the peer's facts)
// is not active; otherwise it joins the current episode. Two instances raising the same alarm a
// few ms apart therefore both say "episode n+1" (each knew n ended): one alarm, whatever their
// clocks say. Only transitions of this instance's own observation make facts, so a stale input
// repeating "active" after the peer cleared the alarm does not raise it again and again.
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock';
import { HybridClock, formatHlc, parseHlc } from '../core/hlc';
import { type AlarmChangeKind, attributes, attributesDiffer, changeKinds } from './changes';
import { AlarmOutbox } from './outbox';
import { ShelfExpiry, shelveFact } from './shelving';
import { AlarmRecord, factHash } from './state';
import type { AlarmBatch, AlarmStore } from './store';
import type { AckRequest, AlarmFact, AlarmObservation, AlarmView, OutboxEntry, ShelveFact, ShelveRequest } from './types';

export type { AlarmChangeKind } from './changes';

export interface AlarmChange {
  key: string;
  kinds: AlarmChangeKind[];
  /** The alarm now (undefined: not raised in its current episode). */
  view: AlarmView | undefined;
  origin: 'local' | 'peer' | 'timer';
}

export interface AlarmEngineEvents {
  change: [AlarmChange];
  /** Facts made here, to send to the peer now (best effort; the outbox and catch-up guarantee). */
  local: [{ facts: AlarmFact[]; shelves: ShelveFact[] }];
  error: [Error];
}

export interface AlarmEngineOptions {
  group: string;
  instanceId: string;
  clock: Clock;
  store: AlarmStore;
  /** Longest timed shelf (OPC UA Part 9 MaxTimeShelved). Default 8 h. */
  maxShelveMs?: number;
}

export const DEFAULT_MAX_SHELVE_MS = 8 * 3600_000;

export class AlarmEngine extends EventEmitter<AlarmEngineEvents> {
  readonly group: string;
  readonly instanceId: string;
  readonly hlc: HybridClock;
  private readonly clock: Clock;
  private readonly store: AlarmStore;
  private readonly maxShelveMs: number;
  private readonly records = new Map<string, AlarmRecord>();
  /** This instance's own observation of each alarm (undefined: not seen since start). */
  private readonly local = new Map<string, boolean>();
  private readonly declared = new Set<string>();
  private readonly outbox = new AlarmOutbox();
  private holding = false;
  private held: AlarmObservation[] = [];
  private writes: Promise<void> = Promise.resolve();
  private digestSum = 0;
  private factCount = 0;
  private readonly shelfExpiry: ShelfExpiry;

  constructor(options: AlarmEngineOptions) {
    super();
    this.group = options.group;
    this.instanceId = options.instanceId;
    this.clock = options.clock;
    this.store = options.store;
    this.maxShelveMs = options.maxShelveMs ?? DEFAULT_MAX_SHELVE_MS;
    this.hlc = new HybridClock(options.instanceId, options.clock);
    this.shelfExpiry = new ShelfExpiry(this.clock, () => this.records.values(), (rec, at) => this.emit('change', { key: rec.key, kinds: ['unshelved'], view: rec.view(at), origin: 'timer' }));
  }

  /** Loads the stored state; the clock resumes after the greatest stamp ever stored. */
  async open(): Promise<void> {
    const stored = await this.store.loadAlarms(this.group);
    let newest = '';
    for (const f of stored.facts.sort((a, b) => a.seq - b.seq)) {
      const dropped: string[] = [];
      this.record(f.key).mergeFact(f, dropped);
      this.account(f.id, dropped);
      if (f.id > newest) newest = f.id;
    }
    for (const s of stored.shelves) {
      this.record(s.key).mergeShelve(s);
      this.digestSum = (this.digestSum + factHash(s.id)) >>> 0;
      if (s.id > newest) newest = s.id;
    }
    const newestQueued = this.outbox.load(stored.outbox);
    if (newestQueued > newest) newest = newestQueued;
    if (newest) this.hlc.restore(parseHlc(newest));
    this.shelfExpiry.reschedule();
  }

  // ---- what this instance observes ----

  /** Alarms this instance evaluates from its configuration (known before they are first raised). */
  declare(keys: Iterable<string>): void {
    for (const k of keys) this.declared.add(k);
  }

  /**
   * While held (start-up, until the peer's state is caught up), observations are queued and made
   * into facts afterwards, in order, against the caught-up state.
   */
  hold(): void {
    this.holding = true;
  }

  async release(): Promise<void> {
    if (!this.holding) return;
    this.holding = false;
    const queued = this.held;
    this.held = [];
    for (const o of queued) await this.observe(o);
  }

  isHolding(): boolean {
    return this.holding;
  }

  async observe(o: AlarmObservation): Promise<void> {
    if (this.holding) {
      this.held.push(o);
      return;
    }
    const before = this.local.get(o.key);
    this.local.set(o.key, o.active);
    const rec = this.records.get(o.key);
    const view = rec?.view(this.clock.now());
    if (before === o.active) {
      // No transition here: only a change of the attributes of an active alarm is news.
      if (o.active && view?.active && attributesDiffer(view, o)) await this.commitLocal([this.fact(o.key, view.seq, 'raise', attributes(o))]);
      return;
    }
    if (o.active) {
      if (view?.active) {
        if (attributesDiffer(view, o)) await this.commitLocal([this.fact(o.key, view.seq, 'raise', attributes(o))]);
        return;
      }
      // A new episode; or the current one, when it is known here only by an early ack.
      const seq = rec && rec.seq > 0 && !rec.started() ? rec.seq : (rec?.seq ?? 0) + 1;
      await this.commitLocal([this.fact(o.key, seq, 'raise', attributes(o))]);
    } else if (view?.active) {
      await this.commitLocal([this.fact(o.key, view.seq, 'clear', o.value === undefined ? {} : { value: o.value })]);
    }
  }

  // ---- what operators do ----

  /** Acknowledges an alarm on this instance; the returned promise resolves once it is on disk. */
  async ack(req: AckRequest): Promise<AlarmView> {
    const view = this.current(req.key, req.seq, 'acknowledge');
    if (view.acked) return view;
    const f = this.fact(req.key, view.seq, 'ack', { by: req.by, ...(req.comment ? { comment: req.comment } : {}) });
    await this.commitLocal([f], true);
    return this.view(req.key) as AlarmView;
  }

  /** Acknowledges every raised, unacknowledged, unshelved alarm; returns how many. */
  async ackAll(by: string, comment?: string): Promise<number> {
    const facts: AlarmFact[] = [];
    for (const v of this.views()) {
      if (!v.acked && v.shelved === 'unshelved') facts.push(this.fact(v.key, v.seq, 'ack', { by, ...(comment ? { comment } : {}) }));
    }
    if (facts.length) await this.commitLocal(facts, true);
    return facts.length;
  }

  async comment(req: AckRequest): Promise<AlarmView> {
    if (!req.comment) throw new Error('a comment needs text (payload.comment)');
    const view = this.current(req.key, req.seq, 'comment on');
    await this.commitLocal([this.fact(req.key, view.seq, 'comment', { by: req.by, comment: req.comment })], true);
    return this.view(req.key) as AlarmView;
  }

  /** OPC UA Part 9 TimedShelve / OneShotShelve / Unshelve, with its rules and limits. */
  async shelve(req: ShelveRequest): Promise<AlarmView | undefined> {
    const rec = this.records.get(req.key);
    const now = this.clock.now();
    const s = shelveFact(rec, this.declared.has(req.key), req, now, this.maxShelveMs, () => this.stamp());
    await this.commitShelve(s);
    return this.view(req.key);
  }

  /** Records that the on/off action of an episode ran here (lib/alarm/actions.ts). */
  async recordAction(key: string, seq: number, action: 'on' | 'off', epoch: number): Promise<void> {
    await this.commitLocal([this.fact(key, seq, 'action', { action, epoch })]);
  }

  // ---- the peer's facts ----

  /**
   * Merges facts from the peer (idempotent: a fact already held changes nothing). Throws, merging
   * nothing, when a stamp is absurdly ahead of this clock (the peer's clock is broken).
   */
  async merge(facts: AlarmFact[], shelves: ShelveFact[]): Promise<number> {
    let newest = '';
    for (const f of facts) if (f.id > newest) newest = f.id;
    for (const s of shelves) if (s.id > newest) newest = s.id;
    if (newest) this.hlc.receive(parseHlc(newest));
    const batch: AlarmBatch = { facts: [], supersede: [], shelves: [] };
    const keys = new Set<string>();
    const now = this.clock.now();
    const before = new Map<string, AlarmView | undefined>();
    const touch = (key: string) => {
      if (!before.has(key)) before.set(key, this.records.get(key)?.view(now));
    };
    for (const f of [...facts].sort((a, b) => a.seq - b.seq)) {
      touch(f.key);
      const dropped: string[] = [];
      const r = this.record(f.key).mergeFact(f, dropped);
      if (r === 'history' || r === 'duplicate') continue;
      this.account(f.id, dropped);
      batch.facts!.push(f);
      if (r === 'superseded') batch.supersede!.push({ key: f.key, seq: f.seq });
      keys.add(f.key);
    }
    for (const s of shelves) {
      touch(s.key);
      const rec = this.record(s.key);
      const old = rec.shelve;
      if (!rec.mergeShelve(s)) continue;
      if (old) this.digestSum = (this.digestSum - factHash(old.id)) >>> 0;
      this.digestSum = (this.digestSum + factHash(s.id)) >>> 0;
      batch.shelves!.push(s);
      keys.add(s.key);
    }
    if (keys.size === 0) return 0;
    const written = this.write(batch);
    this.announce(keys, before, 'peer');
    await written;
    return keys.size;
  }

  // ---- the outbox ----

  pendingOutbox(): OutboxEntry[] {
    return this.outbox.pending();
  }

  async delivered(ids: string[]): Promise<void> {
    const gone = this.outbox.remove(ids);
    if (gone.length) await this.write({ outboxRemove: gone });
  }

  // ---- reading ----

  view(key: string): AlarmView | undefined {
    return this.records.get(key)?.view(this.clock.now());
  }

  /** Every alarm raised in its current episode, in key order. */
  views(): AlarmView[] {
    const now = this.clock.now();
    const out: AlarmView[] = [];
    for (const key of [...this.records.keys()].sort()) {
      const v = this.records.get(key)?.view(now);
      if (v) out.push(v);
    }
    return out;
  }

  keys(): string[] {
    return [...this.records.keys()];
  }

  /** A page of the full state for the peer's catch-up: alarms with keys after `after`, in key order. */
  page(after: string | undefined, limit: number): { facts: AlarmFact[]; shelves: ShelveFact[]; next?: string; total: number } {
    const keys = [...this.records.keys()].sort();
    let i = 0;
    if (after !== undefined) {
      while (i < keys.length && keys[i] <= after) i++;
    }
    const slice = keys.slice(i, i + Math.max(1, limit));
    const facts: AlarmFact[] = [];
    const shelves: ShelveFact[] = [];
    for (const k of slice) {
      const rec = this.records.get(k) as AlarmRecord;
      facts.push(...rec.allFacts());
      if (rec.shelve) shelves.push(rec.shelve);
    }
    const next = i + slice.length < keys.length ? slice[slice.length - 1] : undefined;
    return { facts, shelves, ...(next === undefined ? {} : { next }), total: keys.length };
  }

  /** Order-independent digest of every fact and shelving held: equal on both sides once converged. */
  digest(): { sum: number; facts: number } {
    return { sum: this.digestSum, facts: this.factCount };
  }

  /** Resolves when every write so far is on disk. */
  flush(): Promise<void> {
    return this.writes;
  }

  async close(): Promise<void> {
    this.shelfExpiry.close();
    await this.writes;
  }

  // ---- internals ----

  private current(key: string, seq: number | undefined, what: string): AlarmView {
    const view = this.view(key);
    if (!view) throw new Error(`no alarm ${key} to ${what}`);
    if (seq !== undefined && seq !== view.seq) {
      throw new Error(seq < view.seq ? `alarm ${key} has been raised again since (occurrence ${view.seq}, not ${seq}): ${what} the current one` : `alarm ${key} has no occurrence ${seq} (the current one is ${view.seq})`);
    }
    return view;
  }

  private record(key: string): AlarmRecord {
    let r = this.records.get(key);
    if (!r) {
      r = new AlarmRecord(key);
      this.records.set(key, r);
    }
    return r;
  }

  private account(added: string, dropped: string[]): void {
    this.digestSum = (this.digestSum + factHash(added)) >>> 0;
    this.factCount++;
    for (const id of dropped) {
      this.digestSum = (this.digestSum - factHash(id)) >>> 0;
      this.factCount--;
    }
  }

  private stamp(): { id: string; at: number } {
    return { id: formatHlc(this.hlc.now()), at: this.clock.now() };
  }

  private fact(key: string, seq: number, kind: AlarmFact['kind'], extra: Partial<AlarmFact>): AlarmFact {
    return { ...this.stamp(), key, seq, kind, ...extra };
  }

  /** Applies facts made here, persists them (with outbox entries for operator actions), announces them. */
  private async commitLocal(facts: AlarmFact[], operator = false): Promise<void> {
    const now = this.clock.now();
    const before = new Map<string, AlarmView | undefined>();
    const batch: AlarmBatch = { facts: [], supersede: [], outboxAdd: [] };
    for (const f of facts) {
      if (!before.has(f.key)) before.set(f.key, this.records.get(f.key)?.view(now));
      const dropped: string[] = [];
      const r = this.record(f.key).mergeFact(f, dropped);
      this.account(f.id, dropped);
      batch.facts!.push(f);
      if (r === 'superseded') batch.supersede!.push({ key: f.key, seq: f.seq });
      if (operator) {
        const entry: OutboxEntry = { id: f.id, fact: f, queuedAt: now };
        this.outbox.add(entry);
        batch.outboxAdd!.push(entry);
      }
    }
    const written = this.write(batch);
    this.announce(new Set(facts.map((f) => f.key)), before, 'local');
    this.emit('local', { facts, shelves: [] });
    await written;
  }

  private async commitShelve(s: ShelveFact): Promise<void> {
    const rec = this.record(s.key);
    const before = new Map([[s.key, rec.view(this.clock.now())]]);
    const old = rec.shelve;
    rec.mergeShelve(s);
    if (old) this.digestSum = (this.digestSum - factHash(old.id)) >>> 0;
    this.digestSum = (this.digestSum + factHash(s.id)) >>> 0;
    const entry: OutboxEntry = { id: s.id, shelve: s, queuedAt: this.clock.now() };
    this.outbox.add(entry);
    const written = this.write({ shelves: [s], outboxAdd: [entry] });
    this.announce(new Set([s.key]), before, 'local');
    this.emit('local', { facts: [], shelves: [s] });
    await written;
  }

  /** Store writes run one after the other, in the order they were made. */
  private write(batch: AlarmBatch): Promise<void> {
    const p = this.writes.then(() => this.store.commitAlarms(this.group, batch));
    this.writes = p.catch((err: unknown) => {
      this.emit('error', new Error(`alarm store ${this.store.location}: ${err instanceof Error ? err.message : String(err)}`));
    });
    return p;
  }

  private announce(keys: Set<string>, before: Map<string, AlarmView | undefined>, origin: AlarmChange['origin']): void {
    const now = this.clock.now();
    let shelving = false;
    for (const key of keys) {
      const after = this.records.get(key)?.view(now);
      const kinds = changeKinds(before.get(key), after);
      if (kinds.includes('shelved') || kinds.includes('unshelved')) shelving = true;
      if (kinds.length) this.emit('change', { key, kinds, view: after, origin });
    }
    if (shelving) this.shelfExpiry.reschedule();
  }
}
