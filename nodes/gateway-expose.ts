// Flow node: exposes one redundant pair through a gateway, under the pair's alias: a list of items
// and/or mirrored subtrees of the active server. Messages in: maintenance on/off (the gateway's
// ServiceLevel 0), rebrowse (mirror the subtrees again), status. Output: the gateway's state on change.
import { errorText } from '../lib/core/pair';
import { validateNodeId } from '../lib/drivers/opcua';
import type { ExposureConfig, PairExposure } from '../lib/gateway/exposure';
import { pairSource } from '../lib/gateway/pair-source';
import type { GatewayServer, GatewayState } from '../lib/gateway/server';
import { serviceLevelClass } from '../lib/gateway/service-level';
import type { GatewayNodeInfo, GatewayUserNode, RedundancyGatewayNode } from './common/gateway-config';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type NodeStatus, type RedAPI, type SendFn, numberProp, refuseInput, reportConfigError, statusSetter } from './common/node-red';
import type { PairUser, RedundantPairNode } from './common/pair-config';
import { translator } from './common/i18n';
import { shorten } from './common/pair-status';

interface ItemDef {
  id?: unknown;
  name?: unknown;
}

function lines(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((s) => String(s).trim()).filter(Boolean);
  return String(v ?? '')
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function truthy(v: unknown): boolean {
  if (typeof v === 'string') return !/^(false|off|0|no|)$/i.test(v.trim());
  return Boolean(v);
}

export = function registerGatewayExpose(RED: RedAPI): void {
  const t = translator(RED);

  function GatewayExpose(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const gatewayNode = RED.nodes.getNode(String(def.gateway ?? '')) as RedundancyGatewayNode | null;
    const pairNode = RED.nodes.getNode(String(def.pair ?? '')) as RedundantPairNode | null;
    const items = (Array.isArray(def.items) ? (def.items as ItemDef[]) : []).map((i) => ({ id: String(i.id ?? '').trim(), name: String(i.name ?? '').trim() || undefined }));
    const mirrorRoots = lines(def.mirrorRoots);
    const mirrorDepth = numberProp(def, 'mirrorDepth', 3);
    const maxNodes = numberProp(def, 'maxNodes', 5000);
    const setChanged = statusSetter(node);
    let current: NodeStatus = {};
    const setStatus = (s: NodeStatus) => {
      current = s;
      setChanged(s);
    };

    const problems: string[] = [];
    if (!gatewayNode) problems.push(t('gateway-expose.errors.noGateway'));
    if (!pairNode) problems.push(t('gateway-expose.errors.noPair'));
    if (items.length === 0 && mirrorRoots.length === 0) problems.push(t('gateway-expose.errors.nothing'));
    for (const it of items) {
      const err = validateNodeId(it.id);
      if (err) problems.push(t('gateway-expose.errors.badItem', { id: it.id || '(empty)', error: err }));
    }
    for (const root of mirrorRoots) {
      const err = validateNodeId(root);
      if (err) problems.push(t('gateway-expose.errors.badRoot', { id: root, error: err }));
    }
    if (!Number.isInteger(mirrorDepth) || mirrorDepth < 1 || mirrorDepth > 10) problems.push(t('gateway-expose.errors.badDepth', { value: String(def.mirrorDepth) }));
    if (!Number.isInteger(maxNodes) || maxNodes < 1 || maxNodes > 100_000) problems.push(t('gateway-expose.errors.badMax', { value: String(def.maxNodes) }));
    if (problems.length > 0 || !gatewayNode) {
      reportConfigError(node, problems.join('; '));
      return;
    }
    if (!pairNode?.pair) {
      // The pair logged its own configuration error once; here it is only shown.
      const text = pairNode?.configError ?? t('gateway-expose.errors.noPair');
      refuseInput(node, text, t('gateway-expose.status.pairConfig', { error: pairNode?.configSummary ?? text }));
      return;
    }
    const pair = pairNode.pair;
    const alias = String(def.alias ?? '').trim() || pair.name;
    const config: ExposureConfig = { alias, items, mirrorRoots, mirrorDepth, maxNodes };
    let gateway: GatewayServer | undefined;
    let exposure: PairExposure | undefined;
    let closed = false;
    let lastSent = '';

    const show = (state: GatewayState, info: GatewayNodeInfo) => {
      if (info.error || !state.running) {
        setStatus({ fill: 'red', shape: 'ring', text: shorten(info.error ?? t('gateway-expose.status.stopped')) });
        return;
      }
      const mine = state.pairs.find((p) => p.alias === alias);
      const level = state.serviceLevel;
      const cls = serviceLevelClass(level);
      const summary = t('gateway-expose.status.summary', { level, sessions: state.sessions, clients: state.clientItems, upstream: state.upstreamItems });
      let status: NodeStatus;
      if (exposure === undefined && !mine) status = { fill: 'yellow', shape: 'ring', text: t('gateway-expose.status.starting') };
      else if (mine?.state === 'failed') status = { fill: 'red', shape: 'ring', text: shorten(mine.problems[mine.problems.length - 1] ?? 'failed') };
      else if (mine?.state === 'waiting' || mine?.state === 'building') status = { fill: 'yellow', shape: 'ring', text: shorten(`${mine.state}: ${mine.health}`) };
      else if (cls === 'maintenance') status = { fill: 'blue', shape: 'dot', text: t('gateway-expose.status.maintenance', { summary }) };
      else if (cls === 'no data') status = { fill: 'red', shape: 'dot', text: shorten(`${summary} · ${mine?.health ?? ''}`) };
      else if (info.acceptAllCertificates) status = { fill: 'yellow', shape: 'dot', text: shorten(`${t('gateway-expose.status.acceptAll')} · ${summary}`, 64) };
      else if (cls === 'degraded' || (mine?.problems.length ?? 0) > 0) status = { fill: 'yellow', shape: 'dot', text: shorten(`${summary}${mine?.problems.length ? ` · ${t('gateway-expose.status.problems', { count: mine.problems.length })}` : ''}`) };
      else status = { fill: 'green', shape: 'dot', text: summary };
      setStatus(status);
      const payload = { serviceLevel: level, serviceLevelClass: cls, maintenance: state.maintenance, sessions: state.sessions, clientItems: state.clientItems, upstreamItems: state.upstreamItems, endpointUrl: info.endpointUrl, acceptAllCertificates: info.acceptAllCertificates, pair: mine };
      const key = JSON.stringify(payload);
      if (key !== lastSent) {
        lastSent = key;
        node.send({ topic: alias, payload });
      }
    };

    const gatewayUser: GatewayUserNode = { id: node.id, onGatewayState: show };
    const pairUser: PairUser = { id: node.id, onPairStatus: () => undefined };
    setStatus({ fill: 'yellow', shape: 'ring', text: t('gateway-expose.status.starting') });
    gatewayNode.register(gatewayUser);
    pairNode.register(pairUser);
    gatewayNode.ready?.then(
      (gw) => {
        if (closed) return;
        gateway = gw;
        try {
          exposure = gw.expose(pairSource(pair), config);
          if (config.items.length + config.mirrorRoots.length > 0) node.log(t('gateway-expose.log.exposed', { alias, url: gatewayNode.info().endpointUrl }));
        } catch (err) {
          node.error(errorText(err));
          setStatus({ fill: 'red', shape: 'ring', text: shorten(errorText(err)) });
        }
      },
      () => undefined,
    );

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const topic = String(msg.topic ?? '').trim().toLowerCase();
      if (!gateway || !exposure) return done(new Error(t('gateway-expose.errors.notReady')));
      if (topic === 'maintenance') {
        gateway.setMaintenance(truthy(msg.payload));
        return done();
      }
      if (topic === 'rebrowse') {
        exposure.rebrowse().then(
          () => done(),
          (err) => done(err instanceof Error ? err : new Error(errorText(err))),
        );
        return;
      }
      if (topic === 'status') {
        // The state out again, and the status shown again (an editor opened meanwhile).
        lastSent = '';
        show(gateway.state(), gatewayNode.info());
        node.status(current);
        send(null);
        return done();
      }
      done(new Error(t('gateway-expose.errors.badTopic', { topic: topic || '(none)' })));
    });

    node.on('close', (_removed, done) => {
      closed = true;
      if (gateway && exposure) gateway.unexpose(exposure);
      gatewayNode.deregister(gatewayUser);
      pairNode.deregister(pairUser);
      done();
    });
  }

  RED.nodes.registerType('gateway-expose', GatewayExpose);
};
