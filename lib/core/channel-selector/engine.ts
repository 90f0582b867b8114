// The channel selector (Citect: one IO device reachable over N channels in order of preference),
// fed by messages from any node. Everything the node decides is here, on the engine's clock: which
// channel a message belongs to, each channel's health, which channel is active, where a write goes
// and whether the guard lets it go. The Node-RED node only moves messages in and out.
import type { Clock, TimerHandle } from '../clock';
import type { RedundancyEvent, RedundancyEventKind } from '../types';
import type { ChannelConfig, SelectorConfig } from './config';
import { ChannelHealth, type HealthClass, type MasterState } from './health';
import { MasterRule } from './master';
import { SelectorEvents } from './events';
import { batchEntries, messageQuality } from './quality';
import { type Rule, compileRule } from './rules';
import { type ChannelView, type Decision, type HealthClass as HealthClass3, type SelectState, selectChannel } from './select';
import { type WriteCheck, WriteQueue, type WriteTarget } from './writes';

export type Msg = Record<string, unknown>;

export interface SelectorSink {
  /** Data of the active channel: the selector's first output. */
  data(msg: Msg, channel: ChannelConfig): void;
  /** A write, out of this channel's own output. */
  write(msg: Msg, channel: ChannelConfig): void;
  event(e: RedundancyEvent): void;
  /** Called when something an operator sees changed (active channel, health, master, held writes). */
  status(s: SelectorStatus): void;
}

export interface ChannelStatus {
  name: string;
  index: number;
  state: HealthClass;
  /** '' when healthy. */
  reason: string;
  /** Guard: true master, false not master, null unknown; absent when no master-status item. */
  master?: boolean | null;
  masterReason?: string;
  /** ms since the last data, null when none yet. */
  lastDataAgeMs: number | null;
}

export interface SelectorStatus {
  selector: string;
  active: string | null;
  activeIndex: number | null;
  /** 'auto', or the pinned channel's name. */
  control: string;
  /** Nothing was active yet (start-up). */
  starting: boolean;
  guard: boolean;
  returnMode: 'return' | 'stay';
  channels: ChannelStatus[];
  heldWrites: number;
  failovers: number;
  switches: number;
  lastSwitchReason: string | null;
  lastEvent: RedundancyEvent | null;
}

export type InputResult =
  | { kind: 'data'; channel: string; forwarded: boolean }
  | { kind: 'master'; channel: string }
  | { kind: 'write'; sent: Promise<WriteTarget>; held: boolean }
  | { kind: 'control'; text: string }
  | { kind: 'status'; status: SelectorStatus }
  | { kind: 'unmatched'; key: string; reason: string };

export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControlError';
  }
}


export class ChannelSelectorEngine {
  private readonly health: ChannelHealth[];
  private readonly dataRules: Rule[];
  private readonly masterRules: Array<MasterRule | undefined>;
  private readonly writeRule: Rule;
  private readonly writes: WriteQueue<Msg>;

  private active: number | null = null;
  private pinned: number | null = null;
  private everActive = false;
  private lastActive: number | null = null;
  /** Nothing is active because a pinned channel cannot serve (not because every channel is down). */
  private releasedByPin = false;
  private lastSwitchAt?: number;
  private pendingSwitch?: { kind: RedundancyEventKind; from: number | null; to: number; at: number };
  private cls: HealthClass[];
  private reasons: string[];
  private classes: HealthClass3[];
  private since: number[];
  private masters: MasterState[];
  private allDownReported = false;
  private heldReported = false;
  private failovers = 0;
  private switches = 0;
  private lastSwitchReason: string | null = null;
  private readonly events: SelectorEvents;
  private timer?: TimerHandle;
  private timerAt?: number;
  private statusKey = '';
  private stopped = false;

  constructor(
    readonly name: string,
    readonly config: SelectorConfig,
    private readonly clock: Clock,
    private readonly sink: SelectorSink,
  ) {
    const now = clock.now();
    this.health = config.channels.map((c) => new ChannelHealth(c, now));
    this.dataRules = config.channels.map((c) => compileRule(c.rule, c.name, c.index));
    this.masterRules = config.channels.map((c) => (c.master ? new MasterRule(c.master) : undefined));
    this.writeRule = compileRule(config.write);
    this.writes = new WriteQueue<Msg>({ holdMs: config.holdWritesMs, maxHeld: config.maxHeldWrites });
    this.cls = config.channels.map(() => 'pending');
    this.reasons = config.channels.map(() => 'no data yet');
    this.classes = config.channels.map(() => 0);
    this.since = config.channels.map(() => now);
    this.events = new SelectorEvents(name, config.channels.map((c) => c.name), clock, (e) => sink.event(e));
    this.masters = config.channels.map(() => ({ master: undefined, reason: 'master status not read yet' }));
  }

  /** Starts judging (the start-up grace runs from construction). */
  start(): void {
    this.evaluate();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.writes.clear('the channel selector was stopped (redeploy or shutdown)');
  }

  /** One incoming message: a write, a command, data or master status of a channel, or nothing known. */
  input(msg: Msg): InputResult {
    if (msg.topic === 'control') return { kind: 'control', text: this.control(msg.payload) };
    if (msg.topic === 'status') return { kind: 'status', status: this.status() };
    if (this.writeRule.match(msg)) return this.write(msg);
    return this.observe(msg);
  }

  /** Data or master status for a channel. */
  observe(msg: Msg): InputResult {
    const now = this.clock.now();
    let dataChannel = -1;
    let rest: string | undefined;
    for (let i = 0; i < this.dataRules.length; i++) {
      const m = this.dataRules[i].match(msg);
      if (m) {
        dataChannel = i;
        rest = m.rest;
        break;
      }
    }
    let masterChannel = -1;
    for (let i = 0; i < this.masterRules.length; i++) {
      if (this.masterRules[i]?.rule.match(msg)) {
        masterChannel = i;
        break;
      }
    }
    if (dataChannel < 0 && masterChannel < 0) {
      const key = typeof msg.topic === 'string' ? msg.topic : '';
      return { kind: 'unmatched', key, reason: `the message matches no channel (topic ${key ? `"${key}"` : 'none'}${msg.channel !== undefined ? `, msg.channel ${JSON.stringify(msg.channel)}` : ''}); channels: ${this.config.channels.map((c, i) => `${c.name} (${this.dataRules[i].text})`).join(', ')}` };
    }
    const q = messageQuality(msg);
    if (dataChannel >= 0) {
      const h = this.health[dataChannel];
      const batch = q.error ? undefined : batchEntries(msg);
      if (batch) for (const e of batch) h.observe(e.key, e.quality, now);
      else h.observe(typeof msg.topic === 'string' ? msg.topic : '', q, now);
    }
    if (masterChannel >= 0) {
      const h = this.health[masterChannel];
      if (masterChannel !== dataChannel) h.touch(now, q.error);
      const rule = this.masterRules[masterChannel] as MasterRule;
      h.observeMaster(q.quality === 'bad' ? { reason: `master status unreadable: ${q.reason}` } : rule.read(msg), now);
    }
    // A message that changes no judgement cannot change a decision: the common case costs a judgement only.
    this.evaluate(false);
    if (dataChannel < 0) return { kind: 'master', channel: this.config.channels[masterChannel].name };
    const channel = this.config.channels[dataChannel];
    if (q.error || this.active !== dataChannel) return { kind: 'data', channel: channel.name, forwarded: false };
    if (this.config.topicOut === 'item' && rest) msg.topic = rest;
    msg.channel = channel.name;
    this.completeSwitch(dataChannel, now);
    this.sink.data(msg, channel);
    return { kind: 'data', channel: channel.name, forwarded: true };
  }

  /** A write: out of the active channel's output now, held, or rejected (the promise says which). */
  write(msg: Msg): InputResult {
    const now = this.clock.now();
    const check = this.writeCheck();
    const { promise, held } = this.writes.submit(msg, check, now, this.sendWrite);
    if (held) {
      if (!this.heldReported) {
        this.heldReported = true;
        this.events.emit('write-held', check.ok ? 'earlier writes are still held' : check.reason, { server: this.activeName() ?? undefined });
      }
      this.schedule();
      this.emitStatus();
    } else if (!check.ok) {
      promise.catch((err: Error) => this.events.emit('write-rejected', err.message, { server: this.activeName() ?? undefined }));
    }
    return { kind: 'write', sent: promise, held };
  }

  /**
   * Manual control (Citect's IODeviceControl): 'auto'; a channel name or index pins it; {pin},
   * {disable}, {enable} with a name or index. Returns what was done; throws ControlError.
   */
  control(payload: unknown): string {
    if (typeof payload === 'string' && payload.trim().toLowerCase() === 'auto') {
      const was = this.pinned;
      this.pinned = null;
      this.evaluate();
      return was === null ? 'automatic (was already)' : `automatic (was pinned to ${this.config.channels[was].name})`;
    }
    if (typeof payload === 'string' || typeof payload === 'number') return this.pin(this.channelIndex(payload));
    if (payload && typeof payload === 'object') {
      const p = payload as Record<string, unknown>;
      if ('pin' in p) return this.pin(this.channelIndex(p.pin));
      if ('disable' in p || 'enable' in p) {
        const disable = 'disable' in p;
        const i = this.channelIndex(disable ? p.disable : p.enable);
        if (disable && this.pinned === i) throw new ControlError(`channel ${this.config.channels[i].name} is pinned: send "auto" before disabling it`);
        this.health[i].disabled = disable;
        this.evaluate();
        return `${disable ? 'disabled' : 'enabled'} channel ${this.config.channels[i].name}`;
      }
    }
    throw new ControlError(`unknown control ${JSON.stringify(payload)}: send "auto", a channel name or index to pin it, or {"disable": name} / {"enable": name}`);
  }

  status(): SelectorStatus {
    const now = this.clock.now();
    return {
      selector: this.name,
      active: this.activeName(),
      activeIndex: this.active,
      control: this.pinned === null ? 'auto' : this.config.channels[this.pinned].name,
      starting: !this.everActive,
      guard: this.config.guard,
      returnMode: this.config.returnMode,
      channels: this.config.channels.map((c, i) => {
        const s: ChannelStatus = { name: c.name, index: i, state: this.cls[i], reason: this.reasons[i], lastDataAgeMs: this.health[i].lastDataAt === undefined ? null : now - this.health[i].lastDataAt };
        if (c.master) {
          s.master = this.masters[i].master ?? null;
          s.masterReason = this.masters[i].reason;
        }
        return s;
      }),
      heldWrites: this.writes.size,
      failovers: this.failovers,
      switches: this.switches,
      lastSwitchReason: this.lastSwitchReason,
      lastEvent: this.events.lastEvent,
    };
  }

  getActive(): string | null {
    return this.activeName();
  }

  // ---- internals ----

  private activeName(): string | null {
    return this.active === null ? null : this.config.channels[this.active].name;
  }

  private channelIndex(v: unknown): number {
    const names = this.config.channels.map((c) => c.name);
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return v;
    if (typeof v === 'string') {
      const i = names.indexOf(v.trim());
      if (i >= 0) return i;
      if (/^\d+$/.test(v.trim()) && Number(v) < names.length) return Number(v);
    }
    throw new ControlError(`unknown channel ${JSON.stringify(v)} (channels: ${names.map((n, i) => `${i} ${n}`).join(', ')})`);
  }

  private pin(i: number): string {
    if (this.health[i].disabled) throw new ControlError(`channel ${this.config.channels[i].name} is disabled: send {"enable": "${this.config.channels[i].name}"} first`);
    this.pinned = i;
    this.evaluate();
    return `pinned to ${this.config.channels[i].name}`;
  }

  private readonly sendWrite = (msg: Msg, target: WriteTarget): void => {
    msg.channel = target.name;
    this.sink.write(msg, this.config.channels[target.index]);
  };

  private writeCheck(): WriteCheck {
    if (this.active === null) {
      if (this.pinned !== null) return { ok: false, reason: `channel ${this.config.channels[this.pinned].name} (pinned) is ${this.cls[this.pinned]}: ${this.reasons[this.pinned]}` };
      const why = this.everActive ? 'every channel is down' : 'no channel has reported yet (start-up)';
      return { ok: false, reason: `no channel is active: ${why}` };
    }
    const i = this.active;
    const name = this.config.channels[i].name;
    const pinned = this.pinned === i ? ', pinned' : '';
    if (this.cls[i] === 'down' || this.cls[i] === 'pending' || this.cls[i] === 'disabled') return { ok: false, reason: `channel ${name} (active${pinned}) is ${this.cls[i]}: ${this.reasons[i]}` };
    if (this.config.guard && this.masters[i].master !== true) return { ok: false, reason: `channel ${name} (active${pinned}) is not confirmed as the master: ${this.masters[i].reason}` };
    return { ok: true, target: { index: i, name } };
  }

  private views(): ChannelView[] {
    return this.config.channels.map((c, i) => ({
      index: i,
      name: c.name,
      cls: this.classes[i],
      reason: this.reasons[i],
      pending: this.cls[i] === 'pending',
      pendingUntil: this.cls[i] === 'pending' ? this.health[i].pendingUntil() : undefined,
      disabled: this.cls[i] === 'disabled',
      since: this.since[i],
    }));
  }

  /**
   * Re-judges every channel, decides the active one, moves held writes; then schedules the next look.
   * Unless forced (a timer, a command, a write), nothing more is done when no judgement changed.
   */
  private evaluate(force = true): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const changed = this.judgeChannels(now);
    if (!changed && !force) return;
    const selection = selectChannel(this.views(), this.selectState(), { returnMode: this.config.returnMode, holdOffMs: this.config.holdOffMs, minSwitchMs: this.config.minSwitchMs }, now);
    if (selection.decision) this.apply(selection.decision, now);
    this.events.bothBad(selection.bothBad, this.activeName());
    this.moveWrites(now);
    this.schedule(selection.wakeAt);
    this.emitStatus();
  }

  private selectState(): SelectState {
    return { active: this.active, lastActive: this.lastActive, pinned: this.pinned, lastSwitchAt: this.lastSwitchAt };
  }

  /** Judges every channel; true when a class, reason or master status changed. */
  private judgeChannels(now: number): boolean {
    let changed = false;
    this.config.channels.forEach((c, i) => {
      const h = this.health[i];
      const j = h.judge(now);
      const m = h.master(now, j.cls === 'down' || j.cls === 'pending' || j.cls === 'disabled');
      // The pair's classes: 3 healthy, 2 degraded, 1 a condition holds (here: not the master), 0 unusable.
      let cls: HealthClass3 = j.cls === 'healthy' ? 3 : j.cls === 'degraded' ? 2 : 0;
      let reason = j.reason;
      if (this.config.guard && cls > 0 && m.master !== true) {
        cls = 1;
        reason = reason ? `${reason}; ${m.reason}` : m.reason;
      }
      this.events.channel(i, this.cls[i], j.cls, j.reason, now);
      if (c.master) this.events.master(i, this.masters[i], m);
      if (cls !== this.classes[i]) this.since[i] = now;
      if (cls !== this.classes[i] || j.cls !== this.cls[i] || reason !== this.reasons[i] || m.master !== this.masters[i].master || m.reason !== this.masters[i].reason) changed = true;
      this.cls[i] = j.cls;
      this.reasons[i] = reason;
      this.classes[i] = cls;
      this.masters[i] = m;
    });
    return changed;
  }

  private apply(d: Decision, now: number): void {
    const from = this.active;
    const fromName = from === null ? null : this.config.channels[from].name;
    if (d.kind === 'all-down') {
      this.active = null;
      if (!this.allDownReported) {
        this.allDownReported = true;
        this.events.emit('all-down', `every channel is down: ${d.reason}`, { from: fromName, to: null });
      }
      return;
    }
    if (d.kind === 'release') {
      // Pinned to a channel that cannot serve: nothing is active until it can (forced means forced).
      this.active = null;
      this.releasedByPin = true;
      this.lastSwitchAt = now;
      this.events.emit('manual-switch', d.reason, { from: fromName, to: null });
      return;
    }
    const to = d.to as number;
    const toName = this.config.channels[to].name;
    let kind: 'activate' | 'failover' | 'promotion' | 'manual-switch' | 'recovered' = d.kind;
    let why = d.reason;
    if (this.releasedByPin && kind === 'recovered') {
      // Back to automatic after a pinned channel could not serve: a manual switch, not a recovery.
      kind = 'manual-switch';
      why = `automatic: ${toName}`;
    }
    this.releasedByPin = false;
    this.active = to;
    this.lastActive = to;
    this.events.resetBothBad();
    this.everActive = true;
    this.allDownReported = false;
    if (kind === 'activate') return;
    this.lastSwitchAt = now;
    this.switches++;
    if (kind === 'failover') this.failovers++;
    this.lastSwitchReason = why;
    this.pendingSwitch = { kind, from, to, at: now };
    const detectMs = kind === 'failover' && from !== null && this.health[from].lastDataAt !== undefined ? now - (this.health[from].lastDataAt as number) : undefined;
    const reason = kind === 'manual-switch' ? `${why} (control message)` : why;
    this.events.emit(kind, reason, { from: fromName, to: toName, detectMs });
  }

  private completeSwitch(channel: number, now: number): void {
    const p = this.pendingSwitch;
    if (!p || p.to !== channel) return;
    this.pendingSwitch = undefined;
    const ms = now - p.at;
    const fromName = p.from === null ? null : this.config.channels[p.from].name;
    this.events.emit('switch-complete', `${p.kind} to ${this.config.channels[channel].name} complete: first data after ${ms} ms`, { from: fromName, to: this.config.channels[channel].name, durationMs: ms });
  }

  private moveWrites(now: number): void {
    if (this.writes.size === 0) return;
    const check = this.writeCheck();
    const sent = this.writes.flush(check, this.sendWrite);
    if (sent > 0 && check.ok) {
      this.heldReported = false;
      this.events.emit('write-released', `${sent} held write(s) sent on ${check.target.name}${this.config.guard ? ' (the master)' : ''}`, { server: check.target.name });
      return;
    }
    if (!check.ok) {
      const expired = this.writes.expire(now, check.reason);
      if (expired > 0) {
        this.events.emit('write-rejected', `${expired} held write(s) rejected after ${this.config.holdWritesMs} ms: ${check.reason}`, { server: this.activeName() ?? undefined });
        if (this.writes.size === 0) this.heldReported = false;
      }
    }
  }

  private schedule(wakeAt?: number): void {
    const now = this.clock.now();
    let next = wakeAt;
    const consider = (t: number | undefined) => {
      if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
    };
    for (const h of this.health) consider(h.nextDeadline(now));
    consider(this.writes.nextDeadline());
    if (next === undefined) return;
    if (this.timer && this.timerAt !== undefined && this.timerAt <= next) return;
    this.clock.clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.evaluate();
    }, Math.max(0, next - now));
  }

  private emitStatus(): void {
    const key = `${this.active}|${this.pinned}|${this.cls.join(',')}|${this.reasons.join(',')}|${this.masters.map((m) => m.master).join(',')}|${this.writes.size}`;
    if (key === this.statusKey) return;
    this.statusKey = key;
    this.sink.status(this.status());
  }
}
