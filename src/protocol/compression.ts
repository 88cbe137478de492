import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { EkafError } from '../errors.js';
import { CompressionCodec } from './record-batch.js';

/**
 * Compression codecs for record batches. gzip comes from node:zlib. Node 20 has no snappy, LZ4
 * or zstd, so they come from optional npm packages whose binaries ship inside the registry
 * packages (snappy and lz4-napi, built with napi-rs) or as WebAssembly (@hpcc-js/wasm-zstd).
 * They are loaded on first use, so a producer that does not compress never loads them.
 */

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export interface Codec {
  readonly name: CompressionName;
  readonly id: CompressionCodec;
  compress(data: Buffer): Buffer;
}

const require = createRequire(import.meta.url);
const codecs = new Map<CompressionName, Codec>();
const loading = new Map<CompressionName, Promise<Codec>>();

const GZIP: Codec = { name: 'gzip', id: CompressionCodec.gzip, compress: (data) => zlib.gzipSync(data) };
codecs.set('gzip', GZIP);

/** The codec if it is ready to use now; undefined if it must be loaded first (`loadCodec`). */
export function readyCodec(name: Exclude<CompressionName, 'none'>): Codec | undefined {
  return codecs.get(name);
}

/** Loads a codec's package; rejects with ERR_CONFIG naming the package if it is not installed. */
export function loadCodec(name: Exclude<CompressionName, 'none'>): Promise<Codec> {
  const ready = codecs.get(name);
  if (ready !== undefined) return Promise.resolve(ready);
  let pending = loading.get(name);
  if (pending === undefined) {
    pending = load(name).then(
      (codec) => {
        codecs.set(name, codec);
        return codec;
      },
      (error: unknown) => {
        loading.delete(name); // a later attempt may succeed (e.g. after installing the package)
        throw error;
      },
    );
    loading.set(name, pending);
  }
  return pending;
}

async function load(name: Exclude<CompressionName, 'none'>): Promise<Codec> {
  switch (name) {
    case 'gzip':
      return GZIP;
    case 'snappy': {
      const snappy = requirePackage(PACKAGES.snappy, name) as { compressSync(data: Buffer): Buffer };
      return { name, id: CompressionCodec.snappy, compress: (data) => snappy.compressSync(data) };
    }
    case 'lz4': {
      // Kafka's LZ4 is the LZ4 frame format.
      const lz4 = requirePackage(PACKAGES.lz4, name) as { compressFrameSync(data: Buffer): Buffer };
      return { name, id: CompressionCodec.lz4, compress: (data) => lz4.compressFrameSync(data) };
    }
    case 'zstd': {
      let zstdModule: typeof import('@hpcc-js/wasm-zstd');
      try {
        zstdModule = await import('@hpcc-js/wasm-zstd');
      } catch (cause) {
        throw missing(PACKAGES.zstd, name, cause);
      }
      const zstd = await zstdModule.Zstd.load();
      return {
        name,
        id: CompressionCodec.zstd,
        compress: (data) => {
          const compressed = zstd.compress(data, 3);
          return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
        },
      };
    }
  }
}

const PACKAGES: Record<Exclude<CompressionName, 'none' | 'gzip'>, string> = {
  snappy: 'snappy',
  lz4: 'lz4-napi',
  zstd: '@hpcc-js/wasm-zstd',
};

/** Throws ERR_CONFIG, naming the package, when a codec's package is not installed (no loading). */
export function assertCodecAvailable(name: CompressionName): void {
  if (name === 'none' || name === 'gzip') return;
  const pkg = PACKAGES[name];
  try {
    import.meta.resolve(pkg);
  } catch (cause) {
    throw missing(pkg, name, cause);
  }
}

function requirePackage(pkg: string, codec: string): unknown {
  try {
    return require(pkg);
  } catch (cause) {
    throw missing(pkg, codec, cause);
  }
}

function missing(pkg: string, codec: string, cause: unknown): EkafError {
  return new EkafError(
    'ERR_CONFIG',
    `compression '${codec}' needs the npm package ${pkg}, which is not installed`,
    {
      cause,
    },
  );
}
