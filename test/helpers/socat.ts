// A serial line without hardware: a pseudo-terminal pair from Debian's socat
// (`socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B`): bytes written to one end come out of the
// other, as on a null-modem cable. A test that needs it skips without socat, and fails instead
// when REQUIRE_TOOLS is set (.ci/run sets it after installing socat).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

export interface PtyPair {
  /** The device's end (the simulator opens it). */
  device: string;
  /** The master's end (the driver opens it). */
  master: string;
  close(): Promise<void>;
}

export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Skips the calling test (this.skip()) when socat is missing, unless REQUIRE_TOOLS is set. */
export function requireSocat(ctx: Mocha.Context): void {
  if (hasSocat()) return;
  if (process.env.REQUIRE_TOOLS) throw new Error('socat is not installed (apt-get install socat); REQUIRE_TOOLS is set, so this test may not skip');
  ctx.skip();
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'redundancy-pty-'));
  const device = join(dir, 'device');
  const master = join(dir, 'master');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${master}`], { stdio: 'ignore' });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  try {
    await waitFor(() => exited || (existsSync(device) && existsSync(master)), 5000, 'socat to create the pty pair');
    if (exited) throw new Error('socat exited before creating the pty pair');
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    device,
    master,
    close: async () => {
      if (!exited) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
