// `npm run bench` (full) or `npm run bench -- --quick` (under a minute). Prints tables and writes
// bench/results/latest.json: {"failover": [...], "throughput": [...], "log": [...]}, flat rows.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type FailoverCase, type FailoverRow, runFailoverCase } from './failover';
import { runConditionSwitch } from './condition-switch';
import { type AlarmTrendRow, printAlarmTrend, runAlarmTrendBench } from './alarm-trend';
import { runAlarmTrendLinkBench } from './alarm-trend-link';
import { runLogBench } from './log-cost';
import { MODBUS_COLUMNS, type ModbusRow, runModbusBench } from './modbus';
import { MODBUS_FAILOVER_COLUMNS, type ModbusFailoverRow, runModbusPairBench } from './modbus-pair';
import { runSelectorBench, type SelectorCpuRow, type SelectorFailoverRow } from './channel-selector';
import { startNodeRed } from './node-red-embed';
import { type PeerRow, runPeerBench } from './peer';
import { table } from './stats';
import { runThroughput, type ThroughputRow } from './throughput';
import { type GatewayRow, type HopRow, runGatewayBench } from './gateway';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // --only=name[,name…]: just those sections, in the usual order (e.g. --only=throughput,selector).
  const onlyArg = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const only = onlyArg ? new Set(onlyArg.split(',').map((n) => n.trim()).filter(Boolean)) : undefined;
  const want = (...names: string[]): boolean => !only || names.some((n) => only.has(n));
  const started = Date.now();
  const results: { started: string; quick: boolean; node: string; failover: FailoverRow[]; throughput: ThroughputRow[]; log: unknown[]; modbus: ModbusRow[]; modbus_failover: ModbusFailoverRow[]; selector: SelectorFailoverRow[]; selector_cpu: SelectorCpuRow[]; peer: PeerRow[]; gateway: GatewayRow[]; gateway_hops: HopRow[]; alarm_trend: AlarmTrendRow[]; failures: Array<{ section: string; error: string }> } = {
    started: new Date().toISOString(), quick, node: process.version, failover: [], throughput: [], log: [], modbus: [], modbus_failover: [], selector: [], selector_cpu: [], peer: [], gateway: [], gateway_hops: [], alarm_trend: [], failures: [],
  };
  const ping = { ping_interval_ms: 500, ping_timeout_ms: 500 };

  if (want('failover')) {
    const cases: FailoverCase[] = [];
    const base = { skew_ms: 0, phase_ms: 37, channels: 2, items: 1000, sampling_ms: 100, ...ping };
    for (const mode of ['hot', 'warm', 'warm-sampling', 'cold'] as const) for (const fault of ['crash', 'blackhole'] as const) cases.push({ ...base, mode, fault });
    // Real clocks: the secondary's 5 s ahead and behind, server timestamps, another sampling phase.
    for (const mode of ['hot', 'warm-sampling'] as const) for (const skew of [5000, -5000]) for (const fault of ['crash', 'blackhole'] as const) cases.push({ ...base, mode, fault, skew_ms: skew });
    cases.push({ ...base, mode: 'hot', fault: 'crash', channels: 3 });
    // The same hot crashes with the standby reading the PLC in step: the stall the engine adds.
    for (const skew of [0, 5000, -5000]) cases.push({ ...base, mode: 'hot', fault: 'crash', skew_ms: skew, phase_ms: 0 });
    if (!quick) for (const mode of ['warm', 'cold'] as const) cases.push({ ...base, mode, fault: 'crash', items: 10_000, sampling_ms: 1000 });
    const list = quick ? cases.filter((c) => c.mode === 'hot' || (c.mode === 'warm-sampling' && c.fault === 'blackhole' && c.skew_ms === 0)) : cases;
    for (const c of list) {
      process.stdout.write(`failover ${c.mode} ${c.fault} skew ${c.skew_ms} phase ${c.phase_ms} ${c.channels} channels ${c.items} items… `);
      // A case that fails is a row saying why; the other cases still run.
      const row = await runFailoverCase(c).catch((err: Error): FailoverRow => ({ ...c, detect_ms: NaN, switch_ms: NaN, stall_ms: NaN, lost: NaN, duplicates: NaN, note: `failed: ${err.message.slice(0, 600)}` }));
      process.stdout.write(`stall ${row.stall_ms} ms, lost ${row.lost}, duplicates ${row.duplicates}${row.note ? ` (${row.note})` : ''}\n`);
      results.failover.push(row);
    }
  }

  // A section that fails is reported with its reason (results.failures); the others still run.
  const section = async (name: string, selected: boolean, run: () => Promise<void>): Promise<void> => {
    if (!selected) return;
    try {
      await run();
    } catch (err) {
      const error = (err as Error).stack ?? String(err);
      results.failures.push({ section: name, error });
      console.error(`\n${name}: failed: ${error}`);
    }
  };

  await section('throughput', want('throughput', 'conditions'), async () => {
    const nr = await startNodeRed();
    try {
      const windowMs = quick ? 3000 : 10_000;
      const warmupMs = quick ? 1500 : 3000;
      const rounds = quick ? 1 : 3;
      if (want('throughput')) results.throughput.push(...(await runThroughput(nr, 1000, 100, ['warm', 'hot'], warmupMs, windowMs, rounds)));
      if (!quick && want('throughput')) results.throughput.push(...(await runThroughput(nr, 10_000, 1000, ['warm', 'hot'], warmupMs, windowMs, rounds)));
      if (want('conditions')) results.log.push(...(await runConditionSwitch(nr, quick ? 1 : 3)));
    } finally {
      await nr.stop();
    }
  });
  await section('log', want('log'), async () => {
    results.log.push(...(await runLogBench(quick)));
  });
  await section('modbus', want('modbus'), async () => {
    results.modbus.push(...(await runModbusBench(quick)));
  });
  await section('modbus-pair', want('modbus', 'modbus-pair'), async () => {
    const mb = await runModbusPairBench(quick);
    results.modbus.push(...mb.reads);
    results.modbus_failover.push(...mb.failover);
  });
  await section('selector', want('selector'), async () => {
    const sel = await runSelectorBench(quick);
    results.selector.push(...sel.failover);
    results.selector_cpu.push(...sel.cpu);
  });
  await section('peer', want('peer'), async () => {
    results.peer.push(...(await runPeerBench(quick)));
  });
  await section('gateway', want('gateway'), async () => {
    // Servers granting node-opcua's default fastest publishing (50 ms), then a faster one (what the gateway's upstream subscription can then use).
    const grants = process.argv.find((a) => a.startsWith('--gateway-server-publishing='))?.slice(28).split(',').map(Number) ?? [50, 1];
    for (const ms of grants) {
      const gw = await runGatewayBench(quick, { hops: process.argv.includes('--hops'), serverMinPublishingMs: ms });
      results.gateway.push(...gw.rows);
      results.gateway_hops.push(...gw.hops);
    }
  });
  await section('alarm_trend', want('alarm_trend'), async () => {
    results.alarm_trend.push(...(await runAlarmTrendBench(quick)));
  });
  // The same cases through the real peer link between two Node-RED processes (the rows above are their baseline).
  await section('alarm_trend_link', want('alarm_trend', 'alarm_trend_link'), async () => {
    results.alarm_trend.push(...(await runAlarmTrendLinkBench(quick, undefined, quick ? 1 : 3)));
  });

  console.log('\nfailover (ms; lost/duplicates = counter values)');
  console.log(table(results.failover as unknown as Array<Record<string, unknown>>, ['mode', 'fault', 'skew_ms', 'phase_ms', 'channels', 'items', 'sampling_ms', 'ping_interval_ms', 'ping_timeout_ms', 'detect_ms', 'switch_ms', 'stall_ms', 'lost', 'duplicates', 'note']));
  console.log('\nthroughput (CPU s of the receiving process per 100 000 changes; medians of interleaved rounds; ratio = pair / direct client of the same round; direct-both = two plain clients, one per server; ratio_to_both = hot pair / direct-both of the same round)');
  console.log(table(results.throughput as unknown as Array<Record<string, unknown>>, ['mode', 'items', 'sampling_ms', 'output', 'runs', 'changes_per_s', 'cpu_s_per_100k', 'cpu_spread', 'baseline_cpu_s_per_100k', 'ratio', 'ratio_spread', 'ratio_to_both', 'ratio_to_both_spread', 'p99_delay_ms', 'baseline_p99_delay_ms']));
  if (results.log.length) {
    console.log('\ndiagnostics and conditions');
    const rows = results.log as Array<Record<string, unknown>>;
    console.log(table(rows.map((r) => ({ metric: r.metric, case: r.condition ?? `max ${r.max_events}`, value: r.value ?? r.condition_switch_ms })), ['metric', 'case', 'value']));
  }
  if (results.modbus.length) {
    console.log('\nmodbus (full reads of N holding registers per second; ratio = driver / plain modbus-serial client; spread = driver runs / plain runs)');
    console.log(table(results.modbus as unknown as Array<Record<string, unknown>>, MODBUS_COLUMNS));
  }
  if (results.modbus_failover.length) {
    console.log('\nmodbus failover through the pair (ms; lost/duplicates = counter values)');
    console.log(table(results.modbus_failover as unknown as Array<Record<string, unknown>>, MODBUS_FAILOVER_COLUMNS));
  }
  if (results.selector.length) {
    console.log('\nchannel-selector with node-red-contrib-modbus read nodes (ms; baseline = a read node without the selector, same run)');
    console.log(table(results.selector as unknown as Array<Record<string, unknown>>, ['fault', 'error_msgs', 'poll_ms', 'stale_ms', 'detect_ms', 'switch_ms', 'stall_ms', 'counter_gap_ms', 'baseline_stall_ms']));
    console.log(table(results.selector_cpu as unknown as Array<Record<string, unknown>>, ['metric', 'messages', 'selector', 'by_hand', 'ratio', 'spread']));
  }
  if (results.peer.length) {
    console.log('\npeer link (two Node-RED processes; ms from the instances\' duty histories; replication in this process)');
    console.log(table(results.peer as unknown as Array<Record<string, unknown>>, ['case', 'witness', 'takeover_ms', 'dual_holder_ms', 'handback_ms', 'writes_replicated_per_s', 'replication_p99_ms', 'baseline_local_writes_per_s', 'ratio', 'note']));
  }
  if (results.gateway.length) {
    console.log('\ngateway (clients × items changing every sampling_ms, clients in processes of their own, every client subscribed alike on both paths; server_min_publishing_ms = the fastest publishing the servers grant (50: node-opcua\'s default), upstream_publishing_ms = what the gateway\'s upstream subscription got; received = worst client\'s share of the changes, lost/duplicates = all clients, all runs; added = gateway minus direct clients of the same run, medians of the runs [each run]; CPU per 100 000 changes delivered: gateway process, baseline = the server serving the clients directly, ratio of the same run)');
    console.log(table(results.gateway.map((r) => ({ ...r, p50_added_runs: r.p50_added_runs.join('/'), p99_added_runs: r.p99_added_runs.join('/'), cpu_ratio_runs: r.cpu_ratio_runs.join('/') })) as unknown as Array<Record<string, unknown>>, ['path', 'clients', 'items', 'sampling_ms', 'client_publishing_ms', 'server_min_publishing_ms', 'upstream_publishing_ms', 'changes_per_s_per_client', 'expected_per_s_per_client', 'upstream_monitored_items', 'received_of_expected', 'lost', 'duplicates', 'p50_ms', 'p99_ms', 'p50_added_ms', 'p50_added_runs', 'p99_added_ms', 'p99_added_runs', 'cpu_s_per_100k', 'baseline_cpu_s_per_100k', 'cpu_ratio', 'cpu_ratio_runs', 'clients_cpu_s_per_100k', 'servers_cpu_s_per_100k', 'machine_busy', 'runs']));
    if (results.gateway_hops.length) {
      console.log('\ngateway hops (ms after the source timestamp at which a change reached each stage)');
      console.log(table(results.gateway_hops as unknown as Array<Record<string, unknown>>, ['server_min_publishing_ms', 'clients', 'stage', 'p50_ms', 'p99_ms']));
    }
  }
  if (results.alarm_trend.length) printAlarmTrend(results.alarm_trend);
  for (const f of results.failures) console.log(`\nsection ${f.section} FAILED: ${f.error.split('\n')[0]}`);
  const dir = resolve(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nwrote bench/results/latest.json in ${Math.round((Date.now() - started) / 1000)} s`);
  // A failed section or case fails the run (the rows written say which and why).
  process.exit(results.failures.length > 0 || results.failover.some((r) => r.note?.startsWith('failed')) ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
