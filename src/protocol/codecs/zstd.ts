import zlib from 'node:zlib';
import { CompressionCodec } from '../record-batch.js';
import type { ImplementationChoice } from './accelerator.js';
import type { Codec } from './codec.js';

/**
 * zstd at level 3, the default of Kafka (`compression.zstd.level`) and of librdkafka.
 *
 * Node's own zlib where it has zstd (22.15+, 23.8+): native, nothing to install. On older Node
 * (20), @bokuweb/zstd-wasm: zstd compiled to WebAssembly, an optional dependency with no native
 * build. Its context is created once and reused: ZSTD_compress would set up a new one (tables
 * of a few hundred KiB) for every batch. On 64 KiB batches of JSON events, level 3, this machine:
 * @hpcc-js/wasm-zstd (ekaf's earlier choice) 66-86 MB/s; @bokuweb/zstd-wasm 104-145 MB/s with
 * its one-shot compress, 238-256 MB/s with a reused context; Node 24's zlib 249 MB/s.
 */

export const ZSTD_PACKAGE = '@bokuweb/zstd-wasm';
const LEVEL = 3;

/** The subset of @bokuweb/zstd-wasm used here. */
interface ZstdWasm {
  init(): Promise<void>;
  createCCtx(): number;
  compressUsingDict(cctx: number, data: Uint8Array, dict: Uint8Array, level: number): Uint8Array;
}

type ZstdCompressSync = (
  data: Buffer,
  options: { params: Record<number, number>; pledgedSrcSize?: number },
) => Buffer;

/** Node's zstd, where this Node has it (its types come with @types/node 22+). */
const nodeZstd = (zlib as unknown as { zstdCompressSync?: ZstdCompressSync }).zstdCompressSync;
const ZSTD_C_COMPRESSION_LEVEL = (zlib.constants as unknown as Record<string, number>)
  .ZSTD_c_compressionLevel;

/** The zstd codec of node:zlib, or undefined when this Node has none. */
export function nodeZlibZstd(): Codec | undefined {
  if (nodeZstd === undefined || ZSTD_C_COMPRESSION_LEVEL === undefined) return undefined;
  const params = { [ZSTD_C_COMPRESSION_LEVEL]: LEVEL };
  return {
    name: 'zstd',
    id: CompressionCodec.zstd,
    implementation: {
      implementation: 'node-zlib',
      reason: `node:zlib zstdCompressSync (Node ${process.versions.node}), level 3`,
    },
    // The size up front lets zstd size its tables for the batch and write it in the frame header.
    compress: (data) => nodeZstd(data, { params, pledgedSrcSize: data.length }),
  };
}

/** The WebAssembly codec; rejects if its package cannot be loaded. */
export async function wasmZstd(): Promise<Codec> {
  const zstd = (await import(ZSTD_PACKAGE)) as ZstdWasm;
  await zstd.init();
  const context = zstd.createCCtx();
  const noDictionary = new Uint8Array(0);
  return {
    name: 'zstd',
    id: CompressionCodec.zstd,
    implementation: wasmChoice('loaded'),
    compress: (data) => {
      const compressed = zstd.compressUsingDict(context, data, noDictionary, LEVEL);
      return Buffer.from(compressed.buffer, compressed.byteOffset, compressed.byteLength);
    },
  };
}

export function wasmChoice(state: 'loaded' | 'loaded on first use'): ImplementationChoice {
  return {
    implementation: 'wasm',
    reason: `${ZSTD_PACKAGE} (${state}; this Node ${process.versions.node} has no zstd in node:zlib), level 3`,
  };
}
