// The editor's server side in a real Node-RED process with adminAuth: the certificate flow end to
// end (Sign and encrypt to the simulators: refused, trusted through httpAdmin, connected; the client
// certificate and the trust survive a restart), discovery, browsing and searching (deployed pair and
// temporary connection), permissions (no token, a read-only user), and a blackholed server (the
// request ends in its bound and leaves no connection behind).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OpcuaSimulator, SIM_ITEMS, simulatorEndpointUrl } from '../../lib/sim/opcua-simulator';
import { FaultProxy } from '../helpers/fault-proxy';
import { ADMIN, EditorProcess, VIEWER } from '../helpers/editor-process';
import { freePort } from '../helpers/ports';
import { sleep } from '../helpers/wait';

const PAIR = 'edit-pair';

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

describe('editor httpAdmin: certificates, discovery, browsing, permissions (Node-RED process, adminAuth)', function () {
  this.timeout(120_000);
  let primary: OpcuaSimulator;
  let secondary: OpcuaSimulator;
  let nr: EditorProcess;
  let admin: string;
  let viewer: string;
  let primaryPort: number;

  before(async function () {
    primaryPort = await freePort();
    primary = new OpcuaSimulator({ port: primaryPort, name: 'edit-primary' });
    secondary = new OpcuaSimulator({ port: await freePort(), name: 'edit-secondary' });
    await Promise.all([primary.start(), secondary.start()]);
    const flow = [
      { id: 'tab1', type: 'tab', label: 'editor test' },
      { id: PAIR, type: 'redundant-pair', name: 'Linie Süd (secure)', protocol: 'opcua', primaryEndpoint: primary.endpointUrl, secondaryEndpoint: secondary.endpointUrl, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', authMode: 'anonymous', mode: 'hot', pingInterval: 300, pingTimeout: 300, autoPromote: true, holdOff: 1000, reconnectMax: 1000 },
      { id: 'src1', type: 'redundant-source', z: 'tab1', name: '', pair: PAIR, items: [{ id: SIM_ITEMS.counter, name: 'counter' }], samplingInterval: 200, output: 'change', x: 100, y: 100, wires: [[]] },
    ];
    nr = await EditorProcess.start(flow, { adminAuth: true });
    admin = await nr.token(ADMIN);
    viewer = await nr.token(VIEWER);
  });

  after(async function () {
    await nr?.remove();
    await Promise.all([primary?.stop(), secondary?.stop()]);
  });

  const pairStatus = async () => (await nr.request('GET', `/redundancy/pairs/${PAIR}/status`, { token: admin })).body;

  it('refuses a request without a token, and a read-only user everything that connects or trusts', async function () {
    const writes: Array<[string, unknown]> = [
      ['/redundancy/opcua/discover', { endpoint: primary.endpointUrl }],
      ['/redundancy/opcua/browse', { endpoint: primary.endpointUrl }],
      ['/redundancy/opcua/search', { endpoint: primary.endpointUrl, text: 'Counter' }],
      ['/redundancy/opcua/trust', { thumbprint: '0'.repeat(40) }],
    ];
    for (const [path, body] of writes) {
      assert.equal((await nr.request('POST', path, { body })).status, 401, `${path} without a token`);
      assert.equal((await nr.request('POST', path, { body, token: viewer })).status, 401, `${path} as the read-only user`);
    }
    for (const path of ['/redundancy/opcua/certificates', `/redundancy/pairs/${PAIR}/status`, `/redundancy/pairs/${PAIR}/browse`]) {
      assert.equal((await nr.request('GET', path)).status, 401, `${path} without a token`);
    }
    // Reading what exists is what a read-only user may do.
    const certs = await nr.request('GET', '/redundancy/opcua/certificates', { token: viewer });
    assert.equal(certs.status, 200, JSON.stringify(certs.body));
    assert.equal(certs.body.folder, join(nr.userDir, 'node-red-contrib-redundancy', 'pki', 'client'));
  });

  it('Sign and encrypt: the simulator\'s certificate is refused and shown, trusted through httpAdmin, then the pair connects', async function () {
    // Refused: both channels down with the certificate named; the verdict carries subject, thumbprint, validity.
    const refused = await until('the refusal on the pair', 20_000, async () => {
      const s = await pairStatus();
      return s.certificates?.length > 0 && s.status?.servers.primary.state === 'down' ? s : undefined;
    });
    assert.equal(refused.status.active, null, 'no server is used while its certificate is not trusted');
    assert.match(refused.status.servers.primary.reason, /server certificate not trusted: .+ \(thumbprint [0-9a-f]{16}…, valid to \d{4}-\d\d-\d\d\); trust it in the pair's dialog or copy it to .*pki\/client\/trusted\/certs/);
    const verdict = refused.certificates[0];
    assert.equal(verdict.status, 'BadCertificateUntrusted');
    assert.equal(verdict.accepted, false);
    assert.match(verdict.info.thumbprint, /^[0-9a-f]{40}$/);
    assert.ok(verdict.info.subject && verdict.info.validFrom && verdict.info.validTo);
    // Logged once per server (after the pair's start-up quiet of 5 s: servers deployed with it may still be starting).
    await until('the refusal in the log', 15_000, async () => (/\[warn\] \[redundant-pair:.*\] primary: cannot connect to .*: server certificate not trusted/.test(nr.log) ? true : undefined));
    const store = (await nr.request('GET', '/redundancy/opcua/certificates', { token: admin })).body;
    assert.ok(store.rejected.some((c: { thumbprint: string }) => c.thumbprint === verdict.info.thumbprint), 'the certificate waits in rejected/');

    // Trusted by the operator: stored in trusted/certs, and the pair connects by itself.
    const trusted = await nr.request('POST', '/redundancy/opcua/trust', { token: admin, body: { thumbprint: verdict.info.thumbprint } });
    assert.equal(trusted.status, 200, JSON.stringify(trusted.body));
    assert.equal(trusted.body.trusted.thumbprint, verdict.info.thumbprint);
    assert.ok(readdirSync(join(nr.userDir, 'node-red-contrib-redundancy', 'pki', 'client', 'trusted', 'certs')).length >= 1);
    const up = await until('the pair on the primary once trusted (reconnect back-off ≤ 1 s)', 20_000, async () => {
      const s = await pairStatus();
      return s.status?.active === 'primary' ? s : undefined;
    });
    assert.equal(up.certificates.length, 0, 'no refusal left');
  });

  it('discovers the endpoints a server offers with its certificate and trust state', async function () {
    const res = await nr.request('POST', '/redundancy/opcua/discover', { token: admin, body: { endpoint: primary.endpointUrl } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const modes = res.body.endpoints.map((e: { securityMode: string; securityPolicy: string }) => `${e.securityMode}/${e.securityPolicy}`);
    assert.ok(modes.includes('None/None') && modes.includes('SignAndEncrypt/Basic256Sha256'), modes.join(', '));
    assert.ok(res.body.endpoints.every((e: { userTokens: string[] }) => e.userTokens.includes('Anonymous')));
    const certs = Object.values(res.body.certificates) as Array<{ trust: string; thumbprint: string }>;
    assert.equal(certs.length, 1);
    assert.equal(certs[0].trust, 'trusted', 'trusted in the previous step');
    const bad = await nr.request('POST', '/redundancy/opcua/discover', { token: admin, body: { endpoint: 'opc.tcp://host:99999' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /port 99999 is out of range/);
  });

  it('browses and searches through the deployed pair (read permission) and through a temporary connection', async function () {
    const viaPair = await nr.request('GET', `/redundancy/pairs/${PAIR}/browse?node=${encodeURIComponent('ns=1;s=Simulation')}`, { token: viewer });
    assert.equal(viaPair.status, 200, JSON.stringify(viaPair.body));
    const counter = viaPair.body.entries.find((e: { id: string }) => e.id === SIM_ITEMS.counter);
    assert.deepEqual({ t: counter?.dataType, w: counter?.writable }, { t: 'UInt32', w: false });
    const found = await nr.request('GET', `/redundancy/pairs/${PAIR}/search?text=setp`, { token: viewer });
    assert.deepEqual(found.body.hits.map((h: { id: string; path: string }) => [h.id, h.path]), [[SIM_ITEMS.setpoint, 'Simulation/Setpoint']]);
    assert.equal(found.body.hits[0].writable, true);

    const settings = { endpoint: secondary.endpointUrl, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous' };
    const temp = await nr.request('POST', '/redundancy/opcua/browse', { token: admin, body: { ...settings, node: '' } });
    assert.equal(temp.status, 200, JSON.stringify(temp.body));
    assert.ok(temp.body.entries.some((e: { browseName: string }) => /Simulation$/.test(e.browseName)));
    const search = await nr.request('POST', '/redundancy/opcua/search', { token: admin, body: { ...settings, text: 'Counter' } });
    assert.deepEqual(search.body.hits.map((h: { id: string }) => h.id), [SIM_ITEMS.counter]);
    const bad = await nr.request('POST', '/redundancy/opcua/browse', { token: admin, body: { ...settings, node: 'DeviceOk' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /"DeviceOk" is not a node id/);
  });

  it('a blackholed server: discover and browse end within their bound and leave no connection open', async function () {
    const proxy = await FaultProxy.start('127.0.0.1', primaryPort);
    try {
      proxy.setMode('blackhole');
      const endpoint = simulatorEndpointUrl(proxy.port);
      for (const [path, body] of [
        ['/redundancy/opcua/browse', { endpoint, securityMode: 'None', securityPolicy: 'None', timeoutMs: 2000 }],
        ['/redundancy/opcua/discover', { endpoint, timeoutMs: 2000 }],
        ['/redundancy/opcua/browse', { endpoint, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', timeoutMs: 2000 }],
      ] as const) {
        const res = await nr.request('POST', path, { token: admin, body });
        assert.equal(res.status, 502, `${path}: ${JSON.stringify(res.body)}`);
        assert.match(res.body.error, /no answer from .* within 2000 ms/);
        // Bounded: the 2 s bound plus room for a loaded machine, far below node-opcua's 60 s transport timeout.
        assert.ok(res.ms < 15_000, `${path} answered after ${res.ms} ms`);
      }
      await until('every connection through the blackhole closed', 15_000, async () => (proxy.connectionCount() === 0 ? true : undefined));
    } finally {
      await proxy.close();
    }
  });

  it('the client certificate and the trust survive a restart: same certificate, connected without asking again', async function () {
    const before = (await nr.request('GET', '/redundancy/opcua/certificates', { token: admin })).body;
    assert.ok(existsSync(join(nr.userDir, 'node-red-contrib-redundancy', 'pki', 'client', 'own', 'certs', 'client_certificate.pem')));
    await nr.restart();
    admin = await nr.token(ADMIN);
    const after = (await nr.request('GET', '/redundancy/opcua/certificates', { token: admin })).body;
    assert.equal(after.own.thumbprint, before.own.thumbprint, 'the same client certificate (the servers need not trust a new one)');
    const s = await until('the pair on the primary after the restart', 20_000, async () => {
      const st = await pairStatus();
      return st.status?.active === 'primary' ? st : undefined;
    });
    assert.equal(s.certificates.length, 0);
    assert.doesNotMatch(nr.log, /server certificate not trusted/);
    // The client certificate can be downloaded for the servers' administrators.
    const pem = await fetch(`${nr.url}/redundancy/opcua/client-certificate.pem`, { headers: { authorization: `Bearer ${await nr.token(VIEWER)}` } });
    assert.equal(pem.status, 200);
    assert.match(await pem.text(), /^-----BEGIN CERTIFICATE-----/);
  });
});
