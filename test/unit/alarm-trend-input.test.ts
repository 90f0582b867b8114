// What messages and editor properties of alarm-sync and trend-backfill mean, and the reasons given
// for malformed ones.
import assert from 'node:assert/strict';
import { parseAlarmCommand } from '../../lib/alarm/commands';
import { parseAlarmConfig } from '../../lib/alarm/config';
import { alarmRows } from '../../lib/alarm/list';
import type { AlarmView } from '../../lib/alarm/types';
import { parseTrendCommand, parseTrendConfig } from '../../lib/trend/config';

const isSource = (t: string) => t === 'TT1';

describe('alarm-sync input messages', function () {
  it('reads alarms, values, acks (also from a ui-table button), comments, shelving and list requests', function () {
    assert.deepEqual(parseAlarmCommand({ topic: 'P1', payload: true }, isSource), { kind: 'observe', observation: { key: 'P1', active: true } });
    assert.deepEqual(parseAlarmCommand({ topic: 'x', payload: { tag: 'P2', active: false, severity: 'high', text: 't', category: 'c', value: 3 } }, isSource), {
      kind: 'observe', observation: { key: 'P2', active: false, severity: 750, text: 't', category: 'c', value: 3 },
    });
    assert.deepEqual(parseAlarmCommand({ topic: 'TT1', payload: 81, statusCode: 'BadCommunicationError' }, isSource), { kind: 'value', source: 'TT1', value: 81, good: false });
    assert.deepEqual(parseAlarmCommand({ topic: 'ack', payload: { tag: 'P1', seq: '3', comment: 'ok' }, user: 'anna' }, isSource), { kind: 'ack', key: 'P1', seq: 3, by: 'anna', comment: 'ok' });
    assert.deepEqual(parseAlarmCommand({ action: 'button_click', column: 'ack', payload: { key: 'P1', seq: 2, state: 'ACTIVE' }, _client: { user: { username: 'bo' } } }, isSource), { kind: 'ack', key: 'P1', seq: 2, by: 'bo' });
    assert.deepEqual(parseAlarmCommand({ topic: 'ack-all' }, isSource, 'shift-a'), { kind: 'ack-all', by: 'shift-a', comment: undefined });
    assert.deepEqual(parseAlarmCommand({ topic: 'shelve', payload: { tag: 'P1', minutes: 15 } }, isSource), { kind: 'shelve', key: 'P1', state: 'timed', durationMs: 900_000, by: 'operator', comment: undefined });
    assert.deepEqual(parseAlarmCommand({ topic: 'shelve', payload: { tag: 'P1' } }, isSource).kind, 'shelve');
    assert.equal((parseAlarmCommand({ topic: 'unshelve', payload: { tag: 'P1' } }, isSource) as { state: string }).state, 'unshelved');
    assert.deepEqual(parseAlarmCommand({ topic: 'list', payload: 'all' }, isSource), { kind: 'list', filter: 'all' });
  });

  it('refuses malformed messages with the reason', function () {
    assert.throws(() => parseAlarmCommand({ topic: 'P1', payload: { severity: 3 } }, isSource), /needs payload.active/);
    assert.throws(() => parseAlarmCommand({ topic: '', payload: true }, isSource), /needs a tag/);
    assert.throws(() => parseAlarmCommand({ topic: 'ack', payload: {} }, isSource), /needs a tag/);
    assert.throws(() => parseAlarmCommand({ topic: 'ack', payload: { tag: 'P1', seq: -1 } }, isSource), /seq\) -1 is not a whole number/);
    assert.throws(() => parseAlarmCommand({ topic: 'comment', payload: { tag: 'P1' } }, isSource), /needs text/);
    assert.throws(() => parseAlarmCommand({ topic: 'shelve', payload: { tag: 'P1', mode: 'forever' } }, isSource), /mode forever is not timed or oneshot/);
    assert.throws(() => parseAlarmCommand({ topic: 'shelve', payload: { tag: 'P1', mode: 'timed' } }, isSource), /needs payload.minutes/);
    assert.throws(() => parseAlarmCommand({ action: 'button_click', column: 'delete', payload: { key: 'P1' } }, isSource), /unknown table button delete/);
    assert.throws(() => parseAlarmCommand({ topic: 'P1', payload: 'on' }, isSource), /cannot tell what msg.topic "P1"/);
    assert.throws(() => parseAlarmCommand({ topic: 'P1', payload: { active: true, severity: 5000 } }, isSource), /severity 5000/);
  });

  it('checks the editor properties, listing every problem', function () {
    assert.deepEqual(parseAlarmConfig({ name: 'Line 1' }).group, 'Line 1');
    assert.throws(() => parseAlarmConfig({ group: 'bad;group', conditions: [{ key: 'A', limit: 1 }, { key: 'A', limit: 2 }], catchUpWait: -1, maxShelve: 0.5, listFilter: 'some' }), (err: Error) => {
      for (const part of [/alarm group "bad;group"/, /alarm A is configured twice/, /catch-up wait must be 0..600 s/, /longest shelving must be at least 1 min/, /list filter some/]) assert.match(err.message, part);
      return true;
    });
  });

  it('orders the list rows: unacknowledged first, then active, then by severity', function () {
    const v = (key: string, active: boolean, acked: boolean, severity: number, shelved: AlarmView['shelved'] = 'unshelved'): AlarmView => ({
      key, seq: 1, active, acked, severity, text: key, category: '', raisedAt: 1_700_000_000_000, raisedBy: 'a', acks: [], comments: [], shelved, onActionDone: false, offActionDone: false,
    });
    const views = [v('ackedActive', true, true, 900), v('low', true, false, 100), v('high', true, false, 900), v('clearedUnacked', false, false, 999), v('done', false, true, 500), v('shelved', true, false, 999, 'timed')];
    assert.deepEqual(alarmRows(views).map((r) => r.key), ['high', 'low', 'clearedUnacked', 'ackedActive']);
    assert.deepEqual(alarmRows(views, 'shelved').map((r) => r.key), ['shelved']);
    assert.equal(alarmRows(views, 'all').length, 6);
    assert.deepEqual([alarmRows(views)[0].ack, alarmRows(views)[3].ack, alarmRows(views)[2].color], ['Ack', '✓', '#9e9e9e']);
  });
});

describe('trend-backfill input messages and properties', function () {
  it('reads values with their quality, queries, gap requests', function () {
    assert.deepEqual(parseTrendCommand({ topic: 'TT1', payload: 4.5 }), { kind: 'value', tag: 'TT1', value: 4.5, good: true });
    assert.deepEqual(parseTrendCommand({ topic: 'TT1', payload: 4.5, quality: 'bad' }), { kind: 'value', tag: 'TT1', value: 4.5, good: false });
    assert.deepEqual(parseTrendCommand({ topic: 'query', payload: { tag: 'TT1' } }), { kind: 'query', query: { tag: 'TT1' } });
    assert.deepEqual(parseTrendCommand({ topic: 'gaps', payload: { tag: 'TT1' } }), { kind: 'gaps', tag: 'TT1' });
    assert.throws(() => parseTrendCommand({ payload: 3 }), /needs its tag in msg.topic/);
    assert.throws(() => parseTrendCommand({ topic: 'query' }), /a query needs payload/);
    assert.throws(() => parseTrendCommand({ topic: 'TT1', payload: { v: 1 } }), /is an object/);
  });

  it('checks the editor properties, listing every problem', function () {
    const ok = parseTrendConfig({ name: 'line', period: '500', tags: 'A, B\nC' });
    assert.deepEqual([ok.group, ok.periodMs, ok.tags, ok.chunk, ok.retentionMs], ['line', 500, ['A', 'B', 'C'], 2000, 7 * 86_400_000]);
    assert.throws(() => parseTrendConfig({ period: 5, tags: 'A,A', acceptNew: false, stale: 100, chunk: 50, retry: 0.1, scanWindow: 1000, retention: 1 }), (err: Error) => {
      for (const part of [/sampling period must be 100 ms/, /a tag is listed twice/, /backfill chunk must be 100..20000/, /retry interval must be at least 1 s/, /backfill window longer than the retention/]) assert.match(err.message, part);
      return true;
    });
    assert.throws(() => parseTrendConfig({ acceptNew: false }), /nothing would be trended/);
    assert.throws(() => parseTrendConfig({ period: 1000, stale: 500 }), /stale time shorter than the period/);
  });
});
