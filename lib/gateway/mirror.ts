// The mirrored subtree of a pair: the active channel's address space below configured roots,
// depth-limited and bounded, as a flat list the gateway builds its nodes from (re-walked on demand).
// Pure: goes through GatewaySource.browse only.
import type { BrowseEntry } from '../core/driver';
import type { GatewaySource } from './pair-source';

export interface MirrorNode {
  /** Upstream node id. */
  id: string;
  /** Browse name without its namespace prefix. */
  browseName: string;
  displayName: string;
  kind: 'folder' | 'variable';
  /** Upstream id of the parent; null = directly under the pair's folder. */
  parent: string | null;
}

export interface MirrorResult {
  nodes: MirrorNode[];
  /** The walk stopped at maxNodes. */
  truncated: boolean;
  /** Roots or branches that could not be browsed (one message each). */
  errors: string[];
}

const OBJECTS = 'i=85';

function isStandardNode(id: string): boolean {
  return /^i=\d+$/.test(id) || id.startsWith('ns=0;');
}

function shortName(browseName: string): string {
  const colon = browseName.indexOf(':');
  return colon >= 0 && /^\d+$/.test(browseName.slice(0, colon)) ? browseName.slice(colon + 1) : browseName;
}

/**
 * Walks each root's children down to `depth` levels (1 = the children only). Objects become
 * folders; variables are kept, and their own children (properties, components) too while depth
 * allows. Standard nodes below the Objects folder (the Server object) are left out.
 */
export async function walkMirror(source: GatewaySource, roots: string[], depth: number, maxNodes: number): Promise<MirrorResult> {
  const nodes: MirrorNode[] = [];
  const seen = new Set<string>();
  const errors: string[] = [];
  let truncated = false;
  let level: Array<{ id: string; parent: string | null; root: boolean }> = roots.map((id) => ({ id: id.trim() || OBJECTS, parent: null, root: true }));
  for (let d = 0; d < depth && level.length > 0 && !truncated; d++) {
    const next: typeof level = [];
    for (const at of level) {
      if (truncated) break;
      let children: BrowseEntry[];
      try {
        children = await source.browse(at.id, maxNodes + 1);
      } catch (err) {
        errors.push(`browse ${at.id}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      for (const c of children) {
        if (c.nodeClass !== 'Object' && c.nodeClass !== 'Variable') continue;
        if (at.id === OBJECTS && isStandardNode(c.id)) continue;
        if (seen.has(c.id)) continue;
        if (nodes.length >= maxNodes) {
          truncated = true;
          break;
        }
        seen.add(c.id);
        nodes.push({ id: c.id, browseName: shortName(c.browseName), displayName: c.displayName || shortName(c.browseName), kind: c.nodeClass === 'Object' ? 'folder' : 'variable', parent: at.root ? null : at.id });
        if (c.hasChildren) next.push({ id: c.id, parent: at.id, root: false });
      }
    }
    level = next;
  }
  return { nodes, truncated, errors };
}
