// Flow node: passes messages only on the instance that holds the peer link's duty (Citect's report
// server hot standby). Output 1: the messages, each with msg.duty = {link, instance, epoch} so a
// stale holder's late output can be recognised downstream. Output 2: the duty and link state on
// every change (for dashboards). On a coordinated hand-over (graceful stop, hand-back) the new
// holder also passes the messages it received since the old holder stopped passing (catch-up):
// no gap in the output.
import { PeerLink } from '../lib/peer/link';
import type { DutyTransition } from '../lib/peer/duty';
import type { DutyStatus, PeerLinkStatus } from '../lib/peer/api';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, numberProp, reportConfigError, statusSetter } from './common/node-red';
import type { PeerLinkNode, PeerLinkUser } from './common/peer-config';
import { dutyNodeStatus } from './common/peer-status';

const MAX_BUFFER = 10_000;

export = function registerDuty(RED: RedAPI): void {
  const t = translator(RED);
  function Duty(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const setStatus = statusSetter(node);
    const linkNode = RED.nodes.getNode(String(def.link ?? '')) as PeerLinkNode | null;
    const catchUpMs = numberProp(def, 'catchUp', 2000);
    const problems: string[] = [];
    if (!linkNode) problems.push(t('duty.errors.noLink'));
    else if (linkNode.configError) problems.push(linkNode.configError);
    if (!Number.isFinite(catchUpMs) || catchUpMs < 0 || catchUpMs > 60_000) problems.push(t('duty.errors.catchUp', { value: String(def.catchUp) }));
    const link = linkNode?.link;
    if (problems.length > 0 || !link || !linkNode) {
      reportConfigError(node, problems.join('; ') || t('duty.errors.noLink'));
      return;
    }
    const hasWitness = link.duty().witness !== 'none';
    const now = () => performance.now();
    /** Messages received while standing by: [arrival (monotonic ms), msg]. */
    const buffer: Array<[number, NodeMessage]> = [];
    let holder = link.duty().holder;

    const stamp = (msg: NodeMessage, epoch: number): NodeMessage => {
      msg.duty = { link: link.name, instance: link.instanceId, epoch };
      return msg;
    };

    const stateMessage = (s: PeerLinkStatus, d: DutyStatus): NodeMessage => ({
      topic: 'duty',
      payload: { holder: d.holder, epoch: d.epoch, reason: d.reason, witness: d.witness, since: d.since, link: s.state, linkReason: s.reason, peer: s.peerInstanceId ?? null, instance: link.instanceId, name: link.name },
    });

    // The first state goes out once the flow around the node has started.
    let started = false;
    const user: PeerLinkUser = {
      id: node.id,
      onPeerLink(s, d) {
        holder = d.holder;
        setStatus(dutyNodeStatus(s, d, hasWitness));
        if (started) node.send([null, stateMessage(s, d)]);
      },
    };
    const first = setTimeout(() => {
      started = true;
      node.send([null, stateMessage(link.status(), link.duty())]);
    }, 100);

    const onTransition = (tr: DutyTransition) => {
      holder = tr.taken;
      if (!tr.taken) return;
      const from = tr.catchUpFrom;
      const pending = from === undefined ? [] : buffer.filter(([at]) => at >= from);
      buffer.length = 0;
      for (const [, msg] of pending) node.send([stamp(msg, tr.epoch), null]);
    };
    if (link instanceof PeerLink) link.on('transition', onTransition);
    linkNode.register(user);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      const d = link.duty();
      holder = d.holder;
      if (holder) {
        send([stamp(msg, d.epoch), null]);
      } else if (catchUpMs > 0) {
        const at = now();
        buffer.push([at, msg]);
        while (buffer.length > 0 && (buffer[0][0] < at - catchUpMs || buffer.length > MAX_BUFFER)) buffer.shift();
      }
      done();
    });

    node.on('close', (_removed, done) => {
      clearTimeout(first);
      if (link instanceof PeerLink) link.off('transition', onTransition);
      linkNode.deregister(user);
      buffer.length = 0;
      done();
    });
  }

  RED.nodes.registerType('duty', Duty);
};
