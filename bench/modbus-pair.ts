// Modbus pair rows of `npm run bench`:
// - failover: two simulated PLC paths in processes of their own (the same clock-derived counter),
//   the pair engine with Modbus drivers (through the registry) in this process; the primary's
//   process killed (crash) or its TCP path blackholed. Output silence after the fault, counter
//   values lost or delivered twice; cold / warm / hot.
// - reads per second of 100 and 1 000 holding registers through the pair (pair.read: the active
//   channel's driver behind the engine) against a plain modbus-serial client reading the same
//   registers in 125-register blocks by hand, in the same run, interleaved; ratio = pair / plain.
// Standalone: node dist/bench/modbus-pair.js [--quick]
import { RedundantPair } from '../lib/core/pair';
import type { ConnectionMode, ItemSpec } from '../lib/core/types';
import { driverFactory } from '../lib/drivers';
import { realClock } from '../lib/core/clock';
import { ModbusSimulatorProcess } from '../lib/sim/modbus-sim-process';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { freePort } from '../test/helpers/ports';
import { table, waitFor } from './stats';
import { BULK, type ModbusRow, compareReads, loop, plainRate } from './modbus';
import { measureFault, watchOutput, withPreFaultRetries } from './fault-watch';

export interface ModbusFailoverRow {
  mode: ConnectionMode;
  fault: 'crash' | 'blackhole';
  transport: 'tcp';
  registers: number;
  poll_ms: number;
  ping_interval_ms: number;
  ping_timeout_ms: number;
  detect_ms: number;
  switch_ms: number;
  stall_ms: number;
  lost: number;
  duplicates: number;
  /** Attempts repeated because the pair switched before the fault (see withPreFaultRetries). */
  note?: string;
}

const COUNTER = 'HR0:uint32';

function makePair(mode: ConnectionMode, endpoints: [string, string], ping: { interval: number; timeout: number }): RedundantPair {
  const factory = driverFactory('modbus');
  const { options, problems } = factory.parseOptions({}, {});
  if (problems.length) throw new Error(problems.join('; '));
  const driver = (endpoint: string, name: string) =>
    factory.create(endpoint, { clock: realClock, pingIntervalMs: ping.interval, pingTimeoutMs: ping.timeout, sessionName: `bench ${name}`, options });
  return new RedundantPair(
    { name: 'bench-modbus', mode, pingIntervalMs: ping.interval, pingTimeoutMs: ping.timeout, autoPromote: false, holdOffMs: 0, reconnectMinMs: 200, reconnectMaxMs: 2000 },
    [
      { name: 'primary', driver: driver(endpoints[0], 'primary') },
      { name: 'secondary', driver: driver(endpoints[1], 'secondary') },
    ],
  );
}

export function runModbusFailover(mode: ConnectionMode, fault: 'crash' | 'blackhole', registers = 100, pollMs = 50): Promise<ModbusFailoverRow> {
  return withPreFaultRetries(() => runModbusFailoverOnce(mode, fault, registers, pollMs));
}

async function runModbusFailoverOnce(mode: ConnectionMode, fault: 'crash' | 'blackhole', registers: number, pollMs: number): Promise<ModbusFailoverRow> {
  const ping = { interval: 500, timeout: 500 };
  const [pPort, sPort] = [await freePort(), await freePort()];
  const simOpts = { counterPeriodMs: 100, bulkRegisters: registers };
  const [primary, secondary] = await Promise.all([
    ModbusSimulatorProcess.spawn({ port: pPort, name: 'bench-primary', ...simOpts }),
    ModbusSimulatorProcess.spawn({ port: sPort, name: 'bench-secondary', ...simOpts }),
  ]);
  const proxy = await FaultProxy.start('127.0.0.1', pPort);
  const pair = makePair(mode, [`modbus-tcp://127.0.0.1:${proxy.port}`, secondary.endpoints.tcp], ping);
  const items: ItemSpec[] = [{ id: COUNTER, samplingIntervalMs: pollMs }];
  for (let i = 0; i < registers; i++) items.push({ id: `HR${BULK + i}`, samplingIntervalMs: pollMs });
  pair.setItems('bench', items);
  const watch = watchOutput(pair, (ch) => ch.item === COUNTER && ch.quality === 'good');
  try {
    const f = await measureFault(pair, watch, () => (fault === 'crash' ? primary.kill('SIGKILL') : proxy.setMode('blackhole')));
    let duplicates = 0;
    for (let v = f.firstCounter; v <= f.lastCounter; v++) duplicates += Math.max(0, (watch.counter.get(v) ?? 0) - 1);
    return {
      mode, fault, transport: 'tcp', registers, poll_ms: pollMs, ping_interval_ms: ping.interval, ping_timeout_ms: ping.timeout,
      detect_ms: f.detect_ms, switch_ms: f.switch_ms, stall_ms: f.stall_ms, lost: f.lost, duplicates,
    };
  } finally {
    await pair.stop();
    await Promise.allSettled([proxy.close(), primary.kill('SIGKILL'), secondary.kill('SIGKILL')]);
  }
}

async function pairRate(pair: RedundantPair, registers: number, windowMs: number): Promise<number> {
  const ids = Array.from({ length: registers }, (_, i) => `HR${BULK + i}`);
  return loop(windowMs, async () => {
    const got = await pair.read(ids);
    if (got.length !== registers || got[registers - 1].statusCode !== 'Good') throw new Error(`pair read failed: ${got[registers - 1]?.statusCode}`);
  });
}

/** Full reads through a hot pair (both devices connected; the active one read) vs a plain client on the same device. */
export async function runModbusPairReads(quick: boolean): Promise<ModbusRow[]> {
  const [pPort, sPort] = [await freePort(), await freePort()];
  const [primary, secondary] = await Promise.all([
    ModbusSimulatorProcess.spawn({ port: pPort, bulkRegisters: BULK, counterPeriodMs: 100 }),
    ModbusSimulatorProcess.spawn({ port: sPort, bulkRegisters: BULK, counterPeriodMs: 100 }),
  ]);
  const pair = makePair('hot', [primary.endpoints.tcp, secondary.endpoints.tcp], { interval: 1000, timeout: 2000 });
  const rows: ModbusRow[] = [];
  try {
    pair.start();
    await waitFor(() => pair.getActive() === 'primary', 30_000, 'the pair on the primary');
    rows.push(...(await compareReads('pair', quick, (registers, windowMs) => pairRate(pair, registers, windowMs), (registers, windowMs) => plainRate(pPort, registers, windowMs))));
  } finally {
    await pair.stop();
    await Promise.allSettled([primary.close(), secondary.close()]);
  }
  return rows;
}

export const MODBUS_FAILOVER_COLUMNS = ['mode', 'fault', 'transport', 'registers', 'poll_ms', 'ping_interval_ms', 'ping_timeout_ms', 'detect_ms', 'switch_ms', 'stall_ms', 'lost', 'duplicates', 'note'];

export async function runModbusPairBench(quick: boolean): Promise<{ failover: ModbusFailoverRow[]; reads: ModbusRow[] }> {
  const failover: ModbusFailoverRow[] = [];
  for (const mode of ['hot', 'warm', 'cold'] as const) {
    for (const fault of ['crash', 'blackhole'] as const) {
      process.stdout.write(`modbus failover ${mode} ${fault}… `);
      const row = await runModbusFailover(mode, fault);
      process.stdout.write(`stall ${row.stall_ms} ms, lost ${row.lost}, duplicates ${row.duplicates}\n`);
      failover.push(row);
    }
  }
  return { failover, reads: await runModbusPairReads(quick) };
}

if (require.main === module) {
  runModbusPairBench(process.argv.includes('--quick')).then(
    ({ failover, reads }) => {
      console.log('\nmodbus failover (ms; lost/duplicates = counter values)');
      console.log(table(failover as unknown as Array<Record<string, unknown>>, MODBUS_FAILOVER_COLUMNS));
      console.log('\nmodbus reads through the pair (full reads of N holding registers per second; ratio = pair / plain modbus-serial client)');
      console.log(table(reads as unknown as Array<Record<string, unknown>>, ['mode', 'fault', 'transport', 'registers', 'reads_per_s', 'baseline_reads_per_s', 'ratio', 'spread']));
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
