// The editor's server side (Node-RED httpAdmin): discover a server's endpoints, browse and search
// its address space (through the deployed pair, or a short-lived connection with the dialog's
// unsaved settings), the state of a deployed pair, and the client certificate store (list, trust,
// download the client certificate). Every route checks a permission: reading what exists needs
// redundant-pair.read; anything that connects to a server or changes the trust list needs
// redundant-pair.write. Every connection is bounded in time and closed, every answer in size.
import { searchAddressSpace } from '../../lib/core/address-search';
import type { BrowseEntry } from '../../lib/core/driver';
import { errorText } from '../../lib/core/pair';
import type { SecurityModeName, SecurityPolicyName } from '../../lib/drivers/opcua';
import { discoverEndpoints } from '../../lib/drivers/opcua-browse';
import {
  certificateVerdict,
  certificateVerdicts,
  clientPkiFolder,
  describeCertificate,
  listCertificates,
  ownCertificate,
  rejectedCertificate,
  thumbprintOf,
  trustCertificate,
  trustState,
} from '../../lib/drivers/opcua-pki';
import { withTemporarySession } from '../../lib/drivers/opcua-session';
import { checkNodeId, checkOpcuaEndpoint, checkSecurity } from '../../lib/rules/opcua';
import { channelEndpoints } from '../../lib/rules/pair';
import { type RedAPI, userDirOf } from './node-red';
import type { RedundantPairNode } from './pair-config';

/** Bounds of an editor request that connects. */
export const EDITOR_TIMEOUT_MS = 8000;
const MIN_TIMEOUT_MS = 1000;
const MAX_TIMEOUT_MS = 20_000;
const MAX_BROWSE = 1000;
const DEFAULT_BROWSE = 500;

interface Req {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  body?: Record<string, unknown>;
}
interface Res {
  status(code: number): Res;
  json(body: unknown): void;
  type(t: string): Res;
  set(name: string, value: string): Res;
  send(body: unknown): void;
}

class HttpError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

function timeoutOf(v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) return EDITOR_TIMEOUT_MS;
  return Math.min(MAX_TIMEOUT_MS, Math.max(MIN_TIMEOUT_MS, Math.round(n)));
}

function maxOf(v: unknown): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) return DEFAULT_BROWSE;
  return Math.min(MAX_BROWSE, Math.round(n));
}

/** A JSON route whose errors become {error} with a status: 400 bad input, 404 nothing deployed, 502 the server. */
function handler(fn: (req: Req) => Promise<unknown>) {
  return (req: Req, res: Res) => {
    fn(req).then(
      (body) => res.json(body),
      (err: unknown) => res.status(err instanceof HttpError ? err.code : 502).json({ error: errorText(err) }),
    );
  };
}

/** The dialog's unsaved settings of a temporary connection. */
interface DialogSettings {
  pair?: string;
  endpoint?: string;
  securityMode?: string;
  securityPolicy?: string;
  authMode?: string;
  user?: string;
  password?: string;
  acceptUnknownCertificates?: boolean;
}

export function registerAdminRoutes(RED: RedAPI): void {
  // One set of routes per runtime (several node files may ask; the test helper reloads modules).
  const marker = RED.httpAdmin as unknown as { __redundancyRoutes?: boolean };
  if (marker.__redundancyRoutes) return;
  marker.__redundancyRoutes = true;
  const read = RED.auth.needsPermission('redundant-pair.read');
  const write = RED.auth.needsPermission('redundant-pair.write');
  const userDir = () => userDirOf(RED);

  const deployedPair = (id: string): RedundantPairNode => {
    const node = RED.nodes.getNode(id) as RedundantPairNode | null;
    if (!node || node.type !== 'redundant-pair') throw new HttpError(404, 'this pair is not deployed (deploy it, or browse with the dialog\'s settings)');
    return node;
  };

  const temporarySettings = (s: DialogSettings) => {
    const endpoint = String(s.endpoint ?? '').trim();
    const bad = checkOpcuaEndpoint(endpoint) ?? checkSecurity(s.securityMode, s.securityPolicy);
    if (bad) throw new HttpError(400, bad);
    let user = s.user;
    let password = s.password;
    // The editor never receives a stored password: it sends Node-RED's placeholder, the stored one is used.
    if (s.pair && (password === '__PWRD__' || user === undefined)) {
      const stored = (RED.nodes as unknown as { getCredentials?(id: string): Record<string, string> | undefined }).getCredentials?.(s.pair);
      if (password === '__PWRD__') password = stored?.password;
      if (user === undefined) user = stored?.user;
    }
    const login = s.authMode === 'username';
    if (login && !user) throw new HttpError(400, 'a user name is required with "user name and password"');
    return {
      endpointUrl: endpoint,
      securityMode: (s.securityMode || 'None') as SecurityModeName,
      securityPolicy: (s.securityPolicy || 'None') as SecurityPolicyName,
      userName: login ? user : undefined,
      password: login ? password : undefined,
      userDir: userDir(),
      acceptUnknownCertificates: s.acceptUnknownCertificates === true,
    };
  };

  const checkStart = (nodeId: unknown): string | undefined => {
    const id = typeof nodeId === 'string' && nodeId.trim() ? nodeId.trim() : undefined;
    if (id) {
      const err = checkNodeId(id);
      if (err) throw new HttpError(400, err);
    }
    return id;
  };

  // -- a deployed pair: state, browse, search (read permission: nothing new is connected) --

  RED.httpAdmin.get('/redundancy/pairs/:id/status', read, handler(async (req) => {
    const node = RED.nodes.getNode(req.params.id) as (RedundantPairNode & { configDef?: Record<string, unknown> }) | null;
    if (!node || node.type !== 'redundant-pair') return { deployed: false };
    const endpoints = node.configDef ? channelEndpoints(node.configDef).map((c) => c.endpoint) : [];
    return {
      deployed: true,
      configError: node.configError,
      warning: node.warning,
      status: node.pair?.status(),
      certificates: endpoints.map((e) => certificateVerdict(e)).filter(Boolean),
    };
  }));

  RED.httpAdmin.get('/redundancy/pairs/:id/browse', read, handler(async (req) => {
    const node = deployedPair(req.params.id);
    if (!node.pair) throw new HttpError(404, node.configError ?? 'the pair is not running');
    const start = checkStart(req.query.node);
    const entries = await node.pair.browse(start, maxOf(req.query.max));
    return { source: 'pair', entries };
  }));

  RED.httpAdmin.get('/redundancy/pairs/:id/search', read, handler(async (req) => {
    const node = deployedPair(req.params.id);
    const pair = node.pair;
    if (!pair) throw new HttpError(404, node.configError ?? 'the pair is not running');
    const text = String(req.query.text ?? '');
    if (!text.trim()) throw new HttpError(400, 'type part of a browse name to search for');
    return searchAddressSpace((id, max) => pair.browse(id, max), text, { start: checkStart(req.query.node), deadline: Date.now() + timeoutOf(req.query.timeoutMs) });
  }));

  // -- anything that connects with the dialog's settings (write permission) --

  RED.httpAdmin.post('/redundancy/opcua/discover', write, handler(async (req) => {
    const endpoint = String(req.body?.endpoint ?? '').trim();
    const bad = checkOpcuaEndpoint(endpoint);
    if (bad) throw new HttpError(400, bad);
    const endpoints = await discoverEndpoints(endpoint, timeoutOf(req.body?.timeoutMs));
    const dir = userDir();
    const certificates: Record<string, unknown> = {};
    for (const e of endpoints) {
      if (!e.serverCertificate || !e.serverCertificateThumbprint || certificates[e.serverCertificateThumbprint]) continue;
      const der = Buffer.from(e.serverCertificate, 'base64');
      certificates[e.serverCertificateThumbprint] = { ...describeCertificate(der), trust: await trustState(dir, der) };
    }
    return { endpoints: endpoints.map(({ serverCertificate: _omit, ...e }) => e), certificates };
  }));

  RED.httpAdmin.post('/redundancy/opcua/browse', write, handler(async (req) => {
    const body = (req.body ?? {}) as DialogSettings & { node?: string; max?: number; timeoutMs?: number };
    const settings = temporarySettings(body);
    const start = checkStart(body.node);
    const max = maxOf(body.max);
    const entries = await withTemporarySession(settings, timeoutOf(body.timeoutMs), (driver) => driver.browse(start, max));
    return { source: 'connection', entries };
  }));

  RED.httpAdmin.post('/redundancy/opcua/search', write, handler(async (req) => {
    const body = (req.body ?? {}) as DialogSettings & { node?: string; text?: string; timeoutMs?: number };
    const settings = temporarySettings(body);
    const text = String(body.text ?? '');
    if (!text.trim()) throw new HttpError(400, 'type part of a browse name to search for');
    const timeout = timeoutOf(body.timeoutMs);
    const start = checkStart(body.node);
    // The search stops a little before the connection's bound, with what it found.
    return withTemporarySession(settings, timeout, (driver) =>
      searchAddressSpace((id, max): Promise<BrowseEntry[]> => driver.browse(id, max), text, { start, deadline: Date.now() + timeout - 500 }),
    );
  }));

  RED.httpAdmin.post('/redundancy/opcua/trust', write, handler(async (req) => {
    const thumbprint = String(req.body?.thumbprint ?? '').trim().toLowerCase();
    if (!/^[0-9a-f]{40}$/.test(thumbprint)) throw new HttpError(400, 'a certificate thumbprint (40 hex digits) is required');
    const dir = userDir();
    let der = await rejectedCertificate(dir, thumbprint);
    const endpoint = String(req.body?.endpoint ?? '').trim();
    if (!der && endpoint) {
      // Not refused yet (seen by "discover"): fetched from the server again, and trusted only if it
      // is the very certificate the operator saw.
      if (checkOpcuaEndpoint(endpoint)) throw new HttpError(400, checkOpcuaEndpoint(endpoint)!);
      const endpoints = await discoverEndpoints(endpoint, timeoutOf(req.body?.timeoutMs));
      const hit = endpoints.find((e) => e.serverCertificateThumbprint === thumbprint && e.serverCertificate);
      if (hit?.serverCertificate) der = Buffer.from(hit.serverCertificate, 'base64');
    }
    if (!der || thumbprintOf(der) !== thumbprint) throw new HttpError(404, `no certificate with thumbprint ${thumbprint} among the refused ones${endpoint ? ` or offered by ${endpoint}` : ''}`);
    const info = await trustCertificate(dir, der);
    RED.log.info(`[redundant-pair] server certificate trusted: ${info.subject} (thumbprint ${info.thumbprint})`);
    return { trusted: info, folder: clientPkiFolder(dir) };
  }));

  // -- the store itself (read permission) --

  RED.httpAdmin.get('/redundancy/opcua/certificates', read, handler(async () => {
    const dir = userDir();
    const own = await ownCertificate(dir);
    return {
      folder: clientPkiFolder(dir),
      own: { ...own.info, file: own.file },
      trusted: await listCertificates(dir, 'trusted'),
      rejected: await listCertificates(dir, 'rejected'),
      verdicts: certificateVerdicts(),
    };
  }));

  RED.httpAdmin.get('/redundancy/opcua/client-certificate.:format', read, (req: Req, res: Res) => {
    ownCertificate(userDir()).then(
      (own) => {
        const der = req.params.format === 'der';
        res.set('Content-Disposition', `attachment; filename="node-red-contrib-redundancy-client.${der ? 'der' : 'pem'}"`);
        res.type(der ? 'application/pkix-cert' : 'application/x-pem-file').send(der ? own.der : own.pem);
      },
      (err: unknown) => res.status(500).json({ error: errorText(err) }),
    );
  });
}
