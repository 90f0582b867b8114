// The built-in protocols, registered once: import this module (not a protocol file) from nodes.
export { driverFactory, hasDriver, registerDriver, registeredDrivers } from './registry';
import { modbusDriverFactory } from './modbus';
import { registerDriver } from './registry';

registerDriver(modbusDriverFactory);
