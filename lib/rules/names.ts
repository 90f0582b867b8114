// Names a plant engineer gives: pairs (also their alias on the gateway and in e-mails) and
// channels. Any script is welcome ("Linie Süd", "Line 1 (north)", "ライン1"); what is refused
// would break something downstream, and the message says what. Pure.
import { quote } from './text';

export const NAME_MAX = 64;
/** Channels 0 and 1 of every pair are named so (msg.server, status texts, templates). */
export const FIXED_CHANNEL_NAMES = ['primary', 'secondary'] as const;

/** A pair's name: shown everywhere, matched by the diagnostics filter (a comma-separated list). */
export function checkPairName(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return 'the pair needs a name (it names the pair in events, e-mails and the dashboard)';
  return checkNameText(v, 'the name');
}

/** The common part: no edge spaces, no commas, no control characters, not too long. */
function checkNameText(v: string, what: string): string | undefined {
  if (v !== v.trim()) return `${what} must not start or end with a space`;
  if (v.length > NAME_MAX) return `${what} is ${v.length} characters long; at most ${NAME_MAX}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return `${what} must not contain control characters (tabs, line breaks)`;
  if (v.includes(',')) return `${what} must not contain a comma (the diagnostics filter lists names separated by commas)`;
  return undefined;
}

/** The name of a further channel (2..N): unique in the pair, not "primary"/"secondary". */
export function checkChannelName(v: unknown, taken: readonly string[] = []): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') return 'the channel needs a name (msg.server carries it)';
  const err = checkNameText(v, `the channel name ${quote(v)}`);
  if (err) return err;
  if ((FIXED_CHANNEL_NAMES as readonly string[]).includes(v.toLowerCase())) return `${quote(v)} is the name of channel ${v.toLowerCase() === 'primary' ? 0 : 1}; choose another`;
  if (taken.includes(v)) return `the channel name ${quote(v)} is used twice`;
  return undefined;
}

/** 'channel 2', 'channel 3', …: the default names of further channels, unused in `taken`. */
export function defaultChannelName(index: number, taken: readonly string[] = []): string {
  let i = index;
  while (taken.includes(`channel ${i}`)) i++;
  return `channel ${i}`;
}

/**
 * The group an alarm or trend server pair shares between the two instances (its store rows and
 * peer-link messages carry it): letters, digits, space, . - _ / and 1..100 long. `what` names it
 * in the message ("alarm group").
 */
export function checkServiceGroup(v: string, what: string): string | undefined {
  return /^[\w.\-/ ]{1,100}$/.test(v) ? undefined : `${what} "${v}" may hold letters, digits, space, . - _ / (1..100)`;
}
