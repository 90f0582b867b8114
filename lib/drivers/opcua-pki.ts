// The package's OPC UA certificate store, as a plant's PKI: one folder per side in the Node-RED
// user directory, kept across restarts and backed up with it:
//
//   <userDir>/node-red-contrib-redundancy/pki/client/   the clients of every pair (this module)
//   <userDir>/node-red-contrib-redundancy/pki/gateway/  the gateway's server side (same layout)
//
// Each is node-opcua's OPCUACertificateManager layout: own/certs/client_certificate.pem (give it to
// the servers' administrators), own/private/, trusted/certs/ (servers this client trusts),
// rejected/ (servers it refused, waiting for a decision), issuers/certs/ (CA certificates) and
// the CRL folders. A server certificate that is not trusted is refused; the pair's status and
// dialog show it (subject, thumbprint, validity) and "trust" moves it to trusted/. For
// commissioning, a pair may accept unknown certificates without storing them (its status stays
// yellow while it does).
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { OPCUACertificateManager, StatusCodes, getHostname, makeApplicationUrn, makeSubject } from 'node-opcua';

/** The application name every client of the package uses (one certificate, one ApplicationUri). */
export const CLIENT_APPLICATION_NAME = 'node-red-contrib-redundancy';

/** `<userDir>/node-red-contrib-redundancy/pki`: the package's certificate stores. */
export function pkiRoot(userDir: string): string {
  return join(userDir, 'node-red-contrib-redundancy', 'pki');
}

/** The clients' store. */
export function clientPkiFolder(userDir: string): string {
  return join(pkiRoot(userDir), 'client');
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

const managers = new Map<string, Promise<OPCUACertificateManager>>();

/**
 * The clients' certificate manager of a user dir, created once per process (and its own
 * certificate with it, so it can be handed to the servers' administrators before the first
 * connection). Unknown server certificates are refused and kept in rejected/.
 */
export function clientCertificateManager(userDir: string): Promise<OPCUACertificateManager> {
  const folder = clientPkiFolder(userDir);
  let m = managers.get(folder);
  if (!m) {
    m = (async () => {
      const manager = new OPCUACertificateManager({ rootFolder: folder, automaticallyAcceptUnknownCertificate: false, name: 'client' });
      await manager.initialize();
      await ensureOwnCertificate(manager);
      return manager;
    })();
    managers.set(folder, m);
    m.catch(() => managers.delete(folder));
  }
  return m;
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

function pemToDer(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

async function readCertificateFile(file: string): Promise<Buffer | undefined> {
  const data = await readFile(file);
  if (data.includes('-----BEGIN CERTIFICATE-----')) return pemToDer(data.toString('utf8'))[0];
  return data.length > 0 ? data : undefined;
}

/** The clients' own certificate (DER and PEM), created if it is not there yet. */
export async function ownCertificate(userDir: string): Promise<{ der: Buffer; pem: string; info: CertificateInfo; file: string }> {
  const manager = await clientCertificateManager(userDir);
  const file = ownCertificateFile(manager);
  const der = await readCertificateFile(file);
  if (!der) throw new Error(`no client certificate in ${file}`);
  const pem = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return { der, pem, info: describeCertificate(der), file };
}

export interface StoredCertificate extends CertificateInfo {
  file: string;
}

/** The certificates in trusted/certs or rejected/ of the clients' store. */
export async function listCertificates(userDir: string, which: 'trusted' | 'rejected'): Promise<StoredCertificate[]> {
  const manager = await clientCertificateManager(userDir);
  const folder = which === 'trusted' ? manager.trustedFolder : manager.rejectedFolder;
  const files = existsSync(folder) ? (await readdir(folder)).filter((f) => /\.(pem|der|crt|cer)$/i.test(f)) : [];
  const out: StoredCertificate[] = [];
  for (const f of files) {
    try {
      const der = await readCertificateFile(join(folder, f));
      if (der) out.push({ ...describeCertificate(der), file: join(folder, f) });
    } catch {
      /* not a certificate: skip */
    }
  }
  return out;
}

/** Trusted, rejected (seen and refused) or unknown to the clients' store. */
export async function trustState(userDir: string, der: Buffer): Promise<TrustState> {
  const manager = await clientCertificateManager(userDir);
  const status = await manager.getTrustStatus(firstCertificate(der));
  if (status.equals(StatusCodes.Good)) return 'trusted';
  const thumbprint = thumbprintOf(der);
  return (await listCertificates(userDir, 'rejected')).some((c) => c.thumbprint === thumbprint) ? 'rejected' : 'unknown';
}

/** Moves a certificate into trusted/ (from rejected/ when it is there). */
export async function trustCertificate(userDir: string, der: Buffer): Promise<CertificateInfo> {
  const manager = await clientCertificateManager(userDir);
  await manager.trustCertificate(firstCertificate(der));
  return describeCertificate(der);
}

/** A certificate of rejected/ by its thumbprint. */
export async function rejectedCertificate(userDir: string, thumbprint: string): Promise<Buffer | undefined> {
  const manager = await clientCertificateManager(userDir);
  const folder = manager.rejectedFolder;
  if (!existsSync(folder)) return undefined;
  for (const f of await readdir(folder)) {
    try {
      const der = await readCertificateFile(join(folder, f));
      if (der && thumbprintOf(der) === thumbprint.toLowerCase()) return der;
    } catch {
      /* skip */
    }
  }
  return undefined;
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
export function certificateRefusal(v: CertificateVerdict, userDir: string): string {
  const what = v.status === 'BadCertificateUntrusted' ? 'not trusted' : v.status === 'BadCertificateTimeInvalid' ? 'outside its validity' : `refused (${v.status})`;
  return `server certificate ${what}: ${v.info.commonName} (thumbprint ${v.info.thumbprint.slice(0, 16)}…, valid to ${v.info.validTo.slice(0, 10)}); trust it in the pair's dialog or copy it to ${join(clientPkiFolder(userDir), 'trusted', 'certs')}`;
}
