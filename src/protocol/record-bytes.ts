/**
 * A record's key or value on its way into a batch: bytes, or a string that is written as UTF-8
 * straight into the batch buffer.
 *
 * Why strings are kept as strings: most values come from `JSON.stringify`. Converting each with
 * `Buffer.from` costs an allocation of a Buffer (a typed array and its slice of the pool) per key
 * and per value, that lives only until the record is encoded; at a million records a second that
 * garbage was a third of the producer's CPU time in collections (1 M keyed 100 B string records:
 * 3.6 s, against 1.0 s for the same records as Buffers). Written in place, a string costs one
 * `Buffer.byteLength` when it is accepted (its size counts in the buffer bounds) and one write.
 */
export type RecordBytes = Uint8Array | string;

/** The writers Buffer has for one encoding each; the documented `write` parses its arguments first. */
interface EncodingWriters {
  latin1Write(text: string, offset: number, length: number): number;
  utf8Write(text: string, offset: number, length: number): number;
}

/** Up to this many characters, a loop writes an ASCII string faster than a call into C++. */
const SHORT_STRING = 16;

/** Bytes `bytes` takes in a batch (UTF-8 for a string). */
export function byteSize(bytes: RecordBytes): number {
  return typeof bytes === 'string' ? utf8Size(bytes) : bytes.length;
}

/**
 * Bytes of `text` in UTF-8. A short string (a key, mostly) is looked at in JavaScript: when every
 * character is ASCII its size is its length, found in less time than the call into C++ that
 * `Buffer.byteLength` makes (Node 24, 1 M 8-character keys: 23 against 33–40 ns); any other
 * character leaves the count to `Buffer.byteLength`.
 */
export function utf8Size(text: string): number {
  const length = text.length;
  if (length > SHORT_STRING) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return length;
}

/**
 * Writes `bytes`, of `size` bytes (byteSize's answer), at `at`; returns the position after them.
 * Room for them must be there.
 */
export function putRecordBytes(buf: Buffer, at: number, bytes: RecordBytes, size: number): number {
  if (typeof bytes === 'string') {
    // As many bytes as characters: every character is ASCII, whose UTF-8 is its Latin-1 byte.
    if (size === bytes.length) {
      if (size <= SHORT_STRING) {
        for (let i = 0; i < size; i++) buf[at + i] = bytes.charCodeAt(i);
      } else {
        (buf as unknown as EncodingWriters).latin1Write(bytes, at, size);
      }
    } else {
      (buf as unknown as EncodingWriters).utf8Write(bytes, at, size);
    }
  } else if (size <= SHORT_STRING) {
    // A loop beats the TypedArray.set call for the few bytes of a key.
    for (let i = 0; i < size; i++) buf[at + i] = bytes[i] as number;
  } else {
    buf.set(bytes, at);
  }
  return at + size;
}

/** `bytes` as a Buffer (a view when it is one already): for the slow paths that need bytes. */
export function toBytes(bytes: RecordBytes): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
