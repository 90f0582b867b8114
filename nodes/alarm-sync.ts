// Flow node: one alarm server of a pair of Node-RED instances (Citect's alarm server pair, better):
// both evaluate; acks on either apply on both (queued on disk while the peer is away); a started
// instance catches up the peer's state; on/off actions run only where the duty is held.
// Output 1: actions (on/off) on the duty instance. Output 2: the alarm list (Dashboard 2.0 ui-table
// rows). Output 3: each change of an alarm (for a log, e-mail).
import { realClock } from '../lib/core/clock';
import { pairHub } from '../lib/core/hub';
import { errorText } from '../lib/core/pair';
import type { RedundancyEventKind } from '../lib/core/types';
import { parseAlarmCommand } from '../lib/alarm/commands';
import { parseAlarmConfig } from '../lib/alarm/config';
import { type ListFilter, alarmRows } from '../lib/alarm/list';
import { AlarmServer, type AlarmServerEvent } from '../lib/alarm/service';
import type { AlarmSyncState } from '../lib/alarm/sync';
import type { AlarmView } from '../lib/alarm/types';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, statusSetter } from './common/node-red';
import { openNodeStore, type StoreHandle } from './common/pair-store';
import { shorten } from './common/pair-status';
import { resolvePeerLink } from './common/peer-link';

interface AlarmSyncNode extends Node {
  server?: AlarmServer;
}

const LIST_THROTTLE_MS = 250;
/** The status dot counts every alarm: at most this often (sessions and pushes change the state often). */
const STATUS_THROTTLE_MS = 250;

export = function registerAlarmSync(RED: RedAPI): void {
  const t = translator(RED);

  function AlarmSync(this: AlarmSyncNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const setStatus = statusSetter(node);
    let cfg: ReturnType<typeof parseAlarmConfig>;
    try {
      cfg = parseAlarmConfig(def);
    } catch (err) {
      const text = (err as Error).message;
      node.error(t('alarm-sync.errors.config', { error: text }));
      setStatus({ fill: 'red', shape: 'ring', text: shorten(t('alarm-sync.status.config', { error: text })) });
      node.on('input', (_m, _s, done) => done(new Error(text)));
      return;
    }
    setStatus({ fill: 'yellow', shape: 'ring', text: t('alarm-sync.status.starting') });

    let server: AlarmServer | undefined;
    let storeHandle: StoreHandle | undefined;
    let closed = false;
    const linkWait = resolvePeerLink(RED, def.link);
    const publish = (e: AlarmServerEvent) => pairHub.publish({ time: Date.now(), pair: cfg.group, kind: e.kind as RedundancyEventKind, severity: e.severity, reason: e.reason, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) });

    const listMessage = (filter: ListFilter = cfg.listFilter): NodeMessage => {
      const views = server?.views() ?? [];
      return { topic: 'alarms', payload: alarmRows(views, filter), alarms: views, filter };
    };
    let listTimer: NodeJS.Timeout | undefined;
    /** What the last list took to make: a list of thousands of alarms is sent less often, never all the time. */
    let listCostMs = 0;
    const scheduleList = () => {
      if (listTimer) return;
      listTimer = setTimeout(() => {
        listTimer = undefined;
        const t0 = performance.now();
        const msg = listMessage();
        listCostMs = performance.now() - t0;
        node.send([null, msg, null]);
        showStatus(undefined, msg.alarms as AlarmView[]);
      }, Math.max(LIST_THROTTLE_MS, 4 * listCostMs));
    };
    let statusTimer: NodeJS.Timeout | undefined;
    const requestStatus = () => {
      if (statusTimer) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        showStatus();
      }, STATUS_THROTTLE_MS);
    };

    const showStatus = (s: AlarmSyncState | undefined = server?.state(), views: AlarmView[] | undefined = server?.views()) => {
      if (!server || !s || !views) return;
      const active = views.filter((v) => v.active).length;
      const unacked = views.filter((v) => !v.acked).length;
      const duty = server.actions.isEnabled() && linkApiHolder() ? ` · ${t('alarm-sync.status.duty')}` : '';
      const counts = t('alarm-sync.status.counts', { active, unacked });
      if (!s.started) return setStatus({ fill: 'yellow', shape: 'ring', text: shorten(`${t('alarm-sync.status.catchingUp')} · ${counts}`) });
      if (s.link !== 'up') return setStatus({ fill: 'yellow', shape: 'dot', text: shorten(`${t('alarm-sync.status.peerDown', { outbox: s.outbox })} · ${counts}${duty}`) });
      if (!s.inSync) return setStatus({ fill: 'yellow', shape: 'dot', text: shorten(`${t('alarm-sync.status.syncing')} · ${counts}${duty}`) });
      setStatus({ fill: 'green', shape: 'dot', text: shorten(`${counts}${duty}`) });
    };
    let linkApiHolder = () => false;
    const onDuty = () => requestStatus();
    let unhookDuty = () => undefined as void;

    const ready = (async () => {
      const link = await linkWait.promise;
      linkApiHolder = () => link.duty().holder;
      storeHandle = await openNodeStore(RED, def.store, 'redundancy-alarms.sqlite');
      if (closed) {
        await storeHandle.close();
        return;
      }
      const started = await AlarmServer.start({ group: cfg.group, link, store: storeHandle.store, clock: realClock, conditions: cfg.conditions, catchUpWaitMs: cfg.catchUpWaitMs, maxShelveMs: cfg.maxShelveMs });
      if (closed) {
        await started.close();
        await storeHandle.close();
        return;
      }
      server = started;
      node.server = server;
      server.on('action', (a) => {
        node.send([{ topic: a.alarm.key, payload: a.action, alarm: a.alarm, epoch: a.epoch, takenOver: a.takenOver }, null, null]);
      });
      server.on('change', (c) => {
        node.send([null, null, { topic: c.key, payload: { kinds: c.kinds, origin: c.origin, alarm: c.view }, kinds: c.kinds }]);
        scheduleList();
      });
      server.on('event', publish);
      server.on('state', () => requestStatus());
      link.on('duty', onDuty);
      unhookDuty = () => link.off('duty', onDuty);
      showStatus();
      scheduleList();
    })().catch((err: unknown) => {
      if (closed) return;
      const text = errorText(err);
      node.error(t('alarm-sync.errors.start', { error: text }));
      setStatus({ fill: 'red', shape: 'ring', text: shorten(text) });
      throw err;
    });
    ready.catch(() => undefined);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      void (async () => {
        try {
          await ready;
          const s = server;
          if (!s) throw new Error(t('alarm-sync.errors.notReady'));
          const cmd = parseAlarmCommand(msg, (topic) => s.hasSource(topic), cfg.defaultUser);
          let view: AlarmView | undefined;
          switch (cmd.kind) {
            case 'value':
              s.input(cmd.source, cmd.value, cmd.good);
              break;
            case 'observe':
              await s.observe(cmd.observation);
              break;
            case 'ack':
              view = await s.ack(cmd);
              break;
            case 'ack-all':
              await s.ackAll(cmd.by, cmd.comment);
              break;
            case 'comment':
              view = await s.comment(cmd);
              break;
            case 'shelve':
              view = await s.shelve(cmd);
              break;
            case 'list':
              send([null, listMessage(cmd.filter), null]);
              break;
          }
          if (view) msg.alarm = view;
          done();
        } catch (err) {
          done(err instanceof Error ? err : new Error(errorText(err)));
        }
      })();
    });

    node.on('close', (_removed, done) => {
      closed = true;
      linkWait.cancel();
      unhookDuty();
      if (listTimer) clearTimeout(listTimer);
      if (statusTimer) clearTimeout(statusTimer);
      const s = server;
      server = undefined;
      (async () => {
        await s?.close();
        await storeHandle?.close();
      })()
        .catch((err) => node.error(errorText(err)))
        .finally(() => done());
    });
  }

  RED.nodes.registerType('alarm-sync', AlarmSync);
};
