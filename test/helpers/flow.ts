// Running flows in the real Node-RED runtime (node-red-node-test-helper) and waiting on them.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));

export { helper };
export { sleep, waitFor } from './wait';

/* eslint-disable @typescript-eslint/no-require-imports */
export const pairModule = require('../../nodes/redundant-pair');
export const sourceModule = require('../../nodes/redundant-source');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface Msg {
  topic?: string;
  payload?: unknown;
  server?: string;
  [key: string]: unknown;
}

/** Collects everything a node receives (a 'helper' node wired after the node under test). */
export function collect(nodeId: string): Msg[] {
  const received: Msg[] = [];
  helper.getNode(nodeId).on('input', (msg: Msg) => received.push(msg));
  return received;
}

// The runtime's user dir: without one the nodes keep their files in Node-RED's default ~/.node-red
// (lib/core/user-dir.ts), so every start gets a folder of this process's own (one temporary folder,
// removed when the process ends) unless the test gave its own (helper.settings({ userDir })) and
// it still exists (a test's folder is removed after it; the next file's runtime must not write there).
let testUserDir: string | undefined;

function ensureUserDir(): void {
  const current = (helper.settings() as { userDir?: string }).userDir;
  if (current && current !== testUserDir && existsSync(current)) return;
  if (!testUserDir) {
    const dir = mkdtempSync(join(tmpdir(), 'redundancy-test-userdir-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    testUserDir = dir;
  }
  helper.settings({ ...helper.settings(), userDir: testUserDir });
}

export function startServer(): Promise<void> {
  ensureUserDir();
  return new Promise((resolve) => helper.startServer(resolve));
}

export function stopServer(): Promise<void> {
  return new Promise((resolve) => helper.stopServer(resolve));
}

/** Error-level log lines the runtime received from nodes (node.error). */
export function loggedErrors(): string[] {
  const log = helper.log();
  return log.args.filter((a: Array<{ level: number; msg: unknown }>) => a[0].level === log.ERROR).map((a: Array<{ msg: unknown }>) => String(a[0].msg));
}

/** A hot OPC UA redundant-pair node (no security, anonymous, 300 ms pings), `extra` over it. */
export function opcuaPairDef(id: string, name: string, primary: string, secondary: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'redundant-pair', name, protocol: 'opcua', primaryEndpoint: primary, secondaryEndpoint: secondary, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'hot', pingInterval: 300, pingTimeout: 300, autoPromote: true, holdOff: 1000, reconnectMax: 1000, ...extra };
}

export interface ShownStatus {
  fill?: string;
  shape?: string;
  text?: string;
}

/** Every status node `id` has shown, in order (the helper's status spy is shared by all nodes: this node's calls). */
export function statusesOf(id: string): ShownStatus[] {
  const spy = helper.getNode(id).status as { getCalls(): Array<{ thisValue: { id: string }; args: ShownStatus[] }> };
  return spy
    .getCalls()
    .filter((c) => c.thisValue.id === id)
    .map((c) => c.args[0]);
}

export function lastStatus(id: string): ShownStatus | undefined {
  return statusesOf(id).at(-1);
}

/** Counts of open sockets and timers, to prove a redeploy released everything. */
export function openHandles(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length,
    timers: info.filter((r) => r === 'Timeout').length,
  };
}

/** Counter values in the order they were output, and the holes in that sequence. */
export function holes(values: number[]): Array<[number, number]> {
  const gaps: Array<[number, number]> = [];
  for (let i = 1; i < values.length; i++) {
    if (values[i] !== values[i - 1] + 1) gaps.push([values[i - 1], values[i]]);
  }
  return gaps;
}

/**
 * helper.load, with two things Node-RED 5 needs: flow nodes (those with wires) get a tab and
 * x/y (without them the runtime takes a node for a config node).
 */
export async function loadFlow(modules: unknown[], flow: Array<Record<string, unknown>>, credentials: Record<string, unknown> = {}): Promise<void> {
  const hasTab = flow.some((n) => n.type === 'tab');
  const tabId = (flow.find((n) => n.type === 'tab')?.id as string | undefined) ?? 'test-tab';
  const nodes = flow.map((n, i) => (n.wires !== undefined || n.type === 'helper' ? { x: 100, y: 40 * (i + 1), z: tabId, ...n } : n));
  if (!hasTab) nodes.unshift({ id: tabId, type: 'tab', label: 'test' });
  await helper.load(modules, nodes, credentials);
}
