// Which channel is active: the selector's channel views in, a decision out (as data). The rule is
// the redundant pair's (lib/core/selector.ts: best health class wins, ties to the most preferred;
// an unusable active channel is left at once; one on which a condition holds only for a judged
// channel free of it; a degraded one for a healthy one; return after the hold-off or stay; pinned).
// This adapter maps the selector's health onto those classes and adds what only a message-fed
// selector needs:
// - with the write guard, "not the master" is the condition (class 1): a slave PLC's channel is
//   left for a master's, never for another slave's;
// - the anti-flap interval holds for every switch away from a usable channel (the pair's holds for
//   condition switches only);
// - at start, a channel not heard from yet is waited for while the best one so far is below the top
//   class (it may be the healthy master); the pair waits for more preferred channels only;
// - after every channel was down, the first one back is 'recovered'.
import { type ChannelView as PairChannelView, type HealthClass, select } from '../selector';

export type { HealthClass };

export interface ChannelView {
  index: number;
  name: string;
  /** 3 healthy, 2 degraded, 1 not the master (guard), 0 unusable (down, not heard yet, disabled). */
  cls: HealthClass;
  /** Why it is in this class ('' when healthy). */
  reason: string;
  /** Not heard from yet, start-up grace running (until `pendingUntil`). */
  pending: boolean;
  pendingUntil?: number;
  disabled: boolean;
  /** Since when the channel has been in its current class (engine clock). */
  since: number;
}

export interface SelectState {
  active: number | null;
  /** The channel active last (survives "nothing active"); null before the first activation. */
  lastActive: number | null;
  pinned: number | null;
  /** When the last switch happened (anti-flap). */
  lastSwitchAt?: number;
}

export interface SelectOptions {
  returnMode: 'return' | 'stay';
  holdOffMs: number;
  minSwitchMs: number;
}

/** 'release': nothing active because the pinned channel is unusable (forced means forced). */
export type DecisionKind = 'activate' | 'failover' | 'promotion' | 'manual-switch' | 'recovered' | 'all-down' | 'release';

export interface Decision {
  /** The channel to make active; null = none. */
  to: number | null;
  kind: DecisionKind;
  reason: string;
}

export interface Selection {
  decision?: Decision;
  /** When to look again with no new input (hold-off, anti-flap, start-up wait). */
  wakeAt?: number;
  /** Every other usable channel is not the master either: staying, and why. */
  bothBad?: string;
}

const TOP: HealthClass = 3;

function earliestPending(views: ChannelView[], except?: number): number | undefined {
  const until = views.filter((v) => v.pending && v.index !== except && v.pendingUntil !== undefined).map((v) => v.pendingUntil as number);
  return until.length > 0 ? Math.min(...until) : undefined;
}

export function selectChannel(views: ChannelView[], state: SelectState, opts: SelectOptions, now: number): Selection {
  const notBefore = state.lastSwitchAt === undefined ? undefined : state.lastSwitchAt + opts.minSwitchMs;
  const channels: PairChannelView[] = views.map((v) => ({
    index: v.index,
    name: v.name,
    cls: v.cls,
    reason: v.reason,
    healthySince: v.cls === TOP ? v.since : undefined,
    pending: v.pending,
    judged: true,
  }));
  const d = select({
    now,
    channels,
    active: state.active,
    lastActive: state.lastActive,
    pinned: state.pinned,
    pinReason: state.pinned === null ? undefined : `pinned to ${views[state.pinned].name}`,
    returnToPreferred: opts.returnMode === 'return',
    holdOffMs: opts.holdOffMs,
    conditionSwitchNotBefore: notBefore,
    startup: false,
    pendingTarget: null,
  });
  if (d.action === 'stay') {
    const wait = state.active === null ? earliestPending(views) : undefined;
    const wakeAt = d.wakeAt === undefined ? wait : wait === undefined ? d.wakeAt : Math.min(d.wakeAt, wait);
    return { wakeAt, bothBad: d.bothBad };
  }
  const cur = state.active === null ? undefined : views[state.active];
  if (d.action === 'release') {
    if (state.pinned !== null) return { decision: { to: null, kind: 'release', reason: d.reason } };
    return { decision: { to: null, kind: 'all-down', reason: views.map((v) => `${v.name}: ${v.reason || 'healthy'}`).join('; ') } };
  }
  const to = views[d.to];
  if (d.kind === 'manual-switch' || (d.kind === 'activate' && state.pinned !== null)) {
    return { decision: { to: d.to, kind: d.kind, reason: `pinned to ${to.name}` } };
  }
  // Anti-flap for every switch away from a channel that still works.
  if (cur && cur.cls > 0 && notBefore !== undefined && now < notBefore) return { wakeAt: notBefore };
  if (!cur) {
    if (state.lastActive === null) {
      // Start: the best so far is below the top class, and a channel not heard from may beat it.
      const wait = to.cls < TOP ? earliestPending(views, to.index) : undefined;
      if (wait !== undefined && wait > now) return { wakeAt: wait };
      const before = views.filter((v) => v.index < to.index);
      return { decision: { to: d.to, kind: 'activate', reason: before.length === 0 ? 'the preferred channel' : before.map((v) => `${v.name}: ${v.reason || 'healthy'}`).join('; ') } };
    }
    return { decision: { to: d.to, kind: 'recovered', reason: `${to.name} is back after every channel was down` } };
  }
  if (d.kind === 'promotion') return { decision: { to: d.to, kind: 'promotion', reason: `${to.name} has been healthy for ${opts.holdOffMs} ms` } };
  const better = cur.cls > 0 ? `; ${to.name} is better` : '';
  return { decision: { to: d.to, kind: 'failover', reason: `${cur.name}: ${cur.reason}${better}` } };
}
