// The gateway's one view of a redundant pair. Everything the gateway uses of the engine goes
// through this adapter, so the engine's rewrite (N ordered channels) touches this file only.
// Pure: no node-opcua, no Node-RED.
import type { BrowseEntry, ItemDescription } from '../core/driver';
import { statusOfError } from '../core/error-status';
import type { RedundantPair } from '../core/pair';
import type { DeliveredChange, ItemSpec, PairStatus } from '../core/types';

/** What the gateway needs to know of a pair's state (ServiceLevel, bad status while nothing serves). */
export interface PairHealth {
  /** A channel serves the pair's data. */
  serving: boolean;
  /** The preferred channel (channel 0, "primary") serves. */
  preferred: boolean;
  /** The serving channel is degraded: a failover condition holds on it, its ServiceLevel is degraded, its stream lags. */
  degraded: boolean;
  /** Name of the serving channel, null when none serves. */
  active: string | null;
  /** One line for a node status or a log. */
  text: string;
}

/** A value as the gateway publishes it: upstream value, status code name and timestamps. */
export interface SourceChange {
  item: string;
  value: unknown;
  statusCode: string;
  sourceTimestamp?: number;
  serverTimestamp?: number;
}

export interface GatewaySource {
  /** The pair's name (its alias): the folder the gateway exposes it under. */
  readonly name: string;
  health(): PairHealth;
  /** Changes delivered by the pair (the serving channel's). Returns the unsubscribe function. */
  onData(listener: (changes: SourceChange[]) => void): () => void;
  onHealth(listener: (health: PairHealth) => void): () => void;
  /** Upstream monitored items of one owner (several owners share one monitored item per id). */
  setItems(owner: string, items: ItemSpec[]): void;
  removeItems(owner: string): void;
  /** Several owners at once (one change of the pair's item list); optional. */
  updateItems?(set: Array<[string, ItemSpec[]]>, remove: string[]): void;
  /** Writes to the serving channel; rejects with a WriteRefused carrying the OPC UA status code name. */
  write(item: string, value: unknown): Promise<void>;
  /** One-shot read from the serving channel. */
  read(items: string[]): Promise<SourceChange[]>;
  describe(items: string[]): Promise<ItemDescription[]>;
  browse(nodeId: string | undefined, max: number): Promise<BrowseEntry[]>;
  /** The exposure is gone: whatever the adapter holds on the pair is released. */
  close?(): void;
}

/** A refused write, with the status code the client gets (BadNoCommunication, BadTypeMismatch...). */
export class WriteRefused extends Error {
  constructor(
    message: string,
    readonly statusCode: string,
  ) {
    super(message);
    this.name = 'WriteRefused';
  }
}

/** The health of a pair from its status (channel 0 is named 'primary'). */
export function healthOf(status: PairStatus): PairHealth {
  const active = status.active;
  if (!active) {
    const reasons = Object.entries(status.servers).map(([name, s]) => `${name} ${s.state}`).join(', ');
    return { serving: false, preferred: false, degraded: false, active: null, text: `no channel serves (${reasons})` };
  }
  const server = status.servers[active];
  const preferred = active === 'primary';
  const degraded = server.state === 'degraded' || server.conditions.length > 0;
  const why = degraded ? `: ${server.reason}` : '';
  return { serving: true, preferred, degraded, active, text: `${active}${why}` };
}

/**
 * The adapter over the engine's RedundantPair. The engine activates a pair with no items (its
 * channels are usable once connected and answering), so an exposed pair with no client yet shows
 * its real state; items come and go with the clients' monitored items (see concentrator.ts).
 */
export function pairSource(pair: RedundantPair): GatewaySource {
  return {
    close: () => undefined,
    name: pair.name,
    health: () => healthOf(pair.status()),
    onData(listener) {
      const fn = (changes: DeliveredChange[]) => listener(changes);
      pair.on('data', fn);
      return () => pair.off('data', fn);
    },
    onHealth(listener) {
      const fn = (status: PairStatus) => listener(healthOf(status));
      pair.on('status', fn);
      return () => pair.off('status', fn);
    },
    setItems: (owner, items) => pair.setItems(owner, items),
    removeItems: (owner) => pair.removeItems(owner),
    updateItems: (set, remove) => pair.updateItems(set, remove),
    async write(item, value) {
      try {
        await pair.write(item, value);
      } catch (err) {
        throw new WriteRefused(err instanceof Error ? err.message : String(err), statusOfError(err));
      }
    },
    read: (items) => pair.read(items),
    describe: (items) => pair.describe(items),
    browse: (nodeId, max) => pair.browse(nodeId, max),
  };
}
