// What the alarm and trend pair need from the peer link, checked on the real link: one side is the
// `peer-link` node in the Node-RED runtime (its route behind the runtime's admin app, with Node-RED's
// own JSON body parser limit of 5 MB in front), the other a PeerLink in this process behind an HTTP
// server of its own. Service requests of several MB pass; a service request may take longer than a
// heartbeat timeout; a handler's message reaches the caller unchanged; a peer restarted faster than
// the heartbeat timeout gives an `up` event; two instances with one id (a copied user dir) refuse
// each other, as does a link whose peer URL leads back to itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerLinkApi, PeerLinkStatus } from '../../lib/peer/api';
import type { RedundancyEvent } from '../../lib/core/types';
import { PEER_PATH, PeerLink, type PeerLinkOptions } from '../../lib/peer/link';
import { helper, loadFlow, sleep, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const peerLinkModule = require('../../nodes/peer-link');
/* eslint-enable @typescript-eslint/no-require-imports */

const SECRET = 'services-shared-secret';
const I = 100;
const T = 500;

interface Local {
  server: Server;
  port: number;
  link?: PeerLink;
  events: RedundancyEvent[];
}

/** This process's side: a PeerLink answering at its own HTTP server (raw bodies, as the route reads them). */
async function local(): Promise<Local> {
  const h: Local = { server: createServer(), port: await freePort(), events: [] };
  h.server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!h.link || !req.url?.startsWith(`${PEER_PATH}/`)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false}');
      void h.link.handle(JSON.parse(Buffer.concat(chunks).toString('utf8'))).then((r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body)));
    });
  });
  await new Promise<void>((resolve) => h.server.listen(h.port, '127.0.0.1', resolve));
  return h;
}

function startLocal(h: Local, peerUrl: string, over: Partial<PeerLinkOptions> = {}): PeerLink {
  const l = new PeerLink({ name: 'svc', peerUrl, secret: SECRET, heartbeatIntervalMs: I, heartbeatTimeoutMs: T, preferred: 'standby', handback: true, holdOffMs: 500, ...over });
  l.on('event', (e) => h.events.push(e));
  h.link = l;
  l.start();
  return l;
}

describe('peer link for services (peer-link node in the runtime, a link in this process)', function () {
  this.timeout(30_000);
  let me: Local;
  let adminServer: Server;
  let adminUrl: string;
  let dirs: string[] = [];

  beforeEach(async function () {
    await startServer();
    me = await local();
    dirs = [];
  });

  afterEach(async function () {
    await me.link?.close();
    await helper.unload();
    await stopServer();
    me.server.closeAllConnections();
    await new Promise((r) => me.server.close(r));
    if (adminServer) {
      adminServer.closeAllConnections();
      await new Promise((r) => adminServer.close(r));
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Loads the peer-link node; its route is served at adminUrl (the helper keeps the admin app off its port). */
  async function deployNode(): Promise<PeerLinkApi> {
    await loadFlow([peerLinkModule], [{ id: 'lk', type: 'peer-link', name: 'svc', peerUrl: `http://127.0.0.1:${me.port}`, heartbeatInterval: I, heartbeatTimeout: T, preferred: 'primary', holdOff: 500 }], { lk: { secret: SECRET } });
    const admin = (helper as unknown as { _httpAdmin: (req: unknown, res: unknown) => void })._httpAdmin;
    const port = await freePort();
    adminServer = createServer((req, res) => admin(req, res));
    await new Promise<void>((resolve) => adminServer.listen(port, '127.0.0.1', resolve));
    adminUrl = `http://127.0.0.1:${port}`;
    const link = (helper.getNode('lk') as { link?: PeerLinkApi }).link;
    assert.ok(link, 'the node made its link');
    return link;
  }

  it('requests of several MB pass (beyond Node-RED\'s 5 MB JSON limit), a slow handler is waited for, a handler\'s message arrives unchanged', async function () {
    const nodeLink = await deployNode();
    // Registered before the link is up; no duty before it is decided.
    assert.equal(nodeLink.status().state === 'up', false);
    assert.equal(nodeLink.duty().holder, false);
    let received = 0;
    nodeLink.register('alarm-sync/big', (body) => {
      received = JSON.stringify(body).length;
      return { bytes: received };
    });
    nodeLink.register('alarm-sync/slow', async () => {
      await sleep(3 * T);
      return 'late but there';
    });
    nodeLink.register('alarm-sync/fails', () => {
      throw Object.assign(new Error('malformed alarm-sync message: fact x has no key'), { cause: { code: 'ECONNRESET' } });
    });
    const mine = startLocal(me, adminUrl);
    await waitFor(() => mine.status().state === 'up' && nodeLink.status().state === 'up', 8000, 'link up', () => [mine.status(), nodeLink.status()]);
    // Quote-heavy facts: the envelope escapes every quote, so 6 MB of body is well over 5 MB on the wire.
    const facts = Array.from({ length: 30_000 }, (_, i) => ({ id: `1700000000000-${i}-a`, key: `AREA${i % 50}.TAG${i}`, seq: 1, kind: 'ack', at: 1700000000000 + i, by: 'operator "night shift"', comment: 'x'.repeat(120) }));
    const body = { op: 'push', v: 1, facts };
    const size = JSON.stringify(body).length;
    assert.ok(size > 6_000_000, `body of ${size} bytes`);
    assert.deepEqual(await mine.request('alarm-sync/big', body), { bytes: size });
    assert.equal(received, size);
    // Longer than the heartbeat timeout: the default request timeout is 10 s.
    assert.equal(await mine.request('alarm-sync/slow', {}), 'late but there');
    await assert.rejects(mine.request('alarm-sync/fails', {}), (err: Error) => err.message === 'malformed alarm-sync message: fact x has no key');
    // The other way round too.
    mine.register('trend-backfill/x', (b) => ({ echoed: (b as { n: number }).n }));
    assert.deepEqual(await nodeLink.request('trend-backfill/x', { n: 7 }), { echoed: 7 });
  });

  it('a peer restarted within the heartbeat timeout gives an `up` event with its new run; the link never looked down', async function () {
    const nodeLink = await deployNode();
    dirs.push(mkdtempSync(join(tmpdir(), 'svc-restart-')));
    startLocal(me, adminUrl, { stateDir: dirs[0] });
    await waitFor(() => nodeLink.status().state === 'up', 8000, 'link up');
    const first = nodeLink.status();
    assert.ok(first.peerBootId, 'the peer\'s run is known');
    const seen: PeerLinkStatus[] = [];
    nodeLink.on('state', (s) => seen.push(s));
    const epochs: number[] = [nodeLink.duty().epoch];
    nodeLink.on('duty', (d) => epochs.push(d.epoch));
    // The local instance "restarts": a new link on the same user dir (same instance id), at once.
    await me.link!.close();
    const again = startLocal(me, adminUrl, { stateDir: dirs[0] });
    assert.equal(again.instanceId, first.peerInstanceId);
    await waitFor(() => seen.some((s) => s.state === 'up' && s.peerBootId !== first.peerBootId), 5000, 'an up event with the new run', () => seen);
    assert.ok(!seen.some((s) => s.state === 'down'), `never down: ${JSON.stringify(seen)}`);
    assert.equal(nodeLink.status().peerInstanceId, first.peerInstanceId, 'the same instance');
    assert.deepEqual(epochs, [...epochs].sort((x, y) => x - y), `the duty epoch never decreases: ${epochs.join(', ')}`);
  });

  it('two instances with one id (a copied user dir) refuse each other, saying why; a peer URL leading back to this instance likewise', async function () {
    const nodeLink = await deployNode();
    dirs.push(mkdtempSync(join(tmpdir(), 'svc-copy-')));
    writeFileSync(join(dirs[0], 'redundancy-instance.json'), JSON.stringify({ instanceId: nodeLink.instanceId }));
    const copy = startLocal(me, adminUrl, { stateDir: dirs[0] });
    assert.equal(copy.instanceId, nodeLink.instanceId);
    await waitFor(() => copy.status().state === 'refused' && nodeLink.status().state === 'refused', 8000, 'both refused', () => [copy.status(), nodeLink.status()]);
    assert.match(nodeLink.status().reason, /has this instance's id .*copy of this one's \(redundancy-instance\.json\)/);
    assert.match(copy.status().reason, /copy of this one's/);
    await assert.rejects(copy.request('anything', {}), /refused/);
    await copy.close();
    me.link = undefined;
    // A link pointed at itself.
    const self = startLocal(me, `http://127.0.0.1:${me.port}`);
    await waitFor(() => self.status().state === 'refused', 8000, 'refused', () => self.status());
    assert.match(self.status().reason, /leads back to this instance/);
  });
});
