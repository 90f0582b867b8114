// Gateway benchmark: N clients (in a process of their own) × 1 000 items changing every 100 ms,
// (a) connected straight to the server (the baseline) and (b) through the gateway (a hot pair of
// the same servers, the gateway's OPC UA server in this process), in the same run. Rows: changes
// per second per client, upstream monitored items the gateway holds on the server (counted there),
// latency added by the gateway (receipt − source timestamp, gateway minus direct, p50 and p99), CPU
// seconds per 100 000 changes delivered: of this (gateway) process, and of the server process when
// it serves the same clients directly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedundantPair } from '../lib/core/pair';
import { OpcuaDriver } from '../lib/drivers/opcua';
import { pairSource } from '../lib/gateway/pair-source';
import { GatewayServer } from '../lib/gateway/server';
import { bulkItemId } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { freePort } from '../test/helpers/ports';
import { UaClientProcess } from '../test/helpers/ua-clients';
import { cpuSeconds, percentile, round, sleep, waitFor } from './stats';

export interface GatewayRow {
  path: 'gateway' | 'direct';
  clients: number;
  items: number;
  sampling_ms: number;
  changes_per_s_per_client: number;
  /** Changes a client should get per second (items × 1000 / period), for "every change". */
  expected_per_s_per_client: number;
  upstream_monitored_items: number;
  p50_ms: number;
  p99_ms: number;
  p50_added_ms: number;
  p99_added_ms: number;
  cpu_s_per_100k: number;
  baseline_cpu_s_per_100k: number;
}

interface Window {
  perClient: number;
  p50: number;
  p99: number;
  cpuPer100k: number;
}

async function measure(clients: UaClientProcess, n: number, cpu: () => Promise<NodeJS.CpuUsage>, warmupMs: number, windowMs: number): Promise<Window> {
  await sleep(warmupMs);
  const start = await clients.benchWindow(true);
  const cpu0 = await cpu();
  const t0 = Date.now();
  await sleep(windowMs);
  const end = await clients.benchWindow(false);
  const cpu1 = await cpu();
  const elapsed = (Date.now() - t0) / 1000;
  const total = Object.keys(end.counts).reduce((sum, k) => sum + (end.counts[k] - (start.counts[k] ?? 0)), 0);
  const cpuS = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
  return { perClient: total / elapsed / n, p50: percentile(end.delays, 50), p99: percentile(end.delays, 99), cpuPer100k: total > 0 ? (cpuS / total) * 1e5 : NaN };
}

export async function runGatewayBench(quick: boolean): Promise<GatewayRow[]> {
  const ITEMS = 1000;
  const PERIOD = 100;
  const warmupMs = quick ? 2000 : 3000;
  const windowMs = quick ? 4000 : 10_000;
  const [p1, p2, gp] = [await freePort(), await freePort(), await freePort()];
  const sims = await Promise.all([p1, p2].map((port, i) => SimulatorProcess.spawn({ port, name: `bench-${i}`, counterPeriodMs: PERIOD, bulkItems: ITEMS, bulkPeriodMs: PERIOD })));
  const driver = (url: string) => new OpcuaDriver({ endpointUrl: url, pingIntervalMs: 1000, pingTimeoutMs: 2000 });
  const pair = new RedundantPair({ name: 'bench', mode: 'hot', pingIntervalMs: 1000, pingTimeoutMs: 2000, autoPromote: true, holdOffMs: 5000 }, { primary: driver(sims[0].endpointUrl), secondary: driver(sims[1].endpointUrl) });
  const pki = mkdtempSync(join(tmpdir(), 'bench-gateway-pki-'));
  const gateway = new GatewayServer({ id: 'bench', port: gp, hostname: '127.0.0.1', applicationName: 'bench-gateway', pkiRoot: pki, acceptAllCertificates: false, securityModes: ['None'], securityPolicies: [], allowAnonymous: true, anonymousWrite: false, readOnly: false, users: [], maxSessions: 100 });
  const clients = await UaClientProcess.start();
  const rows: GatewayRow[] = [];
  try {
    pair.start();
    await gateway.start();
    gateway.expose(pairSource(pair), { alias: 'bench', items: [], mirrorRoots: ['ns=1;s=Bulk'], mirrorDepth: 1, maxNodes: ITEMS + 10 });
    await waitFor(() => gateway.state().pairs[0]?.state === 'ready' && gateway.serviceLevel === 255, 60_000, 'the gateway ready', () => gateway.state());
    const direct = Array.from({ length: ITEMS }, (_, i) => bulkItemId(i));
    const through = direct.map((id) => `ns=2;s=bench/${id}`);
    const selfCpu = async () => process.cpuUsage();
    const serverCpu = async () => (await sims[0].call('cpuUsage')) as NodeJS.CpuUsage;
    for (const n of quick ? [1, 20] : [1, 20]) {
      // Baseline: the same clients straight to the server.
      const sessions: number[] = [];
      for (let c = 0; c < n; c++) sessions.push(await clients.connect({ url: sims[0].endpointUrl }));
      for (const s of sessions) await clients.benchSubscribe(s, direct, 0, PERIOD);
      const base = await measure(clients, n, serverCpu, warmupMs, windowMs);
      for (const s of sessions) await clients.close(s);
      // Through the gateway.
      const gw: number[] = [];
      for (let c = 0; c < n; c++) gw.push(await clients.connect({ url: gateway.endpointUrl }));
      for (const s of gw) await clients.benchSubscribe(s, through, 0, PERIOD);
      const cpu0 = process.cpuUsage();
      const viaGateway = await measure(clients, n, selfCpu, warmupMs, windowMs);
      void cpuSeconds(cpu0);
      const counts = (await sims[0].call('monitoredItems')) as Record<string, number>;
      const upstream = direct.reduce((sum, id) => sum + (counts[id] ?? 0), 0);
      for (const s of gw) await clients.close(s);
      const common = { clients: n, items: ITEMS, sampling_ms: PERIOD, expected_per_s_per_client: (ITEMS * 1000) / PERIOD };
      rows.push({
        path: 'gateway', ...common,
        changes_per_s_per_client: round(viaGateway.perClient, 0),
        upstream_monitored_items: upstream,
        p50_ms: round(viaGateway.p50), p99_ms: round(viaGateway.p99),
        p50_added_ms: round(viaGateway.p50 - base.p50), p99_added_ms: round(viaGateway.p99 - base.p99),
        cpu_s_per_100k: round(viaGateway.cpuPer100k, 3), baseline_cpu_s_per_100k: round(base.cpuPer100k, 3),
      });
      rows.push({
        path: 'direct', ...common,
        changes_per_s_per_client: round(base.perClient, 0), upstream_monitored_items: n * ITEMS,
        p50_ms: round(base.p50), p99_ms: round(base.p99), p50_added_ms: 0, p99_added_ms: 0,
        cpu_s_per_100k: round(base.cpuPer100k, 3), baseline_cpu_s_per_100k: round(base.cpuPer100k, 3),
      });
      await sleep(1000);
    }
  } finally {
    await clients.stop();
    await gateway.stop().catch(() => undefined);
    await pair.stop().catch(() => undefined);
    await Promise.allSettled(sims.map((s) => s.close()));
    rmSync(pki, { recursive: true, force: true });
  }
  return rows;
}
