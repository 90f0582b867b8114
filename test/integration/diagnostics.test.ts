// redundancy-diagnostics in the real runtime: events of a real failover, mustache output exact,
// the status table, the bound and order of the log, persistence across a runtime restart, bad
// input, and an e-mail actually sent by node-red-node-email's node to an SMTP server on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { RedundantPair } from '../../lib/core/pair';
import { OpcuaSimulator, SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { type Msg, collect, helper, loadFlow, loggedErrors, pairModule, sleep, sourceModule, startServer, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const diagnosticsModule = require('../../nodes/redundancy-diagnostics');
const emailModule = require('node-red-node-email/61-email.js');
/* eslint-enable @typescript-eslint/no-require-imports */

interface Received {
  from: string;
  to: string[];
  raw: string;
}

function startSmtp(port: number): Promise<{ server: SMTPServer; mails: Received[] }> {
  const mails: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, mails }));
  });
}

describe('redundancy-diagnostics (real runtime, real servers)', function () {
  this.timeout(30_000);
  let primary: OpcuaSimulator;
  let secondary: OpcuaSimulator;
  let storeDir: string;

  beforeEach(async function () {
    primary = new OpcuaSimulator({ port: await freePort(), name: 'diag-primary' });
    secondary = new OpcuaSimulator({ port: await freePort(), name: 'diag-secondary' });
    await Promise.all([primary.start(), secondary.start()]);
    storeDir = mkdtempSync(join(tmpdir(), 'diag-test-'));
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
    await Promise.all([primary.stop(), secondary.stop()]);
    rmSync(storeDir, { recursive: true, force: true });
  });

  function flow(diag: Record<string, unknown>, extra: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
    return [
      {
        id: 'pair-d', type: 'redundant-pair', name: 'diag-pair', protocol: 'opcua', primaryEndpoint: primary.endpointUrl, secondaryEndpoint: secondary.endpointUrl,
        securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'hot', pingInterval: 300, pingTimeout: 300, autoPromote: false, holdOff: 1000, reconnectMax: 1000,
      },
      { id: 'src', type: 'redundant-source', pair: 'pair-d', items: [{ id: SIM_ITEMS.counter, name: 'counter' }], samplingInterval: 0, output: 'change', wires: [[]] },
      { id: 'diag', type: 'redundancy-diagnostics', name: 'diag', pairs: '', kinds: [], severities: [], maxEvents: 1000, persist: true, storeDir, subject: '', body: '', rateLimit: 0, rateWindow: 60000, listSize: 50, wires: [['mail'], ['table'], ['list']], ...diag },
      { id: 'mail', type: 'helper', wires: [] },
      { id: 'table', type: 'helper', wires: [] },
      { id: 'list', type: 'helper', wires: [] },
      ...extra,
    ];
  }

  it('renders each event with the mustache templates, exactly', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({
      kinds: ['failover'],
      subject: '{{pair}}: {{kind}} {{from}} -> {{to}}',
      body: 'reason={{reason}}\nactive={{active}}\nfailovers={{failovers}}',
    }));
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    const mail = collect('mail');
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
    await primary.stop(false);
    await waitFor(() => mail.length === 1, 5000, 'one failover message');
    assert.equal(mail[0].topic, 'diag-pair: failover primary -> secondary');
    assert.match(String(mail[0].payload), /^reason=connection lost: .+\nactive=secondary\nfailovers=1$/);
    await sleep(300);
    assert.equal(mail.length, 1, 'the kinds filter keeps other events out');
  });

  it('emits the status table rows and pair metrics, on change and on request', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({}));
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    const table = collect('table');
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
    await primary.stop(false);
    await waitFor(() => table.some((m) => (m.payload as Array<{ active: string }>)[0]?.active === 'secondary'), 5000, 'a table row with the secondary active');
    table.length = 0;
    helper.getNode('diag').receive({ topic: 'status' });
    await waitFor(() => table.length > 0, 2000, 'the table on request');
    const row = (table[0].payload as Array<Record<string, unknown>>)[0];
    assert.equal(row.pair, 'diag-pair');
    assert.equal(row.mode, 'hot');
    assert.equal(row.active, 'secondary');
    assert.equal(row.failovers, 1);
    assert.match(String(row.primary), /^down/);
    assert.match(String(row.lastEvent), /failover|switch|connect/i);
    const metrics = (table[0].metrics as Record<string, { failovers: number; active: string; activeTimeMs: { primary: number } }>)['diag-pair'];
    assert.equal(metrics.failovers, 1);
    assert.equal(metrics.active, 'secondary');
    assert.ok(metrics.activeTimeMs.primary > 0);
  });

  it('keeps the log bounded and in order, and across a runtime restart', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({ maxEvents: 5 }));
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
    for (let i = 0; i < 8; i++) pair.logEvent('write-rejected', 'error', `test event ${i}`);
    const list = collect('list');
    helper.getNode('diag').receive({ topic: 'events', payload: { kind: 'write-rejected' } });
    await waitFor(() => list.some((m) => m.topic === 'query'), 2000, 'the query answer');
    const reasons = (list.filter((m) => m.topic === 'query')[0].events as Array<{ reason: string; id: number }>).map((e) => e.reason);
    assert.deepEqual(reasons, ['test event 3', 'test event 4', 'test event 5', 'test event 6', 'test event 7'], 'the newest 5, oldest first');
    // restart: the same store directory, a new runtime
    await helper.unload();
    await stopServer();
    await startServer();
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({ maxEvents: 5 }));
    const list2 = collect('list');
    helper.getNode('diag').receive({ topic: 'events', payload: { kind: 'write-rejected' } });
    await waitFor(() => list2.some((m) => m.topic === 'query'), 2000, 'the query answer after restart');
    const after = (list2.filter((m) => m.topic === 'query')[0].events as Array<{ reason: string }>).map((e) => e.reason);
    assert.ok(after.length >= 1 && after.every((r) => /test event [3-7]/.test(r)), `persisted events after restart: ${after.join(', ')}`);
  });

  it('rejects a template syntax error and an unknown event kind clearly; the flow still deploys', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({ subject: '{{#to}} unclosed', kinds: ['explosion'] }));
    const errors = loggedErrors().join('\n');
    assert.match(errors, /subject template: .*unclosed section "to"/);
    assert.match(errors, /unknown event kind "explosion"/);
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair unaffected');
  });

  it('an e-mail reaches an SMTP server through node-red-node-email', async function () {
    const smtpPort = await freePort();
    const { server, mails } = await startSmtp(smtpPort);
    try {
      await loadFlow(
        [pairModule, sourceModule, diagnosticsModule, emailModule],
        flow({ kinds: ['failover'], subject: '{{pair}} {{kind}} to {{to}}', body: 'Reason: {{reason}}' }, [
          { id: 'email', type: 'e-mail', server: '127.0.0.1', port: String(smtpPort), secure: false, tls: false, authtype: 'NONE', name: 'operator@plant.example', wires: [] },
        ]).map((n) => (n.id === 'diag' ? { ...n, wires: [['mail', 'email'], ['table'], ['list']] } : n)),
        { email: { userid: 'redundancy@plant.example' } },
      );
      const pair = helper.getNode('pair-d').pair as RedundantPair;
      await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
      await primary.stop(false);
      await waitFor(() => mails.length === 1, 10_000, 'the e-mail at the SMTP server');
      assert.deepEqual(mails[0].to, ['operator@plant.example']);
      assert.equal(mails[0].from, 'redundancy@plant.example');
      assert.match(mails[0].raw, /^Subject: diag-pair failover to secondary\r?$/m);
      assert.match(mails[0].raw, /Reason: connection lost/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the editor button clears the log (POST on httpAdmin)', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({}));
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
    pair.logEvent('write-rejected', 'error', 'something to clear');
    const log = helper.getNode('diag').eventLog as { size(): number };
    await waitFor(() => log.size() > 0, 2000, 'events in the log');
    await helper.request().post('/redundancy-diagnostics/diag/clear').expect(200);
    assert.equal(log.size(), 0);
    await helper.request().post('/redundancy-diagnostics/nope/clear').expect(404);
  });

  it('digests a flood: the first events singly, the rest in one message', async function () {
    await loadFlow([pairModule, sourceModule, diagnosticsModule], flow({ kinds: ['write-rejected'], rateLimit: 2, rateWindow: 500 }));
    const pair = helper.getNode('pair-d').pair as RedundantPair;
    const mail: Msg[] = collect('mail');
    await waitFor(() => pair.getActive() === 'primary', 10_000, 'the pair up');
    for (let i = 0; i < 6; i++) pair.logEvent('write-rejected', 'error', `flood ${i}`);
    await waitFor(() => mail.some((m) => m.digest === true), 3000, 'a digest');
    const singles = mail.filter((m) => !m.digest);
    const digest = mail.find((m) => m.digest === true) as Msg;
    assert.equal(singles.length, 2);
    assert.equal((digest.events as unknown[]).length, 4);
    assert.match(String(digest.topic), /\[digest\] 4 redundancy events: diag-pair/);
  });
});
