// A real Node-RED process for the editor tests (adminAuth users, httpAdmin requests with a token, a
// browser on its editor). Two-instance tests use test/helpers/node-red-process.ts.
// it), for tests that need what the test helper does not give: the editor and its httpAdmin with
// adminAuth, a restart that keeps the user dir, a browser. Ports are free ones; every wait bounded.
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newUserDir, quietSettings, spawnNodeRed, stopChild } from './node-red-child';
import { freePort } from './ports';
import { sleep } from './wait';

/** Users of an adminAuth test: the admin may do anything, the viewer only read. */
export const ADMIN = { username: 'admin', password: 'admin-pass-12', scope: '*' };
export const VIEWER = { username: 'viewer', password: 'viewer-pass-12', scope: 'read' };
const HASHES = {
  admin: '$2b$08$TtBwKhPWq8gnZ9F3UOVteOBj5VIXuJV2C70gkPQGB7xzL0fKOXdSa',
  viewer: '$2b$08$HlTOxfmRZuAaw9tKdEldSeLflk5ABOSdwOZyybACKvIsCjy6O4c.2',
};

export interface NodeRedOptions {
  /** Node-RED's adminAuth with the admin and viewer users. */
  adminAuth?: boolean;
  /** A user dir to reuse (a restart); a new temporary one when absent. */
  userDir?: string;
}

export class EditorProcess {
  log = '';
  private child?: ChildProcess;

  private constructor(readonly userDir: string, readonly port: number, private readonly settingsFile: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Writes the user dir (flow, settings, the package linked in) and starts Node-RED; resolves once the editor answers. */
  static async start(flow: unknown[], opts: NodeRedOptions = {}): Promise<EditorProcess> {
    const userDir = opts.userDir ?? newUserDir('redundancy-nr-');
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
    const settingsFile = join(userDir, 'settings.cjs');
    const settings = quietSettings({
      credentialSecret: 'redundancy-test-secret',
      ...(opts.adminAuth
        ? { adminAuth: { type: 'credentials', users: [{ username: ADMIN.username, password: HASHES.admin, permissions: '*' }, { username: VIEWER.username, password: HASHES.viewer, permissions: 'read' }] } }
        : {}),
    });
    writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    const nr = new EditorProcess(userDir, await freePort(), settingsFile);
    await nr.launch();
    return nr;
  }

  private async launch(): Promise<void> {
    const { child } = spawnNodeRed({ userDir: this.userDir, port: this.port, settingsFile: this.settingsFile, flowFile: 'flows.json', onOutput: (text) => (this.log += text) });
    this.child = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${this.log.slice(-3000)}`);
      if (/Started flows/.test(this.log)) {
        try {
          const res = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(2000) });
          if (res.status < 500) return;
        } catch {
          /* not yet */
        }
      }
      if (Date.now() > deadline) throw new Error(`Node-RED did not start within 60 s:\n${this.log.slice(-3000)}`);
      await sleep(200);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 10_000);
  }

  /** Stops and starts again on the same user dir and port (the flow as deployed). */
  async restart(): Promise<void> {
    await this.stop();
    this.log = '';
    await this.launch();
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.userDir, { recursive: true, force: true });
  }

  /** An access token of an adminAuth user. */
  async token(user: { username: string; password: string; scope: string }): Promise<string> {
    const res = await fetch(`${this.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: user.scope, username: user.username, password: user.password }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`login of ${user.username} refused: ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** An httpAdmin request: status and JSON body (or text). */
  async request(method: 'GET' | 'POST', path: string, opts: { token?: string; body?: unknown; timeoutMs?: number } = {}): Promise<{ status: number; body: any; ms: number }> {
    const started = Date.now();
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* text */
    }
    return { status: res.status, body, ms: Date.now() - started };
  }
}
