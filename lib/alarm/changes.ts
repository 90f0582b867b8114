// What an alarm message changes, and how a change of an alarm's state is named for its listeners
// (the node's change output, the list, the actions): the kinds between two views of one alarm.
import type { AlarmFact, AlarmObservation, AlarmView } from './types';

export type AlarmChangeKind = 'raised' | 'cleared' | 'acked' | 'commented' | 'shelved' | 'unshelved' | 'updated' | 'action';

/** The attributes an observation carries into a raise fact. */
export function attributes(o: AlarmObservation): Partial<AlarmFact> {
  const a: Partial<AlarmFact> = {};
  if (o.severity !== undefined) a.severity = o.severity;
  if (o.text !== undefined) a.text = o.text;
  if (o.category !== undefined) a.category = o.category;
  if (o.value !== undefined) a.value = o.value;
  return a;
}

/** An observation of an active alarm that changes what the list shows (severity, text, category). */
export function attributesDiffer(v: AlarmView, o: AlarmObservation): boolean {
  return (o.severity !== undefined && o.severity !== v.severity) || (o.text !== undefined && o.text !== v.text) || (o.category !== undefined && o.category !== v.category);
}

/** The kinds of change from view a to view b of one alarm (b undefined: nothing to announce). */
export function changeKinds(a: AlarmView | undefined, b: AlarmView | undefined): AlarmChangeKind[] {
  const out: AlarmChangeKind[] = [];
  if (!b) return out;
  const newEpisode = !a || a.seq !== b.seq;
  if (newEpisode || (!a.active && b.active)) out.push('raised');
  if (!b.active && (newEpisode || a.active)) out.push('cleared');
  if (b.acked && (newEpisode || !a.acked)) out.push('acked');
  if (b.comments.length > (newEpisode ? 0 : a.comments.length)) out.push('commented');
  const wasShelved = a ? a.shelved : 'unshelved';
  if (b.shelved !== wasShelved) out.push(b.shelved === 'unshelved' ? 'unshelved' : 'shelved');
  if (!newEpisode && (a.severity !== b.severity || a.text !== b.text || a.category !== b.category)) out.push('updated');
  if ((b.onActionDone && (newEpisode || !a.onActionDone)) || (b.offActionDone && (newEpisode || !a.offActionDone))) out.push('action');
  return out;
}
