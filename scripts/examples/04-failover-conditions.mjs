// Example 4: failover conditions (stale, value, quality, ServiceLevel) on a hot pair, events to e-mail.
import { ITEMS, comment, debug, email, id, inject, pair, simulator, source, startExample, tab } from './lib.mjs';

export const file = '04 - Failover conditions with e-mail';
export const flow = () => conditionsExample(4856, 4857);

/** Example 4: link-based failures (conditions) on a hot pair, events to e-mail. */
function conditionsExample(pPort, sPort) {
  startExample(4);
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

