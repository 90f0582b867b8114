// Gateway benchmark: N clients × 1 000 items changing every 100 ms, (a) connected straight to the
// server (the baseline) and (b) through the gateway (a hot pair of two such servers, the gateway's
// OPC UA server in this process), gateway and direct windows alternating, R runs of each.
//
// - The servers (lib/sim) change their 1 000 items in 10 groups spread over the 100 ms period, each
//   stamped with its change time (changes arrive all the time, as a plant's do: every subscription
//   phase is sampled within one window, not one phase per run). Item i holds tick + i, so each
//   change is known by (tick, item).
// - The clients run in child processes (at most CLIENTS_PER_PROCESS each; node-opcua clients, raw
//   notifications): per client, over the window's ticks, changes expected, received, lost (never
//   arrived before the settle deadline) and duplicated; delays receipt − source timestamp and
//   the server's publish time − source timestamp as histograms.
// - Every client asks for the same subscription on both paths: publishing CLIENT_PUBLISHING_MS,
//   sampling 0 (every change), queue QUEUE_SIZE.
// - CPU: this process (the gateway) per 100 000 changes delivered to clients, against the server
//   process when it serves the same clients directly, in the same run.
// - The servers grant publishing down to `serverMinPublishingMs` (node-opcua's default: 50 ms). A
//   change through the gateway waits for the upstream server's publish before the gateway's own
//   publish to its clients: that wait is most of the added latency, so bench/run.ts measures with
//   the default and with a server granting 1 ms.
// `--hops` adds where the time goes inside the gateway (bench/gateway-hops.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedundantPair } from '../lib/core/pair';
import { OpcuaDriver } from '../lib/drivers/opcua';
import { pairSource } from '../lib/gateway/pair-source';
import { GatewayServer } from '../lib/gateway/server';
import { bulkItemId } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { freePort } from '../test/helpers/ports';
import { type BenchReport, UaClientProcess } from '../test/helpers/ua-clients';
import { type HopRecorder, type Histogram, installHops } from './gateway-hops';
import { median, round, sleep, until, waitFor } from './stats';

const ITEMS = 1000;
const PERIOD_MS = 100;
const SLICES = 10;
const CLIENT_PUBLISHING_MS = 100;
const QUEUE_SIZE = 50;
const CLIENTS_PER_PROCESS = 5;

export interface GatewayRow {
  path: 'gateway' | 'direct';
  clients: number;
  items: number;
  sampling_ms: number;
  /** Every client's subscription, on both paths. */
  client_publishing_ms: number;
  /** The fastest publishing interval the upstream servers grant (node-opcua's default: 50). */
  server_min_publishing_ms: number;
  /** The gateway's upstream subscription (revised by the server); direct: none. */
  upstream_publishing_ms: number | null;
  changes_per_s_per_client: number;
  /** Changes a client should get per second (items × 1000 / period), for "every change". */
  expected_per_s_per_client: number;
  upstream_monitored_items: number;
  /** Worst client's share of the window's changes received (1 = every change), median of the runs. */
  received_of_expected: number;
  /** Changes never received and received twice, all clients, summed over the runs. */
  lost: number;
  duplicates: number;
  p50_ms: number;
  p99_ms: number;
  /** Gateway minus the direct clients of the same run (medians of the runs); direct rows: 0. */
  p50_added_ms: number;
  p99_added_ms: number;
  /** The runs' values, for their spread. */
  p50_added_runs: number[];
  p99_added_runs: number[];
  cpu_s_per_100k: number;
  baseline_cpu_s_per_100k: number;
  /** cpu_s_per_100k / baseline of the same run, median of the runs. */
  cpu_ratio: number;
  cpu_ratio_runs: number[];
  /** CPU s per 100 000 changes delivered of the client processes, and of the servers (both; direct: serving the clients). */
  clients_cpu_s_per_100k: number;
  servers_cpu_s_per_100k: number;
  /** Busy share of the machine's cores during the windows (other work on the machine included). */
  machine_busy: number;
  runs: number;
}

export interface HopRow {
  server_min_publishing_ms: number;
  clients: number;
  stage: string;
  p50_ms: number;
  p99_ms: number;
}

interface Window {
  perClient: number;
  receivedOfExpected: number;
  lost: number;
  duplicates: number;
  p50: number;
  p99: number;
  cpuPer100k: number;
  /** The client processes, the servers (both) per 100 000 changes delivered; the machine's busy share of its cores. */
  clientsCpuPer100k: number;
  serversCpuPer100k: number;
  machineBusy: number;
  upstream: number;
  /** The gateway's upstream subscription as granted during the window (gateway path). */
  upstreamPublishingMs: number | null;
}

/** Busy and total jiffies of the machine (all cores), from /proc/stat. */
function machineTimes(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = line.reduce((a, b) => a + b, 0);
    const idle = line[3] + (line[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

const cpuSum = (list: NodeJS.CpuUsage[]) => list.reduce((s, c) => s + (c.user + c.system) / 1e6, 0);


function merge(into: Histogram, pairs: Array<[number, number]>): void {
  for (const [k, n] of pairs) into.set(k, (into.get(k) ?? 0) + n);
}

export function histogramPercentile(h: Histogram, p: number): number {
  const keys = [...h.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const k of keys) total += h.get(k)!;
  if (total === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const k of keys) {
    seen += h.get(k)!;
    if (seen >= rank) return k;
  }
  return keys[keys.length - 1];
}

class ClientPool {
  /** Per client: its process and its session on each path. */
  private clients: Array<{ proc: UaClientProcess; direct: number; gateway: number }> = [];

  private constructor(private readonly procs: UaClientProcess[]) {}

  static async start(n: number, urls: { direct: string; gateway: string }): Promise<ClientPool> {
    const procs = await Promise.all(Array.from({ length: Math.ceil(n / CLIENTS_PER_PROCESS) }, () => UaClientProcess.start()));
    const pool = new ClientPool(procs);
    for (let c = 0; c < n; c++) {
      const proc = procs[c % procs.length];
      pool.clients.push({ proc, direct: await proc.connect({ url: urls.direct }), gateway: await proc.connect({ url: urls.gateway }) });
    }
    return pool;
  }

  get size(): number {
    return this.clients.length;
  }

  async subscribe(path: 'direct' | 'gateway', nodeIds: string[]): Promise<number> {
    const created = await Promise.all(this.clients.map((c) => c.proc.benchSubscribe(c[path], nodeIds, 0, CLIENT_PUBLISHING_MS, QUEUE_SIZE)));
    return created.reduce((a, b) => a + b, 0);
  }

  async unsubscribe(path: 'direct' | 'gateway'): Promise<void> {
    await Promise.all(this.clients.map((c) => c.proc.benchUnsubscribe(c[path])));
  }

  /** Changes received by all clients so far, and the oldest newest tick of any client's items. */
  async progress(): Promise<{ received: number; newest: number }> {
    const all = await Promise.all(this.procs.map((p) => p.benchProgress()));
    let received = 0;
    let newest = Infinity;
    for (const r of all) {
      for (const c of Object.values(r)) {
        received += c.received;
        newest = Math.min(newest, c.newest);
      }
    }
    return { received, newest };
  }

  cpu(): Promise<NodeJS.CpuUsage[]> {
    return Promise.all(this.procs.map((p) => p.cpuUsage()));
  }

  report(from: number, to: number): Promise<BenchReport[]> {
    return Promise.all(this.procs.map((p) => p.benchReport(from, to)));
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.clients.map((c) => Promise.all([c.proc.close(c.direct), c.proc.close(c.gateway)])));
    await Promise.allSettled(this.procs.map((p) => p.stop()));
  }
}

/**
 * `serverMinPublishingMs`: the fastest publishing interval the servers grant (their process's
 * node-opcua minimum; undefined: node-opcua's default, 50 ms). The direct clients ask for
 * CLIENT_PUBLISHING_MS either way; it bounds how fast the gateway's upstream subscription publishes.
 */
export async function runGatewayBench(quick: boolean, options: { hops?: boolean; serverMinPublishingMs?: number } = {}): Promise<{ rows: GatewayRow[]; hops: HopRow[] }> {
  const runs = quick ? 1 : 3;
  const grant = options.serverMinPublishingMs ?? 50;
  const windowMs = quick ? 3000 : 5000;
  const epochMs = Math.floor(Date.now() / PERIOD_MS) * PERIOD_MS;
  const tickNow = () => Math.floor((Date.now() - epochMs) / PERIOD_MS);
  const [p1, p2, gp] = [await freePort(), await freePort(), await freePort()];
  const simOptions = { counterPeriodMs: 1000, epochMs, bulkItems: ITEMS, bulkPeriodMs: PERIOD_MS, bulkSlices: SLICES, minPublishingIntervalMs: options.serverMinPublishingMs };
  const sims = await Promise.all([p1, p2].map((port, i) => SimulatorProcess.spawn({ port, name: `bench-${i}`, ...simOptions })));
  const driver = (url: string) => new OpcuaDriver({ endpointUrl: url, pingIntervalMs: 1000, pingTimeoutMs: 2000 });
  const pair = new RedundantPair({ name: 'bench', mode: 'hot', pingIntervalMs: 1000, pingTimeoutMs: 2000, autoPromote: true, holdOffMs: 5000 }, { primary: driver(sims[0].endpointUrl), secondary: driver(sims[1].endpointUrl) });
  const pki = mkdtempSync(join(tmpdir(), 'bench-gateway-pki-'));
  const gateway = new GatewayServer({ id: 'bench', port: gp, hostname: '127.0.0.1', applicationName: 'bench-gateway', pkiRoot: pki, acceptAllCertificates: false, securityModes: ['None'], securityPolicies: [], allowAnonymous: true, anonymousWrite: false, readOnly: false, users: [], maxSessions: 100 });
  const hops: HopRecorder | undefined = options.hops ? installHops() : undefined;
  const rows: GatewayRow[] = [];
  const hopRows: HopRow[] = [];
  let pool: ClientPool | undefined;
  try {
    pair.start();
    await gateway.start();
    gateway.expose(pairSource(pair), { alias: 'bench', items: [], mirrorRoots: ['ns=1;s=Bulk'], mirrorDepth: 1, maxNodes: ITEMS + 10 });
    await waitFor(() => gateway.state().pairs[0]?.state === 'ready' && gateway.serviceLevel === 255, 60_000, 'the gateway ready', () => gateway.state());
    const ids = { direct: Array.from({ length: ITEMS }, (_, i) => bulkItemId(i)), gateway: [] as string[] };
    ids.gateway = ids.direct.map((id) => `ns=2;s=bench/${id}`);
    const upstreamPublishing = () => (pair as unknown as { channels: Array<{ publishingIntervalMs?: number }> }).channels[0]?.publishingIntervalMs ?? null;

    const measure = async (p: ClientPool, path: 'direct' | 'gateway', hopHist?: Map<string, Histogram>): Promise<Window> => {
      const n = p.size;
      const created = await p.subscribe(path, ids[path]);
      if (created !== n * ITEMS) throw new Error(`${path}: ${created} of ${n * ITEMS} monitored items created`);
      // Live: every client has a change of every item newer than the subscription; then a second more.
      const since = tickNow();
      let last: unknown;
      // (A path that cannot carry the load never gets there: it is measured anyway, and shows it.)
      await until(`${n} ${path} clients with live values of every item`, 20_000, async () => ((last = await p.progress()) as { newest: number }).newest > since, async () => ({ last, tick: since })).catch((err: Error) => console.error(`gateway bench: ${err.message}`));
      await sleep(1000);
      const cpu = path === 'gateway' ? async () => process.cpuUsage() : async () => (await sims[0].call('cpuUsage')) as NodeJS.CpuUsage;
      const from = tickNow();
      const before = await p.progress();
      const cpu0 = await cpu();
      const others0 = { clients: cpuSum(await p.cpu()), servers: cpuSum((await Promise.all(sims.map((x) => x.call('cpuUsage')))) as NodeJS.CpuUsage[]), machine: machineTimes() };
      const t0 = Date.now();
      if (hops) hops.recording = path === 'gateway';
      await sleep(windowMs);
      if (hops) hops.recording = false;
      const cpu1 = await cpu();
      const others1 = { clients: cpuSum(await p.cpu()), servers: cpuSum((await Promise.all(sims.map((x) => x.call('cpuUsage')))) as NodeJS.CpuUsage[]), machine: machineTimes() };
      const after = await p.progress();
      const elapsed = (Date.now() - t0) / 1000;
      const to = tickNow();
      // Settle: every client has got the window's last tick of every item (or never will).
      await until('the window settled', 15_000, async () => (await p.progress()).newest >= to).catch(() => undefined);
      const reports = await p.report(from, to);
      const upstreamPublishingMs = path === 'gateway' ? upstreamPublishing() : null;
      const upstream = path === 'gateway' ? Object.entries((await sims[0].call('monitoredItems')) as Record<string, number>).filter(([id]) => id.startsWith('ns=1;s=Bulk.')).reduce((s, [, k]) => s + k, 0) : n * ITEMS;
      await p.unsubscribe(path);
      const delay: Histogram = new Map();
      let lost = 0;
      let duplicates = 0;
      let worst = 1;
      for (const r of reports) {
        merge(delay, r.delay);
        for (const c of Object.values(r.clients)) {
          lost += c.lost;
          duplicates += c.duplicates;
          worst = Math.min(worst, c.expected > 0 ? (c.expected - c.lost) / c.expected : 0);
        }
      }
      if (hopHist) {
        for (const [k, h] of [[`${path} client receipt`, delay]] as const) {
          if (!hopHist.has(k)) hopHist.set(k, new Map());
          merge(hopHist.get(k)!, [...h]);
        }
      }
      const delivered = after.received - before.received;
      const cpuS = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / 1e6;
      return {
        perClient: delivered / elapsed / n,
        receivedOfExpected: worst,
        lost,
        duplicates,
        p50: histogramPercentile(delay, 50),
        p99: histogramPercentile(delay, 99),
        cpuPer100k: delivered > 0 ? (cpuS / delivered) * 1e5 : NaN,
        clientsCpuPer100k: delivered > 0 ? ((others1.clients - others0.clients) / delivered) * 1e5 : NaN,
        serversCpuPer100k: delivered > 0 ? ((others1.servers - others0.servers) / delivered) * 1e5 : NaN,
        machineBusy: (others1.machine.busy - others0.machine.busy) / (others1.machine.total - others0.machine.total),
        upstream,
        upstreamPublishingMs,
      };
    };

    for (const n of [1, 20]) {
      pool = await ClientPool.start(n, { direct: sims[0].endpointUrl, gateway: gateway.endpointUrl });
      const results: Array<{ direct: Window; gateway: Window }> = [];
      const hopHist = new Map<string, Histogram>();
      if (hops) for (const h of Object.values(hops.stages)) h.clear();
      for (let r = 0; r < runs; r++) {
        // Alternating order: a drift of the machine's load favours neither path.
        const order: Array<'direct' | 'gateway'> = r % 2 === 0 ? ['direct', 'gateway'] : ['gateway', 'direct'];
        const got: Partial<Record<'direct' | 'gateway', Window>> = {};
        for (const path of order) got[path] = await measure(pool, path, hopHist);
        results.push(got as { direct: Window; gateway: Window });
      }
      await pool.stop();
      pool = undefined;
      const common = { clients: n, items: ITEMS, sampling_ms: PERIOD_MS, client_publishing_ms: CLIENT_PUBLISHING_MS, expected_per_s_per_client: (ITEMS * 1000) / PERIOD_MS, runs };
      const pick = (path: 'direct' | 'gateway', f: (w: Window) => number) => median(results.map((x) => f(x[path])));
      const added = (f: (w: Window) => number) => results.map((x) => round(f(x.gateway) - f(x.direct)));
      const ratios = results.map((x) => round(x.gateway.cpuPer100k / x.direct.cpuPer100k, 2));
      const baseCpu = round(pick('direct', (w) => w.cpuPer100k), 3);
      for (const path of ['gateway', 'direct'] as const) {
        rows.push({
          path,
          ...common,
          server_min_publishing_ms: grant,
          upstream_publishing_ms: path === 'gateway' ? pick(path, (w) => w.upstreamPublishingMs ?? NaN) : null,
          changes_per_s_per_client: round(pick(path, (w) => w.perClient), 0),
          upstream_monitored_items: round(pick(path, (w) => w.upstream), 0),
          received_of_expected: round(pick(path, (w) => w.receivedOfExpected), 4),
          lost: results.reduce((s, x) => s + x[path].lost, 0),
          duplicates: results.reduce((s, x) => s + x[path].duplicates, 0),
          p50_ms: round(pick(path, (w) => w.p50)),
          p99_ms: round(pick(path, (w) => w.p99)),
          p50_added_ms: path === 'gateway' ? round(median(added((w) => w.p50))) : 0,
          p99_added_ms: path === 'gateway' ? round(median(added((w) => w.p99))) : 0,
          p50_added_runs: path === 'gateway' ? added((w) => w.p50) : [],
          p99_added_runs: path === 'gateway' ? added((w) => w.p99) : [],
          cpu_s_per_100k: round(pick(path, (w) => w.cpuPer100k), 3),
          baseline_cpu_s_per_100k: baseCpu,
          cpu_ratio: path === 'gateway' ? round(median(ratios), 2) : 1,
          cpu_ratio_runs: path === 'gateway' ? ratios : [],
          clients_cpu_s_per_100k: round(pick(path, (w) => w.clientsCpuPer100k), 3),
          servers_cpu_s_per_100k: round(pick(path, (w) => w.serversCpuPer100k), 3),
          machine_busy: round(pick(path, (w) => w.machineBusy), 2),
        });
      }
      if (hops) {
        const stages: Array<[string, Histogram]> = [
          ['driver', hops.stages.driver],
          ['exposure in', hops.stages.exposure_in],
          ['exposure out', hops.stages.exposure_out],
          ['gateway publish', hops.stages.gateway_publish],
          ['client receipt', hopHist.get('gateway client receipt') ?? new Map()],
          ['direct: client receipt', hopHist.get('direct client receipt') ?? new Map()],
        ];
        for (const [stage, h] of stages) hopRows.push({ server_min_publishing_ms: grant, clients: n, stage, p50_ms: histogramPercentile(h, 50), p99_ms: histogramPercentile(h, 99) });
        hopRows.push({ server_min_publishing_ms: grant, clients: n, stage: `exposure handler (ms per 1000 changes; ${hops.messages} upstream messages)`, p50_ms: round((hops.exposureMs / Math.max(1, hops.changes)) * 1000, 2), p99_ms: NaN });
        hops.messages = 0;
        hops.changes = 0;
        hops.exposureMs = 0;
      }
      await sleep(500);
    }
  } finally {
    hops?.uninstall();
    await pool?.stop();
    await gateway.stop().catch(() => undefined);
    await pair.stop().catch(() => undefined);
    await Promise.allSettled(sims.map((s) => s.close()));
    rmSync(pki, { recursive: true, force: true });
  }
  return { rows, hops: hopRows };
}
