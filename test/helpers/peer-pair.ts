// Two Node-RED processes joined by a peer link, as the two-instance tests (and the benchmark) use
// them: each instance's peer URL goes through a loopback fault proxy (cut the link for real), and
// with a witness, instance a reaches the mosquitto broker through a proxy too (cut its broker
// connection only). Both run the same flow (same node ids, as when one flow is imported on both);
// only the link's peer URL, preferred role and witness URL differ.
import { FaultProxy } from './fault-proxy';
import type { Mosquitto } from './mosquitto';
import { type FlowNode, NodeRedProcess } from './node-red-process';
import { freePort } from './ports';
import { sleep } from './wait';

export const LINK_NAME = 'line';
export const SECRET = 'a-shared-secret-for-tests';
export const IDS = {
  tab: 'pp-tab',
  link: 'pp-link',
  duty: 'pp-duty',
  out: 'pp-out',
  state: 'pp-state',
  store: 'pp-sw',
  storeOut: 'pp-sw-out',
  storePeer: 'pp-sw-peer',
  diag: 'pp-diag',
  diagOut: 'pp-diag-out',
};

export interface PairTiming {
  intervalMs: number;
  timeoutMs: number;
  holdOffMs: number;
  keepaliveS: number;
}

export interface LinkState {
  instanceId: string;
  link: { state: string; reason: string; since: number };
  duty: { holder: boolean; epoch: number; reason: string; witness: string; since: number };
  history: Array<{ from: number; to?: number; epoch: number }>;
  now: number;
}

export function pairFlow(peerUrl: string, preferred: 'primary' | 'standby', timing: PairTiming, witnessUrl?: string): FlowNode[] {
  return [
    { id: IDS.tab, type: 'tab', label: 'peer pair' },
    {
      id: IDS.link, type: 'peer-link', name: LINK_NAME, peerUrl, heartbeatInterval: timing.intervalMs, heartbeatTimeout: timing.timeoutMs, preferred,
      handback: 'return', holdOff: timing.holdOffMs, witness: !!witnessUrl, witnessUrl: witnessUrl ?? '', witnessPrefix: 'test', witnessKeepalive: timing.keepaliveS,
    },
    { id: IDS.duty, type: 'duty', z: IDS.tab, name: '', link: IDS.link, catchUp: 2000, x: 200, y: 100, wires: [[IDS.out], [IDS.state]] },
    { id: IDS.out, type: 'test-probe', z: IDS.tab, name: 'duty output', x: 400, y: 80, wires: [] },
    { id: IDS.state, type: 'test-probe', z: IDS.tab, name: 'duty state', x: 400, y: 120, wires: [] },
    { id: IDS.store, type: 'standby-write', z: IDS.tab, name: '', link: IDS.link, store: 'recipes', x: 200, y: 200, wires: [[IDS.storeOut], [IDS.storePeer]] },
    { id: IDS.storeOut, type: 'test-probe', z: IDS.tab, name: 'store results', x: 400, y: 180, wires: [] },
    { id: IDS.storePeer, type: 'test-probe', z: IDS.tab, name: 'written by the peer', x: 400, y: 220, wires: [] },
    {
      id: IDS.diag, type: 'redundancy-diagnostics', z: IDS.tab, name: '', pairs: '', kinds: [], severities: [], maxEvents: 200, persist: false,
      subject: '', body: '', rateLimit: 0, rateWindow: 60000, listSize: 10, x: 200, y: 300, wires: [[IDS.diagOut], [], []],
    },
    { id: IDS.diagOut, type: 'test-probe', z: IDS.tab, name: 'events', x: 400, y: 300, wires: [] },
  ];
}

export interface Pair {
  a: NodeRedProcess;
  b: NodeRedProcess;
  /** a → b and b → a (the peer link both ways). */
  toB: FaultProxy;
  toA: FaultProxy;
  /** a → broker (with a witness). */
  brokerA?: FaultProxy;
  flowA: FlowNode[];
  flowB: FlowNode[];
  cutLink(): void;
  healLink(): void;
  dispose(): Promise<void>;
}

export async function startPair(timing: PairTiming, opts: { broker?: Mosquitto; envA?: Record<string, string>; envB?: Record<string, string> } = {}): Promise<Pair> {
  const [portA, portB] = [await freePort(), await freePort()];
  const toB = await FaultProxy.start('127.0.0.1', portB);
  const toA = await FaultProxy.start('127.0.0.1', portA);
  const brokerA = opts.broker ? await FaultProxy.start('127.0.0.1', opts.broker.port) : undefined;
  const flowA = pairFlow(`http://127.0.0.1:${toB.port}`, 'primary', timing, brokerA ? `mqtt://127.0.0.1:${brokerA.port}` : undefined);
  const flowB = pairFlow(`http://127.0.0.1:${toA.port}`, 'standby', timing, opts.broker?.url);
  const credentials = { [IDS.link]: { secret: SECRET } };
  const started = await Promise.allSettled([
    NodeRedProcess.start({ name: 'a', port: portA, flows: flowA, credentials, env: opts.envA }),
    NodeRedProcess.start({ name: 'b', port: portB, flows: flowB, credentials, env: opts.envB }),
  ]);
  if (started.some((r) => r.status === 'rejected')) {
    // Leave nothing running behind a failed start.
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
    await Promise.all([toA.close(), toB.close(), brokerA?.close()]);
    throw (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
  const [a, b] = started.map((r) => (r as PromiseFulfilledResult<NodeRedProcess>).value);
  return {
    a, b, toB, toA, brokerA, flowA, flowB,
    cutLink() {
      toA.setMode('blackhole');
      toB.setMode('blackhole');
    },
    healLink() {
      toA.setMode('pass');
      toB.setMode('pass');
    },
    async dispose() {
      await Promise.all([a.dispose(), b.dispose()]);
      await Promise.all([toA.close(), toB.close(), brokerA?.close()]);
    },
  };
}

/** The link and duty of one instance, or undefined while it does not answer (stopped, starting). */
export async function linkState(p: NodeRedProcess): Promise<LinkState | undefined> {
  if (!p.running) return undefined;
  try {
    return await p.get<LinkState>(`/redundancy/peer/${LINK_NAME}/status`, 2000);
  } catch {
    return undefined;
  }
}

export interface Sample {
  t: number;
  a?: LinkState;
  b?: LinkState;
}

/**
 * Asks both instances who holds the duty every `everyMs`. Two answers saying "holder" prove two
 * holders at one moment only when their holding intervals overlap on the host clock the two
 * processes share: [since, now] of each (`dual()`); answers taken a few ms apart during a clean
 * hand-over do not.
 */
export class DutySampler {
  readonly samples: Sample[] = [];
  private running = true;
  private loop: Promise<void>;

  constructor(
    private readonly pair: { a: NodeRedProcess; b: NodeRedProcess },
    everyMs = 50,
  ) {
    this.loop = (async () => {
      while (this.running) {
        const t = Date.now();
        const [a, b] = await Promise.all([linkState(this.pair.a), linkState(this.pair.b)]);
        this.samples.push({ t, a, b });
        await sleep(Math.max(0, everyMs - (Date.now() - t)));
      }
    })();
  }

  async stop(): Promise<Sample[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }

  /** Samples proving both held the duty at one moment. */
  dual(): Sample[] {
    return this.samples.filter((s) => s.a?.duty.holder && s.b?.duty.holder && Math.max(s.a.duty.since, s.b.duty.since) < Math.min(s.a.now, s.b.now));
  }

  holders(who: 'a' | 'b'): number {
    return this.samples.filter((s) => s[who]?.duty.holder).length;
  }
}
