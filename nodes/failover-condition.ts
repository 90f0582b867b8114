// Flow node: link-based failover conditions for one pair (item stale, value, quality, ServiceLevel),
// manual switching (force-primary / force-secondary / auto, like Citect's IODeviceControl) and
// external health inputs. Each server is judged on its own data, so the pair never fails over to a
// server on which the same condition holds.
import { ConditionMonitor, type ConditionSpec, conditionProblems } from '../lib/core/conditions';
import { conditionLabel } from '../lib/rules/conditions';
import { conditionNodeLabel } from '../lib/rules/labels';
import { checkNumber } from '../lib/rules/numbers';
import { listText, plural } from '../lib/rules/text';
import { realClock } from '../lib/core/clock';
import { errorText } from '../lib/core/pair';
import { type DataChange, type PairStatus, type ServerRole, pinnedChannel } from '../lib/core/types';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, numberProp, refuseInput, reportConfigError, statusSetter } from './common/node-red';
import type { PairUser, RedundantPairNode } from './common/pair-config';

/** How often conditions are re-judged when no data arrives (stale detection needs a clock). */
const CHECK_MS = 200;

export = function registerFailoverCondition(RED: RedAPI): void {
  const t = translator(RED);

  function FailoverCondition(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    // Logged under the label the canvas shows, not the node's id.
    node.name = conditionNodeLabel(def.name, def.conditions);
    const pairNode = RED.nodes.getNode(String(def.pair ?? '')) as (RedundantPairNode & { configDef?: NodeDef }) | null;
    const configured = (Array.isArray(def.conditions) ? def.conditions : []) as ConditionSpec[];
    const samplingIntervalMs = numberProp(def, 'samplingInterval', 500);
    const minSwitchIntervalMs = numberProp(def, 'minSwitchInterval', 0);

    const problems: string[] = [];
    if (!pairNode) problems.push(t('failover-condition.errors.noPair'));
    const samplingErr = checkNumber(def.samplingInterval ?? 500, 'the sampling interval', 0, 'ms');
    if (samplingErr) problems.push(samplingErr);
    const switchErr = checkNumber(def.minSwitchInterval ?? 0, 'the minimum time between switches', 0, 'ms');
    if (switchErr) problems.push(switchErr);
    if (!Array.isArray(def.conditions) && def.conditions !== undefined) problems.push('conditions must be a list');
    if (problems.length > 0) {
      const text = problems.join('; ');
      reportConfigError(node, text);
      return;
    }
    if (!pairNode?.pair) {
      // The pair logged its own configuration error once; here it is only shown.
      const text = pairNode?.configError ?? t('failover-condition.errors.noPair');
      refuseInput(node, text, t('failover-condition.status.pairConfig', { error: pairNode?.configSummary ?? text }));
      return;
    }
    // Rows that cannot be evaluated are not armed: each is logged once and shown (yellow); the
    // others are armed.
    const protocol = String(pairNode.configDef?.protocol || 'opcua');
    const invalid = new Map<number, string>();
    for (const p of conditionProblems(configured, protocol)) {
      if (p.index < 0) continue;
      invalid.set(p.index, invalid.has(p.index) ? `${invalid.get(p.index)}; ${p.message}` : p.message);
    }
    for (const [index, message] of invalid) node.error(t('failover-condition.errors.notArmed', { condition: conditionLabel(configured, index), error: message }));
    const specs = configured.filter((_c, i) => !invalid.has(i));
    const notArmed = [...invalid.keys()].map((i) => String(configured[i]?.name || `condition ${i + 1}`));
    const pair = pairNode.pair;
    const monitor = new ConditionMonitor(specs, realClock);
    const roles = pair.channelNames();
    const holdingNow = new Map<ServerRole, Map<string, string>>(roles.map((r) => [r, new Map()]));
    let lastStatus: PairStatus | undefined;
    let warmReadBusy = false;
    const resetAt = new Map<ServerRole, number>(roles.map((r) => [r, 0]));
    const settleMs = Math.max(500, 2 * samplingIntervalMs);
    const lastReadTs = new Map<string, number | undefined>();
    if (minSwitchIntervalMs > 0) pair.setConditionSwitchInterval(minSwitchIntervalMs);

    const items = [...new Set(specs.filter((c) => c.item).map((c) => String(c.item)))];
    if (items.length > 0) pair.setItems(node.id, items.map((id) => ({ id, samplingIntervalMs })));

    /** Conditions on items a server refused (unknown node id...): they can never fire there. */
    const refusedItems = new Map<string, string>();
    const unevaluable = (): string[] => [
      ...notArmed,
      ...specs.filter((c) => c.item && refusedItems.has(String(c.item))).map((c) => c.name),
    ];
    const setStatus = statusSetter(node);
    const showStatus = () => {
      const fired = roles.flatMap((r) => [...(holdingNow.get(r) ?? new Map()).keys()].map((name) => `${name} on ${r}`));
      const cannot = unevaluable();
      if (fired.length > 0) {
        const both = roles.every((r) => (holdingNow.get(r)?.size ?? 0) > 0);
        setStatus({ fill: both ? 'red' : 'yellow', shape: 'dot', text: (both ? t('failover-condition.status.bothBad') : t('failover-condition.status.fired')) + ': ' + fired.join(', ') });
      } else if (notArmed.length > 0 && specs.length === 0) {
        setStatus({ fill: 'red', shape: 'ring', text: t('failover-condition.status.config', { error: `${conditionLabel(configured, [...invalid.keys()][0])}: ${[...invalid.values()][0]}` }) });
      } else if (cannot.length > 0) {
        setStatus({ fill: 'yellow', shape: 'ring', text: t('failover-condition.status.partly', { armed: specs.length - (cannot.length - notArmed.length), total: configured.length, names: listText(cannot) }) });
      } else {
        setStatus({ fill: 'green', shape: 'ring', text: t('failover-condition.status.armed', { conditions: plural(specs.length, 'condition'), control: pair.getControl() }) });
      }
    };

    const onItemErrors = (role: ServerRole, errors: Array<{ id: string; error: string }>) => {
      for (const e of errors) {
        const users = specs.filter((c) => c.item === e.id);
        if (users.length === 0 || refusedItems.get(e.id) === e.error) continue;
        refusedItems.set(e.id, e.error);
        node.warn(t('failover-condition.errors.itemRefused', { conditions: listText(users.map((c) => `"${c.name}"`)), item: e.id, server: role, error: e.error }));
      }
      showStatus();
    };

    /** Judges both servers, tells the pair, and emits a message per condition that fired or cleared. */
    const evaluate = () => {
      const checkedAt = Date.now();
      for (const role of roles) {
        // A server that just (re)connected has not sent its condition items yet: not judged.
        if (!pair.isConnected(role)) {
          // A server that is down is down: its conditions are not judged (no "stale" on a dead
          // server); they are judged afresh once it is back.
          pair.setConditions(node.id, role, [], false);
          continue;
        }
        const known = monitor.knows(role) && checkedAt - (resetAt.get(role) ?? 0) >= settleMs;
        const holding = known ? monitor.holding(role) : [];
        pair.setConditions(node.id, role, holding, known);
        const now = new Map(holding.map((h) => [h.name, h.reason]));
        for (const [name, reason] of now) {
          if (!holdingNow.get(role)?.has(name)) {
            pair.logEvent('condition-fired', 'warning', `${name} on the ${role}: ${reason}`, { server: role });
            node.send({ topic: name, payload: { event: 'fired', condition: name, server: role, reason, active: pair.getActive() }, pair: pair.name });
          }
        }
        for (const [name] of holdingNow.get(role) ?? new Map<string, string>()) {
          if (!now.has(name)) {
            pair.logEvent('condition-cleared', 'info', `${name} on the ${role} cleared`, { server: role });
            node.send({ topic: name, payload: { event: 'cleared', condition: name, server: role, reason: 'cleared', active: pair.getActive() }, pair: pair.name });
          }
        }
        holdingNow.set(role, now);
      }
      showStatus();
    };

    const onServerData = (role: ServerRole, changes: DataChange[]) => monitor.observe(role, changes);
    const onStatus = (status: PairStatus) => {
      lastStatus = status;
      for (const role of roles) {
        const connectedNow = status.servers[role].state !== 'down' && status.servers[role].state !== 'idle' && status.servers[role].state !== 'connecting';
        monitor.observeServiceLevel(role, connectedNow ? status.servers[role].serviceLevel : undefined);
      }
    };

    /** Warm mode: the standby reports nothing, so its condition items are read at each check. */
    const readWarmStandby = () => {
      if (pair.mode !== 'warm' || items.length === 0 || warmReadBusy) return;
      const active = pair.getActive();
      const standby = roles.find((r) => r !== active && pair.isConnected(r));
      if (!standby) return;
      warmReadBusy = true;
      pair.read(items, standby).then(
        (values) => {
          // Only a new source timestamp is a change: a read of an unchanged value must not hide staleness.
          const changed = values.filter((v) => {
            const key = `${standby}|${v.item}`;
            const seen = lastReadTs.has(key);
            const fresh = !seen || lastReadTs.get(key) !== v.sourceTimestamp || v.sourceTimestamp === undefined;
            lastReadTs.set(key, v.sourceTimestamp);
            return fresh;
          });
          if (changed.length > 0) monitor.observe(standby, changed);
          warmReadBusy = false;
        },
        () => {
          warmReadBusy = false;
        },
      );
    };

    // Servers that (re)connect are judged from then on, not from data of an old connection.
    const onEvent = (e: { kind: string; server?: ServerRole }) => {
      if (e.kind === 'connected' && e.server) {
        monitor.resetServer(e.server);
        resetAt.set(e.server, Date.now());
      }
    };

    let checks = 0;
    const timer = setInterval(() => {
      if (++checks % Math.max(1, Math.round(samplingIntervalMs / CHECK_MS)) === 0) readWarmStandby();
      evaluate();
    }, CHECK_MS);
    timer.unref?.();

    const user: PairUser = { id: node.id, onPairStatus: onStatus };
    pair.on('server-data', onServerData);
    pair.on('event', onEvent);
    pair.on('item-errors', onItemErrors);
    pairNode.register(user);
    for (const role of roles) {
      if (pair.isConnected(role)) monitor.resetServer(role);
      resetAt.set(role, Date.now());
    }
    showStatus();

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      try {
        const command = typeof msg.payload === 'string' ? msg.payload.trim() : '';
        const isControl = command === 'auto' || command.startsWith('force-');
        if (isControl || msg.topic === 'control') {
          if (!isControl || pinnedChannel(command, roles) === undefined) throw new Error(t('failover-condition.errors.badControl', { value: String(msg.payload) }));
          pair.setControl(command, 'manual switch from the flow');
          showStatus();
          return done();
        }
        if (msg.topic === 'health' || msg.server !== undefined) {
          const server = String(msg.server ?? '');
          if (!roles.includes(server)) throw new Error(t('failover-condition.errors.badServer', { value: server || '(none)' }));
          const ok = msg.payload === true || msg.payload === 1 || msg.payload === 'true' || msg.payload === 'ok';
          const reason = typeof msg.reason === 'string' ? msg.reason : ok ? undefined : `external health input says ${String(msg.payload)}`;
          monitor.setExternalHealth(server, ok, reason);
          evaluate();
          return done();
        }
        if (msg.topic === 'status') {
          send({ topic: 'status', payload: { pair: pair.name, active: pair.getActive(), control: pair.getControl(), holding: Object.fromEntries(roles.map((r) => [r, Object.fromEntries(holdingNow.get(r) ?? new Map())])), status: lastStatus } });
          return done();
        }
        throw new Error(t('failover-condition.errors.badInput'));
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorText(err)));
      }
    });

    node.on('close', (_removed, done) => {
      clearInterval(timer);
      pair.off('server-data', onServerData);
      pair.off('event', onEvent);
      pair.off('item-errors', onItemErrors);
      pair.clearConditions(node.id);
      if (items.length > 0) pair.removeItems(node.id);
      pairNode.deregister(user);
      done();
    });
  }

  RED.nodes.registerType('failover-condition', FailoverCondition);
};
