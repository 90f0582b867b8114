// The certificate stores (lib/drivers/opcua-pki.ts): one implementation for the clients' store and
// the gateway's; one user-dir fallback for everything the package keeps in the user dir.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUserDir } from '../../lib/core/user-dir';
import {
  clientPkiFolder,
  gatewayCertificates,
  gatewayPkiFolder,
  listCertificates,
  ownCertificate,
  rejectedCertificate,
  setGatewayTrust,
  trustCertificate,
  trustState,
} from '../../lib/drivers/opcua-pki';
import type { RedAPI } from '../../nodes/common/node-red';
import { userDirOf } from '../../nodes/common/node-red';
import { sqlitePath } from '../../nodes/common/pair-store';

describe('OPC UA certificate stores', function () {
  this.timeout(30_000);
  let userDir: string;

  before(function () {
    userDir = mkdtempSync(join(tmpdir(), 'pki-unit-'));
  });
  after(function () {
    rmSync(userDir, { recursive: true, force: true });
  });

  it('one user-dir fallback: Node-RED\'s default ~/.node-red for the stores and the SQLite files alike', function () {
    const nodeRedDefault = join(homedir(), '.node-red');
    assert.equal(resolveUserDir(undefined), nodeRedDefault);
    assert.equal(resolveUserDir(''), nodeRedDefault);
    assert.equal(resolveUserDir('/data'), '/data');
    const noUserDir = { settings: {} } as unknown as RedAPI;
    assert.equal(userDirOf(noUserDir), nodeRedDefault);
    assert.equal(userDirOf({ settings: { userDir: '/data' } } as unknown as RedAPI), '/data');
    assert.equal(gatewayPkiFolder(undefined), join(nodeRedDefault, 'node-red-contrib-redundancy', 'pki', 'gateway'));
    assert.equal(clientPkiFolder(undefined), join(nodeRedDefault, 'node-red-contrib-redundancy', 'pki', 'client'));
    assert.equal(sqlitePath(noUserDir, '', 'redundancy-alarms.sqlite'), join(nodeRedDefault, 'redundancy-alarms.sqlite'));
    assert.equal(sqlitePath({ settings: { userDir: '/data' } } as unknown as RedAPI, 'x.sqlite', 'y.sqlite'), join('/data', 'x.sqlite'));
    assert.equal(sqlitePath(noUserDir, '/abs/x.sqlite', 'y.sqlite'), '/abs/x.sqlite');
  });

  it('the gateway\'s store: a refused client certificate (PEM or DER) is listed as rejected, trusted and rejected again by thumbprint', async function () {
    const own = await ownCertificate(userDir);
    const folder = gatewayPkiFolder(userDir);
    assert.deepEqual(await gatewayCertificates(folder), [], 'a store that does not exist yet lists nothing');
    mkdirSync(join(folder, 'rejected'), { recursive: true });
    writeFileSync(join(folder, 'rejected', 'hmi.der'), own.der);
    writeFileSync(join(folder, 'rejected', 'notes.pem'), 'not a certificate');
    let list = await gatewayCertificates(folder);
    assert.equal(list.length, 1, JSON.stringify(list));
    assert.equal(list[0].status, 'rejected');
    assert.equal(list[0].thumbprint, own.info.thumbprint);
    assert.equal(list[0].subject, own.info.subject);
    assert.match(list[0].applicationUri ?? '', /^urn:.*node-red-contrib-redundancy$/);

    const trusted = await setGatewayTrust(folder, own.info.thumbprint.toUpperCase(), true);
    assert.equal(trusted.status, 'trusted');
    list = await gatewayCertificates(folder);
    assert.deepEqual(list.map((c) => [c.thumbprint, c.status]), [[own.info.thumbprint, 'trusted']]);
    assert.ok(list[0].file.startsWith(join(folder, 'trusted', 'certs')), list[0].file);

    assert.equal((await setGatewayTrust(folder, own.info.thumbprint, false)).status, 'rejected');
    await assert.rejects(setGatewayTrust(folder, '0'.repeat(40), true), /no certificate with thumbprint 0{40}/);
  });

  it('the clients\' store: a refused server certificate is found by thumbprint, trusted, and then listed as trusted', async function () {
    const own = await ownCertificate(userDir);
    writeFileSync(join(clientPkiFolder(userDir), 'rejected', 'server.pem'), own.pem);
    assert.equal(await trustState(userDir, own.der), 'rejected');
    const der = await rejectedCertificate(userDir, own.info.thumbprint);
    assert.ok(der && der.equals(own.der), 'the refused certificate, read back from its PEM');
    assert.equal((await listCertificates(userDir, 'rejected'))[0]?.status, 'rejected');
    await trustCertificate(userDir, der);
    assert.equal(await trustState(userDir, own.der), 'trusted');
    assert.deepEqual((await listCertificates(userDir, 'trusted')).map((c) => [c.thumbprint, c.status]), [[own.info.thumbprint, 'trusted']]);
  });
});
