// The shared vocabulary of the redundancy engine. Nothing here imports Node-RED or a protocol
// library: drivers implement EndpointDriver, nodes consume RedundancyEvent and DeliveredChange.

/** A pair has two servers. N-channel selection (Citect) will use channel indexes beside this. */
export type ServerRole = 'primary' | 'secondary';
export const SERVER_ROLES: readonly ServerRole[] = ['primary', 'secondary'];
export function otherRole(role: ServerRole): ServerRole {
  return role === 'primary' ? 'secondary' : 'primary';
}

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

/** Manual switch, like Citect's IODeviceControl: pin a server, or let the engine choose. */
export type SwitchControl = 'auto' | 'force-primary' | 'force-secondary';
export const SWITCH_CONTROLS: readonly SwitchControl[] = ['auto', 'force-primary', 'force-secondary'];

export interface ServerHealth {
  role: ServerRole;
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
}

/** One value change as a driver reports it. */
export interface DataChange {
  /** Item id: an OPC UA node id string (ns=1;s=Counter) or a Modbus item name. */
  item: string;
  value: unknown;
  /** Status code name, e.g. "Good", "BadCommunicationError". */
  statusCode: string;
  /** True when the status code's severity is Good. */
  good: boolean;
  /** ms since epoch; undefined when the server gave none. */
  sourceTimestamp?: number;
  serverTimestamp?: number;
}

/** A change as the pair forwards it: which server it came from. */
export interface DeliveredChange extends DataChange {
  server: ServerRole;
}

export interface ItemSpec {
  id: string;
  /** Requested sampling interval, ms. */
  samplingIntervalMs: number;
}

/** An item the server refused (unknown node id, bad access level...). */
export interface ItemError {
  id: string;
  error: string;
}

export interface PingResult {
  /** OPC UA ServiceLevel, when the server exposes it. */
  serviceLevel?: number;
  /** The server's own clock (Server_ServerStatus_CurrentTime), ms since epoch. */
  serverTime?: number;
}

export interface DriverListener {
  /** A batch of changes (one OPC UA publish response, one Modbus poll). */
  data(changes: DataChange[]): void;
  /**
   * The connection is gone (socket closed, session lost, server shut down): reported at once,
   * without waiting for the next ping. `graceful` is true when the server announced its shutdown.
   */
  lost(reason: string, graceful: boolean): void;
}

/**
 * One endpoint of one protocol. The engine drives it; it never decides anything itself.
 * Every method rejects with an Error whose message is fit for an operator.
 */
export interface EndpointDriver {
  /** Human-readable endpoint, e.g. "opc.tcp://host:4840". */
  readonly endpoint: string;
  attach(listener: DriverListener): void;
  /** Open the connection/session. Rejects when the endpoint cannot be reached. */
  connect(): Promise<void>;
  /** Close everything this driver owns. Never rejects. */
  disconnect(): Promise<void>;
  /** A cheap round trip proving the server answers (OPC UA: read CurrentTime + ServiceLevel). */
  ping(timeoutMs: number): Promise<PingResult>;
  /**
   * Make the monitored item set exactly `items` (created in batches), reporting or not
   * (warm standby = created but not reporting). Returns the items the server refused.
   */
  setItems(items: ItemSpec[], reporting: boolean): Promise<ItemError[]>;
  /** Switch reporting on or off for all items (warm mode failover). */
  setReporting(reporting: boolean): Promise<void>;
  /** One-shot read of current values. */
  read(items: string[]): Promise<DataChange[]>;
  /** Write one value; resolves when the server confirmed it. */
  write(item: string, value: unknown): Promise<void>;
}

export type Severity = 'info' | 'warning' | 'error';

export type RedundancyEventKind =
  | 'connecting'
  | 'connected'
  | 'connect-failed'
  | 'connection-lost'
  | 'ping-timeout'
  | 'degraded'
  | 'restored'
  | 'failover'
  | 'promotion'
  | 'switch-complete'
  | 'manual-switch'
  | 'both-down'
  | 'both-bad'
  | 'recovered'
  | 'stream-lag'
  | 'write-rejected'
  | 'write-redirected'
  | 'condition-fired'
  | 'condition-cleared'
  | 'item-error'
  // alarm-sync (lib/alarm) and trend-backfill (lib/trend)
  | 'alarm-caught-up'
  | 'alarm-acks-delivered'
  | 'alarm-sync-failed'
  | 'alarm-actions-taken-over'
  | 'backfill-started'
  | 'backfill-progress'
  | 'backfill-complete'
  | 'backfill-deferred'
  | 'trend-gap-both'
  | 'store-error';

export const EVENT_KINDS: readonly RedundancyEventKind[] = [
  'connecting', 'connected', 'connect-failed', 'connection-lost', 'ping-timeout', 'degraded',
  'restored', 'failover', 'promotion', 'switch-complete', 'manual-switch', 'both-down',
  'both-bad', 'recovered', 'stream-lag', 'write-rejected', 'write-redirected', 'condition-fired',
  'condition-cleared', 'item-error',
  'alarm-caught-up', 'alarm-acks-delivered', 'alarm-sync-failed', 'alarm-actions-taken-over',
  'backfill-started', 'backfill-progress', 'backfill-complete', 'backfill-deferred', 'trend-gap-both', 'store-error',
];

/** Every transition of a pair, with its reason. The diagnostics log stores exactly these. */
export interface RedundancyEvent {
  /** ms since epoch. */
  time: number;
  /** The pair's name/alias. */
  pair: string;
  kind: RedundancyEventKind;
  severity: Severity;
  /** The server the event is about (connection events). */
  server?: ServerRole;
  /** For switches: the server left and the server taken (null = none). */
  from?: ServerRole | null;
  to?: ServerRole | null;
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
  control: SwitchControl;
  active: ServerRole | null;
  servers: Record<ServerRole, ServerHealth>;
  failovers: number;
  lastEvent?: RedundancyEvent;
  lastSwitchMs?: number;
  lastSwitchReason?: string;
  /** ms spent with each server active since start. */
  activeTimeMs: Record<ServerRole, number>;
}
