// The driver's polling: items grouped by poll period, each group read in cycles of merged
// requests (lib/modbus/planner.ts), changes reported once per cycle and only when a value or a
// status changed. A failed read marks only its items bad; a merged read refused with an address
// exception is split so the one bad item does not take its neighbours down; when no request of
// a cycle got an answer, the device is gone (onDeviceLost).
import type { Clock, TimerHandle } from '../core/clock';
import type { DataChange, ItemError, MonitoringState } from '../core/driver';
import { CodecError, type ModbusValue, decodeBits, decodeRegisters, sameValue } from './codec';
import { type PlanEntry, type ReadBlock, planReads, tableKey } from './planner';
import { PRIORITY, type Priority } from './queue';
import type { ModbusItem } from '../rules/modbus';
import { ModbusFailure } from './transport';

export interface PolledItem {
  id: string;
  spec: ModbusItem;
  /** Resolved unit id (the item's own or the endpoint's). */
  unit: number;
  intervalMs: number;
  state: MonitoringState;
  /** Last reported value and status; undefined = report the next reading whatever it is. */
  last?: { value: unknown; statusCode: string };
  /** Current item error (an exception for its address), reported through itemErrors. */
  error?: ItemError;
  /** Read alone: its address failed inside a merged read. */
  isolated: boolean;
}

export type BlockOutcome = { ok: true; data: number[] | boolean[]; at: number } | { ok: false; failure: ModbusFailure; at: number };

/** Runs inside the queued request, when its turn comes: a cycle skips the reads of a unit that did not answer. */
export interface ReadGuard {
  /** A failure to report instead of sending the request. */
  skip(): ModbusFailure | undefined;
  done(outcome: BlockOutcome): void;
}

export interface PollerHost {
  clock: Clock;
  limits: { maxRegisters: number; maxBits: number; maxGap: number };
  /** Sends one read through the connection's queue. */
  read(block: ReadBlock, priority: Priority, guard?: ReadGuard): Promise<BlockOutcome>;
  data(changes: DataChange[]): void;
  itemErrors(errors: ItemError[], recovered: string[]): void;
  /** No request of a whole cycle got an answer from the device, or none a useful one for deviceFailureMs. */
  deviceLost(reason: string): void;
  /**
   * How long (ms) every read may be refused with a device-level exception (ModbusFailure
   * deviceRefusal: 4 device failure, 5 acknowledge, 6 busy, 8 memory parity; see transport.ts)
   * before the device counts as lost: the request timeout (a device that answers "I cannot" is no
   * better than one that does not answer). Default: lost at the first such cycle.
   */
  deviceFailureMs?: number;
}

interface Group {
  intervalMs: number;
  timer?: TimerHandle;
  /** A cycle is about to start (kicked, not begun): further kicks join it. */
  starting: boolean;
  running: boolean;
  rerun: boolean;
  nextDue: number;
  /** Items in this group. */
  size: number;
  /** The merged reads of the group, kept until the item set or an isolation changes. */
  plan?: { version: number; blocks: ReadBlock[] };
}

/** Statistics for tests and the benchmark. */
export interface PollStats {
  cycles: number;
  overruns: number;
}

export class ModbusPoller {
  readonly items = new Map<string, PolledItem>();
  private groups = new Map<number, Group>();
  private unreadable = new Map<string, Array<[number, number]>>();
  private active = false;
  private generation = 0;
  /** Bumped by every change that alters a plan (items, states, isolations, unreadable ranges). */
  private version = 0;
  /** Since when every read was refused with a device-level exception (none succeeded). */
  private refusedSince?: number;
  readonly stats: PollStats = { cycles: 0, overruns: 0 };

  constructor(private readonly host: PollerHost) {}

  /** Starts polling every group now (after a connect). */
  start(): void {
    this.active = true;
    this.generation++;
    this.refusedSince = undefined;
    // A new connection may reach a device with a new program: try merged reads again.
    this.unreadable.clear();
    this.version++;
    for (const it of this.items.values()) {
      it.isolated = false;
      it.last = undefined;
    }
    for (const g of this.groups.values()) this.kick(g);
  }

  /** Stops polling (disconnect, link lost); items stay, their last values are forgotten. */
  stop(): void {
    this.active = false;
    this.generation++;
    for (const g of this.groups.values()) {
      this.host.clock.clearTimeout(g.timer);
      g.timer = undefined;
      g.running = false;
      g.starting = false;
      g.rerun = false;
    }
    for (const it of this.items.values()) it.last = undefined;
  }

  add(item: PolledItem): void {
    const old = this.items.get(item.id);
    if (old && old.intervalMs !== item.intervalMs) this.remove(item.id);
    const kept = this.items.get(item.id);
    this.items.set(item.id, kept ? { ...kept, spec: item.spec, unit: item.unit, state: item.state } : item);
    this.version++;
    let g = this.groups.get(item.intervalMs);
    if (!g) {
      g = { intervalMs: item.intervalMs, starting: false, running: false, rerun: false, nextDue: this.host.clock.now(), size: 0 };
      this.groups.set(item.intervalMs, g);
    }
    if (!kept) g.size++;
    if (item.state === 'reporting' && this.active) this.kick(g);
  }

  remove(id: string): void {
    const it = this.items.get(id);
    if (!it) return;
    this.items.delete(id);
    this.version++;
    const g = this.groups.get(it.intervalMs);
    if (g && --g.size <= 0) {
      this.host.clock.clearTimeout(g.timer);
      this.groups.delete(it.intervalMs);
    }
  }

  setState(state: MonitoringState): void {
    for (const it of this.items.values()) {
      if (it.state !== state && state !== 'reporting') it.last = undefined;
      it.state = state;
    }
    this.version++;
    if (state === 'reporting' && this.active) for (const g of this.groups.values()) this.kick(g);
  }

  /** A cycle of the group of this item soon (after a write, so the new value shows at once). */
  pollSoon(id: string): void {
    const it = this.items.get(id);
    const g = it && this.groups.get(it.intervalMs);
    if (g && this.active && it?.state === 'reporting') this.kick(g);
  }

  /**
   * Runs a cycle now, or right after the one running. "Now" is the next microtask, so that items
   * added in one batch are read in one cycle.
   */
  private kick(g: Group): void {
    if (g.starting) return;
    if (g.running) {
      g.rerun = true;
      return;
    }
    this.host.clock.clearTimeout(g.timer);
    g.timer = undefined;
    g.running = true;
    g.starting = true;
    g.nextDue = this.host.clock.now();
    const gen = this.generation;
    queueMicrotask(() => {
      g.starting = false;
      if (gen === this.generation) void this.cycle(g);
    });
  }

  private schedule(g: Group): void {
    if (!this.active || this.groups.get(g.intervalMs) !== g) return;
    if (g.rerun) {
      g.rerun = false;
      this.kick(g);
      return;
    }
    const now = this.host.clock.now();
    g.nextDue += g.intervalMs;
    if (g.nextDue <= now) {
      // The cycle took longer than the period: skip the missed ticks, keep the phase.
      this.stats.overruns++;
      g.nextDue += Math.ceil((now - g.nextDue + 1) / g.intervalMs) * g.intervalMs;
    }
    g.timer = this.host.clock.setTimeout(() => {
      g.timer = undefined;
      g.running = true;
      void this.cycle(g);
    }, g.nextDue - now);
  }

  private entriesOf(items: PolledItem[]): PlanEntry[] {
    return items.map((it) => ({ key: it.id, unit: it.unit, area: it.spec.area, address: it.spec.address, span: it.spec.span, isolated: it.isolated }));
  }

  private plan(g: Group, items: PolledItem[]): ReadBlock[] {
    if (g.plan?.version !== this.version) g.plan = { version: this.version, blocks: planReads(this.entriesOf(items), { ...this.host.limits, unreadable: this.unreadable }) };
    return g.plan.blocks;
  }

  /** One cycle of a group; the caller has set g.running. */
  private async cycle(g: Group): Promise<void> {
    const gen = this.generation;
    if (!this.active || this.groups.get(g.intervalMs) !== g) {
      g.running = false;
      return;
    }
    this.stats.cycles++;
    try {
      const items = [...this.items.values()].filter((it) => it.intervalMs === g.intervalMs && it.state === 'reporting');
      if (items.length > 0) await this.readItems(this.plan(g, items), gen);
    } catch {
      // readItems reports everything it can; nothing may escape a timer callback.
    } finally {
      if (gen === this.generation) {
        g.running = false;
        this.schedule(g);
      }
    }
  }

  /** One cycle over these items: read, decode, report changes and item errors. */
  private async readItems(blocks: ReadBlock[], gen: number): Promise<void> {
    const deadUnits = new Set<number>();
    let answered = 0;
    let succeeded = 0;
    let failedNoAnswer = 0;
    let lastFailure: ModbusFailure | undefined;
    let refusal: ModbusFailure | undefined;
    // After a unit left a request unanswered, its other reads of this cycle are not sent: a dead
    // device costs one timeout per cycle, not one per request.
    const outcomes = await Promise.all(
      blocks.map(async (b) => {
        const g: ReadGuard = {
          skip: () => (deadUnits.has(b.unit) ? new ModbusFailure('timeout', `skipped: unit ${b.unit} did not answer an earlier read of this cycle`) : undefined),
          done: (o) => {
            if (!o.ok && !o.failure.answered && o.failure.kind !== 'closed') deadUnits.add(b.unit);
          },
        };
        return { block: b, outcome: await this.host.read(b, PRIORITY.poll, g) };
      }),
    );
    if (gen !== this.generation) return;
    const changes: DataChange[] = [];
    const errors: ItemError[] = [];
    const recovered: string[] = [];
    for (const { block, outcome } of outcomes) {
      if (outcome.ok) {
        answered++;
        succeeded++;
        this.apply(block, outcome, changes, errors, recovered);
        continue;
      }
      const f = outcome.failure;
      if (f.deviceRefusal) refusal = f;
      if (f.answered) answered++;
      else {
        failedNoAnswer++;
        lastFailure = f;
      }
      if (f.itemProblem && block.members.length > 1) {
        await this.split(block, changes, errors, recovered, gen);
        if (gen !== this.generation) return;
      } else this.apply(block, outcome, changes, errors, recovered);
    }
    if (changes.length > 0) this.host.data(changes);
    if (errors.length > 0 || recovered.length > 0) this.host.itemErrors(errors, recovered);
    if (answered === 0 && failedNoAnswer > 0 && lastFailure?.kind === 'closed') this.host.deviceLost(`link closed (${lastFailure.message})`);
    else if (answered === 0 && failedNoAnswer > 0 && lastFailure) this.host.deviceLost(`no answer from the device to any of ${blocks.length} read${blocks.length === 1 ? '' : 's'} (${lastFailure.message})`);
    else this.judgeRefusals(succeeded, refusal);
  }

  /** Every read refused with a device-level exception for deviceFailureMs: the device is down. */
  private judgeRefusals(succeeded: number, refusal: ModbusFailure | undefined): void {
    if (succeeded > 0 || !refusal) {
      if (succeeded > 0) this.refusedSince = undefined;
      return;
    }
    const now = this.host.clock.now();
    this.refusedSince ??= now;
    const limit = this.host.deviceFailureMs ?? 0;
    if (now - this.refusedSince >= limit) {
      this.refusedSince = undefined;
      this.host.deviceLost(`every read refused for ${limit} ms or more: ${refusal.message}`);
    }
  }

  /**
   * A merged read refused with an address exception: each item is read alone, so only the bad
   * ones go bad; they are read alone from now on, and the gaps of the block are not bridged again.
   */
  private async split(block: ReadBlock, changes: DataChange[], errors: ItemError[], recovered: string[], gen: number): Promise<void> {
    const members = [...new Set(block.members.map((m) => m.key))].map((k) => this.items.get(k)).filter((x): x is PolledItem => x !== undefined);
    const singles = await Promise.all(
      members.map(async (it) => {
        const b: ReadBlock = { unit: block.unit, area: block.area, fc: block.fc, address: it.spec.address, count: it.spec.span, members: [{ key: it.id, offset: 0 }] };
        return { b, it, outcome: await this.host.read(b, PRIORITY.poll) };
      }),
    );
    if (gen !== this.generation) return;
    const key = tableKey(block.unit, block.area);
    const ranges = this.unreadable.get(key) ?? [];
    let allOk = true;
    for (const { b, it, outcome } of singles) {
      if (!outcome.ok && outcome.failure.itemProblem) {
        it.isolated = true;
        this.version++;
        allOk = false;
        ranges.push([it.spec.address, it.spec.address + it.spec.span]);
      }
      this.apply(b, outcome, changes, errors, recovered);
    }
    if (allOk) {
      // Every item reads alone: the unmapped addresses between them are what the device refused.
      const spans = members.map((m) => [m.spec.address, m.spec.address + m.spec.span] as [number, number]).sort((a, b) => a[0] - b[0]);
      let end = block.address;
      for (const [a, b] of spans) {
        if (a > end) ranges.push([end, a]);
        end = Math.max(end, b);
      }
      if (ranges.length === 0) ranges.push([block.address, block.address + block.count]);
    }
    this.unreadable.set(key, ranges);
    this.version++;
  }

  /** Decodes (or marks bad) the members of a block and records what changed. */
  private apply(block: ReadBlock, outcome: BlockOutcome, changes: DataChange[], errors: ItemError[], recovered: string[]): void {
    for (const m of block.members) {
      const it = this.items.get(m.key);
      if (!it || it.state !== 'reporting') continue;
      const change = decodeMember(block, it, m.offset, outcome);
      // Item errors: the device refused this item's address or function (not a link problem).
      if (!outcome.ok && outcome.failure.itemProblem) {
        const error: ItemError = { id: it.id, error: outcome.failure.message, statusCode: change.statusCode };
        if (!it.error || it.error.error !== error.error) errors.push(error);
        it.error = error;
      } else if (outcome.ok && it.error) {
        it.error = undefined;
        recovered.push(it.id);
      }
      if (it.last && it.last.statusCode === change.statusCode && sameValue(it.last.value, change.value)) continue;
      it.last = { value: change.value, statusCode: change.statusCode };
      changes.push(change);
    }
  }

  /** A one-shot read of items (not necessarily polled ones): every item's current value. */
  async readOnce(items: PolledItem[], priority: Priority): Promise<DataChange[]> {
    const blocks = planReads(this.entriesOf(items), { ...this.host.limits, unreadable: undefined });
    const byId = new Map(items.map((i) => [i.id, i]));
    const outcomes = await Promise.all(blocks.map(async (b) => ({ b, outcome: await this.host.read(b, priority) })));
    return outcomes.flatMap(({ b, outcome }) => b.members.map((m) => decodeMember(b, byId.get(m.key)!, m.offset, outcome)));
  }
}

/** The DataChange of one item of a read: its decoded value, or its bad status with the reason. */
function decodeMember(block: ReadBlock, it: PolledItem, offset: number, outcome: BlockOutcome): DataChange {
  let value: ModbusValue | null = null;
  let statusCode = 'Good';
  let detail: string | undefined;
  if (outcome.ok) {
    try {
      value = block.area === 'coil' || block.area === 'discrete' ? decodeBits(it.spec, outcome.data as boolean[], offset) : decodeRegisters(it.spec, outcome.data as number[], offset);
    } catch (err) {
      statusCode = err instanceof CodecError ? err.statusCode : 'BadDecodingError';
      detail = err instanceof Error ? err.message : String(err);
    }
  } else {
    statusCode = outcome.failure.statusCode;
    detail = outcome.failure.message;
  }
  if (typeof value === 'bigint' || (Array.isArray(value) && (it.spec.type === 'int64' || it.spec.type === 'uint64'))) value = jsonSafe(value);
  const good = statusCode === 'Good';
  return { item: it.id, value, statusCode, good, quality: good ? 'good' : 'bad', sourceTimestamp: outcome.at, ...(detail ? { detail } : {}) };
}

/**
 * 64-bit integers beyond ±2^53 as decimal strings: a BigInt is not JSON (Node-RED's debug sidebar,
 * context stores, MQTT and HTTP nodes would fail on it) and a Number would lose digits. Writes
 * take the same strings back (or numbers, or BigInts). Values within ±2^53 stay numbers.
 */
function jsonSafe(value: ModbusValue): ModbusValue {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'bigint' ? v.toString() : v)) as ModbusValue;
  return value;
}
