// Peer link benchmark: two real Node-RED processes joined by a peer link (loopback fault proxies
// between them, mosquitto as witness where it is installed), and the standby-write replication over
// the same signed HTTP transport in this process.
// Rows: {case, witness, takeover_ms, dual_holder_ms, handback_ms, writes_replicated_per_s,
// replication_p99_ms, ...}. Times come from the instances' own duty histories (wall clock of the one
// host both run on): take-over = kill → the standby's take; dual holder = the overlap of the two
// instances' holding intervals; hand-back = the standby's release → the preferred one's take.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realClock } from '../lib/core/clock';
import { PeerLink } from '../lib/peer/link';
import { StandbyStore } from '../lib/peer/standby-store';
import { StandbyWrite } from '../lib/peer/standby-write';
import { MOSQUITTO, Mosquitto } from '../test/helpers/mosquitto';
import { type LinkState, type Pair, type PairTiming, linkState, startPair } from '../test/helpers/peer-pair';
import { freePort } from '../test/helpers/ports';
import { percentile, round, sleep, until as untilEvery } from './stats';

/** Polled every 25 ms: the replication rate ends at the probe that sees the last write. */
const until = (what: string, timeoutMs: number, check: () => Promise<boolean>) => untilEvery(what, timeoutMs, check, undefined, 25);

export interface PeerRow {
  case: string;
  witness: boolean;
  takeover_ms?: number;
  dual_holder_ms?: number;
  handback_ms?: number;
  writes_replicated_per_s?: number;
  replication_p99_ms?: number;
  baseline_local_writes_per_s?: number;
  ratio?: number;
  note?: string;
}

const TIMING: PairTiming = { intervalMs: 250, timeoutMs: 1500, holdOffMs: 2500, keepaliveS: 2 };

async function steady(pair: Pair, witness: boolean): Promise<void> {
  await until('a holding, b standing by', 60_000, async () => {
    const [a, b] = [await linkState(pair.a), await linkState(pair.b)];
    return !!a && !!b && a.duty.holder && !b.duty.holder && a.link.state === 'up' && b.link.state === 'up' && (!witness || (a.duty.witness === 'up' && b.duty.witness === 'up'));
  });
}

type Interval = { from: number; to?: number };

/** ms during which both held the duty, within [from, to]. */
function overlapMs(a: Interval[], b: Interval[], from: number, to: number): number {
  let total = 0;
  for (const x of a) {
    for (const y of b) {
      const start = Math.max(x.from, y.from, from);
      const end = Math.min(x.to ?? to, y.to ?? to, to);
      if (end > start) total += end - start;
    }
  }
  return total;
}

async function killAndReturn(pair: Pair, witness: boolean, rows: PeerRow[]): Promise<void> {
  await steady(pair, witness);
  const killedAt = Date.now();
  await pair.a.kill();
  await until('b holding', 30_000, async () => (await linkState(pair.b))?.duty.holder === true);
  const b = (await linkState(pair.b)) as LinkState;
  rows.push({ case: 'holder killed (kill -9)', witness, takeover_ms: b.duty.since - killedAt, dual_holder_ms: 0 });
  await pair.a.restart();
  const restarted = Date.now();
  await until('a holding again', 60_000, async () => (await linkState(pair.a))?.duty.holder === true);
  await sleep(200);
  const [a2, b2] = [(await linkState(pair.a)) as LinkState, (await linkState(pair.b)) as LinkState];
  const released = b2.history[b2.history.length - 1]?.to ?? NaN;
  const taken = a2.history[a2.history.length - 1]?.from ?? NaN;
  rows.push({
    case: 'hand-back after the hold-off', witness, handback_ms: taken - released,
    dual_holder_ms: overlapMs(a2.history, b2.history, restarted, Date.now()),
    note: `link up → take ${a2.duty.since - a2.link.since} ms (hold-off ${TIMING.holdOffMs})`,
  });
}

async function linkCut(pair: Pair, witness: boolean, rows: PeerRow[], cutMs: number): Promise<void> {
  await steady(pair, witness);
  const from = Date.now();
  pair.cutLink();
  await sleep(cutMs);
  const [a, b] = [(await linkState(pair.a)) as LinkState, (await linkState(pair.b)) as LinkState];
  const to = Date.now();
  pair.healLink();
  const dual = overlapMs(a.history, b.history, from, to);
  const bTook = b.history.find((h) => h.from >= from);
  rows.push({ case: `link cut ${cutMs / 1000} s while both run`, witness, dual_holder_ms: dual, takeover_ms: bTook ? bTook.from - from : undefined, note: witness ? 'b stays standby: the claim stands' : 'both hold (documented without witness)' });
  await steady(pair, witness);
}

/** Standby write over the real transport in this process: rate and latency of replication. */
async function replication(writes: number): Promise<PeerRow> {
  const dirs = [mkdtempSync(join(tmpdir(), 'bench-sw-a-')), mkdtempSync(join(tmpdir(), 'bench-sw-b-'))];
  const ports = [await freePort(), await freePort()];
  const links: PeerLink[] = [];
  const servers = ports.map((port, i) =>
    createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void links[i].handle(JSON.parse(Buffer.concat(chunks).toString('utf8'))).then((r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body)));
      });
    }).listen(port, '127.0.0.1'),
  );
  const common = { name: 'bench', secret: 'bench-secret-123', heartbeatIntervalMs: 250, heartbeatTimeoutMs: 1500, handback: true, holdOffMs: 1000 };
  links.push(new PeerLink({ ...common, peerUrl: `http://127.0.0.1:${ports[1]}`, preferred: 'primary', stateDir: dirs[0] }));
  links.push(new PeerLink({ ...common, peerUrl: `http://127.0.0.1:${ports[0]}`, preferred: 'standby', stateDir: dirs[1] }));
  links.forEach((l) => l.start());
  const a = new StandbyWrite(links[0], new StandbyStore(join(dirs[0], 'a.sqlite'), links[0].instanceId, realClock), 'bench');
  const b = new StandbyWrite(links[1], new StandbyStore(join(dirs[1], 'b.sqlite'), links[1].instanceId, realClock), 'bench');
  const local = new StandbyStore(join(dirs[0], 'baseline.sqlite'), 'baseline', realClock);
  try {
    await until('link up', 10_000, async () => links[0].status().state === 'up' && links[1].status().state === 'up');
    // Baseline in the same run: the same writes into a store with no replication.
    const t0 = performance.now();
    for (let i = 0; i < writes; i++) local.write(`k${i}`, { v: i, at: Date.now() });
    const baseline = writes / ((performance.now() - t0) / 1000);
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    let arrived = 0;
    b.on('remote', (values) => {
      const now = performance.now();
      for (const v of values) {
        const at = sentAt.get(v.key);
        if (at !== undefined) delays.push(now - at);
        arrived++;
      }
    });
    const start = performance.now();
    for (let i = 0; i < writes; i++) {
      sentAt.set(`k${i}`, performance.now());
      a.write(`k${i}`, { v: i, at: Date.now() });
      if (i % 200 === 199) await new Promise((r) => setImmediate(r)); // let the link work meanwhile
    }
    await until('all writes at b', 60_000, async () => arrived >= writes);
    const rate = writes / ((performance.now() - start) / 1000);
    return { case: `standby write, ${writes} writes`, witness: false, writes_replicated_per_s: Math.round(rate), replication_p99_ms: round(percentile(delays, 99)), baseline_local_writes_per_s: Math.round(baseline), ratio: round(baseline / rate, 2), note: 'ratio = local-only rate / replicated rate' };
  } finally {
    a.close();
    b.close();
    local.close();
    await Promise.all(links.map((l) => l.close()));
    servers.forEach((s) => s.close());
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  }
}

export async function runPeerBench(quick: boolean): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  const plain = await startPair(TIMING);
  try {
    process.stdout.write('peer: holder killed, hand-back (no witness)… ');
    await killAndReturn(plain, false, rows);
    process.stdout.write('link cut (no witness)… ');
    await linkCut(plain, false, rows, 3000);
    process.stdout.write('done\n');
  } finally {
    await plain.dispose();
  }
  if (existsSync(MOSQUITTO)) {
    const broker = await Mosquitto.start();
    const withWitness = await startPair(TIMING, { broker });
    try {
      process.stdout.write('peer: holder killed, hand-back (witness)… ');
      await killAndReturn(withWitness, true, rows);
      process.stdout.write('link cut (witness)… ');
      await linkCut(withWitness, true, rows, 4000);
      process.stdout.write('done\n');
    } finally {
      await withWitness.dispose();
      await broker.dispose();
    }
  } else {
    rows.push({ case: 'witness cases', witness: true, note: `skipped: no mosquitto at ${MOSQUITTO}` });
  }
  process.stdout.write('peer: standby write replication… ');
  rows.push(await replication(quick ? 2000 : 10_000));
  process.stdout.write('done\n');
  return rows;
}
