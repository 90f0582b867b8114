// The gateway's security as a client meets it (a separate client process): a wrong password is
// refused, anonymous writes are refused by default, a read-only user cannot write, a client
// certificate the gateway never saw is refused until trusted through the editor's endpoint, then
// SignAndEncrypt works end to end; a read-only gateway refuses every write; "accept all" shows yellow.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedundantPair } from '../../lib/core/pair';
import { gatewayPkiFolder } from '../../lib/drivers/opcua-pki';
import type { GatewayServer } from '../../lib/gateway/server';
import { OpcuaSimulator, SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { helper, loadFlow, loggedErrors, pairModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';
import { UaClientProcess } from '../helpers/ua-clients';

/* eslint-disable @typescript-eslint/no-require-imports */
const gatewayModule = require('../../nodes/redundancy-gateway');
const exposeModule = require('../../nodes/gateway-expose');
/* eslint-enable @typescript-eslint/no-require-imports */

const node = (id: string) => `ns=2;s=plant/${id}`;

interface Rig {
  url: string;
  gateway: GatewayServer;
}

describe('gateway security', function () {
  this.timeout(60_000);
  let userDir: string;
  let sims: OpcuaSimulator[] = [];
  let clients: UaClientProcess;
  let pkiDirs: string;

  async function deploy(gatewayProps: Record<string, unknown>, credentials: Record<string, string> = {}): Promise<Rig> {
    const ports = [await freePort(), await freePort(), await freePort()];
    sims = [new OpcuaSimulator({ port: ports[0], name: 'sec-p' }), new OpcuaSimulator({ port: ports[1], name: 'sec-s' })];
    await Promise.all(sims.map((s) => s.start()));
    await loadFlow(
      [pairModule, gatewayModule, exposeModule],
      [
        { id: 'pair', type: 'redundant-pair', name: 'plant', protocol: 'opcua', primaryEndpoint: sims[0].endpointUrl, secondaryEndpoint: sims[1].endpointUrl, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'warm', pingInterval: 1000, pingTimeout: 1000, autoPromote: true, holdOff: 1000, reconnectMax: 1000 },
        { id: 'gw', type: 'redundancy-gateway', name: 'secure gateway', port: ports[2], hostname: '127.0.0.1', applicationName: 'gateway-security-test', ...gatewayProps },
        { id: 'expose', type: 'gateway-expose', z: 't', gateway: 'gw', pair: 'pair', items: [{ id: SIM_ITEMS.counter }, { id: SIM_ITEMS.setpoint }], mirrorRoots: '', mirrorDepth: 1, maxNodes: 100, wires: [[]] },
      ],
      { gw: credentials },
    );
    const gateway = (await helper.getNode('gw').ready) as GatewayServer;
    const pair = helper.getNode('pair').pair as RedundantPair;
    await waitFor(() => pair.getActive() === 'primary' && gateway.state().pairs[0]?.state === 'ready', 15_000, 'the gateway ready', () => ({ gw: gateway.state(), log: loggedErrors() }));
    return { url: gateway.endpointUrl, gateway };
  }

  before(async function () {
    userDir = mkdtempSync(join(tmpdir(), 'gateway-sec-'));
    pkiDirs = mkdtempSync(join(tmpdir(), 'gateway-sec-clients-'));
    clients = await UaClientProcess.start();
    helper.settings({ userDir });
  });
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
    await Promise.allSettled(sims.map((s) => s.stop(false)));
  });
  after(async function () {
    await clients?.stop();
    rmSync(userDir, { recursive: true, force: true });
    rmSync(pkiDirs, { recursive: true, force: true });
  });

  it('users and anonymous access: a wrong password is refused, anonymous and read-only users cannot write, an operator can', async function () {
    const { url } = await deploy(
      { modeNone: true, modeSign: false, modeSignAndEncrypt: true, allowAnonymous: true, anonymousWrite: false, readOnly: false, users: [{ name: 'operator', write: true, slot: 0 }, { name: 'viewer', write: false, slot: 1 }] },
      { password0: 'op-secret', password1: 'view-secret' },
    );
    const refused = await clients.connectError({ url, user: 'operator', password: 'wrong' });
    assert.match(String(refused), /BadUserAccessDenied|BadIdentityTokenRejected|BadIdentityTokenInvalid/, `a wrong password is refused: ${refused}`);
    assert.match(String(await clients.connectError({ url, user: 'nobody', password: 'op-secret' })), /BadUserAccessDenied|BadIdentityToken/);
    const anon = await clients.connect({ url });
    const viewer = await clients.connect({ url, user: 'viewer', password: 'view-secret' });
    const operator = await clients.connect({ url, user: 'operator', password: 'op-secret' });
    assert.equal(await clients.write(anon, node(SIM_ITEMS.setpoint), 5, 'Double'), 'BadUserAccessDenied', 'anonymous writes are refused by default');
    assert.equal(await clients.write(viewer, node(SIM_ITEMS.setpoint), 5, 'Double'), 'BadUserAccessDenied', 'a user without write permission cannot write');
    assert.equal(await clients.write(operator, node(SIM_ITEMS.setpoint), 5, 'Double'), 'Good');
    assert.equal(sims[0].getSetpoint(), 5);
    assert.equal((await clients.read(anon, [node(SIM_ITEMS.counter)]))[0].status, 'Good', 'anonymous sessions read');
    // UserAccessLevel (attribute 18) tells each user what it may do.
    const level = async (c: number) => ((await clients.read(c, [node(SIM_ITEMS.setpoint)], 18))[0].value as number) & 3;
    assert.deepEqual([await level(anon), await level(viewer), await level(operator)], [1, 1, 3]);
    for (const c of [anon, viewer, operator]) await clients.close(c);
  });

  it('an unknown client certificate is refused until trusted (editor endpoint); then SignAndEncrypt works end to end', async function () {
    const { url } = await deploy(
      { modeNone: false, modeSign: true, modeSignAndEncrypt: true, policyBasic256Sha256: true, policyAes128: true, policyAes256: true, allowAnonymous: false, anonymousWrite: false, readOnly: false, users: [{ name: 'operator', write: true, slot: 0 }] },
      { password0: 'op-secret' },
    );
    const pki = join(pkiDirs, 'hmi');
    const options = { url, securityMode: 'SignAndEncrypt' as const, securityPolicy: 'Aes256_Sha256_RsaPss', user: 'operator', password: 'op-secret', pki, applicationName: 'untrusted-hmi' };
    const refused = await clients.connectError(options);
    assert.notEqual(refused, null, 'the unknown certificate is refused');
    assert.match(String(refused), /BadCertificateUntrusted|BadSecurityChecksFailed|socket has been disconnected|closed|Bad/i);
    assert.match(String(await clients.connectError({ url })), /Bad|no endpoint|closed|security/i, 'no unsecured endpoint, no anonymous access');
    // The editor lists the rejected certificate; trusting it needs the node's write permission.
    const list = await helper.request().get('/redundancy-gateway/certificates').expect(200);
    const rejected = (list.body.certificates as Array<{ thumbprint: string; status: string; applicationUri?: string }>).find((c) => c.status === 'rejected' && /untrusted-hmi/.test(String(c.applicationUri)));
    assert.ok(rejected, `the client's certificate is listed as rejected: ${JSON.stringify(list.body)}`);
    assert.equal(list.body.folder, gatewayPkiFolder(userDir));
    assert.ok(existsSync(join(gatewayPkiFolder(userDir), 'rejected')) && readdirSync(join(gatewayPkiFolder(userDir), 'rejected')).length > 0, 'in the documented rejected/ folder');
    await helper.request().post(`/redundancy-gateway/certificates/${rejected.thumbprint}`).send({ action: 'trust' }).expect(200);
    await helper.request().post('/redundancy-gateway/certificates/nothex').send({ action: 'trust' }).expect(400);
    const client = await clients.connect(options);
    assert.equal(await clients.write(client, node(SIM_ITEMS.setpoint), 9.5, 'Double'), 'Good');
    assert.equal(sims[0].getSetpoint(), 9.5);
    assert.deepEqual(await clients.subscribe(client, [node(SIM_ITEMS.counter)], 0, 100), ['Good']);
    await waitFor(() => false, 0, '').catch(() => undefined);
    const deadline = Date.now() + 5000;
    while ((await clients.received(client, node(SIM_ITEMS.counter))).length < 5) {
      assert.ok(Date.now() < deadline, 'values over the encrypted channel');
      await new Promise((r) => setTimeout(r, 100));
    }
    await clients.close(client);
  });

  it('a read-only gateway refuses every write (BadNotWritable); "accept all certificates" shows a yellow status', async function () {
    const { url } = await deploy({ modeNone: true, modeSign: false, modeSignAndEncrypt: true, allowAnonymous: true, anonymousWrite: true, readOnly: true, acceptAll: true, users: [] });
    const anon = await clients.connect({ url });
    assert.equal(await clients.write(anon, node(SIM_ITEMS.setpoint), 3, 'Double'), 'BadNotWritable');
    assert.equal(sims[0].writes.length, 0, 'nothing reached the server');
    await clients.close(anon);
    const expose = helper.getNode('expose') as { status(s: { fill?: string; text?: string }): void; receive(m: unknown): void };
    const shown: Array<{ fill?: string; text?: string }> = [];
    const original = expose.status.bind(expose);
    expose.status = (s) => {
      shown.push(s);
      original(s);
    };
    expose.receive({ topic: 'status' });
    await waitFor(() => shown.length > 0, 2000, 'the node status');
    assert.equal(shown[shown.length - 1].fill, 'yellow');
    assert.match(String(shown[shown.length - 1].text), /accepting all certificates/, JSON.stringify(shown));
    // Commissioning: a new client's certificate is accepted (and stays trusted).
    const fresh = await clients.connect({ url, securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256', pki: join(pkiDirs, 'commissioning'), applicationName: 'commissioning-tool' });
    await clients.close(fresh);
  });
});
