// End to end, as a user sees it: the `npm start` demo (example 12: two embedded simulators, a hot
// pair, diagnostics, Dashboard 2.0) runs in a real Node-RED process; headless Chromium opens the
// dashboard, reads the status table, presses "Fail primary (crash)" and "Restore primary", and
// keeps screenshots of each step in screenshots/. Ports are free ones, the user dir a temporary one.
// Needs Debian's chromium (`apt-get install chromium`; .ci/run installs it and sets REQUIRE_BROWSER,
// so that in CI a missing browser fails instead of skipping).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchPage, requireChromium, shot } from '../helpers/browser';
import { onFreePorts, readExample } from '../helpers/examples';
import { DEMO_SETTINGS, newUserDir, spawnNodeRed, stopChild } from '../helpers/node-red-child';
import { freePort } from '../helpers/ports';
import { sleep } from '../helpers/wait';


async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** The dashboard's visible text, for assertions and failure messages. */
function pageText(page: Page): Promise<string> {
  return page.locator('body').innerText();
}

async function waitForText(page: Page, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await pageText(page);
    if (pattern.test(text)) return text;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${pattern}); the page shows:\n${text.slice(0, 3000)}`);
}

/** The Counter widget's value, e.g. 776328459 from "776328459 from the secondary". */
async function counter(page: Page): Promise<{ value: number; server: string }> {
  const pattern = /(\d+) from the (primary|secondary)/;
  const m = pattern.exec(await waitForText(page, pattern, 15_000, 'the Counter widget showing a value and its server'));
  assert.ok(m);
  return { value: Number(m[1]), server: m[2] };
}

describe('npm start demo in headless Chromium (dashboard, fail and restore the primary)', function () {
  this.timeout(180_000);
  let dir: string | undefined;
  let nodeRed: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let log = '';

  before(async function () {
    requireChromium(this);
    dir = newUserDir('redundancy-e2e-');
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(await onFreePorts(readExample('12 - Diagnostics to e-mail and dashboard.json'))));
    const port = await freePort();
    const { child } = spawnNodeRed({ userDir: dir, port, settingsFile: DEMO_SETTINGS, flowFile: 'flows.json', onOutput: (text) => (log += text) });
    nodeRed = child;
    const url = `http://127.0.0.1:${port}/dashboard/redundancy`;
    const deadline = Date.now() + 60_000;
    while (!(await httpOk(url))) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${log.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`the dashboard did not answer within 60 s:\n${log.slice(-3000)}`);
      await sleep(250);
    }
    ({ browser, page } = await launchPage(1400, 1000));
    await page.goto(url);
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    if (nodeRed) await stopChild(nodeRed, 10_000);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the pair on the primary, both servers healthy, values coming, and a clean start in the event log', async function () {
    await waitForText(page, /primary \(hot, 0 failovers\)/, 30_000, 'the pair active on the primary');
    const text = await waitForText(page, /demo-pair\s+hot\s+primary\s+healthy\s+healthy/, 15_000, 'the status table row: hot, primary active, both healthy');
    assert.doesNotMatch(text, /both-down|connect-failed/, 'the simulators starting with the flow are not reported as failures');
    const a = await counter(page);
    await sleep(1500);
    const b = await counter(page);
    assert.equal(b.server, 'primary');
    assert.ok(b.value > a.value, `the counter advances (${a.value} then ${b.value})`);
    await shot(page, 'dashboard-1-primary', true);
  });

  it('"Fail primary (crash)": the pair switches to the secondary, the values keep coming, the event log explains it', async function () {
    const before = await counter(page);
    await page.getByRole('button', { name: 'Fail primary (crash)' }).click();
    await waitForText(page, /secondary \(hot, 1 failover\)/, 15_000, 'the pair active on the secondary');
    const text = await waitForText(page, /failover\s+primary → secondary/, 10_000, 'the failover in the event log');
    assert.match(text, /demo-pair\s+hot\s+secondary\s+down/, 'the status table: secondary active, primary down');
    assert.match(text, /switch-complete\s+primary → secondary/, 'the switch completion names both servers');
    await sleep(1500);
    const after = await counter(page);
    assert.equal(after.server, 'secondary');
    assert.ok(after.value > before.value, `the counter goes on from the secondary (${before.value} then ${after.value})`);
    await shot(page, 'dashboard-2-failed-over', true);
  });

  it('"Restore primary": the primary comes back, and after the hold-off the pair returns to it', async function () {
    await page.getByRole('button', { name: 'Restore primary' }).click();
    const text = await waitForText(page, /promotion\s+secondary → primary/, 45_000, 'the promotion back to the primary');
    assert.match(text, /connected\s+primary\s+connected to opc\.tcp:\/\/127\.0\.0\.1:\d+\/UA\/Simulator\s+was down \d/, 'the reconnection says how long the primary was down');
    await waitForText(page, /primary \(hot, 1 failover\)/, 10_000, 'the pair active on the primary again');
    await shot(page, 'dashboard-3-restored', true);
  });

  it('fits 800 px: nothing cut off, each table row shown as a card', async function () {
    await page.setViewportSize({ width: 800, height: 1000 });
    const text = await waitForText(page, /Last event/, 10_000, 'the status table at 800 px');
    assert.match(text, /Pair\s+demo-pair/, 'the status table as cards: label and value per line');
    const overflow = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return d.scrollWidth - d.clientWidth;
    });
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    await shot(page, 'dashboard-4-800px', true);
  });
});
