// channel-selector benchmark, in the real Node-RED runtime (node-red-node-test-helper, as the
// integration tests): node-red-contrib-modbus read nodes poll two Modbus TCP devices on loopback
// (one behind the fault proxy) into the selector; a fault on the preferred path; how long the output
// was silent, how long detection took, how far the counter jumped. Then the CPU cost per message of
// the selector's engine against routing the same messages by hand (same run, alternating).
import { ChannelSelectorEngine, parseSelectorConfig } from '../lib/core/channel-selector';
import { realClock } from '../lib/core/clock';
import { pairHub } from '../lib/core/hub';
import type { RedundancyEvent } from '../lib/core/types';
import { FaultProxy } from '../test/helpers/fault-proxy';
import { helper, loadFlow, startServer, stopServer } from '../test/helpers/flow';
import { ModbusTestDevice } from '../test/helpers/modbus-device';
import { freePort } from '../test/helpers/ports';
import { cpuSeconds, percentile, round, sleep, waitFor } from './stats';

/* eslint-disable @typescript-eslint/no-require-imports */
const selectorModule = require('../nodes/channel-selector');
const mbClient = require('node-red-contrib-modbus/modbus/modbus-client.js');
const mbRead = require('node-red-contrib-modbus/modbus/modbus-read.js');
/* eslint-enable @typescript-eslint/no-require-imports */

export type SelectorFault = 'crash' | 'reset' | 'blackhole' | 'exception';

export interface SelectorFailoverRow {
  fault: SelectorFault;
  /** node-red-contrib-modbus "empty message on fail": errors arrive as msg.error. */
  error_msgs: boolean;
  poll_ms: number;
  stale_ms: number;
  /** Last data from the failed channel to the decision (the failover event's detectMs). */
  detect_ms: number;
  /** Decision to the first value from the standby (switch-complete). */
  switch_ms: number;
  /** Longest silence of the selector's output around the fault. */
  stall_ms: number;
  /** Largest jump of the 100 ms counter across the switch, in ms (poll-to-poll normally: ~100). */
  counter_gap_ms: number;
  /** Longest silence of a read node without the selector in the same run (baseline jitter). */
  baseline_stall_ms: number;
}

export interface SelectorCpuRow {
  metric: 'cpu_us_per_msg';
  messages: number;
  /** Median over the rounds, µs per message. */
  selector: number;
  by_hand: number;
  ratio: number;
  /** min–max of the selector over the rounds. */
  spread: string;
}

const POLL_MS = 100;
const STALE_MS = 500;

function clientNode(id: string, port: number): Record<string, unknown> {
  return {
    id, type: 'modbus-client', name: `client ${id}`, clienttype: 'tcp', bufferCommands: true, tcpHost: '127.0.0.1', tcpPort: String(port), tcpType: 'DEFAULT', unit_id: '1', commandDelay: '1',
    clientTimeout: '300', reconnectOnTimeout: true, reconnectTimeout: '300', parallelUnitIdsAllowed: true,
  };
}

function readNode(id: string, client: string, topic: string, emptyMsgOnFail: boolean, wire: string): Record<string, unknown> {
  return {
    id, type: 'modbus-read', name: id, topic, showStatusActivities: false, showErrors: false, unitid: '1', dataType: 'HoldingRegister', adr: '0', quantity: '2', rate: String(POLL_MS),
    rateUnit: 'ms', delayOnStart: false, server: client, useIOFile: false, useIOForPayload: false, emptyMsgOnFail, wires: [[wire], []],
  };
}

function longestSilence(times: number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t <= to);
  let gap = 0;
  let prev = from;
  for (const t of inside) {
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.max(gap, to - prev);
}

export async function runSelectorFailover(fault: SelectorFault, errorMsgs: boolean): Promise<SelectorFailoverRow> {
  const a = await ModbusTestDevice.start(await freePort(), 'A');
  const b = await ModbusTestDevice.start(await freePort(), 'B');
  const c = await ModbusTestDevice.start(await freePort(), 'C');
  const proxy = await FaultProxy.start('127.0.0.1', a.port);
  const events: RedundancyEvent[] = [];
  const onEvent = (e: RedundancyEvent) => {
    if (e.pair === 'bench-sel') events.push(e);
  };
  pairHub.on('event', onEvent);
  await startServer();
  try {
    await loadFlow([selectorModule, mbClient, mbRead], [
      clientNode('cl-a', proxy.port),
      clientNode('cl-b', b.port),
      clientNode('cl-c', c.port),
      readNode('rd-a', 'cl-a', 'A/regs', errorMsgs, 'sel'),
      readNode('rd-b', 'cl-b', 'B/regs', errorMsgs, 'sel'),
      readNode('rd-c', 'cl-c', 'C/regs', errorMsgs, 'base'),
      {
        id: 'sel', type: 'channel-selector', name: 'bench-sel', channels: [{ name: 'A', by: 'topic', pattern: 'A/*', staleMs: STALE_MS }, { name: 'B', by: 'topic', pattern: 'B/*', staleMs: STALE_MS }],
        returnMode: 'return', holdOff: 3000, outputs: 3, wires: [['out'], [], []],
      },
      { id: 'out', type: 'helper', wires: [] },
      { id: 'base', type: 'helper', wires: [] },
    ]);
    const outTimes: number[] = [];
    const outCounters: number[] = [];
    const baseTimes: number[] = [];
    let lastChannel = '';
    helper.getNode('out').on('input', (m: { payload: number[]; channel: string }) => {
      outTimes.push(Date.now());
      outCounters.push(m.payload[0]);
      lastChannel = m.channel;
    });
    helper.getNode('base').on('input', () => baseTimes.push(Date.now()));
    // On a busy machine B's read node may answer first and be chosen; the selector returns to A after the hold-off (A is dead when it matters).
    await waitFor(() => lastChannel === 'A' && outTimes.length > 10, 30_000, 'data from A', () => ({ lastChannel, messages: outTimes.length, events: events.map((e) => `${e.kind} ${e.reason}`) }));
    await sleep(1000);
    const faultAt = Date.now();
    const before = outCounters.length;
    if (fault === 'crash') await a.stop('crash');
    else if (fault === 'reset') proxy.setMode('reset');
    else if (fault === 'blackhole') proxy.setMode('blackhole');
    else a.exception = 4;
    await waitFor(() => lastChannel === 'B', 15_000, 'data from B');
    await sleep(1500);
    const end = Date.now();
    const fo = events.find((e) => e.kind === 'failover');
    const sc = events.find((e) => e.kind === 'switch-complete');
    let counterGap = 0;
    for (let i = Math.max(1, before - 1); i < outCounters.length; i++) counterGap = Math.max(counterGap, ((outCounters[i] - outCounters[i - 1] + 0x10000) % 0x10000) * 100);
    return {
      fault,
      error_msgs: errorMsgs,
      poll_ms: POLL_MS,
      stale_ms: STALE_MS,
      detect_ms: fo?.detectMs ?? NaN,
      switch_ms: sc?.durationMs ?? NaN,
      stall_ms: longestSilence(outTimes, faultAt - 1000, end),
      counter_gap_ms: counterGap,
      baseline_stall_ms: longestSilence(baseTimes, faultAt - 1000, end),
    };
  } finally {
    pairHub.off('event', onEvent);
    await helper.unload();
    await stopServer();
    await proxy.close();
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
}

/**
 * CPU per message of the selector's engine (2 channels, one item each, data of both arriving
 * alternately, as two read nodes send it), against the least a flow needs to do the same routing by
 * hand: a function matching the topic and forwarding one channel. Node-RED's own cost per message
 * (the same for any node) is not in either figure.
 */
export async function runSelectorCpu(messages: number, rounds: number): Promise<SelectorCpuRow> {
  const { config } = parseSelectorConfig({ channels: [{ name: 'A', by: 'topic', pattern: 'A/*', staleMs: 3000 }, { name: 'B', by: 'topic', pattern: 'B/*', staleMs: 3000 }] });
  let forwarded = 0;
  const engine = new ChannelSelectorEngine('bench-cpu', config, realClock, { data: () => forwarded++, write: () => undefined, event: () => undefined, status: () => undefined });
  engine.start();
  const patterns = [/^A\/(.*)$/, /^B\/(.*)$/];
  const byHand = (msg: Record<string, unknown>) => {
    for (let i = 0; i < patterns.length; i++) {
      const m = patterns[i].exec(msg.topic as string);
      if (m) {
        if (i === 0) {
          msg.topic = m[1];
          msg.channel = 'A';
          forwarded++;
        }
        return;
      }
    }
  };
  const drive = (fn: (msg: Record<string, unknown>) => unknown): number => {
    const since = process.cpuUsage();
    for (let i = 0; i < messages; i++) fn({ topic: i % 2 === 0 ? 'A/level' : 'B/level', payload: [i, 1] });
    return (cpuSeconds(since) * 1e6) / messages;
  };
  const sel: number[] = [];
  const base: number[] = [];
  drive((m) => engine.input(m));
  drive(byHand);
  for (let r = 0; r < rounds; r++) {
    sel.push(drive((m) => engine.input(m)));
    base.push(drive(byHand));
  }
  engine.stop();
  const s = percentile(sel, 50);
  const b = percentile(base, 50);
  return { metric: 'cpu_us_per_msg', messages, selector: round(s, 3), by_hand: round(b, 3), ratio: round(s / b, 1), spread: `${round(Math.min(...sel), 3)}–${round(Math.max(...sel), 3)}` };
}

export async function runSelectorBench(quick: boolean): Promise<{ failover: SelectorFailoverRow[]; cpu: SelectorCpuRow[] }> {
  const failover: SelectorFailoverRow[] = [];
  const cases: Array<[SelectorFault, boolean]> = quick ? [['crash', true], ['blackhole', false]] : [['crash', true], ['reset', true], ['blackhole', false], ['blackhole', true], ['exception', true]];
  for (const [fault, errorMsgs] of cases) {
    process.stdout.write(`selector ${fault}${errorMsgs ? ' (error messages)' : ''}… `);
    const row = await runSelectorFailover(fault, errorMsgs);
    process.stdout.write(`stall ${row.stall_ms} ms\n`);
    failover.push(row);
  }
  process.stdout.write('selector cpu per message… ');
  const cpu = [await runSelectorCpu(quick ? 50_000 : 200_000, quick ? 3 : 5)];
  process.stdout.write(`${cpu[0].selector} µs (by hand ${cpu[0].by_hand} µs)\n`);
  return { failover, cpu };
}
