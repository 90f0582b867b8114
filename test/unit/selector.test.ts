// The channel selection rule as tables: channel views in, a decision out (no time passes, no I/O).
import assert from 'node:assert/strict';
import { type ChannelView, type Decision, type HealthClass, type SelectorInput, select } from '../../lib/core/selector';

const NAMES = ['primary', 'secondary', 'channel 2', 'channel 3'];
const T = 1_000_000;

/** Channel views from a compact spec: classes in preference order, extras by index. */
function views(classes: HealthClass[], extra: Record<number, Partial<ChannelView>> = {}): ChannelView[] {
  return classes.map((cls, index) => ({ index, name: NAMES[index], cls, reason: cls === 3 ? 'answering' : cls === 0 ? 'down' : cls === 1 ? 'stale' : 'ServiceLevel 150', healthySince: cls === 3 ? T - 60_000 : undefined, judged: true, ...extra[index] }));
}

function run(classes: HealthClass[], over: Partial<SelectorInput> = {}, extra: Record<number, Partial<ChannelView>> = {}): Decision {
  return select({ now: T, channels: views(classes, extra), active: null, lastActive: null, pinned: null, returnToPreferred: true, holdOffMs: 10_000, ...over });
}

const sw = (to: number, kind: string) => (d: Decision) => d.action === 'switch' && d.to === to && d.kind === kind;
const stay = (d: Decision) => d.action === 'stay';
const release = (d: Decision) => d.action === 'release';

describe('channel selector (pure, tables)', function () {
  const cases: Array<[string, HealthClass[], Partial<SelectorInput>, Record<number, Partial<ChannelView>>, (d: Decision) => boolean]> = [
    // nothing active yet
    ['start: both healthy → the primary', [3, 3], {}, {}, sw(0, 'activate')],
    ['start: primary down after the grace → the secondary', [0, 3], {}, {}, sw(1, 'activate')],
    ['start: primary down during the grace → wait for it', [0, 3], { startup: true }, {}, stay],
    ['start: primary still connecting after the grace → wait', [0, 3], {}, { 0: { pending: true } }, stay],
    ['start: primary degraded, secondary healthy, grace over → the best class', [2, 3], {}, {}, sw(1, 'activate')],
    ['start: primary degraded during the grace → the most preferred usable', [2, 3], { startup: true }, {}, sw(0, 'activate')],
    ['start: nothing usable → stay (nothing to take)', [0, 0], {}, {}, stay],
    ['3 channels, start: 0 and 1 down → channel 2', [0, 0, 3], {}, {}, sw(2, 'activate')],
    ['all down, then the secondary back (was on the primary) → failover to it', [0, 3], { lastActive: 0 }, {}, sw(1, 'failover')],
    ['all down, then the former active back → activate', [0, 3], { lastActive: 1 }, {}, sw(1, 'activate')],
    // active unusable
    ['active primary down → the secondary', [0, 3], { active: 0, lastActive: 0 }, {}, sw(1, 'failover')],
    ['active primary down, 3 channels, 1 down too → channel 2', [0, 0, 3], { active: 0, lastActive: 0 }, {}, sw(2, 'failover')],
    ['active down, secondary degraded → still the secondary (usable)', [0, 2], { active: 0, lastActive: 0 }, {}, sw(1, 'failover')],
    ['active down, others degraded and healthy → the healthy one (class first)', [0, 2, 3], { active: 0, lastActive: 0 }, {}, sw(2, 'failover')],
    ['active down, nothing usable → release', [0, 0], { active: 0, lastActive: 0 }, {}, release],
    ['active down, cold standby untried → try it', [0, 0], { active: 0, lastActive: 0 }, { 1: { untried: true } }, sw(1, 'failover')],
    // conditions
    ['condition on the active, other healthy → failover', [1, 3], { active: 0, lastActive: 0 }, {}, sw(1, 'failover')],
    ['condition on both → stay, both bad', [1, 1], { active: 0, lastActive: 0 }, {}, (d) => d.action === 'stay' && /staying on the primary/.test(d.bothBad ?? '')],
    ['condition, other not judged yet → wait quietly', [1, 3], { active: 0, lastActive: 0 }, { 1: { judged: false } }, (d) => d.action === 'stay' && d.bothBad === undefined],
    ['condition, anti-flap interval running → stay until it ends', [1, 3], { active: 0, lastActive: 0, conditionSwitchNotBefore: T + 500 }, {}, (d) => d.action === 'stay' && d.wakeAt === T + 500],
    ['condition, cold standby untried → try it', [1, 0], { active: 0, lastActive: 0 }, { 1: { untried: true } }, sw(1, 'failover')],
    ['condition, cold standby left for a condition → not back and forth', [1, 0], { active: 0, lastActive: 0 }, { 1: { untried: true, leftForCondition: true } }, (d) => d.action === 'stay' && d.bothBad !== undefined],
    ['condition, 3 channels: 1 has it too, 2 healthy → channel 2', [1, 1, 3], { active: 0, lastActive: 0 }, {}, sw(2, 'failover')],
    // degraded
    ['degraded active, healthy other → failover', [2, 3], { active: 0, lastActive: 0 }, {}, sw(1, 'failover')],
    ['degraded active, other degraded too → stay', [2, 2], { active: 0, lastActive: 0 }, {}, stay],
    ['healthy active is never left for ServiceLevel alone', [3, 3], { active: 1, lastActive: 1, returnToPreferred: false }, {}, stay],
    // promotion
    ['on the secondary, primary healthy long enough → promotion', [3, 3], { active: 1, lastActive: 1 }, {}, sw(0, 'promotion')],
    ['on the secondary, primary healthy 4 s of 10 → stay, wake at the hold-off', [3, 3], { active: 1, lastActive: 1 }, { 0: { healthySince: T - 4000 } }, (d) => d.action === 'stay' && d.wakeAt === T + 6000],
    ['on the secondary, stay configured → stay', [3, 3], { active: 1, lastActive: 1, returnToPreferred: false }, {}, stay],
    ['on channel 2, channel 1 back first → promotion to 1 (in order)', [0, 3, 3], { active: 2, lastActive: 2 }, {}, sw(1, 'promotion')],
    ['on channel 2, both 0 and 1 back → straight to 0', [3, 3, 3], { active: 2, lastActive: 2 }, {}, sw(0, 'promotion')],
    ['on channel 1, channel 2 healthy → never "promoted" to a less preferred one', [0, 3, 3], { active: 1, lastActive: 1 }, {}, stay],
    ['on the secondary, primary degraded → no promotion', [2, 3], { active: 1, lastActive: 1 }, {}, stay],
    // manual control
    ['pinned secondary, usable → manual switch', [3, 3], { active: 0, lastActive: 0, pinned: 1 }, {}, sw(1, 'manual-switch')],
    ['pinned channel 2 at start → activate it', [3, 3, 3], { pinned: 2 }, {}, sw(2, 'activate')],
    ['pinned primary on its way, secondary serving → keep serving (hand-over)', [0, 3], { active: 1, lastActive: 1, pinned: 0 }, { 0: { pending: true } }, stay],
    ['pinned primary down → release (forced means forced)', [0, 3], { active: 1, lastActive: 1, pinned: 0 }, {}, release],
    ['pinned, already active → stay', [3, 3], { active: 1, lastActive: 1, pinned: 1 }, {}, stay],
    // a decided switch completes
    ['pending target became usable → activate it', [3, 3], { active: 0, lastActive: 0, pendingTarget: 1 }, {}, sw(1, 'activate')],
  ];
  for (const [name, classes, over, extra, expect] of cases) {
    it(name, function () {
      const d = run(classes, over, extra);
      assert.ok(expect(d), JSON.stringify(d));
    });
  }

  it('says why: a failover names the condition, a promotion the hold-off', function () {
    const f = run([1, 3], { active: 0, lastActive: 0 });
    assert.ok(f.action === 'switch' && f.reason === 'failover condition on the primary: stale');
    const p = run([3, 3], { active: 1, lastActive: 1 });
    assert.ok(p.action === 'switch' && p.reason === 'the primary has been healthy for 10000 ms');
  });
});
