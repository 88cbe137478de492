import { EkafError } from '../errors.js';
import { acceleratedCodec, PURE_FORCED, type ImplementationChoice } from './codecs/accelerator.js';
import type { Codec, CompressionName } from './codecs/codec.js';
import { GZIP } from './codecs/gzip.js';
import { LZ4 } from './codecs/lz4.js';
import { SNAPPY } from './codecs/snappy.js';
import { nodeZlibZstd, wasmChoice, wasmZstd, ZSTD_PACKAGE } from './codecs/zstd.js';
import { crc32cImplementation } from './crc32c.js';

/**
 * Compression codecs for record batches, each in its own module under codecs/. Every codec works
 * without a native addon: gzip from node:zlib; snappy and LZ4 from their native packages where
 * those load (optional accelerators), else from ekaf's pure TypeScript compressors; zstd from
 * node:zlib where this Node has it, else from WebAssembly. Each is chosen when first needed, so a
 * producer that does not compress loads none of them. EKAF_PURE=1 forces the pure path.
 */

export type { Codec, CompressionName } from './codecs/codec.js';
export type { Implementation, ImplementationChoice } from './codecs/accelerator.js';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

type CodecName = Exclude<CompressionName, 'none'>;

const codecs = new Map<CodecName, Codec>([['gzip', GZIP]]);
let zstdLoading: Promise<Codec> | undefined;

/** The codec if it is ready to use now; undefined if it must be loaded first (`loadCodec`). */
export function readyCodec(name: CodecName): Codec | undefined {
  if (name === 'snappy' || name === 'lz4') return alwaysReady(name);
  let codec = codecs.get(name);
  if (codec === undefined && name === 'zstd') {
    codec = nodeZlibZstd();
    if (codec !== undefined) codecs.set(name, codec);
  }
  return codec;
}

/** snappy and LZ4: native or pure, chosen on first use; there is always one. */
function alwaysReady(name: 'snappy' | 'lz4'): Codec {
  let codec = codecs.get(name);
  if (codec === undefined) {
    codec = acceleratedCodec(name === 'snappy' ? SNAPPY : LZ4);
    codecs.set(name, codec);
  }
  return codec;
}

/** The codec, loading it if needed; rejects with ERR_CONFIG if zstd's package is not installed. */
export function loadCodec(name: CodecName): Promise<Codec> {
  const ready = readyCodec(name);
  if (ready !== undefined) return Promise.resolve(ready);
  zstdLoading ??= wasmZstd().then(
    (codec) => {
      codecs.set(name, codec);
      return codec;
    },
    (cause: unknown) => {
      zstdLoading = undefined; // a later attempt may succeed (e.g. after installing the package)
      throw missingZstd(cause);
    },
  );
  return zstdLoading;
}

/** Throws ERR_CONFIG when a codec cannot be had here (zstd on an old Node without its package). */
export function assertCodecAvailable(name: CompressionName): void {
  if (name !== 'zstd' || readyCodec(name) !== undefined) return;
  try {
    import.meta.resolve(ZSTD_PACKAGE);
  } catch (cause) {
    throw missingZstd(cause);
  }
}

function missingZstd(cause: unknown): EkafError {
  return new EkafError(
    'ERR_CONFIG',
    `compression 'zstd' needs Node 22.15+ or the npm package ${ZSTD_PACKAGE}, which is not installed`,
    { cause },
  );
}

/** What computes the CRC and each codec in this process. */
export interface Accelerators {
  /** EKAF_PURE was set when ekaf was loaded: no native addon is used. */
  readonly pureForced: boolean;
  readonly crc32c: ImplementationChoice;
  readonly gzip: ImplementationChoice;
  readonly snappy: ImplementationChoice;
  readonly lz4: ImplementationChoice;
  readonly zstd: ImplementationChoice;
}

/**
 * Which implementation computes the CRC-32C and each codec ('native', 'pure', 'node-zlib',
 * 'wasm', or 'unavailable'), and why (the package used, or why a native one was not). Chooses
 * the snappy and LZ4 implementations now if no producer has yet (loading their native packages
 * where installed); zstd's WebAssembly is only looked for, and loaded on first use.
 */
export function accelerators(): Accelerators {
  let zstd = readyCodec('zstd')?.implementation;
  if (zstd === undefined) {
    try {
      assertCodecAvailable('zstd');
      zstd = wasmChoice('loaded on first use');
    } catch (error) {
      zstd = { implementation: 'unavailable', reason: (error as Error).message };
    }
  }
  return {
    pureForced: PURE_FORCED,
    crc32c: crc32cImplementation,
    gzip: GZIP.implementation,
    snappy: alwaysReady('snappy').implementation,
    lz4: alwaysReady('lz4').implementation,
    zstd,
  };
}
