// The peer link's transport in one process over real HTTP: two links, each behind an HTTP server of
// its own (as Node-RED's admin server would carry them), a recording forwarder between them to
// capture genuine requests; wrong secrets, replays and replays across a restart refused and
// reported; services called both ways; standby write replicated, queued and cross-copied.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../lib/core/clock';
import { realClock } from '../../lib/core/clock';
import { compareHlc, parseHlc } from '../../lib/core/hlc';
import type { RedundancyEvent } from '../../lib/core/types';
import { PEER_PATH, PeerLink, type PeerLinkOptions } from '../../lib/peer/link';
import { StandbyStore } from '../../lib/peer/standby-store';
import { StandbyWrite } from '../../lib/peer/standby-write';
import { freePort } from '../helpers/ports';
import { sleep, waitFor } from '../helpers/wait';

const I = 100;
const T = 500;

interface Host {
  server: Server;
  port: number;
  link?: PeerLink;
  /** Envelopes received, in order. */
  received: unknown[];
  events: RedundancyEvent[];
  /** When false, requests get no answer (a cut link). */
  answering: boolean;
}

async function host(port?: number): Promise<Host> {
  const h: Host = { server: createServer(), port: port ?? (await freePort()), received: [], events: [], answering: true };
  h.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!h.answering) return; // the request hangs: the caller times out
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown;
      h.received.push(body);
      if (!h.link || !req.url?.startsWith(`${PEER_PATH}/`)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false}');
        return;
      }
      void h.link.handle(body).then((r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body)));
    });
  });
  await new Promise<void>((resolve) => h.server.listen(h.port, '127.0.0.1', resolve));
  return h;
}

function link(h: Host, peer: Host, over: Partial<PeerLinkOptions> = {}): PeerLink {
  const l = new PeerLink({ name: 'line', peerUrl: `http://127.0.0.1:${peer.port}`, secret: 'the-shared-secret', heartbeatIntervalMs: I, heartbeatTimeoutMs: T, preferred: 'primary', handback: true, holdOffMs: 500, ...over });
  l.on('event', (e) => h.events.push(e));
  h.link = l;
  l.start();
  return l;
}

async function post(port: number, body: unknown): Promise<{ status: number; body: { code?: string; error?: string; p?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}${PEER_PATH}/line`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { code?: string; error?: string } };
}

describe('peer link over real HTTP (one process)', function () {
  this.timeout(20_000);
  let a: Host;
  let b: Host;
  let dirs: string[] = [];

  beforeEach(async function () {
    a = await host();
    b = await host();
    dirs = [mkdtempSync(join(tmpdir(), 'peer-a-')), mkdtempSync(join(tmpdir(), 'peer-b-'))];
  });

  afterEach(async function () {
    await a.link?.close();
    await b.link?.close();
    a.server.closeAllConnections();
    b.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    await new Promise((r) => b.server.close(r));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('comes up both ways; the preferred instance holds the duty; services answer both ways', async function () {
    const la = link(a, b, { stateDir: dirs[0] });
    const lb = link(b, a, { preferred: 'standby', stateDir: dirs[1] });
    lb.register('echo', (body) => ({ echoed: body, by: lb.instanceId }));
    await waitFor(() => la.status().state === 'up' && lb.status().state === 'up' && la.duty().holder, 5000, 'link up and a holding', () => [la.status(), lb.duty()]);
    assert.equal(lb.duty().holder, false);
    assert.deepEqual(await la.request('echo', { x: 1 }), { echoed: { x: 1 }, by: lb.instanceId });
    await assert.rejects(la.request('nothing', {}), /no service "nothing" on the peer/);
    lb.register('boom', () => {
      throw new Error('handler failed');
    });
    await assert.rejects(la.request('boom', {}), /handler failed/);
    assert.ok(a.events.some((e) => e.kind === 'peer-up'));
    assert.ok(a.events.some((e) => e.kind === 'duty-taken' && e.to === 'primary'));
    assert.notEqual(la.instanceId, lb.instanceId);
  });

  it('a wrong shared secret is refused on both sides and reported', async function () {
    const la = link(a, b);
    const lb = link(b, a, { preferred: 'standby', secret: 'another-secret' });
    await waitFor(() => la.status().state === 'refused' && lb.status().state === 'refused', 5000, 'both refused', () => [la.status(), lb.status()]);
    assert.match(la.status().reason, /shared secrets differ/);
    assert.ok(a.events.some((e) => e.kind === 'peer-refused' && e.severity === 'error'));
    assert.equal(a.events.filter((e) => e.kind === 'peer-refused').length, 1, 'reported once, not per heartbeat');
    await assert.rejects(la.request('x', {}), /refused/);
  });

  it('a replayed request is refused and reported; after the receiver restarts, an old request is refused too', async function () {
    const la = link(a, b);
    const lb = link(b, a, { preferred: 'standby' });
    await waitFor(() => la.status().state === 'up' && lb.status().state === 'up', 5000, 'link up');
    const heartbeat = b.received.find((env) => /"service":"heartbeat"/.test((env as { p: string }).p));
    assert.ok(heartbeat, 'a genuine heartbeat was captured');
    const replay = await post(b.port, heartbeat);
    assert.equal(replay.status, 409);
    assert.equal(replay.body.code, undefined, 'the answer is signed (code inside)');
    assert.match(String(JSON.parse(replay.body.p as string).error), /replayed request refused/);
    await waitFor(() => b.events.some((e) => e.kind === 'peer-refused' && /replayed/.test(e.reason)), 2000, 'the replay reported');
    assert.equal(lb.status().state, 'up', 'the genuine link stays up');
    // A forged request (body altered, signature kept) is refused as a bad signature.
    const forged = { ...(heartbeat as { p: string; s: string }), p: (heartbeat as { p: string }).p.replace('"seq":', '"seq":9') };
    assert.equal((await post(b.port, forged)).status, 401);
    // The receiver restarts: a new boot; a request addressed to its old boot is refused.
    await lb.close();
    const lb2 = link(b, a, { preferred: 'standby' });
    const old = await post(b.port, heartbeat);
    assert.equal(old.status, 409);
    assert.match(String(JSON.parse(old.body.p as string).error), /addressed to boot/);
    // The genuine peer notices the restart and carries on.
    await waitFor(() => lb2.status().state === 'up' && la.status().state === 'up', 5000, 'link up again after the restart', () => [la.status(), lb2.status()]);
  });

  it('standby write: replicated at once, queued while the peer is unreachable, converged by the hybrid clock rule with skewed clocks', async function () {
    const la = link(a, b, { stateDir: dirs[0] });
    const lb = link(b, a, { preferred: 'standby', stateDir: dirs[1] });
    const ahead: Clock = { ...realClock, now: () => Date.now() + 30_000 }; // b's clock runs 30 s ahead
    const sa = new StandbyWrite(la, new StandbyStore(join(dirs[0], 's.sqlite'), la.instanceId, realClock), 'recipes', 200);
    const sb = new StandbyWrite(lb, new StandbyStore(join(dirs[1], 's.sqlite'), lb.instanceId, ahead), 'recipes', 200);
    try {
      await waitFor(() => la.status().state === 'up' && lb.status().state === 'up', 5000, 'link up');
      sa.write('setpoint', 42);
      await waitFor(() => sb.get('setpoint')?.value === 42, 3000, 'replicated to b');
      // Causality beats the clocks: b writes, a sees it, a writes later: a's write wins though a's clock is 30 s behind.
      sb.write('mode', 'from-b');
      await waitFor(() => sa.get('mode')?.value === 'from-b', 3000, 'b\'s write at a');
      const later = sa.write('mode', 'from-a');
      assert.equal(compareHlc(parseHlc(later.stamp), parseHlc(sb.get('mode')!.stamp)), 1, 'a\'s later write is stamped after b\'s');
      await waitFor(() => sb.get('mode')?.value === 'from-a', 3000, 'a\'s later write wins on b');
      // Partition: each side writes; queued on both.
      a.answering = false;
      b.answering = false;
      await waitFor(() => la.status().state === 'down' && lb.status().state === 'down', 5000, 'link down');
      sb.write('batch', 'b-during-cut');
      await sleep(20);
      sa.write('batch', 'a-during-cut (later in real time, but b\'s clock is ahead)');
      sa.write('only-a', 1);
      sb.write('only-b', 2);
      assert.equal(sa.status().queued, 2);
      assert.equal(sb.status().queued, 2);
      a.answering = true;
      b.answering = true;
      await waitFor(() => sa.status().queued === 0 && sb.status().queued === 0 && JSON.stringify(sa.store.all()) === JSON.stringify(sb.store.all()), 8000, 'converged', () => [sa.store.all(), sb.store.all()]);
      assert.deepEqual(sa.store.all(), { batch: 'b-during-cut', mode: 'from-a', 'only-a': 1, 'only-b': 2, setpoint: 42 });
    } finally {
      sa.close();
      sb.close();
    }
  });
});
