// Headless Chromium for the e2e tests (playwright-core against Debian's chromium): the browser's
// path and flags, the skip-or-fail when it is missing, screenshots that must hold a rendered page,
// and the Node-RED editor's page helpers (open it on a flow, edit a node, wait for a message in a
// dialog, close left-over trays).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Locator, type Page, chromium } from 'playwright-core';
import { sleep } from './wait';

const ROOT = join(__dirname, '..', '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'screenshots');
// Flags for a closed network (see the machine notes): no background connections, no sandbox as root.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Functions passed to page.evaluate run in the browser (this project compiles without the DOM library).
declare const window: unknown;
declare const document: { querySelectorAll(s: string): { length: number } };

/**
 * In a `before`: skips the suite when Chromium is missing (fails instead under REQUIRE_BROWSER, as
 * in CI); makes the screenshot folder.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (!existsSync(CHROMIUM)) {
    if (process.env.REQUIRE_BROWSER) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    console.log(`      (skipped: no Chromium at ${CHROMIUM}; apt-get install chromium)`);
    ctx.skip();
  }
  mkdirSync(SHOTS, { recursive: true });
}

/** A headless browser with one page of the given size. */
export async function launchPage(width: number, height: number): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width, height } });
  return { browser, page };
}

/** screenshots/<name>.png, checked to hold a rendered page; its path. */
export async function shot(page: Page, name: string, fullPage = false): Promise<string> {
  const file = join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, ...(fullPage ? { fullPage } : {}) });
  assert.ok(statSync(file).size > 20_000, `${file} holds a rendered page`);
  return file;
}

/** Opens the editor at `url` and waits until node `nodeId` and the package's rules are loaded. */
export async function openEditor(page: Page, url: string, nodeId: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.waitForFunction((id) => {
    const RED = (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED;
    return !!RED?.nodes?.node?.(id) && !!(window as unknown as { RedundancyRules?: unknown }).RedundancyRules;
  }, nodeId, { timeout: 60_000 });
  await page.waitForTimeout(500);
}

/** Opens the edit dialog of a flow node. */
export function editNode(page: Page, id: string): Promise<void> {
  return page.evaluate((nodeId) => {
    const RED = (window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } }).RED;
    RED.editor.edit(RED.nodes.node(nodeId));
  }, id);
}

/** Opens the edit dialog of a configuration node. */
export function editConfigNode(page: Page, type: string, id: string): Promise<void> {
  return page.evaluate(([t, nodeId]) => {
    (window as unknown as { RED: { editor: { editConfig(a: string, t: string, id: string): void } } }).RED.editor.editConfig('', t, nodeId);
  }, [type, id] as const);
}

/** Waits until no tray (dialog) is open. */
export async function traysGone(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.red-ui-tray').length === 0, null, { timeout: 10_000 });
}

/** Closes whatever trays a failed step left open, so the next test starts from the canvas. */
export async function closeTrays(page: Page): Promise<void> {
  for (let i = 0; i < 5; i++) {
    if ((await page.locator('.red-ui-tray').count()) === 0) return;
    await page.evaluate(() => (window as unknown as { RED: { tray: { close(): void } } }).RED.tray.close());
    await sleep(400);
  }
}

/** The text of a message (or any element): waits until it reads as expected. */
export async function expectText(locator: Locator, pattern: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let text = '';
  while (Date.now() < deadline) {
    text = (await locator.count()) > 0 ? await locator.first().innerText() : '';
    if (pattern.test(text)) return;
    await sleep(100);
  }
  throw new Error(`${what}: expected ${pattern}, the dialog shows ${JSON.stringify(text)}`);
}

/** The message div of the form row holding `input` (empty when the field is valid). */
export function messageOf(page: Page, inputSelector: string): Locator {
  return page.locator(`.form-row:has(${inputSelector}) > .redundancy-msg.redundancy-active`);
}
