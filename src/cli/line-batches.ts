// `ekaf produce`'s fast path: lines of the input encoded straight into record batches, one open
// batch per partition, handed to the producer whole (Producer.produceEncodedBatch) once the
// topic's partition count is known.
//
// Why: through produceAsync, each line cost two views of the input (key and value), a record
// object, and the producer's per-record work of checking, routing and encoding it; kcat spends
// less than that per line, on more than one thread. Here a line costs finding its delimiter,
// hashing its key where it lies, and copying its bytes into its partition's batch. What the
// producer does per batch (order, stamps, retries, acknowledgements, bounds) is unchanged.
//
// The records are those produceAsync would make of the same lines (LineSplitter's rules, the
// producer's default partitioner: a key's murmur2, as the Java client; key-less lines stick to a
// partition for MAX_STICKY_BYTES or until its batch is full, then move to another at random),
// with the same limits:
// a batch holds at most batchBytes, leaves when full or lingerMs after its first record (checked
// as lines arrive, and by the caller when the input pauses), and a record larger than a request
// allows fails alone.
import { CompressionCodec, NO_PRODUCER_IDENTITY, RecordBatchBuilder } from '../protocol/record-batch.js';
import { BatchBufferPool } from '../runtime/batch-buffer-pool.js';
import { fullBufferSize, openBufferSize } from '../runtime/partition-log.js';
import { murmur2, toPositive } from '../runtime/partitioners.js';
import { MAX_STICKY_BYTES } from '../runtime/topic-node.js';
import type { EncodedBatch } from '../runtime/sealed-batch.js';
import { TimestampRuns } from '../runtime/timestamp-runs.js';
import { findDelimiter } from './line-splitter.js';

/** At most what a record's fields take besides its key and value (varints, attributes). */
const RECORD_FIELDS_BYTES = 32;

export interface LineBatchOptions {
  /** The topic's partition count. */
  partitions: number;
  /** Splits each line at its first occurrence: key before, value after. */
  keyDelimiter?: Buffer | undefined;
  /** Every record to this partition (else the default partitioner's choice). */
  partition?: number | undefined;
  /** A batch is full at this many bytes. */
  batchBytes: number;
  /** How long a batch that is not full may wait for more lines, from its first. */
  lingerMs: number;
  /** Largest key and value bytes of a record; a larger one fails (add returns false). */
  maxRecordBytes: number;
  /** For the sticky partition of key-less lines. */
  random?: () => number;
}

/** A batch ready for Producer.produceEncodedBatch. */
export interface ReadyBatch {
  partition: number;
  batch: EncodedBatch;
  /** The buffer under the batch's bytes, for `recycle` once it is acknowledged; null if copied out. */
  buffer: Buffer | null;
}

/** Idle batch buffers kept for the next batches (see recycle). */
const IDLE_BUFFER_BYTES = 32 * 1024 * 1024;

interface OpenLineBatch {
  builder: RecordBatchBuilder;
  timestamps: TimestampRuns;
  payloadBytes: number;
  openedAt: number;
}

export class LineBatcher {
  private readonly open: (OpenLineBatch | null)[];
  /** Bytes of each partition's last batch: the next one starts in a buffer that size. */
  private readonly lastBatchBytes: number[];
  private readonly ready: ReadyBatch[] = [];
  /** The partition of key-less lines; -1 before the first. */
  private sticky = -1;
  /** Key and value bytes of the key-less lines that went to `sticky`. */
  private stickyBytes = 0;
  private readonly random: () => number;
  /** Open batches, for sealExpired and sealAll to skip their scan when there are none. */
  private openCount = 0;
  /** Key and value bytes of the last record add() refused as too large. */
  refusedBytes = 0;

  /**
   * Buffers of acknowledged batches, for the next ones: a fresh 1 MB buffer per batch grew
   * external memory, and V8 answers growth with collections (16 % of `ekaf produce`'s time on
   * 1 M lines, Node 24, before the buffers were recycled).
   */
  private readonly pool = new BatchBufferPool(IDLE_BUFFER_BYTES);

  constructor(private readonly options: LineBatchOptions) {
    this.open = new Array<OpenLineBatch | null>(options.partitions).fill(null);
    this.lastBatchBytes = new Array<number>(options.partitions).fill(0);
    this.random = options.random ?? Math.random;
  }

  /**
   * Encodes the line source[start, end) as a record of `timestamp` into its partition's batch.
   * False when the record is larger than a request allows: it is not encoded, and the caller
   * counts it failed.
   */
  add(source: Buffer, start: number, end: number, timestamp: number): boolean {
    let keyLength = -1;
    let valueStart = start;
    const delimiter = this.options.keyDelimiter;
    if (delimiter !== undefined) {
      const at = findDelimiter(source, start, end, delimiter);
      if (at !== -1) {
        keyLength = at - start;
        valueStart = at + delimiter.length;
      }
    }
    const valueLength = end - valueStart;
    const payload = Math.max(keyLength, 0) + valueLength;
    if (payload > this.options.maxRecordBytes) {
      this.refusedBytes = payload;
      return false;
    }
    const partition = this.partitionOf(source, start, keyLength, payload);
    let open = this.open[partition] ?? null;
    if (open !== null && open.builder.sizeInBytes + payload + RECORD_FIELDS_BYTES > this.options.batchBytes) {
      this.seal(partition);
      open = null;
    }
    if (open === null) {
      const size = openBufferSize(this.lastBatchBytes[partition] as number, this.options.batchBytes);
      open = {
        builder: new RecordBatchBuilder(
          this.pool.take(size),
          this.pool,
          fullBufferSize(this.options.batchBytes),
        ),
        timestamps: new TimestampRuns(),
        payloadBytes: 0,
        openedAt: timestamp,
      };
      this.open[partition] = open;
      this.openCount++;
    }
    open.builder.appendRanges(source, start, keyLength, valueStart, valueLength, timestamp);
    open.timestamps.push(timestamp);
    open.payloadBytes += payload;
    return true;
  }

  /** Batches ready to hand over, oldest first (full ones, and those sealExpired or sealAll sealed). */
  takeReady(): ReadyBatch[] {
    return this.ready.splice(0);
  }

  /** Seals the batches whose linger has run out by `now`; takeReady returns them. */
  sealExpired(now: number): void {
    if (this.openCount === 0) return;
    for (let partition = 0; partition < this.open.length; partition++) {
      const open = this.open[partition];
      if (open != null && open.openedAt + this.options.lingerMs <= now) this.seal(partition);
    }
  }

  /** Seals every open batch (the input ended or paused); takeReady returns them. */
  sealAll(): void {
    if (this.openCount === 0) return;
    for (let partition = 0; partition < this.open.length; partition++) this.seal(partition);
  }

  /**
   * The batch was acknowledged: its buffer serves a next batch. Only then: until the broker
   * has answered, the producer may send the bytes again (and a batch that failed may still be in
   * a socket's queue).
   */
  recycle(ready: ReadyBatch): void {
    if (ready.buffer !== null) this.pool.give(ready.buffer);
  }

  /** Largest key and value bytes of a record. */
  get maxRecordBytes(): number {
    return this.options.maxRecordBytes;
  }

  /** Whether lines are waiting in batches that are not sealed yet. */
  get hasOpen(): boolean {
    return this.openCount > 0;
  }

  private partitionOf(source: Buffer, start: number, keyLength: number, payload: number): number {
    const { partitions, partition } = this.options;
    if (partition !== undefined) return partition;
    if (keyLength !== -1) return toPositive(murmur2(source, keyLength, start)) % partitions;
    let sticky = this.sticky;
    const open = sticky === -1 ? null : this.open[sticky];
    const full =
      open != null && open.builder.sizeInBytes + payload + RECORD_FIELDS_BYTES > this.options.batchBytes;
    if (sticky === -1 || full || this.stickyBytes >= MAX_STICKY_BYTES) {
      // The first key-less line, its partition's batch is full (sealed now), or the partition
      // had its share: another partition, as the producer's sticky partitioner moves on.
      if (full) this.seal(sticky);
      this.stickyBytes = 0;
      // Uniformly among the others (among all for the first line).
      const choices = sticky === -1 || partitions === 1 ? partitions : partitions - 1;
      const r = Math.min(Math.floor(this.random() * choices), choices - 1);
      sticky = choices === partitions || r < sticky ? r : r + 1;
      this.sticky = sticky;
    }
    // The line that crosses MAX_STICKY_BYTES still goes here, as in the producer's partitioner.
    this.stickyBytes += payload;
    return sticky;
  }

  private seal(partition: number): void {
    const open = this.open[partition];
    if (open == null) return;
    this.open[partition] = null;
    this.openCount--;
    // Without a CRC or a producer stamp: the partition's log writes both when it sends it.
    let bytes = open.builder.seal(NO_PRODUCER_IDENTITY, CompressionCodec.none, false);
    this.lastBatchBytes[partition] = bytes.length;
    // A batch much smaller than its buffer (one that lingered) is copied out, so that the
    // producer's buffer bounds count about what it holds, and the buffer serves the next.
    let buffer: Buffer | null = open.builder.buffer;
    if (bytes.length <= buffer.length / 2) {
      bytes = Buffer.from(bytes);
      this.pool.give(buffer);
      buffer = null;
    }
    this.ready.push({
      partition,
      batch: {
        bytes,
        recordCount: open.builder.recordCount,
        payloadBytes: open.payloadBytes,
        timestamps: open.timestamps,
      },
      buffer,
    });
  }
}
