// Flow node: one trend server of a pair of Node-RED instances (Citect's trend server pair, better):
// samples named values at a period into its store; on start and whenever the peer link returns it
// finds what it is missing (no samples; bad or n/a samples) and fills it from the peer's good
// samples, in bounded chunks; what cannot be filled now is retried; a gap both had is reported.
// Output 1: query results for a Dashboard 2.0 ui-chart. Output 2: remembered gaps and backfill state.
import { realClock } from '../lib/core/clock';
import { pairHub } from '../lib/core/hub';
import { errorText } from '../lib/core/pair';
import type { RedundancyEventKind } from '../lib/core/types';
import { type TrendConfig, parseTrendCommand, parseTrendConfig } from '../lib/trend/config';
import { TrendServer, type TrendServerEvent } from '../lib/trend/service';
import type { BackfillState } from '../lib/trend/backfill';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, statusSetter } from './common/node-red';
import { openNodeStore, type StoreHandle } from './common/pair-store';
import { shorten } from './common/pair-status';
import { resolvePeerLink } from './common/peer-link';

interface TrendNode extends Node {
  server?: TrendServer;
}

export = function registerTrendBackfill(RED: RedAPI): void {
  const t = translator(RED);

  function TrendBackfill(this: TrendNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const setStatus = statusSetter(node);
    let cfg: TrendConfig;
    try {
      cfg = parseTrendConfig(def);
    } catch (err) {
      const text = (err as Error).message;
      node.error(t('trend-backfill.errors.config', { error: text }));
      setStatus({ fill: 'red', shape: 'ring', text: shorten(t('trend-backfill.status.config', { error: text })) });
      node.on('input', (_m, _s, done) => done(new Error(text)));
      return;
    }
    setStatus({ fill: 'yellow', shape: 'ring', text: t('trend-backfill.status.starting') });
    let server: TrendServer | undefined;
    let storeHandle: StoreHandle | undefined;
    let closed = false;
    const linkWait = resolvePeerLink(RED, def.link);

    const showStatus = (s: BackfillState | undefined = server?.state()) => {
      if (!server || !s) return;
      const tags = server.sampler.knownTags().length;
      const base = t('trend-backfill.status.tags', { tags });
      if (s.running) return setStatus({ fill: 'blue', shape: 'dot', text: shorten(`${base} · ${t('trend-backfill.status.backfilling', { pending: s.pending })}`) });
      if (s.pending > 0) return setStatus({ fill: 'yellow', shape: 'dot', text: shorten(`${base} · ${t('trend-backfill.status.pending', { pending: s.pending, link: s.link })}`) });
      if (s.link !== 'up') return setStatus({ fill: 'yellow', shape: 'ring', text: shorten(`${base} · ${t('trend-backfill.status.peerDown')}`) });
      setStatus({ fill: 'green', shape: 'dot', text: shorten(`${base}${s.both ? ` · ${t('trend-backfill.status.both', { both: s.both })}` : ''}`) });
    };
    const publish = (e: TrendServerEvent) => pairHub.publish({ time: Date.now(), pair: cfg.group, kind: e.kind as RedundancyEventKind, severity: e.severity, reason: e.reason, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) });
    const gapsMessage = (tag?: string): NodeMessage => {
      const gaps = server?.gaps(tag) ?? [];
      return { topic: 'gaps', payload: gaps.map((g) => ({ tag: g.tag, from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), state: g.state, attempts: g.attempts, reason: g.reason })), gaps, state: server?.state() };
    };

    const ready = (async () => {
      const link = await linkWait.promise;
      storeHandle = await openNodeStore(RED, def.store, 'redundancy-trends.sqlite');
      if (closed) return void (await storeHandle.close());
      const started = await TrendServer.start({
        group: cfg.group, link, store: storeHandle.store, clock: realClock, periodMs: cfg.periodMs, staleMs: cfg.staleMs, tags: cfg.tags,
        acceptNew: cfg.acceptNew, retentionMs: cfg.retentionMs, chunk: cfg.chunk, retryMs: cfg.retryMs, scanWindowMs: cfg.scanWindowMs,
        ...(cfg.settleMs === undefined ? {} : { settleMs: cfg.settleMs }),
      });
      if (closed) {
        await started.close();
        return void (await storeHandle.close());
      }
      server = started;
      node.server = server;
      server.on('event', (e) => {
        publish(e);
        if (e.kind === 'backfill-complete' || e.kind === 'trend-gap-both' || e.kind === 'backfill-deferred') node.send([null, gapsMessage()]);
      });
      server.on('state', (s) => showStatus(s));
      showStatus();
    })().catch((err: unknown) => {
      if (closed) return;
      const text = errorText(err);
      node.error(t('trend-backfill.errors.start', { error: text }));
      setStatus({ fill: 'red', shape: 'ring', text: shorten(text) });
      throw err;
    });
    ready.catch(() => undefined);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      void (async () => {
        try {
          const cmd = parseTrendCommand(msg);
          await ready;
          const s = server;
          if (!s) throw new Error(t('trend-backfill.errors.notReady'));
          if (cmd.kind === 'value') s.update(cmd.tag, cmd.value, cmd.good);
          else if (cmd.kind === 'query') {
            const r = await s.query(cmd.query);
            send([{ topic: r.query.tag, payload: r.points, action: 'replace', query: r.query, decimated: r.decimated, bucketMs: r.bucketMs, backfilled: r.backfilled, gaps: r.gaps }, null]);
          } else if (cmd.kind === 'gaps') send([null, gapsMessage(cmd.tag)]);
          else s.backfill.kick();
          done();
        } catch (err) {
          done(err instanceof Error ? err : new Error(errorText(err)));
        }
      })();
    });

    node.on('close', (_removed, done) => {
      closed = true;
      linkWait.cancel();
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

  RED.nodes.registerType('trend-backfill', TrendBackfill);
};
