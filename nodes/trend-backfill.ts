// Flow node: one trend server of a pair of Node-RED instances (Citect's trend server pair, better):
// samples named values at a period into its store; on start and whenever the peer link returns it
// finds what it is missing (no samples; bad or n/a samples) and fills it from the peer's good
// samples, in bounded chunks; what cannot be filled now is retried; a gap both had is reported.
// Output 1: query results for a Dashboard 2.0 ui-chart. Output 2: remembered gaps and backfill state.
import { realClock } from '../lib/core/clock';
import { parseTrendCommand, parseTrendConfig } from '../lib/trend/config';
import { TrendServer } from '../lib/trend/service';
import type { BackfillState } from '../lib/trend/backfill';
import { translator } from './common/i18n';
import { type Node, type NodeDef, type NodeMessage, type RedAPI, statusSetter } from './common/node-red';
import { shorten } from './common/pair-status';
import { hostService, serviceConfig } from './common/peer-service';

interface TrendNode extends Node {
  server?: TrendServer;
}

export = function registerTrendBackfill(RED: RedAPI): void {
  const t = translator(RED);

  function TrendBackfill(this: TrendNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const setStatus = statusSetter(node);
    const cfg = serviceConfig(node, def, t, setStatus, parseTrendConfig);
    if (!cfg) return;

    const showStatus = (s: BackfillState | undefined = host.server?.state()) => {
      const server = host.server;
      if (!server || !s) return;
      const tags = server.sampler.size;
      const base = t('trend-backfill.status.tags', { tags });
      if (s.running) return setStatus({ fill: 'blue', shape: 'dot', text: shorten(`${base} · ${t('trend-backfill.status.backfilling', { pending: s.pending })}`) });
      if (s.pending > 0) return setStatus({ fill: 'yellow', shape: 'dot', text: shorten(`${base} · ${t('trend-backfill.status.pending', { pending: s.pending, link: s.link })}`) });
      if (s.link !== 'up') return setStatus({ fill: 'yellow', shape: 'ring', text: shorten(`${base} · ${t('trend-backfill.status.peerDown')}`) });
      setStatus({ fill: 'green', shape: 'dot', text: shorten(`${base}${s.both ? ` · ${t('trend-backfill.status.both', { both: s.both })}` : ''}`) });
    };
    const gapsMessage = (tag?: string): NodeMessage => {
      const gaps = host.server?.gaps(tag) ?? [];
      return { topic: 'gaps', payload: gaps.map((g) => ({ tag: g.tag, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), state: g.state, attempts: g.attempts, reason: g.reason })), gaps, state: host.server?.state() };
    };

    const host = hostService<TrendServer>(RED, node, def, t, setStatus, {
      storeFile: 'redundancy-trends.sqlite',
      group: cfg.group,
      start: (link, store) => TrendServer.start({
        group: cfg.group, link, store, clock: realClock, periodMs: cfg.periodMs, staleMs: cfg.staleMs, tags: cfg.tags,
        acceptNew: cfg.acceptNew, retentionMs: cfg.retentionMs, chunk: cfg.chunk, retryMs: cfg.retryMs, scanWindowMs: cfg.scanWindowMs,
        ...(cfg.settleMs === undefined ? {} : { settleMs: cfg.settleMs }),
      }),
      started(server) {
        server.on('event', (e) => {
          host.publish(e);
          if (e.kind === 'backfill-complete' || e.kind === 'trend-gap-both' || e.kind === 'backfill-deferred') node.send([null, gapsMessage()]);
        });
        server.on('state', (s) => showStatus(s));
        showStatus();
      },
    });

    host.onInput(async (msg, send) => {
      const cmd = parseTrendCommand(msg);
      const s = await host.ready();
      if (cmd.kind === 'value') s.update(cmd.tag, cmd.value, cmd.good);
      else if (cmd.kind === 'query') {
        const r = await s.query(cmd.query);
        send([{ topic: r.query.tag, payload: r.points, action: 'replace', query: r.query, decimated: r.decimated, bucketMs: r.bucketMs, backfilled: r.backfilled, gaps: r.gaps }, null]);
      } else if (cmd.kind === 'gaps') send([null, gapsMessage(cmd.tag)]);
      else s.backfill.kick();
    });
  }

  RED.nodes.registerType('trend-backfill', TrendBackfill);
};
