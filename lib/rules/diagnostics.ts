// The diagnostics node's settings: the pair filter must name pairs that exist (a misspelt name
// would silently show nothing), event kinds and severities known, templates usable. Pure.
import { EVENT_KINDS } from './events';
import { checkInteger } from './numbers';
import { checkTemplate } from './templates';
import { listText, quote } from './text';

/** Every event kind (the diagnostics dialog lists them from here). */
export { EVENT_KINDS };

export const SEVERITIES = ['info', 'warning', 'error'] as const;

/** Names in a filter: an array, or text separated by commas. */
export function nameList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => String(x).trim()).filter(Boolean);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

/** undefined when every name in the filter is a known pair (or the filter is empty: all pairs). */
export function checkPairFilter(v: unknown, known: readonly string[]): string | undefined {
  const names = nameList(v);
  const missing = names.filter((n) => !known.includes(n));
  if (missing.length === 0) return undefined;
  const which = missing.length === 1 ? `no pair is named ${quote(missing[0])}` : `no pairs are named ${listText(missing.map((m) => quote(m)))}`;
  return `${which}: events of a pair not listed are never shown (pairs: ${known.length ? known.map((k) => quote(k)).join(', ') : 'none yet'}; leave empty for all)`;
}

export function checkKinds(v: unknown): string | undefined {
  const bad = nameList(v).filter((k) => !(EVENT_KINDS as readonly string[]).includes(k));
  return bad.length ? `unknown event kind ${listText(bad.map((b) => quote(b)))}` : undefined;
}

export function checkSeverities(v: unknown): string | undefined {
  const bad = nameList(v).filter((k) => !(SEVERITIES as readonly string[]).includes(k));
  return bad.length ? `unknown severity ${listText(bad.map((b) => quote(b)))} (use info, warning, error)` : undefined;
}

export const DIAGNOSTICS_RULES: Record<string, (v: unknown) => string | undefined> = {
  kinds: checkKinds,
  severities: checkSeverities,
  maxEvents: (v) => checkInteger(v, 'the number of events kept', 1, 10_000_000),
  subject: (v) => prefix('subject', checkTemplate(v)),
  body: (v) => prefix('body', checkTemplate(v)),
  rateLimit: (v) => checkInteger(v, 'the e-mail limit', 0, 1_000_000),
  rateWindow: (v) => checkInteger(v, 'the e-mail window', 100, 86_400_000, 'ms'),
  listSize: (v) => checkInteger(v, 'the event list size', 1, 10_000),
};

function prefix(which: string, err: string | undefined): string | undefined {
  return err ? `${which} template: ${err}` : undefined;
}
