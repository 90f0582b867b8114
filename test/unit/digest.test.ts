// Rate limit with digest, stepped with fake time: singles up to the limit, the rest in one digest at
// the window's end, nothing lost, nothing after close.
import assert from 'node:assert/strict';
import { FakeClock } from '../../lib/core/clock';
import { EventDigest } from '../../lib/core/digest';

interface Out {
  at: number;
  single: number | null;
  digest: number[] | null;
}

function rig(maxPerWindow: number, windowMs: number) {
  const clock = new FakeClock(0);
  const out: Out[] = [];
  const d = new EventDigest<number>({ maxPerWindow, windowMs, clock, emit: (single, digest) => out.push({ at: clock.now(), single, digest }) });
  return { clock, out, d };
}

describe('event digest', () => {
  it('emits the first maxPerWindow singly and the rest as one digest at the window end', async () => {
    const { clock, out, d } = rig(2, 60_000);
    for (let i = 1; i <= 5; i++) {
      d.push(i);
      await clock.advance(1000);
    }
    assert.deepEqual(out, [
      { at: 0, single: 1, digest: null },
      { at: 1000, single: 2, digest: null },
    ]);
    assert.equal(d.pendingCount(), 3);
    await clock.advance(54_999);
    assert.equal(out.length, 2);
    await clock.advance(1);
    assert.deepEqual(out[2], { at: 60_000, single: null, digest: [3, 4, 5] });
    assert.equal(clock.pendingTimers(), 0);
  });

  it('a quiet window ends without a digest; the next item opens a new window', async () => {
    const { clock, out, d } = rig(1, 1000);
    d.push(1);
    await clock.advance(1000);
    assert.deepEqual(out, [{ at: 0, single: 1, digest: null }]);
    await clock.advance(5000);
    d.push(2);
    d.push(3);
    await clock.advance(1000);
    assert.deepEqual(out.slice(1), [
      { at: 6000, single: 2, digest: null },
      { at: 7000, single: null, digest: [3] },
    ]);
  });

  it('a flapping source sends at most maxPerWindow + 1 messages per window and loses nothing', async () => {
    const { clock, out, d } = rig(3, 10_000);
    for (let i = 0; i < 100; i++) {
      d.push(i);
      await clock.advance(500); // 50 s of flapping
    }
    await clock.advance(10_000);
    // Windows open at 0, 10, 20, 30 and 40 s with 20 items each: 3 singles + 1 digest of 17.
    assert.equal(out.length, 20);
    assert.deepEqual(out.filter((o) => o.digest).map((o) => [o.at, o.digest?.length]), [[10_000, 17], [20_000, 17], [30_000, 17], [40_000, 17], [50_000, 17]]);
    const delivered = out.flatMap((o) => (o.single !== null ? [o.single] : (o.digest ?? [])));
    assert.deepEqual(delivered, Array.from({ length: 100 }, (_, i) => i));
  });

  it('maxPerWindow 0 digests everything', async () => {
    const { clock, out, d } = rig(0, 1000);
    d.push(1);
    d.push(2);
    assert.equal(out.length, 0);
    await clock.advance(1000);
    assert.deepEqual(out, [{ at: 1000, single: null, digest: [1, 2] }]);
  });

  it('flush emits the collected items now and ends the window', async () => {
    const { clock, out, d } = rig(1, 1000);
    d.push(1);
    d.push(2);
    d.push(3);
    d.flush();
    assert.deepEqual(out, [
      { at: 0, single: 1, digest: null },
      { at: 0, single: null, digest: [2, 3] },
    ]);
    assert.equal(clock.pendingTimers(), 0);
    d.push(4);
    assert.deepEqual(out[2], { at: 0, single: 4, digest: null });
  });

  it('close clears the timer; nothing is emitted afterwards', async () => {
    const { clock, out, d } = rig(1, 1000);
    d.push(1);
    d.push(2);
    d.close();
    assert.equal(clock.pendingTimers(), 0);
    d.push(3);
    await clock.advance(5000);
    assert.deepEqual(out, [{ at: 0, single: 1, digest: null }]);
  });

  it('refuses nonsensical limits', () => {
    const clock = new FakeClock();
    const emit = () => undefined;
    assert.throws(() => new EventDigest({ maxPerWindow: -1, windowMs: 1000, clock, emit }), { message: 'maxPerWindow must be a number ≥ 0 (got -1)' });
    assert.throws(() => new EventDigest({ maxPerWindow: 1, windowMs: NaN, clock, emit }), { message: 'windowMs must be a number of milliseconds > 0 (got NaN)' });
  });
});
