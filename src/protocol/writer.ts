import Long from 'long';
import { EncodeError } from '../errors.js';

/** Below this size rawShared copies: a separate chunk costs more than copying a few KiB. */
const SHARE_FROM_BYTES = 2048;

/**
 * Where a writer gets the larger buffer it grows into, and gives back the one it outgrew (a
 * record batch's buffers come from the producer's pool: runtime/batch-buffer-pool.ts).
 */
export interface BufferAllocator {
  take(size: number): Buffer;
  give(buffer: Buffer): void;
}

/**
 * A growable big-endian buffer writer for Kafka's primitive types.
 *
 * Naming follows the protocol guide: `string` is int16-length, `compactString` is
 * unsigned-varint(length + 1), "nullable" variants write -1 / 0 for null. Every method
 * returns `this` so that encoders read as a sequence of fields.
 */
export class Writer {
  private buf: Buffer;
  /** Bytes written into the writer's own buffer; also the position of the next write there. */
  offset = 0;
  /** Buffers appended by reference (rawShared), each with the own-buffer position it follows. */
  private shared: { at: number; bytes: Uint8Array }[] | null = null;
  private sharedBytes = 0;

  /**
   * @param initial a capacity, or a buffer to write into (until it is outgrown).
   * @param allocator where larger buffers come from when it is outgrown, and where the outgrown
   *   one goes back (nothing else may still read it then); fresh allocations without one.
   */
  constructor(
    initial: number | Buffer = 256,
    private readonly allocator: BufferAllocator | null = null,
    /**
     * The most a writer that doubles needs, when known (a record batch: batchBytes and a
     * little): it grows to this rather than past it, so that a full batch does not sit in a
     * buffer up to twice its size.
     */
    private readonly ceiling = Infinity,
  ) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
  }

  /** The buffer written into; it changes when the writer outgrows it. */
  get buffer(): Buffer {
    return this.buf;
  }

  /**
   * Makes room for `bytes` more bytes at `offset` and returns the buffer, for encoders that write
   * directly (then move `offset` past what they wrote).
   */
  reserve(bytes: number): Buffer {
    this.ensure(bytes);
    return this.buf;
  }

  /** Makes room for `bytes` more bytes, doubling so that appends stay amortised O(1). */
  private ensure(bytes: number): void {
    const needed = this.offset + bytes;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    if (capacity > this.ceiling && needed <= this.ceiling) capacity = this.ceiling;
    const grown = this.allocator === null ? Buffer.allocUnsafe(capacity) : this.allocator.take(capacity);
    this.buf.copy(grown, 0, 0, this.offset);
    this.allocator?.give(this.buf);
    this.buf = grown;
  }

  /** Bytes written so far, those appended by reference included. */
  get length(): number {
    return this.offset + this.sharedBytes;
  }

  /** The bytes written so far. The view shares memory with the writer until the next write. */
  view(): Buffer {
    if (this.shared !== null) throw new EncodeError('the writer holds shared chunks: use chunks()');
    return this.buf.subarray(0, this.offset);
  }

  /**
   * The bytes written so far as the chunks to send in order: views of the writer's own buffer
   * around the buffers appended by reference. One chunk when nothing was shared.
   */
  chunks(): Uint8Array[] {
    if (this.shared === null) return [this.view()];
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const { at, bytes } of this.shared) {
      if (at > from) chunks.push(this.buf.subarray(from, at));
      chunks.push(bytes);
      from = at;
    }
    if (this.offset > from) chunks.push(this.buf.subarray(from, this.offset));
    return chunks;
  }

  /** The bytes written so far in one buffer: the view, or a concatenation of the chunks. */
  contiguous(): Buffer {
    return this.shared === null ? this.view() : Buffer.concat(this.chunks(), this.length);
  }

  /** A copy of the bytes written so far, independent of the writer. */
  toBuffer(): Buffer {
    return Buffer.from(this.contiguous());
  }

  int8(value: number): this {
    this.ensure(1);
    this.buf.writeInt8(value, this.offset);
    this.offset += 1;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(value, this.offset);
    this.offset += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(value, this.offset);
    this.offset += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(value, this.offset);
    this.offset += 4;
    return this;
  }

  /** int64 from a `Long` or a safe integer number (offsets, timestamps, producer ids). */
  int64(value: Long | number): this {
    const long = typeof value === 'number' ? Long.fromNumber(value) : value;
    this.ensure(8);
    this.buf.writeInt32BE(long.high, this.offset);
    this.buf.writeInt32BE(long.low, this.offset + 4);
    this.offset += 8;
    return this;
  }

  /** Overwrites an int32 at an earlier position: used for sizes known only after the content. */
  int32At(position: number, value: number): this {
    this.buf.writeInt32BE(value, position);
    return this;
  }

  /** Reserves an int32 to be filled later with `int32At`; returns its position. */
  reserveInt32(): number {
    const position = this.offset;
    this.int32(0);
    return position;
  }

  /** Unsigned LEB128 varint of a 32-bit value (compact lengths, tags). */
  unsignedVarint(value: number): this {
    this.ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.buf[this.offset++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.offset++] = v;
    return this;
  }

  /** Zigzag varint of a signed 32-bit value (record fields). */
  varint(value: number): this {
    if ((value | 0) !== value) throw new EncodeError(`varint ${value} is not a 32-bit integer`);
    return this.unsignedVarint((value << 1) ^ (value >> 31));
  }

  /** Zigzag varlong of a signed 64-bit value. Numbers take a fast path; `Long` covers the full range. */
  varlong(value: Long | number): this {
    if (typeof value === 'number') {
      if (value >= -0x40000000 && value < 0x40000000) return this.varint(value);
      value = Long.fromNumber(value);
    }
    // zigzag: (n << 1) ^ (n >> 63), then 7 bits at a time, unsigned.
    let z = value.shiftLeft(1).xor(value.shiftRight(63)).toUnsigned();
    this.ensure(10);
    while (z.high !== 0 || z.low >>> 0 >= 0x80) {
      this.buf[this.offset++] = (z.low & 0x7f) | 0x80;
      z = z.shiftRightUnsigned(7);
    }
    this.buf[this.offset++] = z.low;
    return this;
  }

  uuid(value: Buffer): this {
    if (value.length !== 16) throw new EncodeError(`a UUID is 16 bytes, got ${value.length}`);
    return this.raw(value);
  }

  /** Bytes with no length prefix. */
  raw(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /**
   * Bytes with no length prefix, appended by reference: not copied, so they must stay unchanged
   * until the chunks are written (a sealed record batch is never changed). Small ones are copied,
   * as a separate chunk costs more than the copy.
   */
  rawShared(value: Uint8Array): this {
    if (value.length < SHARE_FROM_BYTES) return this.raw(value);
    (this.shared ??= []).push({ at: this.offset, bytes: value });
    this.sharedBytes += value.length;
    return this;
  }

  string(value: string): this {
    const length = stringLength(value);
    this.int16(length);
    return this.utf8(value, length);
  }

  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  compactString(value: string): this {
    const length = stringLength(value);
    this.unsignedVarint(length + 1);
    return this.utf8(value, length);
  }

  compactNullableString(value: string | null): this {
    return value === null ? this.unsignedVarint(0) : this.compactString(value);
  }

  bytes(value: Uint8Array): this {
    this.int32(value.length);
    return this.raw(value);
  }

  nullableBytes(value: Uint8Array | null): this {
    return value === null ? this.int32(-1) : this.bytes(value);
  }

  compactBytes(value: Uint8Array): this {
    this.unsignedVarint(value.length + 1);
    return this.raw(value);
  }

  compactNullableBytes(value: Uint8Array | null): this {
    return value === null ? this.unsignedVarint(0) : this.compactBytes(value);
  }

  /** int32-length array; `null` writes -1 (nullable arrays). */
  array<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.int32(-1);
    this.int32(items.length);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /** unsigned-varint(length + 1) array; `null` writes 0. */
  compactArray<T>(items: readonly T[] | null, writeItem: (writer: this, item: T) => void): this {
    if (items === null) return this.unsignedVarint(0);
    this.unsignedVarint(items.length + 1);
    for (const item of items) writeItem(this, item);
    return this;
  }

  /**
   * A tagged-field section (flexible versions). ekaf sends no tagged fields today, so the common
   * call is `taggedFields()`, one zero byte. Tags must be written in ascending order.
   */
  taggedFields(fields: readonly (readonly [tag: number, data: Uint8Array])[] = []): this {
    this.unsignedVarint(fields.length);
    let previous = -1;
    for (const [tag, data] of fields) {
      if (tag <= previous) throw new EncodeError(`tagged fields must be in ascending order (tag ${tag})`);
      previous = tag;
      this.unsignedVarint(tag).unsignedVarint(data.length).raw(data);
    }
    return this;
  }

  // Version-dependent encodings: API modules call these with `flexible` instead of branching
  // on every field. Flexible versions use the compact forms and end each struct with tagged fields.

  flexString(flexible: boolean, value: string): this {
    return flexible ? this.compactString(value) : this.string(value);
  }

  flexNullableString(flexible: boolean, value: string | null): this {
    return flexible ? this.compactNullableString(value) : this.nullableString(value);
  }

  flexNullableBytes(flexible: boolean, value: Uint8Array | null): this {
    return flexible ? this.compactNullableBytes(value) : this.nullableBytes(value);
  }

  /** flexNullableBytes with the bytes appended by reference (rawShared): record batches. */
  flexNullableBytesShared(flexible: boolean, value: Uint8Array | null): this {
    if (value === null) return flexible ? this.unsignedVarint(0) : this.int32(-1);
    if (flexible) this.unsignedVarint(value.length + 1);
    else this.int32(value.length);
    return this.rawShared(value);
  }

  flexArray<T>(
    flexible: boolean,
    items: readonly T[] | null,
    writeItem: (writer: this, item: T) => void,
  ): this {
    return flexible ? this.compactArray(items, writeItem) : this.array(items, writeItem);
  }

  /** The empty tagged-field section that ends a struct in flexible versions; nothing otherwise. */
  flexTaggedFields(flexible: boolean): this {
    return flexible ? this.taggedFields() : this;
  }

  private utf8(value: string, length: number): this {
    this.ensure(length);
    this.buf.write(value, this.offset, length, 'utf8');
    this.offset += length;
    return this;
  }
}

/**
 * UTF-8 length of a protocol string. Kafka caps strings at 32767 bytes in every encoding (compact
 * strings too: brokers reject longer ones), so the limit is enforced here for both.
 */
function stringLength(value: string): number {
  const length = Buffer.byteLength(value, 'utf8');
  if (length > 0x7fff) throw new EncodeError(`string of ${length} bytes exceeds the protocol limit of 32767`);
  return length;
}
