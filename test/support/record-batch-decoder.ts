import crc32c from 'crc-32/crc32c.js';
import { DecodeError } from '../../src/errors.js';
import { Reader } from '../../src/protocol/reader.js';

/**
 * A RecordBatch v2 decoder for tests only (a producer never reads batches). It checks the magic
 * byte, the batch length and the CRC-32C, and decodes every record field.
 */
export interface DecodedRecord {
  attributes: number;
  offsetDelta: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
}

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

export function decodeRecordBatch(bytes: Buffer): DecodedBatch {
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
  if (crc !== computed)
    throw new DecodeError(`CRC ${crc.toString(16)} != computed ${computed.toString(16)}`, 17);
  const attributes = r.int16();
  const lastOffsetDelta = r.int32();
  const baseTimestamp = r.int64().toNumber();
  const maxTimestamp = r.int64().toNumber();
  const producerId = r.int64().toNumber();
  const producerEpoch = r.int16();
  const baseSequence = r.int32();
  const count = r.int32();
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.offset + length;
    const attrs = r.int8();
    const timestampDelta = r.varlong().toNumber();
    const offsetDelta = r.varint();
    const key = varintBytes(r);
    const value = varintBytes(r);
    const headerCount = r.varint();
    const headers: [string, Buffer | null][] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = r.varint();
      const headerKey = r.raw(keyLength).toString('utf8');
      headers.push([headerKey, varintBytes(r)]);
    }
    if (r.offset !== end)
      throw new DecodeError(`record ${i} length ${length} does not match its fields`, r.offset);
    records.push({
      attributes: attrs,
      offsetDelta,
      timestamp: baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  r.expectEnd('RecordBatch');
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

function varintBytes(r: Reader): Buffer | null {
  const length = r.varint();
  return length === -1 ? null : Buffer.from(r.raw(length));
}
