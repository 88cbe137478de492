import { endianness } from 'node:os';
import { loadAccelerator, type ImplementationChoice } from './codecs/accelerator.js';
import { TABLES, throughZeros } from './crc32c-tables.js';
import { createCrc32cWasm } from './crc32c-wasm.js';

// Pure: slicing-by-16 over the tables of crc32c-tables.ts.

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
// carried through the zero bytes that follow them (throughZeros).

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
  return (crc ^ throughZeros(delta, bytesAfter)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The choice, once, when this module is loaded.

const native = loadAccelerator('@node-rs/crc32');
const kernel = createCrc32cWasm();

/** Which implementation `crc32c` uses for batches, and why. */
export const crc32cImplementation: ImplementationChoice =
  'module' in native
    ? { implementation: 'native', reason: "@node-rs/crc32 (the CPU's CRC instructions)" }
    : 'crc32c' in kernel
      ? { implementation: 'wasm', reason: `slicing-by-16 in WebAssembly: ${native.reason}` }
      : { implementation: 'pure', reason: `${native.reason}; ${kernel.reason}` };

/**
 * Shorter inputs take a cheaper call: a native call costs ~300 ns before its first byte, so
 * below NATIVE_FROM_BYTES the WebAssembly kernel (or TypeScript) is faster; copying into the
 * kernel and calling it costs ~30 ns, so below WASM_FROM_BYTES TypeScript is (16 B: 28 against
 * 36 ns; 64 B: 92 against 51 ns, Node 24).
 */
const NATIVE_FROM_BYTES = 256;
const WASM_FROM_BYTES = 48;

/**
 * CRC-32C (Castagnoli) of a batch, as RecordBatch v2 requires, and of each spool entry.
 *
 * @node-rs/crc32, where it loads, computes it with the CPU's CRC instructions (4.8 GB/s here);
 * otherwise (not installed, no binary for the platform, EKAF_PURE=1) the WebAssembly kernel does
 * (crc32c-wasm.ts, 2.3 GB/s), or, where WebAssembly is off (`--jitless`), the TypeScript above
 * (1.3 GB/s on Node 24, 0.65 on Node 20). Short inputs (spool entries of small records, batch
 * headers) take the cheapest call, see NATIVE_FROM_BYTES.
 */
export const crc32c: (data: Uint8Array) => number = chosen();

interface NativeCrc {
  crc32c: (data: Uint8Array) => number;
}

function chosen(): (data: Uint8Array) => number {
  let short = crc32cPure;
  if ('crc32c' in kernel) {
    const wasm = kernel.crc32c;
    short = (data) => (data.length < WASM_FROM_BYTES ? crc32cPure(data) : wasm(data));
  }
  if (!('module' in native)) return short;
  const { crc32c: nativeCrc } = native.module as NativeCrc;
  return (data) => (data.length < NATIVE_FROM_BYTES ? short(data) : nativeCrc(data) >>> 0);
}
