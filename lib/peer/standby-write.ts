// Standby write over the peer link: every local write is applied here and sent to the peer's store
// of the same name; writes made while the peer is unreachable wait in the persistent outbox and go
// when the link is up again; each time the link comes up the two stores cross-copy (each pulls the
// other's rows page by page and keeps, per key, the greater stamp), so an instance that was down,
// restored from an old backup or freshly installed catches up (Citect's start-up cross-copy, with
// stamps instead of file dates).
import { EventEmitter } from 'node:events';
import type { PeerLinkApi, PeerLinkStatus } from './api';
import type { Replicated, StandbyStore, StoredValue } from './standby-store';

export const STANDBY_SERVICE_PREFIX = 'standby-write/';
const BATCH = 500;
const PAGE = 1000;

type Request = { op: 'apply'; writes: Replicated[] } | { op: 'page'; after: string; limit: number };

export interface StandbyWriteStatus {
  queued: number;
  link: PeerLinkStatus['state'];
  /** Writes the peer confirmed, and writes from the peer applied here, since start. */
  sent: number;
  received: number;
  lastSync?: number;
  lastError?: string;
}

export interface StandbyWriteEvents {
  /** Values the peer wrote (replicated or cross-copied) that changed this store. */
  remote: [StoredValue[]];
  status: [StandbyWriteStatus];
  /** A cross-copy finished: how many rows were pulled, and how many changed this store. */
  synced: [{ pulled: number; applied: number }];
}

export class StandbyWrite extends EventEmitter<StandbyWriteEvents> {
  private unregister: () => void;
  private flushing = false;
  private flushAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private sent = 0;
  private received = 0;
  private lastSync: number | undefined;
  private lastError: string | undefined;
  private readonly onState = (s: PeerLinkStatus) => {
    if (s.state === 'up') void this.sync();
    this.emitStatus();
  };

  constructor(
    private readonly link: PeerLinkApi,
    readonly store: StandbyStore,
    readonly storeName: string,
    private readonly retryMs = 1000,
  ) {
    super();
    this.unregister = link.register(STANDBY_SERVICE_PREFIX + storeName, (body) => this.handle(body as Request));
    link.on('state', this.onState);
    if (link.status().state === 'up') void this.sync();
  }

  get(key: string): StoredValue | undefined {
    const v = this.store.get(key);
    return v && !v.deleted ? v : undefined;
  }

  write(key: string, value: unknown): StoredValue {
    const v = this.store.write(key, value);
    this.flush();
    this.emitStatus();
    return v;
  }

  status(): StandbyWriteStatus {
    return { queued: this.store.outboxSize(), link: this.link.status().state, sent: this.sent, received: this.received, lastSync: this.lastSync, lastError: this.lastError };
  }

  close(): void {
    this.closed = true;
    this.unregister();
    this.link.off('state', this.onState);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.store.close();
  }

  /** Pushes the outbox, then pulls the peer's whole store. */
  async sync(): Promise<void> {
    await this.drain();
    try {
      let after = '';
      let pulled = 0;
      let applied = 0;
      for (;;) {
        if (this.closed) return;
        const rows = (await this.link.request(STANDBY_SERVICE_PREFIX + this.storeName, { op: 'page', after, limit: PAGE } satisfies Request)) as Replicated[];
        if (this.closed) return;
        pulled += rows.length;
        applied += this.applyRemote(rows);
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1].key;
      }
      this.lastSync = Date.now();
      this.lastError = undefined;
      this.emit('synced', { pulled, applied });
    } catch (err) {
      this.lastError = `cross-copy: ${(err as Error).message}`;
      this.scheduleRetry();
    }
    this.emitStatus();
  }

  private flush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.flushing || this.closed) return;
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        for (;;) {
          if (this.closed) return;
          const state = this.link.status().state;
          if (state !== 'up') return;
          const batch = this.store.outbox(BATCH);
          if (batch.length === 0) break;
          await this.link.request(STANDBY_SERVICE_PREFIX + this.storeName, { op: 'apply', writes: batch.map(({ key, value, stamp }) => ({ key, value, stamp })) } satisfies Request);
          if (this.closed) return;
          this.store.confirm(batch.map((b) => b.seq));
          this.sent += batch.length;
          this.lastError = undefined;
        }
      } while (this.flushAgain);
    } catch (err) {
      this.lastError = `replication: ${(err as Error).message}`;
      this.scheduleRetry();
    } finally {
      this.flushing = false;
      if (!this.closed) this.emitStatus();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.sync();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private handle(req: Request): unknown {
    if (this.closed) throw new Error('the store is closing');
    if (req.op === 'apply') {
      this.applyRemote(req.writes);
      return { applied: req.writes.length };
    }
    if (req.op === 'page') return this.store.page(String(req.after ?? ''), Math.min(PAGE, Math.max(1, Number(req.limit) || PAGE)));
    throw new Error(`unknown standby write operation ${(req as { op: string }).op}`);
  }

  private applyRemote(rows: Replicated[]): number {
    const applied = this.store.apply(rows);
    if (applied.length) {
      this.received += applied.length;
      this.emit('remote', applied.map((w) => ({ key: w.key, value: w.value === null ? undefined : JSON.parse(w.value), stamp: w.stamp, deleted: w.value === null })));
    }
    return applied.length;
  }

  private emitStatus(): void {
    if (!this.closed) this.emit('status', this.status());
  }
}
