// The peer link as the two-instance services see it (duty, standby write, alarm-sync,
// trend-backfill): one link per pair of Node-RED instances, services multiplexed over it by name.
// The implementation (transport, authentication, heartbeat, witness) lives beside this file; the
// services depend on this contract only.

export type PeerLinkState = 'connecting' | 'up' | 'down' | 'refused';

export interface PeerLinkStatus {
  state: PeerLinkState;
  /** Why, in words an operator understands ("heartbeat lost 3 s ago", "wrong shared secret"). */
  reason: string;
  /** ms since epoch when the state was entered. */
  since: number;
  /** The other instance's stable id, once it has answered. */
  peerInstanceId?: string;
  /**
   * The peer's current run (a new id at each of its starts). A change while the link stays up (the
   * peer restarted faster than the heartbeat timeout) comes as a `state` event with state `up`, like
   * a link coming back: services catch up again.
   */
  peerBootId?: string;
}

/** Who holds the duty of a link (Citect's report server hot standby; only one instance at a time). */
export interface DutyStatus {
  /** This instance holds the duty now. */
  holder: boolean;
  /** Monotonic claim counter: actions carry it, so a stale holder's late output can be recognised. */
  epoch: number;
  reason: string;
  /** The MQTT witness: none configured, reachable, or not. */
  witness: 'none' | 'up' | 'down';
  since: number;
}

/** Handles requests the peer's service of the same name sends. */
export type PeerHandler = (body: unknown) => Promise<unknown> | unknown;

export interface PeerRequestOptions {
  /** Default: 10 s, or the heartbeat timeout when longer. */
  timeoutMs?: number;
}

export interface PeerLinkEvents {
  state: [PeerLinkStatus];
  duty: [DutyStatus];
}

export interface PeerLinkApi {
  /** The link's name (the config node's name): used as the event source in diagnostics. */
  readonly name: string;
  /** This instance's stable id (kept in the Node-RED user dir). */
  readonly instanceId: string;
  status(): PeerLinkStatus;
  duty(): DutyStatus;
  /**
   * Registers a service under a name (e.g. "alarm-sync/line1"); returns the function that removes
   * it. Requests for a name nobody registered are refused with a clear error on the caller's side.
   */
  register(service: string, handler: PeerHandler): () => void;
  /**
   * Calls the peer's service. Rejects when the link is down, the peer has no such service, the
   * handler threw (its message), or on timeout.
   */
  request(service: string, body: unknown, options?: PeerRequestOptions): Promise<unknown>;
  on<K extends keyof PeerLinkEvents>(event: K, listener: (...args: PeerLinkEvents[K]) => void): this;
  off<K extends keyof PeerLinkEvents>(event: K, listener: (...args: PeerLinkEvents[K]) => void): this;
}
