// The Modbus side of the editor in headless Chromium against a real Node-RED process running
// example 7 (one PLC over Modbus TCP and RTU over TCP): the pair dialog reads the endpoints into
// transport fields and composes them back (TCP, RTU over TCP, a serial port), explains a wrong
// unit id, a serial port left empty, an option out of range and standby sampling on Modbus; the
// source dialog names the poll period, offers the node-red-contrib-modbus read output, explains a
// bad item and warns of an overlap. Screenshots go to screenshots/editor-modbus-*.png.
// Needs Debian's chromium (.ci/run installs it and sets REQUIRE_BROWSER).
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { closeTrays, editConfigNode, editNode, expectText, launchPage, messageOf, openEditor, requireChromium, shot, traysGone } from '../helpers/browser';
import { EditorProcess } from '../helpers/editor-process';
import { onFreePorts, readExample } from '../helpers/examples';
import { sleep } from '../helpers/wait';

async function expectValue(locator: Locator, pattern: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let value = '';
  while (Date.now() < deadline) {
    value = await locator.inputValue();
    if (pattern.test(value)) return;
    await sleep(100);
  }
  throw new Error(`${what}: expected ${pattern}, the field holds ${JSON.stringify(value)}`);
}

describe('the Modbus dialogs in headless Chromium (pair transport fields and options, source items)', function () {
  this.timeout(120_000);
  let nr: EditorProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];
  let pairId = '';
  let sourceId = '';

  before(async function () {
    requireChromium(this);
    const flow = await onFreePorts(readExample('07 - Modbus data path redundancy (Ethernet and serial, one PLC).json'));
    pairId = flow.find((n) => n.type === 'redundant-pair')!.id as string;
    sourceId = flow.find((n) => n.type === 'redundant-source')!.id as string;
    nr = await EditorProcess.start(flow);
    ({ browser, page } = await launchPage(1500, 1000));
    page.on('pageerror', (e) => errors.push(e.message));
    await openEditor(page, nr.url, sourceId);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    await nr?.remove();
  });

  afterEach(function () {
    assert.deepEqual(errors.splice(0), [], 'no script error in the editor');
  });

  it('pair: the endpoints read into transport fields and composed back; each bad value explained', async function () {
    await editConfigNode(page, 'redundant-pair', pairId);
    await page.locator('#node-config-input-protocol').waitFor({ timeout: 10_000 });
    await sleep(500);
    assert.equal(await page.locator('#node-config-input-protocol').inputValue(), 'modbus');
    const primary = page.locator('.redundant-pair-mb[data-for="primaryEndpoint"]');
    const secondary = page.locator('.redundant-pair-mb[data-for="secondaryEndpoint"]');
    assert.equal(await primary.locator('.redundant-pair-mb-transport').inputValue(), 'tcp');
    assert.equal(await primary.locator('.redundant-pair-mb-host').inputValue(), '127.0.0.1');
    assert.equal(await secondary.locator('.redundant-pair-mb-transport').inputValue(), 'rtu-tcp');
    assert.ok(!(await page.locator('#redundant-pair-discover-primary').isVisible()), 'no OPC UA discovery for Modbus');
    assert.equal(await page.locator('#node-config-redundant-pair-tabs li.redundancy-tab-error').count(), 0, 'no tab marked: a Modbus pair has no security settings to fix');
    await shot(page, 'editor-modbus-pair-endpoints');
    // The secondary becomes a real serial port: the endpoint text follows the fields.
    await secondary.locator('.redundant-pair-mb-transport').selectOption('rtu');
    await expectText(messageOf(page, '#node-config-input-secondaryEndpoint'), /serial port is missing/, 'an empty serial port');
    await secondary.locator('.redundant-pair-mb-path').fill('/dev/ttyUSB0');
    await secondary.locator('.redundant-pair-mb-baud').selectOption('19200');
    await secondary.locator('.redundant-pair-mb-parity').selectOption('even');
    await expectValue(page.locator('#node-config-input-secondaryEndpoint'), /^modbus-rtu:\/dev\/ttyUSB0\?baud=19200&parity=even$/, 'the composed serial endpoint');
    await expectText(messageOf(page, '#node-config-input-secondaryEndpoint'), /^$/, 'no message once the serial port is set');
    await shot(page, 'editor-modbus-pair-serial');
    // A unit id 0 (broadcast) is explained under the endpoint.
    await primary.locator('.redundant-pair-mb-unit').fill('0');
    await expectText(messageOf(page, '#node-config-input-primaryEndpoint'), /unit 0 is the broadcast address/, 'unit 0');
    await primary.locator('.redundant-pair-mb-unit').fill('3');
    await expectValue(page.locator('#node-config-input-primaryEndpoint'), /\?unit=3$/, 'unit 3 in the endpoint');
    // Typed endpoint text fills the fields.
    await page.locator('#node-config-input-primaryEndpoint').fill('modbus-tcp://10.0.0.5:1502?unit=2');
    await page.locator('#node-config-input-primaryEndpoint').dispatchEvent('change');
    await expectValue(primary.locator('.redundant-pair-mb-port'), /^1502$/, 'the port from the typed endpoint');
    assert.equal(await primary.locator('.redundant-pair-mb-host').inputValue(), '10.0.0.5');
    assert.equal(await primary.locator('.redundant-pair-mb-unit').inputValue(), '2');
    // Options: out of range, and standby sampling on Modbus.
    await page.click('#red-ui-tab-redundant-pair-tab-redundancy a.red-ui-tab-label');
    await page.locator('#node-config-input-modbusMaxRegisters').fill('200');
    await expectText(messageOf(page, '#node-config-input-modbusMaxRegisters'), /registers per read must be an integer 1\.\.125/, 'registers per read');
    await page.locator('#node-config-input-mode').selectOption('warm');
    await page.locator('#node-config-input-standbySampling').check();
    await expectText(messageOf(page, '#node-config-input-standbySampling'), /standby sampling is not available for Modbus/, 'standby sampling');
    await shot(page, 'editor-modbus-pair-options');
    await page.click('#node-config-dialog-cancel');
    await traysGone(page);
  });

  it('source: poll period, the node-red-contrib-modbus output, a bad item explained, an overlap warned', async function () {
    await closeTrays(page);
    await editNode(page, sourceId);
    await page.locator('#node-input-items-container').waitFor({ timeout: 10_000 });
    await sleep(500);
    await expectText(page.locator('#redundant-source-sampling-label'), /^Poll period$/, 'the poll period label');
    assert.equal(await page.locator('#node-input-output option[value="modbus-read"]').isDisabled(), false);
    assert.ok(!(await page.locator('#node-input-items-browse').isVisible()), 'no browse for Modbus');
    const ids = page.locator('#node-input-items-container .node-input-item-id');
    await ids.nth(0).fill('HR0:float33');
    await expectText(page.locator('#node-input-items-container li').nth(0).locator('.redundancy-msg.redundancy-active'), /unknown data type/, 'a bad type');
    await ids.nth(0).fill('HR0:uint32');
    await ids.nth(1).fill('HR4:float32');
    await ids.nth(2).fill('HR5');
    await expectText(page.locator('#node-input-items-container li').nth(2).locator('.redundancy-msg.redundancy-warn.redundancy-active'), /HR4:float32 and HR5 share holding register 5/, 'the overlap warning');
    await page.locator('#node-input-output').selectOption('modbus-read');
    await shot(page, 'editor-modbus-source');
    await page.click('#node-dialog-cancel');
    await traysGone(page);
  });
});
