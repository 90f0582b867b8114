// Which channel a message belongs to, without knowing which node sent it: a rule looks at
// msg.channel, msg.topic or any property, and compares it with a pattern (exact text, a `*`
// wildcard, or a /regular expression/). Pure: no Node-RED, no protocol.

/** Where a rule looks. 'channel': msg.channel (name or index); 'topic': msg.topic; 'property': any msg property path. */
export type RuleBy = 'channel' | 'topic' | 'property';
export const RULE_BYS: readonly RuleBy[] = ['channel', 'topic', 'property'];

/** A rule as configured in the editor (and in generated example flows). */
export interface RuleSpec {
  by: RuleBy;
  /** For by = 'property': a path such as `sendingNodeId`, `input.payload.unitid`, `payload[0]`. */
  property?: string;
  /**
   * Exact text; `*` matches any run of characters (`plcA/*`); `/…/flags` is a regular expression.
   * Empty: for 'channel' the channel's own name; for 'property' "present and not false/0/empty".
   */
  pattern?: string;
}

/** A compiled rule: test a message; `rest` is what the first `*` matched (the item part of a topic). */
export interface Rule {
  readonly spec: RuleSpec;
  /** undefined = no match; otherwise the matched text's item part ('' when nothing is left). */
  match(msg: Record<string, unknown>): { rest?: string } | undefined;
  /** One line for status texts and errors: `topic plcA/*`. */
  readonly text: string;
}

type PathPart = string | number;

/** `input.payload.unitid`, `payload[0]`, `a.b[2].c` → parts; undefined when malformed. */
export function parsePath(path: string): PathPart[] | undefined {
  const p = path.trim();
  if (!p) return undefined;
  const parts: PathPart[] = [];
  const re = /([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["([^"]*)"\]|\['([^']*)'\]|(\.)/gy;
  let expectName = true;
  let lastWasDot = false;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(p)) !== null) {
    consumed = re.lastIndex;
    if (m[1] !== undefined) {
      if (!expectName) return undefined;
      parts.push(m[1]);
      expectName = false;
      lastWasDot = false;
    } else if (m[2] !== undefined) {
      if (parts.length === 0 || lastWasDot) return undefined;
      parts.push(Number(m[2]));
    } else if (m[3] !== undefined || m[4] !== undefined) {
      if (parts.length === 0 || lastWasDot) return undefined;
      parts.push((m[3] ?? m[4]) as string);
    } else {
      if (expectName || lastWasDot) return undefined;
      expectName = true;
      lastWasDot = true;
    }
  }
  if (consumed !== p.length || lastWasDot || parts.length === 0) return undefined;
  return parts;
}

export function getPath(obj: unknown, parts: PathPart[]): unknown {
  let at: unknown = obj;
  for (const part of parts) {
    if (at === null || at === undefined) return undefined;
    if (typeof at !== 'object' && typeof at !== 'function') return undefined;
    at = (at as Record<string | number, unknown>)[part];
  }
  return at;
}

/** undefined when the path is usable, else what is wrong. */
export function validatePath(path: unknown): string | undefined {
  if (typeof path !== 'string' || !path.trim()) return 'a property path is needed (e.g. payload[0], input.payload.unitid)';
  if (!parsePath(path)) return `"${path}" is not a property path (use names with . and [index], e.g. payload[0] or input.payload.unitid)`;
  return undefined;
}

interface Matcher {
  test(text: string): { rest?: string } | undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a pattern, or says why it cannot be. */
export function compilePattern(pattern: string): Matcher | string {
  const regex = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
  if (regex) {
    try {
      const re = new RegExp(regex[1], regex[2].replace(/[gy]/g, ''));
      return {
        test(text) {
          const m = re.exec(text);
          if (!m) return undefined;
          // The first capture group, when there is one, is the item part.
          return { rest: m.length > 1 && m[1] !== undefined ? m[1] : undefined };
        },
      };
    } catch (err) {
      return `/${regex[1]}/ is not a valid regular expression: ${(err as Error).message}`;
    }
  }
  if (pattern.includes('*')) {
    const pieces = pattern.split('*').map(escapeRegExp);
    // The first * captures (the item part); the others match anything.
    const source = `^${pieces[0]}(.*?)${pieces.slice(1).join('.*?')}$`.replace('(.*?)$', '(.*)$');
    const re = new RegExp(source, 's');
    return {
      test(text) {
        const m = re.exec(text);
        return m ? { rest: m[1] } : undefined;
      },
    };
  }
  return { test: (text) => (text === pattern ? {} : undefined) };
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '' || v === 'false' || v === '0') return false;
  return true;
}

/** Names a message cannot use as a channel topic: they are the node's own commands. */
export const RESERVED_TOPICS: readonly string[] = ['control', 'status'];

/** undefined when the rule is usable, else what is wrong (without the channel's name). */
export function validateRule(spec: RuleSpec | undefined, opts: { allowEmptyPattern: boolean }): string | undefined {
  if (!spec || typeof spec !== 'object') return 'no rule';
  if (!RULE_BYS.includes(spec.by)) return `"${String(spec.by)}" is no rule kind (use channel, topic or property)`;
  if (spec.by === 'property') {
    const err = validatePath(spec.property);
    if (err) return err;
  }
  const pattern = spec.pattern ?? '';
  if (typeof pattern !== 'string') return 'the pattern must be text';
  if (!pattern) {
    if (spec.by === 'topic') return 'a topic pattern is needed (e.g. plcA/* or plcA/values)';
    if (spec.by === 'channel' && !opts.allowEmptyPattern) return 'a msg.channel value is needed';
    return undefined;
  }
  const compiled = compilePattern(pattern);
  if (typeof compiled === 'string') return compiled;
  if (spec.by === 'topic' && RESERVED_TOPICS.includes(pattern)) return `topic "${pattern}" is reserved for the node's commands`;
  return undefined;
}

export function ruleText(spec: RuleSpec, defaultPattern?: string): string {
  const pattern = spec.pattern || defaultPattern || '';
  if (spec.by === 'channel') return `msg.channel = ${pattern}`;
  if (spec.by === 'topic') return `topic ${pattern}`;
  return pattern ? `msg.${spec.property} ~ ${pattern}` : `msg.${spec.property} set`;
}

/**
 * Compiles a validated rule. `channelName`/`channelIndex` let a 'channel' rule with no pattern match
 * msg.channel = the channel's name or its index (0-based).
 */
export function compileRule(spec: RuleSpec, channelName?: string, channelIndex?: number): Rule {
  const pattern = spec.pattern ?? '';
  const text = ruleText(spec, channelName);
  if (spec.by === 'channel') {
    const matcher = pattern ? compilePattern(pattern) : undefined;
    if (typeof matcher === 'string') throw new Error(matcher);
    return {
      spec,
      text,
      match(msg) {
        const v = msg.channel;
        const s = scalarText(v);
        if (s === undefined) return undefined;
        if (matcher) return matcher.test(s);
        if (s === channelName) return {};
        if (channelIndex !== undefined && typeof v === 'number' && v === channelIndex) return {};
        return undefined;
      },
    };
  }
  if (spec.by === 'topic') {
    const matcher = compilePattern(pattern);
    if (typeof matcher === 'string') throw new Error(matcher);
    return {
      spec,
      text,
      match(msg) {
        return typeof msg.topic === 'string' ? matcher.test(msg.topic) : undefined;
      },
    };
  }
  const path = parsePath(spec.property ?? '');
  if (!path) throw new Error(validatePath(spec.property) ?? 'bad path');
  const matcher = pattern ? compilePattern(pattern) : undefined;
  if (typeof matcher === 'string') throw new Error(matcher);
  return {
    spec,
    text,
    match(msg) {
      const v = getPath(msg, path);
      if (!matcher) return truthy(v) ? {} : undefined;
      const s = scalarText(v);
      return s === undefined ? undefined : matcher.test(s);
    },
  };
}
