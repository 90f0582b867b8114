// Pair status as data: rows for Dashboard 2.0's ui-table, and the pair metrics flows can use the
// way Plant SCADA exposes its $SYS failover tags. Everything here is a pure function of PairStatus.
import { type PairStatus, type RedundancyEvent, type ServerHealth, type ServerRole, type ServerState, type SwitchControl, pinnedChannel } from './types';

export interface StatusRow {
  pair: string;
  /** Connection mode, with a manual switch noted: 'warm', 'hot, forced to the secondary'. */
  mode: string;
  /** 'primary', 'secondary' or 'none'. */
  active: string;
  /** 'healthy' or '<state>: <reason>', e.g. 'down: ping timeout after 500 ms'. */
  primary: string;
  secondary: string;
  /** Further standby channels: 'channel 2: healthy; channel 3: down: …', '' when the pair has two. */
  standbys: string;
  /** Every channel's, in order: '255 / 200', '—' where a server exposes none: '255 / —'. */
  serviceLevel: string;
  failovers: number;
  /** '12:03:04 failover: primary → secondary (connection lost)', '' when none yet. */
  lastEvent: string;
  /** Duration of the last switch, '182 ms', '' when none yet. */
  lastSwitch: string;
}

/** The pair's failover data for flows (Plant SCADA's $SYS tags). null where nothing is known yet. */
export interface PairMetrics {
  pair: string;
  mode: string;
  control: SwitchControl;
  active: ServerRole | null;
  failovers: number;
  lastReason: string | null;
  lastSwitchMs: number | null;
  activeTimeMs: Record<ServerRole, number>;
  state: Record<ServerRole, ServerState>;
  serviceLevel: Record<ServerRole, number | null>;
  conditions: Record<ServerRole, string[]>;
  lastEvent: RedundancyEvent | null;
}

const NONE = '—';

/** '182 ms', '1.2 s', '2 min 5 s', '3 h 12 min'; '' when undefined. */
export function formatDuration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '';
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`;
  const totalMinutes = Math.round(ms / 60_000);
  return `${Math.floor(totalMinutes / 60)} h ${totalMinutes % 60} min`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time 'HH:MM:SS' (the table is read by people in the plant's time zone). */
export function formatClock(time: number): string {
  const d = new Date(time);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Local date and time 'YYYY-MM-DD HH:MM:SS'. */
export function formatLocalDateTime(time: number): string {
  const d = new Date(time);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${formatClock(time)}`;
}

/** 'healthy', or the state with its reason: 'down: ping timeout after 500 ms'. */
export function serverHealthText(h: ServerHealth): string {
  // A failover condition that holds is what the operator set up to watch: it names the cause
  // (a device link lost) better than a symptom the engine saw first (its stream falling behind).
  if (h.state !== 'down' && h.conditions.length > 0) return `${h.state}: failover condition: ${h.conditions.join(', ')}`;
  if (h.state === 'healthy') return 'healthy';
  return h.reason ? `${h.state}: ${h.reason}` : h.state;
}

/** One line for an event: '12:03:04 failover: primary → secondary (connection lost)'. */
export function eventLine(e: RedundancyEvent): string {
  let line = `${formatClock(e.time)} ${e.kind}`;
  if (e.from !== undefined || e.to !== undefined) line += `: ${e.from ?? 'none'} → ${e.to ?? 'none'}`;
  else if (e.server) line += ` on the ${e.server}`;
  if (e.reason) line += ` (${e.reason})`;
  return line;
}

function channelList(s: PairStatus): ServerHealth[] {
  return s.channels ?? Object.values(s.servers);
}

function modeText(s: PairStatus): string {
  const mode = s.standbySampling ? `${s.mode} (standby sampling)` : s.mode;
  if (s.control === 'auto') return mode;
  const pinned = pinnedChannel(s.control, channelList(s).map((c) => c.name));
  return typeof pinned === 'number' ? `${mode}, forced to the ${channelList(s)[pinned].name}` : mode;
}

function level(h: ServerHealth): string {
  return h.serviceLevel === undefined ? NONE : String(h.serviceLevel);
}

export function statusRow(s: PairStatus): StatusRow {
  return {
    pair: s.pair,
    mode: modeText(s),
    active: s.active ?? 'none',
    primary: serverHealthText(s.servers.primary),
    secondary: serverHealthText(s.servers.secondary),
    standbys: channelList(s).slice(2).map((c) => `${c.name}: ${serverHealthText(c)}`).join('; '),
    serviceLevel: channelList(s).map(level).join(' / '),
    failovers: s.failovers,
    lastEvent: s.lastEvent ? eventLine(s.lastEvent) : '',
    lastSwitch: formatDuration(s.lastSwitchMs),
  };
}

/** One row per pair, in the order given. */
export function statusRows(statuses: PairStatus[]): StatusRow[] {
  return statuses.map(statusRow);
}

export function pairMetrics(s: PairStatus): PairMetrics {
  return {
    pair: s.pair,
    mode: s.mode,
    control: s.control,
    active: s.active,
    failovers: s.failovers,
    lastReason: s.lastSwitchReason ?? null,
    lastSwitchMs: s.lastSwitchMs ?? null,
    activeTimeMs: { ...s.activeTimeMs },
    state: Object.fromEntries(channelList(s).map((c) => [c.name, c.state])),
    serviceLevel: Object.fromEntries(channelList(s).map((c) => [c.name, c.serviceLevel ?? null])),
    conditions: Object.fromEntries(channelList(s).map((c) => [c.name, c.conditions.slice()])),
    lastEvent: s.lastEvent ?? null,
  };
}
