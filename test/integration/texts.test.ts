// What an operator reads from deployed nodes (issue 12): a condition row that cannot be evaluated
// is never "armed" (invalid rows and items a server refuses show yellow and are logged once);
// status texts have one length and are cut at a word; logs name a node by its canvas label; a
// pair's configuration error is logged once, by the pair; a diagnostics filter naming no pair and
// two simulators on one port are reported clearly.
import assert from 'node:assert/strict';
import { OpcuaSimulator, SIM_ITEMS } from '../../lib/sim/opcua-simulator';
import { STATUS_MAX } from '../../lib/rules/text';
import { helper, lastStatus, loadFlow, opcuaPairDef, pairModule, sourceModule, startServer, statusesOf, stopServer, waitFor } from '../helpers/flow';
import { freePort } from '../helpers/ports';

/* eslint-disable @typescript-eslint/no-require-imports */
const conditionModule = require('../../nodes/failover-condition');
const diagnosticsModule = require('../../nodes/redundancy-diagnostics');
const simulatorModule = require('../../nodes/opcua-simulator');
/* eslint-enable @typescript-eslint/no-require-imports */

interface LogEntry {
  level: number;
  type?: string;
  name?: string;
  id?: string;
  msg: unknown;
}

function logEntries(): LogEntry[] {
  return helper.log().args.map((a: LogEntry[]) => a[0]);
}


const pairDef = (id: string, p: OpcuaSimulator, s: OpcuaSimulator, extra: Record<string, unknown> = {}) => opcuaPairDef(id, 'Linie Süd', p.endpointUrl, s.endpointUrl, extra);

describe('texts of deployed nodes: conditions never falsely armed, one status length, labels in logs', function () {
  this.timeout(30_000);
  let primary: OpcuaSimulator;
  let secondary: OpcuaSimulator;

  before(async function () {
    primary = new OpcuaSimulator({ port: await freePort(), name: 'texts-primary' });
    secondary = new OpcuaSimulator({ port: await freePort(), name: 'texts-secondary' });
    await Promise.all([primary.start(), secondary.start()]);
  });
  after(async function () {
    await Promise.all([primary.stop(), secondary.stop()]);
  });
  beforeEach(async function () {
    await startServer();
  });
  afterEach(async function () {
    await helper.unload();
    await stopServer();
  });

  it('a condition row that cannot be evaluated is not armed: yellow, logged once, the others armed', async function () {
    await loadFlow([pairModule, sourceModule, conditionModule], [
      pairDef('pair-t', primary, secondary),
      {
        id: 'cond', type: 'failover-condition', name: '', pair: 'pair-t', samplingInterval: 200, minSwitchInterval: 0, wires: [[]],
        conditions: [
          { name: 'counter stale', kind: 'stale', item: SIM_ITEMS.counter, staleMs: 3000 },
          { name: '', kind: 'stale', item: 'DeviceOk', staleMs: -1 },
          { name: 'ghost link', kind: 'value', item: 'ns=1;s=Simulation.NoSuchTag', op: 'false' },
        ],
      },
    ]);
    // The invalid row: one log line naming every problem of it, under the node's canvas label.
    const notArmed = logEntries().filter((e) => /is not armed/.test(String(e.msg)));
    assert.equal(notArmed.length, 1, JSON.stringify(notArmed));
    assert.equal(notArmed[0].name, 'failover conditions (3)', 'logged under the label the canvas shows');
    assert.match(String(notArmed[0].msg), /^condition 2 is not armed: the condition needs a name; "DeviceOk" is not a node id .*; "stale after" must be a number of milliseconds > 0 \(got -1\)$/);
    // The item the server refuses: reported once it is refused, and the status says which rows are not evaluated.
    await waitFor(() => /not evaluated: condition 2 and ghost link/.test(lastStatus('cond')?.text ?? ''), 10_000, 'both unevaluable rows on the status', () => statusesOf('cond'));
    assert.equal(lastStatus('cond')?.fill, 'yellow');
    assert.match(lastStatus('cond')?.text ?? '', /^armed 1 of 3; not evaluated: condition 2 and ghost link$/);
    assert.ok(statusesOf('cond').every((s) => !/^armed: /.test(s.text ?? '')), 'never shown as fully armed');
    const refused = logEntries().filter((e) => /cannot be evaluated/.test(String(e.msg)));
    assert.equal(refused.length, 1, `one warning for the refused item, not one per server or per retry: ${JSON.stringify(refused)}`);
    assert.match(String(refused[0].msg), /condition "ghost link" cannot be evaluated on the (primary|secondary): item ns=1;s=Simulation.NoSuchTag refused \(BadNodeIdUnknown\)/);
  });

  it('status texts: one length, cut at a word with an ellipsis; the unnamed source logs under its label; a pair error logged once', async function () {
    await loadFlow([pairModule, sourceModule], [
      pairDef('bad', primary, secondary, { primaryEndpoint: 'opc.tcp://plc-a:99999/UA', name: 'Line 1 (north)' }),
      { id: 'src-bad', type: 'redundant-source', pair: 'bad', items: [{ id: SIM_ITEMS.counter, name: 'counter' }, { id: SIM_ITEMS.sine }], samplingInterval: 0, output: 'change', wires: [[]] },
      { id: 'src-items', type: 'redundant-source', pair: 'bad', items: [{ id: 'DeviceOk', name: 'a' }, { id: SIM_ITEMS.sine, name: 'a' }], samplingInterval: 0, output: 'change', wires: [[]] },
    ]);
    const errors = logEntries().filter((e) => e.level === helper.log().ERROR);
    const pairErrors = errors.filter((e) => /port 99999/.test(String(e.msg)));
    assert.equal(pairErrors.length, 1, `the pair's error once: ${JSON.stringify(errors)}`);
    assert.equal(pairErrors[0].type, 'redundant-pair');
    assert.match(String(pairErrors[0].msg), /primary endpoint: "opc.tcp:\/\/plc-a:99999\/UA": port 99999 is out of range; a TCP port is 1–65535/);
    const itemErrors = errors.filter((e) => e.type === 'redundant-source');
    assert.equal(itemErrors.length, 1, JSON.stringify(itemErrors));
    assert.equal(itemErrors[0].name, 'a +1', 'logged under the canvas label');
    assert.match(String(itemErrors[0].msg), /item 1 \(DeviceOk\): "DeviceOk" is not a node id .*; item 2 \(ns=1;s=Simulation.Sine\): the display name "a" is used twice \(rows 1 and 2\)/);
    for (const id of ['src-bad', 'src-items']) {
      const s = lastStatus(id);
      assert.equal(s?.fill, 'red');
      assert.ok((s?.text ?? '').length <= STATUS_MAX, `${s?.text} fits ${STATUS_MAX}`);
    }
    assert.match(lastStatus('src-items')?.text ?? '', /^config: item 1 \(DeviceOk\): "DeviceOk" is not a node id…$/, 'cut at a word, with an ellipsis');
    assert.equal(lastStatus('src-bad')?.text, 'pair config: primary endpoint (see the log)', 'the field at fault, not half a URL');
  });

  it('a diagnostics filter naming no pair is warned once and shown yellow; two simulators on one port are a clear error', async function () {
    const port = await freePort();
    await loadFlow([pairModule, diagnosticsModule, simulatorModule], [
      pairDef('pair-d', primary, secondary),
      { id: 'diag', type: 'redundancy-diagnostics', name: '', pairs: 'Linie Süd, line 9', kinds: [], severities: [], maxEvents: 10, persist: false, subject: '', body: '', rateLimit: 10, rateWindow: 60000, listSize: 10, wires: [[], [], []] },
      { id: 'sim-a', type: 'opcua-simulator', name: 'plant A', port, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, wires: [] },
      { id: 'sim-b', type: 'opcua-simulator', name: '', port, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, wires: [] },
    ]);
    const warnings = logEntries().filter((e) => e.type === 'redundancy-diagnostics' && /no pair is named/.test(String(e.msg)));
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0].msg), /no pair is named "line 9": events of a pair not listed are never shown/);
    assert.equal(lastStatus('diag')?.fill, 'yellow');
    assert.match(lastStatus('diag')?.text ?? '', /0 events · no pair named line 9/);
    const clash = logEntries().filter((e) => e.type === 'opcua-simulator' && e.level === helper.log().ERROR);
    assert.equal(clash.length, 1, JSON.stringify(clash));
    assert.equal(clash[0].name, `OPC UA simulator :${port}`, 'logged under the canvas label');
    assert.match(String(clash[0].msg), new RegExp(`port ${port} is also used by the simulator "plant A": each simulator needs a port of its own`));
    assert.equal(lastStatus('sim-b')?.fill, 'red');
    await waitFor(() => lastStatus('sim-a')?.fill === 'green', 10_000, 'the first simulator running', () => statusesOf('sim-a'));
  });
});
