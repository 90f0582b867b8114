// Example 12, the `npm start` demo: a hot pair, diagnostics to e-mail and a Dashboard 2.0 page.
import { ITEMS, comment, dashboardKit, debug, email, expose, gateway, id, inject, pair, simulator, source, startExample, tab } from './lib.mjs';

export const file = '12 - Diagnostics to e-mail and dashboard';
export const flow = () => demo(4840, 4841);

/** The `npm start` demo: a hot pair, diagnostics and a Dashboard 2.0 page. */
function demo(pPort = 4840, sPort = 4841) {
  startExample(12);
  const t = tab('Redundancy demo', 'Two embedded OPC UA simulators, a hot redundant pair, failover conditions, the diagnostics log and a dashboard at /dashboard/redundancy.');
  const ui = dashboardKit(t, { name: 'Redundancy', path: '/redundancy', icon: 'swap-horizontal' });
  const { group, col } = ui;
  const gPair = group('Pair status', 12, 1);
  const gControl = group('Controls', 4, 2);
  const gValues = group('Values', 8, 3);
  const gEvents = group('Events', 12, 4);
  const text = (g, x, y, label, order, extra = {}) => ui.text(g, x, y, label, order, { wrapText: false, ...extra });
  const button = (g, x, y, label, payload, order, wire, color = '') => ui.button(g, x, y, label, order, wire, { payload, color });
  // Below 960 px (Vuetify's md) a table shows each row as a card: nothing is cut off at 800 px.
  const table = (g, x, y, label, order, columns, maxrows) => ui.table(g, x, y, label, order, columns, [], { maxrows });

  const p = pair('demo-pair', 'hot', pPort, sPort);
  const simP = simulator(t.id, 1010, 520, `primary server :${pPort}`, pPort);
  const simS = simulator(t.id, 1010, 600, `secondary server :${sPort}`, sPort);
  // Sine (±1) and random walk (30–70) on one axis would draw the sine as a flat line: a chart each.
  const chartOf = (name, label, order, x, y, color) => ({ id: id('uic'), type: 'ui-chart', z: t.id, group: gValues.id, name, label, order, chartType: 'line', category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', xmin: '', xmax: '', yAxisLabel: '', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin: '', ymax: '', bins: 10, action: 'append', stackSeries: false, pointShape: 'false', pointRadius: 4, showLegend: false, removeOlder: '1', removeOlderUnit: '60', removeOlderPoints: '', colors: [color, '#FF7F0E', '#2CA02C', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#8C564B'], textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 4, height: 4, className: '', interpolation: 'linear', x, y, wires: [[]] });
  const sineChart = chartOf('sine', 'Sine (−1 … 1)', 2, 830, 140, '#0095FF');
  const walkChart = chartOf('random walk', 'Random walk (30 … 70)', 3, 830, 180, '#FF7F0E');
  const counterText = text(gValues, 1010, 80, 'Counter', 1);
  const withServer = { id: id('chg'), type: 'change', z: t.id, name: 'value (server)', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$string(payload) & "   from the " & server', tot: 'jsonata' }], x: 820, y: 80, wires: [[counterText.id]] };
  const route = { id: id('sw'), type: 'switch', z: t.id, name: 'by item', property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'counter', vt: 'str' }, { t: 'eq', v: 'sine', vt: 'str' }, { t: 'eq', v: 'random walk', vt: 'str' }], checkall: 'false', repair: false, outputs: 3, x: 600, y: 120, wires: [[withServer.id], [sineChart.id], [walkChart.id]] };
  const src = source(t.id, 380, 120, p.id, [{ id: ITEMS.counter, name: 'counter' }, { id: ITEMS.sine, name: 'sine' }, { id: ITEMS.randomWalk, name: 'random walk' }], [route.id], { samplingInterval: 200 });
  const condDebugId = id('dbg');
  const cond = {
    id: id('cond'), type: 'failover-condition', z: t.id, name: 'device link watch', pair: p.id, samplingInterval: 500, minSwitchInterval: 0,
    conditions: [{ name: 'counter stale', kind: 'stale', item: ITEMS.counter, staleMs: 3000 }, { name: 'device link', kind: 'value', item: ITEMS.deviceOk, op: 'false' }],
    x: 600, y: 420, wires: [[condDebugId]],
  };
  const condDebug = { ...debug(t.id, 830, 420, 'condition fired / cleared'), id: condDebugId };
  const statusTable = table(gPair, 830, 270, 'Pairs', 1, [col('pair', 'Pair'), col('mode', 'Mode'), col('active', 'Active'), col('primary', 'Primary'), col('secondary', 'Secondary'), col('serviceLevel', 'ServiceLevel'), col('failovers', 'Failovers'), col('lastSwitch', 'Last switch'), col('lastEvent', 'Last event')], 0);
  const eventsTable = table(gEvents, 830, 320, 'Event log', 1, [col('time', 'Time'), col('pair', 'Pair'), col('kind', 'Event'), col('servers', 'Server'), col('reason', 'Reason'), col('duration', 'Duration')], 10);
  const mails = debug(t.id, 830, 225, 'e-mail ready events', true, 'false');
  const mailer = email(t.id, 1130, 225);
  const activeText = text(gPair, 830, 360, 'Active server', 2, { format: '{{msg.payload}}' });
  const activeOf = { id: id('chg'), type: 'change', z: t.id, name: 'active server', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$count(payload) > 0 ? (payload[0].active & " (" & payload[0].mode & ", " & payload[0].failovers & (payload[0].failovers = 1 ? " failover)" : " failovers)")) : "no pair"', tot: 'jsonata' }], x: 620, y: 360, wires: [[activeText.id]] };
  const diag = { id: id('diag'), type: 'redundancy-diagnostics', z: t.id, name: 'diagnostics', pairs: '', kinds: [], severities: [], maxEvents: 1000, persist: true, subject: '', body: '', rateLimit: 10, rateWindow: 60000, listSize: 30, x: 380, y: 280, wires: [[mails.id, mailer.id], [statusTable.id, activeOf.id], [eventsTable.id]] };
  // The table is pushed on every change; this fills it once after deploy and on demand.
  const refresh = inject(t.id, 160, 280, 'refresh status', '', diag.id, { topic: 'status', props: [{ p: 'topic', vt: 'str' }], repeat: '', once: true, onceDelay: 1 });
  return [
    t,
    comment(t.id, 180, 40, 'Redundancy demo: open /dashboard/redundancy', 'Press "Fail primary" on the dashboard: the pair switches to the secondary and the values keep coming (msg.server tells where they come from). "Restore primary" brings it back; the pair returns to it after the 10 s hold-off. "Primary device link lost" keeps the primary server up but marks its device link bad: the failover condition switches to the secondary. The event log shows every transition with its reason and duration.'),
    src, route, withServer, counterText, sineChart, walkChart, p,
    diag, refresh, statusTable, eventsTable, mails, mailer, activeOf, activeText,
    comment(t.id, 1170, 265, 'E-mail: set the SMTP server, then enable', 'The e-mail node ships disabled so the flow deploys without a mail server. Open it, set server, port and login, enable it (the button at the bottom of its dialog) and deploy: every event that passes the diagnostics filter (and its rate limit) is mailed. The debug node shows the same messages meanwhile.'),
    cond, condDebug,
    button(gControl, 780, 520, 'Fail primary (crash)', 'crash', 1, simP.id, '#c62828'),
    button(gControl, 780, 560, 'Restore primary', 'restart', 2, simP.id, '#2e7d32'),
    button(gControl, 780, 600, 'Primary device link lost', 'link-fail', 3, simP.id, '#ef6c00'),
    button(gControl, 780, 640, 'Primary device link back', 'link-ok', 4, simP.id),
    button(gControl, 380, 480, 'Force secondary', 'force-secondary', 5, cond.id),
    button(gControl, 380, 520, 'Force primary', 'force-primary', 6, cond.id),
    button(gControl, 380, 560, 'Automatic', 'auto', 7, cond.id),
    simP, simS,
    ...ui.nodes(),
    ...demoGateway(t, p),
  ];
}

/** The pair as one OPC UA server for any client: opc.tcp://localhost:5012/UA/Redundancy, folder "demo". */
function demoGateway(t, p) {
  const gw = gateway('demo-gateway', 5012);
  const items = [{ id: ITEMS.counter, name: 'Counter' }, { id: ITEMS.sine, name: 'Sine' }, { id: ITEMS.randomWalk, name: 'RandomWalk' }, { id: ITEMS.setpoint, name: 'Setpoint' }];
  return [gw, expose(t.id, 380, 360, gw.id, p.id, 'demo', items, [])];
}
