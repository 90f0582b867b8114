// Flow node: one alarm server of a pair of Node-RED instances (Citect's alarm server pair, better):
// both evaluate; acks on either apply on both (queued on disk while the peer is away); a started
// instance catches up the peer's state; on/off actions run only where the duty is held.
// Output 1: actions (on/off) on the duty instance. Output 2: the alarm list (Dashboard 2.0 ui-table
// rows). Output 3: each change of an alarm (for a log, e-mail).
import { realClock } from '../lib/core/clock';
import { parseAlarmCommand } from '../lib/alarm/commands';
import { parseAlarmConfig } from '../lib/alarm/config';
import { type ListFilter, alarmRows } from '../lib/alarm/list';
import { AlarmServer } from '../lib/alarm/service';
import type { AlarmSyncState } from '../lib/alarm/sync';
import type { AlarmView } from '../lib/alarm/types';
import { translator } from './common/i18n';
import { type Node, type NodeDef, type NodeMessage, type RedAPI, statusSetter } from './common/node-red';
import { shorten } from './common/pair-status';
import { hostService, serviceConfig } from './common/peer-service';

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
    const cfg = serviceConfig(node, def, t, setStatus, parseAlarmConfig);
    if (!cfg) return;

    const listMessage = (filter: ListFilter = cfg.listFilter): NodeMessage => {
      const views = host.server?.views() ?? [];
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

    const showStatus = (s: AlarmSyncState | undefined = host.server?.state(), views: AlarmView[] | undefined = host.server?.views()) => {
      const server = host.server;
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

    const host = hostService<AlarmServer>(RED, node, def, t, setStatus, {
      storeFile: 'redundancy-alarms.sqlite',
      group: cfg.group,
      linked(link) {
        linkApiHolder = () => link.duty().holder;
      },
      start: (link, store) => AlarmServer.start({ group: cfg.group, link, store, clock: realClock, conditions: cfg.conditions, catchUpWaitMs: cfg.catchUpWaitMs, maxShelveMs: cfg.maxShelveMs }),
      started(server, link) {
        server.on('action', (a) => {
          node.send([{ topic: a.alarm.key, payload: a.action, alarm: a.alarm, epoch: a.epoch, takenOver: a.takenOver }, null, null]);
        });
        server.on('change', (c) => {
          node.send([null, null, { topic: c.key, payload: { kinds: c.kinds, origin: c.origin, alarm: c.view }, kinds: c.kinds }]);
          scheduleList();
        });
        server.on('event', (e) => host.publish(e));
        server.on('state', () => requestStatus());
        link.on('duty', onDuty);
        unhookDuty = () => link.off('duty', onDuty);
        showStatus();
        scheduleList();
      },
      closing() {
        unhookDuty();
        if (listTimer) clearTimeout(listTimer);
        if (statusTimer) clearTimeout(statusTimer);
      },
    });

    host.onInput(async (msg, send) => {
      const s = await host.ready();
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
    });
  }

  RED.nodes.registerType('alarm-sync', AlarmSync);
};
