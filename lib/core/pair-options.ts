// What a redundant pair is built from: its options (with their defaults) and its channels, and the
// one check of both that throws a message listing every problem.
import type { Clock } from './clock';
import type { ChannelDriver } from './driver';
import { type ConnectionMode, PRIMARY, SECONDARY } from './types';

export interface PairOptions {
  /** Name (alias) used in events and status. */
  name: string;
  mode: ConnectionMode;
  /** Warm mode: the standby's items sample into a queue flushed at failover (loses nothing). */
  standbySampling?: boolean;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Return to a more preferred channel when it has been healthy for holdOffMs; false: stay. */
  autoPromote: boolean;
  holdOffMs: number;
  /** Reconnect back-off: first retry after min, doubling to max. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Hot mode: changes of each standby kept for replay at failover. */
  hotBufferSize?: number;
  /** Hot mode: fail over when the active stream falls this far behind a standby's (ms); 0 disables. */
  streamLagMs?: number;
  /** Cold mode: how often more preferred idle channels are probed. */
  probeIntervalMs?: number;
  /** At start, a more preferred channel is waited for this long. Default 2000 ms. */
  startupGraceMs?: number;
  clock?: Clock;
  /** Where the engine reports what it cannot put into an event (a listener that throws). */
  log?: (text: string) => void;
}

/** One channel as the pair is built: its name and its driver. */
export interface ChannelSpec {
  name: string;
  driver: ChannelDriver;
}

/** The options with every default filled in. */
export type ResolvedPairOptions = PairOptions & { reconnectMinMs: number; reconnectMaxMs: number; probeIntervalMs: number; startupGraceMs: number };

const DEFAULT_RECONNECT_MIN = 500;
const DEFAULT_RECONNECT_MAX = 10_000;

export function resolvePairOptions(options: PairOptions): ResolvedPairOptions {
  return {
    ...options,
    reconnectMinMs: options.reconnectMinMs ?? DEFAULT_RECONNECT_MIN,
    reconnectMaxMs: options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX,
    probeIntervalMs: options.probeIntervalMs ?? Math.max(options.pingIntervalMs, 2000),
    startupGraceMs: options.startupGraceMs ?? 2000,
  };
}

export function validatePairOptions(o: PairOptions, channels?: ChannelSpec[]): void {
  const problems: string[] = [];
  if (!o.name) problems.push('a name is required');
  if (!['cold', 'warm', 'hot'].includes(o.mode)) problems.push(`mode must be cold, warm or hot (got ${String(o.mode)})`);
  const atLeast = (label: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) problems.push(`${label} must be a number ≥ ${min} ms (got ${String(v)})`);
  };
  atLeast('ping interval', o.pingIntervalMs, 50);
  atLeast('ping timeout', o.pingTimeoutMs, 50);
  atLeast('hold-off', o.holdOffMs, 0);
  if (o.reconnectMinMs !== undefined) atLeast('reconnect minimum', o.reconnectMinMs, 10);
  if (o.reconnectMaxMs !== undefined) atLeast('reconnect maximum', o.reconnectMaxMs, o.reconnectMinMs ?? 10);
  if (channels) {
    if (channels.length < 2) problems.push(`a pair needs at least 2 channels (got ${channels.length})`);
    const names = channels.map((c) => c.name);
    if (names[0] !== undefined && names[0] !== PRIMARY) problems.push(`channel 0 is named "${PRIMARY}" (got "${names[0]}")`);
    if (names[1] !== undefined && names[1] !== SECONDARY) problems.push(`channel 1 is named "${SECONDARY}" (got "${names[1]}")`);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) problems.push(`two channels are named "${dup}"`);
    if (o.standbySampling && o.mode === 'warm') {
      const cannot = channels.find((c) => !c.driver.capabilities.sampling);
      if (cannot) problems.push(`standby sampling needs servers that can sample without reporting; ${cannot.driver.endpoint} cannot (use hot mode)`);
    }
  }
  if (problems.length) throw new Error(`invalid pair configuration: ${problems.join('; ')}`);
}
