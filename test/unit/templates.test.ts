// E-mail text for events: exact subject and body from the default templates and custom ones,
// plain text (no HTML escaping, global mustache untouched), and template errors with positions.
import assert from 'node:assert/strict';
import Mustache from 'mustache';
import { DEFAULT_BODY, DEFAULT_SUBJECT, eventView, renderEvent, validateTemplate } from '../../lib/core/templates';
import type { PairStatus, RedundancyEvent } from '../../lib/core/types';
import { pinTimezone } from '../helpers/timezone';

/** A status as the pair reports it: its channels in order, the active one's index. */
function withChannels(s: Omit<PairStatus, 'channels' | 'activeIndex'>): PairStatus {
  const channels = Object.values(s.servers).sort((a, b) => a.index - b.index);
  return { ...s, channels, activeIndex: s.active === null ? null : channels.findIndex((c) => c.name === s.active) };
}


// 2023-11-14T22:13:20.000Z = 23:13:20 in Berlin (CET).
const T = 1_700_000_000_000;

const failover: RedundancyEvent = {
  time: T, pair: 'line1', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary', reason: 'connection lost: socket closed', detectMs: 12,
};

const status: PairStatus = withChannels({
  pair: 'line1',
  mode: 'warm',
  control: 'auto',
  active: 'secondary',
  servers: {
    primary: { role: 'primary', index: 0, name: 'primary', endpoint: 'opc.tcp://p:4840', state: 'down', reason: 'connection lost: socket closed', since: T, conditions: [] },
    secondary: { role: 'secondary', index: 1, name: 'secondary', endpoint: 'opc.tcp://s:4840', state: 'healthy', reason: 'connected', since: T - 60_000, serviceLevel: 255, conditions: [] },
  },
  failovers: 3,
  lastEvent: failover,
  lastSwitchMs: 182,
  lastSwitchReason: 'connection lost: socket closed',
  activeTimeMs: { primary: 3_600_000, secondary: 60_000 },
});

describe('e-mail templates', () => {
  pinTimezone('Europe/Berlin');

  it('renders a failover with the pair status, exactly', () => {
    const { subject, body } = renderEvent(DEFAULT_SUBJECT, DEFAULT_BODY, failover, status);
    assert.equal(subject, '[ERROR] line1: Failover to secondary');
    assert.equal(
      body,
      [
        'Time:          2023-11-14 23:13:20 (2023-11-14T22:13:20.000Z)',
        'Pair:          line1',
        'Event:         Failover (error)',
        'Switch:        primary → secondary',
        'Reason:        connection lost: socket closed',
        'Detected in:   12 ms',
        '',
        'Active server: secondary',
        'Primary:       down: connection lost: socket closed',
        'Secondary:     healthy',
        'ServiceLevel:  — / 255',
        'Failovers:     3',
        '',
      ].join('\n'),
    );
  });

  it('renders a connection event without status, exactly', () => {
    const lost: RedundancyEvent = { time: T + 1500, pair: 'line1', kind: 'connection-lost', severity: 'warning', server: 'primary', reason: 'socket closed', durationMs: 125_000 };
    const { subject, body } = renderEvent(DEFAULT_SUBJECT, DEFAULT_BODY, lost);
    assert.equal(subject, '[WARNING] line1: Connection lost on primary');
    assert.equal(
      body,
      [
        'Time:          2023-11-14 23:13:21 (2023-11-14T22:13:21.500Z)',
        'Pair:          line1',
        'Event:         Connection lost (warning)',
        'Server:        primary',
        'Reason:        socket closed',
        'Duration:      2 min 5 s',
        '',
      ].join('\n'),
    );
  });

  it('a switch to no server says none', () => {
    const allDown: RedundancyEvent = { time: T, pair: 'p', kind: 'both-down', severity: 'error', from: 'secondary', to: null, reason: 'both servers down' };
    const { subject, body } = renderEvent(DEFAULT_SUBJECT, '{{fromLabel}} → {{toLabel}}|{{#to}}x{{/to}}', allDown);
    assert.equal(subject, '[ERROR] p: Both servers down');
    assert.equal(body, 'secondary → none|');
  });

  it('renders custom templates as plain text (no HTML escaping) and leaves mustache global escaping alone', () => {
    const e: RedundancyEvent = { time: T, pair: 'A&B <line>', kind: 'condition-fired', severity: 'warning', server: 'secondary', reason: 'ns=1;s=Level = 97.5 (holds when > 95 & "high")', durationMs: 1234 };
    const { subject, body } = renderEvent('{{pair}} {{kind}}', '{{reason}} / {{duration}} / {{durationMs}} / {{{pair}}} / {{failovers}}', e);
    assert.equal(subject, 'A&B <line> condition-fired');
    assert.equal(body, 'ns=1;s=Level = 97.5 (holds when > 95 & "high") / 1.2 s / 1234 / A&B <line> / ');
    assert.equal(Mustache.render('{{x}}', { x: '<&>' }), '&lt;&amp;&gt;');
  });

  it('a subject is always one line', () => {
    const { subject } = renderEvent('{{pair}}\n{{kindLabel}}\r\n', '', failover);
    assert.equal(subject, 'line1 Failover');
  });

  it('the view has the documented fields', () => {
    const view = eventView({ ...failover, durationMs: 182 }, status);
    assert.deepEqual(view, {
      pair: 'line1',
      kind: 'failover',
      kindLabel: 'Failover',
      severity: 'error',
      severityLabel: 'ERROR',
      server: '',
      from: 'primary',
      to: 'secondary',
      fromLabel: 'primary',
      toLabel: 'secondary',
      switched: true,
      reason: 'connection lost: socket closed',
      duration: '182 ms',
      durationMs: 182,
      detect: '12 ms',
      detectMs: 12,
      time: '2023-11-14T22:13:20.000Z',
      timeLocal: '2023-11-14 23:13:20',
      timestamp: T,
      hasStatus: true,
      active: 'secondary',
      mode: 'warm',
      control: 'auto',
      failovers: 3,
      primary: 'down: connection lost: socket closed',
      secondary: 'healthy',
      serviceLevel: '— / 255',
      lastSwitch: '182 ms',
      lastReason: 'connection lost: socket closed',
    });
  });

  describe('validation', () => {
    it('accepts the defaults and templates using known fields', () => {
      assert.equal(validateTemplate(DEFAULT_SUBJECT), undefined);
      assert.equal(validateTemplate(DEFAULT_BODY), undefined);
      assert.equal(validateTemplate('{{#switched}}{{.}}{{/switched}}{{! a comment }}{{&reason}}'), undefined);
      assert.equal(validateTemplate(''), undefined);
    });

    it('reports syntax errors with their position', () => {
      assert.equal(validateTemplate('Hello {{pair'), 'unclosed tag at line 1, column 7 (a "{{" without "}}")');
      assert.equal(validateTemplate('Pair: {{pair}}\nTo: {{#to}}{{to}}'), 'unclosed section "to" opened at line 2, column 5 is never closed (add {{/to}})');
      assert.equal(validateTemplate('{{#to}}x{{/from}}'), '{{/from}} at line 1, column 9 closes the section "to" opened at line 1, column 1 (expected {{/to}})');
      assert.equal(validateTemplate('x\n{{/to}}'), '{{/to}} at line 2, column 1 closes a section that was never opened');
    });

    it('reports unknown fields and partials with their position', () => {
      assert.equal(validateTemplate('{{pair}} {{pari}}'), `unknown field "pari" at line 1, column 10 (did you mean "pair"?); known fields: pair, kind, kindLabel, severity, severityLabel, server, from, to, fromLabel, toLabel, switched, reason, duration, durationMs, detect, detectMs, time, timeLocal, timestamp, hasStatus, active, mode, control, failovers, primary, secondary, serviceLevel, lastSwitch, lastReason`);
      assert.match(validateTemplate('{{#to}}\n {{nope.x}}{{/to}}') ?? '', /^unknown field "nope.x" at line 2, column 2 /);
      assert.equal(validateTemplate('{{> footer}}'), 'partials ({{> footer}}) are not supported, at line 1, column 1');
    });

    it('renderEvent throws a readable error on a broken template', () => {
      assert.throws(() => renderEvent('{{#to}}', '', failover), { message: 'template error: unclosed section "to" opened at line 1, column 1 is never closed (add {{/to}})' });
    });
  });
});
