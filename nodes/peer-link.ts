// Config node: the link to the other Node-RED instance of a redundant pair. It owns the link
// (heartbeats, signed requests, the duty election, the MQTT witness); flow nodes register with it
// as users, the way Node-RED's MQTT broker node serves its in/out nodes.
// The peer's requests arrive at POST <httpAdminRoot>/redundancy/peer/<link name> on this
// instance's own HTTP server (one route for all links, registered once); the link's state can be
// read at GET <httpAdminRoot>/redundancy/peer/<link name>/status (permission peer-link.read).
import { pairHub } from '../lib/core/hub';
import type { DutyStatus, PeerLinkStatus } from '../lib/peer/api';
import { MAX_PEER_REQUEST_BYTES, PEER_PATH, PeerLink } from '../lib/peer/link';
import { translator } from './common/i18n';
import { type NodeDef, type RedAPI, userDirOf } from './common/node-red';
import { type PeerLinkNode, type PeerLinkUser, parsePeerLinkConfig } from './common/peer-config';

interface Req {
  params: { link: string };
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', listener: (chunk: Buffer) => void): void;
  on(event: 'end' | 'close', listener: () => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  destroy?(): void;
}
interface Res {
  status(code: number): Res;
  json(body: unknown): void;
}

export = function registerPeerLink(RED: RedAPI): void {
  const t = translator(RED);
  /** Deployed links of this instance by name: the route dispatches to them. */
  const links = new Map<string, { nodeId: string; link: PeerLink }>();

  function PeerLinkConfig(this: PeerLinkNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const users = new Map<string, PeerLinkUser>();
    node.name = String(def.name || '');
    let link: PeerLink | undefined;
    let refusedLogged = false;

    try {
      const options = parsePeerLinkConfig(def, node.credentials ?? {});
      const other = links.get(options.name);
      if (other && other.nodeId !== node.id) throw new Error(t('peer-link.errors.duplicate', { name: options.name }));
      const l = new PeerLink({ ...options, stateDir: userDirOf(RED) });
      link = l;
      links.set(options.name, { nodeId: node.id, link: l });
      node.link = l;
      const push = () => {
        const s: PeerLinkStatus = l.status();
        const d: DutyStatus = l.duty();
        for (const user of users.values()) user.onPeerLink(s, d);
      };
      l.on('state', (s) => {
        push();
        if (s.state === 'refused') {
          if (!refusedLogged) node.error(t('peer-link.errors.refused', { reason: s.reason }));
          refusedLogged = true;
        } else if (s.state === 'up') {
          refusedLogged = false;
        }
      });
      l.on('duty', push);
      l.on('event', (e) => {
        pairHub.publish(e);
        if (e.kind === 'peer-refused' && /replay/.test(e.reason)) node.warn(e.reason);
        else if (e.kind === 'duty-taken' || e.kind === 'duty-released') node.log(e.reason);
      });
      l.start();
    } catch (err) {
      node.configError = err instanceof Error ? err.message : String(err);
      node.error(t('peer-link.errors.config', { error: node.configError }));
    }

    node.register = (user) => {
      users.set(user.id, user);
      if (link) user.onPeerLink(link.status(), link.duty());
    };
    node.deregister = (user) => {
      users.delete(user.id);
    };

    node.on('close', (_removed, done) => {
      users.clear();
      const l = link;
      link = undefined;
      node.link = undefined;
      if (!l) return done();
      // Graceful: the duty is handed over at once, before the route stops answering.
      l.close()
        .catch(() => undefined)
        .then(() => {
          if (links.get(l.name)?.link === l) links.delete(l.name);
          done();
        });
    });
  }

  RED.nodes.registerType('peer-link', PeerLinkConfig, {
    credentials: { secret: { type: 'password' }, witnessUser: { type: 'text' }, witnessPassword: { type: 'password' } },
  });

  // The peer's requests. No admin permission: every request carries its own signature (auth.ts).
  RED.httpAdmin.post(`${PEER_PATH}/:link`, (req: Req, res: Res) => {
    const entry = links.get(req.params.link);
    if (!entry) {
      res.status(404).json({ ok: false, code: 'link', error: `no peer link named "${req.params.link}" is deployed here` });
      return;
    }
    readEnvelope(req).then((envelope) => entry.link.handle(envelope)).then(
      (r) => res.status(r.status).json(r.body),
      (err: unknown) => {
        const e = err as Error & { status?: number };
        res.status(e.status ?? 500).json({ ok: false, code: e.status === 413 ? 'size' : e.status === 400 ? 'format' : 'internal', error: e.message ?? String(err) });
      },
    );
  });

  RED.httpAdmin.get(`${PEER_PATH}/:link/status`, RED.auth.needsPermission('peer-link.read'), (req: Req, res: Res) => {
    const entry = links.get(req.params.link);
    if (!entry) {
      res.status(404).json({ error: `no peer link named "${req.params.link}" is deployed here` });
      return;
    }
    const l = entry.link;
    res.status(200).json({ name: l.name, instanceId: l.instanceId, bootId: l.bootId, link: l.status(), duty: l.duty(), history: l.dutyHistory(), rttMaxMs: l.rttMaxMs(), now: Date.now() });
  });
};

/**
 * The request envelope: already parsed when it came as application/json (Node-RED's body parser,
 * limited by apiMaxLength), else read here (the link's own content type) up to the link's limit.
 */
function readEnvelope(req: Req): Promise<unknown> {
  const parsed = req.body as { p?: unknown } | undefined;
  if (parsed && typeof parsed === 'object' && typeof parsed.p === 'string') return Promise.resolve(parsed);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_PEER_REQUEST_BYTES) {
        failed = true;
        reject(Object.assign(new Error(`peer request larger than ${MAX_PEER_REQUEST_BYTES / 1048576} MB refused`), { status: 413 }));
        return;
      }
      chunks.push(c);
    });
    req.on('error', (err: Error) => {
      if (!failed) reject(err);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null);
      } catch {
        reject(Object.assign(new Error('the peer request is not JSON'), { status: 400 }));
      }
    });
  });
}
