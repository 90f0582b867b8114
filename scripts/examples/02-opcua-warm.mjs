// Example 2: OPC UA pair, warm mode.
import { modeExample } from './lib.mjs';

export const file = '02 - OPC UA pair, warm mode';
export const flow = () => modeExample(2, 'warm', 4852, 4853,
  'Warm mode: both servers are connected; the items exist on both but report on the active one only. At failover they are switched on at the secondary (one request per 1 000 items), so the switch is fast. msg.server tells which server each value came from.');
