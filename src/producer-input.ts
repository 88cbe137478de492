import { InvalidRecordError } from './errors.js';
import {
  fieldName,
  normalizeRecord,
  type NormalizedRecord,
  type ProduceRecord,
  type RecordPlace,
} from './runtime/records.js';

/**
 * A produce call's arguments checked and converted: the topic's name, each record, explicit
 * partitions. Apart from producer.ts because these rules are Kafka's and the records' (see
 * runtime/records.ts), not the facade's; nothing here depends on the producer's state.
 */

/** Room kept in a request for the batch header, record framing and request header. */
const REQUEST_FRAMING_BYTES = 512;

/** Valid topic names: Kafka's rule (1-249 of [a-zA-Z0-9._-], not "." or ".."). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** A call's records, validated and converted, and their payload bytes (what the buffer counts). */
export interface PreparedCall {
  records: NormalizedRecord[];
  bytes: number;
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
  if (!Array.isArray(input)) {
    const record = normalizeRecord(input, 'record', now, limit);
    checkPartition(record, 'record', topic, partitions);
    return { records: [record], bytes: record.size };
  }
  const list = input as readonly unknown[];
  if (list.length === 0) throw new InvalidRecordError('records', 'must not be an empty array');
  const records = new Array<NormalizedRecord>(list.length);
  let bytes = 0;
  for (let i = 0; i < list.length; i++) {
    const record = normalizeRecord(list[i], i, now, limit);
    checkPartition(record, i, topic, partitions);
    records[i] = record;
    bytes += record.size;
  }
  return { records, bytes };
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
