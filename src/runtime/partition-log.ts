import type { Codec } from '../protocol/compression.js';
import {
  compressBatch,
  CompressionCodec,
  NO_PRODUCER_IDENTITY,
  RecordBatchBuilder,
  stampProducerIdentity,
  writeBatchCrc,
} from '../protocol/record-batch.js';
import type { ProduceCall } from './delivery.js';
import type { NormalizedRecord } from './records.js';
import { BatchBufferPool } from './batch-buffer-pool.js';
import { TimestampRuns } from './timestamp-runs.js';
import { PartitionSequence, type ProducerStamp } from './partition-sequence.js';
import {
  addToSegments,
  splitInHalves,
  type EncodedBatch,
  UnsendableBatch,
  unstamp,
  type SealedBatch,
  type Segment,
} from './sealed-batch.js';

export type { ProducerStamp } from './partition-sequence.js';

/** The batch being filled. */
interface OpenBatch {
  /** Writes into a buffer of the pool, and grows into larger ones from it. */
  builder: RecordBatchBuilder;
  segments: Segment[];
  timestamps: TimestampRuns;
  payloadBytes: number;
  acceptedAt: number;
  /** An unbatched call is waiting on it: send it as soon as a request slot is free. */
  urgent: boolean;
  /** For batched calls: when the linger expires (ms since epoch); Infinity if none. */
  lingerDeadline: number;
  spoolIds: number[] | null;
}

/** Limits that decide when the open batch is full. */
export interface BatchLimits {
  batchBytes: number;
  batchRecords: number;
}

/**
 * One partition's records, from acceptance to acknowledgement: the open batch being filled
 * (the accumulator), sealed batches waiting to be sent, and batches in flight. Batches keep the
 * order in which they were sealed, across retries: a batch that comes back is put back before
 * every batch sealed after it.
 */
export class PartitionLog {
  private open: OpenBatch | null = null;
  private readonly waiting: SealedBatch[] = [];
  private readonly inFlightBatches: SealedBatch[] = [];
  private nextSequence = 0;
  /** The idempotence state: producer id and epoch, next sequence number, pending reset. */
  readonly sequence: PartitionSequence;
  /** Whether records not in the spool may be held here (false: all known to be spooled). */
  hasUnspooled = false;
  /**
   * The partition cannot send for now (its worker lost its leader): its open batch starts in a
   * small buffer that doubles as records come. Records may wait long in a downtime, and every
   * partition a sticky partitioner leaves behind keeps a partly filled open batch: a thousand
   * batch-sized buffers would outweigh the records they hold.
   */
  downtime = false;
  /** The size of the last batch sealed (what the next open batch starts in: openBufferSize). */
  private lastBatchBytes = 0;

  // Counters for inspect()/metrics().
  recordsAcked = 0;
  recordsFailed = 0;
  batchesRetried = 0;
  batchesSplit = 0;
  /** Batch bytes before and after compression, over every batch sent. */
  bytesBeforeCompression = 0;
  bytesSent = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly pool: BatchBufferPool = new BatchBufferPool(0),
    /** Asked for when this partition has used up its producer id's epochs. */
    private readonly needNewProducerId: (stale: number) => void = () => undefined,
    /** Told when this partition's sequence starts again under a new epoch (or a new id). */
    private readonly epochBumped: (stamp: ProducerStamp) => void = () => undefined,
    /** A transactional producer's partition: transactional batches, the coordinator's epochs. */
    private readonly transactional = false,
  ) {
    this.sequence = new PartitionSequence(transactional);
  }

  get inFlight(): number {
    return this.inFlightBatches.length;
  }

  /** Records accepted and not yet acknowledged or failed. */
  get bufferedRecords(): number {
    let n = this.open?.timestamps.length ?? 0;
    for (const batch of this.waiting) n += batch.recordCount;
    for (const batch of this.inFlightBatches) n += batch.recordCount;
    return n;
  }

  /** Whether anything is waiting to be sent (sealed, or in the open batch). */
  get hasPending(): boolean {
    return this.waiting.length > 0 || this.open !== null;
  }

  get isEmpty(): boolean {
    return this.open === null && this.waiting.length === 0 && this.inFlightBatches.length === 0;
  }

  /**
   * Appends one record of `call` (its index `index` in the call). Seals the open batch first if
   * the record would not fit, and after if the batch is now full.
   */
  append(
    record: NormalizedRecord,
    call: ProduceCall,
    index: number,
    limits: BatchLimits,
    urgent: boolean,
    lingerDeadline: number,
    now: number,
    spoolId = -1,
  ): void {
    let open = this.open;
    if (this.wouldStartBatch(record.size, limits)) {
      this.seal();
      open = null;
    }
    if (open === null) {
      // The open batch is written into a buffer from the pool, handed back when the batch is
      // sealed unless the batch keeps it (see seal): a partition with nothing open holds no
      // buffer. Its size is what the partition's last batch needed (see openBufferSize), and
      // it grows, doubling, into larger buffers of the pool, which takes back each one outgrown
      // (but in a downtime: see BatchBufferPool.keepingNone).
      const size = openBufferSize(this.downtime ? 0 : this.lastBatchBytes, limits.batchBytes);
      open = {
        builder: new RecordBatchBuilder(
          this.pool.take(size, now),
          this.downtime ? this.pool.keepingNone : this.pool,
          fullBufferSize(limits.batchBytes),
        ),
        segments: [],
        timestamps: new TimestampRuns(),
        payloadBytes: 0,
        acceptedAt: now,
        urgent: false,
        lingerDeadline: Infinity,
        spoolIds: null,
      };
      this.open = open;
    }
    if (spoolId !== -1) {
      (open.spoolIds ??= new Array<number>(open.timestamps.length).fill(-1)).push(spoolId);
    } else {
      open.spoolIds?.push(-1);
      this.hasUnspooled = true;
    }
    open.builder.append(record);
    open.timestamps.push(record.timestamp);
    open.payloadBytes += record.size;
    open.urgent ||= urgent;
    if (lingerDeadline < open.lingerDeadline) open.lingerDeadline = lingerDeadline;
    addToSegments(open.segments, call, index);
    if (open.timestamps.length >= limits.batchRecords || open.builder.sizeInBytes >= limits.batchBytes) {
      this.seal();
    }
  }

  /**
   * Appends a whole batch that `call` encoded itself (see EncodedBatch), after the open batch,
   * which is sealed first so that the partition's order is the order of the calls.
   */
  appendEncoded(batch: EncodedBatch, call: ProduceCall, now: number): void {
    this.seal();
    const segments: Segment[] = [{ call, start: 0, count: batch.recordCount, indices: null }];
    this.enqueue(batch.bytes, batch.recordCount, batch.payloadBytes, segments, batch.timestamps, {
      acceptedAt: now,
      pooled: null,
      spoolIds: null,
    });
    this.hasUnspooled = true;
  }

  /** Whether a record of `size` bytes would not fit in the open batch (it seals it, and starts the next). */
  wouldStartBatch(size: number, limits: BatchLimits): boolean {
    return this.open !== null && this.open.builder.sizeInBytes + size + 64 > limits.batchBytes;
  }

  /** When the open batch must be sealed by, if it is waiting for its linger; null otherwise. */
  get lingerDeadline(): number | null {
    const open = this.open;
    if (open === null || open.urgent || !Number.isFinite(open.lingerDeadline)) return null;
    return open.lingerDeadline;
  }

  /** Makes the open batch leave at the next chance, linger or not (flush, close). */
  markUrgent(): void {
    if (this.open !== null) this.open.urgent = true;
  }

  /**
   * The next batch to send, or undefined. The open batch is sealed when nothing sealed is
   * waiting, it is urgent or its linger has expired (`now`), and `openMayLeave`. With a `producer` stamp
   * (idempotence), a batch not stamped yet takes the partition's id, epoch and next sequence
   * numbers; a stamped one is resent as it is.
   */
  takeNext(
    now: number,
    producer: ProducerStamp | null = null,
    codec: Codec | null = null,
    openMayLeave = true,
  ): SealedBatch | undefined {
    const index = this.nextIndex(now, producer, openMayLeave);
    if (index === -1) return undefined;
    const batch = this.waiting.splice(index, 1)[0] as SealedBatch;
    // In flight first: should compressing or stamping throw, the batch is still accounted for,
    // and the sender fails it for good (UnsendableBatch) rather than losing it.
    this.inFlightBatches.push(batch);
    try {
      // The CRC is computed once, after the last change to the bytes (compression, the stamp):
      // a batch is sealed without one, and a resent batch keeps the one it was sent with.
      let rewritten = false;
      if (!batch.finalized) {
        rewritten = true;
        const plainLength = batch.bytes.length;
        if (codec !== null) {
          const compressed = compressBatch(
            batch.bytes,
            codec.id,
            (records) => codec.compress(records),
            false,
          );
          batch.plain = batch.bytes;
          batch.bytes = compressed;
        }
        this.bytesBeforeCompression += plainLength;
        this.bytesSent += batch.bytes.length;
        batch.finalized = true;
      }
      if (producer !== null) {
        if (batch.baseSequence === -1) {
          batch.producerId = this.sequence.producerId;
          batch.producerEpoch = this.sequence.producerEpoch;
          batch.baseSequence = this.sequence.take(batch.recordCount);
        }
        if (!batch.stampWritten) {
          stampProducerIdentity(batch.bytes, batch, this.transactional, false);
          batch.stampWritten = true;
          rewritten = true;
        }
        batch.maybeWritten = true;
      }
      if (rewritten) writeBatchCrc(batch.bytes);
    } catch (error) {
      throw new UnsendableBatch(batch, error);
    }
    return batch;
  }

  /**
   * Where in `waiting` the next batch to send is, -1 for none. Without idempotence, or with the
   * sequence in order, it is the oldest. While the sequence waits to start again, only batches
   * the broker may hold are resent (under their own stamp, until their fate is known); once none
   * is left and nothing is in flight, the partition bumps its epoch and every waiting batch, all
   * known not to be written, is stamped again in order.
   */
  private nextIndex(now: number, producer: ProducerStamp | null, openMayLeave: boolean): number {
    if (this.waiting.length === 0 && this.openMayLeave(now, openMayLeave)) this.seal();
    if (this.waiting.length === 0) return -1;
    if (producer === null) return 0;
    const sequence = this.sequence;
    if (!sequence.resetPending) {
      sequence.adopt(producer);
      return sequence.confirmed || this.inFlightBatches.length === 0 ? 0 : -1;
    }
    const inDoubt = this.waiting.findIndex((b) => b.maybeWritten);
    if (inDoubt !== -1) return inDoubt;
    if (this.inFlightBatches.length > 0) return -1;
    if (!sequence.bump(producer)) {
      this.needNewProducerId(sequence.producerId);
      return -1;
    }
    for (const batch of this.waiting) unstamp(batch);
    this.epochBumped({ producerId: sequence.producerId, producerEpoch: sequence.producerEpoch });
    return 0;
  }

  /**
   * This partition's sequence must start again (the broker refused a batch for a gap, or lost
   * our producer state): stamp nothing new until it has, under a new epoch.
   */
  resetSequence(): void {
    this.sequence.resetPending = true;
  }

  /** Whether a batch sealed before `batch` is still unacknowledged (in flight or waiting). */
  hasEarlierUnacknowledged(batch: SealedBatch): boolean {
    const earlier = (b: SealedBatch): boolean => b.sequence < batch.sequence;
    return this.inFlightBatches.some(earlier) || this.waiting.some(earlier);
  }

  /**
   * Whether the open batch may be sealed and sent now: it is urgent or its linger has expired,
   * and the sender allows it (`allowed`: see BrokerSender.collect, which holds batches that are
   * not full while a request to their broker is in flight).
   */
  private openMayLeave(now: number, allowed: boolean): boolean {
    const open = this.open;
    return allowed && open !== null && (open.urgent || open.lingerDeadline <= now);
  }

  /** The size of the batch `takeNext` would return, 0 if none (for request size limits). */
  nextSize(now: number, producer: ProducerStamp | null = null, openMayLeave = true): number {
    if (this.waiting.length === 0)
      return this.openMayLeave(now, openMayLeave) ? (this.open as OpenBatch).builder.sizeInBytes : 0;
    if (producer === null) return (this.waiting[0] as SealedBatch).bytes.length;
    if (!this.sequence.resetPending) {
      const alone = !this.sequence.confirmed && this.inFlightBatches.length > 0;
      return alone ? 0 : (this.waiting[0] as SealedBatch).bytes.length;
    }
    const inDoubt = this.waiting.find((b) => b.maybeWritten);
    if (inDoubt !== undefined) return inDoubt.bytes.length;
    return this.inFlightBatches.length > 0 ? 0 : (this.waiting[0] as SealedBatch).bytes.length;
  }

  /** Highest offset acknowledged in this partition, -1 before any (idempotence's safety rule). */
  lastAckedOffset = -1;
  /** The latest position in the partition's order (SealedBatch.sequence) acknowledged, -1 before any. */
  lastAckedPosition = -1;

  /** A batch in flight was acknowledged, at `baseOffset` when the broker said (else -1). */
  acknowledged(batch: SealedBatch, baseOffset = -1): void {
    this.removeInFlight(batch);
    if (baseOffset >= 0)
      this.lastAckedOffset = Math.max(this.lastAckedOffset, baseOffset + batch.recordCount - 1);
    if (batch.baseSequence !== -1) this.sequence.acknowledged(batch.producerId, batch.producerEpoch);
    if (batch.sequence > this.lastAckedPosition) this.lastAckedPosition = batch.sequence;
    this.settled(batch);
    this.recordsAcked += batch.recordCount;
  }

  /**
   * Splits a batch in flight that the broker refused as too large into two halves, put back in
   * its place in the order (the Java client does the same). Returns false for a single record,
   * which cannot be split.
   */
  split(batch: SealedBatch): boolean {
    if (batch.recordCount < 2) return false;
    this.removeInFlight(batch);
    const halves = splitInHalves(batch);
    let at = 0;
    while (at < this.waiting.length && (this.waiting[at] as SealedBatch).sequence < batch.sequence) at++;
    this.waiting.splice(at, 0, ...halves);
    this.settled(batch); // the halves hold copies of its records
    this.batchesSplit++;
    return true;
  }

  /**
   * A batch in flight failed for good. A stamped one leaves a gap in the sequence (or a write
   * that cannot be proven): the partition starts again under a new epoch.
   */
  failed(batch: SealedBatch): void {
    this.removeInFlight(batch);
    if (batch.baseSequence !== -1) this.sequence.resetPending = true;
    this.settled(batch);
    this.recordsFailed += batch.recordCount;
  }

  /** A batch is done with: its bytes are no longer needed, its pooled buffer goes back. */
  private settled(batch: SealedBatch): void {
    batch.plain = null;
    if (batch.pooled !== null) {
      this.pool.give(batch.pooled);
      batch.pooled = null;
    }
  }

  /**
   * A batch in flight came back and will be sent again, before every batch sealed after it.
   * `notAppended`: the broker's answer proves it was not written (see provesNotAppended), so it
   * may be stamped again if the sequence starts over; otherwise it keeps its stamp until its fate
   * is known.
   */
  requeue(batch: SealedBatch, notAppended = false): void {
    this.removeInFlight(batch);
    if (notAppended) batch.maybeWritten = false;
    batch.attempts++;
    this.batchesRetried++;
    let at = 0;
    while (at < this.waiting.length && (this.waiting[at] as SealedBatch).sequence < batch.sequence) at++;
    this.waiting.splice(at, 0, batch);
  }

  /**
   * Removes and returns every batch not in flight whose oldest record was accepted at or before
   * `deadline` (delivery timeout); they are oldest first, so this stops at the first younger one.
   */
  expire(deadline: number): SealedBatch[] {
    const expired: SealedBatch[] = [];
    while (this.waiting.length > 0 && (this.waiting[0] as SealedBatch).acceptedAt <= deadline) {
      expired.push(this.waiting.shift() as SealedBatch);
    }
    if (this.waiting.length === 0 && this.open !== null && this.open.acceptedAt <= deadline) {
      this.seal();
      expired.push(this.waiting.shift() as SealedBatch);
    }
    for (const batch of expired) {
      if (batch.baseSequence !== -1) this.sequence.resetPending = true;
      this.settled(batch);
      this.recordsFailed += batch.recordCount;
    }
    return expired;
  }

  /** Removes and returns everything not in flight (close() giving up). */
  /**
   * Removes and returns every batch known not to be written (never sent, or refused), the open
   * one sealed first: a transaction's abort fails them. Batches the broker may hold stay, to be
   * resent until their fate is known: their sequence numbers must be settled.
   */
  takeUnsent(): SealedBatch[] {
    if (this.open !== null) this.seal();
    // Also those stamped but proven not written (the broker refused them for a sequence gap):
    // failing them leaves a gap, so the sequence must start again, under a new epoch.
    const unsent = this.waiting.filter((b) => !b.maybeWritten);
    if (unsent.length === 0) return unsent;
    if (unsent.some((b) => b.baseSequence !== -1)) this.sequence.resetPending = true;
    const kept = this.waiting.filter((b) => b.maybeWritten);
    this.waiting.splice(0, this.waiting.length, ...kept);
    for (const batch of unsent) {
      this.settled(batch);
      this.recordsFailed += batch.recordCount;
    }
    return unsent;
  }

  drainAll(): SealedBatch[] {
    if (this.open !== null) this.seal();
    const all = this.waiting.splice(0);
    for (const batch of all) {
      this.settled(batch);
      this.recordsFailed += batch.recordCount;
    }
    return all;
  }

  /**
   * Every unsettled batch holding records that are not in the spool, in the partition's order
   * (the open one sealed first), for writing them to the spool; their `spoolIds` are to be set.
   */
  unspooledBatches(): SealedBatch[] {
    if (!this.hasUnspooled) return [];
    this.seal();
    this.hasUnspooled = false;
    return [...this.inFlightBatches, ...this.waiting]
      .filter((b) => b.spoolIds === null || b.spoolIds.includes(-1))
      .sort((a, b) => a.sequence - b.sequence);
  }

  private seal(): void {
    const open = this.open;
    if (open === null) return;
    this.open = null;
    // No CRC yet: takeNext writes it once the bytes are final.
    let bytes = open.builder.seal(NO_PRODUCER_IDENTITY, CompressionCodec.none, false);
    this.lastBatchBytes = bytes.length;
    let pooled: Buffer | null = null;
    // A batch that fills most of its buffer takes it over (no copy); a small one (a lone
    // produceSync) is copied out to its exact size and the buffer goes back to the pool for the
    // next batch of any partition, so that small batches neither hold a larger buffer each nor
    // churn allocations.
    const buffer = open.builder.buffer;
    if (bytes.length <= buffer.length / 2) {
      bytes = Buffer.from(bytes);
      this.pool.give(buffer);
    } else {
      pooled = buffer;
    }
    this.enqueue(bytes, open.timestamps.length, open.payloadBytes, open.segments, open.timestamps, {
      acceptedAt: open.acceptedAt,
      pooled,
      spoolIds: open.spoolIds,
    });
  }

  /** A sealed batch joins the queue, last in the partition's order. */
  private enqueue(
    bytes: Buffer,
    recordCount: number,
    payloadBytes: number,
    segments: Segment[],
    timestamps: TimestampRuns,
    more: Pick<SealedBatch, 'acceptedAt' | 'pooled' | 'spoolIds'>,
  ): void {
    this.waiting.push({
      sequence: this.nextSequence++,
      // Stamped with the producer identity when first sent (takeNext).
      bytes,
      recordCount,
      payloadBytes,
      segments,
      timestamps,
      acceptedAt: more.acceptedAt,
      attempts: 0,
      finalized: false,
      plain: null,
      splitWidth: 1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      stampWritten: false,
      maybeWritten: false,
      pooled: more.pooled,
      spoolIds: more.spoolIds,
    });
  }

  private removeInFlight(batch: SealedBatch): void {
    const index = this.inFlightBatches.indexOf(batch);
    if (index !== -1) this.inFlightBatches.splice(index, 1);
  }
}

/** The smallest buffer an open batch starts in. */
const MIN_OPEN_BUFFER_BYTES = 4096;

/**
 * The buffer an open batch starts in: the power of two that held the partition's last batch
 * (`lastBatchBytes`, 0 for none, or in a downtime), at least 4 KiB, at most a full batch and its
 * last record's overshoot. Batches as large as the last need no copy as they grow, and one larger
 * a copy per doubling; a partition that sends small batches, has sent none yet, or cannot send
 * holds a small buffer: a thousand partitions, each with a batch-sized buffer, would outweigh
 * the records they hold (a first produce to 1 000 partitions took 66 MB with 64 KiB batches;
 * partitions a sticky partitioner leaves behind in a downtime keep a few records each).
 */
export function openBufferSize(lastBatchBytes: number, batchBytes: number): number {
  const full = fullBufferSize(batchBytes);
  let size = MIN_OPEN_BUFFER_BYTES;
  while (size < lastBatchBytes && size < full) size *= 2;
  return Math.min(size, Math.max(full, MIN_OPEN_BUFFER_BYTES));
}

/**
 * The buffer a full batch needs: batchBytes and the overshoot of its last record, at most 1 MiB
 * (larger batches grow past it by doubling). Growth stops here rather than at the next power of
 * two: 1 MB batches sat in 1 MiB buffers, 5 % more than they hold, for as long as a downtime
 * keeps them.
 */
export function fullBufferSize(batchBytes: number): number {
  return Math.max(Math.min(batchBytes + 1024, 1024 * 1024), MIN_OPEN_BUFFER_BYTES);
}
