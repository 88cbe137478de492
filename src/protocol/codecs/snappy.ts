import { CompressionCodec } from '../record-batch.js';
import type { AcceleratedCodecSpec } from './accelerator.js';
import { copyBytes, hash4, HASH_BITS, matchEnd, read32, viewOf } from './scratch.js';

/**
 * snappy for Kafka: one raw snappy block (what `snappy.compressSync` writes and librdkafka sends),
 * which Kafka's snappy-java reader and librdkafka both take as well as the xerial-framed stream
 * the Java producer writes. The native `snappy` package where it loads; otherwise the pure
 * compressor below, written from snappy's format description.
 *
 * The format: the uncompressed length as a varint, then elements whose tag byte's low 2 bits
 * say what follows:
 *   00 literal: length - 1 in the upper 6 bits if under 60, else 60..63 = 1..4 bytes of
 *      length - 1 (little-endian) follow; then the bytes;
 *   01 copy, length 4..11 and offset under 2048: bits 2-4 = length - 4, bits 5-7 = offset >> 8,
 *      then one byte of offset;
 *   10 copy, length 1..64: bits 2-7 = length - 1, then the offset in 2 bytes (little-endian);
 *   11 copy with a 4-byte offset (never written here: offsets stay under 64 KiB).
 */
export const SNAPPY: AcceleratedCodecSpec = {
  name: 'snappy',
  id: CompressionCodec.snappy,
  pkg: 'snappy',
  nativeCompress: (module) => {
    const native = module as { compressSync(data: Buffer): Buffer };
    return (data) => native.compressSync(data);
  },
  maxLength: (length) => snappyMaxCompressedLength(length),
  compressInto: (input, out) => snappyCompressInto(input, out),
};

/** The most bytes snappyCompressInto writes for an input of `length` bytes. */
export function snappyMaxCompressedLength(length: number): number {
  // Worst case, every 6 input bytes cost 7 (a 1-byte literal then a copy of 4-5 bytes, or the
  // like), plus the length varint and a literal header.
  return 32 + length + Math.ceil(length / 6);
}

/** Offsets are kept under 2^16 so that every copy takes the 1- or 2-byte offset forms. */
const MAX_OFFSET = 0xffff;

/**
 * Positions of earlier 4-byte sequences by hash. Never cleared: a stale entry (from an earlier
 * input) is only a candidate, checked against the bytes before it is used, and is used only if
 * it lies before the current position, so it can make a match missed but never a wrong one.
 */
const table = new Int32Array(1 << HASH_BITS);

/** Compresses `input` into `out` (at least snappyMaxCompressedLength bytes); returns the length. */
export function snappyCompressInto(input: Uint8Array, out: Uint8Array): number {
  const n = input.length;
  let o = writeVarint(out, 0, n);
  let literalStart = 0;
  let i = 0;
  // After 32 misses in a row the search steps 2 bytes, after 64 3, ...: incompressible input is
  // crossed quickly, and the first match resets the pace.
  let misses = 32;
  const lastSearch = n - 4;
  const view = viewOf(input);
  while (i <= lastSearch) {
    const sequence = read32(view, i);
    const h = hash4(sequence);
    let candidate = table[h] as number;
    table[h] = i;
    if (candidate >= i || i - candidate > MAX_OFFSET || read32(view, candidate) !== sequence) {
      i += misses++ >> 5;
      continue;
    }
    misses = 32;
    let start = i;
    // Back over pending literal bytes that match too.
    while (start > literalStart && candidate > 0 && input[start - 1] === input[candidate - 1]) {
      start--;
      candidate--;
    }
    const end = matchEnd(input, view, candidate + (i + 4 - start), i + 4, n);
    if (start > literalStart) o = writeLiteral(input, literalStart, start - literalStart, out, o);
    o = writeCopy(out, o, start - candidate, end - start);
    // The position just before the match's end is a likely start of the next one.
    if (end - 2 > i && end - 2 <= lastSearch) table[hash4(read32(view, end - 2))] = end - 2;
    i = end;
    literalStart = end;
  }
  if (literalStart < n) o = writeLiteral(input, literalStart, n - literalStart, out, o);
  return o;
}

function writeVarint(out: Uint8Array, o: number, value: number): number {
  while (value >= 0x80) {
    out[o++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[o++] = value;
  return o;
}

function writeLiteral(input: Uint8Array, from: number, length: number, out: Uint8Array, o: number): number {
  const n = length - 1;
  if (n < 60) {
    out[o++] = n << 2;
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[o++] = (59 + bytes) << 2;
    for (let k = 0; k < bytes; k++) out[o++] = (n >>> (8 * k)) & 0xff;
  }
  copyBytes(input, from, out, o, length);
  return o + length;
}

/** A copy of any length from 4 on, as elements of at most 64 bytes. */
function writeCopy(out: Uint8Array, o: number, offset: number, length: number): number {
  // Pieces of 64 while that leaves at least 4 (a 1-byte-offset copy needs 4), then one of 60.
  while (length >= 68) {
    o = writeCopy2(out, o, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    o = writeCopy2(out, o, offset, 60);
    length -= 60;
  }
  if (length <= 11 && offset < 2048) {
    out[o++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[o++] = offset & 0xff;
    return o;
  }
  return writeCopy2(out, o, offset, length);
}

function writeCopy2(out: Uint8Array, o: number, offset: number, length: number): number {
  out[o++] = 2 | ((length - 1) << 2);
  out[o++] = offset & 0xff;
  out[o++] = offset >>> 8;
  return o;
}
