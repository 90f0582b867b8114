// Example 3: OPC UA pair, hot mode.
import { modeExample } from './lib.mjs';

export const file = '03 - OPC UA pair, hot mode';
export const flow = () => modeExample(3, 'hot', 4854, 4855,
  'Hot mode: both servers are subscribed and reporting; the active one\'s changes are forwarded. At failover the secondary\'s changes newer than the last delivered one are replayed, so no counter value is lost. "stall primary" makes the primary silent without closing its socket: the pair notices it from the two data streams within a few sampling intervals.');
