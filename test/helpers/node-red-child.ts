// What every helper that runs Node-RED (or another server) as a child process of a test needs:
// a user dir with this package linked in, quiet local-only settings, the Node-RED process with its
// output kept, a bounded stop (SIGTERM, then SIGKILL), and "does this loopback port accept
// connections yet". Used by node-red-process.ts (two-instance tests), editor-process.ts (editor and
// httpAdmin), gateway-node-red.ts (gateway sets), mosquitto.ts and the dashboard e2e test.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './wait';

export const ROOT = join(__dirname, '..', '..', '..');
const RED_JS = join(ROOT, 'node_modules', 'node-red', 'red.js');
/** The `npm start` settings (local only, quiet), also used as they are by some tests. */
export const DEMO_SETTINGS = join(ROOT, 'scripts', 'demo-settings.cjs');

/** Settings for a test's Node-RED: local only, no telemetry, projects, tours or palette installs. */
export function quietSettings(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uiHost: '127.0.0.1',
    flowFile: 'flows.json',
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    runtimeState: { enabled: false, ui: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { projects: { enabled: false }, tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    ...overrides,
  };
}

/** Links this package into <userDir>/node_modules, so its nodes load as in a user's install. */
export function linkPackage(userDir: string): void {
  mkdirSync(join(userDir, 'node_modules'), { recursive: true });
  const link = join(userDir, 'node_modules', 'node-red-contrib-redundancy');
  if (!existsSync(link)) symlinkSync(ROOT, link, 'dir');
}

/** A new temporary user dir with this package linked in. */
export function newUserDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  linkPackage(dir);
  return dir;
}

export interface NodeRedChild {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Exited or killed by a signal. */
  gone(): boolean;
}

/**
 * Starts Node-RED on a user dir, port and settings file; `onOutput` gets its stdout and stderr
 * (`flowFile` is passed as the flow file argument when given).
 */
export function spawnNodeRed(o: { userDir: string; port: number; settingsFile: string; flowFile?: string; cwd?: string; env?: Record<string, string>; onOutput(text: string): void }): NodeRedChild {
  const args = [RED_JS, '--userDir', o.userDir, '--port', String(o.port), '--settings', o.settingsFile, ...(o.flowFile ? [o.flowFile] : [])];
  const child = spawn(process.execPath, args, { cwd: o.cwd ?? ROOT, ...(o.env ? { env: { ...process.env, ...o.env } } : {}), stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => o.onOutput(b.toString()));
  child.stderr?.on('data', (b: Buffer) => o.onOutput(b.toString()));
  return { child, ...exitWatch(child) };
}

function exitWatch(child: ChildProcess): { exited: Promise<void>; gone(): boolean } {
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => {
    if (gone()) resolve();
    else child.once('exit', () => resolve());
  });
  return { exited, gone };
}

/** Stops a child: `signal` (SIGTERM: it closes politely), SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const { exited, gone } = exitWatch(child);
  if (gone()) return;
  child.kill(signal);
  await Promise.race([exited, sleep(graceMs)]);
  if (!gone()) child.kill('SIGKILL');
  await exited;
}

/** Whether something accepts connections on the loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
