// The gateway's certificate store: node-opcua's OPCUACertificateManager layout under
// `<userDir>/node-red-contrib-redundancy/pki/gateway` (own/, trusted/certs/, rejected/, issuers/).
// A client certificate the gateway does not know is put into rejected/ and refused until it is
// trusted: here (the editor's buttons) or by moving the file into trusted/certs/.
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';

export const PKI_SUBDIR = join('node-red-contrib-redundancy', 'pki', 'gateway');

export function gatewayPkiRoot(userDir: string): string {
  return join(userDir, PKI_SUBDIR);
}

export interface CertificateInfo {
  /** SHA-1 of the DER, hex lower case (what node-opcua names the file after). */
  thumbprint: string;
  subject: string;
  applicationUri?: string;
  validFrom: string;
  validTo: string;
  status: 'trusted' | 'rejected';
  file: string;
}

function derBlocks(text: string): Buffer[] {
  const out: Buffer[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
  return out;
}

function readCertificate(file: string): Buffer | undefined {
  const raw = readFileSync(file);
  if (/\.(der|cer)$/i.test(file)) return raw;
  return derBlocks(raw.toString('utf8'))[0];
}

function describe(der: Buffer, status: CertificateInfo['status'], file: string): CertificateInfo {
  const x = new X509Certificate(der);
  const uri = /URI:([^,\s]+)/.exec(x.subjectAltName ?? '')?.[1];
  return {
    thumbprint: x.fingerprint.replace(/:/g, '').toLowerCase(),
    subject: x.subject.replace(/\n/g, ', '),
    applicationUri: uri,
    validFrom: new Date(x.validFrom).toISOString(),
    validTo: new Date(x.validTo).toISOString(),
    status,
    file,
  };
}

/** One certificate manager per store folder in the process, initialized once. */
const managers = new Map<string, Promise<OPCUACertificateManager>>();
export async function certificateManager(root: string, acceptAll?: boolean): Promise<OPCUACertificateManager> {
  let m = managers.get(root);
  if (!m) {
    const manager = new OPCUACertificateManager({ rootFolder: root, automaticallyAcceptUnknownCertificate: acceptAll === true });
    m = manager.initialize().then(() => manager);
    m.catch(() => managers.delete(root));
    managers.set(root, m);
  }
  const manager = await m;
  // "Accept all" is the gateway's current setting (a redeploy may change it); undefined leaves it.
  if (acceptAll !== undefined) (manager as unknown as { automaticallyAcceptUnknownCertificate: boolean }).automaticallyAcceptUnknownCertificate = acceptAll;
  return manager;
}

/** The gateway's own certificate for an application URI (one store, one certificate per URI). */
export function ownCertificateFile(root: string, applicationUri: string): string {
  const slug = applicationUri.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 100);
  return join(root, 'own', 'certs', `gateway-${slug}.pem`);
}

/** Client certificates the gateway has seen: trusted and rejected. */
export function listCertificates(root: string): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  const scan = (dir: string, status: CertificateInfo['status']) => {
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir)) {
      if (!/\.(pem|der|cer)$/i.test(f)) continue;
      try {
        const der = readCertificate(join(dir, f));
        if (der) out.push(describe(der, status, join(dir, f)));
      } catch {
        /* not a certificate */
      }
    }
  };
  scan(join(root, 'trusted', 'certs'), 'trusted');
  scan(join(root, 'rejected'), 'rejected');
  return out.sort((a, b) => a.status.localeCompare(b.status) || a.subject.localeCompare(b.subject));
}

/** Trusts (or rejects) a certificate the store knows, by thumbprint. */
export async function setTrust(root: string, manager: OPCUACertificateManager, thumbprint: string, trust: boolean): Promise<CertificateInfo> {
  const cert = listCertificates(root).find((c) => c.thumbprint === thumbprint.toLowerCase());
  if (!cert) throw new Error(`no certificate with thumbprint ${thumbprint} in ${root}`);
  const der = readCertificate(cert.file);
  if (!der) throw new Error(`${cert.file} holds no certificate`);
  if (trust) await manager.trustCertificate(der);
  else await manager.rejectCertificate(der);
  const after = listCertificates(root).find((c) => c.thumbprint === cert.thumbprint);
  return after ?? { ...cert, status: trust ? 'trusted' : 'rejected' };
}
