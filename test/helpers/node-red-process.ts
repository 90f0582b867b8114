// Real Node-RED processes for tests with two (or more) instances: each with its own user dir,
// settings, flow, credentials, environment and free port; stopped gracefully (SIGTERM: close
// handlers run, as on a shutdown), killed (SIGKILL: nothing runs), restarted on the same user dir
// and port (the flow and credentials Node-RED saved are used again).
//
//   const a = await NodeRedProcess.start({ name: 'a', flows, credentials: { [linkId]: { secret } }, env: { X: '1' } });
//   await a.inject(nodeId, { payload: 1 });          // a message into any node (node.receive)
//   const got = await a.messages(probeId);           // what a `test-probe` node received
//   const v = await a.nodeState(configId, 'link.duty'); // a property of a node; functions are called
//   await a.kill(); await a.restart(); await a.stop(); await a.dispose();
//
// This package is linked into <userDir>/node_modules, so its nodes load as in a user's install.
// Besides, a small node module is written to <userDir>/nodes/test-probe.js (never shipped) that adds:
//   - a `test-probe` flow node (1 input): it records every message it receives, with Date.now();
//   - admin endpoints (no auth: test settings have none):
//       GET  /test-probe/ready            {started}: the flows have started (flows:started)
//       POST /test-probe/inject/:id       body = msg; the node receives it (404 if not deployed)
//       GET  /test-probe/messages/:id?since=N  {messages: [{t, msg}], next}
//       GET  /test-probe/node/:id?path=a.b {value}: a property of a deployed node; a function on
//                                         the path is called (this = its parent)
// Credentials are written unencrypted (credentialSecret: false in the generated settings).
// Settings: a JSON object merged over the defaults below (no functions).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linkPackage, quietSettings, spawnNodeRed, stopChild } from './node-red-child';
import { freePort } from './ports';
import { sleep } from './wait';

export type FlowNode = Record<string, unknown>;

export interface NodeRedProcessOptions {
  /** Shown in errors and logs. */
  name?: string;
  /** The flow written to flows.json at the first start (not on restart). */
  flows: FlowNode[];
  /** Credentials by node id. */
  credentials?: Record<string, Record<string, string>>;
  /** Default: a new temporary directory, removed by dispose(). */
  userDir?: string;
  /** Default: a free port. */
  port?: number;
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
  /** Bound on start-up until the flows run (default 60 s: a loaded CI machine). */
  startTimeoutMs?: number;
}

const PROBE_JS = `
module.exports = function (RED) {
  const received = new Map();
  let started = false;
  RED.events.on('flows:started', () => { started = true; });
  RED.events.on('flows:stopping', () => { started = false; });
  function safe(msg) {
    const seen = new WeakSet();
    return JSON.parse(JSON.stringify(msg, (k, v) => {
      if (typeof v === 'object' && v !== null) { if (seen.has(v)) return undefined; seen.add(v); }
      return typeof v === 'function' ? undefined : v;
    }) ?? 'null');
  }
  function TestProbe(def) {
    RED.nodes.createNode(this, def);
    if (!received.has(this.id)) received.set(this.id, []);
    const list = received.get(this.id);
    this.on('input', (msg, send, done) => { list.push({ t: Date.now(), msg: safe(msg) }); done(); });
  }
  RED.nodes.registerType('test-probe', TestProbe);
  RED.httpAdmin.get('/test-probe/ready', (req, res) => res.json({ started }));
  RED.httpAdmin.post('/test-probe/inject/:id', (req, res) => {
    const node = RED.nodes.getNode(req.params.id);
    if (!node) return res.status(404).json({ error: 'no deployed node ' + req.params.id });
    node.receive(req.body || {});
    res.json({ ok: true });
  });
  RED.httpAdmin.get('/test-probe/messages/:id', (req, res) => {
    const list = received.get(req.params.id) || [];
    const since = Number(req.query.since || 0);
    res.json({ messages: list.slice(since), next: list.length });
  });
  RED.httpAdmin.get('/test-probe/node/:id', (req, res) => {
    let at = RED.nodes.getNode(req.params.id);
    if (!at) return res.status(404).json({ error: 'no deployed node ' + req.params.id });
    let parent;
    for (const part of String(req.query.path || '').split('.').filter(Boolean)) {
      if (at === null || at === undefined) break;
      parent = at;
      at = at[part];
      if (typeof at === 'function') at = at.call(parent);
    }
    res.json({ value: at === undefined ? null : safe(at) });
  });
};
`;
const PROBE_HTML = `<script type="text/javascript">RED.nodes.registerType('test-probe',{category:'test',color:'#ddd',defaults:{name:{value:''}},inputs:1,outputs:0,label:function(){return this.name||'test probe';}});</script>`;

export class NodeRedProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly tempDir: boolean;

  private constructor(
    readonly name: string,
    readonly userDir: string,
    readonly port: number,
    private readonly options: NodeRedProcessOptions,
  ) {
    this.tempDir = !options.userDir;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** stdout and stderr of every run so far (for failure messages). */
  log(): string {
    return this.output;
  }

  static async start(options: NodeRedProcessOptions): Promise<NodeRedProcess> {
    const userDir = options.userDir ?? mkdtempSync(join(tmpdir(), `redundancy-nr-${options.name ?? 'x'}-`));
    const port = options.port ?? (await freePort());
    const p = new NodeRedProcess(options.name ?? `node-red:${port}`, userDir, port, options);
    p.prepare();
    try {
      await p.launch();
    } catch (err) {
      await p.dispose(); // nothing left running behind a failed start
      throw err;
    }
    return p;
  }

  /** Starts again on the same user dir and port (after stop or kill). */
  async restart(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running`);
    await this.launch();
  }

  /** SIGTERM: Node-RED stops its flows (close handlers run); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 20_000): Promise<void> {
    if (this.running) await stopChild(this.child!, timeoutMs);
  }

  /** SIGKILL: the process ends at once, nothing of it runs. */
  async kill(): Promise<void> {
    if (this.running) await stopChild(this.child!, 0, 'SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => this.kill());
    if (this.tempDir) rmSync(this.userDir, { recursive: true, force: true });
  }

  async get<T = unknown>(path: string, timeoutMs = 5000): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`${this.name}: GET ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async post<T = unknown>(path: string, body: unknown, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.name}: POST ${path}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async inject(nodeId: string, msg: Record<string, unknown>): Promise<void> {
    await this.post(`/test-probe/inject/${encodeURIComponent(nodeId)}`, msg);
  }

  async messages(probeId: string, since = 0): Promise<Array<{ t: number; msg: Record<string, unknown> }>> {
    const r = await this.get<{ messages: Array<{ t: number; msg: Record<string, unknown> }> }>(`/test-probe/messages/${encodeURIComponent(probeId)}?since=${since}`);
    return r.messages;
  }

  async nodeState<T = unknown>(nodeId: string, path: string): Promise<T> {
    const r = await this.get<{ value: T }>(`/test-probe/node/${encodeURIComponent(nodeId)}?path=${encodeURIComponent(path)}`);
    return r.value;
  }

  /** Deploys a flow through the admin API, as the editor does (credentials inside the nodes). */
  async deploy(flows: FlowNode[], type: 'full' | 'nodes' | 'flows' = 'full', credentials: Record<string, Record<string, string>> = {}): Promise<void> {
    const withCreds = flows.map((n) => (credentials[n.id as string] ? { ...n, credentials: credentials[n.id as string] } : n));
    await this.post('/flows', withCreds, { 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v1' }, 30_000);
  }

  /** Waits until the flows run again (after a deploy or restart). */
  async waitStarted(timeoutMs = this.options.startTimeoutMs ?? 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited (${this.child?.exitCode ?? this.child?.signalCode}) before its flows started:\n${this.output.slice(-4000)}`);
      try {
        if ((await this.get<{ started: boolean }>('/test-probe/ready', 2000)).started) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) throw new Error(`${this.name}: flows not started within ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      await sleep(100);
    }
  }

  private prepare(): void {
    const o = this.options;
    linkPackage(this.userDir);
    mkdirSync(join(this.userDir, 'nodes'), { recursive: true });
    writeFileSync(join(this.userDir, 'nodes', 'test-probe.js'), PROBE_JS);
    writeFileSync(join(this.userDir, 'nodes', 'test-probe.html'), PROBE_HTML);
    if (!existsSync(join(this.userDir, 'flows.json'))) {
      writeFileSync(join(this.userDir, 'flows.json'), JSON.stringify(o.flows, null, 1));
      writeFileSync(join(this.userDir, 'flows_cred.json'), JSON.stringify(o.credentials ?? {}));
    }
    const settings = quietSettings({ credentialSecret: false, ...o.settings });
    writeFileSync(join(this.userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 1)};\n`);
  }

  private async launch(): Promise<void> {
    this.output += `--- ${this.name} start ${new Date().toISOString()}\n`;
    const { child } = spawnNodeRed({ userDir: this.userDir, port: this.port, settingsFile: join(this.userDir, 'settings.js'), cwd: this.userDir, env: this.options.env ?? {}, onOutput: (text) => (this.output += text) });
    this.child = child;
    if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    await this.waitStarted();
  }
}
