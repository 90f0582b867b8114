// The redundant-pair config node's contract with its users, and the parsing of its editor properties.
import type { PairOptions, RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, PairStatus, ServerRole } from '../../lib/core/types';
import { validateEndpointUrl, type SecurityModeName, type SecurityPolicyName } from '../../lib/drivers/opcua';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

export interface PairUser {
  id: string;
  onPairStatus(status: PairStatus): void;
}

export interface RedundantPairNode extends Node {
  pair?: RedundantPair;
  /** Set when the configuration is unusable: users show it, the flow still deploys. */
  configError?: string;
  register(user: PairUser): void;
  deregister(user: PairUser): void;
}

const SECURITY_MODES: SecurityModeName[] = ['None', 'Sign', 'SignAndEncrypt'];
const SECURITY_POLICIES: SecurityPolicyName[] = ['None', 'Basic128Rsa15', 'Basic256', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'];

export interface ParsedPairConfig {
  options: PairOptions;
  endpoints: Record<ServerRole, string>;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  userName?: string;
  password?: string;
}

/** Turns the editor's properties into engine options, or throws one message listing every problem. */
export function parsePairConfig(def: NodeDef, credentials: Record<string, string | undefined> = {}): ParsedPairConfig {
  const problems: string[] = [];
  const protocol = String(def.protocol ?? 'opcua');
  if (protocol !== 'opcua') problems.push(`protocol ${protocol} is not supported yet`);
  const endpoints = {
    primary: String(def.primaryEndpoint ?? '').trim(),
    secondary: String(def.secondaryEndpoint ?? '').trim(),
  };
  for (const role of ['primary', 'secondary'] as const) {
    const err = validateEndpointUrl(endpoints[role]);
    if (err) problems.push(`${role} endpoint: ${err}`);
  }
  if (endpoints.primary && endpoints.primary === endpoints.secondary) problems.push('primary and secondary endpoints are the same');
  const securityMode = String(def.securityMode || 'None') as SecurityModeName;
  const securityPolicy = String(def.securityPolicy || 'None') as SecurityPolicyName;
  if (!SECURITY_MODES.includes(securityMode)) problems.push(`unknown security mode ${securityMode}`);
  if (!SECURITY_POLICIES.includes(securityPolicy)) problems.push(`unknown security policy ${securityPolicy}`);
  if ((securityMode === 'None') !== (securityPolicy === 'None')) problems.push('security mode None goes with security policy None, and only with it');
  const useLogin = def.authMode === 'username';
  if (useLogin && !credentials.user) problems.push('user name missing (authentication is set to user/password)');
  const options: PairOptions = {
    name: String(def.name || 'pair'),
    mode: String(def.mode || 'hot') as ConnectionMode,
    pingIntervalMs: numberProp(def, 'pingInterval', 1000),
    pingTimeoutMs: numberProp(def, 'pingTimeout', 1000),
    autoPromote: boolProp(def, 'autoPromote', true),
    holdOffMs: numberProp(def, 'holdOff', 10_000),
    reconnectMaxMs: numberProp(def, 'reconnectMax', 10_000),
  };
  if (problems.length) throw new Error(problems.join('; '));
  return { options, endpoints, securityMode, securityPolicy, userName: useLogin ? credentials.user : undefined, password: useLogin ? credentials.password : undefined };
}

