// The pure snappy and LZ4 compressors, judged by independent decompressors: the native snappy
// (Google's C++ snappy) and lz4-napi (lz4_flex) packages. Every output must decompress to the
// input, byte for byte, on random (incompressible) and compressible inputs of sizes around the
// format's boundaries: 0, 1, 15/16 (literal-length nibbles), 60-64 (snappy literal tags), 64 KiB
// (LZ4 block size, snappy offsets), 4 MiB.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lz4FrameCompressInto, lz4FrameMaxLength, LZ4 } from '../../src/protocol/codecs/lz4.js';
import { SNAPPY, snappyCompressInto, snappyMaxCompressedLength } from '../../src/protocol/codecs/snappy.js';
import { pureCodec } from '../../src/protocol/codecs/accelerator.js';
import { xxhash32 } from '../../src/protocol/codecs/xxhash32.js';
import { seeded } from '../support/seeded.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { uncompressSync(data: Buffer): Buffer };
const lz4 = require('lz4-napi') as { decompressFrameSync(data: Buffer): Buffer };

const SEED = Number(process.env.EKAF_CODEC_SEED ?? 20261202);
const KIB = 1024;
const SIZES = [
  0,
  1,
  2,
  3,
  4,
  5,
  11,
  12,
  13,
  15,
  16,
  17,
  31,
  32,
  59,
  60,
  61,
  64,
  65,
  255,
  256,
  257,
  2047,
  2048,
  2049,
  65_535,
  65_536,
  65_537,
  2 * 65_536 + 13,
  256 * KIB,
  4 * KIB * KIB,
];

type Kind = 'random' | 'text' | 'runs' | 'mixed';
const KINDS: Kind[] = ['random', 'text', 'runs', 'mixed'];
const WORDS = ['kafka', 'batch', 'record', '"user":', '"page_view"', '{"id":', ',', ' ', '\n', '/products/'];

/** Inputs of a kind: random bytes; JSON-like text; long runs (overlapping copies); a mix. */
function input(random: () => number, kind: Kind, size: number): Buffer {
  const out = Buffer.alloc(size);
  let i = 0;
  while (i < size) {
    const roll = kind === 'mixed' ? random() : kind === 'random' ? 0 : kind === 'text' ? 0.5 : 0.9;
    if (roll < 0.34) {
      const n = Math.min(size - i, 1 + Math.floor(random() * 300));
      for (let k = 0; k < n; k++) out[i++] = Math.floor(random() * 256);
    } else if (roll < 0.8) {
      const word = Buffer.from(WORDS[Math.floor(random() * WORDS.length)] as string);
      i += word.copy(out, i);
      if (random() < 0.3 && i < size) out[i++] = 0x30 + Math.floor(random() * 10);
    } else {
      const n = Math.min(size - i, 1 + Math.floor(random() * 2000));
      out.fill(Math.floor(random() * 4), i, i + n);
      i += n;
    }
  }
  return out;
}

function pureSnappy(data: Buffer): Buffer {
  const out = Buffer.alloc(snappyMaxCompressedLength(data.length));
  return out.subarray(0, snappyCompressInto(data, out));
}

function pureLz4(data: Buffer): Buffer {
  const out = Buffer.alloc(lz4FrameMaxLength(data.length));
  return out.subarray(0, lz4FrameCompressInto(data, out));
}

describe(`pure compressors, read back by the native decompressors (seed ${SEED})`, () => {
  console.log(`codec seed ${SEED} (EKAF_CODEC_SEED=${SEED} replays it)`);

  it.each(KINDS)('snappy, %s inputs of every boundary size', (kind) => {
    const random = seeded(SEED);
    for (const size of SIZES) {
      const data = input(random, kind, size);
      const compressed = pureSnappy(data);
      expect(compressed.length, `size ${size}`).toBeLessThanOrEqual(snappyMaxCompressedLength(size));
      expect(snappy.uncompressSync(compressed).equals(data), `${kind}, size ${size}`).toBe(true);
      if (kind === 'runs' && size >= 4 * KIB) expect(compressed.length).toBeLessThan(size / 4);
    }
  });

  it.each(KINDS)('LZ4 frame, %s inputs of every boundary size', (kind) => {
    const random = seeded(SEED + 1);
    for (const size of SIZES) {
      const data = input(random, kind, size);
      const compressed = pureLz4(data);
      expect(compressed.length, `size ${size}`).toBeLessThanOrEqual(lz4FrameMaxLength(size));
      expect(lz4.decompressFrameSync(compressed).equals(data), `${kind}, size ${size}`).toBe(true);
      if (kind === 'runs' && size >= 4 * KIB) expect(compressed.length).toBeLessThan(size / 4);
    }
  });

  it('stores an incompressible LZ4 block as it is, and a random 4 MiB grows by little', () => {
    const data = input(seeded(SEED + 2), 'random', 4 * KIB * KIB);
    const compressed = pureLz4(data);
    expect(compressed.length).toBeLessThan(data.length + 64 * 4 + 16);
    expect(compressed.readUInt32LE(7) & 0x80000000).not.toBe(0); // the first block: stored
    expect(lz4.decompressFrameSync(compressed).equals(data)).toBe(true);
  });

  it('writes the frame header the Java producer writes (independent 64 KiB blocks, no checksums)', () => {
    expect(pureLz4(Buffer.alloc(0)).toString('hex')).toBe('04224d18604082' + '00000000');
  });

  it('the codecs hand back a reused buffer: each result is right until the next call', () => {
    const random = seeded(SEED + 3);
    for (const codec of [pureCodec(SNAPPY, 'test'), pureCodec(LZ4, 'test')]) {
      const decompress = (data: Buffer): Buffer =>
        codec.name === 'snappy' ? snappy.uncompressSync(data) : lz4.decompressFrameSync(data);
      for (const size of [100_000, 10, 70_000, 0, 5_000]) {
        const data = input(random, 'mixed', size);
        const compressed = Buffer.from(codec.compress(data));
        expect(decompress(compressed).equals(data), `${codec.name}, size ${size}`).toBe(true);
      }
    }
  });
});

describe('xxHash32 (the LZ4 frame header checksum)', () => {
  it('gives the reference values', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
    expect((xxhash32(Buffer.from([0x60, 0x40])) >>> 8) & 0xff).toBe(0x82);
  });
});
