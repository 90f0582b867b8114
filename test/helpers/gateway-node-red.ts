// A Node-RED process with this package and a given flow (two-instance tests: a redundant set of
// gateways): its own temporary user dir, free ports, killable for real (SIGKILL).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_SETTINGS, newUserDir, portOpen, spawnNodeRed, stopChild } from './node-red-child';
import { freePort } from './ports';
import { sleep } from './wait';

export interface NodeRedProcess {
  port: number;
  userDir: string;
  log(): string;
  /** A crash: SIGKILL, nothing closed politely. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts Node-RED with `flows`; resolves once every port in `waitPorts` accepts connections. */
export async function startNodeRedProcess(flows: object[], waitPorts: number[], timeoutMs = 60_000): Promise<NodeRedProcess> {
  const userDir = newUserDir('gateway-nr-');
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  const port = await freePort();
  let log = '';
  const { child, gone } = spawnNodeRed({ userDir, port, settingsFile: DEMO_SETTINGS, flowFile: 'flows.json', onOutput: (text) => (log += text) });
  const stop = (signal: NodeJS.Signals) => stopChild(child, 10_000, signal);
  const deadline = Date.now() + timeoutMs;
  for (const p of waitPorts) {
    while (!(await portOpen(p))) {
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
