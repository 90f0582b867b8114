// The shared rules (lib/rules): every case of issue 12 with the message an operator reads, and the
// editor bundle (resources/rules.js) carrying the very same functions.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { conditionProblems, validateConditions } from '../../lib/rules/conditions';
import { checkPairFilter, checkKinds } from '../../lib/rules/diagnostics';
import { itemProblems } from '../../lib/rules/items';
import { sourceLabel } from '../../lib/rules/labels';
import { checkChannelName, checkPairName, defaultChannelName } from '../../lib/rules/names';
import { checkNodeId, checkOpcuaEndpoint, checkSecurity } from '../../lib/rules/opcua';
import { PAIR_RULES, checkUser, pairProblems, problemText } from '../../lib/rules/pair';
import { checkPortConflict } from '../../lib/rules/simulator';
import { checkTemplate } from '../../lib/rules/templates';
import { STATUS_MAX, plural, shortText } from '../../lib/rules/text';

const ROOT = join(__dirname, '..', '..', '..');

describe('shared rules (lib/rules)', () => {
  describe('names', () => {
    it('accepts names of any script and with parentheses', () => {
      for (const n of ['Linie Süd', 'Line 1 (north)', 'ライン1', 'Ligne Nord-Est #2', 'a']) assert.equal(checkPairName(n), undefined, n);
    });
    it('refuses what would break downstream, saying why', () => {
      assert.equal(checkPairName(''), 'the pair needs a name (it names the pair in events, e-mails and the dashboard)');
      assert.equal(checkPairName('Line 1, Line 2'), 'the name must not contain a comma (the diagnostics filter lists names separated by commas)');
      assert.equal(checkPairName(' Line'), 'the name must not start or end with a space');
      assert.match(checkPairName('x'.repeat(65)) ?? '', /65 characters long; at most 64/);
    });
    it('channel names: unique, not primary/secondary, defaults channel 2, 3…', () => {
      assert.equal(checkChannelName('primary'), '"primary" is the name of channel 0; choose another');
      assert.equal(checkChannelName('backup', ['backup']), 'the channel name "backup" is used twice');
      assert.equal(checkChannelName('Süd (Reserve)'), undefined);
      assert.equal(defaultChannelName(2), 'channel 2');
      assert.equal(defaultChannelName(2, ['channel 2']), 'channel 3');
    });
  });

  describe('OPC UA endpoints and node ids', () => {
    it('endpoints: IPv6 in brackets, any host name, ports 1–65535', () => {
      for (const u of ['opc.tcp://[::1]:4840', 'opc.tcp://[fd00::5]:4840/UA/Server', 'opc.tcp://host:4840', 'opc.tcp://Süd-Server.local:48010/', 'opc.tcp://10.0.0.5', 'opc.tcp://plc_1:4840/x y'.replace(' ', '%20')]) {
        assert.equal(checkOpcuaEndpoint(u), undefined, u);
      }
      assert.equal(checkOpcuaEndpoint('opc.tcp://host:99999'), '"opc.tcp://host:99999": port 99999 is out of range; a TCP port is 1–65535');
      assert.equal(checkOpcuaEndpoint('opc.tcp://host:0'), '"opc.tcp://host:0": port 0 is out of range; a TCP port is 1–65535');
      assert.equal(checkOpcuaEndpoint('opc.tcp://::1:4840'), '"opc.tcp://::1:4840": an IPv6 address must be written in brackets, e.g. opc.tcp://[::1]:4840');
      assert.equal(checkOpcuaEndpoint('http://host:4840'), '"http://host:4840" uses http://; an OPC UA endpoint starts with opc.tcp:// (opc.tcp://host:4840/path)');
      assert.equal(checkOpcuaEndpoint(''), 'an endpoint URL is required (opc.tcp://host:4840/path)');
      assert.match(checkOpcuaEndpoint('opc.tcp://ho st:4840') ?? '', /contains a space/);
    });
    it('node ids: ns=, nsu=, i/s/g/b; a bare tag name explained', () => {
      for (const id of ['ns=1;s=Simulation.Counter', 'nsu=urn:plant:server;s=Tag', 'nsu=http://opcfoundation.org/UA/;i=2258', 'i=2258', 'ns=2;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63', 'ns=1;b=M/RbKBsRVkePCePcx24oRA==', 'ns=3;s=Linie Süd.Temperatur (°C)']) {
        assert.equal(checkNodeId(id), undefined, id);
      }
      assert.equal(checkNodeId('DeviceOk'), '"DeviceOk" is not a node id (e.g. ns=2;s=Line1.Speed, ns=3;i=1001, nsu=urn:plant:server;s=Tag, i=2258); if it is a tag name, it needs its namespace and type, e.g. ns=1;s=DeviceOk (or use Browse)');
      assert.equal(checkNodeId('ns=1;i=abc'), '"ns=1;i=abc": a numeric identifier (i=) must be a whole number 0–4294967295');
      assert.equal(checkNodeId('nsu=;s=x'), '"nsu=;s=x": the namespace URI after nsu= is empty');
      assert.equal(checkNodeId('ns=1;s='), '"ns=1;s=": the string identifier after s= is empty');
    });
    it('security mode and policy go together', () => {
      assert.equal(checkSecurity('None', 'None'), undefined);
      assert.equal(checkSecurity('SignAndEncrypt', 'None'), 'security mode SignAndEncrypt needs a security policy (Basic256Sha256 is the usual one)');
      assert.equal(checkSecurity('None', 'Basic256Sha256'), 'security policy Basic256Sha256 needs a security mode Sign or Sign and encrypt');
    });
  });

  describe('the pair', () => {
    const good = { name: 'Line 1 (north)', protocol: 'opcua', primaryEndpoint: 'opc.tcp://[::1]:4840', secondaryEndpoint: 'opc.tcp://[::1]:4841', securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'warm', pingInterval: '1000', pingTimeout: 1000, holdOff: 0, reconnectMax: 10000, standbys: [{ name: 'channel 2', endpoint: 'opc.tcp://c:4840' }] };
    it('a valid pair with further channels has no problem', () => {
      assert.deepEqual(pairProblems(good, {}), []);
    });
    it('every field says what is wrong; the runtime text names the field', () => {
      const p = pairProblems({ ...good, name: '', secondaryEndpoint: good.primaryEndpoint, pingInterval: 5, standbys: [{ name: 'secondary', endpoint: 'opc.tcp://c:99999' }], authMode: 'username' }, { user: '' });
      assert.deepEqual(p.map((x) => x.field), ['name', 'secondaryEndpoint', 'standbys', 'pingInterval', 'user']);
      assert.equal(problemText(p[1]), 'secondary endpoint: the same endpoint as the primary: each channel must be another server (or another path to it)');
      assert.equal(p[2].message, 'channel 2 (secondary): "secondary" is the name of channel 1; choose another');
      assert.equal(p[3].message, 'the ping interval must be 50–3600000 ms (got 5)');
      assert.equal(p[4].message, 'a user name is required with "user name and password" (or choose anonymous)');
    });
    it('one endpoint written two ways is the same endpoint (host case, default port, trailing slash)', () => {
      const same = 'secondary endpoint: the same endpoint as the primary: each channel must be another server (or another path to it)';
      const second = (primaryEndpoint: string, secondaryEndpoint: string, protocol = 'opcua') => pairProblems({ ...good, protocol, primaryEndpoint, secondaryEndpoint, standbys: [] }, {}).filter((x) => x.field === 'secondaryEndpoint').map(problemText);
      assert.deepEqual(second('opc.tcp://Host:4840/', 'opc.tcp://host:4840'), [same]);
      assert.deepEqual(second('opc.tcp://PLC1.plant', 'opc.tcp://plc1.plant:4840/'), [same]);
      assert.deepEqual(second('opc.tcp://[::1]:4840/UA/Server/', 'opc.tcp://[::1]:4840/UA/Server'), [same]);
      assert.deepEqual(second('opc.tcp://host:4840', 'opc.tcp://host:4841'), [], 'another port is another server');
      assert.deepEqual(second('opc.tcp://host:4840/UA/A', 'opc.tcp://host:4840/UA/B'), [], 'another resource path is another endpoint');
      assert.equal(PAIR_RULES.standbys([{ name: 'c', endpoint: 'opc.tcp://c:4840' }, { name: 'd', endpoint: 'opc.tcp://C:4840/' }], good), 'channel 3 (d): the same endpoint as the c: each channel must be another server (or another path to it)', 'a further channel too');
      // Modbus: the host's case and the default port 502 and unit 1.
      assert.deepEqual(second('modbus-tcp://PLC1:502?unit=1', 'modbus-tcp://plc1', 'modbus'), [same]);
      assert.deepEqual(second('modbus-tcp://plc1?unit=1', 'modbus-tcp://plc1?unit=2', 'modbus'), [], 'another unit behind one gateway is another device');
    });
    it('a further channel with a port out of range, a duplicate name', () => {
      assert.equal(PAIR_RULES.standbys([{ name: 'b', endpoint: 'opc.tcp://c:99999' }], good), 'channel 2 (b): "opc.tcp://c:99999": port 99999 is out of range; a TCP port is 1–65535');
      assert.equal(PAIR_RULES.standbys([{ name: 'b', endpoint: 'opc.tcp://c:1' }, { name: 'b', endpoint: 'opc.tcp://d:1' }], good), 'channel 3 (b): the channel name "b" is used twice');
    });
    it('the user name is judged only with a user name login', () => {
      assert.equal(checkUser('', { authMode: 'anonymous' }), undefined);
      assert.equal(checkUser('operator', { authMode: 'username' }), undefined);
    });
  });

  describe('items of a source', () => {
    it('duplicate display names, ids twice, names that are another item\'s id, bad ids: row by row', () => {
      const p = itemProblems([{ id: 'ns=1;s=A', name: 'a' }, { id: 'ns=1;s=B', name: 'a' }, { id: 'ns=1;s=A' }, { id: 'DeviceOk' }, { id: 'ns=1;s=C', name: 'ns=1;s=B' }]);
      assert.deepEqual(p.map((x) => [x.index, x.field]), [[2, 'id'], [3, 'id'], [1, 'name'], [4, 'name']]);
      assert.equal(p[0].message, '"ns=1;s=A" is listed twice (rows 1 and 3)');
      assert.equal(p[2].message, 'the display name "a" is used twice (rows 1 and 2): msg.topic would not tell them apart');
      assert.equal(p[3].message, 'the display name "ns=1;s=B" is the node id of row 2: a write by msg.topic would be ambiguous');
      assert.deepEqual(itemProblems([]), [{ index: -1, field: 'list', message: 'add at least one item (Browse, or type a node id)' }]);
    });
    it('labels: the canvas label is the log name', () => {
      assert.equal(sourceLabel('', [{ id: 'ns=1;s=Simulation.Counter', name: 'counter' }, { id: 'x' }, { id: 'y' }, { id: 'z' }]), 'counter +3');
      assert.equal(sourceLabel('Line 1 values', []), 'Line 1 values');
    });
  });

  describe('failover-condition rows', () => {
    it('an empty name, "stale after" −1 and an item that is no node id: each reported, on its field', () => {
      const rows = [{ name: 'ok', kind: 'stale', item: 'ns=1;s=Simulation.Counter', staleMs: 3000 }, { name: '', kind: 'stale', item: 'DeviceOk', staleMs: -1 }];
      const p = conditionProblems(rows, 'opcua');
      assert.deepEqual(p.map((x) => [x.index, x.field]), [[1, 'name'], [1, 'item'], [1, 'ms']]);
      assert.equal(p[0].message, 'the condition needs a name');
      assert.match(p[1].message, /^"DeviceOk" is not a node id/);
      assert.equal(p[2].message, '"stale after" must be a number of milliseconds > 0 (got -1)');
      assert.equal(validateConditions(rows, 'opcua'), 'condition 2: the condition needs a name');
    });
    it('without a protocol the item syntax is not judged (the engine API)', () => {
      assert.equal(validateConditions([{ name: 'x', kind: 'stale', item: 'DeviceOk', staleMs: 1 }]), undefined);
    });
  });

  describe('diagnostics', () => {
    it('a pair filter naming no pair', () => {
      assert.equal(checkPairFilter('', ['a']), undefined);
      assert.equal(checkPairFilter('Linie Süd, b', ['Linie Süd', 'b']), undefined);
      assert.equal(checkPairFilter('Linie Süd, line 9', ['Linie Süd']), 'no pair is named "line 9": events of a pair not listed are never shown (pairs: "Linie Süd"; leave empty for all)');
      assert.equal(checkKinds(['failover', 'explosion']), 'unknown event kind "explosion"');
    });
    it('template fields that do not exist, with a suggestion; sections balanced', () => {
      assert.match(checkTemplate('{{pair}}: {{faiovers}}') ?? '', /^unknown field "faiovers" at line 1, column 11 \(did you mean "failovers"\?\)/);
      assert.equal(checkTemplate('{{#to}}x'), 'unclosed section "to" opened at line 1, column 1 is never closed (add {{/to}})');
      assert.equal(checkTemplate('{{{reason}}} {{&pair}} {{! note }} {{#switched}}{{.}}{{/switched}}'), undefined);
    });
  });

  it('simulators: two on one port', () => {
    assert.equal(checkPortConflict({ id: 'b', port: '4850' }, [{ id: 'a', name: 'primary server', port: 4850 }]), 'port 4850 is also used by the simulator "primary server": each simulator needs a port of its own');
    assert.equal(checkPortConflict({ id: 'b', port: 4850 }, [{ id: 'a', port: 4850, disabled: true }]), undefined);
  });

  describe('status texts', () => {
    it('one length, cut at a word boundary with an ellipsis', () => {
      const long = 'secondary (hot): primary down: connection refused by opc.tcp://127.0.0.1:4840/UA/Simulator';
      const s = shortText(long);
      assert.ok(s.length <= STATUS_MAX, s);
      assert.equal(s, 'secondary (hot): primary down: connection refused by…');
      assert.equal(shortText('short'), 'short');
      assert.equal(shortText('x'.repeat(80)).length, STATUS_MAX);
      assert.equal(plural(1, 'failover'), '1 failover');
      assert.equal(plural(2, 'failover'), '2 failovers');
    });
  });

  it('the editor bundle (resources/rules.js) carries the same rules, with no Node builtin or package', () => {
    const text = readFileSync(join(ROOT, 'resources', 'rules.js'), 'utf8');
    const window: Record<string, unknown> = {};
    runInNewContext(text, { window });
    const R = window.RedundancyRules as { opcua: { checkNodeId(v: string): string | undefined }; pair: { PAIR_RULES: Record<string, unknown> }; conditions: { conditionProblems: typeof conditionProblems } };
    assert.equal(R.opcua.checkNodeId('DeviceOk'), checkNodeId('DeviceOk'));
    assert.deepEqual(Object.keys(R.pair.PAIR_RULES), Object.keys(PAIR_RULES));
    const rows = [{ name: '', kind: 'stale', item: 'x', staleMs: -1 }];
    assert.equal(JSON.stringify(R.conditions.conditionProblems(rows, 'opcua')), JSON.stringify(conditionProblems(rows, 'opcua')));
    assert.doesNotMatch(text, /require\("(?!\.)/, 'only relative requires');
  });
});
