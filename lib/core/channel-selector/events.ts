// The channel selector's events, in the words an operator reads in the diagnostics log: channel
// health changes (down, up with the outage, degraded, restored), master-status changes, and the
// selector's switches and writes (emitted by the engine through `emit`). `pair` is the selector's
// name, `server` / `from` / `to` are channel names.
import type { Clock } from '../clock';
import { formatDuration } from '../status-table';
import type { RedundancyEvent, RedundancyEventKind, Severity } from '../types';
import type { HealthClass, MasterState } from './health';

const SEVERITY: Partial<Record<RedundancyEventKind, Severity>> = {
  failover: 'error',
  promotion: 'warning',
  'manual-switch': 'warning',
  recovered: 'info',
  'all-down': 'error',
  'both-bad': 'error',
  'channel-down': 'warning',
  'channel-up': 'info',
  degraded: 'warning',
  restored: 'info',
  'switch-complete': 'info',
  'write-held': 'warning',
  'write-released': 'info',
  'write-rejected': 'error',
};

export class SelectorEvents {
  lastEvent: RedundancyEvent | null = null;
  private readonly downSince: Array<number | undefined>;
  private bothBadReported = false;

  constructor(
    private readonly selector: string,
    private readonly names: string[],
    private readonly clock: Clock,
    private readonly sink: (e: RedundancyEvent) => void,
  ) {
    this.downSince = names.map(() => undefined);
  }

  emit(kind: RedundancyEventKind, reason: string, extra: Partial<RedundancyEvent> = {}, severity?: Severity): void {
    const e: RedundancyEvent = { time: this.clock.now(), pair: this.selector, kind, severity: severity ?? SEVERITY[kind] ?? 'info', reason, ...extra };
    this.lastEvent = e;
    this.sink(e);
  }

  /** A channel's health class changed (or not: then nothing). */
  channel(i: number, was: HealthClass, now_: HealthClass, reason: string, now: number): void {
    if (was === now_) return;
    const name = this.names[i];
    const downish = (c: HealthClass) => c === 'down' || c === 'disabled';
    if (downish(now_) && !downish(was)) {
      this.downSince[i] = now;
      this.emit('channel-down', `${name}: ${reason}`, { server: name });
    } else if (!downish(now_) && downish(was) && now_ !== 'pending') {
      const outage = this.downSince[i] === undefined ? undefined : now - (this.downSince[i] as number);
      this.downSince[i] = undefined;
      this.emit('channel-up', `${name}: ${now_ === 'healthy' ? 'data again' : `data again, ${reason}`}${outage !== undefined ? ` after ${formatDuration(outage)} down` : ''}`, { server: name, durationMs: outage });
    } else if (now_ === 'degraded' && was === 'healthy') {
      this.emit('degraded', `${name}: ${reason}`, { server: name });
    } else if (now_ === 'healthy' && was === 'degraded') {
      this.emit('restored', `${name}: every item good again`, { server: name });
    }
  }

  /** A channel became the master, or stopped being confirmed as the master (a first "slave" says nothing). */
  master(i: number, was: MasterState, m: MasterState): void {
    if (was.master === m.master) return;
    const name = this.names[i];
    if (m.master === true) this.emit('master-changed', `${name} is the master (${m.value ?? ''})`, { server: name });
    else if (was.master === true) this.emit('master-changed', `${name} is no longer confirmed as the master: ${m.reason}`, { server: name }, 'warning');
  }

  /** Every usable channel is a slave (guard): staying, reported once until it changes. */
  bothBad(text: string | undefined, active: string | null): void {
    if (!text) {
      this.bothBadReported = false;
      return;
    }
    if (this.bothBadReported) return;
    this.bothBadReported = true;
    this.emit('both-bad', `no channel is confirmed as the master, ${text}`, { server: active ?? undefined });
  }

  resetBothBad(): void {
    this.bothBadReported = false;
  }
}
