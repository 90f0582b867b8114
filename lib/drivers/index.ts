// The built-in protocols, registered once: import this module (not a protocol file) from nodes.
export { driverFactory, hasDriver, registerDriver, registeredDrivers } from './registry';
