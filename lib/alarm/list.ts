// The alarm list as a Dashboard 2.0 ui-table shows it: one row per alarm, the ones that need an
// operator first (unacknowledged, then active, then by severity, newest first). A row carries its
// key and occurrence so an "ack" button column sends back exactly what the operator saw.
import { formatLocalDateTime } from '../core/status-table';
import type { AlarmView } from './types';

export type ListFilter = 'open' | 'all' | 'shelved';

export interface AlarmRow {
  key: string;
  seq: number;
  state: 'ACTIVE' | 'CLEARED';
  acked: boolean;
  severity: number;
  text: string;
  category: string;
  value: string;
  raised: string;
  cleared: string;
  ackedBy: string;
  shelved: string;
  comments: number;
  /** Label of a ui-table button column (key "ack"): Ack, or ✓ once acknowledged (a button always shows; pressing it again changes nothing). */
  ack: string;
  /** A CSS colour by severity (ui-table "color" column). */
  color: string;
}

export function severityColor(severity: number, active: boolean): string {
  if (!active) return '#9e9e9e';
  if (severity >= 800) return '#d32f2f';
  if (severity >= 600) return '#f57c00';
  if (severity >= 400) return '#fbc02d';
  return '#1976d2';
}

/** open: active or unacknowledged, not shelved (what an operator must see); all; shelved. */
export function alarmRows(views: AlarmView[], filter: ListFilter = 'open'): AlarmRow[] {
  const chosen = views.filter((v) => (filter === 'all' ? true : filter === 'shelved' ? v.shelved !== 'unshelved' : v.shelved === 'unshelved' && (v.active || !v.acked)));
  chosen.sort((a, b) => Number(a.acked) - Number(b.acked) || Number(b.active) - Number(a.active) || b.severity - a.severity || b.raisedAt - a.raisedAt || (a.key < b.key ? -1 : 1));
  return chosen.map((v) => ({
    key: v.key,
    seq: v.seq,
    state: v.active ? 'ACTIVE' : 'CLEARED',
    acked: v.acked,
    severity: v.severity,
    text: v.text,
    category: v.category,
    value: v.value === undefined ? '' : String(v.value),
    raised: formatLocalDateTime(v.raisedAt),
    cleared: v.clearedAt === undefined ? '' : formatLocalDateTime(v.clearedAt),
    ackedBy: v.ackedBy ?? '',
    shelved: v.shelved === 'timed' && v.shelvedUntil ? `until ${formatLocalDateTime(v.shelvedUntil)}` : v.shelved === 'oneshot' ? 'one-shot' : '',
    comments: v.comments.length,
    ack: v.acked ? '✓' : 'Ack',
    color: severityColor(v.severity, v.active),
  }));
}
