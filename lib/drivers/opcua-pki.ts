// The package's OPC UA certificate stores, as a plant's PKI: one folder per side in the Node-RED
// user directory, kept across restarts and backed up with it:
//
//   <userDir>/node-red-contrib-redundancy/pki/client/   the clients of every pair
//   <userDir>/node-red-contrib-redundancy/pki/gateway/  the gateway's server side
//
// Each is node-opcua's OPCUACertificateManager layout: own/certs/ (the side's own certificate: give
// it to the other side's administrators), own/private/, trusted/certs/ (peers it trusts),
// rejected/ (peers it refused, waiting for a decision), issuers/certs/ (CA certificates) and the
// CRL folders. One implementation serves both stores (reading, describing, listing, trusting).
// Client side: a server certificate that is not trusted is refused; the pair's status and dialog
// show it (subject, thumbprint, validity) and "trust" moves it to trusted/. For commissioning, a
// pair may accept unknown certificates without storing them (its status stays yellow while it
// does). Gateway side: a client certificate it does not know is put into rejected/ and refused
// until it is trusted (the gateway dialog's buttons, or moving the file into trusted/certs/).
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OPCUACertificateManager, StatusCodes, getHostname, makeApplicationUrn, makeSubject } from 'node-opcua';
import { resolveUserDir } from '../core/user-dir';

/** The application name every client of the package uses (one certificate, one ApplicationUri). */
export const CLIENT_APPLICATION_NAME = 'node-red-contrib-redundancy';

/** `<userDir>/node-red-contrib-redundancy/pki`: the package's certificate stores (user dir: see core/user-dir.ts). */
function pkiRoot(userDir: string | undefined): string {
  return join(resolveUserDir(userDir), 'node-red-contrib-redundancy', 'pki');
}

/** The clients' store. */
export function clientPkiFolder(userDir: string | undefined): string {
  return join(pkiRoot(userDir), 'client');
}

/** The gateway's store. */
export function gatewayPkiFolder(userDir: string | undefined): string {
  return join(pkiRoot(userDir), 'gateway');
}

export interface CertificateInfo {
  /** Subject as one line: 'CN=sim, O=…'. */
  subject: string;
  commonName: string;
  issuer: string;
  selfSigned: boolean;
  /** SHA-1 of the DER, hex lower case (as node-opcua names files and OPC UA tools show it). */
  thumbprint: string;
  validFrom: string;
  validTo: string;
  /** True when now is outside validFrom..validTo. */
  expired: boolean;
  /** URI and DNS names from subjectAltName. */
  applicationUri?: string;
  dns: string[];
}

export type TrustState = 'trusted' | 'rejected' | 'unknown';

/** The first certificate of a DER chain (a server may send its chain). */
function firstCertificate(der: Buffer): Buffer {
  // A DER SEQUENCE: 0x30, then the length (short or long form).
  if (der.length < 4 || der[0] !== 0x30) return der;
  const b = der[1];
  if (b < 0x80) return der.subarray(0, 2 + b);
  const n = b & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i];
  return der.subarray(0, 2 + n + len);
}

export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(firstCertificate(der)).digest('hex');
}

/** What an operator needs to decide about a certificate. */
export function describeCertificate(der: Buffer): CertificateInfo {
  const cert = firstCertificate(der);
  const x = new X509Certificate(cert);
  const line = (s: string) => s.split('\n').filter(Boolean).join(', ');
  const alt = x.subjectAltName ?? '';
  const uri = /URI:([^,]+)/.exec(alt)?.[1];
  const now = Date.now();
  return {
    subject: line(x.subject),
    commonName: /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? line(x.subject),
    issuer: line(x.issuer),
    selfSigned: x.subject === x.issuer,
    thumbprint: thumbprintOf(cert),
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
    expired: now < Date.parse(x.validFrom) || now > Date.parse(x.validTo),
    applicationUri: uri?.trim(),
    dns: [...alt.matchAll(/DNS:([^,]+)/g)].map((m) => m[1].trim()),
  };
}

function pemToDer(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

/** A certificate file of a store: PEM (its first certificate) or DER. */
async function readCertificateFile(file: string): Promise<Buffer | undefined> {
  const data = await readFile(file);
  if (data.includes('-----BEGIN CERTIFICATE-----')) return pemToDer(data.toString('utf8'))[0];
  return data.length > 0 ? data : undefined;
}

// -- a store, either side --

const managers = new Map<string, Promise<OPCUACertificateManager>>();

/**
 * The certificate manager of a store folder, created and initialized once per process; `prepare`
 * runs once after the initialization (a failed start is forgotten, so the next call tries again).
 */
function storeManager(folder: string, prepare?: (manager: OPCUACertificateManager) => Promise<void>): Promise<OPCUACertificateManager> {
  let m = managers.get(folder);
  if (!m) {
    m = (async () => {
      const manager = new OPCUACertificateManager({ rootFolder: folder, automaticallyAcceptUnknownCertificate: false });
      await manager.initialize();
      await prepare?.(manager);
      return manager;
    })();
    managers.set(folder, m);
    m.catch(() => managers.delete(folder));
  }
  return m;
}

export type StoreList = 'trusted' | 'rejected';

export interface StoredCertificate extends CertificateInfo {
  status: StoreList;
  file: string;
}

/** trusted/certs or rejected/ of a store folder (the manager's trustedFolder and rejectedFolder). */
function listFolder(folder: string, which: StoreList): string {
  return which === 'trusted' ? join(folder, 'trusted', 'certs') : join(folder, 'rejected');
}

/** The certificates of a store's lists, each with its DER; files that hold none are skipped. */
async function scanStore(folder: string, lists: StoreList[]): Promise<Array<{ der: Buffer; stored: StoredCertificate }>> {
  const out: Array<{ der: Buffer; stored: StoredCertificate }> = [];
  for (const which of lists) {
    const dir = listFolder(folder, which);
    const files = existsSync(dir) ? (await readdir(dir)).filter((f) => /\.(pem|der|crt|cer)$/i.test(f)) : [];
    for (const f of files) {
      try {
        const der = await readCertificateFile(join(dir, f));
        if (der) out.push({ der, stored: { ...describeCertificate(der), status: which, file: join(dir, f) } });
      } catch {
        /* not a certificate: skip */
      }
    }
  }
  return out;
}

/** A certificate of a store's lists by its thumbprint. */
async function findInStore(folder: string, thumbprint: string, lists: StoreList[]): Promise<{ der: Buffer; stored: StoredCertificate } | undefined> {
  const wanted = thumbprint.toLowerCase();
  return (await scanStore(folder, lists)).find((c) => c.stored.thumbprint === wanted);
}

// -- the clients' store --

/**
 * The clients' certificate manager of a user dir, created once per process (and its own
 * certificate with it, so it can be handed to the servers' administrators before the first
 * connection). Unknown server certificates are refused and kept in rejected/.
 */
export function clientCertificateManager(userDir: string | undefined): Promise<OPCUACertificateManager> {
  return storeManager(clientPkiFolder(userDir), ensureOwnCertificate);
}

/** The path of the clients' own certificate (node-opcua's default file name). */
function ownCertificateFile(manager: OPCUACertificateManager): string {
  return join(manager.rootDir, 'own', 'certs', 'client_certificate.pem');
}

/** Creates the clients' certificate the way node-opcua's client would (same URI and subject), once. */
async function ensureOwnCertificate(manager: OPCUACertificateManager): Promise<void> {
  const file = ownCertificateFile(manager);
  if (existsSync(file)) return;
  const hostname = getHostname();
  await manager.createSelfSignedCertificate({
    applicationUri: makeApplicationUrn(hostname, CLIENT_APPLICATION_NAME),
    dns: [hostname],
    outputFile: file,
    subject: makeSubject(CLIENT_APPLICATION_NAME, hostname),
    startDate: new Date(),
    validity: 365 * 10,
  });
}

/** The clients' own certificate (DER and PEM), created if it is not there yet. */
export async function ownCertificate(userDir: string | undefined): Promise<{ der: Buffer; pem: string; info: CertificateInfo; file: string }> {
  const manager = await clientCertificateManager(userDir);
  const file = ownCertificateFile(manager);
  const der = await readCertificateFile(file);
  if (!der) throw new Error(`no client certificate in ${file}`);
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { der, pem, info: describeCertificate(der), file };
}

/** The certificates in trusted/certs or rejected/ of the clients' store. */
export async function listCertificates(userDir: string | undefined, which: StoreList): Promise<StoredCertificate[]> {
  const manager = await clientCertificateManager(userDir);
  return (await scanStore(manager.rootDir, [which])).map((c) => c.stored);
}

/** Trusted, rejected (seen and refused) or unknown to the clients' store. */
export async function trustState(userDir: string | undefined, der: Buffer): Promise<TrustState> {
  const manager = await clientCertificateManager(userDir);
  const status = await manager.getTrustStatus(firstCertificate(der));
  if (status.equals(StatusCodes.Good)) return 'trusted';
  return (await findInStore(manager.rootDir, thumbprintOf(der), ['rejected'])) ? 'rejected' : 'unknown';
}

/** Moves a certificate into trusted/ (from rejected/ when it is there). */
export async function trustCertificate(userDir: string | undefined, der: Buffer): Promise<CertificateInfo> {
  const manager = await clientCertificateManager(userDir);
  await manager.trustCertificate(firstCertificate(der));
  return describeCertificate(der);
}

/** A certificate of rejected/ by its thumbprint. */
export async function rejectedCertificate(userDir: string | undefined, thumbprint: string): Promise<Buffer | undefined> {
  const manager = await clientCertificateManager(userDir);
  return (await findInStore(manager.rootDir, thumbprint, ['rejected']))?.der;
}

// -- the gateway's store (its folder is the gateway's option, gatewayPkiFolder(userDir) in Node-RED) --

/**
 * The gateway's certificate manager of a store folder, one per process. `acceptAll` is the
 * gateway's current "accept all client certificates" setting (a redeploy may change it);
 * undefined leaves it as it is.
 */
export async function gatewayCertificateManager(folder: string, acceptAll?: boolean): Promise<OPCUACertificateManager> {
  const manager = await storeManager(folder);
  if (acceptAll !== undefined) manager.automaticallyAcceptUnknownCertificate = acceptAll;
  return manager;
}

/** The gateway's own certificate for an application URI (one store, one certificate per URI). */
export function gatewayCertificateFile(folder: string, applicationUri: string): string {
  const slug = applicationUri.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  return join(folder, 'own', 'certs', `gateway-${slug}.pem`);
}

/** Client certificates the gateway has seen: trusted and rejected (the store is not created to list it). */
export async function gatewayCertificates(folder: string): Promise<StoredCertificate[]> {
  const all = (await scanStore(folder, ['trusted', 'rejected'])).map((c) => c.stored);
  return all.sort((a, b) => a.status.localeCompare(b.status) || a.subject.localeCompare(b.subject));
}

/** Trusts (or rejects) a client certificate the gateway's store knows, by thumbprint. */
export async function setGatewayTrust(folder: string, thumbprint: string, trust: boolean): Promise<StoredCertificate> {
  const found = await findInStore(folder, thumbprint, ['trusted', 'rejected']);
  if (!found) throw new Error(`no certificate with thumbprint ${thumbprint} in ${folder}`);
  const manager = await gatewayCertificateManager(folder);
  if (trust) await manager.trustCertificate(found.der);
  else await manager.rejectCertificate(found.der);
  return (await findInStore(folder, thumbprint, ['trusted', 'rejected']))?.stored ?? { ...found.stored, status: trust ? 'trusted' : 'rejected' };
}

/** A server certificate refused (or accepted as unknown) by a client, with the endpoint it came from. */
export interface CertificateVerdict {
  endpoint: string;
  info: CertificateInfo;
  /** StatusCode name: BadCertificateUntrusted, BadCertificateTimeInvalid... */
  status: string;
  /** True when the pair accepted it anyway (accept unknown certificates). */
  accepted: boolean;
  time: number;
}

/** The last verdict per endpoint in this process: the pair dialog shows them with a "trust" button. */
const verdicts = new Map<string, CertificateVerdict>();

export function certificateVerdicts(): CertificateVerdict[] {
  return [...verdicts.values()];
}

export function certificateVerdict(endpoint: string): CertificateVerdict | undefined {
  return verdicts.get(endpoint);
}

/**
 * The manager a client of one endpoint uses: the shared one, seen through a proxy that records
 * the verdict on the server's certificate (the driver turns a refusal into a message that names
 * the certificate) and, with `acceptUnknown`, accepts an untrusted one without storing it in
 * trusted/ (it stays in rejected/ for a later decision).
 */
export function checkingCertificateManager(manager: OPCUACertificateManager, endpoint: string, acceptUnknown: boolean): OPCUACertificateManager {
  const check = async (chain: Buffer | Buffer[]): Promise<unknown> => {
    const der = Array.isArray(chain) ? Buffer.concat(chain) : chain;
    const status = await manager.checkCertificate(der);
    if (status.equals(StatusCodes.Good)) {
      verdicts.delete(endpoint);
      return status;
    }
    let info: CertificateInfo | undefined;
    try {
      info = describeCertificate(der);
    } catch {
      /* unreadable: the status says enough */
    }
    const untrusted = status.equals(StatusCodes.BadCertificateUntrusted);
    const accepted = acceptUnknown && untrusted;
    if (info) verdicts.set(endpoint, { endpoint, info, status: status.name, accepted, time: Date.now() });
    return accepted ? StatusCodes.Good : status;
  };
  return new Proxy(manager, {
    get(target, prop) {
      if (prop === 'checkCertificate') {
        return (chain: Buffer | Buffer[], callback?: (err: Error | null, status?: unknown) => void) => {
          const p = check(chain);
          if (typeof callback === 'function') {
            p.then((s) => callback(null, s), (e: Error) => callback(e));
            return undefined;
          }
          return p;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Whether a reason is certificateRefusal's sentence (status texts and log de-duplication read it). */
export function isCertificateRefusal(reason: string): boolean {
  return /server certificate (not trusted|outside its validity|refused)/.test(reason);
}

/** An operator's sentence for a refused server certificate, with where to act. */
export function certificateRefusal(v: CertificateVerdict, userDir: string | undefined): string {
  const what = v.status === 'BadCertificateUntrusted' ? 'not trusted' : v.status === 'BadCertificateTimeInvalid' ? 'outside its validity' : `refused (${v.status})`;
  return `server certificate ${what}: ${v.info.commonName} (thumbprint ${v.info.thumbprint.slice(0, 16)}…, valid to ${v.info.validTo.slice(0, 10)}); trust it in the pair's dialog or copy it to ${join(clientPkiFolder(userDir), 'trusted', 'certs')}`;
}
