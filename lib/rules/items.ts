// A source node's item list: each item's id in its protocol's syntax, display names (msg.topic)
// unique, no id listed twice, no name that is another item's id (a write by topic would be
// ambiguous). Pure.
import { checkNumber } from './numbers';
import { protocolRules } from './protocols';
import { quote } from './text';

export interface ItemRow {
  id?: unknown;
  name?: unknown;
}

export interface ItemProblem {
  /** Row index (0-based); -1 for the list as a whole. */
  index: number;
  field: 'id' | 'name' | 'list';
  message: string;
}

/** Every problem of an item list, row by row (the editor marks the rows; the runtime lists them). */
export function itemProblems(items: unknown, protocol: unknown = 'opcua'): ItemProblem[] {
  if (!Array.isArray(items)) return [{ index: -1, field: 'list', message: 'items must be a list' }];
  if (items.length === 0) return [{ index: -1, field: 'list', message: 'add at least one item (Browse, or type a node id)' }];
  const rules = protocolRules(protocol);
  const out: ItemProblem[] = [];
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  const rows = items.map((r) => ({ id: String((r as ItemRow | null)?.id ?? '').trim(), name: String((r as ItemRow | null)?.name ?? '').trim() }));
  rows.forEach((r, i) => {
    // A protocol these rules do not know: only an empty id is judged here (its driver judges the rest).
    const err = rules ? rules.checkItem(r.id) : r.id === '' ? 'an item id is required' : undefined;
    if (err) out.push({ index: i, field: 'id', message: err });
    else if (ids.has(r.id)) out.push({ index: i, field: 'id', message: `${quote(r.id)} is listed twice (rows ${ids.get(r.id)! + 1} and ${i + 1})` });
    if (!ids.has(r.id)) ids.set(r.id, i);
  });
  rows.forEach((r, i) => {
    if (!r.name) return;
    if (names.has(r.name)) out.push({ index: i, field: 'name', message: `the display name ${quote(r.name)} is used twice (rows ${names.get(r.name)! + 1} and ${i + 1}): msg.topic would not tell them apart` });
    else if (ids.has(r.name) && ids.get(r.name) !== i) out.push({ index: i, field: 'name', message: `the display name ${quote(r.name)} is the node id of row ${ids.get(r.name)! + 1}: a write by msg.topic would be ambiguous` });
    if (!names.has(r.name)) names.set(r.name, i);
  });
  return out;
}

/** One message for a list (the first problems, with their rows), or undefined. */
export function checkItems(items: unknown, protocol: unknown = 'opcua'): string | undefined {
  const problems = itemProblems(items, protocol);
  if (problems.length === 0) return undefined;
  return problems
    .map((p) => (p.index < 0 ? p.message : `item ${p.index + 1}: ${p.message}`))
    .join('; ');
}

export function checkSamplingInterval(v: unknown): string | undefined {
  return checkNumber(v, 'the sampling interval', 0, 'ms');
}
