// The editor as a plant engineer meets it, in headless Chromium against a real Node-RED process:
// discover a server's endpoints, trust its certificate and pick Sign and encrypt; browse the
// address space, pick two items, deploy, and see them in the source's output; type each invalid
// value issue 12 lists and read the message shown; import two examples side by side without a
// conflict prompt. Screenshots of every dialog go to screenshots/editor-*.png.
// Needs Debian's chromium (.ci/run installs it and sets REQUIRE_BROWSER).
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { closeTrays, editConfigNode, editNode, expectText, launchPage, messageOf, openEditor, requireChromium, shot, traysGone } from '../helpers/browser';
import { EditorProcess } from '../helpers/editor-process';
import { freePort } from '../helpers/ports';
import { sleep } from '../helpers/wait';

const SIM = '/UA/Simulator';
// Functions passed to page.evaluate run in the browser (this project compiles without the DOM library).
declare const window: unknown;
declare const document: { querySelectorAll(s: string): { length: number } };

describe('the editor in headless Chromium (discover, trust, browse, messages, examples)', function () {
  this.timeout(180_000);
  let nr: EditorProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];

  before(async function () {
    requireChromium(this);
    const [pPort, sPort] = [await freePort(), await freePort()];
    const flow = [
      { id: 'e2e-tab', type: 'tab', label: 'Line 1' },
      { id: 'e2e-pair', type: 'redundant-pair', name: 'Linie Süd', protocol: 'opcua', primaryEndpoint: `opc.tcp://127.0.0.1:${pPort}${SIM}`, secondaryEndpoint: `opc.tcp://127.0.0.1:${sPort}${SIM}`, standbys: [], securityMode: 'None', securityPolicy: 'None', acceptUnknownCertificates: false, authMode: 'anonymous', mode: 'hot', standbySampling: false, pingInterval: 500, pingTimeout: 500, autoPromote: true, holdOff: 2000, reconnectMax: 1000 },
      { id: 'e2e-src', type: 'redundant-source', z: 'e2e-tab', name: 'line values', pair: 'e2e-pair', items: [{ id: 'ns=1;s=Simulation.Counter', name: 'counter' }], samplingInterval: 500, output: 'change', x: 200, y: 100, wires: [['e2e-dbg']] },
      { id: 'e2e-dbg', type: 'debug', z: 'e2e-tab', name: 'values', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', x: 420, y: 100, wires: [] },
      { id: 'e2e-cond', type: 'failover-condition', z: 'e2e-tab', name: 'device link', pair: 'e2e-pair', samplingInterval: 500, minSwitchInterval: 0, conditions: [{ name: 'device link', kind: 'value', item: 'ns=1;s=Simulation.DeviceOk', op: 'false' }], x: 200, y: 180, wires: [[]] },
      { id: 'e2e-diag', type: 'redundancy-diagnostics', z: 'e2e-tab', name: 'events', pairs: '', kinds: [], severities: [], maxEvents: 100, persist: false, subject: '', body: '', rateLimit: 10, rateWindow: 60000, listSize: 20, x: 200, y: 260, wires: [[], [], []] },
      { id: 'e2e-simp', type: 'opcua-simulator', z: 'e2e-tab', name: 'primary server', port: pPort, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, x: 200, y: 340, wires: [] },
      { id: 'e2e-sims', type: 'opcua-simulator', z: 'e2e-tab', name: 'secondary server', port: sPort, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, x: 200, y: 400, wires: [] },
    ];
    nr = await EditorProcess.start(flow);
    ({ browser, page } = await launchPage(1500, 1000));
    page.on('pageerror', (e) => errors.push(e.message));
    await openEditor(page, nr.url, 'e2e-src');
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await nr?.remove();
  });

  afterEach(function () {
    assert.deepEqual(errors.splice(0), [], 'no script error in the editor');
  });

  /** Cancels the open dialog and waits until it is gone (a dialog opened before would share its ids). */
  async function cancel(): Promise<void> {
    await page.click('#node-dialog-cancel');
    await traysGone(page);
  }

  const edit = (id: string) => editNode(page, id);

  it('discovers the simulator\'s endpoints, trusts its certificate and picks Sign and encrypt', async function () {
    await edit('e2e-src');
    await page.click('#node-input-btn-pair-edit');
    await page.waitForSelector('#node-config-input-primaryEndpoint');
    await page.click('#redundant-pair-discover-primary');
    await page.waitForSelector('#redundancy-discover-table tr.redundancy-endpoint', { timeout: 20_000 });
    const rows = await page.locator('#redundancy-discover-table tr.redundancy-endpoint').allInnerTexts();
    assert.ok(rows.some((r) => /SignAndEncrypt\s+Basic256Sha256\s+.*Anonymous/.test(r)), rows.join('\n'));
    assert.ok(rows.some((r) => /None\s+None\s+.*Anonymous/.test(r)), rows.join('\n'));
    const cert = page.locator('#redundancy-discover .redundancy-cert');
    assert.match(await cert.innerText(), /does not trust it yet/);
    assert.match(await cert.innerText(), /Thumbprint \(SHA-1\)\s+[0-9a-f]{40}/);
    await shot(page, 'editor-1-discover');
    await page.click('#redundancy-discover button.redundancy-trust');
    await page.waitForSelector('.red-ui-notification:has-text("Trusted:")', { timeout: 15_000 });
    await page.click('#redundancy-discover-table tr.redundancy-endpoint[data-mode="SignAndEncrypt"][data-policy="Basic256Sha256"]');
    assert.equal(await page.inputValue('#node-config-input-securityMode'), 'SignAndEncrypt');
    assert.equal(await page.inputValue('#node-config-input-securityPolicy'), 'Basic256Sha256');
    await page.click('#red-ui-tab-redundant-pair-tab-security a.red-ui-tab-label');
    await page.waitForSelector('#redundancy-client-certificate');
    const panel = await page.locator('#redundant-pair-certificates').innerText();
    assert.match(panel, /client certificate/);
    assert.match(panel, /node-red-contrib-redundancy\/pki\/client/);
    assert.match(panel, /Trusted servers\s+\S+/);
    assert.doesNotMatch(panel, /Trusted servers\s+none yet/);
    await shot(page, 'editor-2-pair-security');
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-input-items-browse');
  });

  it('browses the address space, picks two items, deploys, and the source\'s output carries them', async function () {
    await page.click('#node-input-items-browse');
    // The pair was changed in the dialog: a temporary connection with its (unsaved) settings.
    await page.waitForSelector('#redundancy-browse-tree .red-ui-treeList-label', { timeout: 20_000 });
    assert.equal(await page.inputValue('#redundancy-browse-source'), '0');
    await page.locator('#redundancy-browse-tree .red-ui-treeList-label', { hasText: 'Simulation' }).first().click();
    const sine = page.locator('#redundancy-browse-tree .red-ui-treeList-label', { hasText: 'Sine' });
    await sine.waitFor({ timeout: 20_000 });
    assert.match(await sine.innerText(), /Double · read only · ns=1;s=Simulation\.Sine/);
    await sine.locator('input[type=checkbox]').check();
    // The other one found by searching.
    await page.fill('#redundancy-browse-search', 'setp');
    await page.press('#redundancy-browse-search', 'Enter');
    await expectText(page.locator('#redundancy-browse-status'), /^1 found in \d+ nodes$/, 'the search result');
    const setpoint = page.locator('#redundancy-browse-tree .red-ui-treeList-label', { hasText: 'Setpoint' });
    await setpoint.waitFor({ timeout: 20_000 });
    assert.match(await setpoint.innerText(), /Simulation\/Setpoint · Double · read\/write/);
    await setpoint.locator('input[type=checkbox]').check();
    await expectText(page.locator('#redundancy-browse-picked'), /^2 items picked$/, 'the count of picked items');
    await shot(page, 'editor-3-browse');
    await page.click('#redundancy-browse-add');
    await page.locator('#node-input-items-container .node-input-item-id').nth(2).waitFor({ timeout: 10_000 });
    const ids = await page.locator('#node-input-items-container .node-input-item-id').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    const names = await page.locator('#node-input-items-container .node-input-item-name').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    assert.deepEqual(ids, ['ns=1;s=Simulation.Counter', 'ns=1;s=Simulation.Sine', 'ns=1;s=Simulation.Setpoint']);
    assert.deepEqual(names, ['counter', 'Sine', 'Setpoint']);
    await shot(page, 'editor-4-source-items');
    await page.click('#node-dialog-ok');
    await page.click('#red-ui-header-button-deploy');
    await page.waitForSelector('.red-ui-notification:has-text("Successfully deployed")', { timeout: 20_000 });
    await page.evaluate(() => (window as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('debug'));
    for (const topic of ['Sine', 'Setpoint', 'counter']) {
      await page.locator('.red-ui-debug-msg-topic', { hasText: new RegExp(`^${topic} : msg`) }).first().waitFor({ timeout: 30_000 });
    }
    await shot(page, 'editor-5-deployed-debug');
  });

  it('explains each invalid value in the pair dialog, and marks the tab holding it', async function () {
    await closeTrays(page);
    await editConfigNode(page, 'redundant-pair', 'e2e-pair');
    await page.waitForSelector('#node-config-input-name');
    const name = messageOf(page, '#node-config-input-name');
    for (const ok of ['Linie Süd', 'Line 1 (north)']) {
      await page.fill('#node-config-input-name', ok);
      await sleep(300);
      assert.equal(await name.count(), 0, `"${ok}" is a valid name`);
    }
    await page.fill('#node-config-input-name', 'Line 1, Line 2');
    await expectText(name, /must not contain a comma/, 'a name with a comma');
    await page.fill('#node-config-input-name', 'Line 1 (north)');
    await page.fill('#node-config-input-primaryEndpoint', 'opc.tcp://[::1]:4840');
    await sleep(300);
    assert.equal(await messageOf(page, '#node-config-input-primaryEndpoint').count(), 0, 'an IPv6 endpoint is valid');
    await page.fill('#node-config-input-primaryEndpoint', 'opc.tcp://plc-a:99999/UA');
    await expectText(messageOf(page, '#node-config-input-primaryEndpoint'), /port 99999 is out of range; a TCP port is 1–65535/, 'port 99999');
    await page.click('#red-ui-tab-redundant-pair-tab-security a.red-ui-tab-label');
    await page.selectOption('#node-config-input-authMode', 'username');
    await page.fill('#node-config-input-user', '');
    await expectText(messageOf(page, '#node-config-input-user'), /a user name is required with "user name and password"/, 'an empty user name');
    await page.click('#red-ui-tab-redundant-pair-tab-redundancy a.red-ui-tab-label');
    await page.fill('#node-config-input-pingInterval', '10');
    await expectText(messageOf(page, '#node-config-input-pingInterval'), /the ping interval must be 50–3600000 ms \(got 10\)/, 'a ping interval of 10 ms');
    // The tabs holding the invalid fields are marked, seen from the third tab.
    const marked = await page.locator('#node-config-redundant-pair-tabs li.redundancy-tab-error a.red-ui-tab-label').allInnerTexts();
    assert.deepEqual(marked.map((t) => t.trim()), ['Endpoints', 'Security', 'Redundancy']);
    await shot(page, 'editor-6-pair-invalid');
    await page.click('#node-config-dialog-cancel');
    await closeTrays(page);
  });

  it('explains invalid items, condition rows, a diagnostics filter and template, and two simulators on one port', async function () {
    await closeTrays(page);
    await edit('e2e-src');
    await page.waitForSelector('#node-input-items-container');
    const add = async (id: string, name: string) => {
      const n = await page.locator('#node-input-items-container > li').count();
      await page.click('#dialog-form .red-ui-editableList-addButton');
      await page.waitForFunction((k) => document.querySelectorAll('#node-input-items-container > li').length > k, n, { timeout: 5000 });
      const row = page.locator('#node-input-items-container > li').nth(n);
      await row.locator('.node-input-item-id').fill(id);
      await row.locator('.node-input-item-name').fill(name);
    };
    const before = await page.locator('#node-input-items-container > li').count();
    await add('DeviceOk', '');
    await add('nsu=urn:node-red-contrib-redundancy:simulator;s=Simulation.Running', 'counter');
    const rowMsg = (i: number) => page.locator('#node-input-items-container > li').nth(i).locator('.redundancy-msg.redundancy-active');
    await expectText(rowMsg(before), /"DeviceOk" is not a node id .* e\.g\. ns=1;s=DeviceOk \(or use Browse\)/, 'an item that is not a node id');
    await expectText(rowMsg(before + 1), new RegExp(`^the display name "counter" is used twice \\(rows 1 and ${before + 2}\\)`), 'a duplicate display name (the nsu= id itself is valid)');
    await shot(page, 'editor-7-source-invalid');
    await cancel();

    await edit('e2e-cond');
    await page.waitForSelector('#node-input-conditions-container');
    assert.equal(await page.inputValue('#node-input-name'), 'device link', 'the dialog shows the node');
    const rows = page.locator('#node-input-conditions-container > li');
    const existing = await rows.count();
    await page.click('#dialog-form .red-ui-editableList-addButton');
    // The new row, once it is there (a loaded machine may take a moment to add it).
    await page.waitForFunction((n) => document.querySelectorAll('#node-input-conditions-container > li').length > n, existing, { timeout: 5000 });
    const row = rows.nth(existing);
    assert.equal(await row.locator('.c-name').inputValue(), '', 'the new row has no name yet');
    await row.locator('.c-kind').selectOption('stale');
    await row.locator('.c-item').fill('DeviceOk');
    await row.locator('.c-ms').fill('-1');
    await expectText(row.locator('.redundancy-msg.redundancy-active'), /^the condition needs a name · "DeviceOk" is not a node id .* · "stale after" must be a number of milliseconds > 0 \(got -1\)$/, 'an empty name, DeviceOk and −1');
    assert.equal(await row.locator('.c-name.input-error, .c-item.input-error, .c-ms.input-error').count(), 3, 'the three fields are marked');
    await shot(page, 'editor-8-condition-invalid');
    await cancel();

    await edit('e2e-diag');
    await page.waitForSelector('#node-input-pairs');
    await page.fill('#node-input-pairs', 'Linie Süd, line 9');
    await expectText(messageOf(page, '#node-input-pairs'), /^no pair is named "line 9": events of a pair not listed are never shown \(pairs: "Linie Süd"; leave empty for all\)$/, 'a pair filter naming no pair');
    await page.fill('#node-input-subject', '{{pair}}: {{kindLabel}} ({{faiovers}})');
    await expectText(messageOf(page, '#node-input-subject'), /^subject template: unknown field "faiovers" at line 1, column 26 \(did you mean "failovers"\?\)/, 'an unknown template field');
    await shot(page, 'editor-9-diagnostics-invalid');
    await cancel();

    await edit('e2e-sims');
    await page.waitForSelector('#node-input-port');
    const otherPort = await page.evaluate(() => String((window as unknown as { RED: { nodes: { node(id: string): { port: number } } } }).RED.nodes.node('e2e-simp').port));
    await page.fill('#node-input-port', otherPort);
    await expectText(messageOf(page, '#node-input-port'), new RegExp(`^port ${otherPort} is also used by the simulator "primary server": each simulator needs a port of its own$`), 'two simulators on one port');
    await page.fill('#node-input-port', '99999');
    await expectText(messageOf(page, '#node-input-port'), /^the port must be 1–65535 \(got 99999\)$/, 'a port out of range');
    await shot(page, 'editor-10-simulator-invalid');
    await cancel();
  });

  it('imports two examples side by side without a conflict prompt', async function () {
    await closeTrays(page);
    const tabsBefore = await page.evaluate(() => { let n = 0; (window as unknown as { RED: { nodes: { eachWorkspace(f: () => void): void } } }).RED.nodes.eachWorkspace(() => { n++; }); return n; });
    for (const example of ['01 - OPC UA pair, cold mode', '02 - OPC UA pair, warm mode']) {
      await page.evaluate(() => (window as unknown as { RED: { actions: { invoke(a: string): void } } }).RED.actions.invoke('core:show-examples-import-dialog'));
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      await tree.locator('.red-ui-treeList-label', { hasText: 'node-red-contrib-redundancy' }).click();
      await tree.locator('.red-ui-treeList-label', { hasText: example }).click();
      await page.click('#red-ui-clipboard-dialog-ok');
      await sleep(800);
      const conflict = await page.locator('.red-ui-notification:has-text("already exist in your workspace")').count();
      assert.equal(conflict, 0, `importing "${example}" brought up the conflict prompt`);
    }
    const tabsAfter = await page.evaluate(() => { const labels: string[] = []; (window as unknown as { RED: { nodes: { eachWorkspace(f: (w: { label: string }) => void): void } } }).RED.nodes.eachWorkspace((w) => { labels.push(w.label); }); return labels; });
    assert.equal(tabsAfter.length, tabsBefore + 2, tabsAfter.join(', '));
    assert.ok(tabsAfter.includes('OPC UA pair, cold mode') && tabsAfter.includes('OPC UA pair, warm mode'), tabsAfter.join(', '));
    await shot(page, 'editor-11-two-examples');
  });

  it('the palette filter "redund" finds every node of the package', async function () {
    await closeTrays(page);
    await page.click('#red-ui-palette-search input');
    await page.locator('#red-ui-palette-search input').pressSequentially('redund', { delay: 30 });
    await sleep(800);
    const shown = await page.locator('#red-ui-palette-container .red-ui-palette-node:visible').evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(a: string): string }).getAttribute('data-palette-type')));
    // Every flow node of the package (its palette category), whatever part of the package it comes from.
    const ours = await page.evaluate(() => {
      const types: string[] = [];
      for (const t of (window as unknown as { RED: { nodes: { registry: { getNodeTypes(): string[] }; getType(t: string): { category?: string } } } }).RED.nodes.registry.getNodeTypes()) {
        if ((window as unknown as { RED: { nodes: { getType(t: string): { category?: string } } } }).RED.nodes.getType(t)?.category === 'redundancy') types.push(t);
      }
      return types.sort();
    });
    assert.ok(ours.length >= 4, ours.join(', '));
    assert.deepEqual(shown.sort(), ours);
    await shot(page, 'editor-12-palette');
    await page.fill('#red-ui-palette-search input', '');
  });
});
