// The redundant-pair config node's contract with its users, and the parsing of its editor properties.
// The checks are lib/rules/pair (the editor shows the same messages under each field); a protocol the
// rules do not know yet is checked by its driver factory.
import type { ChannelSpec, PairOptions, RedundantPair } from '../../lib/core/pair';
import type { ConnectionMode, PairStatus } from '../../lib/core/types';
import { driverFactory, hasDriver, registeredDrivers } from '../../lib/drivers';
import { PAIR_FIELD_LABELS, type Problem, channelEndpoints, pairProblems, problemText } from '../../lib/rules/pair';
import { PROTOCOLS } from '../../lib/rules/protocols';
import { boolProp, numberProp, type Node, type NodeDef } from './node-red';

export interface PairUser {
  id: string;
  onPairStatus(status: PairStatus): void;
}

export interface RedundantPairNode extends Node {
  pair?: RedundantPair;
  /** Set when the configuration is unusable: users show it, the flow still deploys. */
  configError?: string;
  /** The fields at fault ('primary endpoint, ping interval (see the log)'): short enough for a user's status. */
  configSummary?: string;
  /** Set while the pair runs in a way an operator must know of (accepting unknown certificates): users show it yellow. */
  warning?: string;
  /** The properties the pair was deployed with (the editor's httpAdmin routes read its endpoints and protocol). */
  configDef?: NodeDef;
  /** The protocol's item rule, for users that check their item ids (OPC UA node ids, Modbus items). */
  validateItem?: (id: string) => string | undefined;
  /** The pair's protocol ('opcua', 'modbus'), when its configuration could be read. */
  protocol?: string;
  /** Items valid but probably not meant (the protocol's warnings: Modbus overlaps, Modicon slips). */
  itemWarnings?: (ids: string[]) => string[];
  /** The protocol's imitation of another package's message shape (Modbus: node-red-contrib-modbus read). */
  compatOutput?: import('../../lib/core/driver').DriverFactory['compatOutput'];
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

/** The pair's problems: the whole text for the log, the fields at fault for a status. */
export class PairConfigError extends Error {
  constructor(message: string, readonly fields: string[]) {
    super(message);
    this.name = 'PairConfigError';
  }
}

/** Turns the editor's properties into engine options, or throws one message listing every problem. */
export function parsePairConfig(def: NodeDef, credentials: Record<string, string | undefined> = {}): ParsedPairConfig {
  const problems: Problem[] = pairProblems(def, credentials);
  const protocol = String(def.protocol || 'opcua');
  const channels: ParsedChannel[] = channelEndpoints(def).map((c, i) => ({ name: c.name.trim() || `channel ${i}`, endpoint: c.endpoint.trim() }));
  let protocolOptions: unknown;
  if (!hasDriver(protocol)) {
    problems.push({ field: 'protocol', message: `protocol ${protocol} is not supported (${registeredDrivers().map((f) => f.protocol).join(', ')})` });
  } else {
    const factory = driverFactory(protocol);
    // Endpoints of a protocol the shared rules do not know are checked by its factory.
    if (!PROTOCOLS[protocol]) {
      channels.forEach((ch, i) => {
        const err = factory.validateEndpoint(ch.endpoint);
        if (err) problems.push({ field: i === 0 ? 'primaryEndpoint' : i === 1 ? 'secondaryEndpoint' : 'standbys', message: i > 1 ? `${ch.name}: ${err}` : err });
      });
    }
    const parsed = factory.parseOptions(def, credentials);
    // The factory's own checks, where the shared rules have not said the same already.
    const said = new Set(problems.map((p) => p.message));
    for (const message of parsed.problems) if (!said.has(message)) problems.push({ field: 'protocol', message });
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
  if (problems.length) throw new PairConfigError(problems.map(problemText).join('; '), [...new Set(problems.map((p) => PAIR_FIELD_LABELS[p.field] ?? p.field))]);
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
