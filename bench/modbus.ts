// Modbus rows of `npm run bench`: how many times per second the driver reads a whole set of
// holding registers (100 and 1 000 uint16 items, merged by the planner, decoded, one DataChange
// each), against a plain modbus-serial client reading the same registers in 125-register blocks
// by hand, as a careful user would: same run, same simulator process, runs interleaved; the
// median of the runs and their spread. ratio = driver / plain client (target ≥ 0.8 at 1 000).
// Failover rows (cold/warm/hot × crash/blackhole through a pair) come with the pair on the new engine.
// Standalone: node dist/bench/modbus.js [--quick]
import ModbusRTU from 'modbus-serial';
import { ModbusDriver } from '../lib/drivers/modbus';
import { ModbusSimulatorProcess } from '../lib/sim/modbus-sim-process';
import { parseModbusOptions } from '../lib/rules/modbus';
import { freePort } from '../test/helpers/ports';
import { percentile, round, table } from './stats';

export interface ModbusRow {
  /** 'driver': ModbusDriver.read directly; 'pair': pair.read through the engine (bench/modbus-pair.ts). */
  mode: 'driver' | 'pair';
  fault: 'none';
  transport: 'tcp';
  registers: number;
  poll_ms: number;
  stall_ms?: number;
  lost?: number;
  duplicates?: number;
  reads_per_s: number;
  baseline_reads_per_s: number;
  ratio: number;
  /** min..max of the driver's runs and of the baseline's runs. */
  spread: string;
  runs: number;
}

/** The first holding register of the simulators' bulk block. */
export const BULK = 1000;

/** Complete `once` calls per second in the window, after a warm-up. */
export async function loop(windowMs: number, once: () => Promise<void>): Promise<number> {
  // Warm up (connections, JIT), then count complete reads in the window.
  for (let i = 0; i < 20; i++) await once();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < windowMs) {
    await once();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

async function driverRate(endpoint: string, registers: number, windowMs: number): Promise<number> {
  const driver = new ModbusDriver({ endpoint, options: parseModbusOptions({}).options, pingTimeoutMs: 2000 });
  await driver.connect();
  try {
    const ids = Array.from({ length: registers }, (_, i) => `HR${BULK + i}`);
    return await loop(windowMs, async () => {
      const got = await driver.read(ids);
      if (got.length !== registers || got[registers - 1].statusCode !== 'Good') throw new Error(`driver read failed: ${got[registers - 1]?.statusCode}`);
    });
  } finally {
    await driver.disconnect();
  }
}

/** The baseline: a plain modbus-serial client reading the registers in 125-register blocks by hand. */
export async function plainRate(port: number, registers: number, windowMs: number): Promise<number> {
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  client.setTimeout(2000);
  try {
    return await loop(windowMs, async () => {
      for (let a = 0; a < registers; a += 125) {
        const r = await client.readHoldingRegisters(BULK + a, Math.min(125, registers - a));
        if (r.data.length !== Math.min(125, registers - a)) throw new Error('plain read failed');
      }
    });
  } finally {
    await new Promise<void>((resolve) => client.close(() => resolve()));
  }
}

export async function runModbusBench(quick: boolean): Promise<ModbusRow[]> {
  const port = await freePort();
  const sim = await ModbusSimulatorProcess.spawn({ port, bulkRegisters: BULK, counterPeriodMs: 100 });
  const rows: ModbusRow[] = [];
  try {
    rows.push(...(await compareReads('driver', quick, (registers, windowMs) => driverRate(sim.endpoints.tcp, registers, windowMs), (registers, windowMs) => plainRate(port, registers, windowMs))));
  } finally {
    await sim.close();
  }
  return rows;
}

/**
 * Rows for 100 and 1 000 registers: `ours` against the plain client, runs interleaved (who goes
 * first alternates, so neither always gets the warmer machine); medians, ratio, spread.
 */
export async function compareReads(mode: ModbusRow['mode'], quick: boolean, ours: (registers: number, windowMs: number) => Promise<number>, plain: (registers: number, windowMs: number) => Promise<number>): Promise<ModbusRow[]> {
  const rows: ModbusRow[] = [];
  const runs = quick ? 3 : 5;
  const windowMs = quick ? 1000 : 3000;
  for (const registers of [100, 1000]) {
    const o: number[] = [];
    const p: number[] = [];
    for (let r = 0; r < runs; r++) {
      if (r % 2 === 0) {
        o.push(await ours(registers, windowMs));
        p.push(await plain(registers, windowMs));
      } else {
        p.push(await plain(registers, windowMs));
        o.push(await ours(registers, windowMs));
      }
    }
    const om = percentile(o, 50);
    const pm = percentile(p, 50);
    rows.push({
      mode,
      fault: 'none',
      transport: 'tcp',
      registers,
      poll_ms: 0,
      reads_per_s: round(om, 0),
      baseline_reads_per_s: round(pm, 0),
      ratio: round(om / pm, 2),
      spread: `${round(Math.min(...o), 0)}..${round(Math.max(...o), 0)} / ${round(Math.min(...p), 0)}..${round(Math.max(...p), 0)}`,
      runs,
    });
  }
  return rows;
}

export const MODBUS_COLUMNS = ['mode', 'fault', 'transport', 'registers', 'poll_ms', 'reads_per_s', 'baseline_reads_per_s', 'ratio', 'spread'];

if (require.main === module) {
  runModbusBench(process.argv.includes('--quick')).then(
    (rows) => {
      console.log('modbus (full reads of N holding registers per second; ratio = driver / plain modbus-serial client; spread = driver runs / plain runs)');
      console.log(table(rows as unknown as Array<Record<string, unknown>>, MODBUS_COLUMNS));
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
