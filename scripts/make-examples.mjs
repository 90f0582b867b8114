// Writes examples/*.json: each scheme of MISSION.md as a flow that runs as imported, against the
// package's simulators (opcua-simulator nodes inside the flow). Each example uses its own ports so
// several can be imported side by side. Run: node scripts/make-examples.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SIM_PATH = '/UA/Simulator';
const ITEMS = {
  counter: 'ns=1;s=Simulation.Counter',
  sine: 'ns=1;s=Simulation.Sine',
  randomWalk: 'ns=1;s=Simulation.RandomWalk',
  setpoint: 'ns=1;s=Simulation.Setpoint',
  array: 'ns=1;s=Simulation.Array',
  deviceOk: 'ns=1;s=Simulation.DeviceOk',
};

let seq = 0;
const id = (prefix) => `${prefix}${(++seq).toString(16).padStart(4, '0')}`;

function tab(name, info) {
  return { id: id('tab'), type: 'tab', label: name, disabled: false, info };
}

function comment(z, x, y, name, info) {
  return { id: id('cmt'), type: 'comment', z, name, info, x, y, wires: [] };
}

function simulator(z, x, y, name, port, extra = {}) {
  return { id: id('sim'), type: 'opcua-simulator', z, name, port, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, x, y, wires: [], ...extra };
}

function inject(z, x, y, name, payload, wire, extra = {}) {
  return {
    id: id('inj'), type: 'inject', z, name, props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '',
    payload, payloadType: typeof payload === 'object' ? 'json' : 'str', x, y, wires: [[wire]], ...extra,
    ...(typeof payload === 'object' ? { payload: JSON.stringify(payload) } : {}),
  };
}

function debug(z, x, y, name, active = true, complete = 'true') {
  return { id: id('dbg'), type: 'debug', z, name, active, tosidebar: true, console: false, tostatus: true, complete, targetType: complete === 'true' ? 'full' : 'msg', statusVal: 'payload', statusType: 'auto', x, y, wires: [] };
}

/** node-red-node-email's e-mail node, shipped disabled: enable it once the SMTP server is set. */
function email(z, x, y) {
  return { id: id('mail'), type: 'e-mail', z, name: 'operator@plant.example', server: 'smtp.example.com', port: '587', secure: false, tls: true, authtype: 'BASIC', d: true, x, y, wires: [] };
}

function pair(name, mode, pPort, sPort, extra = {}) {
  return {
    id: id('pair'), type: 'redundant-pair', name, protocol: 'opcua',
    primaryEndpoint: `opc.tcp://127.0.0.1:${pPort}${SIM_PATH}`, secondaryEndpoint: `opc.tcp://127.0.0.1:${sPort}${SIM_PATH}`,
    securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode,
    pingInterval: 1000, pingTimeout: 1000, autoPromote: true, holdOff: 10000, reconnectMax: 10000, ...extra,
  };
}

function source(z, x, y, pairId, items, wires, extra = {}) {
  return { id: id('src'), type: 'redundant-source', z, name: '', pair: pairId, items, samplingInterval: 250, output: 'change', x, y, wires: [wires], ...extra };
}

/** Examples 1-3: one OPC UA pair in one mode, with buttons to fail and restore the primary. */
function modeExample(mode, pPort, sPort, text) {
  seq = 0;
  const t = tab(`OPC UA pair, ${mode} mode`, text);
  const p = pair(`${mode}-pair`, mode, pPort, sPort);
  const simP = simulator(t.id, 560, 300, 'primary server', pPort);
  const simS = simulator(t.id, 560, 380, 'secondary server', sPort);
  const out = debug(t.id, 580, 140, 'values (with msg.server)');
  const src = source(t.id, 330, 140, p.id, [{ id: ITEMS.counter, name: 'counter' }, { id: ITEMS.sine, name: 'sine' }, { id: ITEMS.setpoint, name: 'setpoint' }], [out.id]);
  const write = inject(t.id, 140, 140, 'write setpoint 42', '42', src.id, { topic: 'setpoint', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payloadType: 'num' });
  return [
    t,
    comment(t.id, 200, 60, `OPC UA pair, ${mode} mode`, text),
    write,
    src,
    out,
    p,
    inject(t.id, 150, 280, 'crash primary', 'crash', simP.id),
    inject(t.id, 150, 320, 'graceful shutdown', 'shutdown', simP.id),
    inject(t.id, 150, 360, 'stall primary (silent)', 'stall', simP.id),
    inject(t.id, 150, 400, 'restore primary', 'restart', simP.id),
    simP,
    simS,
  ];
}

const examples = {};

examples['01 - OPC UA pair, cold mode'] = modeExample('cold', 4850, 4851,
  'Cold mode: only the active server is connected. When the primary fails, the secondary is connected, the items are created there and the data resumes; the two are tried in turn until one answers. Least load, slowest switch: watch the gap in the debug sidebar after "crash primary". With "restore primary", the pair probes the primary and returns to it after the 10 s hold-off.');
examples['02 - OPC UA pair, warm mode'] = modeExample('warm', 4852, 4853,
  'Warm mode: both servers are connected; the items exist on both but report on the active one only. At failover they are switched on at the secondary (one request per 1 000 items), so the switch is fast. msg.server tells which server each value came from.');
examples['03 - OPC UA pair, hot mode'] = modeExample('hot', 4854, 4855,
  'Hot mode: both servers are subscribed and reporting; the active one\'s changes are forwarded. At failover the secondary\'s changes newer than the last delivered one are replayed, so no counter value is lost. "stall primary" makes the primary silent without closing its socket: the pair notices it from the two data streams within a few sampling intervals.');

/** Example 4: link-based failures (conditions) on a hot pair, events to e-mail. */
function conditionsExample(pPort, sPort) {
  seq = 0;
  const t = tab('Failover conditions with e-mail', 'Loss of communication is half of the failures; the other half are link-based: the server answers but its device is gone. Four conditions watch the pair here, each judged on both servers, so the pair never fails over to a server on which the same condition holds.');
  const p = pair('conditions-pair', 'hot', pPort, sPort, { holdOff: 5000 });
  const simP = simulator(t.id, 620, 420, 'primary server', pPort);
  const simS = simulator(t.id, 620, 500, 'secondary server', sPort);
  const fired = debug(t.id, 620, 120, 'condition fired / cleared');
  const cond = {
    id: id('cond'), type: 'failover-condition', z: t.id, name: 'link-based failures', pair: p.id, samplingInterval: 250, minSwitchInterval: 2000,
    conditions: [
      { name: 'counter stale', kind: 'stale', item: ITEMS.counter, staleMs: 2000 },
      { name: 'device link bit', kind: 'value', item: ITEMS.deviceOk, op: 'false' },
      { name: 'counter quality', kind: 'quality', item: ITEMS.counter, qualityMs: 1000 },
      { name: 'service level', kind: 'service-level', threshold: 200 },
    ],
    x: 380, y: 120, wires: [[fired.id]],
  };
  const values = debug(t.id, 620, 60, 'values', false);
  const src = source(t.id, 380, 60, p.id, [{ id: ITEMS.counter, name: 'counter' }], [values.id]);
  const mails = debug(t.id, 620, 220, 'e-mail ready events', true, 'false');
  const mailer = email(t.id, 620, 260);
  const diag = { id: id('diag'), type: 'redundancy-diagnostics', z: t.id, name: 'failover e-mails', pairs: p.name, kinds: ['failover', 'promotion', 'condition-fired', 'condition-cleared', 'both-bad', 'both-down'], severities: [], maxEvents: 500, persist: true, subject: '', body: '', rateLimit: 5, rateWindow: 60000, listSize: 20, x: 380, y: 240, wires: [[mails.id, mailer.id], [], []] };
  return [
    t,
    comment(t.id, 180, 20, 'Failover conditions with e-mail', 'Press the buttons on the left: each one breaks the primary in a different way while its server stays up. The condition fires on the primary only and the pair fails over; when the fault clears, the pair returns to the primary after the 5 s hold-off. "freeze both" shows the "both bad" case: the pair stays where it is and says so. The e-mail node is disabled until you set your SMTP server.'),
    src, values, cond, fired, diag, mails, mailer, p,
    inject(t.id, 150, 340, 'primary: values stop (stale)', 'freeze', simP.id),
    inject(t.id, 150, 380, 'primary: device link lost', 'link-fail', simP.id),
    inject(t.id, 150, 420, 'primary: ServiceLevel 150', { serviceLevel: 150 }, simP.id),
    inject(t.id, 150, 460, 'primary: all good again', 'restart', simP.id),
    inject(t.id, 150, 520, 'secondary: values stop too', 'freeze', simS.id),
    inject(t.id, 150, 560, 'secondary: good again', 'unfreeze', simS.id),
    inject(t.id, 150, 620, 'force secondary', 'force-secondary', cond.id),
    inject(t.id, 150, 660, 'automatic', 'auto', cond.id),
    simP, simS,
  ];
}

/** The `npm start` demo: a hot pair, diagnostics and a Dashboard 2.0 page. */
function demo(pPort = 4840, sPort = 4841) {
  seq = 0;
  const t = tab('Redundancy demo', 'Two embedded OPC UA simulators, a hot redundant pair, failover conditions, the diagnostics log and a dashboard at /dashboard/redundancy.');
  const base = { id: id('uib'), type: 'ui-base', name: 'Redundancy', path: '/dashboard', appIcon: '', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default', showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false };
  const theme = { id: id('uith'), type: 'ui-theme', name: 'Redundancy', colors: { surface: '#1f4e79', primary: '#0d74ce', bgPage: '#f4f6f8', groupBg: '#ffffff', groupOutline: '#d9d9e0' }, sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '6px', widgetGap: '12px' } };
  const page = { id: id('uip'), type: 'ui-page', name: 'Redundancy', ui: base.id, path: '/redundancy', icon: 'swap-horizontal', layout: 'grid', theme: theme.id, breakpoints: [{ name: 'Default', px: 0, cols: 3 }, { name: 'Tablet', px: 576, cols: 6 }, { name: 'Small Desktop', px: 768, cols: 9 }, { name: 'Desktop', px: 1024, cols: 12 }], order: 1, className: '', visible: 'true', disabled: 'false' };
  const group = (name, width, order) => ({ id: id('uig'), type: 'ui-group', name, page: page.id, width, height: 1, order, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' });
  const gPair = group('Pair status', 12, 1);
  const gControl = group('Controls', 4, 2);
  const gValues = group('Values', 8, 3);
  const gEvents = group('Events', 12, 4);
  const text = (g, x, y, label, order, extra = {}) => ({ id: id('uit'), type: 'ui-text', z: t.id, group: g.id, order, width: 0, height: 0, name: label, label, format: '{{msg.payload}}', layout: 'row-spread', style: false, font: 'Helvetica', fontSize: 16, color: '#717171', wrapText: false, className: '', value: 'payload', valueType: 'msg', x, y, wires: [], ...extra });
  const button = (g, x, y, label, payload, order, wire, color = '') => ({ id: id('uibt'), type: 'ui-button', z: t.id, group: g.id, name: label, label, order, width: 0, height: 0, emulateClick: false, tooltip: '', color: '', bgcolor: color, className: '', icon: '', iconPosition: 'left', payload, payloadType: 'str', topic: 'topic', topicType: 'msg', buttonColor: color, textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '', pointerdownPayloadType: 'str', enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str', x, y, wires: [[wire]] });
  const table = (g, x, y, label, order, columns) => ({ id: id('uitb'), type: 'ui-table', z: t.id, group: g.id, name: label, label, order, width: 0, height: 0, maxrows: 12, passthru: false, autocols: false, showSearch: false, deselect: true, selectionType: 'none', columns, mobileBreakpoint: 'sm', mobileBreakpointType: 'defaults', action: 'replace', className: '', x, y, wires: [[]] });
  const col = (key, label) => ({ title: label, key, keyType: 'key', type: 'text', width: '', align: 'start' });

  const p = pair('demo-pair', 'hot', pPort, sPort);
  const simP = simulator(t.id, 1010, 520, `primary server :${pPort}`, pPort);
  const simS = simulator(t.id, 1010, 600, `secondary server :${sPort}`, sPort);
  const chart = { id: id('uic'), type: 'ui-chart', z: t.id, group: gValues.id, name: 'sine', label: 'Sine and random walk (from whichever server is active)', order: 2, chartType: 'line', category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', xmin: '', xmax: '', yAxisLabel: '', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin: '', ymax: '', bins: 10, action: 'append', stackSeries: false, pointShape: 'false', pointRadius: 4, showLegend: true, removeOlder: '1', removeOlderUnit: '60', removeOlderPoints: '', colors: ['#0095FF', '#FF7F0E', '#2CA02C', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#8C564B'], textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 8, height: 5, className: '', interpolation: 'linear', x: 830, y: 160, wires: [[]] };
  const counterText = text(gValues, 1010, 80, 'Counter', 1);
  const withServer = { id: id('chg'), type: 'change', z: t.id, name: 'value (server)', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$string(payload) & "   from the " & server', tot: 'jsonata' }], x: 820, y: 80, wires: [[counterText.id]] };
  const route = { id: id('sw'), type: 'switch', z: t.id, name: 'by item', property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'counter', vt: 'str' }, { t: 'eq', v: 'sine', vt: 'str' }, { t: 'eq', v: 'random walk', vt: 'str' }], checkall: 'false', repair: false, outputs: 3, x: 600, y: 120, wires: [[withServer.id], [chart.id], [chart.id]] };
  const src = source(t.id, 380, 120, p.id, [{ id: ITEMS.counter, name: 'counter' }, { id: ITEMS.sine, name: 'sine' }, { id: ITEMS.randomWalk, name: 'random walk' }], [route.id], { samplingInterval: 200 });
  const cond = {
    id: id('cond'), type: 'failover-condition', z: t.id, name: 'device link watch', pair: p.id, samplingInterval: 500, minSwitchInterval: 0,
    conditions: [{ name: 'counter stale', kind: 'stale', item: ITEMS.counter, staleMs: 3000 }, { name: 'device link', kind: 'value', item: ITEMS.deviceOk, op: 'false' }],
    x: 600, y: 420, wires: [['dbg-cond']],
  };
  const condDebug = { ...debug(t.id, 830, 420, 'condition fired / cleared'), id: 'dbg-cond' };
  const statusTable = table(gPair, 830, 270, 'Pairs', 1, [col('pair', 'Pair'), col('mode', 'Mode'), col('active', 'Active'), col('primary', 'Primary'), col('secondary', 'Secondary'), col('serviceLevel', 'ServiceLevel'), col('failovers', 'Failovers'), col('lastSwitch', 'Last switch'), col('lastEvent', 'Last event')]);
  const eventsTable = table(gEvents, 830, 320, 'Event log', 1, [col('time', 'Time'), col('pair', 'Pair'), col('kind', 'Event'), col('servers', 'Server'), col('reason', 'Reason'), col('duration', 'Duration')]);
  const mails = debug(t.id, 830, 200, 'e-mail ready events', true, 'false');
  const mailer = email(t.id, 1130, 200);
  const activeText = text(gPair, 830, 360, 'Active server', 2, { format: '{{msg.payload}}' });
  const activeOf = { id: id('chg'), type: 'change', z: t.id, name: 'active server', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$count(payload) > 0 ? (payload[0].active & " (" & payload[0].mode & ", " & payload[0].failovers & " failovers)") : "no pair"', tot: 'jsonata' }], x: 620, y: 360, wires: [[activeText.id]] };
  const diag = { id: id('diag'), type: 'redundancy-diagnostics', z: t.id, name: 'diagnostics', pairs: '', kinds: [], severities: [], maxEvents: 1000, persist: true, subject: '', body: '', rateLimit: 10, rateWindow: 60000, listSize: 30, x: 380, y: 280, wires: [[mails.id, mailer.id], [statusTable.id, activeOf.id], [eventsTable.id]] };
  // The table is pushed on every change; this fills it once after deploy and on demand.
  const refresh = inject(t.id, 160, 280, 'refresh status', '', diag.id, { topic: 'status', props: [{ p: 'topic', vt: 'str' }], repeat: '', once: true, onceDelay: 1 });
  return [
    t,
    comment(t.id, 180, 40, 'Redundancy demo: open /dashboard/redundancy', 'Press "Fail primary" on the dashboard: the pair switches to the secondary and the values keep coming (msg.server tells where they come from). "Restore primary" brings it back; the pair returns to it after the 10 s hold-off. "Primary device link lost" keeps the primary server up but marks its device link bad: the failover condition switches to the secondary. The event log shows every transition with its reason and duration.'),
    src, route, withServer, counterText, chart, p,
    diag, refresh, statusTable, eventsTable, mails, mailer, activeOf, activeText,
    comment(t.id, 1170, 240, 'E-mail: set the SMTP server, then enable', 'The e-mail node ships disabled so the flow deploys without a mail server. Open it, set server, port and login, enable it (the button at the bottom of its dialog) and deploy: every event that passes the diagnostics filter (and its rate limit) is mailed. The debug node shows the same messages meanwhile.'),
    cond, condDebug,
    button(gControl, 780, 520, 'Fail primary (crash)', 'crash', 1, simP.id, '#c62828'),
    button(gControl, 780, 560, 'Restore primary', 'restart', 2, simP.id, '#2e7d32'),
    button(gControl, 780, 600, 'Primary device link lost', 'link-fail', 3, simP.id, '#ef6c00'),
    button(gControl, 780, 640, 'Primary device link back', 'link-ok', 4, simP.id),
    button(gControl, 380, 480, 'Force secondary', 'force-secondary', 5, cond.id),
    button(gControl, 380, 520, 'Force primary', 'force-primary', 6, cond.id),
    button(gControl, 380, 560, 'Automatic', 'auto', 7, cond.id),
    simP, simS,
    base, theme, page, gPair, gControl, gValues, gEvents,
  ];
}

mkdirSync(join(root, 'examples'), { recursive: true });
examples['04 - Failover conditions with e-mail'] = conditionsExample(4856, 4857);
examples['12 - Diagnostics to e-mail and dashboard'] = demo(4840, 4841);
for (const [name, flow] of Object.entries(examples)) {
  writeFileSync(join(root, 'examples', `${name}.json`), JSON.stringify(flow, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(examples).length} example flows`);
