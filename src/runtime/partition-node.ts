import type { PartitionWorkerRef } from '../../machines/actor-index.js';
import {
  isSameLeader,
  type PartitionWorkerContext,
  type PartitionWorkerEvent,
  type WorkerRest,
} from '../../machines/partition-worker.machine.js';
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

/**
 * Where a partition's worker is (the registry's index): running, or at rest in `ready` with its
 * state kept (src/runtime/hibernation.ts), or neither while the registry restarts it.
 */
export interface WorkerLookup {
  /** Its running actor; undefined while it rests or waits for a restart. */
  actor(name: string): PartitionWorkerRef | undefined;
  /** Its state while it rests; undefined otherwise. */
  rest(name: string): WorkerRest | undefined;
  /** Gives it an event through the registry, which starts it again first. */
  wake(name: string, event: PartitionWorkerEvent): void;
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
    private readonly workers: WorkerLookup,
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

  /** Its running worker actor (undefined while the worker rests, or the registry restarts it). */
  worker(): PartitionWorkerRef | undefined {
    return this.workers.actor(this.name);
  }

  /** The worker snapshot `ready` was last read from, and what it said (see isReady). */
  private readSnapshot: unknown = undefined;
  private workerReady = false;

  /**
   * Batches may flow: the producer has its identity, the partition is part of the current
   * transaction (a transactional producer), and the worker is `ready` (a worker at rest is).
   * Asked on every drain and every call: `matches()` parses its argument each time, so its
   * answer is kept per snapshot (snapshots are immutable, a new one per transition).
   */
  readonly isReady = (): boolean => {
    if (!this.identity.canSend) return false;
    if (this.gate !== null && !this.gate.admits(this)) return false;
    const worker = this.worker();
    if (worker === undefined) return this.workers.rest(this.name) !== undefined;
    const snapshot = worker.getSnapshot();
    if (snapshot !== this.readSnapshot) {
      this.readSnapshot = snapshot;
      this.workerReady = snapshot.matches('ready');
    }
    return this.workerReady;
  };

  readonly stamp = (): ProducerStamp | null => this.identity.stamp;

  readonly codec = (): Codec | null | undefined => this.codecOf(this.topic);

  /**
   * Tells the worker of an outcome that changes its state, waking it if it rests. Not after it
   * stopped (the partition left its topic, or the producer closed while batches came back), nor
   * while the registry restarts it (the restart brings it up to date). A resting worker is not
   * woken for the leader it follows already (every metadata answer names it).
   */
  tell(event: PartitionWorkerEvent): void {
    const worker = this.worker();
    if (worker !== undefined) {
      if (worker.getSnapshot().status === 'active') worker.send(event);
      return;
    }
    const rest = this.workers.rest(this.name);
    if (rest === undefined || isSameLeader(rest.context, event)) return;
    this.workers.wake(this.name, event);
  }

  /** The worker's context, running or at rest. */
  private context(): PartitionWorkerContext | undefined {
    return this.worker()?.getSnapshot().context ?? this.workers.rest(this.name)?.context;
  }

  /** The worker lost its leader and has not got one back (not a mere retry backoff). */
  get isDown(): boolean {
    return this.context()?.downSince != null;
  }

  /** Consecutive retriable failures of its batches since the last success. */
  get attempts(): number {
    return this.context()?.attempts ?? 0;
  }
}
