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
import { type ExceptionRule, SimulatedPlcMemory, type SimWrite, capped } from './modbus-sim-memory';

export { SIM_MAP, type ExceptionRule, type SimArea, type SimWrite } from './modbus-sim-memory';
export type SimSide = 'tcp' | 'rtu-tcp' | 'serial';

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

export interface SimRequest {
  side: SimSide;
  unit: number;
  fc: number;
  address: number;
  count: number;
}

/**
 * The RTU sides reach the Modbus TCP server from loopback addresses of their own, so the server
 * knows the side of each connection from its first byte (request log, dropping one side).
 */
const RTU_TCP_BRIDGE_ADDRESS = '127.0.0.2';
const SERIAL_BRIDGE_ADDRESS = '127.0.0.3';
const BRIDGE_ADDRESS_SIDE: Record<string, SimSide> = { [RTU_TCP_BRIDGE_ADDRESS]: 'rtu-tcp', [SERIAL_BRIDGE_ADDRESS]: 'serial' };

export class ModbusSimulator {
  /** Requests received on every side, in order (the last SIM_LOG_LIMIT). */
  readonly requests: SimRequest[] = [];
  private readonly opts: Required<Omit<ModbusSimulatorOptions, 'rtuTcpPort' | 'serialPath'>> & Pick<ModbusSimulatorOptions, 'rtuTcpPort' | 'serialPath'>;
  private server?: ServerTCP;
  private rtuServer?: NetServer;
  private serial?: SerialPort;
  private links = new Set<RtuBridgeLink>();
  private tcpSockets = new Set<Socket>();
  private rtuSockets = new Set<Socket>();
  private readonly memory: SimulatedPlcMemory;
  private stalled = false;
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
    this.memory = new SimulatedPlcMemory(this.opts);
  }

  get isRunning(): boolean {
    return this.running;
  }
  get isStalled(): boolean {
    return this.stalled;
  }
  get isMaster(): boolean {
    return this.memory.master;
  }
  get exceptionRule(): ExceptionRule | undefined {
    return this.memory.exception;
  }
  /** Writes the device accepted (the last SIM_LOG_LIMIT). */
  get writes(): SimWrite[] {
    return this.memory.writes;
  }
  get downSides(): SimSide[] {
    return [...this.sidesDown];
  }
  /** Open client connections on the TCP and RTU-over-TCP sides. */
  get connectionCount(): number {
    return this.tcpSockets.size + this.rtuSockets.size;
  }
  get isFrozen(): boolean {
    return this.memory.isFrozen;
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
    const server = new ServerTCP(this.memory.vector(), { host: this.opts.host, port: this.opts.port, unitID: 255 });
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
    this.memory.master = on;
  }

  /** Answers matching requests with this exception code (undefined: normal answers again). */
  setException(rule: ExceptionRule | undefined): void {
    this.memory.setException(rule);
  }

  /** Every answer comes this much later (a slow device or a slow line). */
  setResponseDelay(ms: number): void {
    this.memory.setResponseDelay(ms);
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
    this.memory.freeze(on);
  }

  /** Sets holding registers (test images, the simulated PLC writing its own memory). */
  setRegisters(address: number, values: number[]): void {
    this.memory.setRegisters(address, values);
  }

  clearLog(): void {
    this.requests.length = 0;
    this.memory.writes.length = 0;
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
}
