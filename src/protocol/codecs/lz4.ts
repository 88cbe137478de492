import { CompressionCodec } from '../record-batch.js';
import type { AcceleratedCodecSpec } from './accelerator.js';
import { copyBytes, hash4, HASH_BITS, matchEnd, read32, viewOf } from './scratch.js';
import { xxhash32 } from './xxhash32.js';

/**
 * LZ4 for Kafka: the LZ4 frame format (magic v1 and v2 batches; the header-checksum quirk of
 * KAFKA-3160 concerns magic 0 only). The native `lz4-napi` package where it loads; otherwise the
 * pure compressor below, written from the LZ4 frame and block format descriptions. Both write the
 * frame the Java producer writes: independent blocks of at most 64 KiB, no block or content
 * checksums, no content size (FLG 0x60, BD 0x40), which Kafka and librdkafka both read.
 *
 * A frame: magic 0x184D2204 (little-endian), FLG, BD, a header checksum byte (the second byte of
 * xxHash32 of FLG and BD), then blocks: a 4-byte little-endian size (high bit set: stored
 * uncompressed) and the block's bytes; then a zero size ends the frame.
 *
 * A block is sequences: a token (high nibble: literal count, low nibble: match length - 4, 15 in
 * either meaning more length bytes follow, each added, until one under 255), the literals, a
 * 2-byte little-endian offset back (1..65535), the match's extra length bytes. The last 5 bytes of
 * a block are literals, and a match starts at least 12 bytes before the block's end; the last
 * sequence is literals only.
 */
export const LZ4: AcceleratedCodecSpec = {
  name: 'lz4',
  id: CompressionCodec.lz4,
  pkg: 'lz4-napi',
  nativeCompress: (module) => {
    const native = module as { compressFrameSync(data: Buffer): Buffer };
    return (data) => native.compressFrameSync(data);
  },
  maxLength: (length) => lz4FrameMaxLength(length),
  compressInto: (input, out) => lz4FrameCompressInto(input, out),
};

const MAGIC = 0x184d2204;
/** Version 01, independent blocks, no checksums, no content size, no dictionary. */
const FLG = 0x60;
/** Blocks of at most 64 KiB. */
const BD = 0x40;
const BLOCK_BYTES = 64 * 1024;
/** Magic, FLG, BD, and the header checksum: the second byte of xxHash32 of the descriptor. */
const HEADER = Buffer.from([
  MAGIC & 0xff,
  (MAGIC >>> 8) & 0xff,
  (MAGIC >>> 16) & 0xff,
  MAGIC >>> 24,
  FLG,
  BD,
  (xxhash32(Buffer.from([FLG, BD])) >>> 8) & 0xff,
]);
const UNCOMPRESSED = 0x80000000;
const MIN_MATCH = 4;
/** A match starts at least this many bytes before the block's end (MFLIMIT). */
const MATCH_START_LIMIT = 12;
/** The last bytes of a block are always literals (LASTLITERALS). */
const LAST_LITERALS = 5;

/** The most bytes lz4FrameCompressInto writes for an input of `length` bytes. */
export function lz4FrameMaxLength(length: number): number {
  const blocks = Math.max(1, Math.ceil(length / BLOCK_BYTES));
  // A block that does not shrink is stored, but is first compressed into the output: the block
  // format's worst case is length + length / 255 + 16.
  return HEADER.length + 4 + length + Math.ceil(length / 255) + blocks * (4 + 16);
}

/**
 * Positions of earlier 4-byte sequences by hash; never cleared (see the snappy compressor): a
 * candidate is used only inside the current block, before the current position, and after its
 * bytes are compared.
 */
const table = new Int32Array(1 << HASH_BITS);

/** Compresses `input` as one LZ4 frame into `out` (at least lz4FrameMaxLength bytes). */
export function lz4FrameCompressInto(input: Uint8Array, out: Uint8Array): number {
  out.set(HEADER, 0);
  let o = HEADER.length;
  for (let start = 0; start < input.length; start += BLOCK_BYTES) {
    const end = Math.min(start + BLOCK_BYTES, input.length);
    const size = compressBlock(input, start, end, out, o + 4);
    if (size < end - start) {
      writeUint32LE(out, o, size);
      o += 4 + size;
    } else {
      writeUint32LE(out, o, (end - start + UNCOMPRESSED) >>> 0);
      copyBytes(input, start, out, o + 4, end - start);
      o += 4 + end - start;
    }
  }
  writeUint32LE(out, o, 0); // the end mark
  return o + 4;
}

function writeUint32LE(out: Uint8Array, o: number, value: number): void {
  out[o] = value & 0xff;
  out[o + 1] = (value >>> 8) & 0xff;
  out[o + 2] = (value >>> 16) & 0xff;
  out[o + 3] = value >>> 24;
}

/** One independent block of input[start, end) written at out[at]; returns its length. */
function compressBlock(
  input: Uint8Array,
  start: number,
  blockEnd: number,
  out: Uint8Array,
  at: number,
): number {
  let o = at;
  let literalStart = start;
  let i = start;
  const lastMatchStart = blockEnd - MATCH_START_LIMIT;
  const matchEndLimit = blockEnd - LAST_LITERALS;
  let misses = 32; // as in the snappy compressor: step faster over incompressible input
  const view = viewOf(input);
  while (i <= lastMatchStart) {
    const sequence = read32(view, i);
    const h = hash4(sequence);
    let candidate = table[h] as number;
    table[h] = i;
    if (candidate < start || candidate >= i || read32(view, candidate) !== sequence) {
      i += misses++ >> 5;
      continue;
    }
    misses = 32;
    let matchStart = i;
    while (matchStart > literalStart && candidate > start && input[matchStart - 1] === input[candidate - 1]) {
      matchStart--;
      candidate--;
    }
    const end = matchEnd(input, view, candidate + (i + MIN_MATCH - matchStart), i + MIN_MATCH, matchEndLimit);
    o = writeSequence(
      input,
      literalStart,
      matchStart - literalStart,
      out,
      o,
      matchStart - candidate,
      end - matchStart,
    );
    if (end - 2 > i && end - 2 <= lastMatchStart) table[hash4(read32(view, end - 2))] = end - 2;
    i = end;
    literalStart = end;
  }
  return writeSequence(input, literalStart, blockEnd - literalStart, out, o, 0, 0) - at;
}

/** A sequence: its literals, then a match (none when `matchLength` is 0: the block's last). */
function writeSequence(
  input: Uint8Array,
  literalStart: number,
  literals: number,
  out: Uint8Array,
  o: number,
  offset: number,
  matchLength: number,
): number {
  const matchCode = matchLength === 0 ? 0 : matchLength - MIN_MATCH;
  out[o++] = (Math.min(literals, 15) << 4) | Math.min(matchCode, 15);
  if (literals >= 15) o = writeLength(out, o, literals - 15);
  copyBytes(input, literalStart, out, o, literals);
  o += literals;
  if (matchLength === 0) return o;
  out[o++] = offset & 0xff;
  out[o++] = offset >>> 8;
  if (matchCode >= 15) o = writeLength(out, o, matchCode - 15);
  return o;
}

/** The bytes of a length past its nibble: 255 while at least 255 remain, then the rest. */
function writeLength(out: Uint8Array, o: number, rest: number): number {
  while (rest >= 255) {
    out[o++] = 255;
    rest -= 255;
  }
  out[o++] = rest;
  return o;
}
