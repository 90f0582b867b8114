// Which channel should be active: a pure function of what is known about the channels. Used by the
// redundant pair and by the channel-selector node alike. Channels are in order of preference
// (Citect: "channels should be defined in the order in which they are preferred"); index 0 is the
// primary.
//
// The rule, in order:
// 1. A pinned channel (manual control) is active whenever it is usable; while it is not, the
//    current one keeps serving only during a hand-over to it, else nothing is active.
// 2. A switch already decided completes as soon as its target is usable.
// 3. With nothing active: the best health class wins, ties go to the most preferred; at start-up a
//    more preferred channel that is still on its way is waited for.
// 4. The active channel is left when it is unusable (for the best usable one), when a failover
//    condition holds on it (for a channel on which no condition holds, judged, never back and
//    forth faster than the anti-flap interval), or when it is degraded and another is healthy.
// 5. A more preferred channel that has been healthy for the hold-off takes over again (promotion),
//    unless the pair is set to stay where it is.

/** 3 healthy, 2 degraded (ServiceLevel, stream lag), 1 a failover condition holds, 0 unusable. */
export type HealthClass = 0 | 1 | 2 | 3;

export interface ChannelView {
  /** Position in the order of preference: 0 is the most preferred (the primary). */
  index: number;
  name: string;
  cls: HealthClass;
  /** Why it is in this class, in words an operator understands. */
  reason: string;
  /** Start of its current uninterrupted healthy period (class 3), for the hold-off. */
  healthySince?: number;
  /** On its way to usable (connecting, items being created): worth waiting for at start-up. */
  pending?: boolean;
  /** Its failover conditions have been judged (a channel that just connected has not been yet). */
  judged?: boolean;
  /** Not connected and never tried since it was released (cold standby): a condition failover may try it. */
  untried?: boolean;
  /** It was left because a failover condition held on it: not tried again blindly. */
  leftForCondition?: boolean;
}

export type SwitchKind = 'failover' | 'promotion' | 'manual-switch' | 'activate';

export interface SelectorInput {
  now: number;
  channels: ChannelView[];
  /** The active channel's index, or null. */
  active: number | null;
  /** The channel active last (survives "nothing active"), null before the first activation. */
  lastActive: number | null;
  /** Manual control: the pinned channel, null for automatic. */
  pinned: number | null;
  pinReason?: string;
  /** Return to a more preferred channel once it has been healthy for holdOffMs (else stay). */
  returnToPreferred: boolean;
  holdOffMs: number;
  /** No switch for a failover condition before this time (anti-flap). */
  conditionSwitchNotBefore?: number;
  /** Start-up: wait for a more preferred channel that is still pending. */
  startup?: boolean;
  /** A switch decided earlier whose target was not usable yet (cold hand-over). */
  pendingTarget?: number | null;
}

export type Decision =
  | { action: 'stay'; wakeAt?: number; bothBad?: string }
  | { action: 'switch'; to: number; kind: SwitchKind; reason: string }
  /** Nothing usable is left to serve: no channel active. */
  | { action: 'release'; reason: string };

const usable = (c: ChannelView | undefined): boolean => c !== undefined && c.cls > 0;

/** Best first: class, then preference. */
function best(list: ChannelView[]): ChannelView | undefined {
  let pick: ChannelView | undefined;
  for (const c of list) if (!pick || c.cls > pick.cls || (c.cls === pick.cls && c.index < pick.index)) pick = c;
  return pick;
}

export function select(input: SelectorInput): Decision {
  const { channels, active, now } = input;
  const byIndex = (i: number | null | undefined) => (i === null || i === undefined ? undefined : channels.find((c) => c.index === i));
  const current = byIndex(active);

  // 1. Manual control.
  if (input.pinned !== null) {
    const pin = byIndex(input.pinned);
    const why = input.pinReason ?? `forced to ${pin?.name ?? `channel ${input.pinned}`}`;
    if (!pin) return active === null ? { action: 'stay' } : { action: 'release', reason: `forced to channel ${input.pinned}, which does not exist` };
    if (usable(pin)) return active === pin.index ? { action: 'stay' } : { action: 'switch', to: pin.index, kind: active === null ? 'activate' : 'manual-switch', reason: why };
    // A pinned channel on its way may take over from the current one (hand-over, no gap);
    // one that is down leaves nothing active: forced means forced.
    if ((pin.pending || pin.untried) && usable(current)) return { action: 'stay' };
    return active === null ? { action: 'stay' } : { action: 'release', reason: `forced to the ${pin.name}, which is unusable: ${pin.reason}` };
  }

  // 2. A decided switch completes when its target is ready.
  const target = byIndex(input.pendingTarget);
  if (target && target.index !== active && usable(target)) return { action: 'switch', to: target.index, kind: 'activate', reason: 'switch ready' };

  // 3. Nothing active.
  if (!current) {
    let pick = best(channels.filter(usable));
    if (!pick) return { action: 'stay' };
    if (input.lastActive === null) {
      // Start-up. During the grace, the most preferred usable channel is taken, and one more
      // preferred than that is waited for even when it refused (it may not listen yet); after the
      // grace, the best is taken unless a more preferred one is still on its way.
      const byPreference = channels.slice().sort((a, b) => a.index - b.index);
      if (input.startup) {
        pick = byPreference.find(usable) as ChannelView;
        if (byPreference.some((c) => c.index < (pick as ChannelView).index && !c.untried)) return { action: 'stay' };
      } else if (byPreference.some((c) => c.index < (pick as ChannelView).index && c.pending)) {
        return { action: 'stay' };
      }
    }
    const last = byIndex(input.lastActive);
    const known = input.lastActive === null || pick.index === input.lastActive || input.pendingTarget === pick.index;
    return { action: 'switch', to: pick.index, kind: known ? 'activate' : 'failover', reason: last ? `the ${last.name} is unusable: ${last.reason}` : 'start' };
  }

  const others = channels.filter((c) => c.index !== current.index);

  // 4a. Unusable: the best usable other, else whatever is untried (cold), else nothing.
  if (current.cls === 0) {
    const pick = best(others.filter(usable)) ?? others.filter((c) => c.untried).sort((a, b) => a.index - b.index)[0];
    return pick ? { action: 'switch', to: pick.index, kind: 'failover', reason: current.reason } : { action: 'release', reason: current.reason };
  }

  // 4b. A failover condition holds: never to a channel on which one holds too, nor to one not judged.
  if (current.cls === 1) {
    const judged = others.filter((c) => c.cls >= 2 && c.judged !== false);
    const candidate = best(judged) ?? others.filter((c) => c.untried && !c.leftForCondition).sort((a, b) => a.index - b.index)[0];
    if (!candidate) {
      // One still being judged may turn out fine: wait for it, say nothing yet.
      if (others.some((c) => c.cls >= 2)) return { action: 'stay' };
      const bad = others.filter((c) => c.cls === 1 || c.leftForCondition);
      return bad.length > 0 ? { action: 'stay', bothBad: `staying on the ${current.name}: ${[current, ...bad].map((c) => `${c.name}: ${c.reason}`).join('; ')}` } : { action: 'stay' };
    }
    const notBefore = input.conditionSwitchNotBefore ?? -Infinity;
    if (now < notBefore) return { action: 'stay', wakeAt: notBefore };
    return { action: 'switch', to: candidate.index, kind: 'failover', reason: `failover condition on the ${current.name}: ${current.reason}` };
  }

  // 4c. Degraded while another is healthy.
  if (current.cls === 2) {
    const healthy = best(others.filter((c) => c.cls === 3));
    if (healthy) return { action: 'switch', to: healthy.index, kind: 'failover', reason: `${current.reason}; the ${healthy.name} is healthy` };
  }

  // 5. Promotion back to a more preferred channel after its hold-off.
  if (!input.returnToPreferred) return { action: 'stay' };
  let wakeAt: number | undefined;
  for (const c of others) {
    if (c.index > current.index || c.cls !== 3 || c.healthySince === undefined) continue;
    const due = c.healthySince + input.holdOffMs;
    if (due <= now) return { action: 'switch', to: c.index, kind: 'promotion', reason: `the ${c.name} has been healthy for ${input.holdOffMs} ms` };
    wakeAt = wakeAt === undefined ? due : Math.min(wakeAt, due);
  }
  return wakeAt === undefined ? { action: 'stay' } : { action: 'stay', wakeAt };
}
