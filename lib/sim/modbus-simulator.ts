// The Modbus device simulator: a PLC's memory served on modbus-serial's ServerTCP (Modbus TCP),
// and the same memory over RTU over TCP and RTU on a serial path (lib/sim/modbus-rtu-bridge.ts).
// Values derive from the clock (ticks since a shared epoch), so two simulated PLCs, or two paths
// to one, show the same counter. A master-status register stands for the master/slave state of a
// redundant PLC pair. Faults for tests and examples: stop, stall (answers nothing), exception
// answers, a slow device, a dropped TCP / RTU-over-TCP / serial side, frozen values.
import { type Server as NetServer, type Socket, createServer } from 'node:net';
import { ServerTCP } from 'modbus-serial';
import { SerialPort } from 'serialport';
import { RtuBridgeLink } from './modbus-rtu-bridge';

export type SimSide = 'tcp' | 'rtu-tcp' | 'serial';
export type SimArea = 'coil' | 'discrete' | 'input' | 'holding';

export interface ModbusSimulatorOptions {
  /** Modbus TCP port (the device always has this side; it can be dropped). */
  port: number;
  host?: string;
  /** RTU over TCP port; none when undefined. */
  rtuTcpPort?: number;
  /** Serial side: a serial device or one end of a pty pair (socat); none when undefined. */
  serialPath?: string;
  baudRate?: number;
  /** Unit ids answered (default [1]); a request to another unit gets no answer, as on a serial line. */
  unitIds?: number[];
  /** Period of the counter, sine and random walk (ms). */
  counterPeriodMs?: number;
  /** Shared epoch: simulators with equal settings show equal values. */
  epochMs?: number;
  /** Initial master status (HR10 = 1, DI16 = true). */
  master?: boolean;
  /** Registers from HR1000 / IR1000 for load tests and the benchmark. */
  bulkRegisters?: number;
  name?: string;
}

/** The register map (0-based protocol addresses); docs/modbus.md and the node's help show it. */
export const SIM_MAP = {
  counter32: 0, // HR/IR 0-1 uint32 ABCD
  counter16: 2, // HR/IR 2 uint16
  sineInt16: 3, // HR/IR 3 int16, sine × 10000
  sineFloat: 4, // HR/IR 4-5 float32 ABCD
  sineFloatSwapped: 6, // HR/IR 6-7 float32 CDAB
  randomWalk: 8, // HR/IR 8 uint16, × 100
  statusWord: 9, // HR/IR 9: bit 0 running, bit 1 master, bit 2 counter odd
  master: 10, // HR 10: 1 master, 0 slave (writable by the simulator's control only)
  writableFrom: 20, // HR 20..59 writable (HR20 is the setpoint)
  writableTo: 59,
  name: 60, // HR 60..69 name, string of 20 characters
  bulk: 1000, // HR/IR 1000.. bulk registers
  coilsWritable: 16, // coils 0..15 writable, coil 16 toggles with the counter
  discreteMaster: 16, // DI 0..15 the counter's bits, DI 16 master
} as const;

/** Entries kept in the request and write logs (a long-running example must not grow them for ever). */
export const SIM_LOG_LIMIT = 50_000;

function capped<T>(log: T[]): void {
  if (log.length > SIM_LOG_LIMIT) log.splice(0, log.length - SIM_LOG_LIMIT / 2);
}

export interface SimRequest {
  side: SimSide;
  unit: number;
  fc: number;
  address: number;
  count: number;
}

export interface SimWrite {
  unit: number;
  area: 'coil' | 'holding';
  address: number;
  values: number[];
  time: number;
}

export interface ExceptionRule {
  code: number;
  area?: SimArea;
  /** Address range [from, to] (inclusive); every address when absent. */
  from?: number;
  to?: number;
}

/**
 * The RTU sides reach the Modbus TCP server from loopback addresses of their own, so the server
 * knows the side of each connection from its first byte (request log, dropping one side).
 */
const RTU_TCP_BRIDGE_ADDRESS = '127.0.0.2';
const SERIAL_BRIDGE_ADDRESS = '127.0.0.3';
const BRIDGE_ADDRESS_SIDE: Record<string, SimSide> = { [RTU_TCP_BRIDGE_ADDRESS]: 'rtu-tcp', [SERIAL_BRIDGE_ADDRESS]: 'serial' };

type Cb<T> = (err: { modbusErrorCode: number; message?: string } | null, value?: T) => void;

function hash01(n: number): number {
  let x = (n | 0) ^ 0x9e3779b9;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

export class ModbusSimulator {
  /** Requests received on every side, in order (the last SIM_LOG_LIMIT). */
  readonly requests: SimRequest[] = [];
  /** Writes the device accepted (the last SIM_LOG_LIMIT). */
  readonly writes: SimWrite[] = [];
  private readonly opts: Required<Omit<ModbusSimulatorOptions, 'rtuTcpPort' | 'serialPath'>> & Pick<ModbusSimulatorOptions, 'rtuTcpPort' | 'serialPath'>;
  private server?: ServerTCP;
  private rtuServer?: NetServer;
  private serial?: SerialPort;
  private links = new Set<RtuBridgeLink>();
  private tcpSockets = new Set<Socket>();
  private rtuSockets = new Set<Socket>();
  private holding = new Uint16Array(65536);
  private coils = new Uint8Array(65536);
  private master: boolean;
  private stalled = false;
  private frozenTick?: number;
  private exception?: ExceptionRule;
  private responseDelayMs = 0;
  private sidesDown = new Set<SimSide>();
  private running = false;

  constructor(options: ModbusSimulatorOptions) {
    this.opts = {
      port: options.port,
      host: options.host ?? '127.0.0.1',
      rtuTcpPort: options.rtuTcpPort,
      serialPath: options.serialPath,
      baudRate: options.baudRate ?? 9600,
      unitIds: options.unitIds ?? [1],
      counterPeriodMs: options.counterPeriodMs ?? 100,
      epochMs: options.epochMs ?? 0,
      master: options.master ?? true,
      bulkRegisters: options.bulkRegisters ?? 1000,
      name: options.name ?? 'modbus-simulator',
    };
    const port = (p: number | undefined, what: string) => {
      if (p !== undefined && !(Number.isInteger(p) && p >= 1 && p <= 65535)) throw new Error(`${what} must be 1..65535 (got ${p})`);
    };
    port(this.opts.port, 'Modbus TCP port');
    if (this.opts.port === undefined) throw new Error('a Modbus TCP port is required');
    port(this.opts.rtuTcpPort, 'RTU over TCP port');
    if (this.opts.rtuTcpPort === this.opts.port) throw new Error('the RTU over TCP port must differ from the Modbus TCP port');
    if (!(this.opts.counterPeriodMs >= 10)) throw new Error(`counter period must be ≥ 10 ms (got ${this.opts.counterPeriodMs})`);
    if (!(Number.isInteger(this.opts.bulkRegisters) && this.opts.bulkRegisters >= 0 && this.opts.bulkRegisters <= 60000)) throw new Error(`bulk registers must be 0..60000 (got ${this.opts.bulkRegisters})`);
    if ((this.opts.rtuTcpPort || this.opts.serialPath) && !['127.0.0.1', '0.0.0.0', 'localhost'].includes(this.opts.host)) {
      throw new Error(`the RTU sides reach the Modbus TCP side on 127.0.0.1: listen on 127.0.0.1 or 0.0.0.0 (got ${this.opts.host})`);
    }
    for (const u of this.opts.unitIds) if (!(Number.isInteger(u) && u >= 1 && u <= 255)) throw new Error(`unit ids must be 1..255 (got ${u})`);
    this.master = this.opts.master;
    const name = this.opts.name.slice(0, 20);
    for (let i = 0; i < name.length; i++) this.holding[SIM_MAP.name + (i >> 1)] |= (name.charCodeAt(i) & 0xff) << (i & 1 ? 0 : 8);
  }

  get isRunning(): boolean {
    return this.running;
  }
  get isStalled(): boolean {
    return this.stalled;
  }
  get isMaster(): boolean {
    return this.master;
  }
  get exceptionRule(): ExceptionRule | undefined {
    return this.exception;
  }
  get downSides(): SimSide[] {
    return [...this.sidesDown];
  }
  /** Open client connections on the TCP and RTU-over-TCP sides. */
  get connectionCount(): number {
    return this.tcpSockets.size + this.rtuSockets.size;
  }
  get isFrozen(): boolean {
    return this.frozenTick !== undefined;
  }

  /** Endpoints of the sides this simulator serves, in the driver's syntax. */
  endpoints(unit = this.opts.unitIds[0]): { tcp: string; rtuTcp?: string; serial?: string } {
    const q = unit === 1 ? '' : `?unit=${unit}`;
    return {
      tcp: `modbus-tcp://${this.opts.host}:${this.opts.port}${q}`,
      ...(this.opts.rtuTcpPort ? { rtuTcp: `modbus-rtu-tcp://${this.opts.host}:${this.opts.rtuTcpPort}${q}` } : {}),
      ...(this.opts.serialPath ? { serial: `modbus-rtu:${this.opts.serialPath}?baud=${this.opts.baudRate}${unit === 1 ? '' : `&unit=${unit}`}` } : {}),
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    const server = new ServerTCP(this.vector(), { host: this.opts.host, port: this.opts.port, unitID: 255 });
    const net = (server as unknown as { _server: NetServer })._server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('serverError', onError);
      server.once('initialized', () => {
        server.removeListener('serverError', onError);
        resolve();
      });
    });
    server.on('socketError', () => undefined);
    server.on('error', () => undefined);
    net.on('connection', (sock: Socket) => this.acceptTcp(sock));
    this.server = server;
    this.running = true;
    try {
      if (this.opts.rtuTcpPort) await this.startRtuTcp(this.opts.rtuTcpPort);
      if (this.opts.serialPath) await this.startSerial(this.opts.serialPath);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every side; connections drop at once (Modbus has no shutdown announcement). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const l of this.links) l.close();
    this.links.clear();
    for (const s of [...this.tcpSockets, ...this.rtuSockets]) s.destroy();
    this.tcpSockets.clear();
    this.rtuSockets.clear();
    const server = this.server;
    this.server = undefined;
    const closing: Array<Promise<void>> = [];
    if (server) closing.push(new Promise((resolve) => server.close(() => resolve())));
    const rtu = this.rtuServer;
    this.rtuServer = undefined;
    if (rtu) closing.push(new Promise((resolve) => rtu.close(() => resolve())));
    const serial = this.serial;
    this.serial = undefined;
    if (serial?.isOpen) closing.push(new Promise((resolve) => serial.close(() => resolve())));
    await Promise.all(closing);
  }

  /** The device stops answering on every side; connections stay open (a hung PLC, a dead link behind a switch). */
  stall(on: boolean): void {
    this.stalled = on;
    for (const s of this.tcpSockets) {
      if (on) s.pause();
      else s.resume();
    }
  }

  setMaster(on: boolean): void {
    this.master = on;
  }

  /** Answers matching requests with this exception code (undefined: normal answers again). */
  setException(rule: ExceptionRule | undefined): void {
    if (rule && !(Number.isInteger(rule.code) && rule.code >= 1 && rule.code <= 255)) throw new Error(`exception code must be 1..255 (got ${rule.code})`);
    this.exception = rule;
  }

  /** Every answer comes this much later (a slow device or a slow line). */
  setResponseDelay(ms: number): void {
    if (!(ms >= 0 && ms <= 60_000)) throw new Error(`response delay must be 0..60000 ms (got ${ms})`);
    this.responseDelayMs = ms;
  }

  /** Drops (false) or restores (true) one side: its connections close and new ones are refused; serial requests go unanswered. */
  setSide(side: SimSide, up: boolean): void {
    if (up) {
      this.sidesDown.delete(side);
      return;
    }
    this.sidesDown.add(side);
    if (side === 'tcp') for (const s of this.tcpSockets) s.destroy();
    if (side === 'rtu-tcp') for (const s of this.rtuSockets) s.destroy();
  }

  /** Values stop changing but are still answered: stale data. */
  freeze(on: boolean): void {
    this.frozenTick = on ? this.tick() : undefined;
  }

  /** Sets holding registers (test images, the simulated PLC writing its own memory). */
  setRegisters(address: number, values: number[]): void {
    values.forEach((v, i) => {
      this.holding[address + i] = v & 0xffff;
    });
  }

  clearLog(): void {
    this.requests.length = 0;
    this.writes.length = 0;
  }

  tick(now = Date.now()): number {
    return this.frozenTick ?? Math.floor((now - this.opts.epochMs) / this.opts.counterPeriodMs);
  }

  // ------------------------------------------------------------------------------- sides

  private acceptTcp(sock: Socket): void {
    const bridgeSide = BRIDGE_ADDRESS_SIDE[sock.remoteAddress?.replace(/^::ffff:/, '') ?? ''];
    const side: SimSide = bridgeSide ?? 'tcp';
    if (!bridgeSide) {
      if (this.sidesDown.has('tcp')) {
        sock.destroy();
        return;
      }
      this.tcpSockets.add(sock);
      sock.once('close', () => this.tcpSockets.delete(sock));
      if (this.stalled) sock.pause();
    }
    // Log every request as it arrives (MBAP framing), before the server parses it.
    let buf: Buffer = Buffer.alloc(0);
    sock.prependListener('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const len = buf.readUInt16BE(4);
        if (buf.length < 6 + len) break;
        const unit = buf[6];
        const fc = buf[7];
        const address = len >= 4 ? buf.readUInt16BE(8) : 0;
        const count = fc === 5 || fc === 6 || fc === 22 ? 1 : len >= 6 ? buf.readUInt16BE(10) : 0;
        this.requests.push({ side, unit, fc, address, count });
        capped(this.requests);
        buf = buf.subarray(6 + len);
      }
    });
  }

  private startRtuTcp(port: number): Promise<void> {
    const server = createServer((sock) => {
      if (this.sidesDown.has('rtu-tcp')) {
        sock.destroy();
        return;
      }
      sock.setNoDelay(true);
      this.rtuSockets.add(sock);
      const link = this.link('rtu-tcp', (frame) => {
        if (!sock.destroyed) sock.write(frame);
      });
      sock.on('data', (d) => link.receive(d));
      sock.on('error', () => undefined);
      sock.once('close', () => {
        this.rtuSockets.delete(sock);
        link.close();
        this.links.delete(link);
      });
    });
    this.rtuServer = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.opts.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  }

  private async startSerial(path: string): Promise<void> {
    const serial = new SerialPort({ path, baudRate: this.opts.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => serial.open((err) => (err ? reject(new Error(`serial side ${path}: ${err.message}`)) : resolve())));
    serial.on('error', () => undefined);
    const link = this.link('serial', (frame) => {
      if (serial.isOpen) serial.write(frame);
    });
    serial.on('data', (d: Buffer) => link.receive(d));
    this.serial = serial;
  }

  private link(side: SimSide, reply: (frame: Buffer) => void): RtuBridgeLink {
    const link = new RtuBridgeLink(this.opts.port, side === 'serial' ? SERIAL_BRIDGE_ADDRESS : RTU_TCP_BRIDGE_ADDRESS, reply, () => this.running && !this.stalled && !this.sidesDown.has(side));
    this.links.add(link);
    return link;
  }

  // ------------------------------------------------------------------------------- memory

  private registerAt(area: 'holding' | 'input', address: number, tick: number): number | undefined {
    const phase = (2 * Math.PI * tick) / 100;
    const sine = Math.round(Math.sin(phase) * 1e4) / 1e4;
    const f32 = new DataView(new ArrayBuffer(4));
    f32.setFloat32(0, sine);
    switch (address) {
      case 0:
        return (tick >>> 16) & 0xffff;
      case 1:
      case 2:
        return tick & 0xffff;
      case 3:
        return Math.round(sine * 10000) & 0xffff;
      case 4:
        return f32.getUint16(0);
      case 5:
        return f32.getUint16(2);
      case 6:
        return f32.getUint16(2);
      case 7:
        return f32.getUint16(0);
      case 8: {
        const i = Math.floor(tick / 20);
        const f = tick / 20 - i;
        const s = f * f * (3 - 2 * f);
        const a = hash01(i);
        const b = hash01(i + 1);
        return Math.round((50 + 40 * (a + (b - a) * s - 0.5)) * 100);
      }
      case 9:
        return 1 | (this.master ? 2 : 0) | (tick & 1 ? 4 : 0);
    }
    if (area === 'holding') {
      if (address === SIM_MAP.master) return this.master ? 1 : 0;
      if (address >= SIM_MAP.writableFrom && address <= SIM_MAP.writableTo) return this.holding[address];
      if (address >= SIM_MAP.name && address < SIM_MAP.name + 10) return this.holding[address];
    }
    if (address >= SIM_MAP.bulk && address < SIM_MAP.bulk + this.opts.bulkRegisters) return (tick + address - SIM_MAP.bulk) & 0xffff;
    return undefined;
  }

  private bitAt(area: 'coil' | 'discrete', address: number, tick: number): boolean | undefined {
    if (area === 'coil') {
      if (address < SIM_MAP.coilsWritable) return this.coils[address] === 1;
      if (address === SIM_MAP.coilsWritable) return (tick & 1) === 1;
      return undefined;
    }
    if (address < 16) return ((tick >> address) & 1) === 1;
    if (address === SIM_MAP.discreteMaster) return this.master;
    return undefined;
  }

  /** The exception to answer for a request, or 0 to answer normally, or -1 for no answer at all. */
  private verdict(unit: number, area: SimArea, address: number, count: number): number {
    if (!this.opts.unitIds.includes(unit)) return -1;
    const x = this.exception;
    if (x && (!x.area || x.area === area) && (x.from === undefined || address + count - 1 >= x.from) && (x.to === undefined || address <= x.to)) return x.code;
    return 0;
  }

  private answer<T>(cb: Cb<T>, code: number, value?: T): void {
    if (code < 0) return; // another unit: silence, as on a serial line
    const send = () => (code > 0 ? cb({ modbusErrorCode: code, message: `exception ${code}` }) : cb(null, value));
    if (this.responseDelayMs > 0) setTimeout(send, this.responseDelayMs).unref();
    else send();
  }

  private readRegs(area: 'holding' | 'input', address: number, length: number, unit: number, cb: Cb<number[]>): void {
    let code = this.verdict(unit, area, address, length);
    const tick = this.tick();
    const out: number[] = [];
    if (code === 0) {
      for (let i = 0; i < length; i++) {
        const v = this.registerAt(area, address + i, tick);
        if (v === undefined) {
          code = 2;
          break;
        }
        out.push(v);
      }
    }
    this.answer(cb, code, out);
  }

  private vector(): Record<string, unknown> {
    const readBit = (area: 'coil' | 'discrete') => (addr: number, unit: number, cb: Cb<boolean>) => {
      const tick = this.tick();
      let code = this.verdict(unit, area, addr, 1);
      const v = code === 0 ? this.bitAt(area, addr, tick) : false;
      if (code === 0 && v === undefined) code = 2;
      this.answer(cb, code, v ?? false);
    };
    return {
      getHoldingRegister: (addr: number, unit: number, cb: Cb<number>) => this.readRegs('holding', addr, 1, unit, (e, v) => cb(e, v?.[0])),
      getMultipleHoldingRegisters: (addr: number, length: number, unit: number, cb: Cb<number[]>) => this.readRegs('holding', addr, length, unit, cb),
      getInputRegister: (addr: number, unit: number, cb: Cb<number>) => this.readRegs('input', addr, 1, unit, (e, v) => cb(e, v?.[0])),
      getMultipleInputRegisters: (addr: number, length: number, unit: number, cb: Cb<number[]>) => this.readRegs('input', addr, length, unit, cb),
      getCoil: readBit('coil'),
      getDiscreteInput: readBit('discrete'),
      setRegister: (addr: number, value: number, unit: number, cb: Cb<void>) => this.writeRegs(addr, [value], unit, cb),
      setRegisterArray: (addr: number, values: number[], unit: number, cb: Cb<void>) => this.writeRegs(addr, values, unit, cb),
      setCoil: (addr: number, value: boolean, unit: number, cb: Cb<void>) => {
        let code = this.verdict(unit, 'coil', addr, 1);
        if (code === 0 && addr >= SIM_MAP.coilsWritable) code = 2;
        if (code === 0) {
          this.coils[addr] = value ? 1 : 0;
          this.writes.push({ unit, area: 'coil', address: addr, values: [value ? 1 : 0], time: Date.now() });
          capped(this.writes);
        }
        this.answer(cb, code);
      },
    };
  }

  private writeRegs(address: number, values: number[], unit: number, cb: Cb<void>): void {
    let code = this.verdict(unit, 'holding', address, values.length);
    if (code === 0 && !(address >= SIM_MAP.writableFrom && address + values.length - 1 <= SIM_MAP.writableTo)) code = 2;
    if (code === 0) {
      values.forEach((v, i) => {
        this.holding[address + i] = v & 0xffff;
      });
      this.writes.push({ unit, area: 'holding', address, values: values.map((v) => v & 0xffff), time: Date.now() });
      capped(this.writes);
    }
    this.answer(cb, code);
  }
}
