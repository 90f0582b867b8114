// The real Node-RED runtime inside the benchmark process (no editor, no HTTP nodes), with this
// package and a counting sink node, so the CPU measured is the pair's path through a node output.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from './stats';

export interface SinkStats {
  count: number;
  sampling: boolean;
  delays: number[];
}

declare global {
  // eslint-disable-next-line no-var
  var __benchSink: SinkStats | undefined;
}

const SINK_NODE = `
module.exports = function (RED) {
  function BenchSink(n) {
    RED.nodes.createNode(this, n);
    const s = globalThis.__benchSink;
    this.on('input', (msg, send, done) => {
      const now = Date.now();
      if (Array.isArray(msg.payload)) {
        s.count += msg.payload.length;
        if (s.sampling) for (const c of msg.payload) s.delays.push(now - c.sourceTimestamp);
      } else {
        s.count++;
        if (s.sampling) s.delays.push(now - msg.sourceTimestamp);
      }
      done();
    });
  }
  RED.nodes.registerType('bench-sink', BenchSink);
};
`;

export interface EmbeddedNodeRed {
  sink: SinkStats;
  deploy(flows: object[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startNodeRed(): Promise<EmbeddedNodeRed> {
  const root = resolve(__dirname, '..', '..');
  const userDir = mkdtempSync(join(tmpdir(), 'redundancy-bench-'));
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  mkdirSync(join(userDir, 'nodes'), { recursive: true });
  symlinkSync(root, join(userDir, 'node_modules', 'node-red-contrib-redundancy'), 'dir');
  writeFileSync(join(userDir, 'nodes', 'bench-sink.js'), SINK_NODE);
  writeFileSync(join(userDir, 'nodes', 'bench-sink.html'), '<script type="text/javascript">RED.nodes.registerType("bench-sink",{category:"bench",inputs:1,outputs:0,defaults:{}});</script>');
  writeFileSync(join(userDir, 'flows.json'), '[]');
  const sink: SinkStats = { count: 0, sampling: false, delays: [] };
  globalThis.__benchSink = sink;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  const server = http.createServer();
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    runtimeState: { enabled: false },
    externalModules: { autoInstall: false },
  });
  // RED.start() and setFlows() resolve before Node-RED has started the flows: it starts them
  // afterwards, asynchronously (runtime/lib/index.js start, runtime/lib/flows/index.js setFlows: "Return
  // the new revision asynchronously to the actual start"). A RED.stop() or another deploy while that
  // start is still running finds nothing to stop, and the start then leaves a running global flow in
  // @node-red/runtime's module state that nothing stops. node-red-node-test-helper (the selector
  // bench, later in this process) shares that module: its full start reuses the leftover global flow
  // (with this runtime's last, empty config) and never creates its own config nodes. So every start
  // here is waited for (bounded), and the runtime is only stopped with no start in flight.
  const events = RED.runtime.events as { on(e: string, f: () => void): void; off(e: string, f: () => void): void };
  const whileStarting = async (what: string, action: () => Promise<unknown>): Promise<void> => {
    let started = false;
    const onStarted = () => {
      started = true;
    };
    events.on('flows:started', onStarted);
    try {
      await action();
      await waitFor(() => started, 30_000, `Node-RED to start the flows (${what}; missing node types or a flow start that failed leave them stopped)`);
    } finally {
      events.off('flows:started', onStarted);
    }
  };
  const setFlows = (flows: object[]) => RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
  await whileStarting('initial flows', () => RED.start());
  return {
    sink,
    async deploy(flows) {
      await whileStarting('deploy', () => setFlows(flows));
    },
    async stop() {
      await whileStarting('empty deploy before stop', () => setFlows([]));
      await RED.stop();
      server.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
