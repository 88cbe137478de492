import { DecodeError, EncodeError } from '../errors.js';
import { crc32c, crc32cPatch } from './crc32c.js';
import { Reader } from './reader.js';
import { byteSize, putRecordBytes, type RecordBytes } from './record-bytes.js';
import { Writer, type BufferAllocator } from './writer.js';

/**
 * RecordBatch v2 (magic 2), the record format of Kafka 0.11+.
 *
 * Layout of the batch header (61 bytes), then the records:
 *
 *   offset  field                 notes
 *        0  baseOffset    int64   0 from a producer; the broker assigns offsets
 *        8  batchLength   int32   bytes after this field
 *       12  leaderEpoch   int32   -1 from a producer
 *       16  magic         int8    2
 *       17  crc           uint32  CRC-32C of bytes 21..end
 *       21  attributes    int16   compression (bits 0-2), timestamp type (3), transactional (4), control (5)
 *       23  lastOffsetDelta int32
 *       27  baseTimestamp int64   timestamp of the first record
 *       35  maxTimestamp  int64
 *       43  producerId    int64   -1 when not idempotent
 *       51  producerEpoch int16
 *       53  baseSequence  int32
 *       57  recordCount   int32
 *       61  records...
 *
 * A record: length varint, attributes int8 (0), timestampDelta varlong, offsetDelta varint,
 * key (varint length, -1 = null), value (same), header count varint, then each header's key
 * (varint length + UTF-8) and value (varint length, -1 = null).
 */

export const RECORD_BATCH_HEADER_SIZE = 61;
export const MAGIC_V2 = 2;

const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
/** Attributes bit 4: the batch belongs to a transaction (its records wait for the commit marker). */
const TRANSACTIONAL_ATTRIBUTE = 0x10;
const PRODUCER_ID_OFFSET = 43;
const BATCH_LENGTH_OFFSET = 8;

/** Compression codec ids as stored in the low 3 bits of the batch attributes. */
export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

export type RecordHeader = readonly [key: string, value: Uint8Array | null];

/**
 * A record as the encoder sees it. A string key or value is written as UTF-8 (see record-bytes.ts);
 * header values are bytes.
 */
export interface EncodableRecord {
  key: RecordBytes | null;
  value: RecordBytes | null;
  /** Bytes of the key and the value when the caller knows them already (byteSize), else computed. */
  keySize?: number;
  valueSize?: number;
  headers: readonly RecordHeader[];
  /** Create time, milliseconds since the epoch. */
  timestamp: number;
}

/** The producer-identity fields of a batch; all -1 when idempotence is off. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export const NO_PRODUCER_IDENTITY: ProducerIdentity = { producerId: -1, producerEpoch: -1, baseSequence: -1 };

/** Bytes taken by the zigzag varint encoding of `value` (signed, 32-bit range). */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

export function sizeOfUnsignedVarint(value: number): number {
  // Compares rather than shifts in a loop: asked four times per record encoded.
  const v = value >>> 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes taken by a zigzag varlong of a safe-integer `value`. */
export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarint(value);
  // zigzag in float arithmetic is exact for safe integers: 2n or -2n-1.
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (z >= 0x80) {
    bytes++;
    z = Math.floor(z / 128);
  }
  return bytes;
}

/**
 * Builds one RecordBatch v2. Records are encoded as they are appended (the expensive part),
 * straight into one buffer, so that sealing is a header write and one CRC pass.
 *
 * The builder writes into `buffer` when given one (a buffer of the producer's pool: see
 * PartitionLog), and grows into a new buffer, doubling, when it is full: from `allocator` when
 * given one, which takes back the buffer outgrown.
 */
export class RecordBatchBuilder {
  private readonly writer: Writer;
  private count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;
  private sealed = false;

  constructor(
    initial: number | Buffer = 16 * 1024,
    allocator: BufferAllocator | null = null,
    /** The largest buffer growth goes to when that is enough (Writer's `ceiling`). */
    ceiling = Infinity,
  ) {
    this.writer = new Writer(
      typeof initial === 'number'
        ? Math.max(initial, RECORD_BATCH_HEADER_SIZE)
        : initial.length >= RECORD_BATCH_HEADER_SIZE
          ? initial
          : RECORD_BATCH_HEADER_SIZE,
      allocator,
      ceiling,
    );
    // Header is filled in by seal(); records start right after it.
    this.writer.offset = RECORD_BATCH_HEADER_SIZE;
  }

  get recordCount(): number {
    return this.count;
  }

  /** Size of the batch if it were sealed now. */
  get sizeInBytes(): number {
    return this.writer.offset;
  }

  /** The buffer being written (the batch is at its start). */
  get buffer(): Buffer {
    return this.writer.buffer;
  }

  /** Appends one record; returns the bytes it took. */
  append(record: EncodableRecord): number {
    if (this.sealed) throw new EncodeError('cannot append to a sealed record batch');
    const timestampDelta = this.timestampDelta(record.timestamp);
    const start = this.writer.offset;
    if (record.headers.length === 0 && timestampDelta >= -0x40000000 && timestampDelta < 0x40000000) {
      const { key, value } = record;
      const keySize = key === null ? -1 : (record.keySize ?? byteSize(key));
      const valueSize = value === null ? -1 : (record.valueSize ?? byteSize(value));
      const buf = this.plainHead(keySize, valueSize, timestampDelta);
      let at = this.writer.offset;
      if (key !== null) at = putRecordBytes(buf, at, key, keySize);
      at = putVarint(buf, at, valueSize);
      if (value !== null) at = putRecordBytes(buf, at, value, valueSize);
      buf[at++] = 0; // no headers
      this.writer.offset = at;
    } else {
      writeRecord(this.writer, record, this.count, timestampDelta);
    }
    this.count++;
    return this.writer.offset - start;
  }

  /**
   * Appends a record without headers whose key and value are ranges of `source`: the key
   * `keyLength` bytes from `keyStart` (-1: no key), the value `valueLength` bytes from
   * `valueStart`. The same bytes as append() of views of those ranges, without making the views
   * (`ekaf produce` encodes lines of its input this way: src/cli/line-batches.ts).
   */
  appendRanges(
    source: Buffer,
    keyStart: number,
    keyLength: number,
    valueStart: number,
    valueLength: number,
    timestamp: number,
  ): void {
    if (this.sealed) throw new EncodeError('cannot append to a sealed record batch');
    const fromFirst = this.count === 0 ? 0 : timestamp - this.baseTimestamp;
    if (fromFirst < -0x40000000 || fromFirst >= 0x40000000) {
      throw new EncodeError(`a timestamp ${fromFirst} ms from the batch's first does not fit`);
    }
    const timestampDelta = this.timestampDelta(timestamp);
    const buf = this.plainHead(keyLength, valueLength, timestampDelta);
    let at = this.writer.offset;
    if (keyLength > 0) at = copyRange(buf, at, source, keyStart, keyLength);
    at = putVarint(buf, at, valueLength);
    if (valueLength > 0) at = copyRange(buf, at, source, valueStart, valueLength);
    buf[at++] = 0; // no headers
    this.writer.offset = at;
    this.count++;
  }

  /** The delta of a record's timestamp from the batch's first; keeps the batch's largest. */
  private timestampDelta(timestamp: number): number {
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    return timestamp - this.baseTimestamp;
  }

  /**
   * Room for a record without headers whose timestamp delta fits in 30 bits, and its fields up
   * to its key's bytes, which go at the writer's offset (returned: the buffer written). Key and
   * value lengths are -1 for null. Byte for byte what writeRecord writes (the codec tests compare
   * the two).
   */
  private plainHead(keyLength: number, valueLength: number, timestampDelta: number): Buffer {
    const bodySize =
      1 + // attributes
      sizeOfVarint(timestampDelta) +
      sizeOfVarint(this.count) +
      sizeOfVarint(keyLength) +
      Math.max(keyLength, 0) +
      sizeOfVarint(valueLength) +
      Math.max(valueLength, 0) +
      1; // header count 0
    const buf = this.writer.reserve(5 + bodySize);
    let at = putVarint(buf, this.writer.offset, bodySize);
    buf[at++] = 0;
    at = putVarint(buf, at, timestampDelta);
    at = putVarint(buf, at, this.count);
    this.writer.offset = putVarint(buf, at, keyLength);
    return buf;
  }

  /**
   * Writes the header and CRC and returns the batch bytes. The result is final: a retry sends
   * exactly these bytes again, which idempotent delivery relies on. `crc` false leaves the CRC to
   * writeBatchCrc, for a batch that is stamped or compressed before it is sent (a CRC pass over
   * the batch each time would be wasted: see PartitionLog.takeNext).
   */
  seal(identity: ProducerIdentity = NO_PRODUCER_IDENTITY, codec: CompressionCodec = 0, crc = true): Buffer {
    if (this.count === 0) throw new EncodeError('cannot seal an empty record batch');
    // Sealing again would rewrite the bytes already handed out (they are a view, not a copy).
    if (this.sealed) throw new EncodeError('record batch is already sealed');
    if (codec !== CompressionCodec.none) throw new EncodeError('compression is not implemented yet');
    this.sealed = true;
    const end = this.writer.offset;
    const b = this.writer.buffer;
    writeInt64(b, 0, 0); // baseOffset
    b.writeInt32BE(end - BATCH_LENGTH_OFFSET - 4, BATCH_LENGTH_OFFSET);
    b.writeInt32BE(-1, 12); // partitionLeaderEpoch
    b[16] = MAGIC_V2;
    b.writeInt16BE(codec, ATTRIBUTES_OFFSET);
    b.writeInt32BE(this.count - 1, 23); // lastOffsetDelta
    writeInt64(b, 27, this.baseTimestamp);
    writeInt64(b, 35, this.maxTimestamp);
    writeInt64(b, PRODUCER_ID_OFFSET, identity.producerId);
    b.writeInt16BE(identity.producerEpoch, PRODUCER_ID_OFFSET + 8);
    b.writeInt32BE(identity.baseSequence, PRODUCER_ID_OFFSET + 10);
    b.writeInt32BE(this.count, 57);
    const bytes = this.writer.view();
    if (crc) writeBatchCrc(bytes);
    return bytes;
  }
}

/** Copies `length` bytes of `source` from `start` to `at`; returns the position after them. */
function copyRange(buf: Buffer, at: number, source: Buffer, start: number, length: number): number {
  if (length <= 16) {
    // A loop beats the call into C++ for the few bytes of a key.
    for (let i = 0; i < length; i++) buf[at + i] = source[start + i] as number;
  } else {
    source.copy(buf, at, start, start + length);
  }
  return at + length;
}

/** Zigzag varint of a signed 32-bit value at `at`; returns the position after it. */
function putVarint(buf: Buffer, at: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** A safe-integer int64, big-endian, without allocating a Long. */
function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / 0x100000000);
  buf.writeInt32BE(high | 0, at);
  buf.writeUInt32BE(value - high * 0x100000000, at + 4);
}

/** The stamped span: attributes (the transactional bit) to the base sequence's end. */
const STAMP_END = PRODUCER_ID_OFFSET + 14;
const stampBefore = Buffer.alloc(STAMP_END - ATTRIBUTES_OFFSET);

/**
 * Writes the producer identity (id, epoch, base sequence) into a sealed batch and updates its
 * CRC (with `crc` false it leaves the CRC to writeBatchCrc). An idempotent producer stamps a
 * batch once, when it is first sent, so that sequence
 * numbers follow the order batches leave in; every retry then resends the stamped bytes as they are.
 * A transactional producer's batches also get the transactional bit.
 *
 * With `crc`, the batch's CRC must be right before (seal, compressBatch and this function leave it
 * so): the new one is patched from it for the 36 bytes that change (crc32cPatch, ~2 µs) rather than
 * computed again over the whole batch (~15 µs native, ~50 µs pure for 64 KiB).
 */
export function stampProducerIdentity(
  batch: Buffer,
  identity: ProducerIdentity,
  transactional = false,
  crc = true,
): void {
  if (crc) batch.copy(stampBefore, 0, ATTRIBUTES_OFFSET, STAMP_END);
  if (transactional) {
    batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | TRANSACTIONAL_ATTRIBUTE, ATTRIBUTES_OFFSET);
  }
  writeInt64(batch, PRODUCER_ID_OFFSET, identity.producerId);
  batch.writeInt16BE(identity.producerEpoch, PRODUCER_ID_OFFSET + 8);
  batch.writeInt32BE(identity.baseSequence, PRODUCER_ID_OFFSET + 10);
  if (!crc) return;
  const after = batch.subarray(ATTRIBUTES_OFFSET, STAMP_END);
  const patched = crc32cPatch(batch.readUInt32BE(CRC_OFFSET), stampBefore, after, batch.length - STAMP_END);
  batch.writeUInt32BE(patched, CRC_OFFSET);
}

/**
 * A compressed copy of a sealed, uncompressed batch: the same header with the codec in its
 * attributes and the new length, then the records compressed as one block, and a new CRC.
 * Compression runs once per batch, never per record.
 */
export function compressBatch(
  batch: Buffer,
  codec: CompressionCodec,
  compress: (records: Buffer) => Buffer,
  crc = true,
): Buffer {
  const compressed = compress(batch.subarray(RECORD_BATCH_HEADER_SIZE));
  const result = Buffer.allocUnsafe(RECORD_BATCH_HEADER_SIZE + compressed.length);
  batch.copy(result, 0, 0, RECORD_BATCH_HEADER_SIZE);
  compressed.copy(result, RECORD_BATCH_HEADER_SIZE);
  result.writeInt32BE(result.length - BATCH_LENGTH_OFFSET - 4, BATCH_LENGTH_OFFSET);
  result.writeInt16BE((result.readInt16BE(ATTRIBUTES_OFFSET) & ~0x07) | codec, ATTRIBUTES_OFFSET);
  if (crc) writeBatchCrc(result);
  return result;
}

/** Computes and writes the CRC-32C of a batch whose other bytes are final. */
export function writeBatchCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

/** Encodes one record (with its length prefix) at the writer's position. */
export function writeRecord(
  writer: Writer,
  record: EncodableRecord,
  offsetDelta: number,
  timestampDelta: number,
): void {
  const keySize = record.key === null ? 0 : (record.keySize ?? byteSize(record.key));
  const valueSize = record.value === null ? 0 : (record.valueSize ?? byteSize(record.value));
  let headersSize = sizeOfVarint(record.headers.length);
  const headerKeySizes = new Array<number>(record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    const [key, value] = record.headers[i] as RecordHeader;
    const keyBytes = Buffer.byteLength(key, 'utf8');
    headerKeySizes[i] = keyBytes;
    headersSize += sizeOfVarint(keyBytes) + keyBytes;
    headersSize += value === null ? sizeOfVarint(-1) : sizeOfVarint(value.length) + value.length;
  }
  const bodySize =
    1 + // attributes
    sizeOfVarlong(timestampDelta) +
    sizeOfVarint(offsetDelta) +
    sizeOfVarint(record.key === null ? -1 : keySize) +
    keySize +
    sizeOfVarint(record.value === null ? -1 : valueSize) +
    valueSize +
    headersSize;

  writer.varint(bodySize).int8(0).varlong(timestampDelta).varint(offsetDelta);
  writeRecordBytes(writer, record.key, keySize);
  writeRecordBytes(writer, record.value, valueSize);
  writer.varint(record.headers.length);
  for (let i = 0; i < record.headers.length; i++) {
    const [key, value] = record.headers[i] as RecordHeader;
    writer.varint(headerKeySizes[i] as number);
    writer.raw(Buffer.from(key, 'utf8'));
    writeVarintBytes(writer, value);
  }
}

function writeRecordBytes(writer: Writer, bytes: RecordBytes | null, size: number): void {
  if (bytes === null) {
    writer.varint(-1);
  } else {
    writer.varint(size);
    const buf = writer.reserve(size);
    writer.offset = putRecordBytes(buf, writer.offset, bytes, size);
  }
}

function writeVarintBytes(writer: Writer, bytes: Uint8Array | null): void {
  if (bytes === null) {
    writer.varint(-1);
  } else {
    writer.varint(bytes.length).raw(bytes);
  }
}

/** A record read back from a batch's records section. */
export interface DecodedRecord extends EncodableRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
  attributes: number;
  offsetDelta: number;
}

/**
 * Reads `count` records from an uncompressed records section (what follows the 61-byte batch
 * header). A producer needs this only to split a batch the broker refused as too large; tests
 * use it to check what was encoded. Throws DecodeError on any inconsistency.
 */
export function readRecords(records: Buffer, count: number, baseTimestamp: number): DecodedRecord[] {
  const r = new Reader(records);
  const result: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.offset + length;
    const attributes = r.int8();
    const timestampDelta = r.varlong().toNumber();
    const offsetDelta = r.varint();
    const key = varintBytes(r);
    const value = varintBytes(r);
    const headerCount = r.varint();
    const headers: [string, Buffer | null][] = [];
    for (let h = 0; h < headerCount; h++) {
      const keyLength = r.varint();
      headers.push([r.raw(keyLength).toString('utf8'), varintBytes(r)]);
    }
    if (r.offset !== end)
      throw new DecodeError(`record ${i} length ${length} does not match its fields`, r.offset);
    result.push({ attributes, offsetDelta, timestamp: baseTimestamp + timestampDelta, key, value, headers });
  }
  r.expectEnd('records');
  return result;
}

function varintBytes(r: Reader): Buffer | null {
  const length = r.varint();
  return length === -1 ? null : Buffer.from(r.raw(length));
}
