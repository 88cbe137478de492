import zlib from 'node:zlib';
import { CompressionCodec } from '../record-batch.js';
import type { Codec } from './codec.js';

/**
 * gzip from node:zlib, at zlib's default level 6: what librdkafka (`compression.level` -1) and the
 * Java producer (`compression.gzip.level` -1, KIP-390) use, so that the bench compares like with
 * like.
 */
export const GZIP: Codec = {
  name: 'gzip',
  id: CompressionCodec.gzip,
  implementation: { implementation: 'node-zlib', reason: 'node:zlib gzipSync, level 6' },
  compress: (data) => zlib.gzipSync(data),
};
