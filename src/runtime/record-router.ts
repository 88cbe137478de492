import type { EventEmitter } from 'eventemitter3';
import type { TopicRef } from '../../machines/actor-index.js';
import { DeliveryTimeoutError, EkafError, InvalidRecordError } from '../errors.js';
import type { ProducerEvents } from '../events.js';
import type { ProduceCall } from './delivery.js';
import type { PartitionNode } from './partition-node.js';
import { emptyRecord, keepRecord, type NormalizedRecord, type RecordList } from './records.js';
import { batchRecords, type EncodedBatch } from './sealed-batch.js';
import type { Settlement } from './settlement.js';
import type { SpoolOrigin, Spooler } from './spooler.js';
import type { TopicNode } from './topic-node.js';

/** What the router needs of the runtime around it. */
export interface RouterParts {
  readonly settlement: Settlement;
  readonly spooler: Spooler | null;
  readonly events: Pick<EventEmitter<ProducerEvents>, 'emit'>;
  /** Calls accepted and not yet done (flush waits on them). */
  readonly pendingCalls: Set<ProduceCall>;
  /** The topic by name, created with its actor on first use. */
  topic(name: string): TopicNode;
  /** Every topic in use. */
  topics(): Iterable<TopicNode>;
  /** The topic's actor, from the registry's index. */
  topicActor(topic: TopicNode): TopicRef | undefined;
  /** The sender of the partition's current leader may take its batches. */
  wakeLeader(node: PartitionNode): void;
  /** Records were appended to these partitions (a transactional producer adds them to its transaction). */
  partitionsUsed?(nodes: readonly PartitionNode[]): void;
  /**
   * Why the partition's leader cannot be reached now: its connection's last error while the
   * connection is not ready (refused, timed out, not Kafka); null when ready or unknown.
   */
  leaderError?(node: PartitionNode): EkafError | null;
  /** The error the last metadata answer gave for the topic (UNKNOWN_TOPIC_OR_PARTITION…); null if none. */
  topicError?(topic: TopicNode): EkafError | null;
}

/**
 * The data path, in plain code (no record travels as an xstate event): a produce call's records
 * go where their topic actor's state says, are partitioned, and are appended to their
 * partitions' logs, whose leaders' senders are woken once per call. Also the sweep that fails
 * what waited longer than the delivery timeout.
 */
export class RecordRouter {
  constructor(private readonly parts: RouterParts) {}

  /**
   * Takes the records of an accepted call (room already reserved in the budget). `urgent`: an
   * unbatched call, whose records leave as soon as a request slot is free; otherwise they wait
   * for the topic's linger. Where they go is the topic actor's state: `refused`, they fail at
   * once; no partitions known yet (`resolving`, or `unavailable` before any were known), they
   * wait for them (releaseWaiting); otherwise they are appended to their partitions.
   */
  accept(
    topicName: string,
    records: RecordList,
    call: ProduceCall,
    urgent: boolean,
    origin?: SpoolOrigin,
  ): void {
    const { parts } = this;
    const topic = parts.topic(topicName);
    const firstSpoolId = origin?.firstSpoolId ?? -1;
    const route = topic.routeFor(parts.topicActor(topic)?.getSnapshot());
    if (route === 'refuse' && topic.refusedWith !== null) {
      parts.settlement.callFailed(records, firstSpoolId, call, topic.refusedWith);
      return;
    }
    parts.pendingCalls.add(call);
    const now = origin?.acceptedAt ?? Date.now();
    topic.lastUsedAt = origin === undefined ? now : Date.now();
    const indexBase = origin?.indexBase ?? 0;
    // The record being placed: one object for the whole call (a record is encoded into its
    // partition's batch at once); one per call, not per router, since a callback run from here
    // (a custom partitioner) may produce again.
    const scratch = emptyRecord();
    if (route === 'wait' || topic.partitions.length === 0) {
      for (let i = 0; i < records.length; i++) {
        topic.waiting.push({
          record: keepRecord(records.at(i, scratch) as NormalizedRecord, scratch),
          call,
          index: indexBase + i,
          urgent,
          acceptedAt: now,
          spoolId: firstSpoolId === -1 ? -1 : firstSpoolId + i,
        });
      }
      return;
    }
    const touched: PartitionNode[] = [];
    for (let i = 0; i < records.length; i++) {
      const spoolId = firstSpoolId === -1 ? -1 : firstSpoolId + i;
      const record = records.at(i, scratch) as NormalizedRecord;
      touch(touched, this.place(topic, record, call, indexBase + i, urgent, now, spoolId));
    }
    this.wake(touched);
  }

  /**
   * Takes a batch that `call` encoded whole for `partition` (room already reserved in the
   * budget; see EncodedBatch): appended to the partition's log as it is when the topic's
   * partitions are known and include it. Otherwise, its records are read back and take accept()'s
   * way, which makes them wait for the partitions or fail as any record would.
   */
  acceptEncoded(topicName: string, partition: number, batch: EncodedBatch, call: ProduceCall): void {
    const { parts } = this;
    const topic = parts.topic(topicName);
    const node = topic.partitions[partition];
    if (topic.routeFor(parts.topicActor(topic)?.getSnapshot()) !== 'place' || node === undefined) {
      this.accept(topicName, decodedRecords(batch, partition), call, false);
      return;
    }
    // Records still waiting for the partitions (none once the topic is active) go first.
    if (topic.waiting.length > 0) this.releaseWaiting(topic);
    parts.pendingCalls.add(call);
    const now = Date.now();
    topic.lastUsedAt = now;
    node.log.appendEncoded(batch, call, now);
    const touched: PartitionNode[] = [];
    touch(touched, node);
    this.wake(touched);
  }

  /** The topic's actor entered `active`: the records that waited for partitions go to them. */
  releaseWaiting(topic: TopicNode): void {
    // Taken off the list at once (shift() per record is quadratic on a long list); place()
    // fails a record it cannot route instead of throwing, so none is stranded. Again while
    // records arrived meanwhile: a failed record's callback may produce to this topic before the
    // topic's actor has finished entering `active`, and those records wait like the others.
    const touched: PartitionNode[] = [];
    while (topic.waiting.length > 0) {
      for (const w of topic.waiting.splice(0))
        touch(touched, this.place(topic, w.record, w.call, w.index, w.urgent, w.acceptedAt, w.spoolId));
    }
    this.wake(touched);
  }

  /**
   * Fails what has waited longer than the delivery timeout. The cause is the error that kept it
   * from being delivered, as Java's `TimeoutException` names the last one: for records that never
   * had a partition, `metadataError` (no broker answers: refused, not Kafka, a refused login),
   * else the error metadata gave for the topic; for a partition's batches, its leader's
   * connection error while that connection is down, else why its batches last came back, else
   * `metadataError`. No cause when nothing went wrong that we saw (a broker merely slow).
   */
  expire(now: number, timeoutMs: number, metadataError: EkafError | null): void {
    const { parts } = this;
    const { settlement } = parts;
    const deadline = now - timeoutMs;
    const timeouts = new TimeoutsByCause(timeoutMs);
    for (const topic of parts.topics()) {
      let overdue = 0;
      while (overdue < topic.waiting.length && (topic.waiting[overdue]?.acceptedAt ?? Infinity) <= deadline)
        overdue++;
      if (overdue > 0) {
        const timeout = timeouts.get(metadataError ?? parts.topicError?.(topic) ?? null);
        for (const waiting of topic.waiting.splice(0, overdue))
          settlement.recordFailed(waiting.record, waiting.spoolId, waiting.call, timeout);
      }
      for (const node of topic.partitions) {
        // A stamped batch that expires starts the partition's sequence again (PartitionLog.expire).
        const expired = node.log.expire(deadline);
        if (expired.length === 0) continue;
        const timeout = timeouts.get(parts.leaderError?.(node) ?? node.lastError ?? metadataError);
        for (const batch of expired) settlement.batchFailed(batch, timeout);
      }
    }
    parts.spooler?.expire(deadline, timeouts.get(metadataError));
  }

  /** Appends one record to its partition's log; null when the record failed instead. */
  private place(
    topic: TopicNode,
    record: NormalizedRecord,
    call: ProduceCall,
    index: number,
    urgent: boolean,
    now: number,
    spoolId: number,
  ): PartitionNode | null {
    const count = topic.partitions.length;
    let partition = record.partition;
    if (partition === -1) {
      try {
        const { partitioner } = topic;
        partition = partitioner.partition(record.key, record.value, record.size, count, record.keySize);
        // A sticky partition whose open batch is full: the record goes to the next one.
        if (
          record.key === null &&
          partitioner.newBatch !== undefined &&
          (topic.partitions[partition] as PartitionNode).log.wouldStartBatch(record.size, topic.batchLimits)
        ) {
          partition = partitioner.newBatch(partition, record.size, count);
        }
      } catch (error) {
        // A custom partitioner threw or returned a bad partition: this record fails, nothing else.
        this.parts.settlement.recordFailed(record, spoolId, call, partitionerError(topic.name, error));
        return null;
      }
    } else if (partition >= count) {
      const error = new InvalidRecordError(
        `records[${index}].partition`,
        `topic "${topic.name}" has ${count} partitions`,
      );
      this.parts.settlement.recordFailed(record, spoolId, call, error);
      return null;
    }
    const node = topic.partitions[partition] as PartitionNode;
    const settings = topic.settings;
    const lingerDeadline = urgent ? Infinity : now + settings.lingerMs;
    node.log.append(record, call, index, topic.batchLimits, urgent, lingerDeadline, now, spoolId);
    return node;
  }

  /** Wakes each partition an accept touched, once per call rather than once per record. */
  private wake(touched: readonly PartitionNode[]): void {
    // First, so that a partition of a transaction is known to it before its sender asks.
    if (touched.length > 0) this.parts.partitionsUsed?.(touched);
    for (const node of touched) {
      node.touched = false;
      this.appended(node);
    }
  }

  /** Records were appended to `node`: wake its sender, or report them saved during downtime. */
  private appended(node: PartitionNode): void {
    if (node.isReady()) {
      this.parts.wakeLeader(node);
    } else if (!node.savedReported && node.everUp && node.isDown) {
      node.savedReported = true;
      this.parts.events.emit('downtime.saved', {
        topic: node.topic.name,
        partition: node.partition,
        records: node.log.bufferedRecords,
      });
    }
  }
}

function partitionerError(topic: string, error: unknown): EkafError {
  if (error instanceof EkafError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EkafError('ERR_CONFIG', `partitioner of topic "${topic}" threw: ${message}`, { cause: error });
}

/** Adds a partition appended to (if any) to `touched`, once. */
/** The records of an encoded batch as a call's records, each for `partition`. */
function decodedRecords(batch: EncodedBatch, partition: number): NormalizedRecord[] {
  return batchRecords(batch).map((record) => {
    const keySize = record.key?.length ?? 0;
    const valueSize = record.value?.length ?? 0;
    const { key, value, headers, timestamp } = record;
    return { key, value, keySize, valueSize, headers, partition, timestamp, size: keySize + valueSize };
  });
}

function touch(touched: PartitionNode[], node: PartitionNode | null): void {
  if (node !== null && !node.touched) {
    node.touched = true;
    touched.push(node);
  }
}

/** One DeliveryTimeoutError per cause in a sweep, shared by the records and batches it fails. */
class TimeoutsByCause {
  private readonly made = new Map<EkafError | null, DeliveryTimeoutError>();

  constructor(private readonly timeoutMs: number) {}

  get(cause: EkafError | null): DeliveryTimeoutError {
    let timeout = this.made.get(cause);
    if (timeout === undefined) {
      timeout = new DeliveryTimeoutError(this.timeoutMs, cause ?? undefined);
      this.made.set(cause, timeout);
    }
    return timeout;
  }
}
