// The duty election of two instances in fake time: a simulated link (heartbeat exchanges that can be
// cut), a simulated MQTT broker (retained claims, last wills, acknowledged pings, connections that
// can be cut per instance), and a sampler that checks after every step that at most one instance
// holds the duty (except where the rule without witness documents two).
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { DutyElection, type DutyHost, type HandoverRequest, type PreferredRole, type WitnessClaim, outranks, priorityOver } from '../../lib/peer/duty';

const I = 200;
const T = 600;
const HOLD = 1000;

interface Sim {
  clock: FakeClock;
  a: DutyElection;
  b: DutyElection;
  link: { up: boolean };
  broker?: Broker;
  alive: Record<'a' | 'b', boolean>;
  /** Times (fake ms) at which both held the duty. */
  dual: number[];
  step(ms: number): Promise<void>;
}

class Broker {
  claims = new Map<string, WitnessClaim>();
  connected = new Set<string>();
  /** Instances whose packets the broker no longer receives (cut, not yet noticed). */
  deaf = new Set<string>();
  members = new Map<string, DutyElection>();

  constructor(private readonly clock: FakeClock) {}

  join(id: string, e: DutyElection): void {
    this.members.set(id, e);
    this.connected.add(id);
    e.witnessConnected(true);
    for (const [inst, c] of this.claims) e.claimSeen(inst, c);
  }

  notify(inst: string, claim: WitnessClaim | null): void {
    for (const [id, e] of this.members) if (id !== inst && this.connected.has(id) && !this.deaf.has(id)) e.claimSeen(inst, claim);
  }

  publish(inst: string, claim: WitnessClaim | null): Promise<void> {
    if (!this.connected.has(inst) || this.deaf.has(inst)) return new Promise((_, reject) => this.clock.setTimeout(() => reject(new Error('no ack')), 2 * I));
    if (claim) this.claims.set(inst, claim);
    else this.claims.delete(inst);
    this.notify(inst, claim);
    return Promise.resolve();
  }

  /** The broker drops the connection: the last will clears the claim at once. */
  drop(inst: string): void {
    this.connected.delete(inst);
    if (this.claims.delete(inst)) this.notify(inst, null);
  }

  pings(): void {
    for (const id of this.connected) if (!this.deaf.has(id)) this.members.get(id)?.pingAcked(this.clock.now());
  }
}

function host(sim: () => Sim, self: 'a' | 'b', id: string, preferred: PreferredRole, broker?: Broker): DutyHost {
  return {
    publishClaim: (epoch) => broker?.publish(id, { instance: id, epoch, preferred }) ?? Promise.resolve(),
    clearClaim: () => broker?.publish(id, null) ?? Promise.resolve(),
    handOver: async (req: HandoverRequest) => {
      const s = sim();
      const other = self === 'a' ? s.b : s.a;
      if (!s.link.up || !s.alive[self === 'a' ? 'b' : 'a']) return false;
      return other.receiveHandover(req, s.clock.now() - req.stoppedAgoMs).taken;
    },
    persistEpoch: () => undefined,
  };
}

function makeSim(opts: { witness: boolean; handback?: boolean }): Sim {
  const clock = new FakeClock(0);
  const broker = opts.witness ? new Broker(clock) : undefined;
  let sim!: Sim;
  const common = { heartbeatIntervalMs: I, heartbeatTimeoutMs: T, handback: opts.handback ?? true, holdOffMs: HOLD, witness: opts.witness, initialEpoch: 0, wallNow: () => clock.now() };
  const a = new DutyElection({ ...common, instanceId: 'a', preferred: 'primary' }, host(() => sim, 'a', 'a', 'primary', broker), clock);
  const b = new DutyElection({ ...common, instanceId: 'b', preferred: 'standby' }, host(() => sim, 'b', 'b', 'standby', broker), clock);
  const link = { up: true };
  const alive = { a: true, b: true };
  const dual: number[] = [];
  const beat = () => {
    if (link.up && alive.a && alive.b) {
      sim.a.exchange(sim.b.view());
      sim.b.exchange(sim.a.view());
    }
    broker?.pings();
    clock.setTimeout(beat, I);
  };
  sim = {
    clock, a, b, link, broker, alive, dual,
    async step(ms) {
      for (let t = 0; t < ms; t += 10) {
        await clock.advance(10);
        if (alive.a && alive.b && sim.a.status().holder && sim.b.status().holder) dual.push(clock.now());
      }
    },
  };
  a.start();
  b.start();
  if (broker) {
    broker.join('a', a);
    broker.join('b', b);
  }
  clock.setTimeout(beat, 5);
  return sim;
}

/** Kills an instance: no more heartbeats from it, its broker connection closes (last will). */
function kill(sim: Sim, who: 'a' | 'b'): void {
  sim.alive[who] = false;
  const e = who === 'a' ? sim.a : sim.b;
  void e.stop; // a killed instance runs nothing more: its timers are dropped by not being advanced
  (e as unknown as { stopping: boolean }).stopping = true;
  (e as unknown as { holder: boolean }).holder = false;
  sim.broker?.drop(who);
}

describe('duty election (fake time, simulated link and broker)', function () {
  it('rank: newer epoch first, then the preferred primary, then the lower instance id', function () {
    assert.ok(outranks({ instance: 'b', epoch: 3, preferred: 'standby' }, { instance: 'a', epoch: 2, preferred: 'primary' }));
    assert.ok(outranks({ instance: 'b', epoch: 2, preferred: 'primary' }, { instance: 'a', epoch: 2, preferred: 'standby' }));
    assert.ok(priorityOver({ instance: 'a', preferred: 'standby' }, { instance: 'b', preferred: 'standby' }));
  });

  for (const witness of [false, true]) {
    describe(witness ? 'with witness' : 'without witness', function () {
      it('the preferred instance takes the duty at start, the standby waits', async function () {
        const sim = makeSim({ witness });
        await sim.step(300);
        assert.equal(sim.a.status().holder, true, sim.a.status().reason);
        assert.equal(sim.b.status().holder, false);
        assert.match(sim.b.status().reason, /peer holds the duty/);
        assert.equal(sim.a.status().epoch, 1);
        assert.deepEqual(sim.dual, []);
      });

      it('holder killed: the standby takes over after the timeout; back: the duty returns after the hold-off, never two holders', async function () {
        const sim = makeSim({ witness });
        await sim.step(500);
        const killedAt = sim.clock.now();
        kill(sim, 'a');
        await sim.step(T + I);
        assert.equal(sim.b.status().holder, true, sim.b.status().reason);
        assert.equal(sim.b.status().epoch, 2);
        // A new process of a on the same user dir (its persisted epoch).
        const common = { heartbeatIntervalMs: I, heartbeatTimeoutMs: T, handback: true, holdOffMs: HOLD, witness, initialEpoch: 1, wallNow: () => sim.clock.now() };
        const a2 = new DutyElection({ ...common, instanceId: 'a', preferred: 'primary' }, host(() => sim, 'a', 'a', 'primary', sim.broker), sim.clock);
        sim.a = a2;
        sim.alive.a = true;
        a2.start();
        if (sim.broker) sim.broker.join('a', a2);
        await sim.step(HOLD / 2);
        assert.equal(a2.status().holder, false, 'not before the hold-off');
        assert.match(sim.b.status().reason, /hands it back/);
        await sim.step(HOLD);
        assert.equal(a2.status().holder, true, a2.status().reason);
        assert.equal(sim.b.status().holder, false);
        assert.equal(a2.status().epoch, 3);
        assert.deepEqual(sim.dual, [], 'never two holders');
        assert.ok(killedAt > 0);
      });

      it('graceful stop of the holder hands over at once (no timeout)', async function () {
        const sim = makeSim({ witness });
        await sim.step(500);
        const p = sim.a.stop();
        await sim.clock.advance(0);
        await p;
        assert.equal(sim.b.status().holder, true, sim.b.status().reason);
        assert.match(sim.b.status().reason, /handed over by the peer/);
        sim.alive.a = false;
        await sim.step(100);
        assert.deepEqual(sim.dual, []);
      });

      it('with hand-back off, the standby keeps the duty when the preferred instance returns', async function () {
        const sim = makeSim({ witness, handback: false });
        await sim.step(500);
        sim.link.up = false;
        if (witness) sim.broker!.drop('a');
        sim.alive.a = false;
        (sim.a as unknown as { holder: boolean }).holder = false;
        (sim.a as unknown as { stopping: boolean }).stopping = true;
        await sim.step(T + 2 * I);
        assert.equal(sim.b.status().holder, true);
        const a2 = new DutyElection({ heartbeatIntervalMs: I, heartbeatTimeoutMs: T, handback: false, holdOffMs: HOLD, witness, initialEpoch: 1, instanceId: 'a', preferred: 'primary' }, host(() => sim, 'a', 'a', 'primary', sim.broker), sim.clock);
        sim.a = a2;
        sim.alive.a = true;
        sim.link.up = true;
        a2.start();
        if (sim.broker) sim.broker.join('a', a2);
        await sim.step(3 * HOLD);
        assert.equal(sim.b.status().holder, true);
        assert.equal(a2.status().holder, false);
        assert.deepEqual(sim.dual, []);
      });
    });
  }

  it('without witness, a cut link gives two holders (documented); when it heals, the newer epoch keeps it and hands back after the hold-off', async function () {
    const sim = makeSim({ witness: false });
    await sim.step(500);
    sim.link.up = false;
    await sim.step(T + 2 * I);
    assert.equal(sim.a.status().holder, true);
    assert.equal(sim.b.status().holder, true);
    assert.match(sim.b.status().reason, /no witness/);
    sim.link.up = true;
    sim.dual.length = 0;
    await sim.step(2 * I);
    assert.equal(sim.a.status().holder, false, 'the older epoch releases at once');
    assert.equal(sim.b.status().holder, true);
    await sim.step(HOLD + 2 * I);
    assert.equal(sim.a.status().holder, true, 'handed back after the hold-off');
    assert.equal(sim.b.status().holder, false);
  });

  it('with witness, a cut link while both run keeps exactly one holder (the claim stands)', async function () {
    const sim = makeSim({ witness: true });
    await sim.step(500);
    sim.link.up = false;
    await sim.step(10 * T);
    assert.equal(sim.a.status().holder, true, sim.a.status().reason);
    assert.match(sim.a.status().reason, /witness confirms/);
    assert.equal(sim.b.status().holder, false);
    assert.match(sim.b.status().reason, /claim of a .* stands on the witness/);
    assert.deepEqual(sim.dual, []);
    sim.link.up = true;
    await sim.step(3 * I);
    assert.equal(sim.a.status().holder, true);
    assert.deepEqual(sim.dual, []);
  });

  it('with witness, the holder\'s broker connection cut but not the link: no change', async function () {
    const sim = makeSim({ witness: true });
    await sim.step(500);
    sim.broker!.deaf.add('a');
    await sim.step(T);
    sim.broker!.drop('a'); // the broker gives up on a: its last will clears the claim
    await sim.step(5 * T);
    assert.equal(sim.a.status().holder, true, sim.a.status().reason);
    assert.equal(sim.b.status().holder, false);
    assert.deepEqual(sim.dual, []);
  });

  it('with witness, link and the holder\'s broker connection both cut: the holder releases before the standby takes', async function () {
    const sim = makeSim({ witness: true });
    await sim.step(500);
    sim.link.up = false;
    sim.broker!.deaf.add('a');
    let released: number | undefined;
    let taken: number | undefined;
    sim.a.on('transition', (t) => {
      if (!t.taken) released = sim.clock.now();
    });
    sim.b.on('transition', (t) => {
      if (t.taken) taken = sim.clock.now();
    });
    await sim.step(3 * I);
    sim.broker!.drop('a'); // 1.5 keep-alives later the broker fires a's will
    await sim.step(5 * T);
    assert.ok(released !== undefined, sim.a.status().reason);
    assert.ok(taken !== undefined, sim.b.status().reason);
    assert.ok(released < taken, `released at ${released}, taken at ${taken}`);
    assert.deepEqual(sim.dual, []);
  });

  it('with witness, a retained claim that arrives before the subscription is confirmed still counts', async function () {
    const sim = makeSim({ witness: true });
    await sim.step(500);
    sim.b.witnessConnected(false);
    sim.b.claimSeen('a', { instance: 'a', epoch: 1, preferred: 'primary' }); // retained, delivered with the SUBACK
    sim.b.witnessConnected(true);
    sim.link.up = false;
    await sim.step(5 * T);
    assert.equal(sim.b.status().holder, false, sim.b.status().reason);
    assert.deepEqual(sim.dual, []);
  });

  it('with witness, a standby that cannot reach the witness does not take over', async function () {
    const sim = makeSim({ witness: true });
    await sim.step(500);
    sim.b.witnessConnected(false);
    sim.broker!.connected.delete('b');
    kill(sim, 'a');
    await sim.step(5 * T);
    assert.equal(sim.b.status().holder, false);
    assert.match(sim.b.status().reason, /witness is unreachable/);
  });

  it('with witness, both starting with the link cut: one claim wins by rank, the other withdraws', async function () {
    const clock = new FakeClock(0);
    const broker = new Broker(clock);
    let sim!: Sim;
    const common = { heartbeatIntervalMs: I, heartbeatTimeoutMs: T, handback: true, holdOffMs: HOLD, witness: true, initialEpoch: 4, wallNow: () => clock.now() };
    const a = new DutyElection({ ...common, instanceId: 'a', preferred: 'primary' }, host(() => sim, 'a', 'a', 'primary', broker), clock);
    const b = new DutyElection({ ...common, instanceId: 'b', preferred: 'standby' }, host(() => sim, 'b', 'b', 'standby', broker), clock);
    sim = { clock, a, b, link: { up: false }, broker, alive: { a: true, b: true }, dual: [], step: async () => undefined };
    a.start();
    b.start();
    broker.join('a', a);
    broker.join('b', b);
    const dual: number[] = [];
    const beat = () => {
      broker.pings();
      clock.setTimeout(beat, I);
    };
    beat();
    for (let t = 0; t < 10 * T; t += 10) {
      await clock.advance(10);
      if (a.status().holder && b.status().holder) dual.push(clock.now());
    }
    assert.deepEqual(dual, []);
    assert.equal(a.status().holder, true, a.status().reason);
    assert.equal(b.status().holder, false, b.status().reason);
    assert.equal(a.status().epoch, 5);
  });
});
