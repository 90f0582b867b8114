// The peer-link config node's contract with the two-instance services (alarm-sync, trend-backfill,
// duty, standby write): it exposes `link` (lib/peer/api.ts) once usable, or `configError`.
import type { PeerLinkApi } from '../../lib/peer/api';
import type { RedAPI } from './node-red';
import type { PeerLinkNode } from './peer-config';

/** How long a service waits for its peer-link config node to provide the link. */
export const LINK_WAIT_MS = 10_000;

/**
 * Resolves the peer-link config node named by a service node's `link` property. The link may come
 * a moment after the service node is constructed: polls briefly, then rejects with the reason.
 */
export function resolvePeerLink(RED: RedAPI, id: unknown, waitMs = LINK_WAIT_MS): { promise: Promise<PeerLinkApi>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const promise = new Promise<PeerLinkApi>((resolve, reject) => {
    if (!id || typeof id !== 'string') return reject(new Error('no peer link selected: add a peer-link configuration node (the other Node-RED instance)'));
    const started = Date.now();
    const attempt = () => {
      if (cancelled) return reject(new Error('closed'));
      const cfg = RED.nodes.getNode(id) as PeerLinkNode | null;
      if (!cfg) return reject(new Error('the selected peer link is not deployed (is its node-red-contrib-redundancy version the same?)'));
      if (cfg.configError) return reject(new Error(`peer link: ${cfg.configError}`));
      if (cfg.link) return resolve(cfg.link);
      if (Date.now() - started > waitMs) return reject(new Error(`peer link ${cfg.name || id} did not start within ${Math.round(waitMs / 1000)} s`));
      timer = setTimeout(attempt, 100);
    };
    attempt();
  });
  return {
    promise,
    cancel() {
      cancelled = true;
      if (timer) clearTimeout(timer);
    },
  };
}
