import { InvalidRecordError, RecordTooLargeError } from '../errors.js';
import type { RecordHeader } from '../protocol/record-batch.js';
import { utf8Size, type RecordBytes } from '../protocol/record-bytes.js';

/** A value or key as the application gives it. */
export type Bytes = Buffer | Uint8Array | string;

/** Header values may be strings or bytes; keys may repeat. */
export type HeaderInput = Record<string, Bytes | null> | readonly (readonly [string, Bytes | null])[];

/** One record as `produce*()` accepts it: a bare value, or the full form. */
export type ProduceRecord =
  | Bytes
  | {
      key?: Bytes | null;
      value: Bytes | null;
      headers?: HeaderInput;
      /** Explicit partition; the topic's partitioner is used when absent. */
      partition?: number;
      /** Create time in ms since the epoch; now when absent. */
      timestamp?: number;
    };

/**
 * A record after validation, ready to be partitioned and encoded. Keys and values stay as given
 * (a string is written as UTF-8 straight into its batch: see protocol/record-bytes.ts), with
 * their sizes in bytes; header values are bytes.
 */
export interface NormalizedRecord {
  key: RecordBytes | null;
  value: RecordBytes | null;
  /** UTF-8 bytes of the key and the value; 0 for null. */
  keySize: number;
  valueSize: number;
  headers: RecordHeader[];
  /** -1: let the partitioner choose. */
  partition: number;
  timestamp: number;
  /** Bytes of key, value and headers: what the buffer bounds count. */
  size: number;
}

export const NO_HEADERS: RecordHeader[] = [];

/**
 * Where a record is in its call, for errors: its index in the records array, or a name
 * ('record' for a call of one bare record). Names are built only when an error needs one.
 */
export type RecordPlace = number | string;

/** `records[3]`, or the name as given. */
export function fieldName(place: RecordPlace, suffix = ''): string {
  return `${typeof place === 'number' ? `records[${place}]` : place}${suffix}`;
}

/** A record to fill (normalizeRecord, readAccepted). */
export function emptyRecord(): NormalizedRecord {
  return {
    key: null,
    value: null,
    keySize: 0,
    valueSize: 0,
    headers: NO_HEADERS,
    partition: -1,
    timestamp: 0,
    size: 0,
  };
}

/**
 * The records of a call as the data path reads them, one at a time: an array of records, or a
 * call's records read from the caller's own objects (producer-input.ts's PreparedRecords). `at`
 * may return `scratch` filled with the record, valid until the next `at`: who keeps a record
 * copies it (keepRecord).
 */
export interface RecordList {
  readonly length: number;
  at(index: number, scratch: NormalizedRecord): NormalizedRecord | undefined;
}

/** `record` itself, or a copy if it is the scratch a RecordList filled. */
export function keepRecord(record: NormalizedRecord, scratch: NormalizedRecord): NormalizedRecord {
  return record === scratch ? { ...record } : record;
}

/**
 * Validates one record and fills `into` with it (a new record by default). `place` names it in
 * errors (`records[3]`). Records are checked before any is accepted, so a bad record in an array
 * rejects the whole call and nothing of it is half-sent.
 */
export function normalizeRecord(
  input: unknown,
  place: RecordPlace,
  now: number,
  maxRecordBytes: number,
  into: NormalizedRecord = emptyRecord(),
): NormalizedRecord {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const valueSize = sizeOf(input, place, '');
    into.key = null;
    into.value = input;
    into.keySize = 0;
    into.valueSize = valueSize;
    into.headers = NO_HEADERS;
    into.partition = -1;
    into.timestamp = now;
    into.size = valueSize;
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    if (!('value' in input)) {
      throw new InvalidRecordError(fieldName(place), 'a record object needs a value (null for a tombstone)');
    }
    const fields = input as RecordFields;
    const key = fields.key == null ? null : (fields.key as RecordBytes);
    const keySize = key === null ? 0 : sizeOf(key, place, '.key');
    const value = fields.value === null ? null : (fields.value as RecordBytes);
    const valueSize = value === null ? 0 : sizeOf(value, place, '.value');
    const headers =
      fields.headers === undefined ? NO_HEADERS : toHeaders(fields.headers, fieldName(place, '.headers'));
    let size = keySize + valueSize;
    for (const [name, headerValue] of headers) size += Buffer.byteLength(name) + (headerValue?.length ?? 0);
    into.key = key;
    into.value = value;
    into.keySize = keySize;
    into.valueSize = valueSize;
    into.headers = headers;
    into.partition = fields.partition === undefined ? -1 : toPartition(fields.partition, place);
    into.timestamp = fields.timestamp === undefined ? now : toTimestamp(fields.timestamp, place);
    into.size = size;
  } else {
    throw new InvalidRecordError(
      fieldName(place),
      `must be a Buffer, a string or { key, value, headers, partition, timestamp } (got ${describe(input)})`,
    );
  }
  if (into.size > maxRecordBytes) throw new RecordTooLargeError(into.size, maxRecordBytes);
  return into;
}

/** A record object's fields, as the caller may have set them. */
interface RecordFields {
  key?: unknown;
  value: unknown;
  headers?: unknown;
  partition?: unknown;
  timestamp?: unknown;
}

/**
 * Fills `into` with `input` again, a record normalizeRecord accepted, given the sizes and headers
 * it found (not computed twice): no checks, nothing allocated. The data path
 * reads a call's records this way, so that a record costs no object of its own (producer-input.ts).
 */
export function readAccepted(
  into: NormalizedRecord,
  input: unknown,
  keySize: number,
  valueSize: number,
  size: number,
  headers: RecordHeader[],
  now: number,
): NormalizedRecord {
  if (typeof input === 'string' || input instanceof Uint8Array) {
    into.key = null;
    into.value = input;
    into.partition = -1;
    into.timestamp = now;
  } else {
    const fields = input as RecordFields;
    into.key = (fields.key ?? null) as RecordBytes | null;
    into.value = fields.value as RecordBytes | null;
    into.partition = (fields.partition ?? -1) as number;
    into.timestamp = (fields.timestamp ?? now) as number;
  }
  into.keySize = keySize;
  into.valueSize = valueSize;
  into.headers = headers;
  into.size = size;
  return into;
}

/** Bytes of a key or value, which must be a string or bytes (a string as UTF-8). */
function sizeOf(value: unknown, place: RecordPlace, suffix: string): number {
  if (typeof value === 'string') return utf8Size(value);
  if (value instanceof Uint8Array) return value.length;
  throw new InvalidRecordError(
    fieldName(place, suffix),
    `must be a Buffer, Uint8Array or string (got ${describe(value)})`,
  );
}

function toBuffer(value: unknown, place: RecordPlace, suffix: string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new InvalidRecordError(
    fieldName(place, suffix),
    `must be a Buffer, Uint8Array or string (got ${describe(value)})`,
  );
}

function toHeaders(input: unknown, field: string): RecordHeader[] {
  const entries: unknown[] = Array.isArray(input)
    ? input
    : typeof input === 'object' && input !== null
      ? Object.entries(input)
      : [];
  if (!Array.isArray(input) && (typeof input !== 'object' || input === null)) {
    throw new InvalidRecordError(
      field,
      `must be an object or an array of [key, value] pairs (got ${describe(input)})`,
    );
  }
  return entries.map((entry, i): RecordHeader => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      throw new InvalidRecordError(`${field}[${i}]`, 'must be a [string, value] pair');
    }
    const value: unknown = entry[1];
    return [entry[0], value === null ? null : toBuffer(value, field, `.${entry[0]}`)];
  });
}

function toPartition(value: unknown, place: RecordPlace): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new InvalidRecordError(
      fieldName(place, '.partition'),
      `must be an integer >= 0 (got ${describe(value)})`,
    );
  }
  return value;
}

function toTimestamp(value: unknown, place: RecordPlace): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRecordError(
      fieldName(place, '.timestamp'),
      `must be an integer number of ms >= 0 (got ${describe(value)})`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  return typeof value;
}
