// Two Node-RED processes running alarm-sync and trend-backfill over the real peer link, as the
// two-instance tests and the benchmark use them. One pair serves both store backends at once: each
// backend has its own redundancy-store, alarm group and trend group in the same flow (SQLite: a file
// in each user dir; PostgreSQL: one throw-away cluster, a schema per instance), so one kill -9 and
// restart tests both. The peer URLs go through loopback fault proxies (cut the link for real); with
// a broker, the link has an MQTT witness (a cut link then never gives two duty holders).
//
// Per backend X ('sqlite' | 'pg') the flow holds (ids the same on both instances):
//   alarm-sync  at-al-X   group plant-X, a limit condition TT1.HI (TT1 > 80); outputs → probes
//                         at-act-X (actions), at-list-X (ui-table rows), at-chg-X (changes)
//   trend-backfill at-tr-X  group line-X, tags T1, T2 at `trendPeriodMs`, fed by at-feed (below);
//                         outputs → at-q-X (query results), at-g-X (gaps)
//   trend-backfill at-big-X (only when deployed with bigFlow()): group big-X, 100 tags at 1 s.
// Shared: at-feed, a function fed every 100 ms by an inject node, sends T1 (a sine) and T2 to both
// trend nodes; {topic:'io', payload:false} stops it (IO lost: samples go n/a after the stale time),
// true starts it again; {topic:'nan'} sends T1 = NaN once. A catch node (at-err) and a complete node
// (at-done, for the alarm and trend nodes) feed probes; the diagnostics node feeds at-events.
// Each user dir also gets a loop-probe module: GET /test-probe/loop {p50, p99, max, count} (ms) of
// the event-loop delay since POST /test-probe/loop/reset.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PairStore, openPairStore } from '../../lib/store/pair-store';
import { FaultProxy } from './fault-proxy';
import type { Mosquitto } from './mosquitto';
import { type FlowNode, NodeRedProcess } from './node-red-process';
import { freePort } from './ports';
import type { PostgresCluster } from './postgres';

export type Backend = 'sqlite' | 'pg';
export type Side = 'a' | 'b';

export const LINK_NAME = 'line';
export const SECRET = 'alarm-trend-pair-secret';
export const BIG_TAGS = Array.from({ length: 100 }, (_, i) => `T${String(i).padStart(3, '0')}`);

export const IDS = {
  tab: 'at-tab',
  link: 'at-link',
  inject: 'at-inject',
  feed: 'at-feed',
  catch: 'at-catch',
  err: 'at-err',
  complete: 'at-complete',
  done: 'at-done',
  diag: 'at-diag',
  events: 'at-events',
};

export function idsOf(x: Backend) {
  return {
    store: `at-st-${x}`,
    alarm: `at-al-${x}`,
    act: `at-act-${x}`,
    list: `at-list-${x}`,
    chg: `at-chg-${x}`,
    trend: `at-tr-${x}`,
    query: `at-q-${x}`,
    gaps: `at-g-${x}`,
    big: `at-big-${x}`,
    alarmGroup: `plant-${x}`,
    trendGroup: `line-${x}`,
    bigGroup: `big-${x}`,
  };
}

export interface AlarmTrendTiming {
  intervalMs: number;
  timeoutMs: number;
  holdOffMs: number;
  keepaliveS: number;
  trendPeriodMs: number;
  staleMs: number;
  settleMs: number;
  /** Backfill retry (s, ≥ 1). */
  retryS: number;
  /** Alarm catch-up wait at start (s). */
  catchUpWaitS: number;
}

export const DEFAULT_TIMING: AlarmTrendTiming = { intervalMs: 250, timeoutMs: 1500, holdOffMs: 2500, keepaliveS: 2, trendPeriodMs: 200, staleMs: 500, settleMs: 600, retryS: 1, catchUpWaitS: 5 };

const LOOP_PROBE_JS = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
module.exports = function (RED) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  RED.httpAdmin.post('/test-probe/loop/reset', (req, res) => { h.reset(); res.json({ ok: true }); });
  RED.httpAdmin.get('/test-probe/loop', (req, res) => res.json({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6, count: h.count }));
};
`;

const FEED_JS = [
  "if (msg.topic === 'io') { context.set('io', msg.payload !== false); return null; }",
  "if (msg.topic === 'nan') return [[{ topic: 'T1', payload: NaN }]];",
  "if (context.get('io') === false) return null;",
  'const t = Date.now();',
  "return [[{ topic: 'T1', payload: Math.round(Math.sin(t / 3000) * 10000) / 100 }, { topic: 'T2', payload: t % 100000 }]];",
].join('\n');

export interface PairConfig {
  backends: Backend[];
  timing: AlarmTrendTiming;
  pg?: PostgresCluster;
  broker?: Mosquitto;
  /** Alarm groups only, or trend groups only (the benchmark); default both. */
  parts?: { alarms?: boolean; trends?: boolean };
  /**
   * Keep every alarm list message in a probe (default true). The benchmark's 10 000 alarms make each
   * list a few MB: kept four times a second they would fill the heap it measures.
   */
  listProbe?: boolean;
  /** Environment of each instance (e.g. NODE_OPTIONS for a profile). */
  env?: Partial<Record<Side, Record<string, string>>>;
  /** Runs with the user dirs made, before either process starts (the benchmark seeds b's store). */
  beforeStart?: (dirs: Record<Side, string>) => Promise<void>;
}

function probe(id: string, name: string, x: number, y: number): FlowNode {
  return { id, type: 'test-probe', z: IDS.tab, name, x, y, wires: [] };
}

export function storeNode(x: Backend, side: Side, pgPort?: number): FlowNode {
  const id = idsOf(x).store;
  if (x === 'sqlite') return { id, type: 'redundancy-store', name: 'sqlite', backend: 'sqlite', file: 'pair.sqlite' };
  return { id, type: 'redundancy-store', name: 'pg', backend: 'postgres', host: '127.0.0.1', port: pgPort, database: 'postgres', user: 'postgres', schema: `inst_${side}` };
}

/** The big trend node of one backend (deployed later: the large backfill). */
export function bigNode(x: Backend, scanWindowH: number, y = 600): FlowNode {
  const i = idsOf(x);
  return { id: i.big, type: 'trend-backfill', z: IDS.tab, name: `big ${x}`, link: IDS.link, store: i.store, group: i.bigGroup, period: 1000, tags: BIG_TAGS.join(','), acceptNew: false, stale: 0, retention: 0, chunk: 2000, retry: 3600, scanWindow: scanWindowH, x: 300, y, wires: [[], []] };
}

export function pairFlow(side: Side, peerUrl: string, cfg: PairConfig, witnessUrl?: string): FlowNode[] {
  const t = cfg.timing;
  const parts = { alarms: true, trends: true, ...cfg.parts };
  const flow: FlowNode[] = [
    { id: IDS.tab, type: 'tab', label: 'alarm and trend pair' },
    {
      id: IDS.link, type: 'peer-link', name: LINK_NAME, peerUrl, heartbeatInterval: t.intervalMs, heartbeatTimeout: t.timeoutMs, preferred: side === 'a' ? 'primary' : 'standby',
      handback: 'return', holdOff: t.holdOffMs, witness: !!witnessUrl, witnessUrl: witnessUrl ?? '', witnessPrefix: 'attest', witnessKeepalive: t.keepaliveS,
    },
    {
      id: IDS.diag, type: 'redundancy-diagnostics', z: IDS.tab, name: '', pairs: '', kinds: [], severities: [], maxEvents: 500, persist: false,
      subject: '', body: '', rateLimit: 0, rateWindow: 60000, listSize: 10, x: 200, y: 40, wires: [[IDS.events], [], []],
    },
    probe(IDS.events, 'events', 420, 40),
    { id: IDS.catch, type: 'catch', z: IDS.tab, name: '', scope: null, uncaught: false, x: 200, y: 80, wires: [[IDS.err]] },
    probe(IDS.err, 'errors', 420, 80),
  ];
  const doneScope: string[] = [];
  const trendIds: string[] = [];
  let y = 140;
  for (const x of cfg.backends) {
    const i = idsOf(x);
    flow.push(storeNode(x, side, cfg.pg?.port));
    if (parts.alarms) {
      flow.push(
        {
          id: i.alarm, type: 'alarm-sync', z: IDS.tab, name: `alarms ${x}`, link: IDS.link, store: i.store, group: i.alarmGroup, catchUpWait: t.catchUpWaitS, maxShelve: 480, listFilter: 'all', defaultUser: 'operator',
          conditions: [{ key: 'TT1.HI', source: 'TT1', op: 'gt', limit: 80, deadband: 2, severity: 'high', text: 'reactor hot' }], x: 300, y, wires: [[i.act], cfg.listProbe === false ? [] : [i.list], [i.chg]],
        },
        probe(i.act, `actions ${x}`, 520, y - 20), probe(i.list, `list ${x}`, 520, y), probe(i.chg, `changes ${x}`, 520, y + 20),
      );
      doneScope.push(i.alarm);
      y += 80;
    }
    if (parts.trends) {
      flow.push(
        {
          id: i.trend, type: 'trend-backfill', z: IDS.tab, name: `trend ${x}`, link: IDS.link, store: i.store, group: i.trendGroup, period: t.trendPeriodMs, tags: 'T1,T2', acceptNew: false,
          stale: t.staleMs, retention: 1, chunk: 2000, retry: t.retryS, scanWindow: 0.05, settle: t.settleMs, x: 300, y, wires: [[i.query], [i.gaps]],
        },
        probe(i.query, `query ${x}`, 520, y - 10), probe(i.gaps, `gaps ${x}`, 520, y + 10),
      );
      doneScope.push(i.trend);
      trendIds.push(i.trend);
      y += 80;
    }
  }
  if (parts.trends) {
    flow.push(
      { id: IDS.inject, type: 'inject', z: IDS.tab, name: 'every 100 ms', props: [{ p: 'payload' }], repeat: '0.1', crontab: '', once: true, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', x: 100, y: 500, wires: [[IDS.feed]] },
      { id: IDS.feed, type: 'function', z: IDS.tab, name: 'feed T1, T2', func: FEED_JS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 120, y: 540, wires: [trendIds] },
    );
  }
  flow.push(
    { id: IDS.complete, type: 'complete', z: IDS.tab, name: '', scope: doneScope, uncaught: false, x: 200, y: 120, wires: [[IDS.done]] },
    probe(IDS.done, 'done', 420, 120),
  );
  return flow;
}

export interface AlarmTrendPair {
  a: NodeRedProcess;
  b: NodeRedProcess;
  /** a → b and b → a (the peer link both ways). */
  toB: FaultProxy;
  toA: FaultProxy;
  flows: Record<Side, FlowNode[]>;
  cfg: PairConfig;
  proc(side: Side): NodeRedProcess;
  cutLink(): void;
  healLink(): void;
  /** This process's own connection to an instance's store (read rows, seed samples). */
  openStore(side: Side, x: Backend): Promise<PairStore>;
  dispose(): Promise<void>;
}

function userDirWithProbe(side: Side): string {
  const dir = mkdtempSync(join(tmpdir(), `redundancy-at-${side}-`));
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  writeFileSync(join(dir, 'nodes', 'loop-probe.js'), LOOP_PROBE_JS);
  writeFileSync(join(dir, 'nodes', 'loop-probe.html'), '<script type="text/javascript"></script>');
  return dir;
}

export async function startAlarmTrendPair(cfg: PairConfig): Promise<AlarmTrendPair> {
  const [portA, portB] = [await freePort(), await freePort()];
  const toB = await FaultProxy.start('127.0.0.1', portB);
  const toA = await FaultProxy.start('127.0.0.1', portA);
  const witness = cfg.broker?.url;
  const flows: Record<Side, FlowNode[]> = {
    a: pairFlow('a', `http://127.0.0.1:${toB.port}`, cfg, witness),
    b: pairFlow('b', `http://127.0.0.1:${toA.port}`, cfg, witness),
  };
  const credentials = { [IDS.link]: { secret: SECRET } };
  const dirs = { a: userDirWithProbe('a'), b: userDirWithProbe('b') };
  try {
    await cfg.beforeStart?.(dirs);
  } catch (err) {
    await Promise.all([toA.close(), toB.close()]);
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    throw err;
  }
  const started = await Promise.allSettled((['a', 'b'] as const).map((side) => NodeRedProcess.start({ name: side, port: side === 'a' ? portA : portB, userDir: dirs[side], flows: flows[side], credentials, env: cfg.env?.[side] })));
  if (started.some((r) => r.status === 'rejected')) {
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
    await Promise.all([toA.close(), toB.close()]);
    throw (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
  const [a, b] = started.map((r) => (r as PromiseFulfilledResult<NodeRedProcess>).value);
  return {
    a, b, toA, toB, flows, cfg,
    proc: (side) => (side === 'a' ? a : b),
    cutLink() {
      toA.setMode('blackhole');
      toB.setMode('blackhole');
    },
    healLink() {
      toA.setMode('pass');
      toB.setMode('pass');
    },
    openStore(side, x) {
      if (x === 'sqlite') return openPairStore({ backend: 'sqlite', file: join(side === 'a' ? a.userDir : b.userDir, 'pair.sqlite') });
      if (!cfg.pg) throw new Error('no PostgreSQL cluster');
      return openPairStore({ backend: 'postgres', connectionString: cfg.pg.connectionString, schema: `inst_${side}`, maxConnections: 2 });
    },
    async dispose() {
      await Promise.all([a.dispose(), b.dispose()]);
      await Promise.all([toA.close(), toB.close()]);
      for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
    },
  };
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export async function loopDelay(p: NodeRedProcess): Promise<LoopDelay> {
  return p.get<LoopDelay>('/test-probe/loop');
}

export async function resetLoopDelay(p: NodeRedProcess): Promise<void> {
  await p.post('/test-probe/loop/reset', {});
}
