// The request concentrator (Citect's IO proxy): any number of client monitored items on one
// gateway node cost one upstream monitored item. Upstream monitoring of a node starts with its
// first client monitored item and stops with its last; the upstream sampling interval is the
// fastest any client asked for (each client's own interval, queue and deadband are applied by the
// gateway's server, locally). Changes of one turn are applied together, one owner per node, so
// adding or removing one node's item never touches another's.
// Pure: no node-opcua, no Node-RED.
import type { ItemSpec } from '../core/types';

export interface UpstreamItems {
  setItems(owner: string, items: ItemSpec[]): void;
  removeItems(owner: string): void;
  /** Several owners at once (one turn's changes in one call); used when present. */
  updateItems?(set: Array<[string, ItemSpec[]]>, remove: string[]): void;
}

export interface Lease {
  readonly item: string;
  readonly id: number;
}

interface Node {
  leases: Map<number, number>;
  /** Sampling interval of the upstream item, undefined when none exists. */
  applied?: number;
  /** Since when the upstream item exists (ms), for "is the cached value live". */
  since?: number;
}

export class Concentrator {
  private nodes = new Map<string, Node>();
  private dirty = new Set<string>();
  private seq = 0;
  private scheduled = false;
  private closed = false;
  private frozen = false;

  constructor(
    private readonly upstream: UpstreamItems,
    /** Unique per gateway and pair: owners are `<prefix>:<item>`. */
    private readonly ownerPrefix: string,
    private readonly schedule: (fn: () => void) => void = (fn) => setImmediate(fn),
    private readonly now: () => number = Date.now,
  ) {}

  /** A client monitored item on `item`, sampling every `samplingMs` (0 = every change). */
  acquire(item: string, samplingMs: number): Lease {
    const lease = { item, id: ++this.seq };
    let node = this.nodes.get(item);
    if (!node) {
      node = { leases: new Map() };
      this.nodes.set(item, node);
    }
    node.leases.set(lease.id, Math.max(0, Number.isFinite(samplingMs) ? samplingMs : 0));
    this.touch(item);
    return lease;
  }

  /** The client's sampling interval changed (ModifyMonitoredItems). */
  modify(lease: Lease, samplingMs: number): void {
    const node = this.nodes.get(lease.item);
    if (!node?.leases.has(lease.id)) return;
    node.leases.set(lease.id, Math.max(0, samplingMs));
    this.touch(lease.item);
  }

  release(lease: Lease): void {
    const node = this.nodes.get(lease.item);
    if (!node?.leases.delete(lease.id)) return;
    this.touch(lease.item);
  }

  /** Every lease of an item is dropped (the node was removed from the address space). */
  releaseItem(item: string): void {
    const node = this.nodes.get(item);
    if (!node) return;
    node.leases.clear();
    this.touch(item);
  }

  /** Client monitored items on an item. */
  clients(item: string): number {
    return this.nodes.get(item)?.leases.size ?? 0;
  }

  /** The item has an upstream monitored item (requested; its data may still be on its way). */
  isMonitored(item: string): boolean {
    return this.nodes.get(item)?.applied !== undefined;
  }

  /** When the upstream item was requested, undefined when there is none. */
  monitoredSince(item: string): number | undefined {
    return this.nodes.get(item)?.since;
  }

  /** Upstream monitored items requested (one per node with clients). */
  upstreamCount(): number {
    let n = 0;
    for (const node of this.nodes.values()) if (node.applied !== undefined) n++;
    return n;
  }

  /** Client monitored items in total. */
  clientCount(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += node.leases.size;
    return n;
  }

  /** Applies pending changes now (tests, shutdown): one upstream call for the turn when the upstream takes several. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || this.frozen) return;
    const items = [...this.dirty];
    this.dirty.clear();
    const ops: Array<[string, ItemSpec[] | null]> = [];
    for (const item of items) {
      const node = this.nodes.get(item);
      if (!node) continue;
      if (node.leases.size === 0) {
        if (node.applied !== undefined) ops.push([this.owner(item), null]);
        this.nodes.delete(item);
        continue;
      }
      let sampling = Infinity;
      for (const ms of node.leases.values()) sampling = Math.min(sampling, ms);
      if (node.applied === sampling) continue;
      if (node.applied === undefined) node.since = this.now();
      node.applied = sampling;
      ops.push([this.owner(item), [{ id: item, samplingIntervalMs: sampling }]]);
    }
    this.apply(ops);
  }

  /** No more upstream changes until close(): the exposure is going, its clients' leases with it. */
  freeze(): void {
    this.frozen = true;
  }

  /** Removes every upstream item of this concentrator (gateway closed or pair no longer exposed). */
  close(): void {
    if (this.closed) return;
    const ops: Array<[string, null]> = [];
    for (const [item, node] of this.nodes) if (node.applied !== undefined) ops.push([this.owner(item), null]);
    this.apply(ops);
    this.nodes.clear();
    this.dirty.clear();
    this.closed = true;
  }

  /** Owners' new items (null: removed), in order; in one call when the upstream takes several. */
  private apply(ops: Array<[string, ItemSpec[] | null]>): void {
    if (ops.length === 0) return;
    if (this.upstream.updateItems) {
      const set: Array<[string, ItemSpec[]]> = [];
      const remove: string[] = [];
      for (const [owner, items] of ops) {
        if (items) set.push([owner, items]);
        else remove.push(owner);
      }
      this.upstream.updateItems(set, remove);
      return;
    }
    for (const [owner, items] of ops) {
      if (items) this.upstream.setItems(owner, items);
      else this.upstream.removeItems(owner);
    }
  }

  private owner(item: string): string {
    return `${this.ownerPrefix}:${item}`;
  }

  private touch(item: string): void {
    if (this.closed || this.frozen) return;
    this.dirty.add(item);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }
}
