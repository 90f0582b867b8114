// What the editor and the runtime check per protocol, without the protocol's library: the syntax
// of an endpoint and of an item. A protocol joins with one entry here (its module must be pure too:
// no Node builtins, no packages, so the editor bundle can carry it).
import { checkNodeId, checkOpcuaEndpoint } from './opcua';

export interface ProtocolRules {
  /** For the editor: 'OPC UA'. */
  label: string;
  checkEndpoint(endpoint: unknown): string | undefined;
  checkItem(item: unknown): string | undefined;
  /** A server whose address space can be browsed for items. */
  browse: boolean;
  /** Placeholder for an endpoint field. */
  endpointExample: string;
  itemExample: string;
}

export const PROTOCOLS: Record<string, ProtocolRules> = {
  opcua: { label: 'OPC UA', checkEndpoint: checkOpcuaEndpoint, checkItem: checkNodeId, browse: true, endpointExample: 'opc.tcp://host:4840/path', itemExample: 'ns=1;s=Tag' },
};

/** The rules of a protocol, or a message naming the known ones. */
export function protocolRules(protocol: unknown): ProtocolRules | string {
  const key = protocol === undefined || protocol === '' ? 'opcua' : String(protocol);
  return PROTOCOLS[key] ?? `protocol "${key}" is not supported (${Object.keys(PROTOCOLS).join(', ')})`;
}
