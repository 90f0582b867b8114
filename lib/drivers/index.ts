// The built-in protocols, registered once: import this module (not a protocol file) from nodes.
import { modbusDriverFactory } from './modbus';
import { opcuaFactory } from './opcua';
import { registerDriver } from './registry';

registerDriver(opcuaFactory);
registerDriver(modbusDriverFactory);

export { driverFactory, hasDriver, registerDriver, registeredDrivers } from './registry';
