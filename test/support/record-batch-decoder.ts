import crc32c from 'crc-32/crc32c.js';
import { DecodeError } from '../../src/errors.js';
import { Reader } from '../../src/protocol/reader.js';
import { readRecords, type DecodedRecord } from '../../src/protocol/record-batch.js';

export type { DecodedRecord } from '../../src/protocol/record-batch.js';

/**
 * A whole-batch decoder for tests: it checks the magic byte, the batch length and the CRC-32C,
 * exposes every header field, and reads the (uncompressed) records with the producer's own
 * readRecords.
 */
export interface DecodedBatch {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  records: DecodedRecord[];
}

/**
 * `checkCrc` false: for a batch sealed and never sent, whose CRC is written only when it leaves
 * (PartitionLog.takeNext).
 */
export function decodeRecordBatch(bytes: Buffer, { checkCrc = true } = {}): DecodedBatch {
  const r = new Reader(bytes);
  const baseOffset = r.int64().toNumber();
  const batchLength = r.int32();
  if (batchLength !== bytes.length - 12) {
    throw new DecodeError(`batchLength ${batchLength} but ${bytes.length - 12} bytes follow`, 8);
  }
  const partitionLeaderEpoch = r.int32();
  const magic = r.int8();
  if (magic !== 2) throw new DecodeError(`magic ${magic}, expected 2`, 16);
  const crc = r.uint32();
  const computed = crc32c.buf(bytes.subarray(21)) >>> 0;
  if (checkCrc && crc !== computed)
    throw new DecodeError(`CRC ${crc.toString(16)} != computed ${computed.toString(16)}`, 17);
  const attributes = r.int16();
  const lastOffsetDelta = r.int32();
  const baseTimestamp = r.int64().toNumber();
  const maxTimestamp = r.int64().toNumber();
  const producerId = r.int64().toNumber();
  const producerEpoch = r.int16();
  const baseSequence = r.int32();
  const count = r.int32();
  const records = readRecords(bytes.subarray(r.offset), count, baseTimestamp);
  return {
    baseOffset,
    batchLength,
    partitionLeaderEpoch,
    magic,
    crc,
    attributes,
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch,
    baseSequence,
    records,
  };
}
