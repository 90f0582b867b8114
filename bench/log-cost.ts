// Diagnostics costs: log write per event (SQLite, as the node uses it) and, in the full run, the
// time from a condition becoming true to the switch (condition_switch_ms) is added by
// bench/condition-switch.ts once the condition node exists.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventLog } from '../lib/core/event-log';
import type { RedundancyEvent } from '../lib/core/types';
import { SqliteEventStore } from '../lib/store/sqlite-event-store';
import { round } from './stats';

export async function runLogBench(quick: boolean): Promise<Array<Record<string, unknown>>> {
  const dir = mkdtempSync(join(tmpdir(), 'redundancy-log-bench-'));
  const rows: Array<Record<string, unknown>> = [];
  try {
    const n = quick ? 5000 : 50_000;
    for (const maxEvents of [1000, 10_000]) {
      const log = new EventLog({ maxEvents, store: new SqliteEventStore(join(dir, `log-${maxEvents}.sqlite`)) });
      const event: RedundancyEvent = { time: Date.now(), pair: 'bench', kind: 'failover', severity: 'error', from: 'primary', to: 'secondary', reason: 'connection lost: socket closed' };
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) log.append({ ...event, time: event.time + i });
      const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
      log.close();
      rows.push({ metric: 'log_write_us_per_event', max_events: maxEvents, events: n, value: round(us, 1) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
