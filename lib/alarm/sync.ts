// The alarm pair's protocol over the peer link (lib/peer/api.ts), one service per alarm group:
// "alarm-sync/<group>". Requests (JSON bodies, version field v):
//   hello {v, instance, digest}         → {v, instance, digest, alarms, outbox}
//   push  {v, facts, shelves}           → {applied}      facts made here, and the outbox
//   pull  {v, after?, limit}            → {facts, shelves, next?, total}  a page of the full state,
//                                          `limit` alarms in key order after `after`
// Every time the link comes up (and at start), a session runs: hello; the outbox is pushed (oldest
// first, in batches) and each confirmed entry removed; then the peer's whole state is pulled page by
// page and merged (catch-up). Both instances run it, so after a partition each holds the union of
// both sides' facts: the same list (lib/alarm/state.ts). While up, facts made here are pushed at
// once, and every `checkMs` the digests are compared: a difference (a lost push) triggers a pull.
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock';
import { parseHlc } from '../core/hlc';
import type { PeerLinkApi, PeerLinkStatus } from '../peer/api';
import type { AlarmEngine } from './engine';
import type { AlarmFact, OutboxEntry, ShelveFact } from './types';

export const ALARM_SYNC_VERSION = 1;
const FACT_KINDS = new Set(['raise', 'clear', 'ack', 'comment', 'action']);
const SHELVE_STATES = new Set(['unshelved', 'timed', 'oneshot']);

export interface AlarmSyncOptions {
  clock: Clock;
  /** Longest wait at start for the link before evaluating alone. Default 10 s. */
  catchUpWaitMs?: number;
  /** Retry of a failed session while the link is up. Default 5 s. */
  retryMs?: number;
  /** Digest comparison while up. Default 60 s; 0: off. */
  checkMs?: number;
  /** Alarms per pull page. Default 500. */
  pageSize?: number;
  /** Facts per push. Default 1000. */
  pushBatch?: number;
}

export interface AlarmSyncEvent {
  kind: 'alarm-caught-up' | 'alarm-acks-delivered' | 'alarm-sync-failed';
  severity: 'info' | 'warning' | 'error';
  reason: string;
  durationMs?: number;
}

export interface AlarmSyncState {
  /** The start-up catch-up is over (done, or given up because the peer did not answer in time). */
  started: boolean;
  /** The last session with the peer succeeded and nothing is known to be missing. */
  inSync: boolean;
  outbox: number;
  link: PeerLinkStatus['state'];
  lastError?: string;
}

export interface AlarmSyncEvents {
  event: [AlarmSyncEvent];
  state: [AlarmSyncState];
  /** The start-up hold is over (actions may run). */
  started: [];
}

export class AlarmSync extends EventEmitter<AlarmSyncEvents> {
  readonly service: string;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<AlarmSyncOptions, 'clock'>>;
  private unregister: (() => void) | undefined;
  private started = false;
  private inSync = false;
  private lastError: string | undefined;
  private session: Promise<void> | undefined;
  private again = false;
  private startTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private checkTimer: TimerHandle | undefined;
  private pushScheduled = false;
  private pushQueue: { facts: AlarmFact[]; shelves: ShelveFact[] } = { facts: [], shelves: [] };
  private stopped = false;
  private sessions = 0;
  private helloKicked = false;

  constructor(
    private readonly engine: AlarmEngine,
    private readonly link: PeerLinkApi,
    options: AlarmSyncOptions,
  ) {
    super();
    this.clock = options.clock;
    this.opts = {
      catchUpWaitMs: options.catchUpWaitMs ?? 10_000,
      retryMs: options.retryMs ?? 5000,
      checkMs: options.checkMs ?? 60_000,
      pageSize: options.pageSize ?? 500,
      pushBatch: options.pushBatch ?? 1000,
    };
    this.service = `alarm-sync/${engine.group}`;
  }

  /** Serves the peer, holds local evaluation until caught up (or the wait is over), syncs. */
  start(): void {
    this.unregister = this.link.register(this.service, (body) => this.handle(body));
    this.link.on('state', this.onLinkState);
    this.engine.on('local', this.onLocal);
    this.engine.hold();
    // The wait runs whatever the link does: a peer still starting (its service not registered yet)
    // is retried within it; when it is over, this instance evaluates from its own store.
    this.startTimer = this.clock.setTimeout(() => void this.finishStart(`the peer's alarm state could not be caught up within ${Math.round(this.opts.catchUpWaitMs / 1000)} s${this.lastError ? ` (${this.lastError})` : ''}: evaluating from the local store`), this.opts.catchUpWaitMs);
    if (this.link.status().state === 'up') this.kick();
    this.emitState();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unregister?.();
    this.link.off('state', this.onLinkState);
    this.engine.off('local', this.onLocal);
    for (const t of [this.startTimer, this.retryTimer, this.checkTimer]) this.clock.clearTimeout(t);
    await this.session?.catch(() => undefined);
  }

  state(): AlarmSyncState {
    return { started: this.started, inSync: this.inSync, outbox: this.engine.pendingOutbox().length, link: this.link.status().state, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Resolves when the running session (if any) is over. */
  async idle(): Promise<void> {
    while (this.session) await this.session.catch(() => undefined);
  }

  /** Runs a session now (e.g. after a digest difference); coalesces with a running one. */
  kick(): void {
    if (this.stopped) return;
    if (this.session) {
      this.again = true;
      return;
    }
    this.session = this.runSession()
      .catch(() => undefined)
      .finally(() => {
        this.session = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  // ---- the peer's requests ----

  private async handle(body: unknown): Promise<unknown> {
    const b = body as Record<string, unknown> | null;
    if (!b || typeof b !== 'object' || typeof b.op !== 'string') throw new Error('malformed alarm-sync request: no op');
    if (b.v !== ALARM_SYNC_VERSION) throw new Error(`alarm-sync protocol version ${String(b.v)} is not ${ALARM_SYNC_VERSION}: update both instances to the same package version`);
    switch (b.op) {
      case 'hello':
        // The peer's service is up (it runs a session): if ours failed (e.g. the peer was still
        // starting when the link came up), run ours now rather than at the next retry.
        // Once per retry period, so two instances failing after hello cannot bounce sessions.
        if (!this.inSync && !this.session && !this.helloKicked) {
          this.helloKicked = true;
          this.kick();
        }
        return { v: ALARM_SYNC_VERSION, instance: this.engine.instanceId, digest: this.engine.digest(), alarms: this.engine.views().length, outbox: this.engine.pendingOutbox().length };
      case 'push': {
        const facts = validateFacts(b.facts);
        const shelves = validateShelves(b.shelves);
        return { applied: await this.engine.merge(facts, shelves) };
      }
      case 'pull': {
        const limit = Number(b.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new Error('malformed alarm-sync pull: limit must be 1..10000');
        if (b.after !== undefined && typeof b.after !== 'string') throw new Error('malformed alarm-sync pull: after must be a key');
        return this.engine.page(b.after as string | undefined, limit);
      }
      default:
        throw new Error(`unknown alarm-sync op ${b.op}`);
    }
  }

  // ---- sessions ----

  private readonly onLinkState = (s: PeerLinkStatus): void => {
    if (s.state === 'up') {
      this.kick();
    } else {
      if (this.inSync) {
        this.inSync = false;
      }
      this.clock.clearTimeout(this.checkTimer);
      this.checkTimer = undefined;
      this.emitState();
    }
  };

  private async runSession(): Promise<void> {
    if (this.link.status().state !== 'up') return;
    const t0 = this.clock.now();
    const first = this.sessions++ === 0;
    try {
      const hello = (await this.link.request(this.service, { op: 'hello', v: ALARM_SYNC_VERSION, instance: this.engine.instanceId, digest: this.engine.digest() })) as { v?: number };
      if (hello?.v !== ALARM_SYNC_VERSION) throw new Error(`the peer speaks alarm-sync version ${String(hello?.v)}, this instance ${ALARM_SYNC_VERSION}`);
      const delivered = await this.deliverOutbox();
      if (delivered > 0) this.emit('event', { kind: 'alarm-acks-delivered', severity: 'info', reason: `${delivered} operator action${delivered === 1 ? '' : 's'} (acknowledgements, comments, shelving) made while the peer was away delivered to it` });
      const { alarms, changed } = await this.pullAll();
      const took = this.clock.now() - t0;
      this.inSync = true;
      this.helloKicked = false;
      this.lastError = undefined;
      this.emit('event', {
        kind: 'alarm-caught-up',
        severity: 'info',
        reason: first ? `caught up the alarm state from the peer: ${alarms} alarm${alarms === 1 ? '' : 's'}, ${changed} changed here` : `resynchronised with the peer: ${alarms} alarm${alarms === 1 ? '' : 's'}, ${changed} changed here`,
        durationMs: took,
      });
      if (!this.started) await this.finishStart();
      this.scheduleCheck();
    } catch (err) {
      this.inSync = false;
      this.lastError = err instanceof Error ? err.message : String(err);
      if (this.started) this.emit('event', { kind: 'alarm-sync-failed', severity: 'warning', reason: `alarm synchronisation with the peer failed: ${this.lastError}` });
      this.scheduleRetry();
      throw err;
    } finally {
      this.emitState();
    }
  }

  /** A failed session or push is tried again while the link is up (quickly during the start-up wait: the peer may be starting too). */
  private scheduleRetry(): void {
    if (this.link.status().state !== 'up' || this.stopped) return;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => {
      this.helloKicked = false;
      this.kick();
    }, this.started ? this.opts.retryMs : Math.min(this.opts.retryMs, 1000));
  }

  private async deliverOutbox(): Promise<number> {
    let n = 0;
    for (;;) {
      const batch = this.engine.pendingOutbox().slice(0, this.opts.pushBatch);
      if (batch.length === 0) return n;
      await this.push(entriesFacts(batch), entriesShelves(batch));
      await this.engine.delivered(batch.map((e) => e.id));
      n += batch.length;
      this.emitState();
    }
  }

  private async pullAll(): Promise<{ alarms: number; changed: number }> {
    let after: string | undefined;
    let total = 0;
    let changed = 0;
    for (;;) {
      const page = (await this.link.request(this.service, { op: 'pull', v: ALARM_SYNC_VERSION, limit: this.opts.pageSize, ...(after === undefined ? {} : { after }) })) as Record<string, unknown>;
      if (!page || typeof page !== 'object') throw new Error('the peer answered a pull with nothing');
      changed += await this.engine.merge(validateFacts(page.facts), validateShelves(page.shelves));
      total = Number(page.total) || total;
      if (typeof page.next !== 'string') return { alarms: total, changed };
      after = page.next;
      // Let the event loop breathe between pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async push(facts: AlarmFact[], shelves: ShelveFact[]): Promise<void> {
    await this.link.request(this.service, { op: 'push', v: ALARM_SYNC_VERSION, facts, shelves });
  }

  private async finishStart(reason?: string): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.clock.clearTimeout(this.startTimer);
    if (reason) this.emit('event', { kind: 'alarm-sync-failed', severity: 'warning', reason });
    await this.engine.release();
    this.emit('started');
    this.emitState();
  }

  private scheduleCheck(): void {
    this.clock.clearTimeout(this.checkTimer);
    this.checkTimer = undefined;
    if (!this.opts.checkMs || this.stopped) return;
    this.checkTimer = this.clock.setTimeout(() => void this.check(), this.opts.checkMs);
  }

  /** Compares digests; a difference means a push was lost: pull again. */
  private async check(): Promise<void> {
    if (this.link.status().state !== 'up' || this.session) return this.scheduleCheck();
    try {
      const hello = (await this.link.request(this.service, { op: 'hello', v: ALARM_SYNC_VERSION, instance: this.engine.instanceId, digest: this.engine.digest() })) as { digest?: { sum: number; facts: number } };
      const mine = this.engine.digest();
      if (hello?.digest?.sum !== mine.sum || hello.digest.facts !== mine.facts || this.engine.pendingOutbox().length > 0) this.kick();
    } catch {
      // the link's own state event tells; the next session retries
    }
    this.scheduleCheck();
  }

  // ---- live push ----

  private readonly onLocal = (batch: { facts: AlarmFact[]; shelves: ShelveFact[] }): void => {
    this.pushQueue.facts.push(...batch.facts);
    this.pushQueue.shelves.push(...batch.shelves);
    // Coalesced per turn of the event loop (not a timer: nothing waits on time here).
    if (!this.pushScheduled) {
      this.pushScheduled = true;
      setImmediate(() => void this.flushPush());
    }
  };

  private async flushPush(): Promise<void> {
    this.pushScheduled = false;
    const { facts, shelves } = this.pushQueue;
    this.pushQueue = { facts: [], shelves: [] };
    if (this.stopped || this.link.status().state !== 'up' || (facts.length === 0 && shelves.length === 0)) return;
    try {
      for (let i = 0; i < Math.max(facts.length, 1); i += this.opts.pushBatch) {
        const part = facts.slice(i, i + this.opts.pushBatch);
        await this.push(part, i === 0 ? shelves : []);
        await this.engine.delivered([...part.map((f) => f.id), ...(i === 0 ? shelves.map((s) => s.id) : [])]);
      }
      this.emitState();
    } catch {
      // Operator actions stay in the outbox; raises and clears come across with the next session:
      // when the link comes up again, or, when it still looks up (a one-way cut, a peer restarting
      // its flows), after the retry period.
      this.inSync = false;
      this.scheduleRetry();
      this.emitState();
    }
  }

  private emitState(): void {
    this.emit('state', this.state());
  }
}

function entriesFacts(entries: OutboxEntry[]): AlarmFact[] {
  return entries.flatMap((e) => (e.fact ? [e.fact] : []));
}

function entriesShelves(entries: OutboxEntry[]): ShelveFact[] {
  return entries.flatMap((e) => (e.shelve ? [e.shelve] : []));
}

function stampOk(id: unknown): boolean {
  if (typeof id !== 'string') return false;
  try {
    parseHlc(id);
    return true;
  } catch {
    return false;
  }
}

/** Checks facts from the wire; one malformed fact refuses the whole message with the reason. */
export function validateFacts(v: unknown): AlarmFact[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error('malformed alarm-sync message: facts must be a list');
  for (const f of v as Array<Record<string, unknown>>) {
    const what = f && typeof f === 'object' ? `fact ${String(f.id)}` : 'a fact';
    if (!f || typeof f !== 'object' || !stampOk(f.id)) throw new Error(`malformed alarm-sync message: ${what} has no valid stamp`);
    if (typeof f.key !== 'string' || !f.key) throw new Error(`malformed alarm-sync message: ${what} has no key`);
    if (!Number.isInteger(f.seq) || (f.seq as number) < 1) throw new Error(`malformed alarm-sync message: ${what} has no valid episode`);
    if (!FACT_KINDS.has(f.kind as string)) throw new Error(`malformed alarm-sync message: ${what} has unknown kind ${String(f.kind)}`);
    if (typeof f.at !== 'number' || !Number.isFinite(f.at)) throw new Error(`malformed alarm-sync message: ${what} has no time`);
  }
  return v as AlarmFact[];
}

export function validateShelves(v: unknown): ShelveFact[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error('malformed alarm-sync message: shelves must be a list');
  for (const s of v as Array<Record<string, unknown>>) {
    if (!s || typeof s !== 'object' || !stampOk(s.id) || typeof s.key !== 'string' || !SHELVE_STATES.has(s.state as string) || typeof s.at !== 'number') {
      throw new Error('malformed alarm-sync message: a shelving fact lacks its stamp, key, state or time');
    }
  }
  return v as ShelveFact[];
}
