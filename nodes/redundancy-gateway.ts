// Config node: the gateway's OPC UA server, hosted in Node-RED. gateway-expose flow nodes put
// pairs into it (each under its alias); it owns the server, its certificate store and its users.
// httpAdmin: the client certificates it has seen, and trusting or rejecting one.
import { errorText } from '../lib/core/pair';
import { gatewayCertificates, gatewayPkiFolder, setGatewayTrust } from '../lib/drivers/opcua-pki';
import { GatewayServer, type GatewayState } from '../lib/gateway/server';
import { type GatewayUserNode, type RedundancyGatewayNode, USER_SLOTS, parseGatewayConfig } from './common/gateway-config';
import { type NodeDef, type RedAPI, userDirOf } from './common/node-red';
import { translator } from './common/i18n';

interface Req {
  params: Record<string, string>;
  body?: Record<string, unknown>;
}
interface Res {
  json(v: unknown): void;
  status(code: number): Res;
}

export = function registerGateway(RED: RedAPI): void {
  const t = translator(RED);
  const pkiRoot = () => gatewayPkiFolder(userDirOf(RED));

  function RedundancyGateway(this: RedundancyGatewayNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, GatewayUserNode>();
    let lastState: GatewayState | undefined;
    let acceptAll = false;
    let endpointUrl = '';
    node.name = String(def.name || '');

    const push = () => {
      if (!lastState) return;
      for (const u of users.values()) u.onGatewayState(lastState, node.info());
    };
    node.info = () => ({ endpointUrl, acceptAllCertificates: acceptAll, error: node.configError });

    try {
      const options = parseGatewayConfig(def, node.credentials ?? {}, pkiRoot());
      acceptAll = options.acceptAllCertificates;
      const gateway = new GatewayServer(options);
      endpointUrl = gateway.endpointUrl;
      node.gateway = gateway;
      gateway.on('state', (s) => {
        lastState = s;
        push();
      });
      node.ready = gateway.start().then(
        () => {
          endpointUrl = gateway.endpointUrl;
          node.log(t('redundancy-gateway.log.listening', { url: endpointUrl }));
          if (acceptAll) node.warn(t('redundancy-gateway.log.acceptAll'));
          lastState = gateway.state();
          push();
          return gateway;
        },
        (err: Error) => {
          node.configError = /EADDRINUSE/.test(err.message) ? t('redundancy-gateway.errors.portInUse', { port: options.port }) : errorText(err);
          node.error(t('redundancy-gateway.errors.start', { error: node.configError }));
          lastState = { running: false, serviceLevel: 1, maintenance: false, sessions: 0, clientItems: 0, upstreamItems: 0, pairs: [] };
          push();
          throw new Error(node.configError);
        },
      );
      node.ready.catch(() => undefined);
    } catch (err) {
      node.configError = errorText(err);
      node.error(t('redundancy-gateway.errors.config', { error: node.configError }));
      node.ready = Promise.reject(new Error(node.configError));
      node.ready.catch(() => undefined);
    }

    node.register = (user) => {
      users.set(user.id, user);
      if (lastState) user.onGatewayState(lastState, node.info());
    };
    node.deregister = (user) => {
      users.delete(user.id);
    };

    node.on('close', (_removed, done) => {
      users.clear();
      const gateway = node.gateway;
      node.gateway = undefined;
      if (!gateway) return done();
      gateway.stop().then(done, done);
    });
  }

  const credentials: Record<string, { type: 'password' }> = {};
  for (let i = 0; i < USER_SLOTS; i++) credentials[`password${i}`] = { type: 'password' };
  RED.nodes.registerType('redundancy-gateway', RedundancyGateway, { credentials });

  // The certificate store: list (read permission), trust or reject (write permission).
  RED.httpAdmin.get('/redundancy-gateway/certificates', RED.auth.needsPermission('redundancy-gateway.read'), (_req: Req, res: Res) => {
    gatewayCertificates(pkiRoot()).then(
      (list) => res.json({ folder: pkiRoot(), certificates: list.map(({ file: _f, ...c }) => c) }),
      (err: unknown) => res.status(500).json({ error: errorText(err) }),
    );
  });
  RED.httpAdmin.post('/redundancy-gateway/certificates/:thumbprint', RED.auth.needsPermission('redundancy-gateway.write'), (req: Req, res: Res) => {
    const action = String(req.body?.action ?? '');
    if (action !== 'trust' && action !== 'reject') {
      res.status(400).json({ error: 'action must be "trust" or "reject"' });
      return;
    }
    const thumbprint = String(req.params.thumbprint ?? '');
    if (!/^[0-9a-fA-F]{40}$/.test(thumbprint)) {
      res.status(400).json({ error: 'a certificate thumbprint is 40 hex digits' });
      return;
    }
    setGatewayTrust(pkiRoot(), thumbprint, action === 'trust').then(
      ({ file: _f, ...c }) => res.json(c),
      (err: unknown) => res.status(404).json({ error: errorText(err) }),
    );
  });
};
