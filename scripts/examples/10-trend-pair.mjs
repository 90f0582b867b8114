// Example 10: the trend server pair with backfill (Citect's trend server pair, without its
// permanent gaps). The flow of one instance: a simulated plant sampled every second; a Dashboard 2.0
// page (/dashboard/trends) with the last 10 minutes of each tag, what was filled from the other
// instance drawn in its own colour, the remembered gaps and the backfill events; a button that
// loses this instance's IO for 30 s. `npm run start:pair -- --example 10` runs it on two instances.
import { comment, dashboardKit, debug, id, inject, peerLink, startExample, tab } from './lib.mjs';

export const file = '10 - Trend server pair with backfill';
export const flow = () => trendExample();

export const LINK_NAME = 'trend-link';
export const DASHBOARD_PATH = '/dashboard/trends';
export const TAGS = ['TIC101.PV', 'FIC102.PV'];

const HOWTO = [
  'Two Node-RED instances run this same flow; the peer link "trend-link" joins them. Both sample TIC101.PV and FIC102.PV every second into their own store. When an instance was down, or lost its IO (its samples are stored as n/a, which Citect never repairs), it finds the missing interval on start, when the link returns and every minute, and fills it from the other instance\'s good samples in chunks of 2000, without blocking the flows. What the other cannot fill now is retried; an interval both lost is reported ("trend-gap-both") and left empty, never invented.',
  '',
  'Run it: `npm run start:pair -- --example 10` starts both instances (:1880 and :1881, dashboard /dashboard/trends) with a shared secret. On one dashboard press "Lose IO here for 30 s": its chart shows the n/a break, then (within a minute, or at once with "Backfill now") the interval drawn in the "from the other instance" colour. Or kill one instance for a while and start it again: the interval it was down is filled.',
  '',
  'By hand, on two Node-RED instances: import this example on both; open the peer link "trend-link" on each, set its peer URL to the other instance, make one of them "standby", and set the same shared secret on both (credentials never ship in a flow: the link shows "config error" until you do). Both must sample at the same period. The samples are kept in redundancy-trends.sqlite in each user dir; choose PostgreSQL or TimescaleDB in the store node "trend store" for a historian that outgrows one box.',
].join('\n');

const PLANT_JS = [
  '// The same plant on both instances (values are functions of the clock); "io" switches this instance\'s IO off for a while.',
  "if (msg.topic === 'io') { context.set('offUntil', msg.payload === 'restore' ? 0 : Date.now() + 30000); return null; }",
  "if (Date.now() < (context.get('offUntil') || 0)) return null;",
  'const t = Date.now() / 1000;',
  'const r = (v) => Math.round(v * 100) / 100;',
  "return [[{ topic: 'TIC101.PV', payload: r(70 + 10 * Math.sin(2 * Math.PI * t / 120)) }, { topic: 'FIC102.PV', payload: r(50 + 15 * Math.sin(2 * Math.PI * t / 300) + 3 * Math.sin(2 * Math.PI * t / 17)) }]];",
].join('\n');

/** Query result → chart points: this instance's own samples and the backfilled ones as two lines. */
const SERIES_JS = [
  'const filled = msg.backfilled || [];',
  'const inFilled = (x) => filled.some((r) => x >= r.from && x < r.to);',
  'const own = [];',
  'const peer = [];',
  'for (const p of msg.payload) {',
  '    const f = p.y !== null && inFilled(p.x);',
  "    own.push({ x: p.x, y: f ? null : p.y, series: msg.topic + ' (sampled here)' });",
  "    peer.push({ x: p.x, y: f ? p.y : null, series: msg.topic + ' (filled from the other instance)' });",
  '}',
  'msg.payload = own.concat(peer);',
  "msg.action = 'replace';",
  'return msg;',
].join('\n');

/** The example's nodes; `overrides` changes the peer link (start:pair uses it for the second instance). */
export function trendExample(overrides = {}) {
  startExample(10);
  const t = tab('Trend server pair with backfill', HOWTO);
  const link = peerLink(LINK_NAME, overrides);
  const store = { id: id('store'), type: 'redundancy-store', name: 'trend store', backend: 'sqlite', file: 'redundancy-trends.sqlite', host: '127.0.0.1', port: 5432, database: '', user: '', schema: 'redundancy' };
  const ui = dashboardKit(t, { name: 'Trends', path: '/trends', icon: 'chart-line' });
  const gTrend = ui.group('Last 10 minutes', 12, 1);
  const gControl = ui.group('This instance', 4, 2);
  const gGaps = ui.group('Remembered gaps', 8, 3);
  const gEvents = ui.group('Backfill events', 12, 4);

  const charts = TAGS.map((tag, i) => ui.chart(gTrend, 1100, 80 + 60 * i, tag, i + 1, ['#0095FF', '#FF7F0E']));
  const series = TAGS.map((tag, i) => ({ id: id('fn'), type: 'function', z: t.id, name: 'own / backfilled', func: SERIES_JS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 900, y: 80 + 60 * i, wires: [[charts[i].id]] }));
  const byTag = { id: id('sw'), type: 'switch', z: t.id, name: 'by tag', property: 'topic', propertyType: 'msg', rules: TAGS.map((tag) => ({ t: 'eq', v: tag, vt: 'str' })), checkall: 'false', repair: false, outputs: TAGS.length, x: 700, y: 110, wires: series.map((s) => [s.id]) };
  const gapsTable = ui.table(gGaps, 900, 260, 'Gaps', 1, [ui.col('tag', 'Tag'), ui.col('from', 'From'), ui.col('to', 'To'), ui.col('state', 'State'), ui.col('attempts', 'Checks'), ui.col('reason', 'Why')]);
  const gapRows = {
    id: id('chg'), type: 'change', z: t.id, name: 'local times', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload.{"tag": tag, "from": $moment(from).format("HH:mm:ss"), "to": $moment(to).format("HH:mm:ss"), "state": state = "both" ? "missing on both" : "pending", "attempts": attempts, "reason": reason}[]', tot: 'jsonata' }],
    x: 700, y: 260, wires: [[gapsTable.id]],
  };
  const trendsId = id('trend');
  const trends = {
    id: trendsId, type: 'trend-backfill', z: t.id, name: 'line 1 trends', link: link.id, store: store.id, group: 'line1', period: 1000, tags: TAGS.join(','), acceptNew: false,
    stale: 3000, retention: 7, chunk: 2000, retry: 60, scanWindow: 24, x: 480, y: 180, wires: [[byTag.id], [gapRows.id]],
  };
  const plant = { id: id('fn'), type: 'function', z: t.id, name: 'simulated plant IO', func: PLANT_JS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 270, y: 180, wires: [[trends.id]] };
  const tick = { ...inject(t.id, 90, 180, 'every 1 s', '', plant.id), repeat: '1', once: true, onceDelay: 0.5, payloadType: 'date' };
  // The charts: each tag queried every 5 s (10 minutes, at most 600 points; min/max/avg buckets beyond).
  const queries = TAGS.map((tag, i) => ({
    ...inject(t.id, 200, 300 + 40 * i, `chart ${tag}`, { tag, from: '-10m', maxPoints: 600 }, trends.id, { topic: 'query', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }] }),
    repeat: '5', once: true, onceDelay: 2 + i * 0.2,
  }));
  const refreshGaps = { ...inject(t.id, 200, 400, 'gaps', '', trends.id, { topic: 'gaps', props: [{ p: 'topic', vt: 'str' }] }), repeat: '10', once: true, onceDelay: 3 };

  const eventsTable = ui.table(gEvents, 900, 460, 'Backfill events', 1, [ui.col('time', 'Time'), ui.col('kind', 'Event'), ui.col('reason', 'Reason'), ui.col('duration', 'Duration')], [], { maxrows: 8 });
  const diag = { id: id('diag'), type: 'redundancy-diagnostics', z: t.id, name: 'backfill events', pairs: 'line1', kinds: [], severities: [], maxEvents: 200, persist: false, subject: '', body: '', rateLimit: 0, rateWindow: 60000, listSize: 8, x: 700, y: 460, wires: [[], [], [eventsTable.id]] };
  const debugGaps = debug(t.id, 700, 320, 'gaps and backfill state', false);
  trends.wires[1].push(debugGaps.id);

  return [
    t,
    comment(t.id, 210, 40, 'Trend server pair: read me (two instances)', HOWTO),
    tick, plant, trends, byTag, ...series, ...charts, ...queries, refreshGaps, gapRows, gapsTable, debugGaps, diag, eventsTable,
    ui.button(gControl, 270, 520, 'Lose IO here for 30 s', 1, plant.id, { topic: 'io', payload: 'lose', color: '#c62828' }),
    ui.button(gControl, 270, 560, 'Restore IO here', 2, plant.id, { topic: 'io', payload: 'restore', color: '#2e7d32' }),
    ui.button(gControl, 480, 520, 'Backfill now', 3, trends.id, { topic: 'backfill', color: '#0d74ce' }),
    comment(t.id, 220, 620, 'Messages trend-backfill understands', 'A value: {topic: "TIC101.PV", payload: 71.3} (msg.good false, or a bad quality/statusCode, stores it as bad). A chart query: {topic: "query", payload: {tag, from: "-10m" or ms, to, maxPoints, agg: "avg"|"min"|"max"|"minmax"}} → output 1: [{x, y}] for ui-chart (y null breaks the line), msg.backfilled = the runs filled from the peer, msg.gaps. {topic: "gaps"} → output 2. {topic: "backfill"}: look for holes now.'),
    link, store, ...ui.nodes(),
  ];
}
