// Example 9: the alarm server pair (Citect's primary and standby alarm servers, better). The flow of
// one instance: a simulated plant feeds value alarms and a pump trip; the alarm list with an Ack
// button per row on a Dashboard 2.0 page (/dashboard/alarms); on/off actions only on the instance
// that holds the duty. `npm run start:pair -- --example 9` runs it on two instances.
import { comment, dashboardKit, debug, id, inject, peerLink, startExample, tab } from './lib.mjs';

export const file = '09 - Alarm server pair';
export const flow = () => alarmExample();

export const LINK_NAME = 'alarm-link';
export const DASHBOARD_PATH = '/dashboard/alarms';

const HOWTO = [
  'Two Node-RED instances run this same flow; the peer link "alarm-link" joins them. Both evaluate the alarms (the simulated plant: reactor temperature TIC101 high, feed flow FIC102 low, pump P101 tripped by the dashboard button). An acknowledgement made on either instance (the Ack button of a row, "Acknowledge all", or a message {topic:"ack", payload:{tag}}) applies on both; made while the other instance is down, it is kept on disk and delivered when it returns. A started instance catches up the full alarm list (active, acknowledged, who, when, comments) from its peer. The on/off actions (output 1) run only on the instance that holds the duty; the other takes them over with the duty.',
  '',
  'Run it: `npm run start:pair -- --example 9` starts both instances (:1880 and :1881, dashboard /dashboard/alarms) with a shared secret and, when mosquitto is installed, an MQTT witness. Kill one from the dashboard, acknowledge alarms on the other, start it again: its list catches up, acks included.',
  '',
  'By hand, on two Node-RED instances: import this example on both; open the peer link "alarm-link" on each, set its peer URL to the other instance (http://host-b:1880 / http://host-a:1880), make one of them "standby", and set the same shared secret on both (credentials never ship in a flow: the link shows "config error" until you do). The alarms are kept in redundancy-alarms.sqlite in each user dir; choose PostgreSQL in the store node "alarm store" to keep them there instead.',
].join('\n');

const PLANT_JS = [
  '// The same plant on both instances: values are functions of the clock.',
  'const t = Date.now() / 1000;',
  'const temp = 70 + 10 * Math.sin(2 * Math.PI * t / 120);',
  'const flow = 50 + 20 * Math.sin(2 * Math.PI * t / 300 + 1);',
  'const r = (v) => Math.round(v * 10) / 10;',
  "return [[{ topic: 'TIC101.PV', payload: r(temp) }, { topic: 'FIC102.PV', payload: r(flow) }]];",
].join('\n');

/** The example's nodes; `overrides` changes the peer link (start:pair uses it for the second instance). */
export function alarmExample(overrides = {}) {
  startExample(9);
  const t = tab('Alarm server pair', HOWTO);
  const link = peerLink(LINK_NAME, overrides);
  const store = { id: id('store'), type: 'redundancy-store', name: 'alarm store', backend: 'sqlite', file: 'redundancy-alarms.sqlite', host: '127.0.0.1', port: 5432, database: '', user: '', schema: 'redundancy' };
  const ui = dashboardKit(t, { name: 'Alarms', path: '/alarms', icon: 'alarm-light' });
  const gList = ui.group('Alarm list (both instances show the same)', 12, 1);
  const gPlant = ui.group('Plant', 4, 2);
  const gDuty = ui.group('This instance', 8, 3);

  const actions = debug(t.id, 880, 100, 'on/off actions (duty instance only)');
  const changes = debug(t.id, 880, 220, 'alarm changes', false);
  const tAction = ui.text(gDuty, 880, 140, 'Last action here', 2);
  const actionText = {
    id: id('chg'), type: 'change', z: t.id, name: 'action → text', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'payload & " " & topic & " (epoch " & $string(epoch) & (takenOver ? ", taken over" : "") & ") at " & $moment().format("HH:mm:ss")', tot: 'jsonata' }],
    x: 660, y: 140, wires: [[tAction.id]],
  };
  const alarmsId = id('alarms');
  const listTable = ui.table(gList, 880, 180, 'Alarms', 1, [
    ui.col('ack', 'Acknowledge', 'button'), ui.col('key', 'Alarm'), ui.col('state', 'State'), ui.col('severity', 'Severity'), ui.col('text', 'Text'), ui.col('value', 'Value'),
    ui.col('raised', 'Raised'), ui.col('cleared', 'Cleared'), ui.col('ackedBy', 'Acknowledged by'),
  ], [alarmsId], { maxrows: 15 });
  const alarms = {
    id: alarmsId, type: 'alarm-sync', z: t.id, name: 'plant alarms', link: link.id, store: store.id, group: 'plant', catchUpWait: 10, maxShelve: 480, listFilter: 'all', defaultUser: 'operator',
    conditions: [
      { key: 'TIC101.HI', source: 'TIC101.PV', op: 'gt', limit: 78, deadband: 1, onDelay: 2000, offDelay: 0, severity: 'high', text: 'reactor temperature high', category: 'process' },
      { key: 'FIC102.LO', source: 'FIC102.PV', op: 'lt', limit: 35, deadband: 1, onDelay: 2000, offDelay: 0, severity: 'medium', text: 'feed flow low', category: 'process' },
    ],
    x: 440, y: 180, wires: [[actions.id, actionText.id], [listTable.id], [changes.id]],
  };
  const plant = { id: id('fn'), type: 'function', z: t.id, name: 'simulated plant', func: PLANT_JS, outputs: 1, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], x: 240, y: 260, wires: [[alarms.id]] };
  const tick = { ...inject(t.id, 90, 260, 'every 1 s', '', plant.id), repeat: '1', once: true, onceDelay: 1, payloadType: 'date' };
  const trip = { active: true, severity: 900, text: 'pump P101 tripped', category: 'motors' };

  // Who fires the actions: the duty of the link (a duty node used only for its state output).
  const tDuty = ui.text(gDuty, 880, 300, 'Duty', 1);
  const dutyText = {
    id: id('chg'), type: 'change', z: t.id, name: 'duty → text', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '(payload.holder ? "HOLDS the duty: actions run here" : "standby: actions run on the other instance") & " — link " & payload.link & " (" & payload.instance & ")"', tot: 'jsonata' }],
    x: 660, y: 300, wires: [[tDuty.id]],
  };
  const duty = { id: id('duty'), type: 'duty', z: t.id, name: 'who runs the actions', link: link.id, catchUp: 2000, x: 440, y: 300, wires: [[], [dutyText.id]] };

  return [
    t,
    comment(t.id, 200, 40, 'Alarm server pair: read me (two instances)', HOWTO),
    tick, plant, alarms, actions, actionText, tAction, changes, listTable, duty, dutyText, tDuty,
    ui.button(gPlant, 240, 340, 'Trip pump P101', 1, alarms.id, { topic: 'P101.TRIP', payload: JSON.stringify(trip), payloadType: 'json', color: '#c62828' }),
    ui.button(gPlant, 240, 380, 'Reset pump P101', 2, alarms.id, { topic: 'P101.TRIP', payload: JSON.stringify({ active: false }), payloadType: 'json', color: '#2e7d32' }),
    ui.button(gPlant, 240, 420, 'Acknowledge all', 3, alarms.id, { topic: 'ack-all', payload: '{}', payloadType: 'json' }),
    comment(t.id, 220, 480, 'Messages alarm-sync understands', 'An alarm: {topic: "P101.TRIP", payload: {active: true, severity: 900, text, category}} (or payload true/false). A value for a configured condition: {topic: "TIC101.PV", payload: 79.2}. Operator actions: {topic: "ack", payload: {tag, comment}}, "ack-all", "comment", "shelve" ({tag, minutes} or {tag, mode: "oneshot"}), "unshelve", "list". The Ack button of the table sends the row back (msg.action "button_click"). Who acknowledged: payload.by, msg.user, or the dashboard user.'),
    link, store, ...ui.nodes(),
  ];
}
