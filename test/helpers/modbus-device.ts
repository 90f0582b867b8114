// A Modbus TCP device for tests: modbus-serial's ServerTCP on loopback with a small holding
// register image. HR0 is a counter derived from the clock (tenths of a second), so two devices (two
// PLCs, two paths) agree like two servers reading one PLC; HR1 is a master-status register; every
// other register is writable and every write is recorded. It can be stopped (orderly, or with TCP
// resets like a crash), restarted on its port, and made to answer reads with a Modbus exception.
import type { Socket } from 'node:net';
import ModbusRTU from 'modbus-serial';

export const HR_COUNTER = 0;
export const HR_MASTER = 1;
export const HR_SETPOINT = 10;

interface ServerTcpLike {
  on(event: string, fn: (...args: unknown[]) => void): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  close(cb: () => void): void;
  socks: Map<Socket, unknown>;
}

export class ModbusTestDevice {
  readonly holding = new Array<number>(100).fill(0);
  /** Every write, with the master-status register's value at that moment (the guard test reads it). */
  readonly writes: Array<{ address: number; value: number; at: number; master: number }> = [];
  /** Answer every read with this Modbus exception code (e.g. 4 slave device failure); 0 = answer. */
  exception = 0;
  /** Reads answered (a read that got an exception does not count). */
  reads = 0;
  private server?: ServerTcpLike;

  constructor(readonly port: number, readonly name: string) {}

  static async start(port: number, name: string): Promise<ModbusTestDevice> {
    const d = new ModbusTestDevice(port, name);
    await d.start();
    return d;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  counter(): number {
    return Math.floor(Date.now() / 100) & 0xffff;
  }

  setMaster(master: boolean): void {
    this.holding[HR_MASTER] = master ? 1 : 0;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const read = (address: number): number => {
      if (this.exception) throw { modbusErrorCode: this.exception, msg: `exception ${this.exception}` };
      if (address === HR_COUNTER) return this.counter();
      return this.holding[address] ?? 0;
    };
    const vector = {
      getHoldingRegister: (address: number) => read(address),
      getMultipleHoldingRegisters: (address: number, length: number) => {
        const values = Array.from({ length }, (_, i) => read(address + i));
        this.reads++;
        return values;
      },
      getInputRegister: (address: number) => read(address),
      getCoil: () => false,
      getDiscreteInput: () => false,
      setRegister: (address: number, value: number) => {
        this.holding[address] = value;
        this.writes.push({ address, value, at: Date.now(), master: this.holding[HR_MASTER] });
      },
      setCoil: () => undefined,
    };
    const server = new (ModbusRTU as unknown as { ServerTCP: new (v: unknown, o: unknown) => ServerTcpLike }).ServerTCP(vector, { host: '127.0.0.1', port: this.port, unitID: 255 });
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (err) => reject(err as Error));
    });
    server.on('socketError', () => undefined);
    server.on('error', () => undefined);
    this.server = server;
  }

  /** Stops answering: 'close' ends the connections in order, 'crash' resets them (RST), like a killed process. */
  async stop(how: 'close' | 'crash' = 'close'): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (how === 'crash') for (const sock of server.socks.keys()) sock.resetAndDestroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Values written to a register, in order. */
  written(address: number): number[] {
    return this.writes.filter((w) => w.address === address).map((w) => w.value);
  }
}
