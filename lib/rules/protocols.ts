// What the editor and the runtime check per protocol, without the protocol's library: the syntax
// of an endpoint and of an item. A protocol joins with one entry here (its module must be pure too:
// no Node builtins, no packages, so the editor bundle can carry it).
import * as modbus from './modbus';
import { checkNodeId, checkOpcuaEndpoint, endpointKey as opcuaEndpointKey } from './opcua';

export interface ProtocolRules {
  /** For the editor: 'OPC UA'. */
  label: string;
  checkEndpoint(endpoint: unknown): string | undefined;
  /** What two endpoints are compared by (two channels on one endpoint are refused); a valid endpoint. */
  endpointKey(endpoint: string): string;
  checkItem(item: unknown): string | undefined;
  /** A server whose address space can be browsed for items. */
  browse: boolean;
  /** Placeholder for an endpoint field. */
  endpointExample: string;
  itemExample: string;
  /**
   * Warm mode's standby sampling is possible (OPC UA: monitored items in Sampling mode). False for a
   * polling driver: a standby that is not polled has no samples to replay.
   */
  standbySampling?: boolean;
}

export const PROTOCOLS: Record<string, ProtocolRules> = {
  opcua: { label: 'OPC UA', checkEndpoint: checkOpcuaEndpoint, endpointKey: opcuaEndpointKey, checkItem: checkNodeId, browse: true, endpointExample: 'opc.tcp://host:4840/path', itemExample: 'ns=1;s=Tag' },
  // The Modbus engineer's pure syntax module (lib/rules/modbus.ts) joins with this one entry.
  modbus: { label: 'Modbus', checkEndpoint: (v) => modbus.validateEndpoint(String(v ?? '')), endpointKey: modbus.endpointKey, checkItem: (v) => modbus.validateItem(String(v ?? '')), browse: false, endpointExample: 'modbus-tcp://host:502?unit=1', itemExample: 'HR0:float32', standbySampling: false },
};

/**
 * The rules of a protocol; undefined for a protocol these rules do not know (its driver factory
 * judges it at deploy; whether the runtime has the protocol at all is the driver registry's call).
 */
export function protocolRules(protocol: unknown): ProtocolRules | undefined {
  const key = protocol === undefined || protocol === '' ? 'opcua' : String(protocol);
  return PROTOCOLS[key];
}
