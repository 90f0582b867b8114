// Status table rows and pair metrics from PairStatus, exactly.
import assert from 'node:assert/strict';
import { formatDuration, pairMetrics, statusRows } from '../../lib/core/status-table';
import type { PairStatus, RedundancyEvent } from '../../lib/core/types';
import { pinTimezone } from '../helpers/timezone';

/** A status as the pair reports it: its channels in order, the active one's index. */
function withChannels(s: Omit<PairStatus, 'channels' | 'activeIndex'>): PairStatus {
  const channels = Object.values(s.servers).sort((a, b) => a.index - b.index);
  return { ...s, channels, activeIndex: s.active === null ? null : channels.findIndex((c) => c.name === s.active) };
}


// 2023-11-14T22:13:20.000Z = 23:13:20 in Berlin (CET).
const T = 1_700_000_000_000;

const lastFailover: RedundancyEvent = { time: T, pair: 'line1', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary', reason: 'connection lost' };

const line1: PairStatus = withChannels({
  pair: 'line1',
  mode: 'hot',
  control: 'auto',
  active: 'secondary',
  servers: {
    primary: { role: 'primary', index: 0, name: 'primary', endpoint: 'opc.tcp://p:4840', state: 'down', reason: 'ping timeout after 500 ms', since: T, conditions: [] },
    secondary: { role: 'secondary', index: 1, name: 'secondary', endpoint: 'opc.tcp://s:4840', state: 'healthy', reason: 'connected', since: T - 5000, serviceLevel: 200, lastPingMs: 3, conditions: [] },
  },
  failovers: 2,
  lastEvent: lastFailover,
  lastSwitchMs: 182,
  lastSwitchReason: 'connection lost',
  activeTimeMs: { primary: 7_200_000, secondary: 65_000 },
});

const line2: PairStatus = withChannels({
  pair: 'line2',
  mode: 'cold',
  control: 'force-primary',
  active: 'primary',
  servers: {
    primary: { role: 'primary', index: 0, name: 'primary', endpoint: 'opc.tcp://p:4840', state: 'degraded', reason: 'failover condition: stale counter', since: T, serviceLevel: 255, conditions: ['stale counter'] },
    secondary: { role: 'secondary', index: 1, name: 'secondary', endpoint: 'opc.tcp://s:4840', state: 'idle', reason: '', since: T, conditions: [] },
  },
  failovers: 0,
  lastEvent: { time: T + 2000, pair: 'line2', kind: 'connection-lost', severity: 'warning', server: 'secondary', reason: 'socket closed' },
  activeTimeMs: { primary: 1000, secondary: 0 },
});

const fresh: PairStatus = withChannels({
  pair: 'line3',
  mode: 'warm',
  control: 'force-secondary',
  active: null,
  servers: {
    primary: { role: 'primary', index: 0, name: 'primary', endpoint: 'opc.tcp://p:4840', state: 'connecting', reason: 'connecting to opc.tcp://127.0.0.1:4840', since: T, conditions: [] },
    secondary: { role: 'secondary', index: 1, name: 'secondary', endpoint: 'opc.tcp://s:4840', state: 'down', reason: 'connect failed: ECONNREFUSED', since: T, conditions: [] },
  },
  failovers: 0,
  activeTimeMs: { primary: 0, secondary: 0 },
});

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
        standbys: '',
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
        standbys: '',
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
        standbys: '',
        failovers: 0,
        lastEvent: '',
        lastSwitch: '',
      },
    ]);
    assert.deepEqual(statusRows([]), []);
  });

  it('a pair with a third channel: its health in the standbys column, every ServiceLevel, forced to it', () => {
    const three = withChannels({
      ...line1,
      control: 'force-channel-2',
      active: 'channel 2',
      servers: {
        ...line1.servers,
        'channel 2': { role: 'channel 2', index: 2, name: 'channel 2', endpoint: 'opc.tcp://c:4840', state: 'healthy', reason: 'answering', since: T, serviceLevel: 230, conditions: [] },
      },
      activeTimeMs: { ...line1.activeTimeMs, 'channel 2': 1000 },
    });
    const [row] = statusRows([three]);
    assert.equal(row.standbys, 'channel 2: healthy');
    assert.equal(row.serviceLevel, '— / 200 / 230');
    assert.equal(row.mode, 'hot, forced to the channel 2');
    assert.equal(row.active, 'channel 2');
    assert.deepEqual(pairMetrics(three).state, { primary: 'down', secondary: 'healthy', 'channel 2': 'healthy' });
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
