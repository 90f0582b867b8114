// Hybrid logical clock (Kulkarni et al., 2014): timestamps that order events across two Node-RED
// instances whose wall clocks disagree by seconds. Each stamp is (wall ms, counter, node id):
// - it never goes backwards on one instance, whatever its wall clock does;
// - a stamp made after receiving a peer's stamp is greater than that stamp (causality), so "the
//   newest write wins" means the write made with knowledge of the other, not the one from the
//   instance whose clock runs ahead;
// - ties between concurrent writes are broken by the node id, identically on both sides.
// Pure: the wall clock comes in through `Clock`.
import type { Clock } from './clock';

export interface HlcStamp {
  /** Wall-clock part, ms since epoch (the largest wall time this instance has seen). */
  wall: number;
  /** Logical counter within one wall ms. */
  counter: number;
  /** The instance that made the stamp: breaks ties, the same way on every instance. */
  node: string;
}

/** Stamps from a peer more than this far ahead of the local wall clock are refused (a broken clock). */
export const DEFAULT_MAX_DRIFT_MS = 24 * 3600 * 1000;

export function compareHlc(a: HlcStamp, b: HlcStamp): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** A string that sorts like the stamp (fixed-width fields), for stores and wire formats. */
export function formatHlc(s: HlcStamp): string {
  return `${String(s.wall).padStart(15, '0')}.${String(s.counter).padStart(6, '0')}.${s.node}`;
}

export function parseHlc(text: string): HlcStamp {
  const m = /^(\d{1,15})\.(\d{1,6})\.(.+)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a hybrid logical clock stamp (wall.counter.node)`);
  return { wall: Number(m[1]), counter: Number(m[2]), node: m[3] };
}

export class HybridClock {
  private wall = 0;
  private counter = 0;

  constructor(
    readonly node: string,
    private readonly clock: Clock,
    private readonly maxDriftMs = DEFAULT_MAX_DRIFT_MS,
  ) {
    if (!node) throw new Error('a hybrid logical clock needs a node id');
  }

  /** A stamp for a local event (a write made here). */
  now(): HlcStamp {
    const pt = this.clock.now();
    if (pt > this.wall) {
      this.wall = pt;
      this.counter = 0;
    } else {
      this.counter++;
    }
    return { wall: this.wall, counter: this.counter, node: this.node };
  }

  /**
   * Takes in a stamp received from the peer (a replicated write): later local stamps are greater.
   * Throws when the stamp is absurdly far ahead of the local clock (the peer's clock is broken):
   * accepting it would drag every later stamp along.
   */
  receive(remote: HlcStamp): HlcStamp {
    const pt = this.clock.now();
    if (remote.wall - pt > this.maxDriftMs) {
      throw new Error(`a stamp from ${remote.node} is ${Math.round((remote.wall - pt) / 1000)} s ahead of this clock (limit ${Math.round(this.maxDriftMs / 1000)} s): its clock is wrong`);
    }
    const wall = Math.max(this.wall, remote.wall, pt);
    if (wall === this.wall && wall === remote.wall) this.counter = Math.max(this.counter, remote.counter) + 1;
    else if (wall === this.wall) this.counter++;
    else if (wall === remote.wall) this.counter = remote.counter + 1;
    else this.counter = 0;
    this.wall = wall;
    return { wall: this.wall, counter: this.counter, node: this.node };
  }

  /** Restores the clock after a restart from the greatest stamp this instance ever stored. */
  restore(last: HlcStamp | undefined): void {
    if (!last) return;
    if (last.wall > this.wall || (last.wall === this.wall && last.counter > this.counter)) {
      this.wall = last.wall;
      this.counter = last.counter;
    }
  }
}
