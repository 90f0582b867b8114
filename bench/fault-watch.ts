// What the pair failover rows (bench/failover.ts: OPC UA, bench/modbus-pair.ts: Modbus) measure the
// same way: the pair's output watched (arrival times, how often each counter value came, events),
// the primary running with data, the fault injected, the switch awaited; then how long detection,
// the switch and the output's silence took and how many counter values were lost.
import type { RedundantPair } from '../lib/core/pair';
import type { DeliveredChange, RedundancyEvent } from '../lib/core/types';
import { round, sleep, waitFor } from './stats';

export interface OutputWatch {
  /** When each data message came (ms). */
  arrivals: number[];
  /** Counter value → how many times it was delivered. */
  counter: Map<number, number>;
  events: RedundancyEvent[];
}

/** Watches the pair's output; `isCounter` picks the counter's changes, `each` sees every change. */
export function watchOutput(pair: RedundantPair, isCounter: (ch: DeliveredChange) => boolean, each?: (ch: DeliveredChange) => void): OutputWatch {
  const w: OutputWatch = { arrivals: [], counter: new Map(), events: [] };
  pair.on('event', (e) => w.events.push(e));
  pair.on('data', (changes: DeliveredChange[]) => {
    w.arrivals.push(Date.now());
    for (const ch of changes) {
      if (isCounter(ch)) w.counter.set(ch.value as number, (w.counter.get(ch.value as number) ?? 0) + 1);
      each?.(ch);
    }
  });
  return w;
}

export interface FaultFigures {
  detect_ms: number;
  switch_ms: number;
  stall_ms: number;
  /** Counter values between the last before the fault and the last after the switch that never came. */
  lost: number;
  firstCounter: number;
  lastCounter: number;
}

/**
 * Starts the pair, waits for the primary with data (and 2 s), injects the fault, waits for the
 * switch (and 2 s): the figures. The caller stops the pair.
 */
export async function measureFault(pair: RedundantPair, w: OutputWatch, inject: () => Promise<unknown> | void): Promise<FaultFigures> {
  pair.start();
  const story = () => w.events.map((e) => `${new Date(e.time).toISOString().slice(11, 23)} ${e.kind} ${e.server ?? ''} ${e.reason}`);
  const leftPrimary = () => w.events.some((e) => e.kind === 'failover');
  await waitFor(() => (pair.getActive() === 'primary' && w.counter.size > 5) || leftPrimary(), 60_000, 'the primary active with data', () => story());
  if (!leftPrimary()) await sleep(2000);
  const firstCounter = Math.max(...w.counter.keys());
  // A switch before the fault (a ping lost on a machine this busy, or a defect) leaves nothing to measure: said, with the events.
  if (pair.getActive() !== 'primary') throw new PreFaultSwitch(story());
  const faultAt = Date.now();
  await inject();
  await waitFor(() => w.events.some((e) => e.kind === 'switch-complete' && e.time >= faultAt), 60_000, 'the switch to complete', () => ({ fault: new Date(faultAt).toISOString().slice(11, 23), status: pair.status(), events: story() }));
  await sleep(2000);
  const lastCounter = Math.max(...w.counter.keys());
  const failover = w.events.find((e) => e.kind === 'failover' && e.time >= faultAt);
  const complete = w.events.find((e) => e.kind === 'switch-complete' && e.time >= faultAt);
  let lost = 0;
  for (let v = firstCounter; v <= lastCounter; v++) if (!w.counter.get(v)) lost++;
  let stall = 0;
  // the silence that the fault caused: any gap that ends after the fault, measured in full
  for (let i = 1; i < w.arrivals.length; i++) if (w.arrivals[i] >= faultAt) stall = Math.max(stall, w.arrivals[i] - w.arrivals[i - 1]);
  return {
    detect_ms: failover ? failover.time - faultAt : NaN,
    switch_ms: complete?.durationMs ?? NaN,
    stall_ms: round(stall, 0),
    lost,
    firstCounter,
    lastCounter,
  };
}

/** The pair left the primary before the fault was injected. */
export class PreFaultSwitch extends Error {
  constructor(readonly events: string[]) {
    super(`the pair left the primary before the fault: ${JSON.stringify(events)}`);
  }
}

/**
 * Runs a failover case, again (up to `attempts` times) when the pair switched before the fault;
 * the row's note says how often and why (the first failover event's reason), so a busy machine's
 * lost pings are reported, never hidden.
 */
export async function withPreFaultRetries<R extends { note?: string }>(run: () => Promise<R>, attempts = 3): Promise<R> {
  const reasons: string[] = [];
  for (;;) {
    try {
      const row = await run();
      if (reasons.length) row.note = `${reasons.length} earlier attempt(s) switched before the fault (${reasons.join('; ')}); repeated`;
      return row;
    } catch (err) {
      if (!(err instanceof PreFaultSwitch) || reasons.length + 1 >= attempts) throw err;
      reasons.push(err.events.find((e) => / failover /.test(e))?.replace(/^\S+ failover\s+/, '') ?? 'no failover event');
    }
  }
}
