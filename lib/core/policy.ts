// Connection modes as data (Kepware's cold / warm / hot, plus warm with standby sampling, OPC UA
// Part 4's "Hot (a)"): which channels are kept connected, how a standby's items are kept, what the
// merge has to replay at a switch, whether the live streams are compared (a pair connecting only
// the active channel probes the others through its cold ladder). The pair reads these instead of
// branching on the mode.
import type { MonitoringState } from './driver';
import type { ConnectionMode } from './types';

export interface ModePolicy {
  /** The name in events, status and benchmarks: cold, warm, warm-sampling, hot. */
  readonly label: string;
  readonly mode: ConnectionMode;
  /** 'all' channels connected (warm, hot), or only the 'active' one (and one being handed over to). */
  readonly connect: 'all' | 'active';
  /** How a connected standby keeps its items (cold keeps none: it is not connected). */
  readonly standby: MonitoringState;
  /** The standby's changes are kept for replay at a switch (hot). */
  readonly buffer: boolean;
  /** The live streams are compared to catch a stalled active channel (hot). */
  readonly streamLag: boolean;
}

export const POLICIES = {
  cold: { label: 'cold', mode: 'cold', connect: 'active', standby: 'disabled', buffer: false, streamLag: false },
  warm: { label: 'warm', mode: 'warm', connect: 'all', standby: 'disabled', buffer: false, streamLag: false },
  'warm-sampling': { label: 'warm-sampling', mode: 'warm', connect: 'all', standby: 'sampling', buffer: false, streamLag: false },
  hot: { label: 'hot', mode: 'hot', connect: 'all', standby: 'reporting', buffer: true, streamLag: true },
} as const satisfies Record<string, ModePolicy>;

export function policyFor(mode: ConnectionMode, standbySampling = false): ModePolicy {
  if (mode === 'warm' && standbySampling) return POLICIES['warm-sampling'];
  return POLICIES[mode];
}

/**
 * Queue length for a sampling standby: every sample of the longest outage the pair bridges (a ping
 * interval plus its timeout before the active channel is given up) at the fastest sampling
 * interval, with room for the switch itself.
 */
export function samplingQueueSize(pingIntervalMs: number, pingTimeoutMs: number, samplingIntervalMs: number): number {
  const sampling = Math.max(1, samplingIntervalMs || 50);
  return Math.min(10_000, Math.ceil((pingIntervalMs + pingTimeoutMs) / sampling) * 2 + 10);
}
