// condition_switch_ms: from a failover condition becoming true to the pair's switch, through the
// real runtime (failover-condition node in a flow). Warm mode, so the switch is the condition's
// doing and not hot mode's stream comparison. The servers run in their own processes.
import { pairHub } from '../lib/core/hub';
import type { RedundancyEvent } from '../lib/core/types';
import { SIM_ITEMS } from '../lib/sim/opcua-simulator';
import { SimulatorProcess } from '../lib/sim/sim-process';
import { freePort } from '../test/helpers/ports';
import type { EmbeddedNodeRed } from './node-red-embed';
import { round, sleep, waitFor } from './stats';

export interface ConditionRow {
  metric: 'condition_switch_ms';
  condition: 'stale' | 'value';
  mode: 'warm';
  check_interval_ms: number;
  condition_switch_ms: number;
}

const STALE_MS = 1000;

export async function runConditionSwitch(nr: EmbeddedNodeRed, rounds: number): Promise<ConditionRow[]> {
  const rows: ConditionRow[] = [];
  for (const condition of ['stale', 'value'] as const) {
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const [pPort, sPort] = [await freePort(), await freePort()];
      const [primary, secondary] = await Promise.all([
        SimulatorProcess.spawn({ port: pPort, name: 'cond-primary', counterPeriodMs: 100 }),
        SimulatorProcess.spawn({ port: sPort, name: 'cond-secondary', counterPeriodMs: 100 }),
      ]);
      const events: RedundancyEvent[] = [];
      const onEvent = (e: RedundancyEvent) => events.push(e);
      pairHub.on('event', onEvent);
      try {
        const spec = condition === 'stale' ? { name: 'stale', kind: 'stale', item: SIM_ITEMS.counter, staleMs: STALE_MS } : { name: 'link', kind: 'value', item: SIM_ITEMS.deviceOk, op: 'false' };
        await nr.deploy([
          { id: 'ct', type: 'tab', label: 'cond' },
          { id: 'cp', type: 'redundant-pair', name: 'cond-bench', protocol: 'opcua', primaryEndpoint: primary.endpointUrl, secondaryEndpoint: secondary.endpointUrl, securityMode: 'None', securityPolicy: 'None', authMode: 'anonymous', mode: 'warm', pingInterval: 1000, pingTimeout: 1000, autoPromote: false, holdOff: 10000, reconnectMax: 5000 },
          { id: 'cs', type: 'redundant-source', z: 'ct', x: 100, y: 100, pair: 'cp', items: [{ id: SIM_ITEMS.counter }], samplingInterval: 100, output: 'change', wires: [[]] },
          { id: 'cc', type: 'failover-condition', z: 'ct', x: 100, y: 200, pair: 'cp', conditions: [spec], samplingInterval: 100, minSwitchInterval: 0, wires: [[]] },
        ]);
        await waitFor(() => pairHub.byName('cond-bench')?.getActive() === 'primary', 30_000, 'the pair up');
        await sleep(1500);
        let trueAt: number;
        if (condition === 'stale') {
          await primary.call('freeze', true);
          // the last change was at most one counter period before the freeze
          trueAt = Date.now() + STALE_MS;
        } else {
          await primary.call('setLinkOk', false);
          trueAt = Date.now();
        }
        await waitFor(() => events.some((e) => e.kind === 'failover' && e.pair === 'cond-bench'), 15_000, `the ${condition} failover`);
        const failover = events.find((e) => e.kind === 'failover' && e.pair === 'cond-bench') as RedundancyEvent;
        samples.push(failover.time - trueAt);
      } finally {
        pairHub.off('event', onEvent);
        await nr.deploy([]);
        await Promise.allSettled([primary.kill(), secondary.kill()]);
      }
    }
    samples.sort((a, b) => a - b);
    rows.push({ metric: 'condition_switch_ms', condition, mode: 'warm', check_interval_ms: 200, condition_switch_ms: round(samples[Math.floor(samples.length / 2)], 0) });
  }
  return rows;
}
