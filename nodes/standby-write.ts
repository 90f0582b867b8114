// Flow node: a persistent key-value store kept on both instances of a peer link (Citect's Disk IO
// with StandbyWrite). msg.action: "set" (msg.topic = key, msg.payload = value; the default when a
// payload is given), "get" (the default without payload), "delete", "keys", "all". Output 1: the
// result of each message. Output 2: values the peer wrote that changed this store.
// The store is a SQLite file in the user dir: redundancy-standby-<store>.sqlite.
// For tests only: REDUNDANCY_TEST_CLOCK_OFFSET_MS (a number of ms) shifts the wall clock this node's
// hybrid logical clock reads, to rehearse two instances whose clocks disagree.
import { join } from 'node:path';
import { StandbyStore } from '../lib/peer/standby-store';
import { StandbyWrite, type StandbyWriteStatus } from '../lib/peer/standby-write';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, reportConfigError, statusSetter, userDirOf } from './common/node-red';
import type { PeerLinkNode, PeerLinkUser } from './common/peer-config';
import { hlcWallClock } from './common/peer-status';

const ACTIONS = ['set', 'get', 'delete', 'keys', 'all'] as const;
type Action = (typeof ACTIONS)[number];

export = function registerStandbyWrite(RED: RedAPI): void {
  const t = translator(RED);
  function StandbyWriteNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const setStatus = statusSetter(node);
    const linkNode = RED.nodes.getNode(String(def.link ?? '')) as PeerLinkNode | null;
    const storeName = String(def.store || '').trim();
    const problems: string[] = [];
    if (!linkNode) problems.push(t('standby-write.errors.noLink'));
    else if (linkNode.configError) problems.push(linkNode.configError);
    if (!/^[\w.-]{1,64}$/.test(storeName)) problems.push(t('standby-write.errors.store', { name: storeName }));
    const dir = (def.storeDir as string | undefined) || userDirOf(RED);
    const link = linkNode?.link;
    let sw: StandbyWrite | undefined;
    if (problems.length === 0 && link) {
      try {
        const store = new StandbyStore(join(dir, `redundancy-standby-${storeName}.sqlite`), link.instanceId, hlcWallClock());
        sw = new StandbyWrite(link, store, storeName, 1000);
      } catch (err) {
        problems.push(t('standby-write.errors.open', { error: err instanceof Error ? err.message : String(err) }));
      }
    }
    if (problems.length > 0 || !sw || !linkNode) {
      reportConfigError(node, problems.join('; '));
      return;
    }
    const replica = sw;

    const show = (s: StandbyWriteStatus) => {
      const keys = replica.store.keys().length;
      if (s.queued > 0) setStatus({ fill: 'yellow', shape: 'ring', text: t('standby-write.status.queued', { keys, queued: s.queued, link: s.link }) });
      else if (s.link === 'up') setStatus({ fill: 'green', shape: 'dot', text: t('standby-write.status.synced', { keys }) });
      else setStatus({ fill: 'grey', shape: 'ring', text: t('standby-write.status.alone', { keys, link: s.link }) });
    };
    replica.on('status', show);
    replica.on('remote', (values) => {
      for (const v of values) node.send([null, { topic: v.key, payload: v.value, stamp: v.stamp, deleted: v.deleted, fromPeer: true }]);
    });
    const user: PeerLinkUser = { id: node.id, onPeerLink: () => show(replica.status()) };
    linkNode.register(user);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      try {
        const action = (msg.action === undefined || msg.action === '' ? (msg.payload === undefined ? 'get' : 'set') : String(msg.action)) as Action;
        if (!ACTIONS.includes(action)) throw new Error(t('standby-write.errors.action', { action }));
        const key = msg.topic === undefined ? '' : String(msg.topic);
        if ((action === 'set' || action === 'get' || action === 'delete') && !key) throw new Error(t('standby-write.errors.key', { action }));
        switch (action) {
          case 'set': {
            const v = replica.write(key, msg.payload);
            msg.stamp = v.stamp;
            break;
          }
          case 'delete': {
            const v = replica.write(key, undefined);
            msg.stamp = v.stamp;
            msg.payload = undefined;
            break;
          }
          case 'get': {
            const v = replica.get(key);
            msg.payload = v?.value;
            msg.stamp = v?.stamp;
            msg.found = v !== undefined;
            break;
          }
          case 'keys':
            msg.payload = replica.store.keys();
            break;
          case 'all':
            msg.payload = replica.store.all();
            break;
        }
        send([msg, null]);
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed, done) => {
      linkNode.deregister(user);
      replica.close();
      done();
    });
  }

  RED.nodes.registerType('standby-write', StandbyWriteNode);
};
