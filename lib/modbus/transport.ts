// One connection to a Modbus device on modbus-serial: Modbus TCP, RTU on a serial port, or true
// RTU over TCP (connectTelnet: RTU frames with CRC in a TCP stream; connectTcpRTUBuffered would
// be Modbus TCP framing). It runs one request at a time (the caller's queue sees to that), bounds
// every request in time, and turns every failure into a ModbusFailure the driver can classify:
// an exception answer (the device is alive), no answer, a garbled answer, or a closed link.
import ModbusRTU from 'modbus-serial';
import type { ModbusEndpoint } from '../rules/modbus';

export type FailureKind = 'exception' | 'timeout' | 'closed' | 'garbled';

/**
 * What a Modbus exception answer says, by what its code means in the Modbus Application Protocol
 * Specification V1.1b3 (§7, "MODBUS Exception Responses"). The one classification the poller, the
 * ping and writes go by (ModbusFailure's getters below):
 *
 * - `item`: 1 illegal function (the function is not supported, or not for this address), 2 illegal
 *   data address (the address, or address + count, is not valid), 3 illegal data value (a value in
 *   the request, e.g. the count, is not allowed). This request is wrong for this device: the item
 *   is refused (itemErrors; a merged read is split so only the bad item goes bad). The device is
 *   fine and answered: a sign of life.
 * - `failure`: 4 server device failure (an unrecoverable error while performing the request),
 *   8 memory parity error (its memory failed a consistency check). The device answers but reports
 *   a fault of its own: no data, and no sign of life (a ping answered so fails).
 * - `busy`: 5 acknowledge (request accepted, it needs a long time: no data now), 6 server device busy
 *   (processing a long program command: retry later). The device is alive but serves no data now:
 *   a sign of life, so one busy answer fails no ping. A code the specification does not define
 *   counts as busy (the device answered, with nothing usable).
 * - `path`: 10 gateway path unavailable, 11 gateway target device failed to respond. A Modbus
 *   gateway answered for the device behind it, which did not: no answer from the device (a channel
 *   failure, like a timeout).
 *
 * `failure` and `busy` are device-level refusals: when every read of the poller's cycles is refused
 * so for the request timeout, the device counts as lost (Citect: the device is offline).
 */
export type ExceptionClass = 'item' | 'failure' | 'busy' | 'path';

const EXCEPTIONS: Record<number, { text: string; statusCode: string; class: ExceptionClass }> = {
  1: { text: 'illegal function', statusCode: 'BadNotSupported', class: 'item' },
  2: { text: 'illegal data address', statusCode: 'BadOutOfRange', class: 'item' },
  3: { text: 'illegal data value', statusCode: 'BadOutOfRange', class: 'item' },
  4: { text: 'server device failure', statusCode: 'BadDeviceFailure', class: 'failure' },
  5: { text: 'acknowledge', statusCode: 'BadResourceUnavailable', class: 'busy' },
  6: { text: 'server device busy', statusCode: 'BadResourceUnavailable', class: 'busy' },
  8: { text: 'memory parity error', statusCode: 'BadDeviceFailure', class: 'failure' },
  10: { text: 'gateway path unavailable', statusCode: 'BadNoCommunication', class: 'path' },
  11: { text: 'gateway target device failed to respond', statusCode: 'BadNoCommunication', class: 'path' },
};

/** The class of an exception code (see EXCEPTIONS); an undefined code counts as busy. */
export function exceptionClass(code: number): ExceptionClass {
  return EXCEPTIONS[code]?.class ?? 'busy';
}

/** "Modbus exception 2 (illegal data address)". */
export function exceptionText(code: number): string {
  return `Modbus exception ${code} (${EXCEPTIONS[code]?.text ?? 'unknown exception'})`;
}

export class ModbusFailure extends Error {
  /** OPC UA status name for the items it affects. */
  readonly statusCode: string;
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** The exception code of an exception answer. */
    readonly code?: number,
  ) {
    super(message);
    this.name = 'ModbusFailure';
    this.statusCode =
      kind === 'exception' ? (EXCEPTIONS[code ?? 0]?.statusCode ?? 'BadUnexpectedError') : kind === 'timeout' ? 'BadTimeout' : kind === 'closed' ? 'BadNotConnected' : 'BadCommunicationError';
  }

  /** The class of an exception answer (see EXCEPTIONS); undefined for a failure without one. */
  get exceptionClass(): ExceptionClass | undefined {
    return this.kind === 'exception' ? exceptionClass(this.code ?? 0) : undefined;
  }

  /** The device itself answered (any exception but a gateway's 10/11 for a silent device). */
  get answered(): boolean {
    return this.exceptionClass !== undefined && this.exceptionClass !== 'path';
  }

  /** The request is wrong for this device (1, 2, 3): the item's configuration, not the link. */
  get itemProblem(): boolean {
    return this.exceptionClass === 'item';
  }

  /** The device answered and said nothing against its health (item and busy exceptions): it is alive. */
  get signOfLife(): boolean {
    return this.exceptionClass === 'item' || this.exceptionClass === 'busy';
  }

  /**
   * The device answered but serves no data (4, 5, 6, 8 and undefined codes): a device-level
   * refusal; every read refused so for the request timeout means the device is lost.
   */
  get deviceRefusal(): boolean {
    return this.exceptionClass === 'failure' || this.exceptionClass === 'busy';
  }
}

interface PortInternals {
  _buffer?: Buffer;
  _client?: { destroyed?: boolean; destroy?: () => void; isOpen?: boolean; close?: (cb?: (err?: Error | null) => void) => void };
}

export interface TransportOptions {
  /** Bound of one request, ms. */
  timeoutMs: number;
  /** Bound of opening the connection, ms. */
  connectTimeoutMs: number;
}

export class ModbusTransport {
  private client?: ModbusRTU;
  private closedByUs = false;
  private closeListener?: (reason: string) => void;
  /** Requests sent over this connection (for statistics and tests). */
  requests = 0;

  constructor(
    readonly endpoint: ModbusEndpoint,
    private readonly options: TransportOptions,
  ) {}

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  /** Called once when the link goes away by itself (not by close()). */
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  async open(): Promise<void> {
    const e = this.endpoint;
    const client = new ModbusRTU();
    this.client = client;
    this.closedByUs = false;
    let lastError = '';
    client.on('error', (err: unknown) => {
      lastError = err instanceof Error ? err.message : String((err as { message?: string })?.message ?? err);
    });
    const opening = (async () => {
      switch (e.transport) {
        case 'tcp':
          await client.connectTCP(e.host, { port: e.port });
          break;
        case 'rtu-tcp':
          await client.connectTelnet(e.host, { port: e.port });
          break;
        case 'rtu':
          await client.connectRTUBuffered(e.path, { baudRate: e.baudRate, parity: e.parity, dataBits: e.dataBits, stopBits: e.stopBits as 1 | 2 });
          break;
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no connection within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
    });
    try {
      await Promise.race([opening, expiry]);
    } catch (err) {
      opening.catch(() => undefined);
      this.client = undefined;
      await this.release(client);
      throw new Error(connectErrorText(err, e));
    } finally {
      clearTimeout(timer);
    }
    // Set after connecting: given before, modbus-serial would also make it the socket's idle timeout.
    client.setTimeout(this.options.timeoutMs);
    const closed = () => {
      if (this.client !== client) return;
      this.client = undefined;
      if (!this.closedByUs) this.closeListener?.(lastError ? `link closed (${lastError})` : 'link closed by the other side');
    };
    client.on('close', closed);
    // modbus-serial's TCP ports stay silent about a close that follows a socket error (a reset):
    // listen to the socket itself.
    const socket = (client as unknown as { _port?: { _client?: { on?: (ev: string, fn: (arg?: unknown) => void) => void } } })._port?._client;
    socket?.on?.('error', (err) => {
      lastError = err instanceof Error ? err.message : String(err);
    });
    socket?.on?.('close', closed);
  }

  /** Closes the link; bounded in time on a dead link; never rejects. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.closedByUs = true;
    if (client) await this.release(client);
  }

  private async release(client: ModbusRTU): Promise<void> {
    const internals = client as unknown as { _port?: PortInternals; _cancelPendingTransactions?: () => void };
    // modbus-serial's per-request timers of requests still pending: gone with the link.
    internals._cancelPendingTransactions?.();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      timer.unref?.();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        if (this.endpoint.transport === 'rtu') {
          // RTUBufferedPort has no destroy(): close the serial port itself (bounded above).
          const serial = internals._port?._client;
          if (serial?.isOpen && serial.close) serial.close(() => done());
          else done();
        } else {
          // destroy, not end: on a dead link a FIN would wait for an answer that never comes.
          client.destroy(() => undefined);
          done();
        }
      } catch {
        done();
      }
    });
  }

  private async call<T>(unit: number, what: string, run: (c: ModbusRTU) => Promise<T>): Promise<T> {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusFailure('closed', `${what}: not connected`);
    client.setID(unit);
    // RTU: request and answer strictly alternate, so bytes waiting now are a late answer to an
    // earlier request that timed out: drop them, or they would be taken for this answer.
    const port = (client as unknown as { _port?: PortInternals })._port;
    if (this.endpoint.transport !== 'tcp' && port && port._buffer && port._buffer.length > 0) port._buffer = Buffer.alloc(0);
    this.requests++;
    let timer: NodeJS.Timeout | undefined;
    // modbus-serial times the request out itself; this bound is the safety net if it never settles.
    const bound = this.options.timeoutMs + 500;
    const expiry = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ModbusFailure('timeout', `${what}: no answer within ${this.options.timeoutMs} ms`)), bound);
    });
    const p = run(client);
    try {
      return await Promise.race([p, expiry]);
    } catch (err) {
      p.catch(() => undefined);
      throw toFailure(err, what, this.options.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  readBits(unit: number, fc: 1 | 2, address: number, count: number): Promise<boolean[]> {
    const what = `FC${fc} unit ${unit} ${fc === 1 ? 'coils' : 'discrete inputs'} ${address}+${count}`;
    return this.call(unit, what, async (c) => {
      const r = fc === 1 ? await c.readCoils(address, count) : await c.readDiscreteInputs(address, count);
      if (!r || !Array.isArray(r.data) || r.data.length < count) throw new ModbusFailure('garbled', `${what}: the answer holds ${r?.data?.length ?? 0} bits`);
      return r.data;
    });
  }

  readRegisters(unit: number, fc: 3 | 4, address: number, count: number): Promise<number[]> {
    const what = `FC${fc} unit ${unit} ${fc === 3 ? 'holding' : 'input'} registers ${address}+${count}`;
    return this.call(unit, what, async (c) => {
      const r = fc === 3 ? await c.readHoldingRegisters(address, count) : await c.readInputRegisters(address, count);
      if (!r || !Array.isArray(r.data) || r.data.length !== count) throw new ModbusFailure('garbled', `${what}: the answer holds ${r?.data?.length ?? 0} registers`);
      return r.data;
    });
  }

  async writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    await this.call(unit, `FC5 unit ${unit} coil ${address}`, (c) => c.writeCoil(address, on));
  }

  async writeCoils(unit: number, address: number, bits: boolean[]): Promise<void> {
    await this.call(unit, `FC15 unit ${unit} coils ${address}+${bits.length}`, (c) => c.writeCoils(address, bits));
  }

  async writeRegister(unit: number, address: number, word: number): Promise<void> {
    await this.call(unit, `FC6 unit ${unit} register ${address}`, (c) => c.writeRegister(address, word));
  }

  async writeRegisters(unit: number, address: number, words: number[]): Promise<void> {
    await this.call(unit, `FC16 unit ${unit} registers ${address}+${words.length}`, (c) => c.writeRegisters(address, words));
  }

  async maskWrite(unit: number, address: number, and: number, or: number): Promise<void> {
    await this.call(unit, `FC22 unit ${unit} register ${address}`, (c) => c.maskWriteRegister(address, and, or));
  }
}

function toFailure(err: unknown, what: string, timeoutMs: number): ModbusFailure {
  if (err instanceof ModbusFailure) return err;
  const e = err as { message?: string; errno?: string; modbusCode?: number; code?: string } | undefined;
  if (e && typeof e.modbusCode === 'number') return new ModbusFailure('exception', `${what}: ${exceptionText(e.modbusCode)}`, e.modbusCode);
  if (e?.errno === 'ETIMEDOUT' || e?.message === 'Timed out') return new ModbusFailure('timeout', `${what}: no answer within ${timeoutMs} ms`);
  if (e?.errno === 'ECONNREFUSED' && /Port Not Open/i.test(e.message ?? '')) return new ModbusFailure('closed', `${what}: not connected`);
  if (/Port Not Open|not open|closed|EPIPE|ECONNRESET/i.test(e?.message ?? '')) return new ModbusFailure('closed', `${what}: ${e?.message}`);
  return new ModbusFailure('garbled', `${what}: ${e?.message ?? String(err)}`);
}

function connectErrorText(err: unknown, e: ModbusEndpoint): string {
  const msg = err instanceof Error ? err.message : String((err as { message?: string })?.message ?? err);
  const where = e.transport === 'rtu' ? `serial port ${e.path}` : `${e.host}:${e.port}`;
  if (/ECONNREFUSED/.test(msg)) return `${where} refused the connection (nothing listens there)`;
  if (/ENOENT|No such file/i.test(msg)) return `${where} does not exist`;
  if (/EACCES|Permission denied/i.test(msg)) return `${where}: permission denied (is the user in the dialout group?)`;
  if (/EBUSY|Resource temporarily unavailable|Cannot lock/i.test(msg)) return `${where} is in use by another program`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `host ${e.transport !== 'rtu' ? e.host : ''} not found`;
  return `${where}: ${msg}`;
}
