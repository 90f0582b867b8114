// Example 1: OPC UA pair, cold mode.
import { modeExample } from './lib.mjs';

export const file = '01 - OPC UA pair, cold mode';
export const flow = () => modeExample(1, 'cold', 4850, 4851,
  'Cold mode: only the active server is connected. When the primary fails, the secondary is connected, the items are created there and the data resumes; the two are tried in turn until one answers. Least load, slowest switch: watch the gap in the debug sidebar after "crash primary". With "restore primary", the pair probes the primary and returns to it after the 10 s hold-off.');
