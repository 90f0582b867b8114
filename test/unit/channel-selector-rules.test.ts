// Channel selector, message side, as tables: which channel a message belongs to (msg.channel, topic,
// any property; exact, * and /regex/), what a message says about its path (msg.error, our
// quality, OPC UA status codes in the shapes OPC UA nodes send), and the master-status test.
import assert from 'node:assert/strict';
import { MasterRule, validateMaster } from '../../lib/core/channel-selector/master';
import { batchEntries, messageQuality, statusCodeQuality } from '../../lib/core/channel-selector/quality';
import { type RuleSpec, compileRule, parsePath, validateRule } from '../../lib/core/channel-selector/rules';

describe('channel selector: rules, quality, master status', () => {
  describe('matching', () => {
    const cases: Array<[string, RuleSpec, Record<string, unknown>, { rest?: string } | undefined]> = [
      ['topic exact', { by: 'topic', pattern: 'plcA/values' }, { topic: 'plcA/values' }, {}],
      ['topic exact, other', { by: 'topic', pattern: 'plcA/values' }, { topic: 'plcB/values' }, undefined],
      ['topic wildcard gives the item part', { by: 'topic', pattern: 'plcA/*' }, { topic: 'plcA/level' }, { rest: 'level' }],
      ['topic wildcard keeps slashes', { by: 'topic', pattern: 'plcA/*' }, { topic: 'plcA/tank/level' }, { rest: 'tank/level' }],
      ['topic wildcard in the middle', { by: 'topic', pattern: 'site/*/A' }, { topic: 'site/level/A' }, { rest: 'level' }],
      ['topic wildcard, prefix must match', { by: 'topic', pattern: 'plcA/*' }, { topic: 'xplcA/level' }, undefined],
      ['topic regex with a group', { by: 'topic', pattern: '/^A\\.(\\w+)$/' }, { topic: 'A.level' }, { rest: 'level' }],
      ['topic regex, flags', { by: 'topic', pattern: '/^plca/i' }, { topic: 'PLCA/x' }, { rest: undefined }],
      ['no topic', { by: 'topic', pattern: '*' }, { payload: 1 }, undefined],
      ['regex metacharacters are literal in a plain pattern', { by: 'topic', pattern: 'a.b' }, { topic: 'axb' }, undefined],
      ['msg.channel by name (empty pattern)', { by: 'channel' }, { channel: 'A' }, {}],
      ['msg.channel by index (empty pattern)', { by: 'channel' }, { channel: 0 }, {}],
      ['msg.channel other index', { by: 'channel' }, { channel: 1 }, undefined],
      ['msg.channel by pattern', { by: 'channel', pattern: 'eth*' }, { channel: 'eth0' }, { rest: '0' }],
      ['property path', { by: 'property', property: 'input.payload.unitid', pattern: '2' }, { input: { payload: { unitid: 2 } } }, {}],
      ['property path, other value', { by: 'property', property: 'input.payload.unitid', pattern: '2' }, { input: { payload: { unitid: 3 } } }, undefined],
      ['property present (empty pattern)', { by: 'property', property: 'pair' }, { pair: 'line1' }, {}],
      ['property false is absent', { by: 'property', property: 'write' }, { write: false }, undefined],
      ['property index', { by: 'property', property: 'payload[1]', pattern: '7' }, { payload: [1, 7] }, {}],
      ['property on a missing parent', { by: 'property', property: 'a.b.c', pattern: 'x' }, { a: null }, undefined],
      ['property object is no text', { by: 'property', property: 'payload', pattern: '*' }, { payload: { a: 1 } }, undefined],
    ];
    for (const [name, spec, msg, want] of cases) {
      it(name, () => {
        assert.equal(validateRule(spec, { allowEmptyPattern: true }), undefined);
        assert.deepEqual(compileRule(spec, 'A', 0).match(msg), want);
      });
    }

    it('explains bad rules', () => {
      const bad: Array<[RuleSpec, RegExp]> = [
        [{ by: 'topic', pattern: '' }, /a topic pattern is needed/],
        [{ by: 'topic', pattern: 'control' }, /reserved/],
        [{ by: 'topic', pattern: '/([a/' }, /not a valid regular expression/],
        [{ by: 'property', property: 'a..b', pattern: 'x' }, /is not a property path/],
        [{ by: 'property', property: '', pattern: 'x' }, /a property path is needed/],
        [{ by: 'nope' as never, pattern: 'x' }, /no rule kind/],
        [{ by: 'channel', pattern: '' }, /msg.channel value is needed/],
      ];
      for (const [spec, re] of bad) assert.match(validateRule(spec, { allowEmptyPattern: false }) ?? '', re, JSON.stringify(spec));
    });

    it('parses property paths', () => {
      assert.deepEqual(parsePath('payload[0]'), ['payload', 0]);
      assert.deepEqual(parsePath('a.b["c d"][2]'), ['a', 'b', 'c d', 2]);
      for (const bad of ['', '.a', 'a.', 'a[x]', '[0]', 'a b', 'a.[0]']) assert.equal(parsePath(bad), undefined, bad);
    });
  });

  describe('quality', () => {
    const cases: Array<[string, Record<string, unknown>, string, RegExp | '']> = [
      ['plain data is good', { payload: [1, 2] }, 'good', ''],
      ['node-red-contrib-modbus failure (msg.error)', { payload: '', error: Object.assign(new Error('Timed out'), { nodeStatus: 'timeout' }) }, 'bad', /^error: Timed out$/],
      ['a catch node error object', { error: { message: 'Port Not Open', source: { id: 'x' } } }, 'bad', /error: Port Not Open/],
      ['msg.error as text', { error: 'broken' }, 'bad', /error: broken/],
      ['our source: quality bad', { quality: 'bad', statusCode: 'BadCommunicationError' }, 'bad', /BadCommunicationError/],
      ['our source: quality uncertain', { quality: 'uncertain', statusCode: 'UncertainLastUsableValue' }, 'uncertain', /UncertainLastUsableValue/],
      ['our source: good', { quality: 'good', statusCode: 'Good' }, 'good', ''],
      ['statusCode name', { statusCode: 'BadSensorFailure' }, 'bad', /BadSensorFailure/],
      ['statusCode as node-opcua toString', { statusCode: 'Good (0x00000)' }, 'good', ''],
      ['statusCode number bad', { statusCode: 0x80320000 }, 'bad', /0x80320000/],
      ['statusCode number uncertain', { statusCode: 0x40000000 }, 'uncertain', /0x40000000/],
      ['statusCode number good', { statusCode: 0 }, 'good', ''],
      ['node-opcua StatusCode object (name/value)', { statusCode: { name: 'BadNodeIdUnknown', value: 0x80340000 } }, 'bad', /BadNodeIdUnknown/],
      ['StatusCode after a deep clone (_name/_value)', { statusCode: { _name: 'BadCommunicationError', _value: 0x80050000 } }, 'bad', /BadCommunicationError/],
      ['StatusCode JSON ({value})', { statusCode: { value: 0x80050000 } }, 'bad', /0x80050000/],
      ['DataValue payload', { payload: { value: 3, statusCode: { value: 0x80050000 }, sourceTimestamp: 'x' } }, 'bad', /0x80050000/],
      ['a payload that merely has a statusCode key is data', { payload: { statusCode: 5 } }, 'good', ''],
      ['error false is no error', { error: false, payload: 1 }, 'good', ''],
    ];
    for (const [name, msg, quality, reason] of cases) {
      it(name, () => {
        const q = messageQuality(msg);
        assert.equal(q.quality, quality);
        if (reason === '') assert.equal(q.reason, '');
        else assert.match(q.reason, reason);
        assert.equal(q.error, 'error' in msg && msg.error !== false);
      });
    }

    it('reads status codes in every shape or says it is none', () => {
      assert.equal(statusCodeQuality(undefined), undefined);
      assert.equal(statusCodeQuality('hello'), undefined);
      assert.deepEqual(statusCodeQuality('0x80000000'), { quality: 'bad', name: '0x80000000' });
      const withToString = { toString: () => 'BadTimeout (0x800A0000)' };
      assert.deepEqual(statusCodeQuality(withToString), { quality: 'bad', name: 'BadTimeout' });
    });

    it('our source batch output: one entry per item', () => {
      const entries = batchEntries({ payload: [{ item: 'ns=1;s=A', name: 'a', quality: 'good', statusCode: 'Good' }, { item: 'ns=1;s=B', quality: 'bad', statusCode: 'BadSensorFailure' }] });
      assert.deepEqual(entries?.map((e) => [e.key, e.quality.quality]), [['a', 'good'], ['ns=1;s=B', 'bad']]);
      assert.equal(batchEntries({ payload: [1, 2, 3] }), undefined);
      assert.equal(batchEntries({ payload: [] }), undefined);
    });
  });

  describe('master status', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean | undefined]> = [
      ['true: a Modbus read of one register [1]', { test: 'true' }, { payload: [1] }, true],
      ['true: [0]', { test: 'true' }, { payload: [0] }, false],
      ['true: boolean', {}, { payload: true }, true],
      ['true: text', {}, { payload: 'false' }, false],
      ['false (active-low)', { test: 'false' }, { payload: 0 }, true],
      ['eq number', { test: 'eq', value: '2' }, { payload: 2 }, true],
      ['eq number other', { test: 'eq', value: '2' }, { payload: 3 }, false],
      ['eq text', { test: 'eq', value: 'MASTER' }, { payload: 'MASTER' }, true],
      ['bit set', { test: 'bit', value: 3 }, { payload: [8] }, true],
      ['bit clear', { test: 'bit', value: 3 }, { payload: [7] }, false],
      ['path into the registers', { path: 'payload[1]' }, { payload: [123, 1] }, true],
      ['DataValue-ish {value}', {}, { payload: { value: true } }, true],
      ['several registers without an index: unknown', {}, { payload: [1, 0] }, undefined],
      ['nothing there: unknown', { path: 'payload.x' }, { payload: 1 }, undefined],
      ['neither true nor false: unknown', {}, { payload: 'maybe' }, undefined],
    ];
    for (const [name, extra, msg, want] of cases) {
      it(name, () => {
        const spec = { by: 'topic' as const, pattern: 'A/status', ...extra };
        assert.equal(validateMaster(spec), undefined);
        const r = new MasterRule(spec).read(msg);
        assert.equal(r.master, want, JSON.stringify(r));
        if (want === undefined) assert.ok(r.reason);
      });
    }

    it('explains bad master-status settings', () => {
      assert.match(validateMaster({ by: 'topic', pattern: 'x', test: 'eq' }) ?? '', /value that means "master" is missing/);
      assert.match(validateMaster({ by: 'topic', pattern: 'x', test: 'bit', value: 32 }) ?? '', /0..31/);
      assert.match(validateMaster({ by: 'topic', pattern: 'x', test: 'maybe' as never }) ?? '', /no master test/);
      assert.match(validateMaster({ by: 'topic', pattern: 'x', path: 'a..b' }) ?? '', /^value: .*not a property path/);
      assert.match(validateMaster({ by: 'topic', pattern: 'x', maxAgeMs: -1 }) ?? '', /maximum age/);
      assert.match(validateMaster({ by: 'topic', pattern: '' }) ?? '', /topic pattern is needed/);
    });
  });
});
