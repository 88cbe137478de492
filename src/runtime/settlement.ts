import { ProducerClosedError, type EkafError } from '../errors.js';
import type { BufferBudget } from './buffer-budget.js';
import type { ProduceCall } from './delivery.js';
import type { SealedBatch } from './sealed-batch.js';
import { emptyRecord, type NormalizedRecord, type RecordList } from './records.js';
import type { Spooler } from './spooler.js';

/**
 * The one way a record leaves the producer, acknowledged or failed: its spool entry is released
 * (or kept, when close() gave up on it: the next producer on the spool delivers it), its room in
 * the buffer budget given back, and its call told. A batch's idempotent sequence is the partition
 * log's business (PartitionLog.acknowledged / failed / expire / drainAll take the batch out and
 * restart the sequence when a stamped batch will never be written); what comes out goes here.
 */
export class Settlement {
  /**
   * Set by close() when it gives up: what fails with `error` from then on keeps its spool
   * entries, and a spooled record fails with `kept`, which says where it stays.
   */
  private closing: { error: EkafError; kept: EkafError } | null = null;

  constructor(
    private readonly budget: BufferBudget,
    private readonly spooler: Spooler | null,
    private readonly spoolDir: string | undefined,
  ) {}

  /** The error close() fails everything with, null before. */
  get closedWith(): EkafError | null {
    return this.closing?.error ?? null;
  }

  /** From now on, failures with `error` keep their spool entries for the next producer. */
  close(error: EkafError): EkafError {
    const kept =
      this.spoolDir === undefined
        ? error
        : new ProducerClosedError(
            `${error.message}; it stays in the spool (${this.spoolDir}) for the next producer`,
          );
    this.closing = { error, kept };
    return kept;
  }

  /**
   * A batch the broker acknowledged. `baseOffset` and `appendTime` are -1 when unknown (acks 0,
   * DUPLICATE_SEQUENCE_NUMBER): then every call of the batch gets -1 offsets.
   */
  acknowledged(
    partition: number,
    batch: SealedBatch,
    baseOffset: number,
    appendTime: number,
    acknowledged: boolean,
  ): void {
    this.spooler?.releaseBatch(batch);
    this.budget.release(batch.recordCount, batch.payloadBytes);
    let delta = 0;
    for (const segment of batch.segments) {
      const first = delta;
      segment.call.succeed(
        segment.start,
        segment.count,
        partition,
        baseOffset < 0 ? -1 : baseOffset + first,
        (i) => (appendTime >= 0 ? appendTime : batch.timestamps.at(first + i)),
        acknowledged,
        segment.indices,
      );
      delta += segment.count;
    }
  }

  /** A batch failed for good (already out of its partition's log). */
  batchFailed(batch: SealedBatch, error: EkafError): void {
    this.budget.release(batch.recordCount, batch.payloadBytes);
    let reported = error;
    if (this.closing !== null && error === this.closing.error) {
      // close() gave up: a fully spooled batch stays on disk, and its calls are told so.
      if (batch.spoolIds !== null && !batch.spoolIds.includes(-1)) reported = this.closing.kept;
    } else {
      this.spooler?.releaseBatch(batch);
    }
    for (const segment of batch.segments) segment.call.fail(segment.count, reported);
  }

  /** One record of `call` that never reached a partition log; `spoolId` -1 if not spooled. */
  recordFailed(record: NormalizedRecord, spoolId: number, call: ProduceCall, error: EkafError): void {
    this.budget.release(1, record.size);
    let reported = error;
    if (this.closing !== null && error === this.closing.error) {
      if (spoolId !== -1) reported = this.closing.kept;
    } else {
      this.spooler?.release(spoolId);
    }
    call.fail(1, reported);
  }

  /** Every record of a call (spooled from `firstSpoolId` on, or -1) fails at once. */
  callFailed(records: RecordList, firstSpoolId: number, call: ProduceCall, error: EkafError): void {
    const scratch = emptyRecord();
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      bytes += (records.at(i, scratch) as NormalizedRecord).size;
      if (firstSpoolId !== -1) this.spooler?.release(firstSpoolId + i);
    }
    this.budget.release(records.length, bytes);
    call.fail(records.length, error);
  }
}
