// Example 8: Citect IO device redundancy: two PLCs in master/slave, read through a channel-selector
// whose write guard lets a write out only to the PLC that says it is the master.
import { channelSelector, comment, debug, diagnostics, id, inject, modbusPair, modbusSimulator, source, startExample, tab } from './lib.mjs';

export const file = '08 - Modbus IO device redundancy (two PLCs, master-status guard)';
export const flow = () => deviceRedundancy(5080, 5081, 5082, 5083);

function deviceRedundancy(aTcp, aRtu, bTcp, bRtu) {
  startExample(8);
  const text = [
    'Citect IO device redundancy: two PLCs, a master and a slave that the master keeps up to date. The Citect paper warns of the hazard: when the cable to the master fails while the master runs on, a client that simply switches to the standby channel writes control values into the slave, which cannot act on them.',
    '',
    'The channel-selector prevents it. Its channels, in order of preference, are PLC A and PLC B; each channel\'s master-status item is bit 1 of the PLC\'s status word HR9 (the simulators also show it as HR10 and DI16). With the write guard on, a write (msg.write = true) goes out only on the active channel and only while that PLC says it is the master; otherwise it is held for up to 5 s and sent when a master is active, or refused with an error that the catch node shows. Nothing is written to a slave PLC. The selector prefers the master, so it follows the PLCs\' own switch-over.',
    '',
    'Each PLC is itself reached over two paths, Ethernet and serial (Modbus TCP and RTU over TCP here), by a hot redundant pair: Citect\'s "advanced" scheme, device redundancy on top of data path redundancy. Its source names items plcA/... and plcB/..., which is how the selector tells the channels apart; a write leaves by the active channel\'s own output into that PLC\'s source (msg.item = HR20, the setpoint, in both PLCs).',
    '',
    'Try it: "write setpoint 42" lands in PLC A. Make PLC A the slave and the write is held; make PLC B the master and the selector switches to B and sends it there. "crash PLC A" while A is the master: B is still a slave, so writes are refused until B takes over.',
  ].join('\n');
  const t = tab('Modbus IO device redundancy', text);
  const pA = modbusPair('plc-a', 'hot', `modbus-tcp://127.0.0.1:${aTcp}`, `modbus-rtu-tcp://127.0.0.1:${aRtu}`);
  const pB = modbusPair('plc-b', 'hot', `modbus-tcp://127.0.0.1:${bTcp}`, `modbus-rtu-tcp://127.0.0.1:${bRtu}`);
  const simA = modbusSimulator(t.id, 760, 500, `PLC A :${aTcp} (master)`, aTcp, { rtuTcpPort: aRtu, master: true });
  const simB = modbusSimulator(t.id, 760, 580, `PLC B :${bTcp} (slave)`, bTcp, { rtuTcpPort: bRtu, master: false });
  const values = debug(t.id, 800, 120, 'values of the master (msg.channel)', false);
  const selId = id('sel');
  const items = (prefix) => [
    { id: 'HR0:uint32', name: `${prefix}/counter` },
    { id: 'HR9', name: `${prefix}/status` },
    { id: 'HR20', name: `${prefix}/setpoint` },
  ];
  const srcA = source(t.id, 330, 220, pA.id, items('plcA'), [selId], { samplingInterval: 200, name: 'PLC A' });
  const srcB = source(t.id, 330, 300, pB.id, items('plcB'), [selId], { samplingInterval: 200, name: 'PLC B' });
  const master = (prefix) => ({ by: 'topic', pattern: `${prefix}/status`, path: 'payload', test: 'bit', value: 1 });
  const sel = {
    ...channelSelector(t.id, 560, 220, 'plc pair', [
      { name: 'PLC A', by: 'topic', pattern: 'plcA/*', staleMs: 3000, master: master('plcA') },
      { name: 'PLC B', by: 'topic', pattern: 'plcB/*', staleMs: 3000, master: master('plcB') },
    ], [[values.id], [srcA.id], [srcB.id]], { guard: true, holdWrites: 5000 }),
    id: selId,
  };
  const write = inject(t.id, 150, 120, 'write setpoint 42', '42', selId, {
    topic: 'setpoint', payloadType: 'num',
    props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }, { p: 'write', v: 'true', vt: 'bool' }, { p: 'item', v: 'HR20', vt: 'str' }],
  });
  const refused = debug(t.id, 800, 400, 'refused writes', true, 'error');
  const caught = { id: id('catch'), type: 'catch', z: t.id, name: 'writes the guard refused', scope: [selId, srcA.id, srcB.id], uncaught: false, x: 580, y: 400, wires: [[refused.id]] };
  const events = debug(t.id, 800, 320, 'switches and guard', true, 'false');
  const diag = diagnostics(t.id, 580, 320, 'events of the plc pair', `${sel.name}, ${pA.name}, ${pB.name}`, [events.id], {
    kinds: ['failover', 'promotion', 'manual-switch', 'master-changed', 'write-held', 'write-released', 'write-rejected', 'all-down', 'both-down', 'recovered'],
  });
  return [
    t,
    comment(t.id, 200, 40, 'Modbus IO device redundancy: two PLCs, master-status guard on writes', text),
    write, srcA, srcB, sel, values, caught, refused, diag, events, pA, pB,
    inject(t.id, 160, 460, 'PLC A: slave', 'slave', simA.id),
    inject(t.id, 160, 500, 'PLC B: master', 'master', simB.id),
    inject(t.id, 160, 540, 'PLC A: master', 'master', simA.id),
    inject(t.id, 160, 580, 'PLC B: slave', 'slave', simB.id),
    inject(t.id, 160, 640, 'crash PLC A', 'crash', simA.id),
    inject(t.id, 160, 680, 'restore PLC A', 'restart', simA.id),
    simA, simB,
  ];
}
