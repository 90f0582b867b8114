// Known register images (hex written out by hand, not produced by the encoder) for every type and
// every byte/word order, decoded, then encoded back to the same image.
import assert from 'node:assert/strict';
import { CodecError, applyScale, bitMasks, decodeBits, decodeRegisters, encodeBits, encodeRegisters, sameValue, setRegisterBit } from '../../lib/modbus/codec';
import { type ModbusItem, parseItem } from '../../lib/rules/modbus';

function item(text: string): ModbusItem {
  const r = parseItem(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

/** [item, register image, value]: decode(image) = value and encode(value) = image. */
const IMAGES: Array<[string, number[], unknown]> = [
  ['HR0:int16', [0xffff], -1],
  ['HR0:int16', [0x8000], -32768],
  ['HR0:int16', [0x1234], 0x1234],
  ['HR0:int16:BA', [0x3412], 0x1234],
  ['HR0:int16:BA', [0xfeff], -2],
  ['HR0:uint16', [0xfffe], 65534],
  ['HR0:uint16:BA', [0xfeff], 65534],
  // 0x12345678 = 305419896 in the four orders
  ['HR0:int32', [0x1234, 0x5678], 305419896],
  ['HR0:int32:CDAB', [0x5678, 0x1234], 305419896],
  ['HR0:int32:BADC', [0x3412, 0x7856], 305419896],
  ['HR0:int32:DCBA', [0x7856, 0x3412], 305419896],
  ['HR0:int32', [0xffff, 0xfffe], -2],
  ['HR0:int32:CDAB', [0xfffe, 0xffff], -2],
  ['HR0:uint32', [0xffff, 0xffff], 4294967295],
  ['HR0:uint32:DCBA', [0x0100, 0x0000], 1],
  // float32 1.5 = 0x3FC00000, 123.456 ≈ 0x42F6E979
  ['HR0:float32', [0x3fc0, 0x0000], 1.5],
  ['HR0:float32:CDAB', [0x0000, 0x3fc0], 1.5],
  ['HR0:float32:BADC', [0xc03f, 0x0000], 1.5],
  ['HR0:float32:DCBA', [0x0000, 0xc03f], 1.5],
  ['HR0:float32', [0x42f6, 0xe979], Math.fround(123.456)],
  ['HR0:float32:CDAB', [0xe979, 0x42f6], Math.fround(123.456)],
  ['HR0:float32', [0xc1a0, 0x0000], -20],
  // float64 1 = 0x3FF0000000000000, pi = 0x400921FB54442D18
  ['HR0:float64', [0x3ff0, 0, 0, 0], 1],
  ['HR0:float64', [0x4009, 0x21fb, 0x5444, 0x2d18], Math.PI],
  ['HR0:float64:GHEFCDAB', [0x2d18, 0x5444, 0x21fb, 0x4009], Math.PI],
  ['HR0:float64:BADCFEHG', [0x0940, 0xfb21, 0x4454, 0x182d], Math.PI],
  ['HR0:float64:HGFEDCBA', [0x182d, 0x4454, 0xfb21, 0x0940], Math.PI],
  // 64-bit integers: 0x0102030405060708 is beyond 2^53: a bigint; small ones are numbers
  ['HR0:uint64', [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708n],
  ['HR0:uint64:GHEFCDAB', [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708n],
  ['HR0:uint64:BADCFEHG', [0x0201, 0x0403, 0x0605, 0x0807], 0x0102030405060708n],
  ['HR0:uint64:HGFEDCBA', [0x0807, 0x0605, 0x0403, 0x0201], 0x0102030405060708n],
  ['HR0:uint64:CDAB', [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708n],
  ['HR0:uint64', [0xffff, 0xffff, 0xffff, 0xffff], 18446744073709551615n],
  ['HR0:int64', [0xffff, 0xffff, 0xffff, 0xffff], -1],
  ['HR0:int64', [0x0003, 0x8d7e, 0xa4c6, 0x8000], 1e15],
  ['HR0:int64:DCBA', [0x0080, 0xc6a4, 0x7e8d, 0x0300], 1e15],
  ['HR0:int64', [0x8000, 0, 0, 0], -(2n ** 63n)],
  // BCD
  ['HR0:bcd16', [0x1234], 1234],
  ['HR0:bcd16:BA', [0x3412], 1234],
  ['HR0:bcd32', [0x1234, 0x5678], 12345678],
  ['HR0:bcd32:CDAB', [0x5678, 0x1234], 12345678],
  // strings: "ABC" in 4 characters, high byte first (AB) or low byte first (BA)
  ['HR0:string4', [0x4142, 0x4300], 'ABC'],
  ['HR0:string4:BA', [0x4241, 0x0043], 'ABC'],
  ['HR0:string5', [0x4142, 0x4344, 0x4500], 'ABCDE'],
  ['HR0:string3', [0x4142, 0x4300], 'ABC'],
  ['HR0:string4', [0x0000, 0x0000], ''],
  ['HR0:string2', [0xe9fc], 'éü'],
  // arrays
  ['HR0[3]:int16', [0x0001, 0xffff, 0x8000], [1, -1, -32768]],
  ['HR0[2]:float32:CDAB', [0x0000, 0x3fc0, 0x0000, 0xc1a0], [1.5, -20]],
];

describe('Modbus codec', function () {
  it('decodes known register images of every type and order', function () {
    for (const [text, image, value] of IMAGES) {
      assert.deepEqual(decodeRegisters(item(text), image), value, `${text} ${image.map((w) => w.toString(16)).join(' ')}`);
    }
  });

  it('encodes every type and order to the same images', function () {
    for (const [text, image, value] of IMAGES) {
      const it = item(text);
      if (it.type === 'string' && it.length === 3) continue; // 3 characters fill 2 registers: the tail is 0 either way
      assert.deepEqual(encodeRegisters(it, value), image, `${text} ${String(value)}`);
    }
  });

  it('decodes at an offset inside a merged read', function () {
    const words = [0xdead, 0x3fc0, 0x0000, 0x0008, 0x1234];
    assert.equal(decodeRegisters(item('HR1:float32'), words, 1), 1.5);
    assert.equal(decodeRegisters(item('HR3.3'), words, 3), true);
    assert.equal(decodeRegisters(item('HR3.2'), words, 3), false);
    assert.equal(decodeRegisters(item('HR4'), words, 4), 0x1234);
    assert.throws(() => decodeRegisters(item('HR4:int32'), words, 4), (e: unknown) => e instanceof CodecError && e.statusCode === 'BadDecodingError');
  });

  it('decodes bits of coils and discrete inputs', function () {
    const bits = [true, false, true, true, false, false, false, false];
    assert.equal(decodeBits(item('C0'), bits, 0), true);
    assert.equal(decodeBits(item('DI1'), bits, 1), false);
    assert.deepEqual(decodeBits(item('C0[4]'), bits, 0), [true, false, true, true]);
    assert.deepEqual(decodeBits(item('C2[1]'), bits, 2), [true], 'an array of 1 stays an array');
    assert.deepEqual(encodeBits(item('C0[4]'), [1, 0, 'true', false]), [true, false, true, false]);
    assert.deepEqual(encodeBits(item('C0'), 'on'), [true]);
    assert.throws(() => encodeBits(item('C0[4]'), [true]), /an array of 1 for 4 coils/);
    assert.throws(() => encodeBits(item('C0'), 'maybe'), /"maybe" is not a boolean/);
  });

  it('scales on read (factor, divisor, offset) and unscales on write', function () {
    assert.equal(decodeRegisters(item('HR0:int16*0.1'), [0xfe70]), -40, '-400 × 0.1');
    assert.equal(decodeRegisters(item('HR0:int16*0.1'), [123]), 12.3, 'exactly 12.3, not 12.300000000000001');
    assert.equal(decodeRegisters(item('HR0/10+5'), [123]), 17.3);
    assert.equal(decodeRegisters(item('HR0*2-1'), [10]), 19);
    assert.equal(decodeRegisters(item('HR0:uint64*0.5'), [0, 0, 0, 9]), 4.5);
    assert.deepEqual(decodeRegisters(item('HR0[2]:int16*0.1'), [10, 20]), [1, 2]);
    assert.deepEqual(encodeRegisters(item('HR0:int16*0.1'), -40), [0xfe70]);
    assert.deepEqual(encodeRegisters(item('HR0/10+5'), 17.3), [123]);
    assert.deepEqual(encodeRegisters(item('HR0:float32*0.1'), 0.15), encodeRegisters(item('HR0:float32'), 1.5));
    assert.equal(applyScale(item('HR0*0.01'), 1234), 12.34);
  });

  it('reads a bit in a register and computes the bit writes', function () {
    assert.equal(decodeRegisters(item('HR0.15'), [0x8000]), true);
    assert.equal(decodeRegisters(item('HR0.0'), [0x8000]), false);
    assert.equal(setRegisterBit(0x00f0, 0, true), 0x00f1);
    assert.equal(setRegisterBit(0x00f1, 4, false), 0x00e1);
    assert.equal(setRegisterBit(0x0000, 15, true), 0x8000);
    assert.deepEqual(bitMasks(3, true), { and: 0xfff7, or: 0x0008 });
    assert.deepEqual(bitMasks(3, false), { and: 0xfff7, or: 0 });
  });

  it('refuses values that do not fit, with the status an operator can act on', function () {
    const refuse = (text: string, value: unknown, status: string, message: RegExp) =>
      assert.throws(
        () => encodeRegisters(item(text), value, text),
        (e: unknown) => e instanceof CodecError && e.statusCode === status && message.test(e.message),
        `${text} ${String(value)}`,
      );
    refuse('HR0:int16', 32768, 'BadOutOfRange', /write to HR0:int16: 32768 is out of range for int16 \(-32768..32767\)/);
    refuse('HR0:uint16', -1, 'BadOutOfRange', /out of range for uint16/);
    refuse('HR0:uint32', 2 ** 32, 'BadOutOfRange', /out of range for uint32/);
    refuse('HR0:int16*0.1', 4000, 'BadOutOfRange', /raw 40000 after removing the scale/);
    refuse('HR0:bcd16', 10000, 'BadOutOfRange', /0..9999/);
    refuse('HR0:uint64', -1n, 'BadOutOfRange', /out of range for uint64/);
    refuse('HR0:int64', 2n ** 63n, 'BadOutOfRange', /out of range for int64/);
    refuse('HR0:float32', 1e39, 'BadOutOfRange', /out of range for float32/);
    refuse('HR0:int16', 'twelve', 'BadTypeMismatch', /"twelve" is not a number/);
    refuse('HR0:int16', Number.NaN, 'BadTypeMismatch', /NaN/);
    refuse('HR0:string4', 'ABCDE', 'BadOutOfRange', /5 characters, the item holds 4/);
    refuse('HR0:string4', 'A€', 'BadOutOfRange', /not a single byte/);
    refuse('HR0:string4', 12, 'BadTypeMismatch', /is not a string/);
    refuse('HR0[3]:int16', [1, 2], 'BadTypeMismatch', /an array of 2 for 3 elements/);
    refuse('HR0[3]:int16', 5, 'BadTypeMismatch', /not an array of 3 int16/);
    refuse('HR0:int16', [1, 2], 'BadTypeMismatch', /an array of 2 for a single int16/);
    assert.throws(() => decodeRegisters(item('HR0:bcd16'), [0x12a4]), (e: unknown) => e instanceof CodecError && /not BCD/.test(e.message));
  });

  it('takes numbers from flow values: numeric strings, booleans, bigints, rounding for integers', function () {
    assert.deepEqual(encodeRegisters(item('HR0:int16'), '-12'), [0xfff4]);
    assert.deepEqual(encodeRegisters(item('HR0:int16'), true), [1]);
    assert.deepEqual(encodeRegisters(item('HR0:int16'), 2.6), [3]);
    assert.deepEqual(encodeRegisters(item('HR0:uint64'), '18446744073709551615'), [0xffff, 0xffff, 0xffff, 0xffff]);
    assert.deepEqual(encodeRegisters(item('HR0:int32'), 7n), [0, 7]);
  });

  it('compares values for change detection (arrays, NaN, bigints)', function () {
    assert.equal(sameValue([1, 2], [1, 2]), true);
    assert.equal(sameValue([1, 2], [1, 3]), false);
    assert.equal(sameValue(Number.NaN, Number.NaN), true);
    assert.equal(sameValue(2n ** 60n, 2n ** 60n), true);
    assert.equal(sameValue('a', 'a'), true);
    assert.equal(sameValue(null, 0), false);
  });
});
