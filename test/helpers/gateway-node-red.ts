// A Node-RED process with this package and a given flow (two-instance tests: a redundant set of
// gateways): its own temporary user dir, free ports, killable for real (SIGKILL).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { sleep } from './wait';

const ROOT = join(__dirname, '..', '..', '..');

export interface NodeRedProcess {
  port: number;
  userDir: string;
  log(): string;
  /** A crash: SIGKILL, nothing closed politely. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts Node-RED with `flows`; resolves once every port in `waitPorts` accepts connections. */
export async function startNodeRedProcess(flows: object[], waitPorts: number[], timeoutMs = 60_000): Promise<NodeRedProcess> {
  const userDir = mkdtempSync(join(tmpdir(), 'gateway-nr-'));
  mkdirSync(join(userDir, 'node_modules'));
  symlinkSync(ROOT, join(userDir, 'node_modules', 'node-red-contrib-redundancy'), 'dir');
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--port', String(port), '--settings', join(ROOT, 'scripts', 'demo-settings.cjs'), 'flows.json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const stop = async (signal: NodeJS.Signals) => {
    if (!gone()) child.kill(signal);
    await Promise.race([exited, sleep(10_000)]);
    if (!gone()) child.kill('SIGKILL');
    await exited;
  };
  const deadline = Date.now() + timeoutMs;
  for (const p of waitPorts) {
    while (!(await listening(p))) {
      if (gone() || Date.now() > deadline) {
        await stop('SIGKILL');
        rmSync(userDir, { recursive: true, force: true });
        throw new Error(`Node-RED did not open port ${p} within ${timeoutMs} ms:\n${log.slice(-3000)}`);
      }
      await sleep(200);
    }
  }
  return {
    port,
    userDir,
    log: () => log,
    kill: () => stop('SIGKILL'),
    stop: async () => {
      await stop('SIGTERM');
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
