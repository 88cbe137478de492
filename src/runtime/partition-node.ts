import type { PartitionWorkerRef } from '../../machines/actor-index.js';
import type { PartitionWorkerEvent } from '../../machines/partition-worker.machine.js';
import type { TopicSettings } from '../config.js';
import type { EkafError } from '../errors.js';
import type { Codec } from '../protocol/compression.js';
import type { BatchBufferPool } from './batch-buffer-pool.js';
import type { SendablePartition } from './broker-sender.js';
import { PartitionLog, type ProducerStamp } from './partition-log.js';
import type { TopicNode } from './topic-node.js';

/** What a partition needs of the producer identity (src/runtime/producer-identity.ts). */
export interface StampSource {
  /** Whether batches may be sent (not before the first producer id, when idempotent). */
  readonly canSend: boolean;
  /** What new batches are stamped with; null without idempotence. */
  readonly stamp: ProducerStamp | null;
  /** A partition used up the epochs of `producerId`: a new id is needed. */
  renewFor(producerId: number): void;
  /** A partition's sequence started again under `epoch` (counted by the identity actor). */
  epochBumped(topic: string, partition: number, epoch: number): void;
}

/** Which partitions may send in the current transaction (a transactional producer's). */
export interface TransactionGate {
  /** Whether `node` is part of the current transaction (v1: added with AddPartitionsToTxn). */
  admits(node: PartitionNode): boolean;
}

/**
 * One partition, as the data path sees it: its log (the accumulator, in-flight batches and
 * idempotent sequence: plain code) beside its worker actor (`partition:<topic>:<p>`), whose state
 * says whether batches may flow. The broker sender that leads it reads it through
 * SendablePartition.
 */
export class PartitionNode implements SendablePartition {
  readonly log: PartitionLog;
  leaderId = -1;
  /** Why its latest batch came back to be resent: the cause of a later delivery timeout. */
  lastError: EkafError | null = null;
  /**
   * The newest leader epoch heard of for this partition (metadata or a current-leader hint),
   * -1 while none is known. A leader named with an older one is stale and not followed (KIP-320).
   */
  leaderEpoch = -1;
  /** Has this worker ever been up (for time_to_connect, and to report worker.down only after up). */
  everUp = false;
  /** downtime.saved was reported for the current downtime. */
  savedReported = false;
  /** Set while an accept() call is appending to this partition (each is woken once per call). */
  touched = false;

  constructor(
    readonly topic: TopicNode,
    readonly partition: number,
    readonly name: string,
    /** Its worker, from the registry's index (undefined while the registry restarts it). */
    readonly worker: () => PartitionWorkerRef | undefined,
    private readonly identity: StampSource,
    private readonly codecOf: (topic: TopicNode) => Codec | null | undefined,
    pool: BatchBufferPool,
    /** A transactional producer's gate; null otherwise. */
    private readonly gate: TransactionGate | null = null,
  ) {
    this.log = new PartitionLog(
      topic.name,
      partition,
      pool,
      (stale) => {
        identity.renewFor(stale);
      },
      (stamp) => {
        identity.epochBumped(topic.name, partition, stamp.producerEpoch);
        this.tell({ type: 'epoch.bumped', ...stamp });
      },
      gate !== null,
    );
  }

  readonly settings = (): TopicSettings => this.topic.settings;

  /** The worker snapshot `ready` was last read from, and what it said (see isReady). */
  private readSnapshot: unknown = undefined;
  private workerReady = false;

  /**
   * Batches may flow: the producer has its identity, the partition is part of the current
   * transaction (a transactional producer), and the worker is `ready`. Asked on every
   * drain and every call: `matches()` parses its argument each time, so its answer is kept per
   * snapshot (snapshots are immutable, a new one per transition).
   */
  readonly isReady = (): boolean => {
    if (!this.identity.canSend) return false;
    if (this.gate !== null && !this.gate.admits(this)) return false;
    const snapshot = this.worker()?.getSnapshot();
    if (snapshot === undefined) return false;
    if (snapshot !== this.readSnapshot) {
      this.readSnapshot = snapshot;
      this.workerReady = snapshot.matches('ready');
    }
    return this.workerReady;
  };

  readonly stamp = (): ProducerStamp | null => this.identity.stamp;

  readonly codec = (): Codec | null | undefined => this.codecOf(this.topic);

  /**
   * Tells the worker of an outcome that changes its state. Not after it stopped (the partition
   * left its topic, or the producer closed while batches came back).
   */
  tell(event: PartitionWorkerEvent): void {
    const worker = this.worker();
    if (worker?.getSnapshot().status === 'active') worker.send(event);
  }

  /** The worker lost its leader and has not got one back (not a mere retry backoff). */
  get isDown(): boolean {
    return this.worker()?.getSnapshot().context.downSince != null;
  }
}
