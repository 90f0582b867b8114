// The redundant-pair config node's properties, checked field by field: the editor shows each
// message under its field (and marks the tab holding it), the runtime reports the same messages
// and still deploys the flow. Pure.
import { checkInteger } from './numbers';
import { checkChannelName, checkPairName, defaultChannelName } from './names';
import { checkSecurity } from './opcua';
import { protocolRules } from './protocols';
import { parseModbusOptions } from './modbus';
import { quote } from './text';

export interface StandbyChannel {
  name: string;
  endpoint: string;
}

/** The pair's properties as the editor stores them (numbers may be text). */
export interface PairProps {
  name?: unknown;
  protocol?: unknown;
  primaryEndpoint?: unknown;
  secondaryEndpoint?: unknown;
  standbys?: unknown;
  securityMode?: unknown;
  securityPolicy?: unknown;
  acceptUnknownCertificates?: unknown;
  authMode?: unknown;
  mode?: unknown;
  standbySampling?: unknown;
  pingInterval?: unknown;
  pingTimeout?: unknown;
  autoPromote?: unknown;
  holdOff?: unknown;
  reconnectMax?: unknown;
  [key: string]: unknown;
}

export const MODES = ['cold', 'warm', 'hot'] as const;

/** The further channels as a list (absent or malformed entries as empty ones). */
export function standbyList(v: unknown): StandbyChannel[] {
  if (!Array.isArray(v)) return [];
  return v.map((s) => ({ name: String((s as StandbyChannel | null)?.name ?? ''), endpoint: String((s as StandbyChannel | null)?.endpoint ?? '') }));
}

/** Every endpoint of the pair in channel order: primary, secondary, standbys. */
export function channelEndpoints(p: PairProps): Array<{ name: string; endpoint: string }> {
  return [
    { name: 'primary', endpoint: String(p.primaryEndpoint ?? '') },
    { name: 'secondary', endpoint: String(p.secondaryEndpoint ?? '') },
    ...standbyList(p.standbys),
  ];
}

function endpointRule(p: PairProps, index: number): string | undefined {
  const rules = protocolRules(p.protocol);
  const channels = channelEndpoints(p);
  const own = channels[index].endpoint;
  const err = rules ? rules.checkEndpoint(own) : own.trim() === '' ? 'an endpoint is required' : undefined;
  if (err) return err;
  // Compared as the protocol compares endpoints (OPC UA: opc.tcp://Host:4840/ = opc.tcp://host).
  const key = (e: string) => (rules ? rules.endpointKey(e) : e.trim());
  for (let i = 0; i < index; i++) {
    if (key(channels[i].endpoint) === key(own)) return `the same endpoint as the ${channels[i].name}: each channel must be another server (or another path to it)`;
  }
  return undefined;
}

function isOpcua(p: PairProps): boolean {
  return p.protocol === undefined || p.protocol === '' || p.protocol === 'opcua';
}

/** A Modbus option (modbus* properties) checked alone, only for a Modbus pair (lib/rules/modbus.ts). */
function modbusOption(field: string): (value: unknown, p: PairProps) => string | undefined {
  return (v, p) => (p.protocol === 'modbus' ? parseModbusOptions({ [field]: v }).problems[0] : undefined);
}

export const MODBUS_OPTION_FIELDS = ['modbusPingItem', 'modbusTimeout', 'modbusMaxGap', 'modbusMaxRegisters', 'modbusMaxBits', 'modbusRequestDelay', 'modbusWriteSingle', 'modbusBitWrite'] as const;

/** One rule per property: (value, all properties) → message or undefined. */
export const PAIR_RULES: Record<string, (value: unknown, p: PairProps) => string | undefined> = {
  name: (v) => checkPairName(v),
  protocol: (v) => (v === undefined || v === '' || (typeof v === 'string' && /^[a-z][a-z0-9-]*$/.test(v)) ? undefined : `unknown protocol ${quote(v)}`),
  primaryEndpoint: (v, p) => endpointRule({ ...p, primaryEndpoint: v }, 0),
  secondaryEndpoint: (v, p) => endpointRule({ ...p, secondaryEndpoint: v }, 1),
  standbys: (v, p) => {
    if (v !== undefined && v !== '' && !Array.isArray(v)) return 'further channels must be a list of {name, endpoint}';
    const list = standbyList(v);
    const taken: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const label = `channel ${i + 2}${list[i].name ? ` (${list[i].name})` : ''}`;
      const nameErr = checkChannelName(list[i].name, taken);
      if (nameErr) return `${label}: ${nameErr}`;
      taken.push(list[i].name);
      const endErr = endpointRule({ ...p, standbys: list }, i + 2);
      if (endErr) return `${label}: ${endErr}`;
    }
    return undefined;
  },
  // Security and login are OPC UA's (a Modbus pair has none: its dialog hides them).
  securityMode: (v, p) => (isOpcua(p) ? checkSecurity(v, p.securityPolicy) : undefined),
  securityPolicy: (v, p) => (isOpcua(p) ? checkSecurity(p.securityMode, v) : undefined),
  authMode: (v, p) => (!isOpcua(p) || v === undefined || v === '' || v === 'anonymous' || v === 'username' ? undefined : `unknown login ${quote(v)} (anonymous or username)`),
  mode: (v) => ((MODES as readonly unknown[]).includes(v ?? 'hot') ? undefined : `mode must be cold, warm or hot (got ${quote(v)})`),
  pingInterval: (v) => checkInteger(v, 'the ping interval', 50, 3_600_000, 'ms'),
  pingTimeout: (v) => checkInteger(v, 'the ping timeout', 50, 3_600_000, 'ms'),
  holdOff: (v) => checkInteger(v, 'the hold-off', 0, 86_400_000, 'ms'),
  reconnectMax: (v) => checkInteger(v, 'the longest reconnect back-off', 500, 3_600_000, 'ms'),
  standbySampling: (v, p) => {
    const rules = protocolRules(p.protocol);
    if (p.mode !== 'warm' || !(v === true || v === 'true') || rules?.standbySampling !== false) return undefined;
    return `standby sampling is not available for ${rules.label}: the driver polls, and a standby that is not polled has no samples to replay; use hot mode (both channels read, nothing lost at a switch) or plain warm mode`;
  },
  ...Object.fromEntries(MODBUS_OPTION_FIELDS.map((f) => [f, modbusOption(f)])),
};

/** The user name is required with a user name login; a password may be empty. */
export function checkUser(user: unknown, p: PairProps): string | undefined {
  if (p.authMode !== 'username' || !isOpcua(p)) return undefined;
  if (typeof user !== 'string' || user.trim() === '') return 'a user name is required with "user name and password" (or choose anonymous)';
  return undefined;
}

/** How the dialog labels each field: the runtime's messages start with it. */
export const PAIR_FIELD_LABELS: Record<string, string> = {
  name: 'name',
  protocol: 'protocol',
  primaryEndpoint: 'primary endpoint',
  secondaryEndpoint: 'secondary endpoint',
  standbys: 'further channels',
  securityMode: 'security',
  securityPolicy: 'security',
  authMode: 'login',
  user: 'user',
  mode: 'mode',
  pingInterval: 'ping interval',
  pingTimeout: 'ping timeout',
  holdOff: 'hold-off',
  reconnectMax: 'reconnect back-off',
  standbySampling: 'standby sampling',
  modbusPingItem: 'ping item',
  modbusTimeout: 'request timeout',
  modbusMaxGap: 'largest gap',
  modbusMaxRegisters: 'registers per read',
  modbusMaxBits: 'bits per read',
  modbusRequestDelay: 'delay between requests',
  modbusWriteSingle: 'single writes',
  modbusBitWrite: 'bit writes',
};

/** 'primary endpoint: "x" is …' (a message that names its field already is left as it is). */
export function problemText(p: Problem): string {
  const label = PAIR_FIELD_LABELS[p.field] ?? p.field;
  return p.message.toLowerCase().includes(label) ? p.message : `${label}: ${p.message}`;
}

export interface Problem {
  field: string;
  message: string;
}

/** Every problem of a pair's properties (and its credentials, when given), field by field. */
export function pairProblems(p: PairProps, credentials?: { user?: unknown }): Problem[] {
  const out: Problem[] = [];
  for (const [field, rule] of Object.entries(PAIR_RULES)) {
    const message = rule(p[field], p);
    if (message) out.push({ field, message });
  }
  // Mode and policy are one problem, shown on both fields in the editor; reported once here.
  const sec = out.findIndex((x) => x.field === 'securityPolicy');
  if (sec >= 0 && out.some((x) => x.field === 'securityMode')) out.splice(sec, 1);
  if (credentials) {
    const message = checkUser(credentials.user, p);
    if (message) out.push({ field: 'user', message });
  }
  return out;
}
