// Who may talk to the gateway and how: security modes and policies of its endpoints, user
// accounts (passwords come from Node-RED credentials), anonymous access, who may write.
import { timingSafeEqual, createHash } from 'node:crypto';
import { MessageSecurityMode, type NodeId, SecurityPolicy, WellKnownRoles, makeRoles } from 'node-opcua';

export type GatewaySecurityMode = 'None' | 'Sign' | 'SignAndEncrypt';
export type GatewaySecurityPolicy = 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss';
export const SECURITY_MODES: readonly GatewaySecurityMode[] = ['None', 'Sign', 'SignAndEncrypt'];
export const SECURITY_POLICIES: readonly GatewaySecurityPolicy[] = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'];

export interface GatewayUser {
  name: string;
  password: string;
  /** May write (role Operator); otherwise reads only. */
  write: boolean;
}

export interface SecurityOptions {
  securityModes: GatewaySecurityMode[];
  /** Policies of the Sign / SignAndEncrypt endpoints. */
  securityPolicies: GatewaySecurityPolicy[];
  allowAnonymous: boolean;
  /** Anonymous sessions may write (off by default). */
  anonymousWrite: boolean;
  /** No client may write, whoever it is. */
  readOnly: boolean;
  users: GatewayUser[];
}

export function validateSecurity(o: SecurityOptions): string[] {
  const problems: string[] = [];
  if (o.securityModes.length === 0) problems.push('at least one security mode is required (None, Sign, SignAndEncrypt)');
  for (const m of o.securityModes) if (!SECURITY_MODES.includes(m)) problems.push(`unknown security mode ${m}`);
  for (const p of o.securityPolicies) if (!SECURITY_POLICIES.includes(p)) problems.push(`unknown security policy ${p} (known: ${SECURITY_POLICIES.join(', ')})`);
  if (o.securityModes.some((m) => m !== 'None') && o.securityPolicies.length === 0) problems.push('Sign and SignAndEncrypt need at least one security policy');
  if (!o.allowAnonymous && o.users.length === 0) problems.push('anonymous access is off and no user is configured: nobody could log in');
  const names = new Set<string>();
  for (const u of o.users) {
    if (!u.name) problems.push('a user has no name');
    else if (names.has(u.name)) problems.push(`user ${u.name} is configured twice`);
    else if (!u.password) problems.push(`user ${u.name} has no password`);
    names.add(u.name);
  }
  return problems;
}

/**
 * node-opcua's securityModes/securityPolicies for the configured endpoints. The policies also
 * encrypt user passwords on a None endpoint (a password never crosses the wire in clear).
 */
export function endpointSecurity(o: SecurityOptions): { modes: MessageSecurityMode[]; policies: SecurityPolicy[] } {
  const modes = o.securityModes.map((m) => MessageSecurityMode[m]);
  const policies: SecurityPolicy[] = o.securityPolicies.map((p) => SecurityPolicy[p]);
  if (o.securityModes.includes('None')) policies.unshift(SecurityPolicy.None);
  return { modes, policies };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Checks passwords in constant time; users allowed to write get the Operator role. */
export function userManager(users: GatewayUser[]): { isValidUser(user: string, password: string): boolean; getUserRoles(user: string): NodeId[] } {
  const byName = new Map(users.map((u) => [u.name, { hash: digest(u.password), write: u.write }]));
  return {
    isValidUser(user: string, password: string): boolean {
      const u = byName.get(user);
      const given = digest(password ?? '');
      // Same work whether the user exists or not.
      const expected = u?.hash ?? digest(`\u0000no such user\u0000${user}`);
      return timingSafeEqual(given, expected) && u !== undefined;
    },
    getUserRoles(user: string): NodeId[] {
      return byName.get(user)?.write ? makeRoles([WellKnownRoles.Operator]) : [];
    },
  };
}
