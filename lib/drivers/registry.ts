// The protocols the package speaks, by key ('opcua', 'modbus'): nodes create and validate drivers
// through this registry and never import a protocol file themselves. lib/drivers/index.ts
// registers the built-in ones.
import type { DriverFactory } from '../core/driver';

const factories = new Map<string, DriverFactory>();

export function registerDriver(factory: DriverFactory): void {
  factories.set(factory.protocol, factory);
}

/** The factory of a protocol; throws a message naming the known ones. */
export function driverFactory(protocol: string): DriverFactory {
  const f = factories.get(protocol);
  if (!f) throw new Error(`unknown protocol "${protocol}" (known: ${[...factories.keys()].join(', ') || 'none'})`);
  return f;
}

export function hasDriver(protocol: string): boolean {
  return factories.has(protocol);
}

export function registeredDrivers(): DriverFactory[] {
  return [...factories.values()];
}
