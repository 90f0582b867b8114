// Every pair of the process, in one place: diagnostics and dashboards see pairs that are deployed
// after them, and the gateway will find pairs by alias. Pure: pairs register themselves.
import { EventEmitter } from 'node:events';
import type { RedundantPair } from './pair';
import type { PairStatus, RedundancyEvent } from './types';

export interface HubEvents {
  event: [RedundancyEvent];
  status: [PairStatus];
  registered: [string];
  unregistered: [string];
}

export class PairHub extends EventEmitter<HubEvents> {
  private pairs = new Map<string, RedundantPair>();
  private unhook = new Map<string, () => void>();

  register(key: string, pair: RedundantPair): void {
    this.unregister(key);
    const onEvent = (e: RedundancyEvent) => this.emit('event', e);
    const onStatus = (s: PairStatus) => this.emit('status', s);
    pair.on('event', onEvent);
    pair.on('status', onStatus);
    this.pairs.set(key, pair);
    this.unhook.set(key, () => {
      pair.off('event', onEvent);
      pair.off('status', onStatus);
    });
    this.emit('registered', pair.name);
  }

  unregister(key: string): void {
    const pair = this.pairs.get(key);
    if (!pair) return;
    this.unhook.get(key)?.();
    this.unhook.delete(key);
    this.pairs.delete(key);
    this.emit('unregistered', pair.name);
  }

  /**
   * Events of sources that are not pairs (a peer link, a channel selector, an alarm or trend pair):
   * every diagnostics node receives them like a pair's. `event.pair` names the source.
   */
  publish(event: RedundancyEvent): void {
    this.emit('event', event);
  }

  /** Pairs by name (alias); several config nodes may share a name, all are returned. */
  list(): RedundantPair[] {
    return [...this.pairs.values()];
  }

  byName(name: string): RedundantPair | undefined {
    return this.list().find((p) => p.name === name);
  }

  statuses(names?: string[]): PairStatus[] {
    return this.list()
      .filter((p) => !names || names.length === 0 || names.includes(p.name))
      .map((p) => p.status());
  }
}

/** The process-wide hub. Node-RED loads every node file into one process. */
export const pairHub = new PairHub();
pairHub.setMaxListeners(0);
