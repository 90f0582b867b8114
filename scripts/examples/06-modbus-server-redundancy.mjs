// Example 6: Citect server redundancy with Modbus: two IO servers (Modbus TCP gateways) in front
// of one PLC, as a hot pair.
import { comment, debug, diagnostics, inject, modbusPair, modbusSimulator, source, startExample, tab } from './lib.mjs';

export const file = '06 - Modbus server redundancy (two IO servers, one PLC)';
export const flow = () => serverRedundancy(5060, 5061);

function serverRedundancy(aPort, bPort) {
  startExample(6);
  const text = [
    'Citect server redundancy: two IO servers are connected to one PLC; the primary channel is preferred, the standby takes over when the primary server crashes, is switched off or its network fails, and the primary is used again once it is back.',
    '',
    'Here the two IO servers are Modbus TCP gateways (IO server A on port ' + aPort + ', B on port ' + bPort + '), each simulated by a modbus-simulator node. Their values agree because both read the same PLC clock (a counter that steps every 100 ms, a sine); a write reaches the IO server that is active (in a plant, it passes on to the one PLC behind both, so both show it; two simulators keep their own memories).',
    '',
    'The pair is hot: both IO servers are polled every 50 ms (the source\'s poll period: twice as often as the counter steps, so no step is missed), the active one\'s values are forwarded, and at a failover the standby\'s values newer than the last one delivered are passed on, so no counter value is lost. Press the buttons on the left: the debug node "switches" shows each failover and return with its reason (the values debug node is off: switch it on to see msg.server).',
    '',
    'For your plant: open the pair, set the two endpoints to your IO servers (host, port, unit id), and the items to your registers (40001 or HR0, HR4:float32, HR9.1...).',
  ].join('\n');
  const t = tab('Modbus server redundancy', text);
  const p = modbusPair('io-servers', 'hot', `modbus-tcp://127.0.0.1:${aPort}`, `modbus-tcp://127.0.0.1:${bPort}`);
  const simA = modbusSimulator(t.id, 600, 360, `IO server A :${aPort}`, aPort);
  const simB = modbusSimulator(t.id, 600, 440, `IO server B :${bPort}`, bPort);
  const values = debug(t.id, 640, 140, 'values (with msg.server)', false);
  const src = source(t.id, 370, 140, p.id, [
    { id: 'HR0:uint32', name: 'counter' },
    { id: 'HR4:float32', name: 'sine' },
    { id: 'HR20', name: 'setpoint' },
  ], [values.id], { samplingInterval: 50 });
  const write = inject(t.id, 150, 140, 'write setpoint 42', '42', src.id, { topic: 'setpoint', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payloadType: 'num' });
  const switches = debug(t.id, 640, 220, 'switches', true, 'false');
  const diag = diagnostics(t.id, 370, 220, 'events of io-servers', p.name, [switches.id], { kinds: ['failover', 'promotion', 'manual-switch', 'both-down', 'recovered', 'item-error'] });
  return [
    t,
    comment(t.id, 200, 60, 'Modbus server redundancy: two IO servers, one PLC', text),
    write, src, values, diag, switches, p,
    inject(t.id, 160, 320, 'crash IO server A', 'crash', simA.id),
    inject(t.id, 160, 360, 'IO server A hangs (silent)', 'stall', simA.id),
    inject(t.id, 160, 400, 'A answers "device failure"', { exception: 4 }, simA.id),
    inject(t.id, 160, 440, 'restore IO server A', 'restart', simA.id),
    inject(t.id, 160, 480, 'A: exceptions off', 'exceptions-off', simA.id),
    inject(t.id, 160, 540, 'crash IO server B', 'crash', simB.id),
    inject(t.id, 160, 580, 'restore IO server B', 'restart', simB.id),
    simA, simB,
  ];
}
