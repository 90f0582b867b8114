// Write routing and the IO device redundancy guard: a write goes out of the active channel's own
// output only, and (guard on) only while that channel's master-status item says its device is the
// master. Otherwise it is held, in order, for a bounded time and sent when a master channel is
// active, or rejected with an error that says why: nothing is ever written to a slave PLC.

export interface WriteTarget {
  index: number;
  name: string;
}

/** Whether a write may go out now, and if not why (for the error and the events). */
export type WriteCheck = { ok: true; target: WriteTarget } | { ok: false; reason: string };

interface Held<M> {
  msg: M;
  heldAt: number;
  resolve: (target: WriteTarget) => void;
  reject: (err: Error) => void;
}

export class WriteRejected extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteRejected';
  }
}

export interface WriteQueueOptions {
  holdMs: number;
  maxHeld: number;
}

/**
 * Writes waiting for a channel that may take them. FIFO: a later write never overtakes an earlier
 * one (a setpoint sequence stays a sequence).
 */
export class WriteQueue<M> {
  private held: Held<M>[] = [];

  constructor(private readonly opts: WriteQueueOptions) {}

  get size(): number {
    return this.held.length;
  }

  /**
   * A new write: sent at once when allowed and nothing is waiting; otherwise queued (or rejected
   * at once when holding is off or the queue is full). `send` is called synchronously when it goes.
   */
  submit(msg: M, check: WriteCheck, now: number, send: (msg: M, target: WriteTarget) => void): { promise: Promise<WriteTarget>; held: boolean } {
    if (check.ok && this.held.length === 0) {
      send(msg, check.target);
      return { promise: Promise.resolve(check.target), held: false };
    }
    if (!check.ok && this.opts.holdMs <= 0) return { promise: Promise.reject(new WriteRejected(`write not sent: ${check.reason}; holding writes is off, so it was rejected at once. Nothing was written.`)), held: false };
    if (this.held.length >= this.opts.maxHeld) {
      const why = check.ok ? 'earlier writes are still held' : check.reason;
      return { promise: Promise.reject(new WriteRejected(`write not sent: ${why}, and ${this.opts.maxHeld} writes are already held (the limit). Nothing was written.`)), held: false };
    }
    let entry!: Held<M>;
    const promise = new Promise<WriteTarget>((resolve, reject) => {
      entry = { msg, heldAt: now, resolve, reject };
    });
    this.held.push(entry);
    return { promise, held: true };
  }

  /** Sends what may go now, oldest first; returns how many went. */
  flush(check: WriteCheck, send: (msg: M, target: WriteTarget) => void): number {
    if (!check.ok) return 0;
    let n = 0;
    while (this.held.length > 0) {
      const h = this.held.shift() as Held<M>;
      send(h.msg, check.target);
      h.resolve(check.target);
      n++;
    }
    return n;
  }

  /** Rejects the writes held for `holdMs` or longer; returns how many. */
  expire(now: number, reason: string): number {
    let n = 0;
    while (this.held.length > 0 && now - this.held[0].heldAt >= this.opts.holdMs) {
      const h = this.held.shift() as Held<M>;
      h.reject(new WriteRejected(`write not sent: ${reason}; held ${this.opts.holdMs} ms and no channel could take it. Nothing was written.`));
      n++;
    }
    return n;
  }

  /** When the oldest held write expires. */
  nextDeadline(): number | undefined {
    return this.held.length > 0 ? this.held[0].heldAt + this.opts.holdMs : undefined;
  }

  /** Rejects everything (the node is closing). */
  clear(reason: string): void {
    const all = this.held;
    this.held = [];
    for (const h of all) h.reject(new WriteRejected(`write not sent: ${reason}. Nothing was written.`));
  }
}
