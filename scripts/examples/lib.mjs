// Builders shared by the example flows (scripts/examples/NN-*.mjs): tabs, comments, simulators,
// inject/debug/e-mail nodes, OPC UA pairs and sources. Node ids carry the example's number.
export const SIM_PATH = '/UA/Simulator';
export const ITEMS = {
  counter: 'ns=1;s=Simulation.Counter',
  sine: 'ns=1;s=Simulation.Sine',
  randomWalk: 'ns=1;s=Simulation.RandomWalk',
  setpoint: 'ns=1;s=Simulation.Setpoint',
  array: 'ns=1;s=Simulation.Array',
  deviceOk: 'ns=1;s=Simulation.DeviceOk',
};

/**
 * Node ids unique across all examples (importing two side by side brings no conflict prompt):
 * every example sets its own number before it builds its nodes.
 */
let example = '00';
let seq = 0;
export function startExample(number) {
  example = String(number).padStart(2, '0');
  seq = 0;
}
export const id = (prefix) => `ex${example}-${prefix}-${(++seq).toString(16).padStart(4, '0')}`;

export function tab(name, info) {
  return { id: id('tab'), type: 'tab', label: name, disabled: false, info };
}

export function comment(z, x, y, name, info) {
  return { id: id('cmt'), type: 'comment', z, name, info, x, y, wires: [] };
}

export function simulator(z, x, y, name, port, extra = {}) {
  return { id: id('sim'), type: 'opcua-simulator', z, name, port, counterPeriod: 100, serviceLevel: 255, bulkItems: 0, x, y, wires: [], ...extra };
}

export function inject(z, x, y, name, payload, wire, extra = {}) {
  return {
    id: id('inj'), type: 'inject', z, name, props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '',
    payload, payloadType: typeof payload === 'object' ? 'json' : 'str', x, y, wires: [[wire]], ...extra,
    ...(typeof payload === 'object' ? { payload: JSON.stringify(payload) } : {}),
  };
}

export function debug(z, x, y, name, active = true, complete = 'true') {
  return { id: id('dbg'), type: 'debug', z, name, active, tosidebar: true, console: false, tostatus: true, complete, targetType: complete === 'true' ? 'full' : 'msg', statusVal: 'payload', statusType: 'auto', x, y, wires: [] };
}

/** node-red-node-email's e-mail node, shipped disabled: enable it once the SMTP server is set. */
export function email(z, x, y) {
  return { id: id('mail'), type: 'e-mail', z, name: 'operator@plant.example', server: 'smtp.example.com', port: '587', secure: false, tls: true, authtype: 'BASIC', d: true, x, y, wires: [] };
}

export function pair(name, mode, pPort, sPort, extra = {}) {
  return {
    id: id('pair'), type: 'redundant-pair', name, protocol: 'opcua',
    primaryEndpoint: `opc.tcp://127.0.0.1:${pPort}${SIM_PATH}`, secondaryEndpoint: `opc.tcp://127.0.0.1:${sPort}${SIM_PATH}`,
    securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode,
    pingInterval: 1000, pingTimeout: 1000, autoPromote: true, holdOff: 10000, reconnectMax: 10000, ...extra,
  };
}

export function source(z, x, y, pairId, items, wires, extra = {}) {
  return { id: id('src'), type: 'redundant-source', z, name: '', pair: pairId, items, samplingInterval: 250, output: 'change', x, y, wires: [wires], ...extra };
}

/**
 * A channel-selector (Citect IO device with channels in order of preference), e.g. channels
 * [{ name: 'A', by: 'topic', pattern: 'plcA/*', staleMs: 3000,
 *    master: { by: 'topic', pattern: 'plcA/*', path: 'payload[1]', test: 'eq', value: '1' } }, ...]
 * (master only with extra.guard = true). wires: [[data...], [writes via channel 1...], ...]; missing
 * write outputs are left unwired, and `outputs` follows the channels.
 */
export function channelSelector(z, x, y, name, channels, wires, extra = {}) {
  const outputs = 1 + channels.length;
  const allWires = Array.from({ length: outputs }, (_, i) => wires[i] ?? []);
  return {
    id: id('sel'), type: 'channel-selector', z, name, channels, returnMode: 'return', holdOff: 5000, minSwitch: 0, topicOut: 'item',
    writeBy: 'property', writeProperty: 'write', writePattern: '', guard: false, holdWrites: 5000, maxHeldWrites: 100,
    outputs, x, y, wires: allWires, ...extra,
  };
}

/** Examples 1-3: one OPC UA pair in one mode, with buttons to fail and restore the primary. */
export function modeExample(number, mode, pPort, sPort, text) {
  startExample(number);
  const t = tab(`OPC UA pair, ${mode} mode`, text);
  const p = pair(`${mode}-pair`, mode, pPort, sPort);
  const simP = simulator(t.id, 560, 300, 'primary server', pPort);
  const simS = simulator(t.id, 560, 380, 'secondary server', sPort);
  // Values arrive several times a second: the debug node ships inactive (its button turns it on).
  const out = debug(t.id, 580, 140, 'values (with msg.server)', false);
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


/** A redundancy-gateway config node (anonymous reads; writes need a user, see its dialog). */
export function gateway(name, port, extra = {}) {
  return {
    id: id('gw'), type: 'redundancy-gateway', name, port, hostname: '', resourcePath: '/UA/Redundancy', applicationName: name, applicationUri: '',
    modeNone: true, modeSign: false, modeSignAndEncrypt: true, policyBasic256Sha256: true, policyAes128: true, policyAes256: true,
    allowAnonymous: true, anonymousWrite: false, readOnly: false, users: [], acceptAll: false, maxSessions: 100, redundancy: 'None', rank: 1, peers: [], ...extra,
  };
}

/** A gateway-expose node: a pair under its alias in a gateway. */
export function expose(z, x, y, gatewayId, pairId, alias, items, wires, extra = {}) {
  return { id: id('gwx'), type: 'gateway-expose', z, name: '', gateway: gatewayId, pair: pairId, alias, items, mirrorRoots: '', mirrorDepth: 3, maxNodes: 5000, x, y, wires: [wires], ...extra };
}

/** The package's Modbus device simulator (a PLC): Modbus TCP on `port`, RTU over TCP on extra.rtuTcpPort. */
export function modbusSimulator(z, x, y, name, port, extra = {}) {
  return { id: id('msim'), type: 'modbus-simulator', z, name, host: '127.0.0.1', port, rtuTcpPort: '', serialPath: '', baudRate: 9600, unitIds: '1', counterPeriod: 100, master: true, bulkRegisters: 0, x, y, wires: [], ...extra };
}

/** A Modbus pair: endpoints in the driver's syntax (modbus-tcp://host:port, modbus-rtu-tcp://host:port, modbus-rtu:/dev/ttyUSB0?baud=19200). */
export function modbusPair(name, mode, primaryEndpoint, secondaryEndpoint, extra = {}) {
  return {
    id: id('pair'), type: 'redundant-pair', name, protocol: 'modbus', primaryEndpoint, secondaryEndpoint, mode,
    pingInterval: 1000, pingTimeout: 1000, autoPromote: true, holdOff: 10000, reconnectMax: 10000,
    modbusPingItem: 'HR0', modbusTimeout: '', modbusMaxGap: 0, modbusMaxRegisters: 125, modbusMaxBits: 2000, modbusRequestDelay: 0, modbusWriteSingle: true, modbusBitWrite: 'read-modify-write',
    ...extra,
  };
}

/** The diagnostics node for one pair (or selector) name: events as e-mail-ready messages on output 1. */
export function diagnostics(z, x, y, name, pairs, wires, extra = {}) {
  return {
    id: id('diag'), type: 'redundancy-diagnostics', z, name, pairs, kinds: [], severities: [], maxEvents: 500, persist: false, subject: '', body: '',
    rateLimit: 10, rateWindow: 60000, listSize: 20, x, y, wires: [wires, [], []], ...extra,
  };
}

/**
 * Dashboard 2.0 building blocks for one page (examples 9 to 12): base, theme, page, and widget
 * builders bound to tab `t`. `nodes()` lists the config nodes (base, theme, page, groups).
 */
export function dashboardKit(t, { name, path, icon }) {
  const base = { id: id('uib'), type: 'ui-base', name, path: '/dashboard', appIcon: '', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], showPathInSidebar: false, headerContent: 'page', navigationStyle: 'default', titleBarStyle: 'default', showReconnectNotification: true, notificationDisplayTime: 1, showDisconnectNotification: true, allowInstall: false };
  const theme = { id: id('uith'), type: 'ui-theme', name, colors: { surface: '#1f4e79', primary: '#0d74ce', bgPage: '#f4f6f8', groupBg: '#ffffff', groupOutline: '#d9d9e0' }, sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '6px', widgetGap: '12px' } };
  const page = { id: id('uip'), type: 'ui-page', name, ui: base.id, path, icon, layout: 'grid', theme: theme.id, breakpoints: [{ name: 'Default', px: 0, cols: 3 }, { name: 'Tablet', px: 576, cols: 6 }, { name: 'Small Desktop', px: 768, cols: 9 }, { name: 'Desktop', px: 1024, cols: 12 }], order: 1, className: '', visible: 'true', disabled: 'false' };
  const groups = [];
  const group = (gname, width, order) => {
    const g = { id: id('uig'), type: 'ui-group', name: gname, page: page.id, width, height: 1, order, showTitle: true, className: '', visible: 'true', disabled: 'false', groupType: 'default' };
    groups.push(g);
    return g;
  };
  const text = (g, x, y, label, order, extra = {}) => ({ id: id('uit'), type: 'ui-text', z: t.id, group: g.id, order, width: 0, height: 0, name: label, label, format: '{{msg.payload}}', layout: 'row-spread', style: false, font: 'Helvetica', fontSize: 16, color: '#717171', wrapText: true, className: '', value: 'payload', valueType: 'msg', x, y, wires: [], ...extra });
  const button = (g, x, y, label, order, wire, { topic = '', payload = '', payloadType = 'str', color = '' } = {}) => ({
    id: id('uibt'), type: 'ui-button', z: t.id, group: g.id, name: label, label, order, width: 0, height: 0, emulateClick: false, tooltip: '', color: '', bgcolor: color, className: '', icon: '', iconPosition: 'left',
    payload, payloadType, topic, topicType: 'str', buttonColor: color, textColor: '', iconColor: '', enableClick: true, enablePointerdown: false, pointerdownPayload: '', pointerdownPayloadType: 'str', enablePointerup: false, pointerupPayload: '', pointerupPayloadType: 'str', x, y, wires: [[wire]],
  });
  const col = (key, label, type = 'text') => ({ title: label, key, keyType: 'key', type, width: '', align: 'start' });
  const table = (g, x, y, label, order, columns, wires = [], extra = {}) => ({ id: id('uitb'), type: 'ui-table', z: t.id, group: g.id, name: label, label, order, width: 0, height: 0, maxrows: 12, passthru: false, autocols: false, showSearch: false, deselect: true, selectionType: 'none', columns, mobileBreakpoint: 'md', mobileBreakpointType: 'defaults', action: 'replace', className: '', x, y, wires: [wires], ...extra });
  /** A line chart of [{x, y, series}] points (msg.payload, action replace): one line per series, null y breaks a line. */
  const chart = (g, x, y, label, order, colors) => ({
    id: id('uic'), type: 'ui-chart', z: t.id, group: g.id, name: label, label, order, chartType: 'line', category: 'series', categoryType: 'property', xAxisLabel: '', xAxisProperty: 'x', xAxisPropertyType: 'property', xAxisType: 'time', xAxisFormat: '', xAxisFormatType: 'auto', xmin: '', xmax: '',
    yAxisLabel: '', yAxisProperty: 'y', yAxisPropertyType: 'property', ymin: '', ymax: '', bins: 10, action: 'replace', stackSeries: false, pointShape: 'false', pointRadius: 4, showLegend: true, removeOlder: '1', removeOlderUnit: '3600', removeOlderPoints: '',
    colors: [...colors, '#A347E1', '#D62728', '#FF9896', '#9467BD', '#C5B0D5', '#8C564B'].slice(0, 9), textColor: ['#666666'], textColorDefault: true, gridColor: ['#e5e5e5'], gridColorDefault: true, width: 12, height: 5, className: '', interpolation: 'linear', x, y, wires: [[]],
  });
  return { base, theme, page, group, text, button, col, table, chart, nodes: () => [base, theme, page, ...groups] };
}

/** A peer-link config node as examples 9-11 ship it: the second instance's URL, no secret (credentials cannot ship). */
export function peerLink(name, overrides = {}) {
  return {
    id: id('link'), type: 'peer-link', name, peerUrl: 'http://127.0.0.1:1881', heartbeatInterval: 1000, heartbeatTimeout: 3000,
    preferred: 'primary', handback: 'return', holdOff: 10000, witness: false, witnessUrl: 'mqtt://127.0.0.1:1883', witnessPrefix: 'redundancy', witnessKeepalive: 5,
    ...overrides,
  };
}
