// The simulated PLC's memory: registers and bits derived from the clock (ticks since a shared
// epoch, so two simulated PLCs agree), a master-status register, a writable area, and the fault
// answers (exceptions, silence for foreign unit ids, a response delay). It is served to
// modbus-serial's ServerTCP as its service vector; lib/sim/modbus-simulator.ts owns the sides.

export type SimArea = 'coil' | 'discrete' | 'input' | 'holding';

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

export function capped<T>(log: T[]): void {
  if (log.length > SIM_LOG_LIMIT) log.splice(0, log.length - SIM_LOG_LIMIT / 2);
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

type Cb<T> = (err: { modbusErrorCode: number; message?: string } | null, value?: T) => void;

function hash01(n: number): number {
  let x = (n | 0) ^ 0x9e3779b9;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

export interface MemoryOptions {
  unitIds: number[];
  counterPeriodMs: number;
  epochMs: number;
  master: boolean;
  bulkRegisters: number;
  name: string;
}

export class SimulatedPlcMemory {
  /** Writes the device accepted (the last SIM_LOG_LIMIT). */
  readonly writes: SimWrite[] = [];
  master: boolean;
  exception?: ExceptionRule;
  private holding = new Uint16Array(65536);
  private coils = new Uint8Array(65536);
  private frozenTick?: number;
  private responseDelayMs = 0;
  private readonly unitIds: number[];
  private readonly bulkRegisters: number;

  constructor(private readonly opts: MemoryOptions) {
    this.unitIds = opts.unitIds;
    this.bulkRegisters = opts.bulkRegisters;
    this.master = opts.master;
    const name = opts.name.slice(0, 20);
    for (let i = 0; i < name.length; i++) this.holding[SIM_MAP.name + (i >> 1)] |= (name.charCodeAt(i) & 0xff) << (i & 1 ? 0 : 8);
  }

  get isFrozen(): boolean {
    return this.frozenTick !== undefined;
  }

  tick(now = Date.now()): number {
    return this.frozenTick ?? Math.floor((now - this.opts.epochMs) / this.opts.counterPeriodMs);
  }

  /** Values stop changing but are still answered: stale data. */
  freeze(on: boolean): void {
    this.frozenTick = on ? this.tick() : undefined;
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

  /** Sets holding registers (test images, the simulated PLC writing its own memory). */
  setRegisters(address: number, values: number[]): void {
    values.forEach((v, i) => {
      this.holding[address + i] = v & 0xffff;
    });
  }

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
    if (address >= SIM_MAP.bulk && address < SIM_MAP.bulk + this.bulkRegisters) return (tick + address - SIM_MAP.bulk) & 0xffff;
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
    if (!this.unitIds.includes(unit)) return -1;
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

  /** The service vector of modbus-serial's ServerTCP (callback style: silence is possible). */
  vector(): Record<string, unknown> {
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
