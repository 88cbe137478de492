import { createRequire } from 'node:module';
import type { Codec } from './codec.js';
import { Scratch } from './scratch.js';

/**
 * How a codec (or the CRC) is computed, and why: ekaf needs no native addon. Each native package
 * (`@node-rs/crc32`, `snappy`, `lz4-napi`) is an optional accelerator, tried once when the codec
 * is first needed; where it cannot be loaded (not installed, no binary for this platform, or
 * EKAF_PURE=1) a pure TypeScript implementation gives the same result on the wire.
 */
export type Implementation = 'native' | 'pure' | 'node-zlib' | 'wasm' | 'unavailable';

export interface ImplementationChoice {
  readonly implementation: Implementation;
  /** The package or API it uses, or why the native one was not used. */
  readonly reason: string;
}

/**
 * EKAF_PURE=1 (or `true`), read once when ekaf is loaded: no native addon is loaded at all. For
 * tests and benches of the pure path, and for platforms where loading an addon is not wanted.
 */
export const PURE_FORCED = /^(1|true|yes)$/i.test(process.env.EKAF_PURE ?? '');

const require = createRequire(import.meta.url);

/**
 * The native package's module, or why it is not used: forced pure, or the error its loading
 * threw (not installed, no prebuilt binary for this platform or libc).
 */
export function loadAccelerator(pkg: string): { module: unknown } | { reason: string } {
  if (PURE_FORCED) return { reason: `EKAF_PURE is set: ${pkg} not loaded` };
  try {
    return { module: require(pkg) as unknown };
  } catch (error) {
    const first = (error as Error).message.split('\n')[0] ?? '';
    return { reason: `${pkg} could not be loaded (${first})` };
  }
}

/** A codec whose native package is an optional accelerator over a pure compressor. */
export interface AcceleratedCodecSpec {
  name: Codec['name'];
  id: Codec['id'];
  /** The native package, and how its module compresses. */
  pkg: string;
  nativeCompress(module: unknown): (data: Buffer) => Buffer;
  /** The pure compressor: the most bytes it writes for an input length, and the compressor. */
  maxLength(length: number): number;
  compressInto(input: Uint8Array, out: Uint8Array): number;
}

/** The native codec where its package loads, else the pure one (see pureCodec). */
export function acceleratedCodec(spec: AcceleratedCodecSpec): Codec {
  const native = loadAccelerator(spec.pkg);
  if ('reason' in native) return pureCodec(spec, native.reason);
  return {
    name: spec.name,
    id: spec.id,
    implementation: { implementation: 'native', reason: `${spec.pkg} (napi-rs)` },
    compress: spec.nativeCompress(native.module),
  };
}

/**
 * The pure compressor as a codec, writing into one reused scratch buffer; `reason` says why it is
 * used.
 */
export function pureCodec(spec: AcceleratedCodecSpec, reason: string): Codec {
  const scratch = new Scratch();
  return {
    name: spec.name,
    id: spec.id,
    implementation: { implementation: 'pure', reason },
    compress: (data) => {
      const out = scratch.take(spec.maxLength(data.length));
      return out.subarray(0, spec.compressInto(data, out));
    },
  };
}
