// Example 7: Citect data path redundancy: one PLC reached over Modbus TCP (Ethernet) and over
// Modbus RTU (a serial line; RTU over TCP to the simulator out of the box).
import { comment, debug, diagnostics, inject, modbusPair, modbusSimulator, source, startExample, tab } from './lib.mjs';

export const file = '07 - Modbus data path redundancy (Ethernet and serial, one PLC)';
export const flow = () => dataPath(5070, 5071);

function dataPath(tcpPort, rtuPort) {
  startExample(7);
  const text = [
    'Citect data path redundancy: one PLC, two connections to it: Ethernet (Modbus TCP, the primary channel) and a serial link kept for emergencies (Modbus RTU, the standby channel).',
    '',
    'The simulated PLC serves both paths from one memory: Modbus TCP on port ' + tcpPort + ' and RTU frames over TCP on port ' + rtuPort + ' (what a serial device server in raw TCP mode passes through). So it runs as imported, with no serial hardware.',
    '',
    'A real serial port: open the pair and change one field, the secondary endpoint, to e.g. modbus-rtu:/dev/ttyUSB0?baud=19200&parity=even (Windows: modbus-rtu:COM3?baud=19200), or pick "RTU (serial port)" in the dialog and fill in port, baud rate and parity. To try it without hardware, make a virtual null-modem cable with socat (socat pty,raw,echo=0,link=/tmp/plc pty,raw,echo=0,link=/tmp/master), give the simulator the serial port /tmp/plc and the pair modbus-rtu:/tmp/master.',
    '',
    'The pair is warm: both paths are connected and pinged, but only the active one is polled, so a slow serial line is not loaded with polls while Ethernet works. When Ethernet fails, the serial path is polled at once; when Ethernet is back, the pair returns to it after the 10 s hold-off. A write goes over the active path only and lands in the one PLC, so it reads back over either path.',
  ].join('\n');
  const t = tab('Modbus data path redundancy', text);
  const p = modbusPair('plc-paths', 'warm', `modbus-tcp://127.0.0.1:${tcpPort}`, `modbus-rtu-tcp://127.0.0.1:${rtuPort}`);
  const plc = modbusSimulator(t.id, 600, 400, `PLC :${tcpPort} TCP, :${rtuPort} RTU`, tcpPort, { rtuTcpPort: rtuPort });
  const values = debug(t.id, 640, 140, 'values (with msg.server)', false);
  const src = source(t.id, 370, 140, p.id, [
    { id: 'HR0:uint32', name: 'counter' },
    { id: 'HR3:int16/10000', name: 'sine' },
    { id: 'HR20', name: 'setpoint' },
    { id: 'HR60:string20', name: 'PLC name' },
  ], [values.id], { samplingInterval: 200 });
  const write = inject(t.id, 150, 140, 'write setpoint 7', '7', src.id, { topic: 'setpoint', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payloadType: 'num' });
  const switches = debug(t.id, 640, 220, 'switches', true, 'false');
  const diag = diagnostics(t.id, 370, 220, 'events of plc-paths', p.name, [switches.id], { kinds: ['failover', 'promotion', 'manual-switch', 'both-down', 'recovered', 'item-error'] });
  return [
    t,
    comment(t.id, 200, 60, 'Modbus data path redundancy: Ethernet and serial to one PLC', text),
    write, src, values, diag, switches, p,
    inject(t.id, 160, 340, 'unplug Ethernet', 'drop-tcp', plc.id),
    inject(t.id, 160, 380, 'plug Ethernet back', 'restore-tcp', plc.id),
    inject(t.id, 160, 440, 'cut the serial line', 'drop-rtu-tcp', plc.id),
    inject(t.id, 160, 480, 'serial line back', 'restore-rtu-tcp', plc.id),
    plc,
  ];
}
