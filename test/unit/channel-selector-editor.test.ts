// The edit dialog's checks (nodes/channel-selector.html) say exactly what the runtime says
// (lib/core/channel-selector/config.ts): the dialog's script runs here in a sandbox and both judge
// the same table of node properties. The node's defaults are a working configuration.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { type SelectorDef, parseSelectorConfig } from '../../lib/core/channel-selector/config';

interface EditorDef {
  defaults: Record<string, { value: unknown; validate?: (this: Record<string, unknown>, v: unknown, opt?: unknown) => true | string | boolean }>;
  _problems: (n: Record<string, unknown>) => string[];
  outputs: number;
  category: string;
}

function loadEditorDef(): EditorDef {
  const html = readFileSync(join(__dirname, '..', '..', '..', 'nodes', 'channel-selector.html'), 'utf8');
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(script, 'the dialog script');
  let def: EditorDef | undefined;
  runInNewContext(script, { RED: { nodes: { registerType: (_type: string, d: EditorDef) => (def = d) } }, $: () => ({}) });
  assert.ok(def, 'registerType called');
  return def;
}

/** Every validator of the dialog on the node's properties: the messages of those that fail. */
function dialogVerdict(def: EditorDef, node: Record<string, unknown>): string[] {
  const failed: string[] = [];
  for (const [prop, d] of Object.entries(def.defaults)) {
    if (!d.validate) continue;
    const v = d.validate.call(node, node[prop], {});
    if (v !== true) failed.push(typeof v === 'string' ? v : `${prop} invalid`);
  }
  return failed;
}

const CH = (name: string, extra: Record<string, unknown> = {}) => ({ name, by: 'topic', pattern: `${name}/*`, staleMs: 3000, ...extra });
const M = (pattern: string, extra: Record<string, unknown> = {}) => ({ by: 'topic', pattern, ...extra });

const table: Array<[string, Record<string, unknown>]> = [
  ['two channels', { channels: [CH('A'), CH('B')] }],
  ['no channels', { channels: [] }],
  ['empty name', { channels: [CH(''), CH('B')] }],
  ['duplicate names', { channels: [CH('A'), { ...CH('A'), pattern: 'x' }] }],
  ['same rule twice', { channels: [CH('A'), { ...CH('B'), pattern: 'A/*' }] }],
  ['msg.channel with the name, twice the same name-less rule is fine', { channels: [{ name: 'A', by: 'channel' }, { name: 'B', by: 'channel' }] }],
  ['property rule without a path', { channels: [{ name: 'A', by: 'property', pattern: 'x' }] }],
  ['property rule with a bad path', { channels: [{ name: 'A', by: 'property', property: 'a..b', pattern: 'x' }] }],
  ['property rule present', { channels: [{ name: 'A', by: 'property', property: 'sendingNodeId', pattern: 'read-a' }, { name: 'B', by: 'property', property: 'input.payload.unitid', pattern: '2' }] }],
  ['bad regex', { channels: [{ ...CH('A'), pattern: '/(/' }] }],
  ['reserved topic', { channels: [{ ...CH('A'), pattern: 'control' }] }],
  ['topic rule without pattern', { channels: [{ ...CH('A'), pattern: '' }] }],
  ['freshness text', { channels: [CH('A', { staleMs: 'soon' })] }],
  ['freshness negative', { channels: [CH('A', { staleMs: -1 })] }],
  ['freshness empty (default)', { channels: [CH('A', { staleMs: '' })] }],
  ['guard, masters', { guard: true, channels: [CH('A', { master: M('A/status', { path: 'payload[0]', test: 'eq', value: '1' }) }), CH('B', { master: M('B/status', { test: 'bit', value: 2 }) })] }],
  ['guard, one master missing', { guard: true, channels: [CH('A', { master: M('A/status') }), CH('B')] }],
  ['guard, no expiry', { guard: true, channels: [CH('A', { staleMs: 0, master: M('A/status') })] }],
  ['guard, no freshness but a max age', { guard: true, channels: [CH('A', { staleMs: 0, master: M('A/status', { maxAgeMs: 5000 }) })] }],
  ['master eq without value', { channels: [CH('A', { master: M('A/status', { test: 'eq' }) })] }],
  ['master bit out of range', { channels: [CH('A', { master: M('A/status', { test: 'bit', value: '40' }) })] }],
  ['master bad path', { channels: [CH('A', { master: M('A/status', { path: 'payload[' }) })] }],
  ['master bad age', { channels: [CH('A', { master: M('A/status', { maxAgeMs: 0 }) })] }],
  ['master property rule without path', { channels: [CH('A', { master: { by: 'property', pattern: '1' } })] }],
  ['return mode', { channels: [CH('A')], returnMode: 'back' }],
  ['stay', { channels: [CH('A')], returnMode: 'stay' }],
  ['topic out', { channels: [CH('A')], topicOut: 'x' }],
  ['hold-off text', { channels: [CH('A')], holdOff: 'x' }],
  ['hold-off too long', { channels: [CH('A')], holdOff: 86_400_001 }],
  ['min switch', { channels: [CH('A')], minSwitch: 1.5 }],
  ['writes by channel', { channels: [CH('A')], writeBy: 'channel' }],
  ['writes by topic without pattern', { channels: [CH('A')], writeBy: 'topic', writePattern: '' }],
  ['writes by topic', { channels: [CH('A')], writeBy: 'topic', writePattern: 'write/*' }],
  ['writes by property without path', { channels: [CH('A')], writeBy: 'property', writeProperty: '' }],
  ['hold writes', { channels: [CH('A')], holdWrites: -1 }],
  ['max held zero', { channels: [CH('A')], maxHeldWrites: 0 }],
  ['max held text number', { channels: [CH('A')], maxHeldWrites: '50' }],
];

describe('channel selector edit dialog', () => {
  const def = loadEditorDef();

  it('is in the redundancy palette, its defaults make a working node with 1 + 2 outputs', () => {
    assert.equal(def.category, 'redundancy');
    const node = Object.fromEntries(Object.entries(def.defaults).map(([k, d]) => [k, d.value]));
    assert.deepEqual(parseSelectorConfig(node as SelectorDef).problems, []);
    assert.deepEqual(dialogVerdict(def, node), []);
    assert.equal(def.outputs, 1 + (node.channels as unknown[]).length);
  });

  for (const [name, props] of table) {
    it(`agrees with the runtime: ${name}`, () => {
      const node = { writeBy: 'property', writeProperty: 'write', writePattern: '', ...props };
      const runtime = parseSelectorConfig(node as SelectorDef).problems;
      const dialog = def._problems(node);
      assert.deepEqual([...dialog].sort(), [...runtime].sort(), 'the same messages');
      const verdict = dialogVerdict(def, node);
      assert.equal(verdict.length > 0, runtime.length > 0, `validators: ${JSON.stringify(verdict)}`);
    });
  }
});
