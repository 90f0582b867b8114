// Status table rows and pair metrics from PairStatus, exactly.
import assert from 'node:assert/strict';
import { formatDuration, pairMetrics, statusRows } from '../../lib/core/status-table';
import type { PairStatus, RedundancyEvent } from '../../lib/core/types';
import { pinTimezone } from '../helpers/timezone';

// 2023-11-14T22:13:20.000Z = 23:13:20 in Berlin (CET).
const T = 1_700_000_000_000;

const lastFailover: RedundancyEvent = { time: T, pair: 'line1', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary', reason: 'connection lost' };

const line1: PairStatus = {
  pair: 'line1',
  mode: 'hot',
  control: 'auto',
  active: 'secondary',
  servers: {
    primary: { role: 'primary', state: 'down', reason: 'ping timeout after 500 ms', since: T, conditions: [] },
    secondary: { role: 'secondary', state: 'healthy', reason: 'connected', since: T - 5000, serviceLevel: 200, lastPingMs: 3, conditions: [] },
  },
  failovers: 2,
  lastEvent: lastFailover,
  lastSwitchMs: 182,
  lastSwitchReason: 'connection lost',
  activeTimeMs: { primary: 7_200_000, secondary: 65_000 },
};

const line2: PairStatus = {
  pair: 'line2',
  mode: 'cold',
  control: 'force-primary',
  active: 'primary',
  servers: {
    primary: { role: 'primary', state: 'degraded', reason: 'failover condition: stale counter', since: T, serviceLevel: 255, conditions: ['stale counter'] },
    secondary: { role: 'secondary', state: 'idle', reason: '', since: T, conditions: [] },
  },
  failovers: 0,
  lastEvent: { time: T + 2000, pair: 'line2', kind: 'connection-lost', severity: 'warning', server: 'secondary', reason: 'socket closed' },
  activeTimeMs: { primary: 1000, secondary: 0 },
};

const fresh: PairStatus = {
  pair: 'line3',
  mode: 'warm',
  control: 'force-secondary',
  active: null,
  servers: {
    primary: { role: 'primary', state: 'connecting', reason: 'connecting to opc.tcp://127.0.0.1:4840', since: T, conditions: [] },
    secondary: { role: 'secondary', state: 'down', reason: 'connect failed: ECONNREFUSED', since: T, conditions: [] },
  },
  failovers: 0,
  activeTimeMs: { primary: 0, secondary: 0 },
};

describe('status table', () => {
  pinTimezone('Europe/Berlin');

  it('rows for ui-table, exactly', () => {
    assert.deepEqual(statusRows([line1, line2, fresh]), [
      {
        pair: 'line1',
        mode: 'hot',
        active: 'secondary',
        primary: 'down: ping timeout after 500 ms',
        secondary: 'healthy',
        serviceLevel: '— / 200',
        failovers: 2,
        lastEvent: '23:13:20 failover: primary → secondary (connection lost)',
        lastSwitch: '182 ms',
      },
      {
        pair: 'line2',
        mode: 'cold, forced to the primary',
        active: 'primary',
        primary: 'degraded: failover condition: stale counter',
        secondary: 'idle',
        serviceLevel: '255 / —',
        failovers: 0,
        lastEvent: '23:13:22 connection-lost on the secondary (socket closed)',
        lastSwitch: '',
      },
      {
        pair: 'line3',
        mode: 'warm, forced to the secondary',
        active: 'none',
        primary: 'connecting: connecting to opc.tcp://127.0.0.1:4840',
        secondary: 'down: connect failed: ECONNREFUSED',
        serviceLevel: '— / —',
        failovers: 0,
        lastEvent: '',
        lastSwitch: '',
      },
    ]);
    assert.deepEqual(statusRows([]), []);
  });

  it('pair metrics, the $SYS tags as data', () => {
    assert.deepEqual(pairMetrics(line1), {
      pair: 'line1',
      mode: 'hot',
      control: 'auto',
      active: 'secondary',
      failovers: 2,
      lastReason: 'connection lost',
      lastSwitchMs: 182,
      activeTimeMs: { primary: 7_200_000, secondary: 65_000 },
      state: { primary: 'down', secondary: 'healthy' },
      serviceLevel: { primary: null, secondary: 200 },
      conditions: { primary: [], secondary: [] },
      lastEvent: lastFailover,
    });
    const m = pairMetrics(fresh);
    assert.equal(m.lastReason, null);
    assert.equal(m.lastSwitchMs, null);
    assert.equal(m.lastEvent, null);
    assert.equal(m.active, null);
    // The metrics are a copy: flows may not change the engine's status through them.
    pairMetrics(line2).conditions.primary.push('x');
    assert.deepEqual(line2.servers.primary.conditions, ['stale counter']);
  });

  it('durations read well', () => {
    assert.equal(formatDuration(undefined), '');
    assert.equal(formatDuration(0), '0 ms');
    assert.equal(formatDuration(182.4), '182 ms');
    assert.equal(formatDuration(999.6), '1.0 s');
    assert.equal(formatDuration(1234), '1.2 s');
    assert.equal(formatDuration(59_960), '1 min 0 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(3_600_000), '1 h 0 min');
    assert.equal(formatDuration(11_520_000), '3 h 12 min');
  });
});
