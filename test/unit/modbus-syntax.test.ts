import assert from 'node:assert/strict';
import {
  type ModbusItem,
  describeItemText,
  findOverlaps,
  formatEndpoint,
  formatItem,
  itemWarnings,
  parseEndpoint,
  parseItem,
  parseModbusOptions,
  validateItem,
} from '../../lib/rules/modbus';

function item(text: string): ModbusItem {
  const r = parseItem(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

function error(text: string): string {
  const r = parseItem(text);
  assert.equal(r.ok, false, `${text} should be refused`);
  return (r as { error: string }).error;
}

describe('Modbus item syntax', function () {
  it('reads both address forms: table prefix + 0-based address, and 5/6-digit Modicon references', function () {
    const cases: Array<[string, ModbusItem['area'], number]> = [
      ['HR0', 'holding', 0],
      ['40001', 'holding', 0],
      ['400001', 'holding', 0],
      ['465536', 'holding', 65535],
      ['49999', 'holding', 9998],
      ['IR7', 'input', 7],
      ['30008', 'input', 7],
      ['C0', 'coil', 0],
      ['00001', 'coil', 0],
      ['DI12', 'discrete', 12],
      ['10013', 'discrete', 12],
      ['hr0x10', 'holding', 16],
      ['HR65535', 'holding', 65535],
    ];
    for (const [text, area, address] of cases) {
      const it = item(text);
      assert.deepEqual([it.area, it.address], [area, address], text);
    }
  });

  it('gives defaults: uint16 for registers, bool for coils, discrete inputs and bits', function () {
    assert.equal(item('HR3').type, 'uint16');
    assert.equal(item('C3').type, 'bool');
    assert.equal(item('DI3').type, 'bool');
    const bit = item('40011.15');
    assert.deepEqual([bit.type, bit.address, bit.bit, bit.span], ['bool', 10, 15, 1]);
  });

  it('parses type, order, array, unit and scale in the documented forms', function () {
    const a = item('HR0:float32:CDAB*0.1');
    assert.deepEqual([a.type, a.wordSwap, a.byteSwap, a.span, a.scale?.factor, a.scale?.offset], ['float32', true, false, 2, 0.1, 0]);
    const b = item('IR5@2:int32:BADC/10-40');
    assert.deepEqual([b.unit, b.type, b.byteSwap, b.wordSwap, b.scale?.op, b.scale?.operand, b.scale?.offset], [2, 'int32', true, false, '/', 10, -40]);
    const c = item('HR100[4]:float64:HGFEDCBA');
    assert.deepEqual([c.count, c.array, c.span, c.byteSwap, c.wordSwap], [4, true, 16, true, true]);
    assert.deepEqual([item('HR100:int16[3]').count, item('HR100:int16[3]').array], [3, true]);
    assert.equal(item('HR0:uint64:CDAB').wordSwap, true, '64-bit types take the 4-letter codes too');
    const s = item('HR200:string21:BA');
    assert.deepEqual([s.type, s.length, s.span, s.byteSwap], ['string', 21, 11, true]);
    const k = item('40201.20L');
    assert.deepEqual([k.type, k.address, k.length, k.byteSwap], ['string', 200, 20, true], 'Kepware string address');
    assert.equal(item('HR0*1e-3').scale?.factor, 0.001);
    assert.equal(item('HR0*-2').scale?.factor, -2);
    assert.equal(item('C0[16]').span, 16);
  });

  it('accepts Kepware and IEC type names', function () {
    const names: Record<string, string> = { word: 'uint16', short: 'int16', dword: 'uint32', long: 'int32', float: 'float32', double: 'float64', llong: 'int64', qword: 'uint64', real: 'float32', lreal: 'float64', dint: 'int32', udint: 'uint32', bcd: 'bcd16', lbcd: 'bcd32', Float: 'float32' };
    for (const [alias, type] of Object.entries(names)) assert.equal(item(`HR0:${alias}`).type, type, alias);
  });

  it('formats canonically, and parse(format(x)) gives x back', function () {
    const cases: Array<[string, string]> = [
      ['40001', 'HR0'],
      ['hr0:FLOAT32:abcd', 'HR0:float32'],
      ['HR0:float32:cdab*0.1+5', 'HR0:float32:CDAB*0.1+5'],
      ['30006@2:DWORD', 'IR5@2:uint32'],
      ['HR0:int64:CDAB', 'HR0:int64:GHEFCDAB'],
      ['00017[8]', 'C16[8]'],
      ['40011.3', 'HR10.3'],
      ['40201.20H', 'HR200:string20'],
      ['HR7/100-1.5', 'HR7/100-1.5'],
      ['HR1@3:int16[4]', 'HR1[4]@3:int16'],
    ];
    for (const [text, canonical] of cases) {
      const it = item(text);
      assert.equal(formatItem(it), canonical, text);
      assert.deepEqual(item(formatItem(it)), it, `${text} round trip`);
    }
  });

  it('refuses malformed items with a message that says what is expected', function () {
    assert.match(error(''), /an item is required.*HR0:float32/);
    assert.match(error('123'), /ambiguous.*HR123.*40001/);
    assert.match(error('40000'), /out of range.*40001.*HR0/);
    assert.match(error('20001'), /starts with 0 \(coils\), 1 \(discrete inputs\), 3 \(input registers\) or 4/);
    assert.match(error('XR5'), /unknown table "XR".*HR.*IR.*C.*DI/);
    assert.match(error('HR0:foo'), /unknown data type "foo": use bool, int16/);
    assert.match(error('HR0:ABCE'), /unknown byte order ABCE/);
    assert.match(error('HR0:float32:AB'), /byte order AB does not fit float32: use ABCD, CDAB, BADC or DCBA/);
    assert.match(error('HR0:int16:ABCD'), /does not fit int16: use AB or BA/);
    assert.match(error('C0:int16'), /coils hold single bits/);
    assert.match(error('DI0.1'), /discrete inputs are bits already/);
    assert.match(error('HR0.16'), /bit 16 is out of range 0..15/);
    assert.match(error('HR0.3:int16'), /a bit in a register is a bool/);
    assert.match(error('HR0:bool'), /needs a bit number, e.g. HR0.0/);
    assert.match(error('HR0@0'), /unit id 0 is the broadcast address/);
    assert.match(error('HR0@256'), /unit id 256 is out of range 1..255/);
    assert.match(error('HR65536'), /out of range 0..65535/);
    assert.match(error('HR65535:int32'), /runs past the last address 65535/);
    assert.match(error('HR0:int16[126]'), /126 registers do not fit into one read \(at most 125\)/);
    assert.match(error('C0[2001]'), /2001 bits do not fit into one read \(at most 2000\)/);
    assert.match(error('HR0:string'), /a string needs its length in characters, e.g. string20/);
    assert.match(error('HR0:string251'), /1..250 characters/);
    assert.match(error('HR0:string10[2]'), /a string cannot be an array/);
    assert.match(error('C0*2'), /a bool cannot be scaled/);
    assert.match(error('HR0/0'), /cannot divide by 0/);
    assert.match(error('HR0:int16:float32'), /two data types/);
    assert.match(error('HR0 :int16'), /no spaces/);
    assert.match(error('HR0#1'), /unexpected "#1" after the address/);
    assert.match(error('0x10'), /a hexadecimal address needs its table: HR0x10/);
    assert.equal(validateItem('HR0:float32'), undefined);
    assert.match(validateItem('HR0:float33') ?? '', /unknown data type/);
  });

  it('describes an item in words and warns of a prefix followed by a Modicon reference', function () {
    assert.equal(describeItemText(item('IR5@2:int32:CDAB*0.1')), 'input register 5 (30006), unit 2, 2 registers: int32, order CDAB, ×0.1');
    assert.equal(describeItemText(item('HR10.3')), 'holding register 10 bit 3 (40011.3): bool');
    assert.match(itemWarnings('HR40001:float32')[0], /HR40001 is the 0-based protocol address 40001 \(Modicon 440002\); for the Modicon reference 40001 write 40001 or HR0/);
    assert.deepEqual(itemWarnings('HR40:float32'), []);
    assert.deepEqual(itemWarnings('IR40001'), [], 'IR40001 is no holding-register confusion');
  });

  it('finds registers read by two differently sized items (a 32-bit value taken for two 16-bit ones)', function () {
    const overlaps = findOverlaps(['HR0:float32', 'HR1', 'HR0.3', 'HR0:uint32', 'HR2:float32', 'HR4@2', 'HR4', 'C0[8]', 'C7']);
    assert.deepEqual(overlaps.map((o) => [o.a, o.b]), [
      ['C0[8]', 'C7'],
      ['HR0:float32', 'HR1'],
      ['HR0:uint32', 'HR1'],
    ]);
    assert.match(overlaps[1].message, /HR0:float32 and HR1 share holding register 1: HR0:float32 spans 2 \(0..1\)/);
  });
});

describe('Modbus endpoint syntax', function () {
  it('parses the three transports with their defaults', function () {
    const ok = (text: string) => {
      const r = parseEndpoint(text);
      if (!r.ok) throw new Error(r.error);
      return r.value;
    };
    assert.deepEqual(ok('modbus-tcp://10.0.0.5'), { transport: 'tcp', host: '10.0.0.5', port: 502, unit: 1 });
    assert.deepEqual(ok('modbus-tcp://plc1:5020?unit=255'), { transport: 'tcp', host: 'plc1', port: 5020, unit: 255 });
    assert.deepEqual(ok('modbus-tcp://[::1]:502'), { transport: 'tcp', host: '::1', port: 502, unit: 1 });
    assert.deepEqual(ok('modbus-rtu-tcp://gw:4001?unit=7'), { transport: 'rtu-tcp', host: 'gw', port: 4001, unit: 7 });
    assert.deepEqual(ok('modbus-rtu:/dev/ttyUSB0'), { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, unit: 1 });
    assert.deepEqual(ok('modbus-rtu:/dev/ttyUSB0?baud=19200&parity=even&stopBits=2&unit=3'), { transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 2, unit: 3 });
    assert.equal((ok('modbus-rtu:COM3?BaudRate=38400') as { baudRate: number }).baudRate, 38400);
    for (const text of ['modbus-tcp://10.0.0.5', 'modbus-tcp://plc1:5020?unit=255', 'modbus-rtu-tcp://gw:4001?unit=7', 'modbus-rtu:/dev/ttyUSB0?baud=19200&parity=even&stopBits=2&unit=3', 'modbus-tcp://[::1]']) {
      assert.equal(formatEndpoint(ok(text)), text);
    }
  });

  it('refuses bad endpoints with a message that says what is expected', function () {
    const err = (text: string) => {
      const r = parseEndpoint(text);
      assert.equal(r.ok, false, text);
      return (r as { error: string }).error;
    };
    assert.match(err(''), /an endpoint is required \(modbus-tcp:\/\/host\[:port\]/);
    assert.match(err('opc.tcp://host:4840'), /not a Modbus endpoint/);
    assert.match(err('modbus-rtu-tcp://gw'), /RTU over TCP has no standard port/);
    assert.match(err('modbus-tcp://h:70000'), /port 70000 is out of range/);
    assert.match(err('modbus-tcp://h?unit=0'), /unit 0 is the broadcast address/);
    assert.match(err('modbus-rtu:/dev/x?unit=248'), /unit 248 is out of range 1..247/);
    assert.match(err('modbus-tcp://h?unit=256'), /out of range 1..255/);
    assert.match(err('modbus-rtu:/dev/x?dataBits=7'), /8 data bits.*Modbus ASCII/);
    assert.match(err('modbus-rtu:/dev/x?parity=evn'), /parity evn is unknown/);
    assert.match(err('modbus-rtu:/dev/x?baud=fast'), /not a baud rate/);
    assert.match(err('modbus-rtu:/dev/x?speed=9600'), /unknown parameter "speed" \(known: baud, parity, dataBits, stopBits, unit\)/);
    assert.match(err('modbus-rtu:'), /the serial port is missing/);
    assert.match(err('modbus-rtu://dev/ttyUSB0'), /written without \/\//);
  });
});

describe('Modbus pair options', function () {
  it('has defaults that never read unmapped registers, and validates every option', function () {
    const d = parseModbusOptions({});
    assert.deepEqual(d, { options: { pingItem: '', maxGap: 0, maxRegisters: 125, maxBits: 2000, timeoutMs: undefined, requestDelayMs: 0, writeSingle: true, bitWrite: 'read-modify-write' }, problems: [] });
    const set = parseModbusOptions({ modbusPingItem: 'IR0', modbusMaxGap: '4', modbusMaxRegisters: 64, modbusTimeout: '1500', modbusRequestDelay: 20, modbusWriteSingle: 'false', modbusBitWrite: 'mask' });
    assert.deepEqual(set.problems, []);
    assert.deepEqual(set.options, { pingItem: 'IR0', maxGap: 4, maxRegisters: 64, maxBits: 2000, timeoutMs: 1500, requestDelayMs: 20, writeSingle: false, bitWrite: 'mask' });
    const bad = parseModbusOptions({ modbusPingItem: 'HR0:foo', modbusMaxRegisters: 200, modbusMaxGap: -1, modbusTimeout: 'soon', modbusBitWrite: 'xor', modbusWriteSingle: 'maybe' });
    assert.equal(bad.problems.length, 6, bad.problems.join('\n'));
    assert.match(bad.problems.join('\n'), /ping item: "HR0:foo": unknown data type/);
    assert.match(bad.problems.join('\n'), /registers per read must be an integer 1..125 \(got 200\)/);
  });
});
