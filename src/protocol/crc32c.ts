import { endianness } from 'node:os';
import { loadAccelerator, type ImplementationChoice } from './codecs/accelerator.js';

const NATIVE_FROM_BYTES = 256;

// ---------------------------------------------------------------------------------------------
// Pure: slicing-by-16. TABLES[k * 256 + b] is the CRC register after feeding byte b followed by
// k zero bytes, so 16 input bytes are folded in with 16 independent lookups instead of 16
// dependent steps. One Int32Array holds the 16 tables (one bounds check, constant offsets).

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;
const TABLES = new Int32Array(16 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
  TABLES[b] = c;
}
for (let b = 0; b < 256; b++) {
  let c = TABLES[b] as number;
  for (let k = 1; k < 16; k++) {
    c = (c >>> 8) ^ (TABLES[c & 0xff] as number);
    TABLES[k * 256 + b] = c;
  }
}

/**
 * From this length on, the pure path reads the aligned middle of the input as 32-bit words (an
 * Int32Array view: 4 loads per 16 bytes instead of 16). Creating the view costs about as much as
 * 200 bytes of table work, so shorter inputs are read byte by byte. Words are read in the
 * machine's byte order, which the tables assume to be little-endian.
 */
const WORDS_FROM_BYTES = endianness() === 'LE' ? 512 : Infinity;

/** CRC-32C in pure TypeScript; the same result as the native one, for every input. */
export function crc32cPure(data: Uint8Array): number {
  const n = data.length;
  let crc = -1;
  let i = 0;
  if (n >= WORDS_FROM_BYTES) {
    const head = (4 - (data.byteOffset & 3)) & 3;
    crc = bytewise(data, crc, 0, head);
    const words = ((n - head) >>> 4) << 2;
    crc = wordwise(new Int32Array(data.buffer, data.byteOffset + head, words), crc);
    i = head + words * 4;
  } else {
    crc = sixteenBytewise(data, crc, n & ~15);
    i = n & ~15;
  }
  return ~bytewise(data, crc, i, n) >>> 0;
}

function bytewise(data: Uint8Array, crc: number, from: number, to: number): number {
  const t = TABLES;
  for (let i = from; i < to; i++) crc = (crc >>> 8) ^ (t[(crc ^ (data[i] as number)) & 0xff] as number);
  return crc;
}

/** 16 bytes a step, over data[0, end) (end a multiple of 16). */
function sixteenBytewise(d: Uint8Array, crc: number, end: number): number {
  const t = TABLES;
  for (let i = 0; i < end; i += 16) {
    crc =
      (t[3840 + (((d[i] as number) ^ crc) & 0xff)] as number) ^
      (t[3584 + (((d[i + 1] as number) ^ (crc >>> 8)) & 0xff)] as number) ^
      (t[3328 + (((d[i + 2] as number) ^ (crc >>> 16)) & 0xff)] as number) ^
      (t[3072 + ((d[i + 3] as number) ^ (crc >>> 24))] as number) ^
      (t[2816 + (d[i + 4] as number)] as number) ^
      (t[2560 + (d[i + 5] as number)] as number) ^
      (t[2304 + (d[i + 6] as number)] as number) ^
      (t[2048 + (d[i + 7] as number)] as number) ^
      (t[1792 + (d[i + 8] as number)] as number) ^
      (t[1536 + (d[i + 9] as number)] as number) ^
      (t[1280 + (d[i + 10] as number)] as number) ^
      (t[1024 + (d[i + 11] as number)] as number) ^
      (t[768 + (d[i + 12] as number)] as number) ^
      (t[512 + (d[i + 13] as number)] as number) ^
      (t[256 + (d[i + 14] as number)] as number) ^
      (t[d[i + 15] as number] as number);
  }
  return crc;
}

/** 16 bytes (4 little-endian words) a step, over every word of w (a multiple of 4 words). */
function wordwise(w: Int32Array, crc: number): number {
  const t = TABLES;
  for (let j = 0; j < w.length; j += 4) {
    const a = (w[j] as number) ^ crc;
    const b = w[j + 1] as number;
    const c = w[j + 2] as number;
    const d = w[j + 3] as number;
    crc =
      (t[3840 + (a & 0xff)] as number) ^
      (t[3584 + ((a >>> 8) & 0xff)] as number) ^
      (t[3328 + ((a >>> 16) & 0xff)] as number) ^
      (t[3072 + (a >>> 24)] as number) ^
      (t[2816 + (b & 0xff)] as number) ^
      (t[2560 + ((b >>> 8) & 0xff)] as number) ^
      (t[2304 + ((b >>> 16) & 0xff)] as number) ^
      (t[2048 + (b >>> 24)] as number) ^
      (t[1792 + (c & 0xff)] as number) ^
      (t[1536 + ((c >>> 8) & 0xff)] as number) ^
      (t[1280 + ((c >>> 16) & 0xff)] as number) ^
      (t[1024 + (c >>> 24)] as number) ^
      (t[768 + (d & 0xff)] as number) ^
      (t[512 + ((d >>> 8) & 0xff)] as number) ^
      (t[256 + ((d >>> 16) & 0xff)] as number) ^
      (t[d >>> 24] as number);
  }
  return crc;
}

// ---------------------------------------------------------------------------------------------
// Patching a CRC. CRC-32C is linear over GF(2): for two messages of the same length, the CRCs
// differ by the raw CRC (no initial value, no final inversion) of the bytes that differ. So when
// a few bytes in the middle of a message change (a batch's producer id, epoch and sequence when
// it is stamped), the new CRC is the old one XOR the raw CRC of (old XOR new) over those bytes,
// carried through the zero bytes that follow them. Carrying through n zero bytes is a linear map,
// M^n with M the map of one zero byte: applied by squaring (M^1, M^2, M^4, ...), 32 words each.

/** ZEROS[k][i]: the register after 2^k zero bytes, from a register with only bit i set. */
const ZEROS: Int32Array[] = [];

function applyMap(map: Int32Array, register: number): number {
  let out = 0;
  for (let i = 0; register !== 0; i++, register >>>= 1) if (register & 1) out ^= map[i] as number;
  return out;
}

function zerosMap(k: number): Int32Array {
  for (let j = ZEROS.length; j <= k; j++) {
    const map = new Int32Array(32);
    for (let i = 0; i < 32; i++) {
      if (j === 0) {
        const c = 1 << i;
        map[i] = (c >>> 8) ^ (TABLES[c & 0xff] as number);
      } else {
        const half = ZEROS[j - 1] as Int32Array;
        map[i] = applyMap(half, half[i] as number);
      }
    }
    ZEROS.push(map);
  }
  return ZEROS[k] as Int32Array;
}

/**
 * The CRC-32C of a message whose bytes `before` (at some position) became `after`, from its CRC
 * before the change; `bytesAfter` is how many bytes of the message follow the changed ones. A few
 * microseconds, whatever the message's length.
 */
export function crc32cPatch(crc: number, before: Uint8Array, after: Uint8Array, bytesAfter: number): number {
  if (before.length !== after.length) throw new RangeError('crc32cPatch: the spans differ in length');
  let delta = 0;
  for (let i = 0; i < before.length; i++) {
    delta = (delta >>> 8) ^ (TABLES[(delta ^ (before[i] as number) ^ (after[i] as number)) & 0xff] as number);
  }
  for (let k = 0; bytesAfter > 0 && delta !== 0; k++, bytesAfter = Math.floor(bytesAfter / 2)) {
    if (bytesAfter % 2 === 1) delta = applyMap(zerosMap(k), delta);
  }
  return (crc ^ delta) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The choice, once, when this module is loaded.

const native = loadAccelerator('@node-rs/crc32');

/** Which implementation `crc32c` uses, and why. */
export const crc32cImplementation: ImplementationChoice =
  'module' in native
    ? { implementation: 'native', reason: "@node-rs/crc32 (the CPU's CRC instructions)" }
    : { implementation: 'pure', reason: native.reason };

/**
 * CRC-32C (Castagnoli) of a batch, as RecordBatch v2 requires, and of each spool entry.
 *
 * @node-rs/crc32, where it loads, computes it with the CPU's CRC instructions (4.8 GB/s here);
 * otherwise (not installed, no binary for the platform, EKAF_PURE=1) the tables below do, at
 * about 1.5 GB/s on batches. A native call costs ~300 ns before the first byte, so inputs under
 * 256 bytes (spool entries of small records, batch headers) go to the tables even when the
 * native package is there.
 */
export const crc32c: (data: Uint8Array) => number =
  'module' in native ? withNative(native.module as NativeCrc) : crc32cPure;

interface NativeCrc {
  crc32c(data: Uint8Array): number;
}

function withNative(native: NativeCrc): (data: Uint8Array) => number {
  return (data) => (data.length < NATIVE_FROM_BYTES ? crc32cPure(data) : native.crc32c(data) >>> 0);
}
