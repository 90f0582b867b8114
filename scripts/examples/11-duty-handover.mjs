// Example 11: duty hand-over between two Node-RED instances (Citect's report server hot standby),
// with a standby-write store and a dashboard page. The flow of one instance; `npm run start:pair`
// runs it on two (ports 1880 and 1881) with the second instance's link pointed back.
import { comment, dashboardKit, debug, id, inject, peerLink, startExample, tab } from './lib.mjs';

export const file = '11 - Duty hand-over (report server)';
export const flow = () => dutyExample();

export const LINK_NAME = 'report-link';

const HOWTO = [
  'Two Node-RED instances run this same flow; the peer link joins them. Only the instance that holds the duty passes the report trigger: the preferred instance while it is alive; the standby takes the duty when the heartbeat is lost (and keeps polling), and hands it back after the 10 s hold-off when the preferred one returns. A redeploy or shutdown hands the duty over at once, with no report lost.',
  '',
  'Run it: `npm run start:pair` starts both instances (editor and dashboard on :1880 and :1881, /dashboard/duty) with a shared secret and, when mosquitto is installed, an MQTT witness.',
  '',
  'By hand, on a second Node-RED: import this example there too, open the peer link "report-link" and set its peer URL to the first instance (http://host-a:1880), "This instance" to standby; on the first, set the peer URL to the second. Set the same shared secret on both (the link shows "config error" until you do). Without a witness a cut link between two running instances gives two holders: add your plant\'s MQTT broker as witness to prevent that (peer link, tab "Duty and witness").',
].join('\n');

/** The example's nodes; `overrides` changes the peer link (start:pair uses it for the second instance). */
export function dutyExample(overrides = {}) {
  startExample(11);
  const t = tab('Duty hand-over (report server)', HOWTO);
  const link = peerLink(LINK_NAME, overrides);
  const ui = dashboardKit(t, { name: 'Duty hand-over', path: '/duty', icon: 'account-switch' });
  const gDuty = ui.group('This instance', 6, 1);
  const gReports = ui.group('Reports (passed on the holder only)', 6, 2);
  const { text } = ui;

  const tHolder = text(gDuty, 900, 260, 'Duty', 1);
  const tLink = text(gDuty, 900, 300, 'Peer link', 2);
  const tWitness = text(gDuty, 900, 340, 'Witness', 3);
  const tReason = text(gDuty, 900, 380, 'Why', 4);
  const tReport = text(gReports, 900, 120, 'Last report', 1);
  const split = {
    id: id('fn'), type: 'function', z: t.id, name: 'duty state → widgets', outputs: 4, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [],
    func: [
      'const d = msg.payload;',
      'const me = d.instance + " (" + d.name + ")";',
      'return [',
      '    { payload: (d.holder ? "HOLDS the duty, epoch " : "standby, last epoch ") + d.epoch + " — " + me },',
      '    { payload: d.link + (d.peer ? " to " + d.peer : "") + ": " + d.linkReason },',
      '    { payload: d.witness === "none" ? "none (a cut link gives two holders)" : d.witness },',
      '    { payload: d.reason },',
      '];',
    ].join('\n'),
    x: 660, y: 320, wires: [[tHolder.id], [tLink.id], [tWitness.id], [tReason.id]],
  };
  const state = debug(t.id, 660, 400, 'duty state', false);
  const reports = debug(t.id, 900, 80, 'reports (holder only)');
  const makeReport = {
    id: id('chg'), type: 'change', z: t.id, name: 'shift report', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '"Shift report at " & $moment().format("HH:mm:ss") & " by " & duty.instance & " (epoch " & $string(duty.epoch) & ")"', tot: 'jsonata' }],
    x: 660, y: 100, wires: [[reports.id, tReport.id]],
  };
  const duty = { id: id('duty'), type: 'duty', z: t.id, name: 'report duty', link: link.id, catchUp: 2000, x: 420, y: 160, wires: [[makeReport.id], [split.id, state.id]] };
  const trigger = { ...inject(t.id, 180, 160, 'every 5 s: report due', '', duty.id), repeat: '5', once: true, onceDelay: 2, props: [{ p: 'payload' }], payloadType: 'date', payload: '' };

  // Standby write: operator notes kept on both instances (Citect Disk IO with StandbyWrite).
  const notesOut = debug(t.id, 660, 520, 'notes: results');
  const notesPeer = debug(t.id, 660, 560, 'notes written on the other instance');
  const store = { id: id('sw'), type: 'standby-write', z: t.id, name: 'shift notes', link: link.id, store: 'shift-notes', x: 420, y: 540, wires: [[notesOut.id], [notesPeer.id]] };
  const writeNote = inject(t.id, 180, 500, 'write a note', { text: 'pump 3 checked' }, store.id, { topic: 'note', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }] });
  const readAll = { ...inject(t.id, 180, 580, 'read all notes', '', store.id), props: [{ p: 'action', v: 'all', vt: 'str' }] };

  return [
    t,
    comment(t.id, 200, 40, 'Duty hand-over: read me (two instances)', HOWTO),
    trigger, duty, makeReport, reports, split, state, tHolder, tLink, tWitness, tReason, tReport,
    comment(t.id, 220, 460, 'Standby write: notes kept on both instances', 'A note written on either instance is stored on both (SQLite in each user dir). Written while the other instance is down, it waits in a persistent queue and is delivered when it returns; at start the two cross-copy. The newest value wins by a hybrid logical clock, not by trusting either wall clock.'),
    writeNote, readAll, store, notesOut, notesPeer,
    link, ...ui.nodes(),
  ];
}
