// Node ids with a namespace URI (nsu=urn:plant:server;s=Tag) are what a plant writes down: the
// index of a namespace may differ between two servers and between restarts, the URI does not.
// node-opcua only takes ns=<index>; this turns nsu= into ns= through the server's NamespaceArray.
import { AttributeIds, type ClientSession } from 'node-opcua';
import { parseNodeId } from '../rules/opcua';

const NAMESPACE_ARRAY = 'i=2255';

/** True when `id` names its namespace by URI. */
export function hasNamespaceUri(id: string): boolean {
  return id.startsWith('nsu=');
}

/** The server's namespace URIs, by index. */
export async function readNamespaceArray(session: ClientSession): Promise<string[]> {
  const dv = await session.read({ nodeId: NAMESPACE_ARRAY, attributeId: AttributeIds.Value });
  const v = dv.value?.value as unknown;
  return Array.isArray(v) ? v.map(String) : [];
}

/**
 * The ns= form of each id (ids without nsu= as they are). An id whose namespace URI the server
 * does not have maps to an Error saying so, to be reported as that item's error.
 */
export function resolveWith(namespaces: readonly string[], id: string): string | Error {
  if (!hasNamespaceUri(id)) return id;
  const p = parseNodeId(id);
  if (typeof p === 'string') return new Error(p);
  const index = namespaces.indexOf(p.nsu ?? '');
  if (index < 0) return new Error(`the server has no namespace ${p.nsu} (its namespaces: ${namespaces.join(', ') || 'none'})`);
  return `ns=${index};${p.type}=${p.value}`;
}
