// Flow node: the event log of all pairs (or chosen ones): bounded, kept across restarts, filterable.
// Output 1: each event as an e-mail ready message (mustache subject/body, optional digest).
// Output 2: the status table (Dashboard 2.0 ui-table rows) and pair metrics, on change and on request.
// Output 3: the recent event list, on each event, and query results.
import { join } from 'node:path';
import { realClock } from '../lib/core/clock';
import { EventDigest } from '../lib/core/digest';
import { type EventFilter, EventLog, type LoggedEvent, matchesFilter } from '../lib/core/event-log';
import { pairHub } from '../lib/core/hub';
import { errorText } from '../lib/core/pair';
import { formatDuration, formatLocalDateTime, pairMetrics, statusRows } from '../lib/core/status-table';
import { DEFAULT_BODY, DEFAULT_SUBJECT, renderEvent, validateTemplate } from '../lib/core/templates';
import { DIAGNOSTICS_RULES, checkPairFilter } from '../lib/rules/diagnostics';
import { diagnosticsLabel } from '../lib/rules/labels';
import { EVENT_KINDS, type PairStatus, type RedundancyEvent, type RedundancyEventKind, type Severity } from '../lib/core/types';
import { SqliteEventStore } from '../lib/store/sqlite-event-store';
import { translator } from './common/i18n';
import { type DoneFn, type Node, type NodeDef, type NodeMessage, type RedAPI, type SendFn, boolProp, numberProp, reportConfigError, statusSetter, userDirOf } from './common/node-red';

interface DiagnosticsNode extends Node {
  eventLog?: EventLog;
}

const STATUS_THROTTLE_MS = 250;

function listOf(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  return [];
}

/** A row of the event list for ui-table. */
function eventRow(e: LoggedEvent): Record<string, unknown> {
  const switched = e.from !== undefined || e.to !== undefined ? `${e.from ?? '—'} → ${e.to ?? '—'}` : '';
  return {
    id: e.id,
    time: formatLocalDateTime(e.time),
    pair: e.pair,
    kind: e.kind,
    severity: e.severity,
    server: e.server ?? '',
    switch: switched,
    /** One column for both: the switch, or the server a connection event is about. */
    servers: switched || (e.server ?? ''),
    reason: e.reason,
    duration: eventDuration(e),
  };
}

/** The duration column says what the duration is where it is not a switch time. */
function eventDuration(e: LoggedEvent): string {
  const d = formatDuration(e.durationMs);
  if (!d) return d;
  if (e.kind === 'connection-lost') return `was up ${d}`;
  if (e.kind === 'connected') return `was down ${d}`;
  if (e.kind === 'switch-complete') return `switch took ${d}`;
  return d;
}

export = function registerDiagnostics(RED: RedAPI): void {
  const t = translator(RED);
  const nodes = new Map<string, DiagnosticsNode>();

  function RedundancyDiagnostics(this: DiagnosticsNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    node.name = diagnosticsLabel(def.name);
    const pairs = listOf(def.pairs);
    const kinds = listOf(def.kinds) as RedundancyEventKind[];
    const severities = listOf(def.severities) as Severity[];
    const maxEvents = numberProp(def, 'maxEvents', 1000);
    const persist = boolProp(def, 'persist', true);
    const subjectT = String(def.subject || DEFAULT_SUBJECT);
    const bodyT = String(def.body || DEFAULT_BODY);
    const rateLimit = numberProp(def, 'rateLimit', 10);
    const rateWindowMs = numberProp(def, 'rateWindow', 60_000);
    const listSize = numberProp(def, 'listSize', 50);

    // The shared rules (the editor shows the same messages); templates also through mustache itself.
    const problems: string[] = [];
    for (const [field, rule] of Object.entries(DIAGNOSTICS_RULES)) {
      if (field === 'subject' || field === 'body') continue;
      const raw = def[field];
      const err = raw === undefined || raw === '' ? undefined : rule(raw);
      if (err) problems.push(err);
    }
    const subjectErr = validateTemplate(subjectT);
    if (subjectErr) problems.push(t('redundancy-diagnostics.errors.template', { which: 'subject', error: subjectErr }));
    const bodyErr = validateTemplate(bodyT);
    if (bodyErr) problems.push(t('redundancy-diagnostics.errors.template', { which: 'body', error: bodyErr }));
    if (problems.length > 0) {
      const text = problems.join('; ');
      reportConfigError(node, text);
      return;
    }
    // Pairs are config nodes, created before flow nodes: a name in the filter that no pair has is
    // a typo that would silently show nothing. Warned once, shown yellow; the filter still applies.
    const knownPairs = (): string[] => {
      const names = new Set(pairHub.list().map((p) => p.name));
      return [...names];
    };
    const filterWarning = pairs.length > 0 ? checkPairFilter(pairs, knownPairs()) : undefined;
    if (filterWarning) node.warn(t('redundancy-diagnostics.errors.pairFilter', { error: filterWarning }));

    const filter: EventFilter = { pairs: pairs.length ? pairs : undefined, kinds: kinds.length ? kinds : undefined, severities: severities.length ? severities : undefined };
    let log: EventLog;
    try {
      const dir = (def.storeDir as string | undefined) || userDirOf(RED);
      const store = persist ? new SqliteEventStore(join(dir, `redundancy-events-${node.id.replace(/[^\w.-]/g, '_')}.sqlite`)) : undefined;
      log = new EventLog({ maxEvents, store });
    } catch (err) {
      node.error(t('redundancy-diagnostics.errors.store', { error: errorText(err) }));
      log = new EventLog({ maxEvents });
    }
    node.eventLog = log;
    nodes.set(node.id, node);

    const statusOf = (name: string): PairStatus | undefined => pairHub.byName(name)?.status();

    const emailMessage = (e: LoggedEvent): NodeMessage => {
      const { subject, body } = renderEvent(subjectT, bodyT, e, statusOf(e.pair));
      return { topic: subject, payload: body, event: e };
    };

    const digest = rateLimit > 0
      ? new EventDigest<LoggedEvent>({
          maxPerWindow: rateLimit,
          windowMs: rateWindowMs,
          clock: realClock,
          emit: (single, many) => {
            if (single) node.send([emailMessage(single), null, null]);
            if (many && many.length > 0) {
              const pairsIn = [...new Set(many.map((e) => e.pair))].join(', ');
              const body = many.map((e) => emailMessage(e)).map((m) => `${m.topic}\n${m.payload}`).join('\n\n----\n\n');
              node.send([{ topic: t('redundancy-diagnostics.digest', { count: many.length, pairs: pairsIn }), payload: body, events: many, digest: true }, null, null]);
            }
          },
        })
      : undefined;

    const statusMessage = (): NodeMessage => {
      const statuses = pairHub.statuses(pairs.length ? pairs : undefined);
      return { topic: 'status', payload: statusRows(statuses), metrics: Object.fromEntries(statuses.map((s) => [s.pair, pairMetrics(s)])) };
    };

    const listMessage = (events?: LoggedEvent[], topic = 'events'): NodeMessage => {
      const list = events ?? log.query({ limit: listSize });
      return { topic, payload: list.slice().reverse().map(eventRow), events: list };
    };

    let statusTimer: NodeJS.Timeout | undefined;
    const scheduleStatus = () => {
      if (statusTimer) return;
      statusTimer = setTimeout(() => {
        statusTimer = undefined;
        node.send([null, statusMessage(), null]);
      }, STATUS_THROTTLE_MS);
    };

    const setStatus = statusSetter(node);
    const showStatus = () => {
      const count = t('redundancy-diagnostics.status.count', { count: log.size() });
      if (filterWarning) setStatus({ fill: 'yellow', shape: 'dot', text: `${count} · ${t('redundancy-diagnostics.status.noSuchPair', { pairs: pairs.filter((p) => !knownPairs().includes(p)).join(', ') })}` });
      else setStatus({ fill: 'green', shape: 'dot', text: count });
    };

    const onEvent = (e: RedundancyEvent) => {
      if (!matchesFilter(e, filter)) return;
      const logged = log.append(e);
      if (digest) digest.push(logged);
      else node.send([emailMessage(logged), null, null]);
      node.send([null, null, listMessage()]);
      scheduleStatus();
      showStatus();
    };
    const onStatus = (s: PairStatus) => {
      if (pairs.length === 0 || pairs.includes(s.pair)) scheduleStatus();
    };
    pairHub.on('event', onEvent);
    pairHub.on('status', onStatus);
    showStatus();
    // First table once the flows around us have started.
    const initial = setTimeout(scheduleStatus, 50);

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      try {
        const topic = String(msg.topic ?? '');
        if (topic === 'status' || topic === '') {
          send([null, statusMessage(), null]);
        } else if (topic === 'events' || topic === 'query') {
          const q = (msg.payload && typeof msg.payload === 'object' ? msg.payload : {}) as EventFilter & { pair?: string; kind?: string };
          const f: EventFilter = {
            pairs: q.pairs ?? (q.pair ? [q.pair] : undefined),
            kinds: q.kinds ?? (q.kind ? [q.kind as RedundancyEventKind] : undefined),
            severities: q.severities,
            since: q.since,
            until: q.until,
            limit: q.limit ?? listSize,
          };
          for (const k of f.kinds ?? []) if (!EVENT_KINDS.includes(k)) throw new Error(t('redundancy-diagnostics.errors.badKind', { kind: k }));
          send([null, null, listMessage(log.query(f), 'query')]);
        } else if (topic === 'clear') {
          log.clear();
          showStatus();
          send([null, null, listMessage()]);
        } else {
          throw new Error(t('redundancy-diagnostics.errors.badInput', { topic }));
        }
        done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(errorText(err)));
      }
    });

    node.on('close', (_removed, done) => {
      clearTimeout(initial);
      if (statusTimer) clearTimeout(statusTimer);
      pairHub.off('event', onEvent);
      pairHub.off('status', onStatus);
      digest?.close();
      log.close();
      nodes.delete(node.id);
      done();
    });
  }

  RED.nodes.registerType('redundancy-diagnostics', RedundancyDiagnostics);

  // The editor's "clear log" button.
  RED.httpAdmin.post('/redundancy-diagnostics/:id/clear', RED.auth.needsPermission('redundancy-diagnostics.write'), (req: { params: { id: string } }, res: { sendStatus(code: number): void; status(code: number): { send(body: string): void } }) => {
    const node = nodes.get(req.params.id);
    if (!node?.eventLog) return res.status(404).send('no such deployed diagnostics node (deploy first)');
    node.eventLog.clear();
    node.status({ fill: 'green', shape: 'dot', text: t('redundancy-diagnostics.status.count', { count: 0 }) });
    res.sendStatus(200);
  });
};
