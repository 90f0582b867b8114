// Config node: a redundant pair of servers. It owns both connections (through the core engine);
// flow nodes register with it as users and get the pair's status pushed, the way Node-RED's MQTT
// broker node serves its in/out nodes.
import { pairHub } from '../lib/core/hub';
import { RedundantPair, errorText } from '../lib/core/pair';
import type { EndpointDriver, ServerRole } from '../lib/core/types';
import { OpcuaDriver, defaultUserDir } from '../lib/drivers/opcua';
import { registerAdminRoutes } from './common/admin';
import type { NodeDef, RedAPI } from './common/node-red';
import { PairConfigError, type PairUser, type RedundantPairNode, parsePairConfig } from './common/pair-config';
import { translator } from './common/i18n';

export = function registerRedundantPair(RED: RedAPI): void {
  const t = translator(RED);
  function RedundantPairConfig(this: RedundantPairNode & { configDef?: NodeDef }, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, PairUser>();
    let startTimer: NodeJS.Immediate | undefined;
    node.name = String(def.name || '');
    node.configDef = def;

    try {
      const cfg = parsePairConfig(def, node.credentials ?? {});
      const userDir = RED.settings.userDir || defaultUserDir();
      const driver = (role: ServerRole): EndpointDriver =>
        new OpcuaDriver({
          endpointUrl: cfg.endpoints[role],
          securityMode: cfg.securityMode,
          securityPolicy: cfg.securityPolicy,
          userName: cfg.userName,
          password: cfg.password,
          pingIntervalMs: cfg.options.pingIntervalMs,
          pingTimeoutMs: cfg.options.pingTimeoutMs,
          sessionName: `${cfg.options.name} ${role}`,
          userDir,
          acceptUnknownCertificates: cfg.acceptUnknownCertificates,
        });
      node.pair = new RedundantPair(cfg.options, { primary: driver('primary'), secondary: driver('secondary') });
      if (cfg.acceptUnknownCertificates) {
        node.warning = t('redundant-pair.status.acceptingUnknown');
        node.warn(t('redundant-pair.errors.acceptingUnknown'));
      }
      // The N-channel engine (issue 7) takes these; until it is merged they are parsed and checked only.
      if (cfg.standbys.length > 0) node.warn(`further channels (${cfg.standbys.map((s) => s.name).join(', ')}) need the N-channel engine; this build uses the primary and the secondary only`);
      pairHub.register(node.id, node.pair);
      node.pair.on('status', (status) => {
        for (const user of users.values()) user.onPairStatus(status);
      });
      // A refused server certificate is logged once per server and certificate (the pair retries
      // with back-off; the log is not filled with the same refusal).
      const refusalsLogged = new Set<string>();
      node.pair.on('event', (e) => {
        if (e.severity === 'error') node.log(`${e.kind}: ${e.reason}`);
        if (e.kind === 'connect-failed' && /server certificate (not trusted|outside its validity|refused)/.test(e.reason)) {
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
      node.configError = errorText(err);
      if (err instanceof PairConfigError) node.configSummary = `${err.fields.join(', ')} (see the log)`;
      node.error(t('redundant-pair.errors.config', { error: node.configError }));
    }

    node.register = (user) => {
      users.set(user.id, user);
      if (node.pair) {
        user.onPairStatus(node.pair.status());
        // Start once the users deployed together have registered their items: one subscription.
        if (!startTimer) startTimer = setImmediate(() => node.pair?.start());
      }
    };
    node.deregister = (user) => {
      users.delete(user.id);
    };

    node.on('close', (_removed, done) => {
      if (startTimer) clearImmediate(startTimer);
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
