import { REQUEST_FRAMING_BYTES } from './config.js';
import { InvalidRecordError } from './errors.js';
import type { RecordHeader } from './protocol/record-batch.js';
import {
  emptyRecord,
  fieldName,
  NO_HEADERS,
  normalizeRecord,
  readAccepted,
  type NormalizedRecord,
  type ProduceRecord,
  type RecordList,
  type RecordPlace,
} from './runtime/records.js';

/**
 * A produce call's arguments checked and converted: the topic's name, each record, explicit
 * partitions. Apart from producer.ts because these rules are Kafka's and the records' (see
 * runtime/records.ts), not the facade's; nothing here depends on the producer's state.
 */

/** Valid topic names: Kafka's rule (1-249 of [a-zA-Z0-9._-], not "." or ".."). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** A call's records, validated, and their payload bytes (what the buffer counts). */
export interface PreparedCall {
  records: PreparedRecords;
  bytes: number;
}

/**
 * A call's records, checked, read from the caller's own objects as the data path takes them
 * (RecordList.at fills one scratch record): no object per record. At a million records a second
 * a NormalizedRecord each was 1 M short-lived objects a second, and the validation pass twice as
 * slow as one that only sizes the records (194 against 83 ms per million, .scratch/norm.mjs).
 * What needs records to keep (the spool, a topic waiting for its partitions) copies them.
 */
export class PreparedRecords implements RecordList {
  private copies: NormalizedRecord[] | null = null;

  constructor(
    private readonly input: readonly unknown[],
    /** Per record, in turn: its key's bytes, its value's, and its size (with headers). */
    private readonly sizes: Uint32Array,
    /** The converted headers of the records that have any; null when none has. */
    private readonly headers: (RecordHeader[] | undefined)[] | null,
    /** The call's time: the timestamp of records without one. */
    private readonly now: number,
  ) {}

  get length(): number {
    return this.input.length;
  }

  at(index: number, scratch: NormalizedRecord): NormalizedRecord {
    const { sizes } = this;
    const at = index * 3;
    return readAccepted(
      scratch,
      this.input[index],
      sizes[at] as number,
      sizes[at + 1] as number,
      sizes[at + 2] as number,
      this.headers?.[index] ?? NO_HEADERS,
      this.now,
    );
  }

  /** Every record, each an object of its own. */
  all(): NormalizedRecord[] {
    return (this.copies ??= Array.from({ length: this.length }, (_, i) => this.at(i, emptyRecord())));
  }
}

export function assertTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    throw new InvalidRecordError(
      'topic',
      `must be 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-', and not "." or ".." (got ${JSON.stringify(topic)})`,
    );
  }
}

/**
 * Validates and converts a call's records, to be sent in requests of at most `maxRequestBytes`
 * to a topic of `partitions` partitions (-1: not known yet). Throws an InvalidRecordError naming
 * the first bad record; nothing is accepted then.
 */
export function prepareRecords(
  topic: string,
  input: ProduceRecord | readonly ProduceRecord[],
  maxRequestBytes: number,
  partitions: number,
): PreparedCall {
  const now = Date.now();
  // A record must fit in one request together with its batch and request framing.
  const limit = maxRequestBytes - REQUEST_FRAMING_BYTES;
  const single = !Array.isArray(input);
  const list = single ? [input] : (input as readonly unknown[]);
  if (list.length === 0) throw new InvalidRecordError('records', 'must not be an empty array');
  const sizes = new Uint32Array(list.length * 3);
  let headers: (RecordHeader[] | undefined)[] | null = null;
  const record = emptyRecord();
  let bytes = 0;
  for (let i = 0; i < list.length; i++) {
    const place = single ? 'record' : i;
    normalizeRecord(list[i], place, now, limit, record);
    checkPartition(record, place, topic, partitions);
    sizes[i * 3] = record.keySize;
    sizes[i * 3 + 1] = record.valueSize;
    sizes[i * 3 + 2] = record.size;
    if (record.headers !== NO_HEADERS) (headers ??= [])[i] = record.headers;
    bytes += record.size;
  }
  return { records: new PreparedRecords(list, sizes, headers, now), bytes };
}

/** An explicit partition must exist when the partition count is known (-1: not yet). */
function checkPartition(
  record: NormalizedRecord,
  place: RecordPlace,
  topic: string,
  partitions: number,
): void {
  if (partitions !== -1 && record.partition >= partitions) {
    throw new InvalidRecordError(
      fieldName(place, '.partition'),
      `topic "${topic}" has ${partitions} partitions`,
    );
  }
}
