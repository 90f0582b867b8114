// Which channel is active: channel views in, a decision out (as data). The same rule as the
// redundant pair's: a pinned channel wins; otherwise the best score wins, ties go to the lowest
// index (channels are listed in order of preference); a failing active channel is left at once; a
// merely worse one after the anti-flap interval; a more preferred channel is returned to after it
// has been at the top score for the hold-off (mode 'return'), or never (mode 'stay', Citect's
// cluster clients). At start, a channel not heard from yet that could beat the best one is waited for
// (bounded by its start-up grace).

export interface ChannelView {
  index: number;
  name: string;
  /** 0 = unusable (down, pending, disabled); higher is better. */
  score: number;
  /** Why it has this score ('' when at the top). */
  reason: string;
  /** Not heard from yet, start-up grace running (until `pendingUntil`). */
  pending: boolean;
  pendingUntil?: number;
  /** Disabled by a command: never chosen automatically. */
  disabled: boolean;
  /** Since when the channel has had its current score (engine clock). */
  since: number;
}

export interface SelectState {
  active: number | null;
  pinned: number | null;
  /** A channel was active at some time (a null active is then "all down", not start-up). */
  everActive: boolean;
  /** When the last automatic or manual switch happened (anti-flap). */
  lastSwitchAt?: number;
}

export interface SelectOptions {
  returnMode: 'return' | 'stay';
  holdOffMs: number;
  minSwitchMs: number;
  /** The best score a channel can have (a promotion needs it). */
  topScore: number;
}

export type DecisionKind = 'activate' | 'failover' | 'promotion' | 'manual-switch' | 'recovered' | 'all-down';

export interface Decision {
  /** The channel to make active; null = none (all down, or pinned to an unusable one is kept: see pinned). */
  to: number | null;
  kind: DecisionKind;
  reason: string;
}

export interface Selection {
  decision?: Decision;
  /** When to look again with no new input (hold-off, anti-flap, start-up wait). */
  wakeAt?: number;
}

function best(views: ChannelView[]): ChannelView | undefined {
  let found: ChannelView | undefined;
  for (const v of views) {
    if (v.disabled || v.score <= 0) continue;
    if (!found || v.score > found.score) found = v;
  }
  return found;
}

export function selectChannel(views: ChannelView[], state: SelectState, opts: SelectOptions, now: number): Selection {
  if (state.pinned !== null) {
    // Forced means forced: the pinned channel is active whatever its health.
    if (state.active === state.pinned) return {};
    return { decision: { to: state.pinned, kind: 'manual-switch', reason: `pinned to ${views[state.pinned].name}` } };
  }
  const top = best(views);
  if (state.active === null) {
    if (!top) return {};
    if (!state.everActive) {
      // Start-up: a channel not heard from yet that could be chosen over the best one now is waited
      // for: a more preferred one, or any one while the best is not at the top score.
      const waiting = views.filter((v) => v.pending && !v.disabled && (v.index < top.index || top.score < opts.topScore));
      if (waiting.length > 0) {
        const until = Math.min(...waiting.map((v) => v.pendingUntil ?? now));
        if (until > now) return { wakeAt: until };
      }
      return { decision: { to: top.index, kind: 'activate', reason: top.index === 0 ? 'preferred channel' : waiting.length > 0 ? 'more preferred channels not heard from' : `${views.filter((v) => v.index < top.index).map((v) => `${v.name}: ${v.reason}`).join('; ')}` } };
    }
    return { decision: { to: top.index, kind: 'recovered', reason: `${top.name} is back after every channel was down` } };
  }
  const cur = views[state.active];
  if (cur.score <= 0 || cur.disabled) {
    if (top) return { decision: { to: top.index, kind: 'failover', reason: `${cur.name}: ${cur.reason}` } };
    return { decision: { to: null, kind: 'all-down', reason: views.map((v) => `${v.name}: ${v.reason}`).join('; ') } };
  }
  if (top && top.score > cur.score) {
    const wait = (state.lastSwitchAt ?? -Infinity) + opts.minSwitchMs - now;
    if (wait > 0) return { wakeAt: now + wait };
    return { decision: { to: top.index, kind: 'failover', reason: `${cur.name}: ${cur.reason}; ${top.name} is better` } };
  }
  if (opts.returnMode === 'return') {
    let wakeAt: number | undefined;
    for (const v of views) {
      if (v.index >= cur.index) break;
      if (v.disabled || v.score < opts.topScore || v.score < cur.score) continue;
      const due = Math.max(v.since + opts.holdOffMs, (state.lastSwitchAt ?? -Infinity) + opts.minSwitchMs);
      if (now >= due) return { decision: { to: v.index, kind: 'promotion', reason: `${v.name} has been healthy for ${opts.holdOffMs} ms` } };
      if (wakeAt === undefined || due < wakeAt) wakeAt = due;
    }
    if (wakeAt !== undefined) return { wakeAt };
  }
  return {};
}
