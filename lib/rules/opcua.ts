// OPC UA syntax, checked without a server: endpoint URLs and node ids (OPC 10000-6 §5.3.1.10
// string form, with nsu= namespace URIs). The messages say what is wrong and what it should look
// like. Pure: the editor loads this module too.
import { quote } from './text';

export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const SECURITY_POLICIES = ['None', 'Basic128Rsa15', 'Basic256', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityMode = (typeof SECURITY_MODES)[number];
export type SecurityPolicy = (typeof SECURITY_POLICIES)[number];

export interface EndpointParts {
  host: string;
  /** Without brackets for IPv6. */
  hostname: string;
  port?: number;
  path: string;
}

const EXAMPLE = 'opc.tcp://host:4840/path';

/** Splits an endpoint URL, or returns the message that says why it is not one. */
export function parseOpcuaEndpoint(url: unknown): EndpointParts | string {
  if (typeof url !== 'string' || url.trim() === '') return `an endpoint URL is required (${EXAMPLE})`;
  const u = url.trim();
  if (u !== url) return 'the endpoint URL must not start or end with a space';
  const scheme = /^([a-z][a-z0-9.+-]*):\/\//i.exec(u);
  if (!scheme) return `${quote(u)} is not an OPC UA endpoint URL: it must look like ${EXAMPLE}`;
  if (scheme[1].toLowerCase() !== 'opc.tcp') return `${quote(u)} uses ${scheme[1]}://; an OPC UA endpoint starts with opc.tcp:// (${EXAMPLE})`;
  const rest = u.slice(scheme[0].length);
  if (/\s/.test(rest)) return `${quote(u)} contains a space; an endpoint URL has none`;
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';
  if (authority.includes('@')) return `${quote(u)}: user names do not go into the URL; set them under Login`;
  let hostname: string;
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return `${quote(u)}: the IPv6 address is not closed with "]" (opc.tcp://[::1]:4840)`;
    hostname = authority.slice(1, close);
    host = authority.slice(0, close + 1);
    const after = authority.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return `${quote(u)}: after the IPv6 address comes ":port" or "/path"`;
    portText = after ? after.slice(1) : undefined;
    if (!/^[0-9a-f:.]+(%[\w.-]+)?$/i.test(hostname) || !hostname.includes(':')) return `${quote(u)}: [${hostname}] is not an IPv6 address`;
  } else {
    const colons = authority.split(':').length - 1;
    if (colons > 1) return `${quote(u)}: an IPv6 address must be written in brackets, e.g. opc.tcp://[::1]:4840`;
    const colon = authority.indexOf(':');
    hostname = colon >= 0 ? authority.slice(0, colon) : authority;
    host = hostname;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
    if (hostname === '') return `${quote(u)} names no host (${EXAMPLE})`;
    // Host names of any script (IDN), IPv4 literals; no characters a URL cannot carry.
    if (!/^[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*\.?$/u.test(hostname)) return `${quote(u)}: ${quote(hostname)} is not a host name or IP address`;
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d+$/.test(portText)) return `${quote(u)}: the port ${quote(portText)} is not a number`;
    port = Number(portText);
    if (port < 1 || port > 65535) return `${quote(u)}: port ${portText} is out of range; a TCP port is 1–65535`;
  }
  return { host, hostname, port, path };
}

export function checkOpcuaEndpoint(url: unknown): string | undefined {
  const p = parseOpcuaEndpoint(url);
  return typeof p === 'string' ? p : undefined;
}

/**
 * An endpoint for comparing two endpoints: host names are case-insensitive, the default port is
 * 4840 and a trailing "/" names the same resource (opc.tcp://Host:4840/ = opc.tcp://host). Text
 * that is no endpoint is its own key.
 */
export function endpointKey(url: string): string {
  const p = parseOpcuaEndpoint(url);
  if (typeof p === 'string') return url.trim();
  return `${p.host.toLowerCase()}:${p.port ?? 4840}${p.path.replace(/\/+$/, '')}`;
}

export interface ParsedNodeId {
  /** Namespace index (absent when nsu= gives the URI). */
  ns?: number;
  nsu?: string;
  type: 'i' | 's' | 'g' | 'b';
  value: string;
}

const NODE_ID_HELP = 'e.g. ns=2;s=Line1.Speed, ns=3;i=1001, nsu=urn:plant:server;s=Tag, i=2258';

/** Parses the string form of a node id, or returns the message that says why it is not one. */
export function parseNodeId(id: unknown): ParsedNodeId | string {
  if (typeof id !== 'string' || id.trim() === '') return `a node id is required (${NODE_ID_HELP})`;
  const s = id.trim();
  if (s !== id) return `the node id ${quote(id)} must not start or end with a space`;
  let rest = s;
  let ns: number | undefined;
  let nsu: string | undefined;
  const nsMatch = /^ns=([^;]*);/.exec(rest);
  if (nsMatch) {
    if (!/^\d+$/.test(nsMatch[1]) || Number(nsMatch[1]) > 65535) return `${quote(s)}: the namespace index ${quote(nsMatch[1])} must be a number 0–65535`;
    ns = Number(nsMatch[1]);
    rest = rest.slice(nsMatch[0].length);
  } else if (rest.startsWith('nsu=')) {
    const semi = rest.indexOf(';');
    if (semi < 0) return `${quote(s)}: nsu= needs the namespace URI, a ";" and the identifier, e.g. nsu=urn:plant:server;s=Tag`;
    nsu = rest.slice(4, semi);
    if (nsu === '') return `${quote(s)}: the namespace URI after nsu= is empty`;
    rest = rest.slice(semi + 1);
  }
  const m = /^([isgb])=([\s\S]*)$/.exec(rest);
  if (!m) {
    const hint = /^[\p{L}_][\p{L}\p{N}_.\-/ ]*$/u.test(s) ? `; if it is a tag name, it needs its namespace and type, e.g. ns=1;s=${s} (or use Browse)` : '';
    return `${quote(s)} is not a node id (${NODE_ID_HELP})${hint}`;
  }
  const type = m[1] as ParsedNodeId['type'];
  const value = m[2];
  switch (type) {
    case 'i':
      if (!/^\d+$/.test(value) || Number(value) > 4294967295) return `${quote(s)}: a numeric identifier (i=) must be a whole number 0–4294967295`;
      break;
    case 's':
      if (value === '') return `${quote(s)}: the string identifier after s= is empty`;
      break;
    case 'g':
      if (!/^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i.test(value)) return `${quote(s)}: a GUID identifier (g=) looks like 72962B91-FA75-4AE6-8D28-B404DC7DAF63`;
      break;
    case 'b':
      if (value === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return `${quote(s)}: an opaque identifier (b=) must be base64`;
      break;
  }
  return { ns, nsu, type, value };
}

export function checkNodeId(id: unknown): string | undefined {
  const p = parseNodeId(id);
  return typeof p === 'string' ? p : undefined;
}

/** Security mode and policy go together: None with None, and only with it. */
export function checkSecurity(mode: unknown, policy: unknown): string | undefined {
  const m = mode === undefined || mode === '' ? 'None' : String(mode);
  const p = policy === undefined || policy === '' ? 'None' : String(policy);
  if (!(SECURITY_MODES as readonly string[]).includes(m)) return `unknown security mode ${quote(m)} (${SECURITY_MODES.join(', ')})`;
  if (!(SECURITY_POLICIES as readonly string[]).includes(p)) return `unknown security policy ${quote(p)} (${SECURITY_POLICIES.join(', ')})`;
  if (m === 'None' && p !== 'None') return `security policy ${p} needs a security mode Sign or Sign and encrypt`;
  if (m !== 'None' && p === 'None') return `security mode ${m} needs a security policy (Basic256Sha256 is the usual one)`;
  return undefined;
}
