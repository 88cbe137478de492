import { crc32c } from '../protocol/crc32c.js';
import type { RecordHeader } from '../protocol/record-batch.js';
import { byteSize, putRecordBytes, type RecordBytes } from '../protocol/record-bytes.js';

/**
 * The spool's on-disk format. A segment file is a 24-byte header followed by entries:
 *
 *   header   "EKAFSPL1" | version u32 (1) | base entry id f64 | CRC-32C of the 20 bytes before u32
 *   entry    payload length u32 | CRC-32C of the payload u32 | payload
 *   payload  kind u8 (1: record) | acceptedAt f64 | timestamp f64 | partition i32 (-1: not chosen)
 *            | topic: length u16, UTF-8 | key: length i32 (-1: null), bytes | value: likewise
 *            | header count u32, each: name length u16, UTF-8, value length i32 (-1: null), bytes
 *
 * All integers are big-endian. An entry's id is its segment's base id plus its index in the
 * segment: ids are never written per entry, so an entry cannot claim another's place.
 */

export const SEGMENT_MAGIC = Buffer.from('EKAFSPL1', 'latin1');
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 24;
/** Length and CRC before each payload. */
export const ENTRY_FRAMING_SIZE = 8;
export const KIND_RECORD = 1;
/** An entry larger than this is damage, not data (a record is at most maxRequestBytes). */
export const MAX_ENTRY_SIZE = 256 * 1024 * 1024;

/** A record as the spool keeps it. */
export interface SpoolRecord {
  /** A string is stored as UTF-8. */
  key: RecordBytes | null;
  value: RecordBytes | null;
  headers: readonly RecordHeader[];
  /** The partition it goes to, or -1 to let the topic's partitioner choose when it is replayed. */
  partition: number;
  timestamp: number;
}

/** A record read back from the spool. */
export interface SpooledEntry {
  topic: string;
  acceptedAt: number;
  record: SpoolRecord & { key: Buffer | null; value: Buffer | null; headers: [string, Buffer | null][] };
}

export function encodeSegmentHeader(baseId: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_SIZE);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32BE(SEGMENT_VERSION, 8);
  header.writeDoubleBE(baseId, 12);
  header.writeUInt32BE(crc32c(header.subarray(0, 20)), 20);
  return header;
}

/** The base id of a segment header, or a reason why it is not one. */
export function decodeSegmentHeader(header: Buffer): { baseId: number } | { damage: string } {
  if (header.length < SEGMENT_HEADER_SIZE) return { damage: 'truncated segment header' };
  if (!header.subarray(0, 8).equals(SEGMENT_MAGIC)) return { damage: 'not a spool segment (bad magic)' };
  if (header.readUInt32BE(20) !== crc32c(header.subarray(0, 20)))
    return { damage: 'segment header CRC mismatch' };
  const version = header.readUInt32BE(8);
  if (version !== SEGMENT_VERSION) return { damage: `segment format version ${version} is not supported` };
  const baseId = header.readDoubleBE(12);
  if (!Number.isSafeInteger(baseId) || baseId < 0) return { damage: 'segment header has a bad base id' };
  return { baseId };
}

/** Payload bytes of one record entry. */
function payloadSize(topicBytes: number, record: SpoolRecord): number {
  let size =
    1 +
    8 +
    8 +
    4 +
    2 +
    topicBytes +
    4 +
    (record.key === null ? 0 : byteSize(record.key)) +
    4 +
    (record.value === null ? 0 : byteSize(record.value)) +
    4;
  for (const [name, value] of record.headers) size += 2 + Buffer.byteLength(name) + 4 + (value?.length ?? 0);
  return size;
}

/**
 * Encodes records as consecutive framed entries, ready to append to a segment. `partitionOf(i)`
 * gives the partition to store for record i.
 */
export function encodeEntries(
  topic: string,
  records: readonly SpoolRecord[],
  acceptedAt: number,
  partitionOf: (index: number) => number = (i) => (records[i] as SpoolRecord).partition,
): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  let total = 0;
  for (const record of records) total += ENTRY_FRAMING_SIZE + payloadSize(topicBytes, record);
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as SpoolRecord;
    const start = at + ENTRY_FRAMING_SIZE;
    let p = start;
    out[p++] = KIND_RECORD;
    p = out.writeDoubleBE(acceptedAt, p);
    p = out.writeDoubleBE(record.timestamp, p);
    p = out.writeInt32BE(partitionOf(i), p);
    p = out.writeUInt16BE(topicBytes, p);
    p += out.write(topic, p, 'utf8');
    p = writeBytes(out, p, record.key);
    p = writeBytes(out, p, record.value);
    p = out.writeUInt32BE(record.headers.length, p);
    for (const [name, value] of record.headers) {
      const nameBytes = out.write(name, p + 2, 'utf8');
      out.writeUInt16BE(nameBytes, p);
      p = writeBytes(out, p + 2 + nameBytes, value);
    }
    out.writeUInt32BE(p - start, at);
    out.writeUInt32BE(crc32c(out.subarray(start, p)), at + 4);
    at = p;
  }
  return out;
}

function writeBytes(out: Buffer, at: number, bytes: RecordBytes | null): number {
  if (bytes === null) return out.writeInt32BE(-1, at);
  const size = byteSize(bytes);
  return putRecordBytes(out, out.writeInt32BE(size, at), bytes, size);
}

/**
 * Decodes one payload (its CRC already checked). Throws a RangeError when it is inconsistent:
 * a CRC can only say the bytes are the ones written, not that a bug wrote them right. Keys,
 * values and header values are views of `payload`, not copies: the spool reads into buffers it
 * never reuses.
 */
export function decodeEntry(payload: Buffer): SpooledEntry {
  const r = new PayloadReader(payload);
  if (r.u8() !== KIND_RECORD) throw new RangeError(`unknown spool entry kind ${String(payload[0])}`);
  const acceptedAt = r.f64();
  const timestamp = r.f64();
  const partition = r.i32();
  const topic = r.utf8(r.u16());
  const key = r.bytes();
  const value = r.bytes();
  const headerCount = r.u32();
  const headers: [string, Buffer | null][] = [];
  for (let i = 0; i < headerCount; i++) headers.push([r.utf8(r.u16()), r.bytes()]);
  if (r.at !== payload.length)
    throw new RangeError(`spool entry has ${payload.length - r.at} bytes left over`);
  return { topic, acceptedAt, record: { key, value, headers, partition, timestamp } };
}

/** Bounds-checked big-endian reads from one payload. */
class PayloadReader {
  at = 0;

  constructor(private readonly payload: Buffer) {}

  private need(n: number): number {
    const at = this.at;
    if (at + n > this.payload.length)
      throw new RangeError(`spool entry ends early (needs ${n} bytes at ${at})`);
    this.at = at + n;
    return at;
  }

  u8(): number {
    return this.payload.readUInt8(this.need(1));
  }

  u16(): number {
    return this.payload.readUInt16BE(this.need(2));
  }

  u32(): number {
    return this.payload.readUInt32BE(this.need(4));
  }

  i32(): number {
    return this.payload.readInt32BE(this.need(4));
  }

  f64(): number {
    return this.payload.readDoubleBE(this.need(8));
  }

  utf8(length: number): string {
    const at = this.need(length);
    return this.payload.toString('utf8', at, at + length);
  }

  /** Length-prefixed bytes; -1 is null. */
  bytes(): Buffer | null {
    const length = this.i32();
    if (length === -1) return null;
    if (length < 0) throw new RangeError(`bad length ${length} in spool entry`);
    const at = this.need(length);
    return this.payload.subarray(at, at + length);
  }
}

/** Where an entry is within a buffer of segment bytes. */
export interface EntryPosition {
  /** Offset of its framing. */
  offset: number;
  /** Its payload's length. */
  length: number;
}

/** The result of checking a run of entries: those intact, then the first damage if any. */
export interface EntryScan {
  entries: EntryPosition[];
  /** Bytes scanned up to the end of the last intact entry. */
  end: number;
  /** Why scanning stopped before the end of the bytes, if it did; null at a clean end. */
  damage: { offset: number; reason: string } | null;
  /** True when the bytes end in the middle of an entry that may still be complete on disk. */
  incomplete: boolean;
}

/**
 * Checks the framed entries in `bytes` (which start at an entry boundary): each length in range
 * and each CRC right. A last entry cut short is `incomplete` (a torn tail, or just the end of a
 * read window); a wrong CRC or an impossible length is damage.
 */
export function scanEntries(bytes: Buffer, limit = Infinity): EntryScan {
  const entries: EntryPosition[] = [];
  let at = 0;
  while (at < bytes.length && entries.length < limit) {
    if (bytes.length - at < ENTRY_FRAMING_SIZE) return { entries, end: at, damage: null, incomplete: true };
    const length = bytes.readUInt32BE(at);
    if (length === 0 || length > MAX_ENTRY_SIZE) {
      return {
        entries,
        end: at,
        damage: { offset: at, reason: `impossible entry length ${length}` },
        incomplete: false,
      };
    }
    if (bytes.length - at - ENTRY_FRAMING_SIZE < length)
      return { entries, end: at, damage: null, incomplete: true };
    const payload = bytes.subarray(at + ENTRY_FRAMING_SIZE, at + ENTRY_FRAMING_SIZE + length);
    if (crc32c(payload) !== bytes.readUInt32BE(at + 4)) {
      return { entries, end: at, damage: { offset: at, reason: 'entry CRC mismatch' }, incomplete: false };
    }
    entries.push({ offset: at, length });
    at += ENTRY_FRAMING_SIZE + length;
  }
  return { entries, end: at, damage: null, incomplete: false };
}
