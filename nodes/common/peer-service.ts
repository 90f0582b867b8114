// What the two-instance services with a store (alarm-sync, trend-backfill) share as Node-RED nodes:
// the config check that leaves a red status and refuses input, the start (wait for the peer link,
// open the store, start the service; a close meanwhile undoes each step), the service's events on
// the diagnostics hub, the input handler's await-and-done, and the close that releases everything.
// Each node keeps only its own wiring (outputs, status text, commands).
import { pairHub } from '../../lib/core/hub';
import { errorText } from '../../lib/core/pair';
import type { RedundancyEventKind } from '../../lib/core/types';
import type { PeerLinkApi } from '../../lib/peer/api';
import type { PairStore } from '../../lib/store/pair-store';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type NodeStatus, type RedAPI, type SendFn, reportConfigError } from './node-red';
import { openNodeStore, type StoreHandle } from './pair-store';
import { shorten } from './pair-status';
import { resolvePeerLink } from './peer-link';

type Translate = (key: string, subs?: Record<string, unknown>) => string;

/** The event a service emits for the diagnostics node. */
export interface ServiceEvent {
  kind: string;
  severity: 'info' | 'warning' | 'error';
  reason: string;
  durationMs?: number;
}

export interface ClosableService {
  close(): Promise<void>;
}

/**
 * The node's configuration, checked by `parse`. On a bad one: an error, a red status and an input
 * handler that fails every message (the flow still deploys: reportConfigError); returns undefined.
 * Catalog keys: `<type>.errors.config`, `<type>.status.starting`.
 */
export function serviceConfig<C>(node: Node, def: NodeDef, t: Translate, setStatus: (s: NodeStatus) => void, parse: (def: NodeDef) => C): C | undefined {
  let cfg: C;
  try {
    cfg = parse(def);
  } catch (err) {
    const text = errorText(err);
    reportConfigError(node, t(`${node.type}.errors.config`, { error: text }), text);
    return undefined;
  }
  setStatus({ fill: 'yellow', shape: 'ring', text: t(`${node.type}.status.starting`) });
  return cfg;
}

export interface ServiceSpec<S extends ClosableService> {
  /** The SQLite file in the user dir when no redundancy-store node is selected. */
  storeFile: string;
  /** The diagnostics events' `pair`: the service's group. */
  group: string;
  /** The link is there (before the store opens). */
  linked?(link: PeerLinkApi): void;
  start(link: PeerLinkApi, store: PairStore): Promise<S>;
  /** The service runs: wire its events (the node's `server` is set). */
  started(server: S, link: PeerLinkApi): void;
  /** The node closes: release the node's own timers and listeners (before the service closes). */
  closing?(): void;
}

export interface ServiceHost<S> {
  /** The running service; undefined before the start and after the close. */
  readonly server: S | undefined;
  /** The running service once started; rejects with the start's error, or `<type>.errors.notReady`. */
  ready(): Promise<S>;
  /** A service event, on the diagnostics hub. */
  publish(e: ServiceEvent): void;
  /** An input handler: runs `handle`, then done() or done(err). */
  onInput(handle: (msg: NodeMessage, send: SendFn) => Promise<void>): void;
}

/** Starts the service behind the node (peer link, store, service) and closes it with the node. */
export function hostService<S extends ClosableService>(RED: RedAPI, node: Node & { server?: S }, def: NodeDef, t: Translate, setStatus: (s: NodeStatus) => void, spec: ServiceSpec<S>): ServiceHost<S> {
  let server: S | undefined;
  let storeHandle: StoreHandle | undefined;
  let closed = false;
  const linkWait = resolvePeerLink(RED, def.link);

  const ready = (async () => {
    const link = await linkWait.promise;
    spec.linked?.(link);
    storeHandle = await openNodeStore(RED, def.store, spec.storeFile);
    if (closed) return void (await storeHandle.close());
    const started = await spec.start(link, storeHandle.store);
    if (closed) {
      await started.close();
      return void (await storeHandle.close());
    }
    server = started;
    node.server = server;
    spec.started(server, link);
  })().catch((err: unknown) => {
    if (closed) return;
    const text = errorText(err);
    node.error(t(`${node.type}.errors.start`, { error: text }));
    setStatus({ fill: 'red', shape: 'ring', text: shorten(text) });
    throw err;
  });
  ready.catch(() => undefined);

  node.on('close', (_removed, done) => {
    closed = true;
    linkWait.cancel();
    spec.closing?.();
    const s = server;
    server = undefined;
    (async () => {
      await s?.close();
      await storeHandle?.close();
    })()
      .catch((err) => node.error(errorText(err)))
      .finally(() => done());
  });

  return {
    get server() {
      return server;
    },
    async ready() {
      await ready;
      const s = server;
      if (!s) throw new Error(t(`${node.type}.errors.notReady`));
      return s;
    },
    publish(e) {
      pairHub.publish({ time: Date.now(), pair: spec.group, kind: e.kind as RedundancyEventKind, severity: e.severity, reason: e.reason, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) });
    },
    onInput(handle) {
      node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
        void (async () => {
          try {
            await handle(msg, send);
            done();
          } catch (err) {
            done(err instanceof Error ? err : new Error(errorText(err)));
          }
        })();
      });
    },
  };
}
