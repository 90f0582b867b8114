// The built-in protocols, registered once: import this module (not a protocol file) from nodes.
import { opcuaFactory } from './opcua';
import { registerDriver } from './registry';

registerDriver(opcuaFactory);

export { driverFactory, hasDriver, registerDriver, registeredDrivers } from './registry';
import { modbusDriverFactory } from './modbus';
import { registerDriver } from './registry';

registerDriver(modbusDriverFactory);
