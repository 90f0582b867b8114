// A real MQTT broker for tests: Debian's mosquitto started on a free loopback port with a config
// file of its own (anonymous access, no persistence unless asked), stopped or killed by the test.
//
//   before(function () { requireMosquitto(this); });   // skips without mosquitto, fails under REQUIRE_TOOLS
//   const broker = await Mosquitto.start();           // broker.url = mqtt://127.0.0.1:<port>
//   ... await broker.stop();
//
// .ci/run installs mosquitto and sets REQUIRE_TOOLS=1, so in CI a missing broker fails the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portOpen, stopChild } from './node-red-child';
import { freePort } from './ports';
import { sleep } from './wait';

export const MOSQUITTO = process.env.MOSQUITTO_PATH ?? '/usr/sbin/mosquitto';

/** Skips the suite without mosquitto (or fails, when REQUIRE_TOOLS is set). */
export function requireMosquitto(ctx: Mocha.Context): void {
  if (existsSync(MOSQUITTO)) return;
  if (process.env.REQUIRE_TOOLS) throw new Error(`mosquitto not found at ${MOSQUITTO} (apt-get install mosquitto, or set MOSQUITTO_PATH)`);
  console.log(`      (skipped: no mosquitto at ${MOSQUITTO}; apt-get install mosquitto)`);
  ctx.skip();
}

export interface MosquittoOptions {
  port?: number;
  /** Keep retained messages across a broker restart (default false). */
  persistence?: boolean;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  log(): string {
    return this.output;
  }

  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'redundancy-mosquitto-'));
    const conf = [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `persistence ${options.persistence ? 'true' : 'false'}`,
      `persistence_location ${dir}/`,
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'mosquitto.conf'), conf);
    const m = new Mosquitto(port, dir);
    await m.launch();
    return m;
  }

  /** Starts the broker again on the same port (after stop). */
  async launch(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (b: Buffer) => (this.output += b.toString()));
    child.stderr?.on('data', (b: Buffer) => (this.output += b.toString()));
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(this.port))) {
      if (child.exitCode !== null) throw new Error(`mosquitto exited (${child.exitCode}): ${this.output}`);
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port} within 10 s: ${this.output}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child) await stopChild(child, 5000);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
