// E-mail text for redundancy events: mustache templates over a flat view of the event (and the
// pair's status when known), rendered as plain text. The result is a subject (msg.topic) and a body
// (msg.payload), which is what node-red-node-email's e-mail node sends.
import Mustache from 'mustache';
import { formatDuration, formatLocalDateTime, serverHealthText } from './status-table';
import { checkTemplate, textPosition as position } from '../rules/templates';
import type { PairStatus, RedundancyEvent, RedundancyEventKind, Severity } from './types';

/** '[ERROR] line1: Failover to secondary', '[WARNING] line1: Connection lost on primary'. */
export const DEFAULT_SUBJECT = '[{{severityLabel}}] {{pair}}: {{kindLabel}}{{#to}} to {{to}}{{/to}}{{^to}}{{#server}} on {{server}}{{/server}}{{/to}}';

/** Section tags alone on a line leave no blank line behind (mustache "standalone" tags). */
export const DEFAULT_BODY = [
  'Time:          {{timeLocal}} ({{time}})',
  'Pair:          {{pair}}',
  'Event:         {{kindLabel}} ({{severity}})',
  '{{#server}}',
  'Server:        {{server}}',
  '{{/server}}',
  '{{#switched}}',
  'Switch:        {{fromLabel}} → {{toLabel}}',
  '{{/switched}}',
  'Reason:        {{reason}}',
  '{{#duration}}',
  'Duration:      {{duration}}',
  '{{/duration}}',
  '{{#detect}}',
  'Detected in:   {{detect}}',
  '{{/detect}}',
  '{{#hasStatus}}',
  '',
  'Active server: {{active}}',
  'Primary:       {{primary}}',
  'Secondary:     {{secondary}}',
  'ServiceLevel:  {{serviceLevel}}',
  'Failovers:     {{failovers}}',
  '{{/hasStatus}}',
  '',
].join('\n');

export const KIND_LABELS: Record<RedundancyEventKind, string> = {
  connecting: 'Connecting',
  connected: 'Connected',
  'connect-failed': 'Connection failed',
  'connection-lost': 'Connection lost',
  'ping-timeout': 'Ping timeout',
  degraded: 'Degraded',
  restored: 'Restored',
  failover: 'Failover',
  promotion: 'Promotion',
  'switch-complete': 'Switch complete',
  'manual-switch': 'Manual switch',
  'both-down': 'Both servers down',
  'both-bad': 'Both servers bad',
  recovered: 'Recovered',
  'stream-lag': 'Stream lag',
  'write-rejected': 'Write rejected',
  'write-redirected': 'Write redirected',
  'condition-fired': 'Condition fired',
  'condition-cleared': 'Condition cleared',
  'item-error': 'Item error',
  'peer-up': 'Peer link up',
  'peer-down': 'Peer link down',
  'peer-refused': 'Peer link refused',
  'duty-taken': 'Duty taken',
  'duty-released': 'Duty released',
  'witness-up': 'Witness reachable',
  'witness-down': 'Witness unreachable',
  'channel-down': 'Channel down',
  'channel-up': 'Channel up',
  'all-down': 'All channels down',
  'master-changed': 'Master status changed',
  'write-held': 'Writes held',
  'write-released': 'Held writes sent',
  'alarm-caught-up': 'Alarms caught up',
  'alarm-acks-delivered': 'Queued acks delivered',
  'alarm-sync-failed': 'Alarm sync failed',
  'alarm-actions-taken-over': 'Alarm actions taken over',
  'backfill-started': 'Backfill started',
  'backfill-progress': 'Backfill progress',
  'backfill-complete': 'Backfill complete',
  'backfill-deferred': 'Backfill deferred',
  'trend-gap-both': 'Trend gap on both',
  'store-error': 'Store error',
};

const SEVERITY_LABELS: Record<Severity, string> = { info: 'INFO', warning: 'WARNING', error: 'ERROR' };

/** Every name a template can use: lib/rules/templates (the editor checks templates with it too). */
export { TEMPLATE_FIELDS } from '../rules/templates';

/** Plain text: no HTML escaping (e-mail bodies are text/plain). Passed per call, the global stays. */
const PLAIN_TEXT = { escape: (v: unknown) => String(v) };

/** Mustache's "Unclosed tag at 12" with the offset as line and column. */
function describeParseError(template: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^(.*) at (\d+)$/.exec(message);
  if (!m) return message;
  const offset = Number(m[2]);
  const what = m[1].charAt(0).toLowerCase() + m[1].slice(1);
  const section = /^unclosed section "(.*)"$/.exec(what);
  if (section && offset >= template.length) {
    // Mustache points at the end of the template; the opening tag is what the author must find.
    const name = section[1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    let opened = -1;
    for (const hit of template.matchAll(new RegExp(`\\{\\{\\s*[#^]\\s*${name}\\s*\\}\\}`, 'g'))) opened = hit.index ?? -1;
    const where = opened >= 0 ? `opened at ${position(template, opened)}` : 'opened';
    return `${what} ${where} is never closed (add {{/${section[1]}}})`;
  }
  return `${what} at ${position(template, offset)}`;
}

/**
 * A syntax error or unknown field, with its position; undefined when the template is usable. The
 * shared rule (what the editor shows) first; mustache's own parser as well, for anything it finds
 * that the rule does not.
 */
export function validateTemplate(t: string): string | undefined {
  const err = checkTemplate(t);
  if (err) return err;
  try {
    Mustache.parse(t);
  } catch (e) {
    return describeParseError(t, e);
  }
  return undefined;
}

/** The values a template sees. Absent values are '' (empty sections), never "undefined". */
export function eventView(e: RedundancyEvent, status?: PairStatus): Record<string, unknown> {
  const switched = e.from !== undefined || e.to !== undefined;
  const view: Record<string, unknown> = {
    pair: e.pair,
    kind: e.kind,
    kindLabel: KIND_LABELS[e.kind] ?? e.kind,
    severity: e.severity,
    severityLabel: SEVERITY_LABELS[e.severity] ?? String(e.severity).toUpperCase(),
    server: e.server ?? '',
    from: e.from ?? '',
    to: e.to ?? '',
    fromLabel: switched ? e.from ?? 'none' : '',
    toLabel: switched ? e.to ?? 'none' : '',
    switched,
    reason: e.reason,
    duration: formatDuration(e.durationMs),
    durationMs: e.durationMs ?? '',
    detect: formatDuration(e.detectMs),
    detectMs: e.detectMs ?? '',
    time: new Date(e.time).toISOString(),
    timeLocal: formatLocalDateTime(e.time),
    timestamp: e.time,
    hasStatus: status !== undefined,
    active: '',
    mode: '',
    control: '',
    failovers: '',
    primary: '',
    secondary: '',
    serviceLevel: '',
    lastSwitch: '',
    lastReason: '',
  };
  if (status) {
    const level = (v: number | undefined) => (v === undefined ? '—' : String(v));
    Object.assign(view, {
      active: status.active ?? 'none',
      mode: status.mode,
      control: status.control,
      failovers: status.failovers,
      primary: serverHealthText(status.servers.primary),
      secondary: serverHealthText(status.servers.secondary),
      serviceLevel: `${level(status.servers.primary.serviceLevel)} / ${level(status.servers.secondary.serviceLevel)}`,
      lastSwitch: formatDuration(status.lastSwitchMs),
      lastReason: status.lastSwitchReason ?? '',
    });
  }
  return view;
}

function render(template: string, view: Record<string, unknown>): string {
  try {
    return Mustache.render(template, view, undefined, PLAIN_TEXT);
  } catch (err) {
    throw new Error(`template error: ${describeParseError(template, err)}`);
  }
}

/** Subject and plain-text body for one event. Throws on a template syntax error (validate first). */
export function renderEvent(subjectT: string, bodyT: string, e: RedundancyEvent, status?: PairStatus): { subject: string; body: string } {
  const view = eventView(e, status);
  // A subject is one line: a template with line breaks must not break the mail header.
  const subject = render(subjectT, view).replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return { subject, body: render(bodyT, view) };
}
