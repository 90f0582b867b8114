// Flow node: Citect's IO device with N channels, fed by messages from any node (our sources,
// node-red-contrib-modbus read nodes, OPC UA nodes). Output 1 forwards the active channel's data;
// output 1 + n is channel n's write output (wire it to that channel's write node). The logic lives
// in lib/core/channel-selector/; this adapter moves messages and shows the state.
import { realClock } from '../lib/core/clock';
import { ChannelSelectorEngine, type SelectorDef, type SelectorStatus, parseSelectorConfig, selectorStatusText } from '../lib/core/channel-selector';
import { pairHub } from '../lib/core/hub';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, reportConfigError, statusSetter } from './common/node-red';

/** Distinct unmatched topics reported with an error (the rest are counted on the status). */
const MAX_REPORTED_UNMATCHED = 20;

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export = function registerChannelSelector(RED: RedAPI): void {
  const t = translator(RED);

  function ChannelSelector(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const { config, problems } = parseSelectorConfig(def as SelectorDef);
    if (problems.length > 0) {
      const text = problems.join('; ');
      reportConfigError(node, t('channel-selector.errors.config', { error: text }), text);
      return;
    }
    const name = (def.name as string | undefined)?.trim() || `channel selector ${node.id}`;
    const outputs = 1 + config.channels.length;
    // A flow written by hand or a script may carry a stale output count: writes of the channels past
    // it would go nowhere. The node still works; the editor fixes it when the node is saved.
    if (typeof def.outputs === 'number' && def.outputs !== outputs) node.warn(t('channel-selector.errors.outputs', { outputs: def.outputs, channels: config.channels.length, want: outputs }));
    const setStatus = statusSetter(node);
    const unmatched = new Set<string>();
    let lastStatus: SelectorStatus | undefined;

    const show = (s: SelectorStatus) => {
      lastStatus = s;
      const dot = selectorStatusText(s);
      const extra = unmatched.size > 0 ? ` · ${t('channel-selector.status.unmatched', { count: unmatched.size })}` : '';
      setStatus({ ...dot, text: dot.text + extra });
    };

    const out = (index: number, msg: NodeMessage) => {
      const arr: Array<NodeMessage | null> = new Array(outputs).fill(null);
      arr[index] = msg;
      node.send(arr);
    };

    const engine = new ChannelSelectorEngine(name, config, realClock, {
      data: (msg) => out(0, msg as NodeMessage),
      write: (msg, channel) => out(1 + channel.index, msg as NodeMessage),
      event: (e) => pairHub.publish(e),
      status: show,
    });

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      let result;
      try {
        result = engine.input(msg);
      } catch (err) {
        done(errorOf(err));
        return;
      }
      switch (result.kind) {
        case 'write':
          result.sent.then(
            () => done(),
            (err) => done(errorOf(err)),
          );
          return;
        case 'status':
          send([{ topic: 'status', payload: result.status, selector: name }, ...new Array(outputs - 1).fill(null)]);
          done();
          return;
        case 'unmatched':
          // Each distinct topic is reported once (a catchable error); repeats are only counted.
          if (unmatched.has(result.key) || unmatched.size >= MAX_REPORTED_UNMATCHED) {
            done();
            return;
          }
          unmatched.add(result.key);
          if (lastStatus) show(lastStatus);
          done(new Error(result.reason));
          return;
        default:
          done();
      }
    });

    node.on('close', (_removed, done) => {
      engine.stop();
      done();
    });

    engine.start();
  }

  RED.nodes.registerType('channel-selector', ChannelSelector);
};
