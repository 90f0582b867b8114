// Channel selection as the selector uses it, as a table: channel views and the current state in, the
// decision out: the pair's rule (lib/core/selector.ts) with the selector's additions (guard: "not the
// master" as the condition; anti-flap for every switch; start-up wait while the best is below the top
// class; recovered after all down; the selector's own wording). 2 and 3 channels.
import assert from 'node:assert/strict';
import { type ChannelView, type SelectOptions, type SelectState, type Selection, selectChannel } from '../../lib/core/channel-selector/select';

const NAMES = ['A', 'B', 'C'];
/**
 * Class shorthand: H healthy (3), D degraded (2), S not the master (1, guard), X down, P not heard
 * yet (pending until 3000), O disabled (0); a number after H: in that class since (ms).
 */
function views(spec: string): ChannelView[] {
  return spec.split(' ').map((s, index) => {
    const kind = s[0];
    const since = s.length > 1 ? Number(s.slice(1)) : 0;
    return {
      index,
      name: NAMES[index],
      cls: kind === 'H' ? 3 : kind === 'D' ? 2 : kind === 'S' ? 1 : 0,
      reason: kind === 'H' ? '' : kind === 'D' ? 'item bad' : kind === 'S' ? 'not master (0)' : kind === 'P' ? 'no data yet' : kind === 'O' ? 'disabled by a command' : 'no data for 3.0 s',
      pending: kind === 'P',
      pendingUntil: kind === 'P' ? 3000 : undefined,
      disabled: kind === 'O',
      since,
    };
  });
}

const RETURN: SelectOptions = { returnMode: 'return', holdOffMs: 5000, minSwitchMs: 0 };
const STAY: SelectOptions = { ...RETURN, returnMode: 'stay' };

function st(active: number | null, extra: Partial<SelectState> = {}): SelectState {
  return { active, lastActive: active, pinned: null, ...extra };
}

interface Row {
  name: string;
  views: string;
  state: SelectState;
  opts?: SelectOptions;
  now?: number;
  want: Selection | { to: number | null; kind: string };
}

const rows: Row[] = [
  // start-up
  { name: 'start: preferred healthy', views: 'H H', state: st(null), want: { to: 0, kind: 'activate' } },
  { name: 'start: preferred not heard yet is waited for', views: 'P H', state: st(null), now: 1000, want: { wakeAt: 3000 } },
  { name: 'start: preferred known down is not waited for', views: 'X H', state: st(null), want: { to: 1, kind: 'activate' } },
  { name: 'start: nothing yet', views: 'P P', state: st(null), want: { wakeAt: 3000 } },
  { name: 'start: a less preferred pending channel is not waited for by a healthy best', views: 'X H P', state: st(null), want: { to: 1, kind: 'activate' } },
  { name: 'start: a degraded best waits for a pending less preferred one (it may be healthy)', views: 'D P', state: st(null), now: 100, want: { wakeAt: 3000 } },
  { name: 'start: a slave waits for a pending channel (it may be the master)', views: 'S P', state: st(null), now: 100, want: { wakeAt: 3000 } },
  { name: 'start: the best class, not the most preferred', views: 'S H', state: st(null), want: { to: 1, kind: 'activate' } },
  // failover
  { name: 'active down, other healthy: failover at once', views: 'X H', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'active down, best of three (ties to the lowest index)', views: 'X H H', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'active down, healthy beats degraded', views: 'X D H', state: st(0), want: { to: 2, kind: 'failover' } },
  { name: 'active down, a degraded one is better than nothing', views: 'X D X', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'active degraded, other healthy: failover', views: 'D H', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'active degraded, other degraded: stay (no better)', views: 'D D', state: st(0), want: {} },
  { name: 'anti-flap: a worse active waits for the interval', views: 'D H', state: st(0, { lastSwitchAt: 9000 }), opts: { ...RETURN, minSwitchMs: 2000 }, now: 10_000, want: { wakeAt: 11_000 } },
  { name: 'anti-flap: a down active does not wait', views: 'X H', state: st(0, { lastSwitchAt: 9000 }), opts: { ...RETURN, minSwitchMs: 2000 }, now: 10_000, want: { to: 1, kind: 'failover' } },
  { name: 'disabled channels are never chosen', views: 'X O H', state: st(0), want: { to: 2, kind: 'failover' } },
  { name: 'active disabled: left', views: 'O H', state: st(0), want: { to: 1, kind: 'failover' } },
  // guard: not the master is the condition
  { name: 'guard: a slave active is left for the master', views: 'S H', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'guard: a slave active is left for a degraded master too', views: 'S D', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'guard: never from a slave to a slave (both bad)', views: 'S S', state: st(0), want: { bothBad: 'staying on the A: A: not master (0); B: not master (0)' } },
  { name: 'guard: a down master is left for a slave (data still flows; writes wait)', views: 'X S', state: st(0), want: { to: 1, kind: 'failover' } },
  { name: 'guard: anti-flap between masters', views: 'S H', state: st(0, { lastSwitchAt: 9000 }), opts: { ...RETURN, minSwitchMs: 2000 }, now: 10_000, want: { wakeAt: 11_000 } },
  { name: 'guard: a slave is no promotion target', views: 'S0 D', state: st(1), now: 60_000, want: {} },
  // all down, recovered
  { name: 'all down', views: 'X X', state: st(0), want: { to: null, kind: 'all-down' } },
  { name: 'all down stays all down', views: 'X X', state: st(null, { lastActive: 0 }), want: {} },
  { name: 'first back after all down is taken at once', views: 'X H', state: st(null, { lastActive: 0 }), want: { to: 1, kind: 'recovered' } },
  { name: 'first back: the preferred if both are', views: 'H H', state: st(null, { lastActive: 1 }), want: { to: 0, kind: 'recovered' } },
  // return / stay
  { name: 'return: preferred healthy for the hold-off', views: 'H0 H', state: st(1), now: 5000, want: { to: 0, kind: 'promotion' } },
  { name: 'return: not before the hold-off', views: 'H1000 H', state: st(1), now: 5999, want: { wakeAt: 6000 } },
  { name: 'return: a degraded preferred is not returned to', views: 'D0 H', state: st(1), now: 60_000, want: {} },
  { name: 'return: also from a degraded active', views: 'H0 D', state: st(1), now: 0, want: { to: 0, kind: 'failover' } },
  { name: 'return: three channels, the middle one first when it is due', views: 'H9000 H0 H', state: st(2), now: 10_000, want: { to: 1, kind: 'promotion' } },
  { name: 'return: three channels, the first when both are due', views: 'H0 H0 H', state: st(2), now: 10_000, want: { to: 0, kind: 'promotion' } },
  { name: 'return waits for the anti-flap interval too', views: 'H0 H', state: st(1, { lastSwitchAt: 9000 }), opts: { ...RETURN, minSwitchMs: 3000 }, now: 10_000, want: { wakeAt: 12_000 } },
  { name: 'stay: a healthy preferred is not returned to', views: 'H0 H', state: st(1), opts: STAY, now: 60_000, want: {} },
  { name: 'stay: but a failing active is left for it', views: 'H0 X', state: st(1), opts: STAY, now: 60_000, want: { to: 0, kind: 'failover' } },
  { name: 'stay: failover goes to the best, lowest index', views: 'H X H', state: st(1), opts: STAY, want: { to: 0, kind: 'failover' } },
  { name: 'on the preferred: nothing to do', views: 'H H H', state: st(0), want: {} },
  // pinned
  { name: 'pinned: switch to it', views: 'H H', state: st(0, { pinned: 1 }), want: { to: 1, kind: 'manual-switch' } },
  { name: 'pinned and down: nothing active (forced means forced)', views: 'H X', state: st(1, { pinned: 1 }), want: { to: null, kind: 'release' } },
  { name: 'pinned and down, nothing active: stays so', views: 'H X', state: st(null, { lastActive: 1, pinned: 1 }), want: {} },
  { name: 'pinned and back: active again', views: 'H H', state: st(null, { lastActive: 1, pinned: 1 }), want: { to: 1, kind: 'activate' } },
  { name: 'pinned: no return after the hold-off', views: 'H0 H', state: st(1, { pinned: 1 }), now: 60_000, want: {} },
  { name: 'pinned: the anti-flap interval does not delay a command', views: 'H H', state: st(0, { pinned: 1, lastSwitchAt: 9000 }), opts: { ...RETURN, minSwitchMs: 5000 }, now: 10_000, want: { to: 1, kind: 'manual-switch' } },
];

describe('channel selector: selection (table, on the pair rule of lib/core/selector.ts)', () => {
  for (const r of rows) {
    it(r.name, () => {
      const got = selectChannel(views(r.views), r.state, r.opts ?? RETURN, r.now ?? 0);
      if ('kind' in r.want) {
        assert.ok(got.decision, `a decision, got ${JSON.stringify(got)}`);
        assert.equal(got.decision.to, r.want.to);
        assert.equal(got.decision.kind, r.want.kind);
        assert.ok(got.decision.reason.length > 0, 'a reason');
      } else {
        assert.deepEqual(JSON.parse(JSON.stringify(got)), r.want);
      }
    });
  }

  it('reasons name the channel and what is wrong', () => {
    assert.equal(selectChannel(views('X H'), st(0), RETURN, 0).decision?.reason, 'A: no data for 3.0 s');
    assert.equal(selectChannel(views('D H'), st(0), RETURN, 0).decision?.reason, 'A: item bad; B is better');
    assert.equal(selectChannel(views('S H'), st(0), RETURN, 0).decision?.reason, 'A: not master (0); B is better');
    assert.equal(selectChannel(views('H0 H'), st(1), RETURN, 5000).decision?.reason, 'A has been healthy for 5000 ms');
    assert.equal(selectChannel(views('X X'), st(0), RETURN, 0).decision?.reason, 'A: no data for 3.0 s; B: no data for 3.0 s');
    assert.equal(selectChannel(views('H X'), st(1, { pinned: 1 }), RETURN, 0).decision?.reason, 'forced to the B, which is unusable: no data for 3.0 s');
  });
});
