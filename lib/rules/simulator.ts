// The simulator node's settings, and the one conflict the runtime would only report as "address
// in use": two simulators on one port. Pure.
import { checkInteger, toNumber } from './numbers';

export const SIMULATOR_RULES: Record<string, (v: unknown) => string | undefined> = {
  port: (v) => checkInteger(v, 'the port', 1, 65535),
  counterPeriod: (v) => checkInteger(v, 'the counter period', 10, 3_600_000, 'ms'),
  serviceLevel: (v) => checkInteger(v, 'the ServiceLevel', 0, 255),
  bulkItems: (v) => checkInteger(v, 'the number of bulk items', 0, 100_000),
};

export interface SimulatorRef {
  id: string;
  name?: string;
  port: unknown;
  disabled?: boolean;
}

/** The other simulator on the same port, as a message, or undefined. */
export function checkPortConflict(self: SimulatorRef, others: readonly SimulatorRef[]): string | undefined {
  const port = toNumber(self.port);
  if (!Number.isInteger(port)) return undefined;
  const clash = others.find((o) => o.id !== self.id && !o.disabled && toNumber(o.port) === port);
  if (!clash) return undefined;
  return `port ${port} is also used by the simulator ${clash.name ? `"${clash.name}"` : clash.id}: each simulator needs a port of its own`;
}
