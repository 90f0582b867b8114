// The real Node-RED runtime inside the benchmark process (no editor, no HTTP nodes), with this
// package and a counting sink node, so the CPU measured is the pair's path through a node output.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
  await RED.start();
  return {
    sink,
    async deploy(flows) {
      await RED.runtime.flows.setFlows({ flows: { flows }, deploymentType: 'full' });
    },
    async stop() {
      await RED.runtime.flows.setFlows({ flows: { flows: [] }, deploymentType: 'full' });
      await RED.stop();
      server.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
