// One request in flight per connection, served by priority: a ping never waits behind a backlog
// of polls (on a 9600-baud line 30 polls take seconds), a write never waits for a poll cycle.
// Within a priority, first come first served. An optional pause between requests serves slow
// serial devices and gateways.
import type { Clock, TimerHandle } from '../core/clock';

export const PRIORITY = { ping: 0, command: 1, poll: 2 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

interface Job {
  priority: Priority;
  seq: number;
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  cancelled: boolean;
}

export interface QueuedRequest<T> {
  promise: Promise<T>;
  /** Drops the request if it has not started; true when it was dropped. */
  cancel(reason: string): boolean;
}

export class RequestQueue {
  private jobs: Job[] = [];
  private seq = 0;
  private busy = false;
  private delayTimer?: TimerHandle;
  private lastDoneAt = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly delayMs = 0,
  ) {}

  get pending(): number {
    return this.jobs.length;
  }

  get inFlight(): boolean {
    return this.busy;
  }

  enqueue<T>(priority: Priority, run: () => Promise<T>): QueuedRequest<T> {
    let job!: Job;
    const promise = new Promise<T>((resolve, reject) => {
      job = { priority, seq: ++this.seq, run, resolve: resolve as (v: unknown) => void, reject, cancelled: false };
    });
    // Insert after the last job of the same or a higher priority.
    let i = this.jobs.length;
    while (i > 0 && this.jobs[i - 1].priority > priority) i--;
    this.jobs.splice(i, 0, job);
    this.pump();
    return {
      promise,
      cancel: (reason: string) => {
        const at = this.jobs.indexOf(job);
        if (at < 0) return false;
        this.jobs.splice(at, 1);
        job.cancelled = true;
        job.reject(new Error(reason));
        return true;
      },
    };
  }

  /** Rejects every request that has not started (disconnect). */
  clear(reason: string): void {
    const jobs = this.jobs;
    this.jobs = [];
    this.clock.clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    for (const j of jobs) {
      j.cancelled = true;
      j.reject(new Error(reason));
    }
  }

  private pump(): void {
    if (this.busy || this.delayTimer || this.jobs.length === 0) return;
    const wait = this.lastDoneAt + this.delayMs - this.clock.now();
    if (this.delayMs > 0 && wait > 0) {
      this.delayTimer = this.clock.setTimeout(() => {
        this.delayTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const job = this.jobs.shift()!;
    this.busy = true;
    let p: Promise<unknown>;
    try {
      p = job.run();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (v) => job.resolve(v),
      (e: unknown) => job.reject(e instanceof Error ? e : new Error(String(e))),
    ).finally(() => {
      this.busy = false;
      this.lastDoneAt = this.clock.now();
      this.pump();
    });
  }
}
