import Long from 'long';
import { EncodeError, type EkafError } from '../errors.js';
import {
  readRecords,
  RECORD_BATCH_HEADER_SIZE,
  RecordBatchBuilder,
  type DecodedRecord,
} from '../protocol/record-batch.js';
import type { ProduceCall } from './delivery.js';
import type { TimestampRuns } from './timestamp-runs.js';

/**
 * A sealed batch: its fields, and what is done to one batch whatever partition holds it (read
 * its records back, fail its calls, forget its stamp, cut it in two). Apart from
 * partition-log.ts because the sender, the outcomes, the settlement and the spooler handle
 * batches without needing the log that orders them.
 */

/** Where a batch header keeps its base timestamp (int64). */
const BASE_TIMESTAMP_OFFSET = 27;

/**
 * `count` records of `call`, one after the other in a batch: the call's records start,
 * start + 1, … when `indices` is null, else the records `indices` names, in batch order.
 *
 * Why a segment may list its indices: keyed records of one call spread over the partitions, so
 * the records of a call that land in one batch are seldom consecutive in the call. One segment
 * per run of consecutive indices was one object per record (1 M keyed records in calls of 2 048
 * over 6 partitions: 834 029 segments); a list of indices in one segment per call and batch is
 * a number per record. Long runs (key-less records a sticky partitioner keeps together) stay
 * segments without a list (see addToSegments).
 */
export interface Segment {
  call: ProduceCall;
  /** The call's index of the segment's first record. */
  start: number;
  count: number;
  /** The call's index of each record, when they are not consecutive; null when they are. */
  indices: number[] | null;
}

/** Longest run of consecutive indices that a segment turns into a list of indices. */
const SHORT_RUN = 6;

/** Adds the record of `call` at `index` to the batch whose segments are `segments`. */
export function addToSegments(segments: Segment[], call: ProduceCall, index: number): void {
  const last = segments[segments.length - 1];
  if (last === undefined || last.call !== call) {
    segments.push({ call, start: index, count: 1, indices: null });
    return;
  }
  if (last.indices === null) {
    if (last.start + last.count === index) {
      last.count++;
      return;
    }
    // A list costs a number per record, a segment an object (~7 numbers): a long run of
    // consecutive records (a sticky partition's share of a call) stays a segment of its own.
    if (last.count > SHORT_RUN) {
      segments.push({ call, start: index, count: 1, indices: null });
      return;
    }
    last.indices = Array.from({ length: last.count }, (_, i) => last.start + i);
  }
  last.indices.push(index);
  last.count++;
}

/** The part of `segment` for its records [from, to) (positions in the segment). */
export function cutSegment(segment: Segment, from: number, to: number): Segment {
  const { call, indices } = segment;
  if (indices === null) return { call, start: segment.start + from, count: to - from, indices: null };
  return { call, start: indices[from] as number, count: to - from, indices: indices.slice(from, to) };
}

/**
 * A batch its producer's caller encoded whole (RecordBatchBuilder, sealed without a CRC or a
 * producer stamp: the partition's log writes both when it first sends it), for one call and one
 * partition. `ekaf produce` encodes the lines of its input this way, without a record object or a
 * view per line (src/cli/line-batches.ts).
 */
export interface EncodedBatch {
  bytes: Buffer;
  recordCount: number;
  /** Bytes of its keys and values: what the producer's buffer bounds count. */
  payloadBytes: number;
  /** Each record's timestamp, for delivery reports. */
  timestamps: TimestampRuns;
}

/** A batch that is sealed: its bytes are final and are resent unchanged on retry. */
export interface SealedBatch {
  /** Position in the partition's order; retried batches go back in this order. */
  readonly sequence: number;
  /** The batch as sent; compressed (once) when it is first sent, then never changed. */
  bytes: Buffer;
  /** Whether `bytes` went through the topic's compression (once, at first send). */
  finalized: boolean;
  /** The uncompressed bytes, kept while a compressed batch may still need splitting. */
  plain: Buffer | null;
  /** Room in the order after `sequence` that a split may use (halves: `sequence`, then +width/2). */
  splitWidth: number;
  readonly recordCount: number;
  /** Bytes of keys, values and headers: what the producer's buffer bounds count. */
  readonly payloadBytes: number;
  readonly segments: readonly Segment[];
  /** Each record's timestamp, for delivery reports. */
  readonly timestamps: TimestampRuns;
  /** When its oldest record was accepted (delivery timeout). */
  readonly acceptedAt: number;
  attempts: number;
  /**
   * The producer id, epoch and base sequence the batch carries (idempotence); -1 when not
   * stamped. Given once, when first sent, and kept on every resend while the broker may hold
   * the batch (see PartitionSequence).
   */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Whether `bytes` carry the stamp yet (a split half is stamped before it is compressed). */
  stampWritten: boolean;
  /**
   * Sent under its stamp, and not proven unwritten since: the broker may hold it. Such a batch
   * is never stamped again.
   */
  maybeWritten: boolean;
  /** The pooled buffer under its (uncompressed) bytes, given back when the batch is settled. */
  pooled: Buffer | null;
  /** Each record's spool entry id (-1: not in the spool), or null when none of them is. */
  spoolIds: number[] | null;
}

/**
 * Thrown by PartitionLog.takeNext when a batch cannot be compressed or stamped (a codec that
 * throws): the batch is in flight, to be failed for good with `error`, never sent.
 */
export class UnsendableBatch extends Error {
  readonly error: EncodeError;
  constructor(
    readonly batch: SealedBatch,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot compress or stamp a batch of ${batch.recordCount} records: ${reason}`);
    this.error = new EncodeError(this.message, cause);
  }
}

/** The records of a sealed batch, decoded from its uncompressed bytes. */
export function batchRecords(
  batch: Pick<SealedBatch, 'bytes' | 'recordCount'> & { plain?: Buffer | null },
): DecodedRecord[] {
  const plain = batch.plain ?? batch.bytes;
  const baseTimestamp = new Long(
    plain.readInt32BE(BASE_TIMESTAMP_OFFSET + 4),
    plain.readInt32BE(BASE_TIMESTAMP_OFFSET),
  ).toNumber();
  return readRecords(plain.subarray(RECORD_BATCH_HEADER_SIZE), batch.recordCount, baseTimestamp);
}

/** Settles every call that has records in `batch` with `error`. */
export function failBatch(batch: SealedBatch, error: EkafError): void {
  for (const segment of batch.segments) segment.call.fail(segment.count, error);
}

/** Forgets a batch's stamp: it was never written under it, and will be stamped again. */
export function unstamp(batch: SealedBatch): void {
  batch.producerId = -1;
  batch.producerEpoch = -1;
  batch.baseSequence = -1;
  batch.stampWritten = false;
  batch.maybeWritten = false;
}

/**
 * The two halves of a batch of at least two records that the broker refused as too large, to
 * take its place in the order (the Java client does the same). A stamped batch's sequence
 * numbers pass to its halves.
 */
export function splitInHalves(batch: SealedBatch): [SealedBatch, SealedBatch] {
  const records = batchRecords(batch);
  const half = Math.ceil(records.length / 2);
  const width = batch.splitWidth / 2;
  const halves: [SealedBatch, SealedBatch] = [
    rebuild(batch, records, 0, half, batch.sequence, width),
    rebuild(batch, records, half, records.length, batch.sequence + width, width),
  ];
  if (batch.baseSequence !== -1) {
    // The broker refused the whole batch, so its sequence numbers were not used: the halves
    // take them over, in order, under the same id and epoch. No new identity is needed.
    for (const [i, part] of halves.entries()) {
      part.producerId = batch.producerId;
      part.producerEpoch = batch.producerEpoch;
      part.baseSequence = (batch.baseSequence + (i === 0 ? 0 : half)) % 0x80000000;
    }
  }
  return halves;
}

/** A batch of records [from, to) of `batch`, with its calls' segments cut to match. */
function rebuild(
  batch: SealedBatch,
  records: readonly DecodedRecord[],
  from: number,
  to: number,
  sequence: number,
  splitWidth: number,
): SealedBatch {
  const builder = new RecordBatchBuilder();
  let payloadBytes = 0;
  for (let i = from; i < to; i++) {
    const record = records[i] as DecodedRecord;
    builder.append(record);
    payloadBytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
    for (const [name, value] of record.headers)
      payloadBytes += Buffer.byteLength(name) + (value?.length ?? 0);
  }
  const segments: Segment[] = [];
  let position = 0;
  for (const segment of batch.segments) {
    const start = Math.max(from, position);
    const end = Math.min(to, position + segment.count);
    if (start < end) segments.push(cutSegment(segment, start - position, end - position));
    position += segment.count;
  }
  return {
    sequence,
    bytes: builder.seal(),
    recordCount: to - from,
    payloadBytes,
    segments,
    timestamps: batch.timestamps.slice(from, to),
    acceptedAt: batch.acceptedAt,
    attempts: batch.attempts + 1,
    finalized: false,
    plain: null,
    splitWidth,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    stampWritten: false,
    maybeWritten: false,
    pooled: null,
    spoolIds: batch.spoolIds?.slice(from, to) ?? null,
  };
}
