// Config node: a redundant pair (2..N ordered channels). It owns the connections (through the core
// engine); flow nodes register with it as users and get the pair's status pushed, the way Node-RED's
// MQTT broker node serves its in/out nodes. With no users left it holds no connections.
import { realClock } from '../lib/core/clock';
import { pairHub } from '../lib/core/hub';
import { RedundantPair, errorText } from '../lib/core/pair';
import { driverFactory } from '../lib/drivers';
import { isCertificateRefusal } from '../lib/drivers/opcua-pki';
import { type NodeDef, type RedAPI, userDirOf } from './common/node-red';
import { registerAdminRoutes } from './common/admin';
import { PairConfigError, type PairUser, type RedundantPairNode, createChannels, parsePairConfig } from './common/pair-config';
import { translator } from './common/i18n';

/** A pair left without users keeps its connections this long: a redeploy of its only user is no reconnect. */
const IDLE_LINGER_MS = 2000;

export = function registerRedundantPair(RED: RedAPI): void {
  const t = translator(RED);
  function RedundantPairConfig(this: RedundantPairNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, PairUser>();
    let startTimer: NodeJS.Immediate | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    node.name = String(def.name || '');
    node.configDef = def;

    try {
      const cfg = parsePairConfig(def, node.credentials ?? {});
      const factory = driverFactory(cfg.protocol);
      node.protocol = cfg.protocol;
      node.validateItem = (id) => factory.validateItem(id);
      if (factory.itemWarnings) node.itemWarnings = (ids) => factory.itemWarnings!(ids, cfg.channels.map((c) => c.endpoint));
      node.compatOutput = factory.compatOutput;
      node.pair = new RedundantPair({ ...cfg.options, log: (text) => node.warn(text) }, createChannels(cfg, userDirOf(RED), realClock));
      pairHub.register(node.id, node.pair);
      node.pair.on('status', (status) => {
        for (const user of users.values()) user.onPairStatus(status);
      });
      const accepting = (cfg.protocolOptions as { acceptUnknownCertificates?: boolean } | undefined)?.acceptUnknownCertificates === true;
      if (accepting) {
        node.warning = t('redundant-pair.status.acceptingUnknown');
        node.warn(t('redundant-pair.errors.acceptingUnknown'));
      }
      // A refused server certificate is logged once per server and certificate (the pair retries
      // with back-off; the log is not filled with the same refusal).
      const refusalsLogged = new Set<string>();
      node.pair.on('event', (e) => {
        if (e.severity === 'error') node.log(`${e.kind}: ${e.reason}`);
        if (e.kind === 'connect-failed' && isCertificateRefusal(e.reason)) {
          const key = `${e.server}|${e.reason}`;
          if (!refusalsLogged.has(key)) {
            refusalsLogged.add(key);
            node.warn(`${e.server}: ${e.reason}`);
          }
        } else if (e.kind === 'connected' && e.server) {
          for (const k of [...refusalsLogged]) if (k.startsWith(`${e.server}|`)) refusalsLogged.delete(k);
        }
      });
    } catch (err) {
      node.protocol ??= typeof def.protocol === 'string' && def.protocol ? def.protocol : 'opcua';
      node.configError = errorText(err);
      if (err instanceof PairConfigError) node.configSummary = `${err.fields.join(', ')} (see the log)`;
      node.error(t('redundant-pair.errors.config', { error: node.configError }));
    }

    node.register = (user) => {
      users.set(user.id, user);
      if (idleTimer) {
        clearTimeout(idleTimer);
        idleTimer = undefined;
      }
      if (node.pair) {
        user.onPairStatus(node.pair.status());
        // Start once the users deployed together have registered their items: one subscription.
        if (!startTimer) startTimer = setImmediate(() => {
          startTimer = undefined;
          if (users.size > 0) node.pair?.start();
        });
      }
    };
    node.deregister = (user) => {
      users.delete(user.id);
      if (users.size === 0 && node.pair && !idleTimer) {
        idleTimer = setTimeout(() => {
          idleTimer = undefined;
          if (users.size === 0) node.pair?.suspend();
        }, IDLE_LINGER_MS);
        idleTimer.unref?.();
      }
    };

    node.on('close', (_removed, done) => {
      if (startTimer) clearImmediate(startTimer);
      if (idleTimer) clearTimeout(idleTimer);
      users.clear();
      pairHub.unregister(node.id);
      const pair = node.pair;
      node.pair = undefined;
      if (!pair) return done();
      pair.stop().then(done, done);
    });
  }

  RED.nodes.registerType('redundant-pair', RedundantPairConfig, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
  registerAdminRoutes(RED);
};
