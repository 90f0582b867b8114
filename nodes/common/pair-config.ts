// The redundant-pair config node's contract with its users, and the parsing of its editor properties.
import type { ChannelSpec, PairOptions, RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, PairStatus } from '../../lib/core/types';
import { PRIMARY, SECONDARY } from '../../lib/core/types';
import { driverFactory, hasDriver, registeredDrivers } from '../../lib/drivers';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

export interface PairUser {
  id: string;
  onPairStatus(status: PairStatus): void;
}

export interface RedundantPairNode extends Node {
  pair?: RedundantPair;
  /** Set when the configuration is unusable: users show it, the flow still deploys. */
  configError?: string;
  /** The protocol's item rule, for users that check their item ids (OPC UA node ids, Modbus items). */
  validateItem?: (id: string) => string | undefined;
  register(user: PairUser): void;
  deregister(user: PairUser): void;
}

export interface ParsedChannel {
  name: string;
  endpoint: string;
}

export interface ParsedPairConfig {
  protocol: string;
  options: PairOptions;
  channels: ParsedChannel[];
  /** The protocol's own options, as its driver factory parsed them. */
  protocolOptions: unknown;
}

const RESERVED = new Set([PRIMARY, SECONDARY]);

/**
 * Channels 0 and 1 from `primaryEndpoint` and `secondaryEndpoint`, further standby channels from
 * `standbys` ([{ name, endpoint }], default names "channel 2", "channel 3"...).
 */
function parseChannels(def: NodeDef, problems: string[]): ParsedChannel[] {
  const channels: ParsedChannel[] = [
    { name: PRIMARY, endpoint: String(def.primaryEndpoint ?? '').trim() },
    { name: SECONDARY, endpoint: String(def.secondaryEndpoint ?? '').trim() },
  ];
  const standbys = def.standbys === undefined || def.standbys === '' ? [] : def.standbys;
  if (!Array.isArray(standbys)) {
    problems.push('further standby channels must be a list of { name, endpoint }');
    return channels;
  }
  standbys.forEach((s: unknown, i) => {
    const entry = (s ?? {}) as Record<string, unknown>;
    const name = String(entry.name ?? '').trim() || `channel ${i + 2}`;
    if (RESERVED.has(name)) problems.push(`channel ${i + 2}: the name "${name}" belongs to channel ${name === PRIMARY ? 0 : 1}`);
    channels.push({ name, endpoint: String(entry.endpoint ?? '').trim() });
  });
  const seenNames = new Set<string>();
  const seenEndpoints = new Map<string, string>();
  for (const ch of channels) {
    if (seenNames.has(ch.name)) problems.push(`two channels are named "${ch.name}"`);
    seenNames.add(ch.name);
    if (ch.endpoint && seenEndpoints.has(ch.endpoint)) problems.push(`the ${ch.name} and the ${seenEndpoints.get(ch.endpoint)} have the same endpoint ${ch.endpoint}`);
    seenEndpoints.set(ch.endpoint, ch.name);
  }
  return channels;
}

/** Turns the editor's properties into engine options, or throws one message listing every problem. */
export function parsePairConfig(def: NodeDef, credentials: Record<string, string | undefined> = {}): ParsedPairConfig {
  const problems: string[] = [];
  const protocol = String(def.protocol || 'opcua');
  if (!hasDriver(protocol)) problems.push(`protocol ${protocol} is not supported (${registeredDrivers().map((f) => f.protocol).join(', ')})`);
  const channels = parseChannels(def, problems);
  let protocolOptions: unknown;
  if (hasDriver(protocol)) {
    const factory = driverFactory(protocol);
    for (const ch of channels) {
      const err = factory.validateEndpoint(ch.endpoint);
      if (err) problems.push(`${ch.name} endpoint: ${err}`);
    }
    const parsed = factory.parseOptions(def, credentials);
    problems.push(...parsed.problems);
    protocolOptions = parsed.options;
  }
  const mode = String(def.mode || 'hot') as ConnectionMode;
  const options: PairOptions = {
    name: String(def.name || 'pair'),
    mode,
    standbySampling: mode === 'warm' && boolProp(def, 'standbySampling', false),
    pingIntervalMs: numberProp(def, 'pingInterval', 1000),
    pingTimeoutMs: numberProp(def, 'pingTimeout', 1000),
    autoPromote: boolProp(def, 'autoPromote', true),
    holdOffMs: numberProp(def, 'holdOff', 10_000),
    reconnectMaxMs: numberProp(def, 'reconnectMax', 10_000),
  };
  if (problems.length) throw new Error(problems.join('; '));
  return { protocol, options, channels, protocolOptions };
}

/** Drivers for every channel, through the protocol's factory. */
export function createChannels(cfg: ParsedPairConfig, dataDir: string | undefined, clock: import('../../lib/core/clock').Clock): ChannelSpec[] {
  const factory = driverFactory(cfg.protocol);
  return cfg.channels.map((ch) => ({
    name: ch.name,
    driver: factory.create(ch.endpoint, {
      clock,
      pingIntervalMs: cfg.options.pingIntervalMs,
      pingTimeoutMs: cfg.options.pingTimeoutMs,
      sessionName: `${cfg.options.name} ${ch.name}`,
      options: cfg.protocolOptions,
      dataDir,
    }),
  }));
}
