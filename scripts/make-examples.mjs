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

/** The `npm start` demo: a hot pair, diagnostics and a Dashboard 2.0 page. */
function demo() {
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

  const p = pair('demo-pair', 'hot', 4840, 4841);
  const simP = simulator(t.id, 1010, 520, 'primary server :4840', 4840);
  const simS = simulator(t.id, 1010, 600, 'secondary server :4841', 4841);
  const chart = { id: id('uic'), type: 'ui-chart', z: t.id, group: gValues.id, name: 'sine', label: 'Sine and random walk (from whichever server is active)', order: 2, chartType: 'line', category: 'topic', categoryType: 'msg', xAxisLabel: '', xAxisProperty: '', xAxisPropertyType: 'timestamp', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', xmin: '', xmax: '', yAxisLabel: '', yAxisProperty: 'payload', yAxisPropertyType: 'msg', ymin: '', ymax: '', bins: 10, action: 'append', stackSeries: false, pointShape: 'false', pointRadius: 4, showLegend: true, removeOlder: '1', removeOlderUnit: '60', removeOlderPoints: '', colors: ['#0095FF', '#FF7F0E', '#2CA02C', '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#8C564B'], textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 8, height: 5, className: '', interpolation: 'linear', x: 830, y: 160, wires: [[]] };
  const counterText = text(gValues, 830, 80, 'Counter', 1, { format: '{{msg.payload}}  (from the {{msg.server}})' });
  const route = { id: id('sw'), type: 'switch', z: t.id, name: 'by item', property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'counter', vt: 'str' }, { t: 'eq', v: 'sine', vt: 'str' }, { t: 'eq', v: 'random walk', vt: 'str' }], checkall: 'false', repair: false, outputs: 3, x: 600, y: 120, wires: [[counterText.id], [chart.id], [chart.id]] };
  const src = source(t.id, 380, 120, p.id, [{ id: ITEMS.counter, name: 'counter' }, { id: ITEMS.sine, name: 'sine' }, { id: ITEMS.randomWalk, name: 'random walk' }], [route.id], { samplingInterval: 200 });
  const cond = {
    id: id('cond'), type: 'failover-condition', z: t.id, name: 'device link watch', pair: p.id, samplingInterval: 500, minSwitchInterval: 0,
    conditions: [{ name: 'counter stale', kind: 'stale', item: ITEMS.counter, staleMs: 3000 }, { name: 'device link', kind: 'value', item: ITEMS.deviceOk, op: 'false' }],
    x: 600, y: 420, wires: [['dbg-cond']],
  };
  const condDebug = { ...debug(t.id, 830, 420, 'condition fired / cleared'), id: 'dbg-cond' };
  const statusTable = table(gPair, 830, 260, 'Pairs', 1, [col('pair', 'Pair'), col('mode', 'Mode'), col('active', 'Active'), col('primary', 'Primary'), col('secondary', 'Secondary'), col('serviceLevel', 'ServiceLevel'), col('failovers', 'Failovers'), col('lastSwitch', 'Last switch'), col('lastEvent', 'Last event')]);
  const eventsTable = table(gEvents, 830, 320, 'Event log', 1, [col('time', 'Time'), col('pair', 'Pair'), col('kind', 'Event'), col('switch', 'Switch'), col('reason', 'Reason'), col('duration', 'Duration')]);
  const mails = debug(t.id, 830, 200, 'e-mail ready events (wire to an e-mail node)', false);
  const activeText = text(gPair, 830, 360, 'Active server', 2, { format: '{{msg.payload}}' });
  const activeOf = { id: id('chg'), type: 'change', z: t.id, name: 'active server', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '$count(payload) > 0 ? (payload[0].active & " (" & payload[0].mode & ", " & payload[0].failovers & " failovers)") : "no pair"', tot: 'jsonata' }], x: 620, y: 360, wires: [[activeText.id]] };
  const diag = { id: id('diag'), type: 'redundancy-diagnostics', z: t.id, name: 'diagnostics', pairs: '', kinds: [], severities: [], maxEvents: 1000, persist: true, subject: '', body: '', rateLimit: 10, rateWindow: 60000, listSize: 30, x: 380, y: 280, wires: [[mails.id], [statusTable.id, activeOf.id], [eventsTable.id]] };
  const refresh = inject(t.id, 160, 280, 'refresh every 2 s', '', diag.id, { topic: 'status', props: [{ p: 'topic', vt: 'str' }], repeat: '2', once: true, onceDelay: 1 });
  return [
    t,
    comment(t.id, 180, 40, 'Redundancy demo: open /dashboard/redundancy', 'Press "Fail primary" on the dashboard: the pair switches to the secondary and the values keep coming (msg.server tells where they come from). "Restore primary" brings it back; the pair returns to it after the 10 s hold-off. "Primary device link lost" keeps the primary server up but marks its device link bad: the failover condition switches to the secondary. The event log shows every transition with its reason and duration.'),
    src, route, counterText, chart, p,
    diag, refresh, statusTable, eventsTable, mails, activeOf, activeText,
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
for (const [name, flow] of Object.entries(examples)) {
  writeFileSync(join(root, 'examples', `${name}.json`), JSON.stringify(flow, null, 2) + '\n');
}
writeFileSync(join(root, 'examples', 'demo-dashboard.json'), JSON.stringify(demo(), null, 2) + '\n');
console.log(`wrote ${Object.keys(examples).length + 1} example flows`);
