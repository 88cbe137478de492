import Long from 'long';
import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../src/errors.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

const hex = (w: Writer): string => w.view().toString('hex');
const reader = (h: string): Reader => new Reader(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('fixed-width integers', () => {
  it('writes big-endian two-complement bytes', () => {
    const w = new Writer(1); // also exercises growth
    w.int8(-1).int16(0x1234).int32(-2).uint32(0xdeadbeef).bool(true).bool(false);
    expect(hex(w)).toBe('ff' + '1234' + 'fffffffe' + 'deadbeef' + '01' + '00');
  });

  it('writes int64 from numbers and Longs, reads Longs', () => {
    const w = new Writer();
    w.int64(-1).int64(0x0102030405).int64(Long.fromString('9223372036854775807'));
    expect(hex(w)).toBe('ffffffffffffffff' + '0000000102030405' + '7fffffffffffffff');
    const r = new Reader(w.view());
    expect(r.int64().toNumber()).toBe(-1);
    expect(r.int64().toNumber()).toBe(0x0102030405);
    expect(r.int64().toString()).toBe('9223372036854775807');
    r.expectEnd('test');
  });

  it('round-trips every width at its limits', () => {
    const w = new Writer();
    w.int8(-128).int8(127).int16(-32768).int16(32767).int32(-2147483648).int32(2147483647);
    const r = new Reader(w.view());
    expect([r.int8(), r.int8(), r.int16(), r.int16(), r.int32(), r.int32()]).toEqual([
      -128, 127, -32768, 32767, -2147483648, 2147483647,
    ]);
  });
});

describe('varints (protocol guide examples and zigzag)', () => {
  // Unsigned LEB128: 300 = 0b1_0010_1100 -> ac 02.
  it('encodes unsigned varints', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [0xffffffff, 'ffffffff0f'],
    ];
    for (const [value, bytes] of cases) {
      expect(hex(new Writer().unsignedVarint(value)), `${value}`).toBe(bytes);
      expect(reader(bytes).unsignedVarint()).toBe(value);
    }
  });

  // Zigzag maps 0,-1,1,-2,2 to 0,1,2,3,4.
  it('encodes signed varints with zigzag', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [-2, '03'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [2147483647, 'feffffff0f'],
      [-2147483648, 'ffffffff0f'],
    ];
    for (const [value, bytes] of cases) {
      expect(hex(new Writer().varint(value)), `${value}`).toBe(bytes);
      expect(reader(bytes).varint()).toBe(value);
    }
  });

  it('encodes varlongs over the whole int64 range', () => {
    const cases: [Long | number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [2 ** 31, '8080808010'],
      [-(2 ** 31) - 1, '8180808010'],
      // zigzag(1.7e12) = 3.4e12 = 0x317_9FCA_D000 → 7-bit groups from the low end.
      [1_700_000_000_000, '80a0abfef962'],
      [Long.MAX_VALUE, 'feffffffffffffffff01'],
      [Long.MIN_VALUE, 'ffffffffffffffffff01'],
    ];
    for (const [value, bytes] of cases) {
      expect(hex(new Writer().varlong(value)), value.toString()).toBe(bytes);
      expect(reader(bytes).varlong().toString()).toBe(value.toString());
    }
  });

  it('rejects a varint longer than 5 bytes', () => {
    expect(() => reader('ffffffffff01').unsignedVarint()).toThrow(DecodeError);
  });
});

describe('strings, bytes, arrays', () => {
  it('writes classic and compact strings', () => {
    expect(hex(new Writer().string('ab'))).toBe('00026162');
    expect(hex(new Writer().nullableString(null))).toBe('ffff');
    expect(hex(new Writer().compactString('ab'))).toBe('036162');
    expect(hex(new Writer().compactNullableString(null))).toBe('00');
    expect(hex(new Writer().compactString(''))).toBe('01');
    expect(hex(new Writer().string('é'))).toBe('0002c3a9'); // length in bytes, not characters
  });

  it('writes classic and compact bytes', () => {
    const b = Buffer.from([1, 2]);
    expect(hex(new Writer().bytes(b))).toBe('000000020102');
    expect(hex(new Writer().nullableBytes(null))).toBe('ffffffff');
    expect(hex(new Writer().compactBytes(b))).toBe('030102');
    expect(hex(new Writer().compactNullableBytes(null))).toBe('00');
  });

  it('writes classic, nullable and compact arrays', () => {
    const int32 = (w: Writer, n: number): void => void w.int32(n);
    expect(hex(new Writer().array([7], int32))).toBe('00000001' + '00000007');
    expect(hex(new Writer().array(null, int32))).toBe('ffffffff');
    expect(hex(new Writer().compactArray([7], int32))).toBe('02' + '00000007');
    expect(hex(new Writer().compactArray(null, int32))).toBe('00');
  });

  it('round-trips every string, bytes and array form', () => {
    const w = new Writer();
    w.string('héllo').nullableString(null).compactString('x').compactNullableString(null);
    w.bytes(Buffer.from('ab')).nullableBytes(null).compactBytes(Buffer.alloc(0)).compactNullableBytes(null);
    w.array([1, 2], (x, n) => x.int32(n)).compactArray(['a'], (x, s) => x.compactString(s));
    w.array(null, (x, n: number) => x.int32(n)).compactArray(null, (x, n: number) => x.int32(n));
    const r = new Reader(w.view());
    expect(r.string()).toBe('héllo');
    expect(r.nullableString()).toBeNull();
    expect(r.compactString()).toBe('x');
    expect(r.compactNullableString()).toBeNull();
    expect(r.bytes().toString()).toBe('ab');
    expect(r.nullableBytes()).toBeNull();
    expect(r.compactBytes().length).toBe(0);
    expect(r.compactNullableBytes()).toBeNull();
    expect(r.array((x) => x.int32())).toEqual([1, 2]);
    expect(r.compactArray((x) => x.compactString())).toEqual(['a']);
    expect(r.nullableArray((x) => x.int32())).toBeNull();
    expect(r.compactNullableArray((x) => x.int32())).toBeNull();
    r.expectEnd('round trip');
  });

  it('rejects a string too long for an int16 length', () => {
    expect(() => new Writer().string('x'.repeat(0x8000))).toThrow(EncodeError);
  });

  it('rejects null where the field is not nullable', () => {
    expect(() => reader('ffff').string()).toThrow(DecodeError);
    expect(() => reader('00').compactString()).toThrow(DecodeError);
    expect(() => reader('ffffffff').array((r) => r.int8())).toThrow(DecodeError);
  });
});

describe('UUID and tagged fields', () => {
  it('writes a UUID as 16 raw bytes', () => {
    const id = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(hex(new Writer().uuid(id))).toBe('00112233445566778899aabbccddeeff');
    expect(reader('00112233445566778899aabbccddeeff').uuid().equals(id)).toBe(true);
    expect(() => new Writer().uuid(Buffer.alloc(15))).toThrow(EncodeError);
  });

  it('writes an empty tagged section as one zero byte and tags in order', () => {
    expect(hex(new Writer().taggedFields())).toBe('00');
    const w = new Writer().taggedFields([
      [0, Buffer.from([0xaa])],
      [3, Buffer.from([0xbb, 0xcc])],
    ]);
    // count 2, tag 0 size 1 aa, tag 3 size 2 bb cc
    expect(hex(w)).toBe('02' + '0001aa' + '0302bbcc');
    const fields = new Reader(w.view()).taggedFields();
    expect([...fields.keys()]).toEqual([0, 3]);
    expect(fields.get(3)?.toString('hex')).toBe('bbcc');
    expect(() =>
      new Writer().taggedFields([
        [2, Buffer.alloc(0)],
        [1, Buffer.alloc(0)],
      ]),
    ).toThrow(EncodeError);
  });
});

describe('reading past the frame', () => {
  it('throws a DecodeError with the offset, never reads garbage', () => {
    const r = reader('0001 02');
    r.int16();
    try {
      r.int32();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).offset).toBe(2);
      expect((error as DecodeError).code).toBe('ERR_DECODE');
    }
  });

  it('respects an end bound inside a larger buffer', () => {
    const r = new Reader(Buffer.from('0000000100000002', 'hex'), 0, 4);
    expect(r.int32()).toBe(1);
    expect(() => r.int32()).toThrow(expect.objectContaining({ code: 'ERR_DECODE', offset: 4 }));
  });

  it('refuses a string or bytes length beyond the frame', () => {
    expect(() => reader('0005 6162').string()).toThrow(DecodeError);
    expect(() => reader('00000005 6162').bytes()).toThrow(DecodeError);
    expect(() => reader('06 6162').compactString()).toThrow(DecodeError);
  });

  it('refuses an array count that cannot fit, before allocating', () => {
    expect(() => reader('7fffffff 00').array((r) => r.int8())).toThrow(
      expect.objectContaining({
        code: 'ERR_DECODE',
        message: expect.stringContaining('cannot fit') as string,
      }),
    );
  });

  it('reports trailing bytes', () => {
    const r = reader('0001 ff');
    r.int16();
    expect(() => {
      r.expectEnd('Thing');
    }).toThrow(
      expect.objectContaining({
        code: 'ERR_DECODE',
        message: expect.stringContaining('Thing: 1 unexpected trailing bytes') as string,
      }),
    );
  });
});
