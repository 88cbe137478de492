import crc32cJs from 'crc-32/crc32c.js';
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { crc32c, crc32cPatch, crc32cPure } from '../../src/protocol/crc32c.js';
import {
  compressBatch,
  CompressionCodec,
  RecordBatchBuilder,
  stampProducerIdentity,
} from '../../src/protocol/record-batch.js';
import { seeded, seededBytes as randomBytes } from '../support/seeded.js';

// The independent reference is the crc-32 package (SheetJS), and @node-rs/crc32 where it loads.
const reference = (data: Uint8Array): number => crc32cJs.buf(data) >>> 0;

const SEED = Number(process.env.EKAF_CRC_SEED ?? 20261202);

describe('crc32c', () => {
  it('gives the standard check value, pure and as chosen', () => {
    for (const crc of [crc32c, crc32cPure]) {
      expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
      expect(crc(Buffer.alloc(0))).toBe(0);
      // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of ones, ascending, descending.
      expect(crc(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
      expect(crc(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
      expect(crc(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
      expect(crc(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
    }
  });

  it(`pure: every length 0..300 at every offset 0..7 of a buffer, random bytes (seed ${SEED})`, () => {
    console.log(`crc32c seed ${SEED} (EKAF_CRC_SEED=${SEED} replays it)`);
    const random = seeded(SEED);
    const data = randomBytes(random, 320);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 300; length++) {
        const view = data.subarray(offset, offset + length);
        expect(crc32cPure(view), `offset ${offset}, length ${length}`).toBe(reference(view));
      }
    }
  });

  it(`pure and chosen: the word-wise path, lengths around 512 and up to 1 MiB, unaligned (seed ${SEED})`, () => {
    const random = seeded(SEED + 1);
    const data = randomBytes(random, (1 << 20) + 64);
    const lengths = [496, 511, 512, 513, 527, 528, 1000, 4096, 65_535, 65_536, 65_537, 1 << 20];
    for (let k = 0; k < 40; k++) lengths.push(512 + Math.floor(random() * 200_000));
    for (const length of lengths) {
      for (const offset of [0, 1, 2, 3, 5, 63]) {
        const view = data.subarray(offset, offset + length);
        const expected = reference(view);
        expect(crc32cPure(view), `pure, offset ${offset}, length ${length}`).toBe(expected);
        expect(crc32c(view), `chosen, offset ${offset}, length ${length}`).toBe(expected);
      }
    }
  });

  it('reads a view into a larger buffer, not the buffer around it', () => {
    const whole = Buffer.from('xx123456789yy');
    expect(crc32cPure(whole.subarray(2, 11))).toBe(0xe3069283);
    // An Int32Array-aligned view of a long input inside a buffer with bytes on either side.
    const long = Buffer.alloc(4096 + 8, 0xab);
    const inner = long.subarray(4, 4 + 4096);
    expect(crc32cPure(inner)).toBe(reference(Buffer.from(inner)));
  });
});

describe('crc32cPatch', () => {
  it(`equals a full recomputation after changing a span anywhere (seed ${SEED})`, () => {
    const random = seeded(SEED + 2);
    const int = (below: number): number => Math.floor(random() * below);
    for (let trial = 0; trial < 400; trial++) {
      const length = 1 + int(trial % 4 === 0 ? 200_000 : 300);
      const message = randomBytes(random, length);
      const at = int(length);
      const span = Math.min(length - at, 1 + int(40));
      const before = Buffer.from(message.subarray(at, at + span));
      const crc = reference(message);
      for (let i = 0; i < span; i++) message[at + i] = int(256);
      const patched = crc32cPatch(crc, before, message.subarray(at, at + span), length - at - span);
      expect(patched, `length ${length}, span ${span} at ${at}`).toBe(reference(message));
    }
  });
});

describe('stamping a batch patches its CRC', () => {
  const CRC_OFFSET = 17;
  const crcOf = (batch: Buffer): number => reference(batch.subarray(21));

  it.each([
    { records: 3, compressed: false, transactional: false },
    { records: 3000, compressed: false, transactional: true },
    { records: 3000, compressed: true, transactional: false },
    { records: 20, compressed: true, transactional: true },
  ])('$records records, compressed $compressed, transactional $transactional', (c) => {
    const random = seeded(SEED + 3);
    const builder = new RecordBatchBuilder();
    for (let i = 0; i < c.records; i++)
      builder.append({
        key: null,
        value: randomBytes(random, 1 + (i % 50)),
        headers: [],
        timestamp: 1000 + i,
      });
    let batch: Buffer = Buffer.from(builder.seal());
    if (c.compressed) batch = compressBatch(batch, CompressionCodec.gzip, (records) => gzipSync(records));
    const identity = { producerId: 2 ** 40 + 7, producerEpoch: 9, baseSequence: 2 ** 31 - 5 };
    stampProducerIdentity(batch, identity, c.transactional);
    expect(batch.readUInt32BE(CRC_OFFSET)).toBe(crcOf(batch));
    // Stamped again (a new epoch after a reset): patched from the first stamp's CRC.
    stampProducerIdentity(batch, { ...identity, producerEpoch: 10, baseSequence: 0 }, c.transactional);
    expect(batch.readUInt32BE(CRC_OFFSET)).toBe(crcOf(batch));
    expect(batch.readInt16BE(51)).toBe(10);
  });
});
