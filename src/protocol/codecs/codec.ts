import type { CompressionCodec } from '../record-batch.js';
import type { ImplementationChoice } from './accelerator.js';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** A batch compressor, as the partition log uses it when a batch is first sent. */
export interface Codec {
  readonly name: Exclude<CompressionName, 'none'>;
  /** The codec's id in a batch's attributes. */
  readonly id: CompressionCodec;
  /** Which implementation compresses, and why that one. */
  readonly implementation: ImplementationChoice;
  /**
   * The compressed bytes of `data`. The result may be a view of a buffer that the codec's next
   * call overwrites (the pure compressors reuse one): copy it before compressing again, as
   * compressBatch does.
   */
  compress(data: Buffer): Buffer;
}
