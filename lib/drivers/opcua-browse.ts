// Reading an OPC UA server's address space: the children of a node (the editor's lazy tree, the
// gateway's mirrored subtree), what a variable is (data type, array shape, access: the gateway's
// address space and the editor's item picker), and the endpoints a server offers (the pair
// dialog's "discover"). Every function works on an open session and bounds what it returns.
import {
  AccessLevelFlag,
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  DataType,
  type DataValue,
  type EndpointDescription,
  MessageSecurityMode,
  NodeClass,
  NodeClassMask,
  type NodeId,
  OPCUAClient,
  type ReferenceDescription,
  UserTokenType,
  coerceNodeId,
  findBasicDataType,
  makeResultMask,
  resolveNodeId,
} from 'node-opcua';
import { realClock, withTimeout } from '../core/clock';
import type { BrowseEntry, ItemDescription } from '../core/driver';
import { thumbprintOf } from './opcua-pki';

const OBJECTS_FOLDER = 'i=85';
const HIERARCHICAL = 'i=33';
/** Nodes per Read/Browse request: servers limit the size of one request. */
const CHUNK = 500;

/** The data type's built-in name; structures and enumerations map to their base (Int32, ExtensionObject). */
async function dataTypeName(session: ClientSession, dataTypeId: NodeId | null | undefined, cache: Map<string, string>): Promise<string> {
  if (!dataTypeId) return 'Variant';
  const key = dataTypeId.toString();
  const known = cache.get(key);
  if (known) return known;
  let name: string;
  if (dataTypeId.namespace === 0 && typeof dataTypeId.value === 'number' && dataTypeId.value <= 25 && DataType[dataTypeId.value] !== undefined) {
    name = DataType[dataTypeId.value];
  } else {
    try {
      name = DataType[await findBasicDataType(session, dataTypeId)] ?? 'Variant';
    } catch {
      name = 'Variant';
    }
  }
  if (name === 'Null') name = 'Variant';
  cache.set(key, name);
  return name;
}

function text(dv: DataValue | undefined): string | undefined {
  const v = dv?.value?.value as { text?: string | null; name?: string | null } | string | null | undefined;
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return v.text ?? v.name ?? undefined;
}

async function readChunked(session: ClientSession, nodes: Array<{ nodeId: string | NodeId; attributeId: number }>): Promise<DataValue[]> {
  const out: DataValue[] = [];
  for (let i = 0; i < nodes.length; i += CHUNK) out.push(...(await session.read(nodes.slice(i, i + CHUNK))));
  return out;
}

const ATTRS = [AttributeIds.DataType, AttributeIds.ValueRank, AttributeIds.ArrayDimensions, AttributeIds.UserAccessLevel, AttributeIds.DisplayName, AttributeIds.Description, AttributeIds.NodeClass];

/** What each item is. An item that is not a readable variable gets `error` and neutral defaults. */
export async function describeNodes(session: ClientSession, ids: string[]): Promise<ItemDescription[]> {
  const valid: Array<{ index: number; id: string }> = [];
  const out: ItemDescription[] = ids.map((id) => ({ id, dataType: 'Variant', valueRank: -1, readable: false, writable: false }));
  ids.forEach((id, index) => {
    try {
      coerceNodeId(id);
      valid.push({ index, id });
    } catch (err) {
      out[index].error = `not a node id (${err instanceof Error ? err.message : String(err)})`;
    }
  });
  const values = await readChunked(session, valid.flatMap(({ id }) => ATTRS.map((attributeId) => ({ nodeId: id, attributeId }))));
  const cache = new Map<string, string>();
  for (let k = 0; k < valid.length; k++) {
    const [dt, rank, dims, access, display, description, nodeClass] = values.slice(k * ATTRS.length, (k + 1) * ATTRS.length);
    const d = out[valid[k].index];
    if (!nodeClass.statusCode.isGood()) {
      d.error = nodeClass.statusCode.name;
      continue;
    }
    if (nodeClass.value.value !== NodeClass.Variable) {
      d.error = `not a variable (${NodeClass[nodeClass.value.value as number] ?? 'unknown node class'})`;
      continue;
    }
    d.dataType = await dataTypeName(session, dt.value?.value as NodeId | undefined, cache);
    d.valueRank = typeof rank.value?.value === 'number' ? (rank.value.value as number) : -1;
    const dimensions = dims.value?.value as ArrayLike<number> | null | undefined;
    if (dimensions && dimensions.length > 0) d.arrayDimensions = Array.from(dimensions);
    const level = typeof access.value?.value === 'number' ? (access.value.value as number) : AccessLevelFlag.CurrentRead;
    d.readable = (level & AccessLevelFlag.CurrentRead) !== 0;
    d.writable = (level & AccessLevelFlag.CurrentWrite) !== 0;
    d.displayName = text(display);
    d.description = text(description);
  }
  return out;
}

const SHOWN_CLASSES = NodeClassMask.Object | NodeClassMask.Variable | NodeClassMask.Method | NodeClassMask.View;

/**
 * Children of a node along hierarchical references (Objects folder when `nodeId` is empty), at most
 * `max`, variables with data type and access, each saying whether it has children of its own.
 */
export async function browseChildren(session: ClientSession, nodeId: string | undefined, max: number): Promise<BrowseEntry[]> {
  const start = nodeId && nodeId.trim() ? nodeId.trim() : OBJECTS_FOLDER;
  coerceNodeId(start);
  const result = await session.browse({
    nodeId: start,
    referenceTypeId: HIERARCHICAL,
    includeSubtypes: true,
    browseDirection: BrowseDirection.Forward,
    nodeClassMask: SHOWN_CLASSES,
    resultMask: makeResultMask('ReferenceType | IsForward | BrowseName | DisplayName | NodeClass | TypeDefinition'),
  });
  if (!result.statusCode.isGood()) throw new Error(`browse ${start}: ${result.statusCode.name}`);
  const refs: ReferenceDescription[] = (result.references ?? []).slice(0, Math.max(0, max));
  const ids = refs.map((r) => r.nodeId.toString());
  // Whether each child has children: one browse per chunk, one reference each is enough.
  const hasChildren: boolean[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const results = await session.browse(
      ids.slice(i, i + CHUNK).map((id) => ({ nodeId: id, referenceTypeId: HIERARCHICAL, includeSubtypes: true, browseDirection: BrowseDirection.Forward, nodeClassMask: SHOWN_CLASSES, resultMask: 0 })),
    );
    for (const r of results) hasChildren.push((r.references?.length ?? 0) > 0 || (r.continuationPoint?.length ?? 0) > 0);
  }
  const variables = refs.map((r, i) => ({ r, i })).filter(({ r }) => r.nodeClass === NodeClass.Variable);
  const described = variables.length ? await describeNodes(session, variables.map(({ i }) => ids[i])) : [];
  const byIndex = new Map(variables.map(({ i }, k) => [i, described[k]]));
  return refs.map((r, i) => {
    const d = byIndex.get(i);
    const entry: BrowseEntry = {
      id: ids[i],
      browseName: r.browseName.toString(),
      displayName: r.displayName?.text ?? r.browseName.name ?? ids[i],
      nodeClass: (NodeClass[r.nodeClass] ?? 'Unspecified') as BrowseEntry['nodeClass'],
      hasChildren: hasChildren[i] ?? false,
    };
    if (d && !d.error) {
      entry.dataType = d.dataType;
      entry.valueRank = d.valueRank;
      entry.readable = d.readable;
      entry.writable = d.writable;
    }
    return entry;
  });
}

export interface DiscoveredEndpoint {
  endpointUrl: string;
  securityMode: 'None' | 'Sign' | 'SignAndEncrypt';
  /** Short policy name as the pair dialog stores it (Basic256Sha256, Aes128_Sha256_RsaOaep...). */
  securityPolicy: string;
  /** User token types the endpoint accepts: Anonymous, UserName, Certificate, IssuedToken. */
  userTokens: string[];
  securityLevel: number;
  /** SHA-1 thumbprint of the server certificate (hex), when it sent one. */
  serverCertificateThumbprint?: string;
  /** The server certificate (DER, base64), for a trust decision. */
  serverCertificate?: string;
}

function policyName(uri: string | null | undefined): string {
  if (!uri) return 'None';
  const hash = uri.lastIndexOf('#');
  return hash >= 0 ? uri.slice(hash + 1) : uri;
}

function describeEndpoint(e: EndpointDescription): DiscoveredEndpoint {
  return {
    endpointUrl: e.endpointUrl ?? '',
    securityMode: (MessageSecurityMode[e.securityMode] ?? 'None') as DiscoveredEndpoint['securityMode'],
    securityPolicy: policyName(e.securityPolicyUri),
    userTokens: [...new Set((e.userIdentityTokens ?? []).map((t) => UserTokenType[t.tokenType] ?? String(t.tokenType)))],
    securityLevel: e.securityLevel ?? 0,
    serverCertificateThumbprint: e.serverCertificate && e.serverCertificate.length ? thumbprintOf(e.serverCertificate) : undefined,
    serverCertificate: e.serverCertificate && e.serverCertificate.length ? Buffer.from(e.serverCertificate).toString('base64') : undefined,
  };
}

/**
 * The endpoints a server offers (GetEndpoints over an unsecured channel, no session), within
 * `timeoutMs`; the connection is always closed before this returns.
 */
export async function discoverEndpoints(endpointUrl: string, timeoutMs: number): Promise<DiscoveredEndpoint[]> {
  const client = OPCUAClient.create({
    applicationName: 'node-red-contrib-redundancy',
    clientName: 'node-red-contrib-redundancy discovery',
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    transportTimeout: Math.max(1000, timeoutMs),
    defaultTransactionTimeout: Math.max(1000, timeoutMs),
  });
  try {
    const endpoints = await withTimeout(
      realClock,
      (async () => {
        await client.connect(endpointUrl);
        return client.getEndpoints();
      })(),
      timeoutMs,
      `no answer from ${endpointUrl} within ${timeoutMs} ms`,
    );
    return endpoints.map((e) => describeEndpoint(e)).sort((a, b) => b.securityLevel - a.securityLevel);
  } finally {
    await withTimeout(realClock, client.disconnect(), 1000, 'disconnect timeout').catch(() => undefined);
  }
}

/** Resolves well-known names (ObjectsFolder) as node ids too, for a browse start typed by a user. */
export function browseStart(id: string | undefined): string {
  if (!id) return OBJECTS_FOLDER;
  try {
    return resolveNodeId(id).toString();
  } catch {
    return id;
  }
}
