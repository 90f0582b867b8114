// The gateway's ServiceLevel (OPC 10000-4 §6.6.2.4.2), from the state of the pairs it exposes:
//   0        maintenance (set by the operator)
//   1        NoData: no exposed pair has a serving channel (or nothing is exposed yet)
//   2..199   Degraded: a pair runs on a standby channel, a failover condition or a degraded
//            ServiceLevel holds on its serving channel, or some (not all) pairs have no data;
//            the more of the gateway's data is served from preferred channels, the higher
//   200..255 Healthy: every pair is served by its preferred channel, nothing degraded
// Two gateways of one redundant server set are ranked: rank 1 (the preferred gateway) announces
// 255 when healthy, rank 2 250, and so on, so a Part 4 client picks the preferred one while both
// are healthy and the healthier one otherwise.
// Pure: no node-opcua, no Node-RED.
import type { PairHealth } from './pair-source';

export const MAINTENANCE = 0;
export const NO_DATA = 1;
/** Healthy level of rank 1; each further rank is RANK_STEP lower. */
export const HEALTHY_TOP = 255;
export const RANK_STEP = 5;
/** Worth of a pair served by a standby or degraded channel, against 1 for a healthy one. */
const DEGRADED_WORTH = 0.6;

export interface ServiceLevelInput {
  pairs: PairHealth[];
  maintenance: boolean;
  /** Position in the redundant server set, 1 = preferred gateway (1 when there is no set). */
  rank: number;
}

export function gatewayServiceLevel({ pairs, maintenance, rank }: ServiceLevelInput): number {
  if (maintenance) return MAINTENANCE;
  const serving = pairs.filter((p) => p.serving);
  if (serving.length === 0) return NO_DATA;
  const offset = (Math.max(1, Math.floor(rank)) - 1) * RANK_STEP;
  const healthy = serving.filter((p) => p.preferred && !p.degraded).length;
  if (healthy === pairs.length) return Math.max(200, HEALTHY_TOP - offset);
  // Degraded: 2..199 by how much of the data is served well.
  const worth = (healthy + DEGRADED_WORTH * (serving.length - healthy)) / pairs.length;
  return Math.min(199, Math.max(2, 2 + Math.round(190 * worth) - offset));
}

export type ServiceLevelClass = 'maintenance' | 'no data' | 'degraded' | 'healthy';

export function serviceLevelClass(level: number): ServiceLevelClass {
  if (level === 0) return 'maintenance';
  if (level === 1) return 'no data';
  return level < 200 ? 'degraded' : 'healthy';
}
