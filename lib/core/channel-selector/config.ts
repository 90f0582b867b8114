// The channel selector's configuration as the editor stores it (and generated example flows write
// it): parsed into a checked form, with every problem in words an automation engineer can act on.
import { type MasterSpec, validateMaster } from './master';
import { type RuleBy, type RuleSpec, compilePattern, parsePath, validateRule } from './rules';

export interface ChannelSpec extends RuleSpec {
  name: string;
  /** Freshness: the channel is down when no data arrived for this many ms; 0 = not checked. */
  staleMs?: number | string;
  /** The master-status item (write guard). */
  master?: MasterSpec;
}

/** 'return': back to a more preferred channel after it has been healthy for the hold-off; 'stay': only leave a channel that fails (Citect cluster clients). */
export type ReturnMode = 'return' | 'stay';
/** 'item': the forwarded topic is what the channel rule's `*` matched (plcA/level → level); 'keep': as received. */
export type TopicOut = 'item' | 'keep';

/** The node's properties (flow JSON). Numbers may arrive as text from the editor. */
export interface SelectorDef {
  channels?: unknown;
  returnMode?: unknown;
  holdOff?: unknown;
  minSwitch?: unknown;
  topicOut?: unknown;
  writeBy?: unknown;
  writeProperty?: unknown;
  writePattern?: unknown;
  guard?: unknown;
  holdWrites?: unknown;
  maxHeldWrites?: unknown;
}

export interface ChannelConfig {
  name: string;
  index: number;
  rule: RuleSpec;
  staleMs: number;
  master?: MasterSpec & { maxAgeMs: number };
}

export interface SelectorConfig {
  channels: ChannelConfig[];
  returnMode: ReturnMode;
  holdOffMs: number;
  minSwitchMs: number;
  topicOut: TopicOut;
  write: RuleSpec;
  guard: boolean;
  holdWritesMs: number;
  maxHeldWrites: number;
}

export const DEFAULTS = {
  staleMs: 3000,
  returnMode: 'return' as ReturnMode,
  holdOffMs: 5000,
  minSwitchMs: 0,
  topicOut: 'item' as TopicOut,
  write: { by: 'property', property: 'write', pattern: '' } as RuleSpec,
  holdWritesMs: 5000,
  maxHeldWrites: 100,
};

/** Longest hold-off, freshness and write hold accepted: one day (a longer timer is a typo). */
const MAX_MS = 86_400_000;

function blank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function msValue(v: unknown, fallback: number, what: string, problems: string[], min = 0): number {
  if (blank(v)) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > MAX_MS) {
    problems.push(`${what} must be a whole number of ms from ${min} to ${MAX_MS} (got ${JSON.stringify(v)})`);
    return fallback;
  }
  return n;
}

function countValue(v: unknown, fallback: number, what: string, problems: string[]): number {
  if (blank(v)) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    problems.push(`${what} must be a whole number from 1 to 100000 (got ${JSON.stringify(v)})`);
    return fallback;
  }
  return n;
}

function boolValue(v: unknown, fallback: boolean): boolean {
  if (blank(v)) return fallback;
  return v === true || v === 'true';
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v).trim();
}

/** Two rules that match exactly the same messages (same kind, property and pattern). */
function sameRule(a: RuleSpec, b: RuleSpec, nameA: string, nameB: string): boolean {
  if (a.by !== b.by) return false;
  if (a.by === 'property' && str(a.property) !== str(b.property)) return false;
  const pa = str(a.pattern) || (a.by === 'channel' ? nameA : '');
  const pb = str(b.pattern) || (b.by === 'channel' ? nameB : '');
  return pa === pb;
}

function ruleOf(raw: Record<string, unknown>): RuleSpec {
  const by = str(raw.by || 'topic') as RuleBy;
  const spec: RuleSpec = { by, pattern: str(raw.pattern) };
  if (by === 'property') spec.property = str(raw.property);
  return spec;
}

/** Parses and checks the node's properties; problems are complete sentences, one per problem. */
export function parseSelectorConfig(def: SelectorDef): { config: SelectorConfig; problems: string[] } {
  const problems: string[] = [];
  const rawChannels = Array.isArray(def.channels) ? (def.channels as unknown[]) : [];
  const guard = boolValue(def.guard, false);
  if (rawChannels.length === 0) problems.push('no channels: add at least one (two or more for redundancy), in order of preference');
  const channels: ChannelConfig[] = [];
  rawChannels.forEach((entry, index) => {
    const raw = (entry && typeof entry === 'object' ? entry : {}) as Record<string, unknown>;
    const name = str(raw.name);
    const label = `channel ${index + 1}${name ? ` "${name}"` : ''}`;
    if (!name) problems.push(`${label}: a name is needed`);
    else if (channels.some((c) => c.name === name)) problems.push(`${label}: the name is used twice (channel names must differ)`);
    const rule = ruleOf(raw);
    const ruleErr = validateRule(rule, { allowEmptyPattern: true });
    if (ruleErr) problems.push(`${label}: match: ${ruleErr}`);
    const staleMs = msValue(raw.staleMs, DEFAULTS.staleMs, `${label}: freshness`, problems);
    let master: ChannelConfig['master'];
    const rawMaster = raw.master && typeof raw.master === 'object' ? (raw.master as Record<string, unknown>) : undefined;
    const hasMaster = rawMaster !== undefined && !(blank(rawMaster.pattern) && blank(rawMaster.property) && (blank(rawMaster.by) || rawMaster.by === 'topic'));
    if (guard && !hasMaster) {
      problems.push(`${label}: the write guard is on, so a master-status item is needed (which message says this channel's device is the master)`);
    } else if (hasMaster && rawMaster) {
      const spec: MasterSpec = { ...ruleOf(rawMaster), path: str(rawMaster.path) || undefined, test: (str(rawMaster.test) || 'true') as MasterSpec['test'], value: typeof rawMaster.value === 'number' ? rawMaster.value : str(rawMaster.value), maxAgeMs: blank(rawMaster.maxAgeMs) ? undefined : (rawMaster.maxAgeMs as number | string) };
      const err = validateMaster(spec);
      if (err) problems.push(`${label}: master status: ${err}`);
      const maxAgeMs = blank(spec.maxAgeMs) ? staleMs : Number(spec.maxAgeMs);
      if (guard && !err && !(maxAgeMs > 0)) problems.push(`${label}: master status: the guard needs a recent reading, but the freshness is 0 (off) and no maximum age is set: set one of them`);
      master = { ...spec, maxAgeMs: Number.isFinite(maxAgeMs) ? maxAgeMs : staleMs };
    }
    channels.push({ name: name || `channel ${index + 1}`, index, rule, staleMs, master });
  });
  for (let i = 0; i < channels.length; i++) {
    for (let j = 0; j < i; j++) {
      if (sameRule(channels[i].rule, channels[j].rule, channels[i].name, channels[j].name)) problems.push(`channel ${i + 1} "${channels[i].name}": matches the same messages as channel ${j + 1} "${channels[j].name}" (each channel needs its own rule)`);
    }
  }
  const returnMode = str(def.returnMode) || DEFAULTS.returnMode;
  if (returnMode !== 'return' && returnMode !== 'stay') problems.push(`return mode must be "return" or "stay" (got ${JSON.stringify(def.returnMode)})`);
  const topicOut = str(def.topicOut) || DEFAULTS.topicOut;
  if (topicOut !== 'item' && topicOut !== 'keep') problems.push(`output topic must be "item" or "keep" (got ${JSON.stringify(def.topicOut)})`);
  const write: RuleSpec = blank(def.writeBy) ? { ...DEFAULTS.write } : { by: str(def.writeBy) as RuleBy, property: str(def.writeProperty) || undefined, pattern: str(def.writePattern) };
  if (write.by === 'channel') problems.push('writes cannot be recognised by msg.channel (that selects a channel for data): use a property (msg.write) or a topic');
  else {
    const err = validateRule(write, { allowEmptyPattern: true });
    if (err) problems.push(`writes: ${err}`);
  }
  const config: SelectorConfig = {
    channels,
    returnMode: returnMode === 'stay' ? 'stay' : 'return',
    holdOffMs: msValue(def.holdOff, DEFAULTS.holdOffMs, 'hold-off', problems),
    minSwitchMs: msValue(def.minSwitch, DEFAULTS.minSwitchMs, 'minimum time between switches', problems),
    topicOut: topicOut === 'keep' ? 'keep' : 'item',
    write,
    guard,
    holdWritesMs: msValue(def.holdWrites, DEFAULTS.holdWritesMs, 'write hold time', problems),
    maxHeldWrites: countValue(def.maxHeldWrites, DEFAULTS.maxHeldWrites, 'maximum held writes', problems),
  };
  return { config, problems };
}

/** True when the text is a usable rule pattern (the editor's check, for tests of the dialog). */
export function patternOk(pattern: string): boolean {
  return typeof compilePattern(pattern) !== 'string';
}

export function pathOk(path: string): boolean {
  return parsePath(path) !== undefined;
}
