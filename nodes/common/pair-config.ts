// The redundant-pair config node's contract with its users, and the parsing of its editor properties.
// The checks are lib/rules/pair (the editor shows the same messages under each field).
import type { PairOptions, RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, PairStatus, ServerRole } from '../../lib/core/types';
import type { SecurityModeName, SecurityPolicyName } from '../../lib/drivers/opcua';
import { PAIR_FIELD_LABELS, type StandbyChannel, pairProblems, problemText, standbyList } from '../../lib/rules/pair';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

export interface PairUser {
  id: string;
  onPairStatus(status: PairStatus): void;
}

export interface RedundantPairNode extends Node {
  pair?: RedundantPair;
  /** Set when the configuration is unusable: users show it, the flow still deploys. */
  configError?: string;
  /** The fields at fault ('primary endpoint, ping interval'): short enough for a user's status. */
  configSummary?: string;
  /** Set while the pair runs in a way an operator must know of (accepting unknown certificates): users show it yellow. */
  warning?: string;
  register(user: PairUser): void;
  deregister(user: PairUser): void;
}

export interface ParsedPairConfig {
  options: PairOptions;
  protocol: string;
  endpoints: Record<ServerRole, string>;
  /** Further channels 2..N in order of preference (the engine's N channels). */
  standbys: StandbyChannel[];
  /** Warm mode: the standby samples into a queue flushed at failover (loses nothing). */
  standbySampling: boolean;
  securityMode: SecurityModeName;
  securityPolicy: SecurityPolicyName;
  /** Commissioning: server certificates that are not trusted are accepted (status yellow). */
  acceptUnknownCertificates: boolean;
  userName?: string;
  password?: string;
}

/** The pair's problems: the whole text for the log, the fields at fault for a status. */
export class PairConfigError extends Error {
  constructor(message: string, readonly fields: string[]) {
    super(message);
    this.name = 'PairConfigError';
  }
}

/** Turns the editor's properties into engine options, or throws one message listing every problem. */
export function parsePairConfig(def: NodeDef, credentials: Record<string, string | undefined> = {}): ParsedPairConfig {
  const problems = pairProblems(def, credentials);
  if (problems.length) throw new PairConfigError(problems.map(problemText).join('; '), [...new Set(problems.map((p) => PAIR_FIELD_LABELS[p.field] ?? p.field))]);
  const useLogin = def.authMode === 'username';
  const securityMode = String(def.securityMode || 'None') as SecurityModeName;
  const options: PairOptions = {
    name: String(def.name || 'pair'),
    mode: String(def.mode || 'hot') as ConnectionMode,
    pingIntervalMs: numberProp(def, 'pingInterval', 1000),
    pingTimeoutMs: numberProp(def, 'pingTimeout', 1000),
    autoPromote: boolProp(def, 'autoPromote', true),
    holdOffMs: numberProp(def, 'holdOff', 10_000),
    reconnectMaxMs: numberProp(def, 'reconnectMax', 10_000),
  };
  return {
    options,
    protocol: String(def.protocol || 'opcua'),
    endpoints: { primary: String(def.primaryEndpoint ?? '').trim(), secondary: String(def.secondaryEndpoint ?? '').trim() },
    standbys: standbyList(def.standbys).map((s) => ({ name: s.name.trim(), endpoint: s.endpoint.trim() })),
    standbySampling: def.mode === 'warm' && boolProp(def, 'standbySampling', false),
    securityMode,
    securityPolicy: String(def.securityPolicy || 'None') as SecurityPolicyName,
    acceptUnknownCertificates: securityMode !== 'None' && boolProp(def, 'acceptUnknownCertificates', false),
    userName: useLogin ? credentials.user : undefined,
    password: useLogin ? credentials.password : undefined,
  };
}
