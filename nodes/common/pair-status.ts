// How a pair's state reads on a node's status dot: green on the primary, yellow on the secondary
// (working, but failed over) or while the pair runs in a way the operator must know of (accepting
// unknown server certificates), red with the short reason when nothing is active. Every text goes
// through the one status helper (lib/rules/text: one length, cut at a word, with an ellipsis).
import { isCertificateRefusal } from '../../lib/drivers/opcua-pki';
import { shortText } from '../../lib/rules/text';
import type { PairStatus } from '../../lib/core/types';
import type { NodeStatus } from './node-red';

export { STATUS_MAX, shortText as shorten } from '../../lib/rules/text';

/** A refused server certificate reads as what to do, not as the start of a long sentence. */
function reasonText(reason: string): string {
  if (isCertificateRefusal(reason)) return 'server certificate not trusted: trust it in the pair';
  return reason;
}

export function pairNodeStatus(status: PairStatus, warning?: string): NodeStatus {
  const forced = status.control === 'auto' ? '' : ', forced';
  const note = warning ? ` · ${warning}` : '';
  if (status.active === 'primary') return { fill: warning ? 'yellow' : 'green', shape: 'dot', text: shortText(`primary (${status.mode}${forced})${note}`) };
  if (status.active) {
    // The secondary or a further channel: working, but not on the preferred one.
    const why = status.servers.primary?.state === 'idle' ? '' : `: primary ${status.servers.primary?.state ?? 'down'}`;
    return { fill: 'yellow', shape: 'dot', text: shortText(`${status.active} (${status.mode}${forced})${why}${note}`) };
  }
  const p = status.servers.primary;
  const s = status.servers.secondary;
  if (p.state === 'idle' && s.state === 'idle') return { fill: 'yellow', shape: 'ring', text: 'starting' };
  if (p.state === 'connecting' || s.state === 'connecting') {
    if (p.state !== 'down' || s.state !== 'down') return { fill: 'yellow', shape: 'ring', text: 'connecting' };
  }
  return { fill: 'red', shape: 'ring', text: shortText(`no server: ${reasonText(p.reason)}`) };
}
