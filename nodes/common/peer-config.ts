// The peer-link config node's contract with its users (duty, standby-write, alarm-sync,
// trend-backfill), and the parsing of its editor properties.
import type { DutyStatus, PeerLinkApi, PeerLinkStatus } from '../../lib/peer/api';
import type { PreferredRole } from '../../lib/peer/duty';
import { type PeerLinkOptions, validatePeerUrl } from '../../lib/peer/link';
import { validateWitnessUrl } from '../../lib/peer/witness';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

export interface PeerLinkUser {
  id: string;
  /** Called at registration and on every change of the link or the duty. */
  onPeerLink(status: PeerLinkStatus, duty: DutyStatus): void;
}

export interface PeerLinkNode extends Node {
  link?: PeerLinkApi;
  /** Set when the configuration is unusable: users show it, the flow still deploys. */
  configError?: string;
  register(user: PeerLinkUser): void;
  deregister(user: PeerLinkUser): void;
}

export const NAME_PATTERN = /^[\w.-]{1,64}$/;

/** Editor properties to link options, or one error listing every problem. */
export function parsePeerLinkConfig(def: NodeDef, credentials: Record<string, string | undefined> = {}): Omit<PeerLinkOptions, 'stateDir' | 'clock'> {
  const problems: string[] = [];
  const name = String(def.name ?? '').trim();
  if (!NAME_PATTERN.test(name)) problems.push(`the link name "${name}" must be 1-64 letters, digits, '.', '_' or '-' (both instances use the same name)`);
  const peerUrl = String(def.peerUrl ?? '').trim();
  const urlErr = validatePeerUrl(peerUrl);
  if (urlErr) problems.push(urlErr);
  const secret = credentials.secret ?? '';
  if (secret.length < 8) problems.push('the shared secret is missing or shorter than 8 characters (set the same one on both instances)');
  const interval = numberProp(def, 'heartbeatInterval', 1000);
  const timeout = numberProp(def, 'heartbeatTimeout', 3000);
  if (!Number.isInteger(interval) || interval < 50 || interval > 60_000) problems.push(`heartbeat interval must be 50-60000 ms (got ${String(def.heartbeatInterval)})`);
  if (!Number.isInteger(timeout) || timeout < 2 * interval) problems.push(`heartbeat timeout must be at least twice the interval (${2 * interval} ms; got ${String(def.heartbeatTimeout)})`);
  const preferred = String(def.preferred || 'primary') as PreferredRole;
  if (preferred !== 'primary' && preferred !== 'standby') problems.push(`preferred role must be primary or standby (got ${preferred})`);
  const holdOff = numberProp(def, 'holdOff', 10_000);
  if (!Number.isFinite(holdOff) || holdOff < 0) problems.push(`hold-off must be a number of ms ≥ 0 (got ${String(def.holdOff)})`);
  const handback = String(def.handback ?? 'return') !== 'stay';
  let witness: PeerLinkOptions['witness'];
  if (boolProp(def, 'witness', false)) {
    const url = String(def.witnessUrl ?? '').trim();
    const wErr = validateWitnessUrl(url);
    if (wErr) problems.push(`witness: ${wErr}`);
    const keepaliveS = numberProp(def, 'witnessKeepalive', 5);
    if (!Number.isInteger(keepaliveS) || keepaliveS < 1 || keepaliveS > 600) problems.push(`witness keep-alive must be 1-600 s (got ${String(def.witnessKeepalive)})`);
    const prefix = String(def.witnessPrefix || 'redundancy').trim();
    if (!prefix || /[+#]/.test(prefix)) problems.push(`witness topic prefix "${prefix}" must be non-empty, without + or #`);
    witness = { url, prefix, keepaliveS, username: credentials.witnessUser || undefined, password: credentials.witnessPassword || undefined };
  }
  if (problems.length) throw new Error(problems.join('; '));
  return { name, peerUrl, secret, heartbeatIntervalMs: interval, heartbeatTimeoutMs: timeout, preferred, handback, holdOffMs: holdOff, witness };
}
