import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';
import {
  decodeEntry,
  decodeSegmentHeader,
  encodeEntries,
  encodeSegmentHeader,
  scanEntries,
  SEGMENT_HEADER_SIZE,
} from '../../src/spool/spool-format.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('spool segment header', () => {
  it('is the magic, the version, the base id and a CRC-32C, byte for byte', () => {
    const header = encodeSegmentHeader(1234);
    const body = Buffer.concat([
      Buffer.from('EKAFSPL1', 'latin1'), // magic
      hex('00000001'), // format version 1
      hex('4093480000000000'), // base id 1234, as a float64
    ]);
    expect(header.subarray(0, 20)).toEqual(body);
    expect(header.readUInt32BE(20)).toBe(crc32c(body));
    expect(header.length).toBe(SEGMENT_HEADER_SIZE);
    expect(decodeSegmentHeader(header)).toEqual({ baseId: 1234 });
  });

  it('names what is wrong with a header that is not one', () => {
    const header = encodeSegmentHeader(7);
    expect(decodeSegmentHeader(header.subarray(0, 10))).toEqual({ damage: 'truncated segment header' });
    expect(decodeSegmentHeader(Buffer.alloc(24))).toEqual({ damage: 'not a spool segment (bad magic)' });
    const flipped = Buffer.from(header);
    flipped[15] = (flipped[15] ?? 0) ^ 1;
    expect(decodeSegmentHeader(flipped)).toEqual({ damage: 'segment header CRC mismatch' });
  });
});

describe('spool entries', () => {
  const record = {
    key: Buffer.from('k'),
    value: Buffer.from('vv'),
    headers: [['h', Buffer.from('x')] as const, ['n', null] as const],
    partition: 2,
    timestamp: 1_700_000_000_000,
  };

  it('store a string key and value as their UTF-8, the same bytes as Buffers give', () => {
    for (const [key, value] of [
      ['k', 'vv'],
      ['clé', '{"v":"€😀"}'],
      ['', 'x'.repeat(300)],
    ] as const) {
      const asStrings = encodeEntries('t', [{ ...record, key, value }], 5);
      expect(asStrings).toEqual(
        encodeEntries('t', [{ ...record, key: Buffer.from(key), value: Buffer.from(value) }], 5),
      );
      expect(decodeEntry(asStrings.subarray(8)).record.value?.toString()).toBe(value);
    }
  });

  it('encode a record byte for byte: framing, kind, times, partition, topic, key, value, headers', () => {
    const entry = encodeEntries('t', [record], 1_700_000_000_500);
    const expected = Buffer.concat([
      hex('01'), // kind: record
      f64(1_700_000_000_500), // acceptedAt
      f64(1_700_000_000_000), // timestamp
      hex('00000002'), // partition 2
      hex('0001'),
      Buffer.from('t'), // topic
      hex('00000001'),
      Buffer.from('k'), // key
      hex('00000002'),
      Buffer.from('vv'), // value
      hex('00000002'), // two headers
      hex('0001'),
      Buffer.from('h'),
      hex('00000001'),
      Buffer.from('x'),
      hex('0001'),
      Buffer.from('n'),
      hex('ffffffff'), // null header value
    ]);
    expect(entry.readUInt32BE(0)).toBe(expected.length);
    expect(entry.readUInt32BE(4)).toBe(crc32c(expected));
    expect(entry.subarray(8)).toEqual(expected);
    expect(decodeEntry(entry.subarray(8))).toEqual({
      topic: 't',
      acceptedAt: 1_700_000_000_500,
      record: {
        ...record,
        headers: [
          ['h', Buffer.from('x')],
          ['n', null],
        ],
      },
    });
  });

  it('round-trip null keys and values, empty values, UTF-8 topics and header names, several records', () => {
    const records = [
      { key: null, value: null, headers: [], partition: -1, timestamp: 1 },
      {
        key: Buffer.alloc(0),
        value: Buffer.from('é'),
        headers: [['ключ', Buffer.from([0, 255])] as const],
        partition: 0,
        timestamp: 2,
      },
    ];
    const bytes = encodeEntries('topic.ü', records, 5, (i) => 10 + i);
    const scan = scanEntries(bytes);
    expect(scan).toMatchObject({ end: bytes.length, damage: null, incomplete: false });
    const decoded = scan.entries.map((e) =>
      decodeEntry(bytes.subarray(e.offset + 8, e.offset + 8 + e.length)),
    );
    expect(decoded.map((d) => d.record.partition)).toEqual([10, 11]);
    expect(decoded[0]?.record).toMatchObject({ key: null, value: null, headers: [] });
    expect(decoded[1]?.record).toMatchObject({ key: Buffer.alloc(0), value: Buffer.from('é') });
    expect(decoded[1]?.record.headers).toEqual([['ключ', Buffer.from([0, 255])]]);
    expect(decoded[1]?.topic).toBe('topic.ü');
  });

  it('scan: a cut-short last entry is incomplete; a flipped bit or an impossible length is damage', () => {
    const bytes = encodeEntries('t', [record, record, record], 0);
    const one = bytes.length / 3;
    expect(scanEntries(bytes.subarray(0, one * 2 + 5))).toMatchObject({
      end: one * 2,
      damage: null,
      incomplete: true,
    });
    const flipped = Buffer.from(bytes);
    flipped[one + 12] = (flipped[one + 12] ?? 0) ^ 0x10;
    expect(scanEntries(flipped)).toMatchObject({
      entries: [{ offset: 0 }],
      end: one,
      damage: { offset: one, reason: 'entry CRC mismatch' },
    });
    const zeroed = Buffer.from(bytes);
    zeroed.writeUInt32BE(0, one * 2);
    expect(scanEntries(zeroed).damage).toEqual({ offset: one * 2, reason: 'impossible entry length 0' });
  });

  it('decode refuses a payload whose CRC is right but whose content is not', () => {
    expect(() => decodeEntry(Buffer.from([2]))).toThrow(RangeError);
    const entry = encodeEntries('t', [record], 0).subarray(8);
    expect(() => decodeEntry(Buffer.concat([entry, Buffer.from([0])]))).toThrow(/left over/);
    expect(() => decodeEntry(entry.subarray(0, entry.length - 3))).toThrow(/ends early/);
  });
});

function f64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleBE(value);
  return out;
}
