import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { HybridClock, compareHlc, formatHlc, parseHlc } from '../../lib/core/hlc';

describe('hybrid logical clock', function () {
  it('never goes backwards on one instance, even when the wall clock does', function () {
    const clock = new FakeClock(1_000_000);
    const hlc = new HybridClock('a', clock);
    const first = hlc.now();
    (clock as unknown as { current: number }).current = 990_000; // the wall clock steps back 10 s
    const second = hlc.now();
    assert.equal(compareHlc(first, second), -1);
    assert.deepEqual(second, { wall: 1_000_000, counter: 1, node: 'a' });
  });

  it('orders a write made after receiving the peer\'s after it, whatever the clocks say', function () {
    const fast = new HybridClock('b', new FakeClock(2_000_000 + 5000)); // 5 s ahead
    const slow = new HybridClock('a', new FakeClock(2_000_000));
    const fromFast = fast.now();
    slow.receive(fromFast);
    const later = slow.now();
    assert.equal(compareHlc(fromFast, later), -1, 'the slow instance\'s later write wins');
    assert.equal(later.wall, fromFast.wall);
  });

  it('breaks ties by node id, the same on both sides', function () {
    const a = { wall: 5, counter: 0, node: 'a' };
    const b = { wall: 5, counter: 0, node: 'b' };
    assert.equal(compareHlc(a, b), -1);
    assert.equal(compareHlc(b, a), 1);
    assert.equal(compareHlc(a, { ...a }), 0);
  });

  it('formats to a string that sorts like the stamp, and parses back', function () {
    const stamps = [
      { wall: 10, counter: 2, node: 'z' },
      { wall: 9, counter: 99, node: 'a' },
      { wall: 10, counter: 2, node: 'a' },
      { wall: 10, counter: 10, node: 'a' },
    ];
    const sorted = stamps.slice().sort(compareHlc).map(formatHlc);
    assert.deepEqual(stamps.map(formatHlc).sort(), sorted);
    for (const s of stamps) assert.deepEqual(parseHlc(formatHlc(s)), s);
    assert.throws(() => parseHlc('yesterday'), /not a hybrid logical clock stamp/);
  });

  it('refuses a stamp from a clock that is absurdly far ahead', function () {
    const hlc = new HybridClock('a', new FakeClock(1_000_000), 60_000);
    assert.throws(() => hlc.receive({ wall: 1_000_000 + 120_000, counter: 0, node: 'b' }), /120 s ahead/);
  });

  it('continues after a restart from the greatest stored stamp', function () {
    const hlc = new HybridClock('a', new FakeClock(1000));
    hlc.restore({ wall: 5000, counter: 3, node: 'a' });
    assert.deepEqual(hlc.now(), { wall: 5000, counter: 4, node: 'a' });
  });
});
