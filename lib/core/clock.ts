// Time as the engine sees it. Production uses the real clock; unit tests inject a fake one so
// hold-offs and back-offs can be stepped through without waiting.

export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending ping or back-off must never keep a process alive on its own.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => {
    if (h) clearTimeout(h as NodeJS.Timeout);
  },
};

/** Deterministic clock for unit tests: timers run only when advance() passes their due time. */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers = new Map<number, { due: number; fn: () => void; seq: number }>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { due: this.current + Math.max(0, ms), fn, seq: id });
    return { id } as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.timers.delete((handle as unknown as { id: number }).id);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Advance time, firing due timers in order; awaits microtasks between timers. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      await flushMicrotasks();
      let next: [number, { due: number; fn: () => void; seq: number }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].due <= end && (!next || entry[1].due < next[1].due || (entry[1].due === next[1].due && entry[1].seq < next[1].seq))) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].due);
      next[1].fn();
    }
    this.current = end;
    await flushMicrotasks();
  }
}

/** A timer this late (ms) means this process's event loop was blocked meanwhile. */
const LOOP_BLOCKED_MS = 25;

/**
 * Rejects with `message` when `p` has not settled within `ms` (on the given clock), counting only
 * time in which this process could have seen the answer. An event loop blocked past the deadline
 * (a busy machine, 10 000 initial values being handled) runs the timer before the socket's
 * pending data: the answer may be waiting there. So a late timer waits once more for as long as
 * it was late (at most `ms`), and the verdict comes one turn of the loop later, after the I/O
 * that is already in; a server that does not answer is still failed within 2 × `ms` at worst.
 */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: TimerHandle | undefined;
  const deadline = clock.now() + ms;
  // A failure that comes after the deadline (a library's own timeout of the same length, racing
  // this one) is this timeout: the message names the bound, not the library's guess.
  const guarded = p.catch((err: unknown) => {
    throw clock.now() >= deadline ? new Error(message) : err;
  });
  const expiry = new Promise<never>((_, reject) => {
    let due = deadline;
    let extended = false;
    let turned = false;
    const fire = (): void => {
      const late = clock.now() - due;
      if (!extended && late > LOOP_BLOCKED_MS) {
        extended = true;
        const extra = Math.min(late, ms);
        due = clock.now() + extra;
        timer = clock.setTimeout(fire, extra);
      } else if (!turned) {
        turned = true;
        due = clock.now();
        timer = clock.setTimeout(fire, 0);
      } else {
        reject(new Error(message));
      }
    };
    timer = clock.setTimeout(fire, ms);
  });
  return Promise.race([guarded, expiry]).finally(() => clock.clearTimeout(timer));
}

export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
