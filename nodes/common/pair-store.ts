// Where alarm-sync and trend-backfill keep their data: the redundancy-store config node when one is
// selected (SQLite file or PostgreSQL, shared by its users), else a SQLite file in the user dir.
import { isAbsolute, join } from 'node:path';
import { type PairStore, openPairStore } from '../../lib/store/pair-store';
import { type Node, type NodeDef, type RedAPI, numberProp, userDirOf } from './node-red';

export interface StoreConfigNode extends Node {
  configError?: string;
  /** Opens (once) and returns the shared store; users call release() when they close. */
  acquire(): Promise<PairStore>;
  release(): Promise<void>;
}

export interface StoreHandle {
  store: PairStore;
  close(): Promise<void>;
}

/** A SQLite file name from the editor: relative names live in the user dir. */
export function sqlitePath(RED: RedAPI, file: string, fallback: string): string {
  const name = file.trim() || fallback;
  return isAbsolute(name) ? name : join(userDirOf(RED), name);
}

export async function openNodeStore(RED: RedAPI, storeId: unknown, defaultFile: string): Promise<StoreHandle> {
  if (storeId && typeof storeId === 'string') {
    const cfg = RED.nodes.getNode(storeId) as StoreConfigNode | null;
    if (!cfg) throw new Error('the selected store is not deployed');
    if (cfg.configError) throw new Error(`store: ${cfg.configError}`);
    const store = await cfg.acquire();
    return { store, close: once(() => cfg.release()) };
  }
  const store = await openPairStore({ backend: 'sqlite', file: sqlitePath(RED, '', defaultFile) });
  return { store, close: once(() => store.close()) };
}

/**
 * A handle's close runs once: a node closed while it starts closes its handle from the start-up
 * and from its close handler, and a shared store counts each release (a second one would close
 * it under another node still using it).
 */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

export interface ParsedStoreConfig {
  backend: 'sqlite' | 'postgres';
  file: string;
  host: string;
  port: number;
  database: string;
  user: string;
  schema: string;
}

export function parseStoreConfig(def: NodeDef): ParsedStoreConfig {
  const problems: string[] = [];
  const backend = String(def.backend || 'sqlite');
  if (backend !== 'sqlite' && backend !== 'postgres') problems.push(`unknown backend ${backend} (use sqlite or postgres)`);
  const port = numberProp(def, 'port', 5432);
  const parsed: ParsedStoreConfig = {
    backend: backend as ParsedStoreConfig['backend'],
    file: String(def.file ?? ''),
    host: String(def.host || '127.0.0.1').trim(),
    port,
    database: String(def.database ?? '').trim(),
    user: String(def.user ?? '').trim(),
    schema: String(def.schema || 'redundancy').trim(),
  };
  if (backend === 'postgres') {
    if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`port must be 1..65535 (got ${String(def.port)})`);
    if (!parsed.database) problems.push('database name missing');
    if (!parsed.user) problems.push('user name missing');
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(parsed.schema)) problems.push(`schema "${parsed.schema}" is not a plain SQL identifier`);
  } else if (/[\0]/.test(parsed.file)) problems.push('file name is not valid');
  if (problems.length) throw new Error(problems.join('; '));
  return parsed;
}
