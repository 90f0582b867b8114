// Who this instance is (an id kept in the Node-RED user dir), where the peer is, and the monotonic
// clock the link's leases and timeouts run on.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { type Clock, realClock } from '../core/clock';

/** Monotonic time for leases and timeouts: a wall clock that steps must not move them. */
export const monotonicClock: Clock = { ...realClock, now: () => performance.now() };

export function validatePeerUrl(url: string): string | undefined {
  if (!url) return 'the peer URL is empty';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL (http://other-host:1880)`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `the peer URL must be http:// or https://, not ${u.protocol}`;
  return undefined;
}

/** The instance id of a Node-RED user dir: made once, kept in redundancy-instance.json. */
export function instanceIdOf(stateDir: string | undefined): string {
  const fresh = `${hostname().replace(/[^\w.-]/g, '_').slice(0, 24)}-${randomBytes(3).toString('hex')}`;
  if (!stateDir) return fresh;
  const file = join(stateDir, 'redundancy-instance.json');
  try {
    const id = (JSON.parse(readFileSync(file, 'utf8')) as { instanceId?: string }).instanceId;
    if (id && /^[\w.-]+$/.test(id)) return id;
  } catch {
    /* first start */
  }
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, JSON.stringify({ instanceId: fresh }) + '\n');
  return fresh;
}
