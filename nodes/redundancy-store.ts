// Config node: the store of alarm-sync and trend-backfill nodes: a SQLite file in the user dir
// (default, nothing to install) or a PostgreSQL / TimescaleDB database (password in credentials).
// Opened on first use, shared by every node that selects it, closed with the last one.
import { type PairStore, openPairStore } from '../lib/store/pair-store';
import { translator } from './common/i18n';
import type { NodeDef, RedAPI } from './common/node-red';
import { type ParsedStoreConfig, type StoreConfigNode, parseStoreConfig, sqlitePath } from './common/pair-store';

export = function registerStore(RED: RedAPI): void {
  const t = translator(RED);

  function RedundancyStore(this: StoreConfigNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    let parsed: ParsedStoreConfig | undefined;
    try {
      parsed = parseStoreConfig(def);
    } catch (err) {
      node.configError = (err as Error).message;
      node.error(t('redundancy-store.errors.config', { error: node.configError }));
    }
    let opening: Promise<PairStore> | undefined;
    let users = 0;

    node.acquire = async () => {
      if (!parsed) throw new Error(node.configError);
      users++;
      if (!opening) {
        const p = parsed;
        opening = p.backend === 'sqlite'
          ? openPairStore({ backend: 'sqlite', file: sqlitePath(RED, p.file, 'redundancy-pair.sqlite') })
          : openPairStore({ backend: 'postgres', host: p.host, port: p.port, database: p.database, user: p.user, password: node.credentials?.password, schema: p.schema });
        opening.catch(() => {
          opening = undefined; // the next user tries again
        });
      }
      try {
        return await opening;
      } catch (err) {
        users--;
        throw err;
      }
    };

    node.release = async () => {
      users = Math.max(0, users - 1);
      if (users > 0 || !opening) return;
      const p = opening;
      opening = undefined;
      await (await p.catch(() => undefined))?.close();
    };

    node.on('close', (_removed, done) => {
      const p = opening;
      opening = undefined;
      users = 0;
      if (!p) return done();
      p.then((s) => s.close()).catch(() => undefined).finally(() => done());
    });
  }

  RED.nodes.registerType('redundancy-store', RedundancyStore, { credentials: { password: { type: 'password' } } });
};
