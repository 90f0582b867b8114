// Mustache templates of the diagnostics e-mails, checked without the mustache package: tags
// closed, sections balanced, every field one the event view provides (a typo would render as
// nothing, silently). The runtime parses with mustache as well; this is what the editor shows.
// Pure.

/** Every name a template can use (sections over them included). */
export const TEMPLATE_FIELDS: readonly string[] = [
  'pair', 'kind', 'kindLabel', 'severity', 'severityLabel', 'server', 'from', 'to', 'fromLabel', 'toLabel',
  'switched', 'reason', 'duration', 'durationMs', 'detect', 'detectMs', 'time', 'timeLocal', 'timestamp',
  'hasStatus', 'active', 'mode', 'control', 'failovers', 'primary', 'secondary', 'serviceLevel', 'lastSwitch',
  'lastReason',
];

/** 'line 2, column 7' for a character offset. */
export function textPosition(template: string, offset: number): string {
  const before = template.slice(0, Math.max(0, Math.min(offset, template.length)));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

/** The closest known field, for "did you mean" (edit distance ≤ 2). */
function closest(name: string, fields: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const f of fields) {
    const d = distance(name.toLowerCase(), f.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = f;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** A syntax error or unknown field with its position; undefined when the template is usable. */
export function checkTemplate(t: unknown, fields: readonly string[] = TEMPLATE_FIELDS): string | undefined {
  if (typeof t !== 'string') return 'the template must be text';
  const open: Array<{ name: string; at: number }> = [];
  let i = 0;
  while (i < t.length) {
    const start = t.indexOf('{{', i);
    if (start < 0) break;
    const triple = t.startsWith('{{{', start);
    const closeTag = triple ? '}}}' : '}}';
    const end = t.indexOf(closeTag, start + (triple ? 3 : 2));
    if (end < 0) return `unclosed tag at ${textPosition(t, start)} (a "{{" without "${closeTag}")`;
    const inner = t.slice(start + (triple ? 3 : 2), end).trim();
    i = end + closeTag.length;
    const sigil = triple ? '{' : /^[#^/!>&=]/.test(inner) ? inner[0] : '';
    const name = (sigil && !triple ? inner.slice(1) : inner).trim();
    if (sigil === '!') continue;
    if (sigil === '>') return `partials ({{> ${name}}}) are not supported, at ${textPosition(t, start)}`;
    if (sigil === '=') return `changing the delimiters ({{= … =}}) is not supported, at ${textPosition(t, start)}`;
    if (name === '') return `empty tag at ${textPosition(t, start)}`;
    if (sigil === '/') {
      const top = open.pop();
      if (!top) return `{{/${name}}} at ${textPosition(t, start)} closes a section that was never opened`;
      if (top.name !== name) return `{{/${name}}} at ${textPosition(t, start)} closes the section "${top.name}" opened at ${textPosition(t, top.at)} (expected {{/${top.name}}})`;
      continue;
    }
    if (name !== '.') {
      const root = name.split('.')[0];
      if (!fields.includes(root)) {
        const hint = closest(root, fields);
        return `unknown field "${name}" at ${textPosition(t, start)}${hint ? ` (did you mean "${hint}"?)` : ''}; known fields: ${fields.join(', ')}`;
      }
    }
    if (sigil === '#' || sigil === '^') open.push({ name, at: start });
  }
  const unclosed = open.pop();
  if (unclosed) return `unclosed section "${unclosed.name}" opened at ${textPosition(t, unclosed.at)} is never closed (add {{/${unclosed.name}}})`;
  return undefined;
}
