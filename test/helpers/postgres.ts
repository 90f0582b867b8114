// A throw-away PostgreSQL cluster for tests and benchmarks: initdb in a temporary directory, started
// with pg_ctl on a free loopback port (socket in the same directory, fsync off), stopped and removed
// after. Debian's postgresql package provides the binaries (.ci/run installs it when missing); the
// machine may run as root, which initdb refuses: then the cluster runs as the `postgres` user.
// Without PostgreSQL the tests that need it skip, unless REQUIRE_TOOLS=1 (CI), where they fail.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

export interface PostgresCluster {
  port: number;
  connectionString: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl, or undefined. */
export function findPostgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join('/usr/lib/postgresql', v, 'bin', 'initdb'))) return join('/usr/lib/postgresql', v, 'bin');
  } catch {
    // not installed
  }
  return undefined;
}

/** Skips the mocha test (or suite) when PostgreSQL is missing, fails when REQUIRE_TOOLS=1. */
export function requirePostgres(ctx: Mocha.Context): string {
  const bin = findPostgresBin();
  if (bin) return bin;
  if (process.env.REQUIRE_TOOLS === '1') throw new Error('PostgreSQL (initdb, pg_ctl) is required (REQUIRE_TOOLS=1): apt-get install postgresql');
  console.log('      (skipped: PostgreSQL not installed; apt-get install postgresql)');
  ctx.skip();
  return '';
}

function asUser(user: string | undefined, bin: string, tool: string, args: string[]): void {
  const cmd = join(bin, tool);
  const opts = { stdio: 'pipe' as const, timeout: 60_000 };
  if (user) execFileSync('runuser', ['-u', user, '--', cmd, ...args], opts);
  else execFileSync(cmd, args, opts);
}

export async function startPostgres(bin = findPostgresBin()): Promise<PostgresCluster> {
  if (!bin) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'redundancy-pg-'));
  const dataDir = join(dir, 'data');
  const user = process.getuid?.() === 0 ? 'postgres' : undefined;
  if (user) {
    const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  try {
    asUser(user, bin, 'initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40`;
    asUser(user, bin, 'pg_ctl', ['-D', dataDir, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`cannot start PostgreSQL: ${e.stderr?.toString().trim() || e.message}`);
  }
  let stopped = false;
  return {
    port,
    dataDir,
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        asUser(user, bin, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
