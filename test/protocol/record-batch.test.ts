import { gunzipSync, gzipSync } from 'node:zlib';
import crc32c from 'crc-32/crc32c.js';
import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../src/errors.js';
import {
  compressBatch,
  CompressionCodec,
  RecordBatchBuilder,
  sizeOfVarint,
  stampProducerIdentity,
  sizeOfVarlong,
  writeRecord,
  type EncodableRecord,
  type RecordHeader,
} from '../../src/protocol/record-batch.js';
import { Writer } from '../../src/protocol/writer.js';
import { decodeRecordBatch } from '../support/record-batch-decoder.js';
import { seeded } from '../support/seeded.js';

const b = (s: string): Buffer => Buffer.from(s);

// The golden bytes below were derived by hand from the protocol guide's RecordBatch v2 layout;
// the CRC-32C values were computed with an independent bitwise CRC-32C (polynomial 0x82F63B78)
// that gives e3069283 for "123456789", the standard check value.
describe('RecordBatch v2 golden bytes', () => {
  it('encodes one record with key and value', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ key: b('k'), value: b('v'), headers: [], timestamp: 1000 });
    const batch = builder.seal();
    const expected =
      '0000000000000000' + // baseOffset
      '0000003a' + // batchLength: 61 - 12 + 9 = 58
      'ffffffff' + // partitionLeaderEpoch
      '02' + // magic
      '716a6189' + // crc32c(attributes..end)
      '0000' + // attributes: no compression, create time
      '00000000' + // lastOffsetDelta
      '00000000000003e8' + // baseTimestamp 1000
      '00000000000003e8' + // maxTimestamp 1000
      'ffffffffffffffff' + // producerId -1
      'ffff' + // producerEpoch -1
      'ffffffff' + // baseSequence -1
      '00000001' + // record count
      '10' + // record length varint(8)
      '00' + // attributes
      '00' + // timestampDelta 0
      '00' + // offsetDelta 0
      '026b' + // key length 1, "k"
      '0276' + // value length 1, "v"
      '00'; // no headers
    expect(batch.toString('hex')).toBe(expected);
  });

  it('encodes null keys, headers (including a null value), deltas and producer identity', () => {
    const builder = new RecordBatchBuilder(8); // tiny initial capacity: growth must not corrupt
    builder.append({ key: b('k'), value: b('v'), headers: [], timestamp: 1000 });
    builder.append({
      key: null,
      value: b('xyz'),
      headers: [
        ['h', b('1')],
        ['n', null],
      ],
      timestamp: 1500,
    });
    const batch = builder.seal({ producerId: 12345, producerEpoch: 2, baseSequence: 7 });
    const expected =
      '0000000000000000' + // baseOffset
      '0000004c' + // batchLength 76
      'ffffffff' +
      '02' +
      'e378d375' + // crc32c
      '0000' +
      '00000001' + // lastOffsetDelta 1
      '00000000000003e8' + // baseTimestamp 1000
      '00000000000005dc' + // maxTimestamp 1500
      '0000000000003039' + // producerId 12345
      '0002' + // epoch 2
      '00000007' + // baseSequence 7
      '00000002' + // 2 records
      '10000000026b027600' + // record 0 as above
      '22' + // record 1 length varint(17)
      '00' + // attributes
      'e807' + // timestampDelta varlong(500): zigzag 1000 = 0x3e8 -> e8 07
      '02' + // offsetDelta 1
      '01' + // key length -1 (null)
      '0678797a' + // value length 3, "xyz"
      '04' + // 2 headers
      '0268' +
      '0231' + // "h" = "1"
      '026e' +
      '01'; // "n" = null
    expect(batch.toString('hex')).toBe(expected);
  });
});

describe('stampProducerIdentity', () => {
  it('gives the same bytes as sealing with that identity', () => {
    const records: EncodableRecord[] = [
      { key: b('k'), value: b('v'), headers: [], timestamp: 1000 },
      { key: null, value: b('xyz'), headers: [['h', b('1')]], timestamp: 1500 },
    ];
    const identity = { producerId: 2 ** 40 + 12345, producerEpoch: 3, baseSequence: 2 ** 31 - 2 };
    const stamped = new RecordBatchBuilder();
    const direct = new RecordBatchBuilder();
    for (const r of records) {
      stamped.append(r);
      direct.append(r);
    }
    const bytes = Buffer.from(stamped.seal());
    stampProducerIdentity(bytes, identity);
    expect(bytes.toString('hex')).toBe(direct.seal(identity).toString('hex'));
    const decoded = decodeRecordBatch(bytes); // CRC verified
    expect([decoded.producerId, decoded.producerEpoch, decoded.baseSequence]).toEqual([
      2 ** 40 + 12345,
      3,
      2 ** 31 - 2,
    ]);
  });
});

describe('compressBatch', () => {
  it('keeps the header, sets the codec and length, compresses the records as one block, and re-CRCs', () => {
    const builder = new RecordBatchBuilder();
    for (let i = 0; i < 100; i++)
      builder.append({ key: null, value: b(`value ${i % 3}`), headers: [], timestamp: 7 });
    const plain = Buffer.from(builder.seal());
    const compressed = compressBatch(plain, CompressionCodec.gzip, (records) => gzipSync(records));
    expect(compressed.length).toBeLessThan(plain.length);
    expect(compressed.readInt32BE(8)).toBe(compressed.length - 12);
    expect(compressed.readInt16BE(21) & 0x07).toBe(CompressionCodec.gzip);
    expect(compressed.subarray(23, 61).equals(plain.subarray(23, 61))).toBe(true); // deltas, ids, count
    expect(compressed.readUInt32BE(17)).toBe(crc32c.buf(compressed.subarray(21)) >>> 0);
    expect(gunzipSync(compressed.subarray(61)).equals(plain.subarray(61))).toBe(true);
  });
});

describe('RecordBatchBuilder', () => {
  it('round-trips through the test decoder, including CRC verification', () => {
    const builder = new RecordBatchBuilder();
    const records: EncodableRecord[] = [];
    for (let i = 0; i < 300; i++) {
      records.push({
        key: i % 3 === 0 ? null : b(`key-${i}`),
        value: i % 5 === 0 ? null : Buffer.alloc(i, i),
        headers:
          i % 2 === 0
            ? []
            : [
                ['trace', b(`t${i}`)],
                ['trace', b('repeated')],
              ],
        // Timestamps go backwards too: deltas are signed.
        timestamp: 1_700_000_000_000 + ((i * 7919) % 1000) - 500,
      });
      builder.append(records[i] as EncodableRecord);
    }
    const decoded = decodeRecordBatch(builder.seal());
    expect(decoded.records.length).toBe(300);
    expect(decoded.lastOffsetDelta).toBe(299);
    expect(decoded.baseTimestamp).toBe(records[0]?.timestamp);
    expect(decoded.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp)));
    decoded.records.forEach((record, i) => {
      const original = records[i] as EncodableRecord;
      expect(record.offsetDelta).toBe(i);
      expect(record.timestamp).toBe(original.timestamp);
      expect(record.key).toEqual(original.key);
      expect(record.value).toEqual(original.value);
      expect(record.headers).toEqual(original.headers);
    });
  });

  it('encodes the common record (no headers) byte for byte as the general encoder does', () => {
    // The builder has a direct path for records without headers; writeRecord is the reference.
    const builder = new RecordBatchBuilder(64); // small: forces growth mid-batch
    const reference = new Writer();
    const base = 1_700_000_000_000;
    for (let i = 0; i < 400; i++) {
      const record: EncodableRecord = {
        key: i % 7 === 0 ? null : Buffer.alloc(i % 40, i), // lengths around the 16-byte loop limit
        value: i % 11 === 0 ? null : Buffer.alloc((i * 37) % 300, 255 - (i % 256)),
        headers: [],
        // Deltas of every varint size, forwards and backwards.
        timestamp: base + (i % 2 === 0 ? 1 : -1) * ((i * 1_000_003) % 0x3fffffff),
      };
      builder.append(record);
      writeRecord(reference, record, i, record.timestamp - base);
    }
    const batch = builder.seal();
    expect(batch.subarray(61).equals(reference.view())).toBe(true);
  });

  it('writes string keys and values as the bytes of their UTF-8, on both paths (seeded)', () => {
    // ASCII, Latin-1, BMP, astral (surrogate pairs) and lone surrogates (UTF-8 of U+FFFD), at
    // lengths around the 16-character loop limit; each record also once with headers (the
    // general encoder) to check both paths.
    const seed = 20261202;
    const random = seeded(seed);
    const alphabet = ['a', 'Z', '{', '~', 'é', 'ÿ', '€', '中', '😀', '\ud800', '\udfff', '\u0000'];
    const text = (length: number, asciiOnly: boolean): string => {
      let out = '';
      for (let i = 0; i < length; i++)
        out += alphabet[Math.floor(random() * (asciiOnly ? 4 : alphabet.length))] as string;
      return out;
    };
    const asStrings = new RecordBatchBuilder(64);
    const asBytes = new RecordBatchBuilder(64);
    for (let i = 0; i < 500; i++) {
      const key = i % 9 === 0 ? null : text(i % 40, i % 2 === 0);
      const value = i % 13 === 0 ? null : text((i * 37) % 300, i % 3 === 0);
      const headers: RecordHeader[] = i % 5 === 0 ? [['h', b('v')]] : [];
      asStrings.append({ key, value, headers, timestamp: 1000 + i });
      asBytes.append({
        key: key === null ? null : b(key),
        value: value === null ? null : b(value),
        headers,
        timestamp: 1000 + i,
      });
    }
    expect(asStrings.seal().equals(asBytes.seal()), `seed ${seed}`).toBe(true);
  });

  it('appendRanges writes what append writes for views of the same ranges (seeded)', () => {
    // Keys absent, empty, short (the copy loop) and long; values empty to 20 000 bytes (one-,
    // two- and three-byte length varints); timestamps up and down from the first record's.
    const seed = 20261203;
    const random = seeded(seed);
    const source = Buffer.from(Array.from({ length: 50_000 }, () => Math.floor(random() * 256)));
    const byRanges = new RecordBatchBuilder(64);
    const byViews = new RecordBatchBuilder(64);
    for (let i = 0; i < 400; i++) {
      const keyLength = i % 7 === 0 ? -1 : i % 11 === 0 ? 0 : Math.floor(random() * 40);
      const valueLength = i % 17 === 0 ? 0 : Math.floor(random() ** 3 * 20_000);
      const keyStart = Math.floor(random() * (source.length - 40));
      const valueStart = Math.floor(random() * (source.length - 20_000));
      const timestamp = 1_000_000 + Math.floor((random() - 0.3) * 100_000);
      byRanges.appendRanges(source, keyStart, keyLength, valueStart, valueLength, timestamp);
      byViews.append({
        key: keyLength === -1 ? null : source.subarray(keyStart, keyStart + keyLength),
        value: source.subarray(valueStart, valueStart + valueLength),
        headers: [],
        timestamp,
      });
    }
    expect(byRanges.recordCount).toBe(400);
    expect(byRanges.seal().equals(byViews.seal()), `seed ${seed}`).toBe(true);
  });

  it('appendRanges refuses a timestamp too far from the batch’s first', () => {
    const builder = new RecordBatchBuilder();
    const source = Buffer.from('kv');
    builder.appendRanges(source, 0, 1, 1, 1, 0);
    expect(() => {
      builder.appendRanges(source, 0, 1, 1, 1, 2 ** 31);
    }).toThrow(EncodeError);
    expect(builder.recordCount).toBe(1);
  });

  it('keeps an empty value distinct from a null one', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ key: Buffer.alloc(0), value: null, headers: [], timestamp: 1 });
    const [record] = decodeRecordBatch(builder.seal()).records;
    expect(record?.key).toEqual(Buffer.alloc(0));
    expect(record?.value).toBeNull();
  });

  it('detects a flipped bit through the CRC', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ key: null, value: b('payload'), headers: [], timestamp: 5 });
    const batch = Buffer.from(builder.seal());
    const flipAt = batch.length - 3;
    batch.writeUInt8(batch.readUInt8(flipAt) ^ 0x01, flipAt);
    expect(() => decodeRecordBatch(batch)).toThrow(/CRC/);
  });

  it('refuses to seal an empty batch or append after sealing', () => {
    expect(() => new RecordBatchBuilder().seal()).toThrow(EncodeError);
    const builder = new RecordBatchBuilder();
    builder.append({ key: null, value: null, headers: [], timestamp: 0 });
    builder.seal();
    expect(() => builder.append({ key: null, value: null, headers: [], timestamp: 0 })).toThrow(EncodeError);
    // A second seal would rewrite the bytes of the first (a retry must resend them unchanged).
    expect(() => builder.seal({ producerId: 1, producerEpoch: 0, baseSequence: 0 })).toThrow(
      /already sealed/,
    );
  });

  it('sizes varints and varlongs exactly as the writer writes them', () => {
    // Every length boundary: zigzag values 2^7k - 1 and 2^7k, from both signs.
    const edges = [7, 14, 21, 28].flatMap((bits) => [
      2 ** (bits - 1) - 1,
      2 ** (bits - 1),
      -(2 ** (bits - 1)),
      -(2 ** (bits - 1)) - 1,
    ]);
    for (const n of [0, 1, -1, 63, -64, 64, 8191, 8192, 2 ** 31 - 1, -(2 ** 31), ...edges]) {
      expect(sizeOfVarint(n), `${n}`).toBe(new Writer().varint(n).offset);
    }
    for (const n of [0, -1, 2 ** 30, -(2 ** 30) - 1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER]) {
      expect(sizeOfVarlong(n), `${n}`).toBe(new Writer().varlong(n).offset);
    }
  });
});
