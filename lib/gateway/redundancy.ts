// Two (or more) gateways as one redundant server set (OPC 10000-4 §6.6.2, non-transparent): each
// announces Server.ServerRedundancy as NonTransparentRedundancyType with RedundancySupport Warm or
// Hot and a ServerUriArray naming every server of the set, and answers FindServers with the others
// too, so a Part 4 client that follows ServiceLevel can find and move to another gateway.
// node-opcua creates ServerRedundancy as ServerRedundancyType and leaves ServerUriArray (i=11314)
// without its parent reference: both are put right here.
import {
  ApplicationDescription,
  ApplicationType,
  DataType,
  type OPCUAServer,
  type UAObject,
  type UAVariable,
  Variant,
  VariantArrayType,
} from 'node-opcua';

export type RedundancySupportName = 'None' | 'Cold' | 'Warm' | 'Hot';
const SUPPORT: Record<RedundancySupportName, number> = { None: 0, Cold: 1, Warm: 2, Hot: 3 };

export interface RedundancyPeer {
  applicationUri: string;
  /** Endpoint URL clients reach the peer by (FindServers answers it as a discovery URL). */
  endpointUrl: string;
  applicationName?: string;
}

export interface RedundancyOptions {
  support: RedundancySupportName;
  peers: RedundancyPeer[];
}

const SERVER_REDUNDANCY = 'i=2296';
const REDUNDANCY_SUPPORT = 'i=3709';
const SERVER_URI_ARRAY = 'i=11314';
const NON_TRANSPARENT_REDUNDANCY_TYPE = 'i=2039';
const SERVER_REDUNDANCY_TYPE = 'i=2034';

export function validatePeers(peers: RedundancyPeer[], ownUri: string): string[] {
  const problems: string[] = [];
  for (const p of peers) {
    if (!p.applicationUri) problems.push('a peer gateway needs its application URI');
    else if (p.applicationUri === ownUri) problems.push(`the peer's application URI ${p.applicationUri} is this gateway's own (give each gateway its own application name)`);
    if (!/^opc\.tcp:\/\/[^\s/:]+(:\d+)?(\/\S*)?$/.test(p.endpointUrl)) problems.push(`peer endpoint "${p.endpointUrl}" is not an opc.tcp:// URL`);
  }
  return problems;
}

/** Sets up ServerRedundancy on an initialized server (before start). */
export function announceRedundancy(server: OPCUAServer, options: RedundancyOptions): void {
  const addressSpace = server.engine.addressSpace;
  if (!addressSpace) throw new Error('no address space');
  const redundancy = addressSpace.findNode(SERVER_REDUNDANCY) as UAObject | null;
  const support = addressSpace.findNode(REDUNDANCY_SUPPORT) as UAVariable | null;
  const uris = addressSpace.findNode(SERVER_URI_ARRAY) as UAVariable | null;
  if (!redundancy || !support || !uris) throw new Error('the server has no ServerRedundancy object');
  support.setValueFromSource(new Variant({ dataType: DataType.Int32, value: SUPPORT[options.support] }));
  if (options.support === 'None') return;
  const own = server.serverInfo.applicationUri ?? '';
  const all = [own, ...options.peers.map((p) => p.applicationUri)];
  uris.setValueFromSource(new Variant({ dataType: DataType.String, arrayType: VariantArrayType.Array, value: all }));
  const refs = redundancy.allReferences();
  if (!refs.some((r) => r.isForward && r.nodeId.toString() === uris.nodeId.toString())) {
    redundancy.addReference({ referenceType: 'HasProperty', nodeId: uris.nodeId });
  }
  const typeRef = refs.find((r) => r.isForward && r.nodeId.toString() === addressSpace.resolveNodeId(SERVER_REDUNDANCY_TYPE).toString());
  if (typeRef) {
    redundancy.removeReference({ referenceType: typeRef.referenceType, isForward: true, nodeId: typeRef.nodeId });
    redundancy.addReference({ referenceType: 'HasTypeDefinition', nodeId: NON_TRANSPARENT_REDUNDANCY_TYPE });
    // The cached type definition follows the reference.
    const cache = (redundancy as unknown as { _cache?: Record<string, unknown> })._cache;
    if (cache) delete cache.typeDefinitionObj;
    if (cache) delete cache.typeDefinition;
  }
  // FindServers answers the peers too, with the URLs configured for them: node-opcua adapts discovery
  // URLs to the host a client asked for, which would turn a peer on another host into this one.
  const base = server as unknown as { getServers(channel: unknown): ApplicationDescription[]; _on_FindServersRequest(message: unknown, channel: unknown): void };
  const ownServers = base.getServers.bind(server);
  base.getServers = (channel: unknown) => [
    ...ownServers(channel),
    ...options.peers.map(
      (p) =>
        new ApplicationDescription({
          applicationUri: p.applicationUri,
          applicationName: { text: p.applicationName ?? p.applicationUri },
          applicationType: ApplicationType.Server,
          productUri: server.serverInfo.productUri,
          discoveryUrls: [p.endpointUrl],
        }),
    ),
  ];
  const byUri = new Map(options.peers.map((p) => [p.applicationUri, p.endpointUrl]));
  const findServers = base._on_FindServersRequest.bind(server);
  base._on_FindServersRequest = (message: unknown, channel: unknown) => {
    const target = channel as { send_response(...args: unknown[]): unknown };
    const proxy = Object.create(target) as typeof target;
    proxy.send_response = (type: unknown, response: { servers?: ApplicationDescription[] }, ...rest: unknown[]) => {
      for (const s of response.servers ?? []) {
        const url = byUri.get(s.applicationUri ?? '');
        if (url) s.discoveryUrls = [url];
      }
      return target.send_response(type, response, ...rest);
    };
    findServers(message, proxy);
  };
}
