// Flow node: reads items from a redundant pair and emits one message per change (or one per
// publish), whichever server they come from; a message in is a write to the active server.
import { statusOfError } from '../lib/core/error-status';
import { errorText } from '../lib/core/pair';
import type { DeliveredChange, ItemSpec, PairStatus } from '../lib/core/types';
import { checkSamplingInterval, itemProblems } from '../lib/rules/items';
import { sourceLabel } from '../lib/rules/labels';
import { PROTOCOLS } from '../lib/rules/protocols';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, numberProp, refuseInput, reportConfigError, statusSetter } from './common/node-red';
import type { PairUser, RedundantPairNode } from './common/pair-config';
import { translator } from './common/i18n';
import { pairNodeStatus } from './common/pair-status';

interface ItemConfig {
  id: string;
  name?: string;
}


/**
 * A failed write as a catch node should see it: the status (BadNotWritable, BadOutOfRange,
 * BadTypeMismatch, BadNoCommunication...: lib/core/error-status.ts, as the gateway's clients get
 * it) in msg.error.code.
 */
function writeError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(errorText(err));
  if ((e as { code?: unknown }).code === undefined) (e as Error & { code: string }).code = statusOfError(e);
  return e;
}

export = function registerRedundantSource(RED: RedAPI): void {
  const t = translator(RED);
  function RedundantSource(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    // Logged under the label the canvas shows ("counter +2"), not the node's id.
    node.name = sourceLabel(def.name, def.items);
    const pairNode = RED.nodes.getNode(String(def.pair ?? '')) as RedundantPairNode | null;
    const output = String(def.output || 'change');
    const batch = output === 'batch';
    const compat = pairNode?.compatOutput && output === pairNode.compatOutput.key ? pairNode.compatOutput : undefined;
    const samplingIntervalMs = numberProp(def, 'samplingInterval', 500);
    const items: ItemConfig[] = Array.isArray(def.items) ? (def.items as ItemConfig[]).map((i) => ({ id: String(i.id ?? '').trim(), name: i.name ? String(i.name).trim() : undefined })) : [];
    const topicOf = new Map<string, string>();
    const idOf = new Map<string, string>();
    let refused = 0;
    let lastStatus: PairStatus | undefined;

    const problems: string[] = [];
    if (!pairNode) problems.push(t('redundant-source.errors.noPair'));
    const protocol = String(pairNode?.configDef?.protocol || 'opcua');
    for (const p of itemProblems(items, protocol)) {
      problems.push(p.index < 0 ? p.message : t('redundant-source.errors.badItem', { row: p.index + 1, id: items[p.index]?.id || '(empty)', error: p.message }));
    }
    for (const it of items) {
      // A protocol the shared rules do not know: its driver's item rule.
      const err = PROTOCOLS[protocol] ? undefined : pairNode?.validateItem?.(it.id);
      if (err) problems.push(t('redundant-source.errors.badItem', { row: items.indexOf(it) + 1, id: it.id || '(empty)', error: err }));
      topicOf.set(it.id, it.name || it.id);
      idOf.set(it.id, it.id);
      if (it.name) idOf.set(it.name, it.id);
    }
    const samplingErr = checkSamplingInterval(def.samplingInterval ?? 500);
    if (samplingErr) problems.push(samplingErr);
    if (!['change', 'batch'].includes(output) && !compat && pairNode?.pair) {
      problems.push(t('redundant-source.errors.badOutput', { output, protocol }));
    }
    if (problems.length > 0) {
      reportConfigError(node, problems.join('; '));
      return;
    }
    if (!pairNode?.pair) {
      // The pair logged its own configuration error once; here it is only shown.
      const text = pairNode?.configError ?? t('redundant-source.errors.noPair');
      refuseInput(node, text, t('redundant-source.status.pairConfig', { error: pairNode?.configSummary ?? text }));
      return;
    }
    const pair = pairNode.pair;
    // The compatible output's fields by channel index (each endpoint names the request's unit).
    const compatFields = compat ? pair.status().channels.map((c) => compat.fields(c.endpoint)) : [];
    // Valid but probably not meant (Modbus: two items reading the same registers differently, a
    // Modicon reference typed as a protocol address): logged once, shown on the status.
    const warnings = pairNode.itemWarnings?.(items.map((i) => i.id)) ?? [];
    for (const w of warnings) node.warn(t('redundant-source.errors.itemWarning', { warning: w }));

    const setStatus = statusSetter(node);
    const showStatus = (status: PairStatus) => {
      lastStatus = status;
      const s = pairNodeStatus(status, pairNode.warning);
      // Items the active channel refuses now (those of this node only; they may work again).
      refused = status.active ? pair.refusedItems(status.active).filter((e) => topicOf.has(e.id)).length : 0;
      const notes: string[] = [];
      // A warning's first clause is its point ("HR4:float32 and HR5 share holding register 5"); the
      // whole text is in the log. The status is cut at 56 characters: the warning goes first.
      if (warnings.length === 1) notes.push(warnings[0].split(/: |; /)[0]);
      else if (warnings.length > 1) notes.push(t('redundant-source.status.warnings', { count: warnings.length }));
      if (refused > 0) notes.push(t('redundant-source.status.refused', { count: refused }));
      if (notes.length > 0 && status.active) {
        setStatus({ fill: 'yellow', shape: 'dot', text: `${notes.join(' · ')} · ${s.text}` });
      } else {
        setStatus(s);
      }
    };

    const onData = (changes: DeliveredChange[]) => {
      if (batch) {
        const mine = changes.filter((c) => topicOf.has(c.item));
        if (mine.length === 0) return;
        // The delivered change objects themselves, named: no copy per change at high rates.
        for (const c of mine) c.name = topicOf.get(c.item);
        node.send({ topic: pair.name, pair: pair.name, server: mine[0].server, payload: mine });
        return;
      }
      if (compat) {
        // Shaped like node-red-contrib-modbus's read node (payload = values array, responseBuffer, input).
        for (const c of changes) {
          const topic = topicOf.get(c.item);
          if (topic === undefined) continue;
          node.send({
            topic,
            ...compatFields[c.channel](c),
            sendingNodeId: node.id,
            item: c.item,
            statusCode: c.statusCode,
            quality: c.quality,
            sourceTimestamp: c.sourceTimestamp,
            server: c.server,
            channel: c.channel,
            pair: pair.name,
          });
        }
        return;
      }
      for (const c of changes) {
        const topic = topicOf.get(c.item);
        if (topic === undefined) continue;
        node.send({
          topic,
          payload: c.value,
          item: c.item,
          statusCode: c.statusCode,
          quality: c.quality,
          sourceTimestamp: c.sourceTimestamp,
          serverTimestamp: c.serverTimestamp,
          server: c.server,
          channel: c.channel,
          pair: pair.name,
          ...(c.detail ? { detail: c.detail } : {}),
        });
      }
    };

    const onItemErrors = (role: string, errors: Array<{ id: string; error: string }>, recovered: string[] = []) => {
      const mine = errors.filter((e) => topicOf.has(e.id));
      if (mine.length > 0) node.warn(`${role}: ${mine.map((e) => `${e.id}: ${e.error}`).join('; ')}`);
      if ((mine.length > 0 || recovered.some((id) => topicOf.has(id))) && lastStatus) showStatus(lastStatus);
    };

    const user: PairUser = { id: node.id, onPairStatus: showStatus };
    pair.on('data', onData);
    pair.on('item-errors', onItemErrors);
    const specs: ItemSpec[] = items.map((i) => ({ id: i.id, samplingIntervalMs }));
    pair.setItems(node.id, specs);
    pairNode.register(user);

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      const key = typeof msg.item === 'string' ? msg.item : typeof msg.topic === 'string' ? msg.topic : '';
      const id = idOf.get(key);
      if (!id) return done(new Error(t('redundant-source.errors.unknownItem', { item: key || '(none)' })));
      if (msg.payload === undefined) return done(new Error(t('redundant-source.errors.noValue')));
      pair.write(id, msg.payload).then(
        () => done(),
        (err) => done(writeError(err)),
      );
    });

    node.on('close', (_removed, done) => {
      pair.off('data', onData);
      pair.off('item-errors', onItemErrors);
      pair.removeItems(node.id);
      pairNode.deregister(user);
      done();
    });
  }

  RED.nodes.registerType('redundant-source', RedundantSource);
};
