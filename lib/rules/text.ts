// Short texts an operator reads on a node's status and in tables: one length for every node, cut
// at a word boundary with an ellipsis, never mid-word. Pure (the editor loads it too).

/** The longest status text on the canvas, for every node of the package. */
export const STATUS_MAX = 56;

/**
 * `text` if it fits in `max` characters; else cut at the last word boundary that leaves room for
 * the ellipsis (a single word longer than that is cut where it must be), trailing punctuation
 * dropped, and "…" added.
 */
export function shortText(text: string, max = STATUS_MAX): string {
  const s = String(text ?? '').replace(/\s+/g, ' ').trim();
  if (s.length <= max) return s;
  const room = Math.max(1, max - 1);
  const cut = s.slice(0, room + 1);
  let end = cut.lastIndexOf(' ');
  // A boundary too early would throw away most of the text: cut the long word instead.
  if (end < room / 2) end = room;
  return `${s.slice(0, end).replace(/[\s,;:.(·\-–—]+$/, '')}…`;
}

/** '1 failover', '2 failovers', '0 items'. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** 'a', 'a and b', 'a, b and c'. */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** A value as a message quotes it: strings in quotes, nothing as "nothing". */
export function quote(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined || v === null || v === '') return 'nothing';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
