// The contract between the engine and a protocol: one ChannelDriver per endpoint (an OPC UA server,
// a Modbus device over one path). The engine drives it and decides everything; a driver never
// retries or switches on its own. Drivers live in lib/drivers/ (one file per protocol) and are
// created through the registry (lib/drivers/registry.ts), never imported by nodes directly.
import type { Clock } from './clock';

/** A neutral quality every protocol maps to (OPC UA status severity; Modbus: answered or not). */
export type Quality = 'good' | 'uncertain' | 'bad';

/**
 * How an item is kept on a connection (OPC UA MonitoringMode):
 * reporting = sampled and sent; sampling = sampled into the server's queue, not sent (flushed at a
 * switch to reporting: warm mode that loses nothing); disabled = neither.
 */
export type MonitoringState = 'reporting' | 'sampling' | 'disabled';

export interface DriverCapabilities {
  /** Data comes from server-side subscriptions (OPC UA) or from the driver's own polling (Modbus). */
  delivery: 'subscription' | 'polling';
  /**
   * Where `sourceTimestamp` comes from. 'source': the server gives one; it may be the device's
   * (equal on two servers reading one PLC) or the server's own clock (skewed): the engine assumes
   * neither. 'arrival': the device gives none; the driver stamps the time the answer arrived (local
   * clock), so the merge relies on values and arrival order.
   */
  timestamps: 'source' | 'arrival';
  /** ping() reports a ServiceLevel (OPC 10000-4 §6.6). */
  serviceLevel: boolean;
  /** MonitoringState 'sampling' is supported (queued samples flushed when reporting starts). */
  sampling: boolean;
  /** browse() is implemented (an address space to pick items from). */
  browse: boolean;
}

/** One value change as a driver reports it. */
export interface DataChange {
  /** Item id as configured: an OPC UA node id (ns=1;s=Counter) or a Modbus item (HR40001:float32). */
  item: string;
  value: unknown;
  /** Status code name, e.g. "Good", "BadCommunicationError", "BadOutOfRange". */
  statusCode: string;
  /** True when the status is Good (same as quality === 'good'; kept for flows that read it). */
  good: boolean;
  quality: Quality;
  /** ms since epoch, in the channel's own time domain (see DriverCapabilities.timestamps). */
  sourceTimestamp?: number;
  serverTimestamp?: number;
  /** Extra words for a bad status an operator can act on, e.g. "Modbus exception 2 (illegal data address)". */
  detail?: string;
  /** The engine's key of the item (ItemSpec.key), when the driver passes it on. */
  key?: number;
  /**
   * The item's name in a source node's batched output, set there. A driver on a hot path creates
   * its changes with it (undefined): setting a field the object was made without changes its
   * hidden class, per change (measured: 6 % of a warm pair's CPU at 10 000 items).
   */
  name?: string;
}

export interface ItemSpec {
  id: string;
  /** Requested sampling (OPC UA) or polling (Modbus) interval, ms. */
  samplingIntervalMs: number;
  /**
   * A small integer the engine gives each item. A driver that puts it on the item's DataChange.key
   * saves the engine a lookup by id per change (the hot path); one that does not loses nothing.
   */
  key?: number;
}

/** What the server granted for an item: the engine's timeouts and tolerances follow these, not the request. */
export interface GrantedItem {
  id: string;
  samplingIntervalMs: number;
  queueSize: number;
}

/** An item the server refused or that failed later (unknown node id, illegal Modbus address...). */
export interface ItemError {
  id: string;
  error: string;
  /** OPC UA status code name or a Modbus exception as a status name (BadNodeIdUnknown, BadOutOfRange...). */
  statusCode?: string;
}

export interface ItemsResult {
  granted: GrantedItem[];
  errors: ItemError[];
  /** The revised publishing interval (OPC UA) or the poll period (Modbus), ms. */
  publishingIntervalMs?: number;
}

/** What a client needs to expose an item (the gateway) or to pick it (the editor). */
export interface ItemDescription {
  id: string;
  /** OPC UA built-in data type name: Boolean, Int16, UInt16, Int32, UInt32, Int64, UInt64, Float, Double, String, DateTime, ByteString, Variant... */
  dataType: string;
  /** -1 scalar, 1 one-dimensional array, ... (OPC UA ValueRank). */
  valueRank: number;
  arrayDimensions?: number[];
  readable: boolean;
  writable: boolean;
  displayName?: string;
  description?: string;
  /** Set when the item cannot be described (unknown node...); the other fields are then defaults. */
  error?: string;
}

/** One child in an address space (lazy tree in the editor, mirrored subtree in the gateway). */
export interface BrowseEntry {
  /** Node id as a string the driver accepts as an item id. */
  id: string;
  browseName: string;
  displayName: string;
  nodeClass: 'Object' | 'Variable' | 'Method' | 'ObjectType' | 'VariableType' | 'ReferenceType' | 'DataType' | 'View' | 'Unspecified';
  /** Variables: data type name and access. */
  dataType?: string;
  valueRank?: number;
  readable?: boolean;
  writable?: boolean;
  /** Objects and folders may have children worth expanding. */
  hasChildren: boolean;
}

export interface PingResult {
  /** OPC UA ServiceLevel, when the server exposes it. */
  serviceLevel?: number;
  /** The server's own clock (OPC UA Server_ServerStatus_CurrentTime), ms since epoch. */
  serverTime?: number;
}

export interface DriverListener {
  /** A batch of changes (one OPC UA publish response, one Modbus poll cycle). */
  data(changes: DataChange[]): void;
  /**
   * The connection is gone (socket closed, session lost, server shut down): reported at once,
   * without waiting for the next ping. `graceful` is true when the server announced its shutdown.
   */
  lost(reason: string, graceful: boolean): void;
  /**
   * Items accepted earlier that fail now (a Modbus illegal address shows at the first poll, an OPC
   * UA node was deleted). An item that works again is reported with an empty error list for it: see
   * `recovered`.
   */
  itemErrors(errors: ItemError[], recovered: string[]): void;
}

/** A driver error that carries the protocol's status (BadTypeMismatch, BadNotWritable...). */
export class DriverError extends Error {
  constructor(message: string, readonly statusCode?: string) {
    super(message);
    this.name = 'DriverError';
  }
}

/**
 * One endpoint of one protocol. The engine serialises every call on one driver (one queue per
 * channel): no two of connect / disconnect / addItems / removeItems / setMonitoring run at once.
 * read, write, describe, browse and ping may run beside them. Every method rejects with an Error
 * whose message is fit for an operator.
 */
export interface ChannelDriver {
  /** Human-readable endpoint, e.g. "opc.tcp://host:4840" or "modbus-tcp://10.0.0.5:502?unit=1". */
  readonly endpoint: string;
  readonly capabilities: DriverCapabilities;
  attach(listener: DriverListener): void;
  /** Open the connection/session. Rejects when the endpoint cannot be reached. */
  connect(): Promise<void>;
  /** Close everything this driver owns (sockets, timers). Never rejects. Bounded in time on a dead link. */
  disconnect(): Promise<void>;
  /** A cheap round trip proving the server answers (OPC UA: CurrentTime + ServiceLevel; Modbus: a configured register). */
  ping(timeoutMs: number): Promise<PingResult>;
  /**
   * Adds items (only these: the set is changed incrementally, other items keep running without a
   * gap). `queueSize` applies to state 'sampling' (enough for the longest outage to bridge).
   */
  addItems(items: ItemSpec[], state: MonitoringState, queueSize?: number): Promise<ItemsResult>;
  /** Removes items (only these). */
  removeItems(ids: string[]): Promise<void>;
  /** Changes the monitoring state of every item on this connection. */
  setMonitoring(state: MonitoringState, queueSize?: number): Promise<void>;
  /** One-shot read of current values. */
  read(items: string[]): Promise<DataChange[]>;
  /** Writes one value; resolves when the device confirmed it; rejects with a DriverError carrying the status. */
  write(item: string, value: unknown): Promise<void>;
  /** Data type, array shape and access of items (the gateway's address space, the editor). */
  describe(items: string[]): Promise<ItemDescription[]>;
  /** Children of a node (capabilities.browse). Bounded by `max` entries. */
  browse?(nodeId: string | undefined, max: number): Promise<BrowseEntry[]>;
}

/** What the engine gives a driver factory besides the endpoint. */
export interface DriverContext {
  clock: Clock;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Names this client on the server (sessions, logs): "<pair> <channel>". */
  sessionName: string;
  /** Protocol options parsed by the factory's parseOptions (security, credentials, Modbus tuning...). */
  options: unknown;
  /** A folder the driver may keep files in (the Node-RED user dir): certificate stores. */
  dataDir?: string;
}

/** One per protocol, registered in lib/drivers/registry.ts. Everything a node needs to know of a protocol. */
export interface DriverFactory<Options = unknown> {
  /** Key stored in the pair's config: 'opcua', 'modbus'. */
  readonly protocol: string;
  /** For the editor: 'OPC UA', 'Modbus'. */
  readonly label: string;
  readonly capabilities: DriverCapabilities;
  /** undefined when valid, else a message that says what is wrong and what is expected. */
  validateEndpoint(endpoint: string): string | undefined;
  validateItem(id: string): string | undefined;
  /**
   * Items that are valid but probably not meant (Modbus: HR40001 taken for the Modicon reference,
   * two items reading the same registers differently): one sentence each, for the dialog and the
   * node status. `endpoints` are the pair's, in channel order (defaults such as a unit id).
   */
  itemWarnings?(ids: string[], endpoints: string[]): string[];
  /**
   * A message shape of another package's nodes that a source can give instead of its own, so users
   * can swap one for the other (Modbus: node-red-contrib-modbus's read node). `fields(endpoint)`,
   * made once per channel of a pair, gives the fields merged into the message of one change from it.
   */
  compatOutput?: { key: string; label: string; fields(endpoint: string | undefined): (change: DataChange) => Record<string, unknown> };
  /**
   * The protocol's own settings from a redundant-pair config node (its properties and credentials):
   * the options to create drivers with, or every problem found (one message each).
   */
  parseOptions(props: Record<string, unknown>, credentials: Record<string, string | undefined>): { options: Options; problems: string[] };
  create(endpoint: string, context: DriverContext & { options: Options }): ChannelDriver;
}
