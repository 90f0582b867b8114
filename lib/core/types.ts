// The shared vocabulary of the redundancy engine. Nothing here imports Node-RED or a protocol
// library: drivers implement ChannelDriver (driver.ts), nodes consume RedundancyEvent and DeliveredChange.

/**
 * A channel's name: a pair is an ordered list of channels (Citect), channel 0 named "primary",
 * channel 1 "secondary", further standby channels named in the pair's configuration. Events,
 * status and msg.server name channels this way.
 */
export type ServerRole = string;
export const PRIMARY = 'primary';
export const SECONDARY = 'secondary';

/**
 * Kepware's connection modes:
 * cold = one connection at a time; warm = both connected, items report on the active one only;
 * hot = both connected and reporting, the active one's data forwarded.
 */
export type ConnectionMode = 'cold' | 'warm' | 'hot';
export const CONNECTION_MODES: readonly ConnectionMode[] = ['cold', 'warm', 'hot'];

/**
 * idle: deliberately not connected (cold-mode standby). connecting: a connection attempt is under
 * way. healthy: connected, pings answered, ServiceLevel >= 200 or unknown. degraded: connected but
 * ServiceLevel 2..199, or a failover condition holds on it. down: not usable, with the reason.
 */
export type ServerState = 'idle' | 'connecting' | 'healthy' | 'degraded' | 'down';

/**
 * Manual switch, like Citect's IODeviceControl: 'auto', or a channel pinned: 'force-primary',
 * 'force-secondary', 'force-channel-N' (N its index), or 'force-<channel name>'.
 */
export type SwitchControl = string;
export const SWITCH_CONTROLS: readonly string[] = ['auto', 'force-primary', 'force-secondary'];

/** The pinned channel's index for a control text, null for 'auto', undefined when it names no channel. */
export function pinnedChannel(control: string, names: readonly string[]): number | null | undefined {
  if (control === 'auto') return null;
  const m = /^force-(.+)$/.exec(control);
  if (!m) return undefined;
  const byIndex = /^channel-(\d+)$/.exec(m[1]);
  if (byIndex) {
    const i = Number(byIndex[1]);
    return i < names.length ? i : undefined;
  }
  const i = names.indexOf(m[1]);
  return i >= 0 ? i : undefined;
}

export interface ServerHealth {
  /** The channel's name (kept as `role` for flows written against two servers). */
  role: ServerRole;
  /** Position in the order of preference: 0 is the primary. */
  index: number;
  name: string;
  endpoint: string;
  state: ServerState;
  /** Why the server is in this state, in words an operator understands. */
  reason: string;
  /** When the server entered this state (ms since epoch, engine clock). */
  since: number;
  /** Last OPC UA ServiceLevel read (0..255), undefined when the server does not expose one. */
  serviceLevel?: number;
  /** Round trip of the last answered ping, ms. */
  lastPingMs?: number;
  /** Names of the failover conditions that currently hold on this server. */
  conditions: string[];
  /** The server's clock minus ours (from the ping's CurrentTime), ms: shown, never used to merge. */
  clockOffsetMs?: number;
}

export type { DataChange, ItemError, ItemSpec, PingResult, Quality } from './driver';
import type { DataChange } from './driver';

/** A change as the pair forwards it: which channel it came from. */
export interface DeliveredChange extends DataChange {
  /** The channel's name: 'primary', 'secondary', or a further channel's name. */
  server: ServerRole;
  /** The channel's index in the order of preference. */
  channel: number;
}

export type Severity = 'info' | 'warning' | 'error';

/** A channel selector's channel, by its configured name. */
export type ChannelName = string;

export { type RedundancyEventKind, EVENT_KINDS } from '../rules/events';
import type { RedundancyEventKind } from '../rules/events';

/** Every transition of a pair, with its reason. The diagnostics log stores exactly these. */
export interface RedundancyEvent {
  /** ms since epoch. */
  time: number;
  /** The pair's name/alias (or the name of another event source: a channel selector). */
  pair: string;
  kind: RedundancyEventKind;
  severity: Severity;
  /**
   * The server the event is about (connection events): a pair's role, or a channel selector's
   * channel name.
   */
  server?: ServerRole | ChannelName;
  /** For switches: the server (channel) left and the one taken (null = none). */
  from?: ServerRole | ChannelName | null;
  to?: ServerRole | ChannelName | null;
  reason: string;
  /**
   * failover/promotion/manual-switch: ms from the decision to the first data from the new server
   * (reported on 'switch-complete'); connection-lost: ms the server had been connected;
   * connected: ms it had been unreachable before (absent on a first connect).
   */
  durationMs?: number;
  /** failover: ms from the first sign of trouble to the decision. */
  detectMs?: number;
}

/** A snapshot of a pair for status displays and the diagnostics table. */
export interface PairStatus {
  pair: string;
  mode: ConnectionMode;
  /** Warm mode with the standby sampling into a queue (loses nothing at failover). */
  standbySampling?: boolean;
  control: SwitchControl;
  /** The active channel's name, null when none. */
  active: ServerRole | null;
  activeIndex: number | null;
  /** Every channel in order of preference. */
  channels: ServerHealth[];
  /** The same, by name (status.servers.primary, status.servers.secondary). */
  servers: Record<ServerRole, ServerHealth>;
  failovers: number;
  lastEvent?: RedundancyEvent;
  lastSwitchMs?: number;
  lastSwitchReason?: string;
  /** ms spent with each server active since start. */
  activeTimeMs: Record<ServerRole, number>;
}
