// One entry point for the alarm and trend store, whichever backend: SQLite in the user dir (the
// default, nothing to install) or PostgreSQL/TimescaleDB.
import type { AlarmStore } from '../alarm/store';
import type { TrendStore } from '../trend/types';
import { PgPairStore, type PgStoreOptions } from './pg-pair-store';
import { SqlitePairStore } from './sqlite-pair-store';

export type PairStore = AlarmStore & TrendStore;

export type PairStoreConfig = { backend: 'sqlite'; file: string } | ({ backend: 'postgres' } & PgStoreOptions);

export async function openPairStore(config: PairStoreConfig): Promise<PairStore> {
  if (config.backend === 'sqlite') return new SqlitePairStore(config.file);
  if (config.backend === 'postgres') return PgPairStore.open(config);
  throw new Error(`unknown store backend ${(config as { backend: unknown }).backend} (use sqlite or postgres)`);
}
