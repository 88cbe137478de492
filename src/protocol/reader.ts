import Long from 'long';
import { DecodeError } from '../errors.js';

/**
 * A bounds-checked big-endian reader over one frame.
 *
 * Every read checks that its bytes lie inside the frame and throws a `DecodeError` carrying the
 * offset otherwise: a truncated or lying frame never yields garbage values.
 */
export class Reader {
  /** Position of the next read, relative to the start of `buf`. */
  offset: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.offset = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  /** Throws unless `bytes` more bytes are available; returns the position where they start. */
  private take(bytes: number, what: string): number {
    if (bytes < 0 || this.offset + bytes > this.end) {
      throw new DecodeError(
        `frame truncated: ${what} needs ${bytes} bytes, ${this.end - this.offset} remain`,
        this.offset,
      );
    }
    const position = this.offset;
    this.offset += bytes;
    return position;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1, 'int8'));
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2, 'int16'));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4, 'int32'));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4, 'uint32'));
  }

  int64(): Long {
    const position = this.take(8, 'int64');
    return new Long(this.buf.readInt32BE(position + 4), this.buf.readInt32BE(position));
  }

  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.buf[this.take(1, 'varint')] as number;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
    throw new DecodeError('varint longer than 5 bytes', this.offset);
  }

  varint(): number {
    const z = this.unsignedVarint();
    return (z >>> 1) ^ -(z & 1);
  }

  varlong(): Long {
    let value = Long.UZERO;
    for (let shift = 0; shift < 70; shift += 7) {
      const byte = this.buf[this.take(1, 'varlong')] as number;
      value = value.or(Long.fromInt(byte & 0x7f, true).shiftLeft(shift));
      if ((byte & 0x80) === 0) {
        // zigzag decode: (z >>> 1) ^ -(z & 1)
        const signed = value.toSigned();
        return signed.shiftRightUnsigned(1).xor(signed.and(1).negate());
      }
    }
    throw new DecodeError('varlong longer than 10 bytes', this.offset);
  }

  uuid(): Buffer {
    return this.raw(16);
  }

  /** `length` bytes as a view into the frame (no copy). */
  raw(length: number): Buffer {
    const position = this.take(length, 'bytes');
    return this.buf.subarray(position, position + length);
  }

  string(): string {
    const length = this.int16();
    if (length < 0) throw new DecodeError(`non-nullable string has length ${length}`, this.offset - 2);
    return this.utf8(length);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new DecodeError(`invalid string length ${length}`, this.offset - 2);
    return this.utf8(length);
  }

  compactString(): string {
    const start = this.offset;
    const value = this.compactNullableString();
    if (value === null) throw new DecodeError('non-nullable compact string is null', start);
    return value;
  }

  compactNullableString(): string | null {
    const lengthPlusOne = this.unsignedVarint();
    return lengthPlusOne === 0 ? null : this.utf8(lengthPlusOne - 1);
  }

  bytes(): Buffer {
    const start = this.offset;
    const value = this.nullableBytes();
    if (value === null) throw new DecodeError('non-nullable bytes are null', start);
    return value;
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw new DecodeError(`invalid bytes length ${length}`, this.offset - 4);
    return this.raw(length);
  }

  compactBytes(): Buffer {
    const start = this.offset;
    const value = this.compactNullableBytes();
    if (value === null) throw new DecodeError('non-nullable compact bytes are null', start);
    return value;
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.unsignedVarint();
    return lengthPlusOne === 0 ? null : this.raw(lengthPlusOne - 1);
  }

  /** int32-length array. A null (-1) array is rejected: callers that accept null use `nullableArray`. */
  array<T>(readItem: (reader: this) => T): T[] {
    const start = this.offset;
    const items = this.nullableArray(readItem);
    if (items === null) throw new DecodeError('non-nullable array is null', start);
    return items;
  }

  nullableArray<T>(readItem: (reader: this) => T): T[] | null {
    const start = this.offset;
    const length = this.int32();
    if (length === -1) return null;
    return this.items(length, readItem, start);
  }

  compactArray<T>(readItem: (reader: this) => T): T[] {
    const start = this.offset;
    const items = this.compactNullableArray(readItem);
    if (items === null) throw new DecodeError('non-nullable compact array is null', start);
    return items;
  }

  compactNullableArray<T>(readItem: (reader: this) => T): T[] | null {
    const start = this.offset;
    const lengthPlusOne = this.unsignedVarint();
    if (lengthPlusOne === 0) return null;
    return this.items(lengthPlusOne - 1, readItem, start);
  }

  /**
   * Reads a tagged-field section and returns the fields by tag (their raw bytes). Unknown tags are
   * how newer brokers extend a response; callers pick the ones they know and ignore the rest.
   */
  taggedFields(): Map<number, Buffer> {
    const count = this.unsignedVarint();
    const fields = new Map<number, Buffer>();
    for (let i = 0; i < count; i++) {
      const tag = this.unsignedVarint();
      const size = this.unsignedVarint();
      fields.set(tag, this.raw(size));
    }
    return fields;
  }

  /** Throws unless the frame was consumed exactly (used where a body must be one exact format). */
  expectEnd(what: string): void {
    if (this.offset !== this.end) {
      throw new DecodeError(`${what}: ${this.end - this.offset} unexpected trailing bytes`, this.offset);
    }
  }

  // Version-dependent decodings, mirroring Writer's flex* methods.

  flexString(flexible: boolean): string {
    return flexible ? this.compactString() : this.string();
  }

  flexNullableString(flexible: boolean): string | null {
    return flexible ? this.compactNullableString() : this.nullableString();
  }

  flexNullableBytes(flexible: boolean): Buffer | null {
    return flexible ? this.compactNullableBytes() : this.nullableBytes();
  }

  flexArray<T>(flexible: boolean, readItem: (reader: this) => T): T[] {
    return flexible ? this.compactArray(readItem) : this.array(readItem);
  }

  /** Skips (or returns) the tagged fields that end a struct in flexible versions. */
  flexTaggedFields(flexible: boolean): Map<number, Buffer> | undefined {
    return flexible ? this.taggedFields() : undefined;
  }

  private items<T>(length: number, readItem: (reader: this) => T, start: number): T[] {
    if (length < 0) throw new DecodeError(`invalid array length ${length}`, start);
    // Every element takes at least one byte: a larger count is a lie, and allocating for it would
    // let a hostile frame make us reserve gigabytes.
    if (length > this.remaining) {
      throw new DecodeError(`array of ${length} elements cannot fit in ${this.remaining} bytes`, start);
    }
    const items = new Array<T>(length);
    for (let i = 0; i < length; i++) items[i] = readItem(this);
    return items;
  }

  private utf8(length: number): string {
    const position = this.take(length, 'string');
    return this.buf.toString('utf8', position, position + length);
  }
}
