// The redundancy-gateway config node's editor properties as gateway options, and its contract with
// the flow nodes that expose pairs through it.
import type { GatewayOptions, GatewayServer, GatewayState } from '../../lib/gateway/server';
import { DEFAULT_RESOURCE_PATH } from '../../lib/gateway/server';
import type { RedundancySupportName } from '../../lib/gateway/redundancy';
import type { GatewaySecurityMode, GatewaySecurityPolicy, GatewayUser } from '../../lib/gateway/security';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

/** Password credentials: one per user slot (Node-RED credentials are declared up front). */
export const USER_SLOTS = 8;

export interface GatewayUserNode {
  id: string;
  onGatewayState(state: GatewayState, gateway: GatewayNodeInfo): void;
}

export interface GatewayNodeInfo {
  endpointUrl: string;
  acceptAllCertificates: boolean;
  error?: string;
}

export interface RedundancyGatewayNode extends Node {
  /** Resolves once the server listens; rejects with the reason it cannot. */
  ready?: Promise<GatewayServer>;
  gateway?: GatewayServer;
  configError?: string;
  info(): GatewayNodeInfo;
  register(user: GatewayUserNode): void;
  deregister(user: GatewayUserNode): void;
}

interface UserDef {
  name?: unknown;
  write?: unknown;
  slot?: unknown;
}

interface PeerDef {
  endpointUrl?: unknown;
  applicationUri?: unknown;
}

/** The gateway options of a config node's properties and credentials (validated by GatewayServer). */
export function parseGatewayConfig(def: NodeDef, credentials: Record<string, string | undefined>, pkiRoot: string): GatewayOptions {
  const modes: GatewaySecurityMode[] = [];
  if (boolProp(def, 'modeNone', true)) modes.push('None');
  if (boolProp(def, 'modeSign', false)) modes.push('Sign');
  if (boolProp(def, 'modeSignAndEncrypt', false)) modes.push('SignAndEncrypt');
  const policies: GatewaySecurityPolicy[] = [];
  if (boolProp(def, 'policyBasic256Sha256', true)) policies.push('Basic256Sha256');
  if (boolProp(def, 'policyAes128', true)) policies.push('Aes128_Sha256_RsaOaep');
  if (boolProp(def, 'policyAes256', true)) policies.push('Aes256_Sha256_RsaPss');
  const users: GatewayUser[] = (Array.isArray(def.users) ? (def.users as UserDef[]) : []).map((u, i) => {
    const slot = Number.isInteger(Number(u.slot)) ? Number(u.slot) : i;
    return { name: String(u.name ?? '').trim(), write: u.write === true || u.write === 'true', password: slot >= 0 && slot < USER_SLOTS ? (credentials[`password${slot}`] ?? '') : '' };
  });
  const support = String(def.redundancy || 'None') as RedundancySupportName;
  const peers = (Array.isArray(def.peers) ? (def.peers as PeerDef[]) : []).map((p) => ({ endpointUrl: String(p.endpointUrl ?? '').trim(), applicationUri: String(p.applicationUri ?? '').trim() }));
  return {
    id: def.id,
    port: numberProp(def, 'port', 4850),
    hostname: String(def.hostname ?? '').trim() || undefined,
    resourcePath: String(def.resourcePath ?? '').trim() || DEFAULT_RESOURCE_PATH,
    applicationName: String(def.applicationName ?? '').trim() || 'node-red-redundancy-gateway',
    applicationUri: String(def.applicationUri ?? '').trim() || undefined,
    pkiRoot,
    acceptAllCertificates: boolProp(def, 'acceptAll', false),
    securityModes: modes,
    securityPolicies: policies,
    allowAnonymous: boolProp(def, 'allowAnonymous', true),
    anonymousWrite: boolProp(def, 'anonymousWrite', false),
    readOnly: boolProp(def, 'readOnly', false),
    users,
    maxSessions: numberProp(def, 'maxSessions', 100),
    redundancy: support === 'None' ? undefined : { support, rank: numberProp(def, 'rank', 1), peers },
  };
}
