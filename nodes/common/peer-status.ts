// How a peer link's duty reads on a node's status dot, and the test hook for skewed clocks.
import type { Clock } from '../../lib/core/clock';
import { realClock } from '../../lib/core/clock';
import type { DutyStatus, PeerLinkStatus } from '../../lib/peer/api';
import type { NodeStatus } from './node-red';
import { shorten } from './pair-status';

export function dutyNodeStatus(s: PeerLinkStatus, d: DutyStatus, hasWitness: boolean): NodeStatus {
  if (s.state === 'refused') return { fill: 'red', shape: 'ring', text: shorten(`link refused: ${s.reason}`) };
  const noWitness = hasWitness ? '' : ' (no witness)';
  if (d.holder) {
    if (s.state !== 'up' && !hasWitness) return { fill: 'yellow', shape: 'dot', text: `holder #${d.epoch}, link down: peer may hold too (no witness)` };
    if (s.state !== 'up') return { fill: 'green', shape: 'dot', text: `holder #${d.epoch}, link down, witness ${d.witness}` };
    return { fill: 'green', shape: 'dot', text: `holder #${d.epoch}${noWitness}` };
  }
  if (s.state === 'up') return { fill: 'grey', shape: 'ring', text: `standby, link up${noWitness}` };
  if (hasWitness && d.witness === 'down') return { fill: 'red', shape: 'ring', text: 'standby, link and witness down' };
  return { fill: 'yellow', shape: 'ring', text: shorten(`standby, link ${s.state}${noWitness}`) };
}


/** The wall clock of the hybrid logical clock, shifted by REDUNDANCY_TEST_CLOCK_OFFSET_MS (tests). */
export function hlcWallClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const offset = Number(env.REDUNDANCY_TEST_CLOCK_OFFSET_MS ?? 0);
  if (!Number.isFinite(offset) || offset === 0) return realClock;
  return { ...realClock, now: () => Date.now() + offset };
}

