// Modbus driver on modbus-serial: one device over one path (Modbus TCP, RTU on a serial port, RTU
// over TCP), driven by the engine. It polls (capabilities.delivery 'polling'), stamps values on
// arrival (the device gives no timestamps), keeps one request in flight, and never retries or
// switches by itself. Warm and hot map to monitoring states: 'disabled' items are not polled (the
// warm standby is connected and pinged only), 'reporting' items are polled and reported (the active
// channel; both channels in hot). There is no 'sampling' state.
import type { Clock } from '../core/clock';
import { realClock } from '../core/clock';
import {
  type ChannelDriver,
  type DataChange,
  type DriverCapabilities,
  type DriverContext,
  DriverError,
  type DriverFactory,
  type DriverListener,
  type ItemDescription,
  type ItemError,
  type ItemSpec,
  type ItemsResult,
  type MonitoringState,
  type PingResult,
} from '../core/driver';
import { CodecError, bitMasks, encodeBits, encodeRegisters, setRegisterBit, toBoolean } from '../modbus/codec';
import { type ReadBlock, READ_FC } from '../modbus/planner';
import { type BlockOutcome, ModbusPoller, type PolledItem, type ReadGuard } from '../modbus/poller';
import { PRIORITY, type Priority, RequestQueue } from '../modbus/queue';
import {
  type ModbusEndpoint,
  type ModbusItem,
  type ModbusOptions,
  MAX_WRITE_BITS,
  MAX_WRITE_REGISTERS,
  describeItemText,
  findOverlaps,
  formatEndpoint,
  isWritable,
  itemWarnings,
  parseEndpoint,
  parseItem,
  parseModbusOptions,
  validateEndpoint,
  validateItem,
} from '../rules/modbus';
import { ModbusFailure, ModbusTransport } from '../modbus/transport';
import { contribReadFields } from '../modbus/compat';

export const MODBUS_CAPABILITIES: DriverCapabilities = { delivery: 'polling', timestamps: 'arrival', serviceLevel: false, sampling: false, browse: false };

/** Shortest poll period granted, ms. */
export const MIN_POLL_MS = 10;
/** Poll period when an item asks for 0 (as fast as possible has no meaning for polling). */
export const DEFAULT_POLL_MS = 1000;
const PING_ITEM_DEFAULT = 'HR0';

export interface ModbusDriverConfig {
  endpoint: string;
  options: ModbusOptions;
  pingTimeoutMs: number;
  clock?: Clock;
}

const DATA_TYPES: Record<ModbusItem['type'], string> = {
  bool: 'Boolean',
  int16: 'Int16',
  uint16: 'UInt16',
  int32: 'Int32',
  uint32: 'UInt32',
  int64: 'Int64',
  uint64: 'UInt64',
  float32: 'Float',
  float64: 'Double',
  bcd16: 'UInt16',
  bcd32: 'UInt32',
  string: 'String',
};

export class ModbusDriver implements ChannelDriver {
  readonly endpoint: string;
  readonly capabilities = MODBUS_CAPABILITIES;
  private readonly target: ModbusEndpoint;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private listener?: DriverListener;
  private transport?: ModbusTransport;
  private queue: RequestQueue;
  private readonly poller: ModbusPoller;
  private readonly pingSpec: { item: ModbusItem; unit: number };
  private connected = false;
  /** Called whenever the device answers anything: a poll that answers is a sign of life for a waiting ping. */
  private answerWaiters = new Set<() => void>();
  /** Requests sent on every connection of this driver (tests count merging with it). */
  requestsSent = 0;

  constructor(private readonly config: ModbusDriverConfig) {
    const ep = parseEndpoint(config.endpoint);
    if (!ep.ok) throw new Error(ep.error);
    this.target = ep.value;
    this.endpoint = formatEndpoint(ep.value);
    this.clock = config.clock ?? realClock;
    this.timeoutMs = config.options.timeoutMs ?? config.pingTimeoutMs;
    this.queue = new RequestQueue(this.clock, config.options.requestDelayMs);
    const ping = parseItem(config.options.pingItem || PING_ITEM_DEFAULT);
    if (!ping.ok) throw new Error(`ping item: ${ping.error}`);
    this.pingSpec = { item: ping.value, unit: ping.value.unit ?? this.target.unit };
    this.poller = new ModbusPoller({
      clock: this.clock,
      limits: { maxRegisters: config.options.maxRegisters, maxBits: config.options.maxBits, maxGap: config.options.maxGap },
      read: (block, priority, guard) => this.readBlock(block, priority, guard),
      data: (changes) => this.listener?.data(changes),
      itemErrors: (errors, recovered) => this.listener?.itemErrors(errors, recovered),
      deviceLost: (reason) => this.onLinkLost(reason),
      deviceFailureMs: this.timeoutMs,
    });
  }

  /** No request in flight or waiting. */
  get idle(): boolean {
    return !this.queue.inFlight && this.queue.pending === 0;
  }

  /** Requests waiting for the connection (not the one in flight). */
  get queuedRequests(): number {
    return this.queue.pending;
  }

  /** Poll statistics (cycles, overruns). */
  get pollStats(): { cycles: number; overruns: number } {
    return { ...this.poller.stats };
  }

  attach(listener: DriverListener): void {
    this.listener = listener;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    const transport = new ModbusTransport(this.target, { timeoutMs: this.timeoutMs, connectTimeoutMs: Math.max(this.timeoutMs, 1000) });
    await transport.open();
    this.transport = transport;
    this.queue = new RequestQueue(this.clock, this.config.options.requestDelayMs);
    this.connected = true;
    transport.onClose((reason) => {
      if (this.transport === transport) this.onLinkLost(reason);
    });
    this.poller.start();
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    this.poller.stop();
    this.queue.clear('disconnected');
    const t = this.transport;
    this.transport = undefined;
    if (t) await t.close();
  }

  /** The link or the device is gone: report it once and release the connection. */
  private onLinkLost(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.poller.stop();
    this.queue.clear(`connection lost: ${reason}`);
    const t = this.transport;
    this.transport = undefined;
    void t?.close();
    this.listener?.lost(reason, false);
  }

  private async readBlock(block: ReadBlock, priority: Priority, guard?: ReadGuard): Promise<BlockOutcome> {
    const request = this.queue.enqueue(priority, async (): Promise<BlockOutcome> => {
      const skipped = guard?.skip();
      if (skipped) return { ok: false, failure: skipped, at: this.clock.now() };
      const outcome = await this.send(block);
      guard?.done(outcome);
      return outcome;
    });
    try {
      return await request.promise;
    } catch (err) {
      // Dropped from the queue (disconnect, link lost).
      return { ok: false, failure: new ModbusFailure('closed', err instanceof Error ? err.message : String(err)), at: this.clock.now() };
    }
  }

  private async send(block: ReadBlock): Promise<BlockOutcome> {
    const t = this.transport;
    if (!t || !this.connected) return { ok: false, failure: new ModbusFailure('closed', 'not connected'), at: this.clock.now() };
    this.requestsSent++;
    try {
      const data = block.fc === 1 || block.fc === 2 ? await t.readBits(block.unit, block.fc, block.address, block.count) : await t.readRegisters(block.unit, block.fc, block.address, block.count);
      this.answered();
      return { ok: true, data, at: this.clock.now() };
    } catch (err) {
      const failure = err instanceof ModbusFailure ? err : new ModbusFailure('garbled', err instanceof Error ? err.message : String(err));
      if (failure.signOfLife) this.answered();
      return { ok: false, failure, at: this.clock.now() };
    }
  }

  private answered(): void {
    for (const w of [...this.answerWaiters]) w();
  }

  /**
   * Reads the ping item at the head of the queue (it waits at most for the one request in
   * flight). Any answer from the device meanwhile, a poll's included, proves it alive first; an
   * exception answer is an answer too (ModbusFailure.signOfLife), except a gateway's 10/11 (the
   * device behind it is silent) and a device failure (4, 8: the device reports a fault).
   */
  ping(timeoutMs: number): Promise<PingResult> {
    if (!this.connected || !this.transport) return Promise.reject(new Error('not connected'));
    const { item, unit } = this.pingSpec;
    const block: ReadBlock = { unit, area: item.area, fc: READ_FC[item.area], address: item.address, count: item.span, members: [] };
    return new Promise<PingResult>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        this.answerWaiters.delete(waiter);
        this.clock.clearTimeout(timer);
        request.cancel('answered meanwhile');
        if (err) reject(err);
        else resolve({});
      };
      const waiter = () => finish();
      this.answerWaiters.add(waiter);
      const timer = this.clock.setTimeout(() => finish(new Error(`no answer from ${this.endpoint} within ${timeoutMs} ms`)), timeoutMs);
      let request = this.queue.enqueue(PRIORITY.ping, () => this.send(block));
      let garbled = 0;
      const onOutcome = (o: BlockOutcome) => {
        if (o.ok || o.failure.signOfLife) return finish();
        // A garbled answer (CRC error, noise on a serial line) is read once more while time remains.
        if (o.failure.kind === 'garbled' && ++garbled <= 2 && !settled) {
          request = this.queue.enqueue(PRIORITY.ping, () => this.send(block));
          request.promise.then(onOutcome, onReject);
          return;
        }
        finish(new Error(o.failure.message));
      };
      const onReject = (e: Error) => {
        if (!settled && !/answered meanwhile/.test(e.message)) finish(e);
      };
      request.promise.then(onOutcome, onReject);
    });
  }

  /** Parsed items by id: a flow reading 1 000 items 50 times a second parses each once. */
  private parsed = new Map<string, ReturnType<typeof parseItem>>();

  private parse(id: string): ReturnType<typeof parseItem> {
    let r = this.parsed.get(id);
    if (!r) {
      if (this.parsed.size >= 100_000) this.parsed.clear();
      r = parseItem(id);
      this.parsed.set(id, r);
    }
    return r;
  }

  private resolveItem(id: string): { item: ModbusItem; unit: number } | ItemError {
    const r = this.parse(id);
    if (!r.ok) return { id, error: r.error, statusCode: 'BadNodeIdInvalid' };
    const item = r.value;
    const unit = item.unit ?? this.target.unit;
    if (this.target.transport !== 'tcp' && unit > 247) return { id, error: `"${id}": unit ${unit} is out of range 1..247 on a serial line`, statusCode: 'BadNodeIdInvalid' };
    const bits = item.area === 'coil' || item.area === 'discrete';
    const max = bits ? this.config.options.maxBits : this.config.options.maxRegisters;
    if (item.span > max) {
      return { id, error: `"${id}" spans ${item.span} ${bits ? 'bits' : 'registers'}; this pair reads at most ${max} per request (modbus${bits ? 'MaxBits' : 'MaxRegisters'})`, statusCode: 'BadNodeIdInvalid' };
    }
    return { item, unit };
  }

  async addItems(items: ItemSpec[], state: MonitoringState): Promise<ItemsResult> {
    if (state === 'sampling') throw new DriverError('Modbus has no sampling state (capabilities.sampling is false): add items as reporting or disabled', 'BadMonitoringModeInvalid');
    const granted: ItemsResult['granted'] = [];
    const errors: ItemError[] = [];
    let shortest: number | undefined;
    for (const spec of items) {
      const r = this.resolveItem(spec.id);
      if ('error' in r) {
        errors.push(r);
        continue;
      }
      const intervalMs = Math.max(MIN_POLL_MS, spec.samplingIntervalMs > 0 ? Math.round(spec.samplingIntervalMs) : DEFAULT_POLL_MS);
      const polled: PolledItem = { id: spec.id, spec: r.item, unit: r.unit, intervalMs, state, isolated: false };
      this.poller.add(polled);
      granted.push({ id: spec.id, samplingIntervalMs: intervalMs, queueSize: 1 });
      shortest = shortest === undefined ? intervalMs : Math.min(shortest, intervalMs);
    }
    return { granted, errors, publishingIntervalMs: shortest };
  }

  async removeItems(ids: string[]): Promise<void> {
    for (const id of ids) this.poller.remove(id);
  }

  async setMonitoring(state: MonitoringState): Promise<void> {
    if (state === 'sampling') throw new DriverError('Modbus has no sampling state (capabilities.sampling is false)', 'BadMonitoringModeInvalid');
    this.poller.setState(state);
  }

  async read(items: string[]): Promise<DataChange[]> {
    if (!this.connected) throw new DriverError(`read: not connected to ${this.endpoint}`, 'BadNotConnected');
    const polled: PolledItem[] = [];
    const bad: DataChange[] = [];
    for (const id of items) {
      const r = this.resolveItem(id);
      if ('error' in r) bad.push({ item: id, value: null, statusCode: r.statusCode ?? 'BadNodeIdInvalid', good: false, quality: 'bad', detail: r.error, sourceTimestamp: this.clock.now() });
      else polled.push({ id, spec: r.item, unit: r.unit, intervalMs: 0, state: 'reporting', isolated: false });
    }
    const got = polled.length ? await this.poller.readOnce(polled, PRIORITY.command) : [];
    const byId = new Map([...got, ...bad].map((c) => [c.item, c]));
    return items.map((id) => byId.get(id)!);
  }

  async write(id: string, value: unknown): Promise<void> {
    const r = this.resolveItem(id);
    if ('error' in r) throw new DriverError(r.error, r.statusCode);
    const { item, unit } = r;
    if (!isWritable(item)) throw new DriverError(`write to ${id}: ${item.area === 'input' ? 'input registers' : 'discrete inputs'} are read-only`, 'BadNotWritable');
    if (!this.connected) throw new DriverError(`write to ${id}: not connected to ${this.endpoint}`, 'BadNotConnected');
    let run: (t: ModbusTransport) => Promise<void>;
    try {
      run = this.writePlan(id, item, unit, value);
    } catch (err) {
      if (err instanceof CodecError) throw new DriverError(err.message, err.statusCode);
      throw err;
    }
    const request = this.queue.enqueue(PRIORITY.command, async () => {
      const t = this.transport;
      if (!t || !this.connected) throw new ModbusFailure('closed', 'not connected');
      this.requestsSent++;
      await run(t);
    });
    try {
      await request.promise;
      this.answered();
    } catch (err) {
      if (err instanceof ModbusFailure) {
        if (err.signOfLife) this.answered();
        throw new DriverError(`write to ${id}: ${err.message}`, err.statusCode);
      }
      throw new DriverError(`write to ${id}: ${err instanceof Error ? err.message : String(err)}`, 'BadNotConnected');
    }
    this.poller.pollSoon(id);
  }

  /** The requests that write a value to an item, encoded now (so a bad value fails before anything is sent). */
  private writePlan(id: string, item: ModbusItem, unit: number, value: unknown): (t: ModbusTransport) => Promise<void> {
    const single = this.config.options.writeSingle;
    if (item.area === 'coil') {
      const bits = encodeBits(item, value, id);
      if (bits.length > MAX_WRITE_BITS) throw new CodecError(`write to ${id}: ${bits.length} coils exceed the ${MAX_WRITE_BITS} of one write`, 'BadOutOfRange');
      return bits.length === 1 && single && !item.array ? (t) => t.writeCoil(unit, item.address, bits[0]) : (t) => t.writeCoils(unit, item.address, bits);
    }
    if (item.bit !== undefined) {
      const on = toBoolean(value, `write to ${id}`);
      const bit = item.bit;
      if (this.config.options.bitWrite === 'mask') {
        const { and, or } = bitMasks(bit, on);
        return (t) => t.maskWrite(unit, item.address, and, or);
      }
      // Read-modify-write: not atomic against the device changing the register's other bits meanwhile.
      return async (t) => {
        const [word] = await t.readRegisters(unit, 3, item.address, 1);
        const next = setRegisterBit(word, bit, on);
        if (single) await t.writeRegister(unit, item.address, next);
        else await t.writeRegisters(unit, item.address, [next]);
      };
    }
    const words = encodeRegisters(item, value, id);
    if (words.length > MAX_WRITE_REGISTERS) throw new CodecError(`write to ${id}: ${words.length} registers exceed the ${MAX_WRITE_REGISTERS} of one write`, 'BadOutOfRange');
    return words.length === 1 && single ? (t) => t.writeRegister(unit, item.address, words[0]) : (t) => t.writeRegisters(unit, item.address, words);
  }

  async describe(items: string[]): Promise<ItemDescription[]> {
    return items.map((id) => {
      const r = this.resolveItem(id);
      if ('error' in r) return { id, dataType: 'Variant', valueRank: -1, readable: false, writable: false, error: r.error };
      const { item } = r;
      const dataType = item.scale ? 'Double' : DATA_TYPES[item.type];
      return {
        id,
        dataType,
        valueRank: item.array ? 1 : -1,
        ...(item.array ? { arrayDimensions: [item.count] } : {}),
        readable: true,
        writable: isWritable(item),
        displayName: id,
        description: describeItemText(item),
      };
    });
  }
}

export type { ModbusOptions };

export const modbusDriverFactory: DriverFactory<ModbusOptions> = {
  protocol: 'modbus',
  label: 'Modbus',
  capabilities: MODBUS_CAPABILITIES,
  validateEndpoint,
  validateItem,
  itemWarnings(ids: string[], endpoints: string[]): string[] {
    const first = parseEndpoint(endpoints[0] ?? '');
    const unit = first.ok ? first.value.unit : 1;
    return [...ids.flatMap((id) => itemWarnings(id)), ...findOverlaps(ids, unit).map((o) => o.message)];
  },
  compatOutput: {
    key: 'modbus-read',
    label: 'as node-red-contrib-modbus read',
    fields: contribReadFields,
  },
  parseOptions(props) {
    return parseModbusOptions(props);
  },
  create(endpoint: string, context: DriverContext & { options: ModbusOptions }): ChannelDriver {
    return new ModbusDriver({ endpoint, options: context.options, pingTimeoutMs: context.pingTimeoutMs, clock: context.clock });
  },
};
