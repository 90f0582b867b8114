// How a pair's state reads on a node's status dot: green on the primary, yellow on the secondary
// (working, but failed over), red with the short reason when nothing is active.
import type { PairStatus } from '../../lib/core/types';
import type { NodeStatus } from './node-red';

const MAX_TEXT = 48;

export function shorten(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function pairNodeStatus(status: PairStatus): NodeStatus {
  const forced = status.control === 'auto' ? '' : ', forced';
  if (status.active === 'primary') return { fill: 'green', shape: 'dot', text: `primary (${status.mode}${forced})` };
  if (status.active === 'secondary') {
    const why = status.servers.primary.state === 'idle' ? '' : `: primary ${status.servers.primary.state}`;
    return { fill: 'yellow', shape: 'dot', text: shorten(`secondary (${status.mode}${forced})${why}`) };
  }
  const p = status.servers.primary;
  const s = status.servers.secondary;
  if (p.state === 'idle' && s.state === 'idle') return { fill: 'yellow', shape: 'ring', text: 'starting' };
  if (p.state === 'connecting' || s.state === 'connecting') {
    if (p.state !== 'down' || s.state !== 'down') return { fill: 'yellow', shape: 'ring', text: 'connecting' };
  }
  return { fill: 'red', shape: 'ring', text: shorten(`no server: ${p.reason}`) };
}
