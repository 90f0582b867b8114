// Finding items by name in an address space that is only known by browsing it: breadth first from
// a start node, bounded in nodes visited, results and time, so a server with 100 000 nodes costs a
// bounded moment. Protocol-free: it calls the browse function it is given (a deployed pair's, or a
// temporary session's).
import type { BrowseEntry } from './driver';

export interface SearchHit extends BrowseEntry {
  /** Browse names from the start node down to the hit: 'Objects/Simulation/Counter'. */
  path: string;
}

export interface SearchOptions {
  /** Start node; the driver's default (OPC UA: the Objects folder) when empty. */
  start?: string;
  maxNodes?: number;
  maxResults?: number;
  /** Absolute time (ms) after which the search stops and returns what it found. */
  deadline?: number;
  /** Also descend into the standard namespace (ns=0: the Server object); off by default. */
  includeStandard?: boolean;
  now?: () => number;
}

export interface SearchResult {
  hits: SearchHit[];
  visited: number;
  /** True when a bound stopped the search before the whole tree was seen. */
  truncated: boolean;
}

function isStandard(id: string): boolean {
  return /^(ns=0;)?[isgb]=/.test(id);
}

/** Case-insensitive match on browse or display name (the namespace prefix of a browse name ignored). */
function matches(e: BrowseEntry, needle: string): boolean {
  const name = e.browseName.replace(/^\d+:/, '').toLowerCase();
  return name.includes(needle) || e.displayName.toLowerCase().includes(needle);
}

export async function searchAddressSpace(browse: (id: string | undefined, max: number) => Promise<BrowseEntry[]>, text: string, opts: SearchOptions = {}): Promise<SearchResult> {
  const needle = text.trim().toLowerCase();
  const maxNodes = opts.maxNodes ?? 3000;
  const maxResults = opts.maxResults ?? 100;
  const now = opts.now ?? Date.now;
  const hits: SearchHit[] = [];
  const seen = new Set<string>();
  const queue: Array<{ id: string | undefined; path: string }> = [{ id: opts.start || undefined, path: '' }];
  let visited = 0;
  let truncated = false;
  while (queue.length > 0) {
    if (visited >= maxNodes || hits.length >= maxResults || (opts.deadline !== undefined && now() >= opts.deadline)) {
      truncated = true;
      break;
    }
    const { id, path } = queue.shift()!;
    const children = await browse(id, 1000);
    for (const c of children) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      visited++;
      const here = path ? `${path}/${c.displayName}` : c.displayName;
      if (needle && matches(c, needle)) hits.push({ ...c, path: here });
      if (hits.length >= maxResults) break;
      if (c.hasChildren && c.nodeClass !== 'Method' && (opts.includeStandard || !isStandard(c.id))) queue.push({ id: c.id, path: here });
    }
  }
  return { hits, visited, truncated };
}
