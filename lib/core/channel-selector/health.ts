// The health of one channel, judged only from the messages that arrive for it: freshness (no data
// for N ms), errors (msg.error) and quality, per item (the message's topic), and its master status.
// Time comes from the engine's clock; nothing here sets a timer: `nextDeadline` tells the engine when
// the judgement can change without a message.
import type { Quality } from '../driver';
import { formatDuration } from '../status-table';
import type { ChannelConfig } from './config';
import type { MasterReading } from './master';
import type { MessageQuality } from './quality';

/**
 * pending: nothing heard yet, still within the start-up grace; healthy: fresh, every item good;
 * degraded: fresh, some items bad or uncertain (or every item uncertain); down: no data for the
 * freshness time, nothing heard since start, or every item bad; disabled: switched off by a command.
 */
export type HealthClass = 'pending' | 'healthy' | 'degraded' | 'down' | 'disabled';

/**
 * A channel never heard from is waited for at least this long at start (its freshness when longer):
 * the nodes that feed it need to connect first (node-red-contrib-modbus waits 500 ms before its first
 * connect), and a standby must not become the active channel only because it answered first.
 */
export const MIN_GRACE_MS = 3000;

/**
 * Items (topics) remembered per channel. A source that invents topics (a timestamp in the topic)
 * must not grow memory without end: beyond this the longest-known item is forgotten.
 */
export const MAX_ITEMS = 10_000;

interface ItemState {
  quality: Quality;
  reason: string;
  at: number;
}

export interface HealthJudgement {
  cls: HealthClass;
  /** Why, for an operator: "no data for 3.0 s", "plcA/level: quality BadSensorFailure (1 of 3 items)". */
  reason: string;
}

export type MasterState = { master: boolean | undefined; reason: string; value?: string; at?: number };

export class ChannelHealth {
  /** The last message that was data (not an error), engine clock. */
  lastDataAt?: number;
  disabled = false;
  private items = new Map<string, ItemState>();
  private masterReading?: MasterReading & { at: number };
  private readonly graceMs: number;

  constructor(
    readonly config: ChannelConfig,
    private readonly startedAt: number,
  ) {
    this.graceMs = Math.max(config.staleMs, MIN_GRACE_MS);
  }

  /** One message (or one element of a batch) for item `key`. */
  observe(key: string, q: MessageQuality, now: number): void {
    if (!q.error) this.lastDataAt = now;
    const prev = this.items.get(key);
    if (prev && prev.quality === q.quality && prev.reason === q.reason) {
      prev.at = now;
      return;
    }
    if (!prev && this.items.size >= MAX_ITEMS) this.items.delete(this.items.keys().next().value as string);
    this.items.set(key, { quality: q.quality, reason: q.reason, at: now });
  }

  /** A sign of life that carries no item (a master-status message that is not data). */
  touch(now: number, error: boolean): void {
    if (!error) this.lastDataAt = now;
  }

  observeMaster(reading: MasterReading, now: number): void {
    this.masterReading = { ...reading, at: now };
  }

  /** The master status now: unknown when never read, too old, unreadable, or the channel is down. */
  master(now: number, down: boolean): MasterState {
    const r = this.masterReading;
    if (!this.config.master) return { master: undefined, reason: 'no master-status item' };
    if (!r) return { master: undefined, reason: 'master status not read yet' };
    if (down) return { master: undefined, reason: 'channel down', value: r.value, at: r.at };
    const age = now - r.at;
    if (age >= this.config.master.maxAgeMs) return { master: undefined, reason: `master status not updated for ${formatDuration(this.config.master.maxAgeMs)}`, value: r.value, at: r.at };
    if (r.master === undefined) return { master: undefined, reason: r.reason ?? 'master status unreadable', value: r.value, at: r.at };
    return { master: r.master, reason: r.master ? `master (${r.value})` : `not master (${r.value})`, value: r.value, at: r.at };
  }

  judge(now: number): HealthJudgement {
    if (this.disabled) return { cls: 'disabled', reason: 'disabled by a command' };
    const stale = this.config.staleMs;
    if (this.lastDataAt === undefined) {
      const lastError = this.worstItem();
      if (lastError && lastError.quality === 'bad') return { cls: 'down', reason: lastError.text };
      if (now - this.startedAt < this.graceMs) return { cls: 'pending', reason: 'no data yet' };
      return { cls: 'down', reason: `no data since start (waited ${formatDuration(this.graceMs)})` };
    }
    if (stale > 0 && now - this.lastDataAt >= stale) {
      const last = this.worstItem();
      const tail = last && last.quality === 'bad' ? ` (last: ${last.text})` : '';
      return { cls: 'down', reason: `no data for ${formatDuration(stale)}${tail}` };
    }
    let bad = 0;
    let uncertain = 0;
    for (const it of this.items.values()) {
      if (it.quality === 'bad') bad++;
      else if (it.quality === 'uncertain') uncertain++;
    }
    if (bad === 0 && uncertain === 0) return { cls: 'healthy', reason: '' };
    const n = this.items.size;
    const text = this.worstItem()?.text ?? '';
    if (bad === n) return { cls: 'down', reason: n > 1 ? `every item bad: ${text}` : text };
    return { cls: 'degraded', reason: n > 1 ? `${text} (${bad + uncertain} of ${n} items)` : text };
  }

  /** When `judge` can change with no message: the start-up grace, staleness, master expiry. */
  nextDeadline(now: number): number | undefined {
    let next: number | undefined;
    const consider = (t: number) => {
      if (t > now && (next === undefined || t < next)) next = t;
    };
    if (this.lastDataAt === undefined) consider(this.startedAt + this.graceMs);
    else if (this.config.staleMs > 0) consider(this.lastDataAt + this.config.staleMs);
    if (this.config.master && this.masterReading) consider(this.masterReading.at + this.config.master.maxAgeMs);
    return next;
  }

  /** Until when a channel never heard from is waited for at start. */
  pendingUntil(): number {
    return this.startedAt + this.graceMs;
  }

  /** Items and their quality, for the status output. */
  itemStates(): Array<{ item: string; quality: Quality; reason: string }> {
    return [...this.items].map(([item, s]) => ({ item, quality: s.quality, reason: s.reason }));
  }

  private worstItem(): { quality: Quality; text: string } | undefined {
    let found: { quality: Quality; text: string; at: number } | undefined;
    for (const [key, it] of this.items) {
      if (it.quality === 'good') continue;
      const better = !found || (it.quality === 'bad' && found.quality !== 'bad') || (it.quality === found.quality && it.at > found.at);
      if (better) found = { quality: it.quality, text: `${itemLabel(key)}: ${it.reason}`, at: it.at };
    }
    return found;
  }
}

function itemLabel(key: string): string {
  return key === '' ? '(no topic)' : key;
}
