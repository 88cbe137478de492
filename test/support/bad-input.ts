import type { Producer } from '../../src/producer.js';

/**
 * Bad input from an application, one case per row of the README's "Bad input" table: what the
 * call is, and the typed error it must get (class, field, message). The integration test runs
 * every case against a producer that has records in flight, and checks the README lists them.
 */
export interface BadCall {
  /** The call as the README shows it. */
  call: string;
  /** Said after the call in the README. */
  note?: string;
  /** Makes the call through produceAsync (`async`) or produceSync (`sync`); both must refuse it. */
  run: (producer: Producer, mode: 'async' | 'sync') => unknown;
  error: 'InvalidRecordError' | 'RecordTooLargeError' | 'ProducerClosedError';
  /** InvalidRecordError's `field`; undefined for the others. */
  field?: string;
  /** The whole message. */
  message: string;
}

/** The topic the cases use; created with this many partitions. */
export const TOPIC = 'bad-input';
export const PARTITIONS = 3;
/** maxRequestBytes of the producer the cases run against: a record over it less 512 is too large. */
export const MAX_REQUEST_BYTES = 64 * 1024;

const TOPIC_RULE = `must be 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-', and not "." or ".."`;
const BYTES_RULE = 'must be a Buffer, Uint8Array or string';
const RECORD_RULE = 'must be a Buffer, a string or { key, value, headers, partition, timestamp }';

/** Calls produceAsync or produceSync with untyped arguments, as JavaScript callers can. */
function produce(producer: Producer, mode: 'async' | 'sync', topic: unknown, records: unknown): unknown {
  const p = producer as unknown as Record<string, (...args: unknown[]) => unknown>;
  return mode === 'async'
    ? p.produceAsync?.call(producer, topic, records)
    : p.produceSync?.call(producer, topic, records);
}

const on = (records: unknown) => (producer: Producer, mode: 'async' | 'sync') =>
  produce(producer, mode, TOPIC, records);
const onTopic = (topic: unknown) => (producer: Producer, mode: 'async' | 'sync') =>
  produce(producer, mode, topic, 'x');

export const BAD_CALLS: BadCall[] = [
  {
    call: `produceAsync('', 'x')`,
    run: onTopic(''),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got "")`,
  },
  {
    call: `produceAsync('.', 'x')`,
    run: onTopic('.'),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got ".")`,
  },
  {
    call: `produceAsync('..', 'x')`,
    run: onTopic('..'),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got "..")`,
  },
  {
    call: `produceAsync('t'.repeat(250), 'x')`,
    run: onTopic('t'.repeat(250)),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got "${'t'.repeat(250)}")`,
  },
  {
    call: `produceAsync('bad topic!', 'x')`,
    run: onTopic('bad topic!'),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got "bad topic!")`,
  },
  {
    call: `produceAsync(42, 'x')`,
    run: onTopic(42),
    error: 'InvalidRecordError',
    field: 'topic',
    message: `topic: ${TOPIC_RULE} (got 42)`,
  },
  {
    call: `produceAsync(t, 42)`,
    run: on(42),
    error: 'InvalidRecordError',
    field: 'record',
    message: `record: ${RECORD_RULE} (got 42)`,
  },
  {
    call: `produceAsync(t, null)`,
    run: on(null),
    error: 'InvalidRecordError',
    field: 'record',
    message: `record: ${RECORD_RULE} (got null)`,
  },
  {
    call: `produceAsync(t, { key: 'k' })`,
    run: on({ key: 'k' }),
    error: 'InvalidRecordError',
    field: 'record',
    message: 'record: a record object needs a value (null for a tombstone)',
  },
  {
    call: `produceAsync(t, { value: 42 })`,
    run: on({ value: 42 }),
    error: 'InvalidRecordError',
    field: 'record.value',
    message: `record.value: ${BYTES_RULE} (got 42)`,
  },
  {
    call: `produceAsync(t, { value: new Uint16Array(2) })`,
    run: on({ value: new Uint16Array(2) }),
    error: 'InvalidRecordError',
    field: 'record.value',
    message: `record.value: ${BYTES_RULE} (got object)`,
  },
  {
    call: `produceAsync(t, { key: 5, value: 'v' })`,
    run: on({ key: 5, value: 'v' }),
    error: 'InvalidRecordError',
    field: 'record.key',
    message: `record.key: ${BYTES_RULE} (got 5)`,
  },
  {
    call: `produceAsync(t, { value: 'v', headers: 'h' })`,
    run: on({ value: 'v', headers: 'h' }),
    error: 'InvalidRecordError',
    field: 'record.headers',
    message: 'record.headers: must be an object or an array of [key, value] pairs (got string)',
  },
  {
    call: `produceAsync(t, { value: 'v', headers: { trace: 7 } })`,
    run: on({ value: 'v', headers: { trace: 7 } }),
    error: 'InvalidRecordError',
    field: 'record.headers.trace',
    message: `record.headers.trace: ${BYTES_RULE} (got 7)`,
  },
  {
    call: `produceAsync(t, { value: 'v', headers: [['trace']] })`,
    run: on({ value: 'v', headers: [['trace']] }),
    error: 'InvalidRecordError',
    field: 'record.headers[0]',
    message: 'record.headers[0]: must be a [string, value] pair',
  },
  {
    call: `produceAsync(t, { value: 'v', timestamp: -1 })`,
    run: on({ value: 'v', timestamp: -1 }),
    error: 'InvalidRecordError',
    field: 'record.timestamp',
    message: 'record.timestamp: must be an integer number of ms >= 0 (got -1)',
  },
  {
    call: `produceAsync(t, { value: 'v', timestamp: NaN })`,
    run: on({ value: 'v', timestamp: NaN }),
    error: 'InvalidRecordError',
    field: 'record.timestamp',
    message: 'record.timestamp: must be an integer number of ms >= 0 (got NaN)',
  },
  {
    call: `produceAsync(t, { value: 'v', timestamp: 1.5 })`,
    run: on({ value: 'v', timestamp: 1.5 }),
    error: 'InvalidRecordError',
    field: 'record.timestamp',
    message: 'record.timestamp: must be an integer number of ms >= 0 (got 1.5)',
  },
  {
    call: `produceAsync(t, { value: 'v', partition: -1 })`,
    run: on({ value: 'v', partition: -1 }),
    error: 'InvalidRecordError',
    field: 'record.partition',
    message: 'record.partition: must be an integer >= 0 (got -1)',
  },
  {
    call: `produceAsync(t, { value: 'v', partition: 3 })`,
    note: 't has 3 partitions',
    run: on({ value: 'v', partition: PARTITIONS }),
    error: 'InvalidRecordError',
    field: 'record.partition',
    message: `record.partition: topic "${TOPIC}" has ${PARTITIONS} partitions`,
  },
  {
    call: `produceAsync(t, [])`,
    run: on([]),
    error: 'InvalidRecordError',
    field: 'records',
    message: 'records: must not be an empty array',
  },
  {
    call: `produceAsync(t, ['ok', { value: 42 }])`,
    note: "'ok' is not accepted either",
    run: on(['ok', { value: 42 }]),
    error: 'InvalidRecordError',
    field: 'records[1].value',
    message: `records[1].value: ${BYTES_RULE} (got 42)`,
  },
  {
    call: `produceAsync(t, Buffer.alloc(maxRequestBytes))`,
    run: on(Buffer.alloc(MAX_REQUEST_BYTES)),
    error: 'RecordTooLargeError',
    message:
      `record of ${MAX_REQUEST_BYTES} bytes exceeds the limit of ${MAX_REQUEST_BYTES - 512} bytes ` +
      '(maxRequestBytes less request framing)',
  },
];

/** Cases that need something other than a record: a callback, a closed producer. */
export const BAD_CALLBACK: BadCall = {
  call: `produceAsync(t, 'v', 'not a function')`,
  run: (producer) => {
    (producer.produceAsync as (...args: unknown[]) => void).call(producer, TOPIC, 'v', 'not a function');
  },
  error: 'InvalidRecordError',
  field: 'callback',
  message: 'callback: must be a function',
};

export const AFTER_CLOSE: BadCall = {
  call: `produceAsync(t, 'v')`,
  note: 'after `close()`',
  run: on('v'),
  error: 'ProducerClosedError',
  message: 'the producer is closed',
};

/** The README row of a case, spaces collapsed (prettier pads the README's table cells). */
export function readmeRow(c: BadCall): string {
  const message = c.message.length > 100 ? `${c.message.slice(0, 97)}...` : c.message;
  const call = `\`${c.call}\`${c.note === undefined ? '' : ` (${c.note})`}`;
  const field = c.field === undefined ? '' : `\`${c.field}\``;
  return normalizeRow(`| ${call} | \`${c.error}\` | ${field} | ${message} |`);
}

export function normalizeRow(row: string): string {
  return row.replace(/\s+/g, ' ').trim();
}
