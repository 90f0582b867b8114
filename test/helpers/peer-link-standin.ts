// A stand-in `peer-link` config node for single-runtime tests of alarm-sync and trend-backfill: one
// Node-RED runtime cannot hold both ends of a real link (a link name is deployed once per instance),
// so test/integration/alarm-trend-nodes.test.ts runs two "instances" in one runtime over this. It
// exposes `link` from a fake network (test/helpers/fake-peer-link.ts) chosen by the node's `net` and
// `side` properties, exactly the contract nodes/common/peer-link.ts expects. The real peer-link node
// between two Node-RED processes: test/integration/alarm-trend-pair.test.ts.
import { type FakeNetwork, type Side } from './fake-peer-link';

export const standinNetworks = new Map<string, FakeNetwork>();

interface StandinNode {
  link?: unknown;
  configError?: string;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
}

export function peerLinkStandin(RED: { nodes: { createNode(n: unknown, d: unknown): void; registerType(t: string, c: unknown): void } }): void {
  RED.nodes.registerType('peer-link', function (this: StandinNode, def: { net: string; side: Side; instanceId?: string; configError?: string }) {
    RED.nodes.createNode(this, def);
    if (def.configError) {
      this.configError = def.configError;
      return;
    }
    const net = standinNetworks.get(def.net);
    if (!net) throw new Error(`no fake network ${def.net}`);
    this.link = net.attach(def.side, def.instanceId ?? `node-${def.side}`);
    this.on('close', (_removed, done) => {
      net.kill(def.side);
      done();
    });
  });
}
