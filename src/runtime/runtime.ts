import Long from 'long';
import type { EventEmitter } from 'eventemitter3';
import { createActor, fromPromise, type Actor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import type { BrokerLink } from '../../machines/broker-connection.machine.js';
import { jitteredBackoff } from '../../machines/backoff.js';
import { describeError } from '../../machines/describe-error.js';
import { metadataMachine, type MetadataSummary } from '../../machines/metadata.machine.js';
import {
  partitionWorkerMachine,
  type PartitionWorkerContext,
} from '../../machines/partition-worker.machine.js';
import { actorName, registryMachine, type ActorKind } from '../../machines/registry.machine.js';
import { topicMachine } from '../../machines/topic.machine.js';
import {
  checkIdempotence,
  resolveTopicSettings,
  type BrokerAddress,
  type ResolvedOptions,
  type TopicSettings,
} from '../config.js';
import {
  DeliveryTimeoutError,
  EkafError,
  type EkafErrorCode,
  InvalidRecordError,
  KafkaProtocolError,
  ProducerClosedError,
} from '../errors.js';
import type { ProducerEvents } from '../events.js';
import { Connection } from '../network/connection.js';
import type { BrokerMetadata, MetadataResponse, TopicMetadata } from '../protocol/apis/metadata.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/apis/produce.js';
import { loadCodec, readyCodec, type Codec } from '../protocol/compression.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import { brokerConnectionLogic } from './broker-connection.js';
import { BrokerSender, offsetOf, type SendOutcomes } from './broker-sender.js';
import type { ConnectionOptions } from '../network/connection.js';
import { BatchBufferPool } from './batch-buffer-pool.js';
import { BufferBudget } from './buffer-budget.js';
import type { ProduceCall } from './delivery.js';
import { MetadataClient } from './metadata-client.js';
import { failBatch, PartitionLog, type ProducerStamp, type SealedBatch } from './partition-log.js';
import { provesNotAppended } from './partition-sequence.js';
import { ProducerIdentity } from './producer-identity.js';
import { createPartitioner, type Partitioner } from './partitioners.js';
import type { NormalizedRecord } from './records.js';
import { Spooler, type SpoolOrigin } from './spooler.js';
import type { SpoolDamage } from '../spool/spool.js';
import {
  hasLeft,
  isNewerEpoch,
  isRecreated,
  isStaleEpoch,
  knownTopicId,
  SHRINK_CONFIRMATIONS,
} from './topology.js';

/** A record of a call, waiting for its topic's partitions to be known. */
interface WaitingRecord {
  record: NormalizedRecord;
  call: ProduceCall;
  index: number;
  urgent: boolean;
  acceptedAt: number;
  /** Its spool entry, -1 if not spooled. */
  spoolId: number;
}

class TopicNode {
  settings: TopicSettings;
  partitioner: Partitioner;
  readonly partitions: PartitionNode[] = [];
  waiting: WaitingRecord[] = [];
  /** The topic's id as metadata last gave it (v10+), null while unknown. */
  topicId: Buffer | null = null;
  /** Consecutive metadata answers with fewer partitions than we have (see SHRINK_CONFIRMATIONS). */
  shrinkSeen = 0;
  /**
   * A non-retriable error metadata reports for the topic (TOPIC_AUTHORIZATION_FAILED…): while
   * set, what is produced to the topic fails at once with it, as the Java client's send() does.
   */
  refusedWith: EkafError | null = null;
  /** When the topic was last produced to (idle topics are evicted, see topicIdleEvictionMs). */
  lastUsedAt = Date.now();

  constructor(
    readonly name: string,
    settings: TopicSettings,
  ) {
    this.settings = settings;
    this.partitioner = makePartitioner(name, settings);
  }
}

class PartitionNode {
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
  readonly settings: () => TopicSettings;
  readonly isReady: () => boolean;
  readonly stamp: () => ProducerStamp | null;
  readonly codec: () => Codec | null | undefined;

  constructor(
    readonly topic: TopicNode,
    readonly partition: number,
    readonly name: string,
    worker: () => AnyActorRef | undefined,
    identity: ProducerIdentity,
    codec: (topic: TopicNode) => Codec | null | undefined,
    pool: BatchBufferPool,
  ) {
    this.log = new PartitionLog(topic.name, partition, pool, (stale) => {
      identity.renewFor(stale);
    });
    this.settings = () => topic.settings;
    this.isReady = () =>
      identity.canSend && (worker()?.getSnapshot() as { value?: unknown } | undefined)?.value === 'ready';
    this.stamp = () => identity.stamp;
    this.codec = () => codec(topic);
  }
}

interface BrokerNode {
  id: number;
  address: BrokerAddress;
  sender: BrokerSender<PartitionNode>;
  /** Consecutive metadata answers that did not list this broker (see hasLeft()). */
  absences: number;
  /** Since when metadata has not listed it (ms since epoch), meaningful while absences > 0. */
  absentSince: number;
}

function makePartitioner(topic: string, settings: TopicSettings): Partitioner {
  return createPartitioner(topic, settings.partitioner, {
    batchBytes: settings.batchBytes,
    batchRecords: settings.batchRecords,
  });
}

/** How often delivery timeouts are checked, and `worker.still_down` reported. */
const SWEEP_INTERVAL_MS = 1000;
const STILL_DOWN_INTERVAL_MS = 5000;
/** Registry restart delay for a failed actor (brod uses 5 s for workers). */
const RESTART_DELAY_MS = 5000;

/**
 * The producer's actor system and data path. The facade (src/producer.ts) validates calls and
 * hands records here; this module routes them to partition logs, drives the actors, and turns
 * broker answers into delivery reports.
 */
export class Runtime {
  readonly budget: BufferBudget;
  /** Buffers of settled batches, recycled for new ones. */
  private readonly batchBuffers = new BatchBufferPool();
  private readonly identity: ProducerIdentity;
  readonly registry: Actor<typeof registryMachine>;
  private readonly index = new Map<string, AnyActorRef>();
  /** Registered actors that failed and wait for the registry to restart them. */
  private readonly restarting = new Set<string>();
  private readonly kinds = new Map<string, ActorKind>();
  private readonly topics = new Map<string, TopicNode>();
  private readonly brokers = new Map<number, BrokerNode>();
  private readonly metadataClient: MetadataClient;
  /** Why the latest metadata request failed; null once one succeeds. */
  private lastMetadataError: EkafError | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  /** Evicts idle topics and settles what comes back to vanished partitions (see tidy()). */
  private readonly tidyTimer: NodeJS.Timeout;
  /**
   * Partitions that left their topic while batches of theirs were in flight, with the error
   * those fail with when they come back to be retried. Bounded by the partitions removed; each
   * leaves once nothing of it is in flight (within a request timeout).
   */
  private readonly retired = new Map<PartitionNode, EkafError>();
  private readonly startedAt = Date.now();
  /** Calls accepted and not yet done (flush waits on them). */
  readonly pendingCalls = new Set<ProduceCall>();
  /** Set by close(): nothing is retried any more; what comes back fails with this error. */
  private stoppedWith: EkafError | null = null;
  /** The durable spool, when the `spool` option is given. */
  readonly spooler: Spooler | null;

  constructor(
    readonly options: ResolvedOptions,
    private readonly events: Pick<EventEmitter<ProducerEvents>, 'emit'>,
  ) {
    this.budget = new BufferBudget(options.maxBufferedRecords, options.maxBufferedBytes);
    // First: a locked or unreadable spool directory fails createProducer() before anything starts.
    this.spooler = options.spool === null ? null : new Spooler(options.spool, this.spoolerHost());
    this.metadataClient = new MetadataClient(
      options.brokers,
      () => [...this.brokers.values()].map((b) => b.address),
      this.connectionOptions(),
      options.sasl,
    );
    this.identity = new ProducerIdentity(
      options.idempotent,
      this.metadataClient,
      (attempts) => jitteredBackoff(attempts, options.retryBackoffMs, options.retryBackoffMaxMs, Math.random),
      () => {
        for (const broker of this.brokers.values()) broker.sender.requestDrain();
      },
      () => {
        options.logger.warn('ekaf: the broker has no InitProducerId; idempotence is off');
        for (const broker of this.brokers.values()) broker.sender.requestDrain();
      },
    );
    this.registry = createActor(
      registryMachine.provide({
        actions: {
          // Runs inside the registry's transition, before its new snapshot is committed: index
          // once the transition is over (restarts come this way; register() reindexes itself).
          childrenChanged: () => {
            queueMicrotask(() => {
              this.reindex();
            });
          },
        },
      }),
      // Every actor of the producer is a descendant of the registry: one inspector sees them all.
      { input: { restartDelayMs: RESTART_DELAY_MS }, inspect: options.inspect },
    );
    this.registry.start();
    this.register('metadata', 'metadata', this.metadataLogic(), {
      metadataMaxAgeMs: options.metadataMaxAgeMs,
      minIntervalMs: options.retryBackoffMs,
      retryBackoffMs: options.retryBackoffMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs,
    });
    this.sweepTimer = setInterval(() => {
      this.sweep();
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
    this.tidyTimer = setInterval(() => {
      this.tidy(Date.now());
    }, SWEEP_INTERVAL_MS);
    this.tidyTimer.unref();
  }

  // ---------------------------------------------------------------- the data path

  /** Settings of a topic as they are (or would be) used. */
  topicSettings(topic: string): TopicSettings {
    return this.topics.get(topic)?.settings ?? this.options.topics[topic] ?? this.options.defaults;
  }

  /** What every broker connection is opened with, metadata's and the produce connections alike. */
  private connectionOptions(): Omit<ConnectionOptions, 'host' | 'port'> {
    return {
      clientId: this.options.clientId,
      requestTimeoutMs: this.options.requestTimeoutMs,
      connectTimeoutMs: this.options.connectTimeoutMs,
      maxResponseBytes: this.options.maxResponseBytes,
      tls: this.options.tls,
    };
  }

  /** Number of partitions if known (for validating explicit partitions early), else -1. */
  partitionCount(topic: string): number {
    const node = this.topics.get(topic);
    return node === undefined || node.partitions.length === 0 ? -1 : node.partitions.length;
  }

  /**
   * Takes the records of an accepted call (room already reserved in the budget). `urgent`: an
   * unbatched call, whose records leave as soon as a request slot is free; otherwise they wait
   * for the topic's linger.
   */
  accept(
    topicName: string,
    records: NormalizedRecord[],
    call: ProduceCall,
    urgent: boolean,
    origin?: SpoolOrigin,
  ): void {
    const topic = this.topic(topicName);
    if (topic.refusedWith !== null) {
      this.refuse(topic.refusedWith, records, call, origin);
      return;
    }
    this.pendingCalls.add(call);
    const now = origin?.acceptedAt ?? Date.now();
    topic.lastUsedAt = origin === undefined ? now : Date.now();
    const indexBase = origin?.indexBase ?? 0;
    const firstSpoolId = origin?.firstSpoolId ?? -1;
    if (topic.partitions.length === 0) {
      for (let i = 0; i < records.length; i++) {
        topic.waiting.push({
          record: records[i] as NormalizedRecord,
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
      touch(
        touched,
        this.place(topic, records[i] as NormalizedRecord, call, indexBase + i, urgent, now, spoolId),
      );
    }
    this.wake(touched);
  }

  /**
   * Whether a topic cannot send right now: its partitions are not known yet, or one of them has
   * no ready leader. The spool's 'downtime' mode writes what such a topic takes.
   */
  inDowntime(topicName: string): boolean {
    const topic = this.topics.get(topicName);
    if (topic === undefined || topic.partitions.length === 0) return true;
    for (const node of topic.partitions) if (!node.isReady()) return true;
    return false;
  }

  private spoolerHost() {
    return {
      budget: this.budget,
      accept: (
        topic: string,
        records: NormalizedRecord[],
        call: ProduceCall,
        urgent: boolean,
        origin: SpoolOrigin,
      ) => {
        this.accept(topic, records, call, urgent, origin);
      },
      logsOf: (topic: string) => this.topics.get(topic)?.partitions.map((node) => node.log) ?? [],
      warn: (message: string, fields?: object) => {
        this.options.logger.warn(message, fields);
      },
      damaged: (damage: SpoolDamage) => {
        this.spoolDamaged(damage);
      },
      failed: (error: EkafError) => {
        this.options.logger.error(`ekaf: ${error.message}`);
        this.events.emit('error', error);
      },
    };
  }

  /** Damage found in the spool: logged, and reported as a `spool.damaged` event. */
  spoolDamaged(damage: SpoolDamage): void {
    this.options.logger.warn(
      `ekaf: spool damage skipped in ${damage.file} at byte ${damage.offset}: ${damage.reason} ` +
        `(${damage.droppedBytes} bytes dropped)`,
    );
    this.events.emit('spool.damaged', damage);
  }

  /** Wakes each partition an accept touched, once per call rather than once per record. */
  private wake(touched: readonly PartitionNode[]): void {
    for (const node of touched) {
      node.touched = false;
      this.appended(node);
    }
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
        partition = topic.partitioner.partition(record.key, record.value, record.size, count);
      } catch (error) {
        // A custom partitioner threw or returned a bad partition: this record fails, nothing else.
        this.spooler?.release(spoolId);
        this.budget.release(1, record.size);
        call.fail(1, partitionerError(topic.name, error));
        return null;
      }
    } else if (partition >= count) {
      this.spooler?.release(spoolId);
      this.budget.release(1, record.size);
      call.fail(
        1,
        new InvalidRecordError(
          `records[${index}].partition`,
          `topic "${topic.name}" has ${count} partitions`,
        ),
      );
      return null;
    }
    const node = topic.partitions[partition] as PartitionNode;
    const settings = topic.settings;
    node.log.append(
      record,
      call,
      index,
      settings,
      urgent,
      urgent ? Infinity : now + settings.lingerMs,
      now,
      spoolId,
    );
    return node;
  }

  /** Records were appended to `node`: wake its sender, or report them saved during downtime. */
  private appended(node: PartitionNode): void {
    if (node.isReady()) {
      this.brokers.get(node.leaderId)?.sender.requestDrain();
    } else if (!node.savedReported && node.everUp && this.isDown(node)) {
      node.savedReported = true;
      this.events.emit('downtime.saved', {
        topic: node.topic.name,
        partition: node.partition,
        records: node.log.bufferedRecords,
      });
    }
  }

  /** Makes every open batch leave now, and wakes every sender. */
  flushAll(): void {
    for (const topic of this.topics.values()) for (const node of topic.partitions) node.log.markUrgent();
    for (const broker of this.brokers.values()) broker.sender.requestDrain();
  }

  private readonly outcomes: SendOutcomes<PartitionNode> = {
    acknowledged: (node, batch, answer) => {
      const acknowledged = answer !== null;
      const baseOffset = answer === null ? -1 : offsetOf(answer.baseOffset);
      node.log.acknowledged(batch, baseOffset);
      node.lastError = null;
      this.spooler?.releaseBatch(batch);
      this.budget.release(batch.recordCount, batch.payloadBytes);
      const appendTime = answer === null ? -1 : offsetOf(answer.logAppendTimeMs);
      let delta = 0;
      for (const segment of batch.segments) {
        const first = delta;
        segment.call.succeed(
          segment.start,
          segment.count,
          node.partition,
          // Unknown offsets (DUPLICATE_SEQUENCE_NUMBER, acks 0) stay -1 for every call in the batch.
          baseOffset < 0 ? -1 : baseOffset + first,
          (i) => (appendTime >= 0 ? appendTime : batch.timestamps.at(first + i)),
          acknowledged,
        );
        delta += segment.count;
      }
      // Only a worker counting failed attempts needs to hear of a success: no xstate event (a
      // macrostep) per acknowledged batch in the common case.
      const worker = this.worker(node);
      if (
        worker !== undefined &&
        (worker.getSnapshot() as { context: PartitionWorkerContext }).context.attempts > 0
      ) {
        worker.send({ type: 'produce.acked' });
      }
      this.wakeLeader(node);
    },
    rejected: (node, batch, answer, endpoints) => {
      this.followLeaderHint(node, answer, endpoints);
      const info = kafkaError(answer.errorCode);
      const detail = answer.errorMessage ?? info.description;
      const error = new KafkaProtocolError(info.code, info.name, detail, info.retriable);
      if (answer.errorCode === ErrorCode.MESSAGE_TOO_LARGE && node.log.split(batch)) {
        // The halves are sent in its place, under its sequence numbers (PartitionLog.split).
        this.wakeLeader(node);
        return;
      }
      if (batch.baseSequence !== -1 && this.idempotenceError(node, batch, answer, error)) {
        this.wakeLeader(node);
        return;
      }
      this.wakeLeader(node);
      if (info.retriable) {
        this.retryOrExpire(node, batch, error, provesNotAppended(answer.errorCode));
        this.worker(node)?.send({ type: 'produce.retriable', error: describeError(error) });
      } else {
        this.settleFailed(node, batch, error);
      }
    },
    lost: (node, batch, error) => {
      this.retryOrExpire(node, batch, error);
      // A lost connection already moved the worker out of ready (conn.down comes first); a
      // request answered without this partition makes it back off before resending.
      this.worker(node)?.send({ type: 'produce.retriable', error: describeError(error) });
      this.wakeLeader(node);
    },
    unsendable: (node, batch, error) => {
      // Never sent and never sendable as it is (ERR_ENCODE): failed for good, as a
      // non-retriable broker error would fail it; the partition goes on with its next batch.
      this.settleFailed(node, batch, error);
      this.wakeLeader(node);
    },
  };

  /**
   * The topic's codec, null for none, or undefined while its package loads (the senders of the
   * topic's partitions are woken when it has).
   */
  private codecFor(topic: TopicNode): Codec | null | undefined {
    const name = topic.settings.compression;
    if (name === 'none') return null;
    const codec = readyCodec(name);
    if (codec !== undefined) return codec;
    loadCodec(name).then(
      () => {
        for (const node of topic.partitions) this.wakeLeader(node);
      },
      (error: unknown) => {
        this.events.emit(
          'error',
          error instanceof EkafError ? error : new EkafError('ERR_CONFIG', String(error)),
        );
      },
    );
    return undefined;
  }

  /**
   * The partition's current leader may take its next batch now. Outcomes arrive on the
   * connection that sent the batch, which after a leader move is not the leader's any more.
   */
  private wakeLeader(node: PartitionNode): void {
    this.brokers.get(node.leaderId)?.sender.requestDrain();
  }

  /**
   * The sequence and epoch errors of an idempotent producer, handled as the Java producer does
   * for a producer without a transactional id; the partition's epoch bump is its own
   * (PartitionLog.resetSequence, PartitionSequence). Returns false when `answer` is not one of them.
   */
  private idempotenceError(
    node: PartitionNode,
    batch: SealedBatch,
    answer: ProducePartitionResponse,
    error: KafkaProtocolError,
  ): boolean {
    switch (answer.errorCode) {
      case ErrorCode.DUPLICATE_SEQUENCE_NUMBER:
        // The broker already has this batch (an earlier attempt was written): a success whose
        // offsets the broker no longer says.
        this.outcomes.acknowledged(node, batch, {
          ...answer,
          baseOffset: Long.NEG_ONE,
          logAppendTimeMs: Long.NEG_ONE,
        });
        return true;
      case ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER:
        // Not written. If an earlier batch is still unacknowledged, its fate decides: written,
        // this one follows it under its stamp; failed for good, the sequence starts again. If
        // none is, the broker lacks sequence numbers we cannot resend: a gap, so the sequence
        // starts again under a new epoch, this batch first. But if a later batch of the
        // partition is written already (a broker with no state for us takes any sequence),
        // resending this one would put its records after later ones: it fails by name instead.
        if (batch.sequence < node.log.lastAckedPosition) {
          this.settleFailed(
            node,
            batch,
            new KafkaProtocolError(
              error.errorCode,
              error.errorName,
              'a later batch of this partition was written first; resending this one would reorder them',
              false,
            ),
          );
          return true;
        }
        if (!node.log.hasEarlierUnacknowledged(batch)) node.log.resetSequence();
        this.retryOrExpire(node, batch, error, true);
        this.worker(node)?.send({ type: 'produce.retriable', error: describeError(error) });
        return true;
      case ErrorCode.UNKNOWN_PRODUCER_ID:
        // Not written; the broker lost our producer state (a broker before 2.5).
        node.log.resetSequence();
        if (producerStateExpired(answer.logStartOffset, node.log.lastAckedOffset)) {
          // Retention removed our records and the state with them: nothing of ours can be there
          // twice, so the batch is resent under the new epoch.
          this.retryOrExpire(node, batch, error, true);
        } else {
          // The state vanished while our records are still in the log (e.g. a leader without
          // it): resending what was in doubt could duplicate it. Fail this batch by name.
          this.settleFailed(node, batch, error);
        }
        return true;
      case ErrorCode.INVALID_PRODUCER_EPOCH:
      case ErrorCode.PRODUCER_FENCED:
        // Our epoch is older than the broker's for this partition: this batch cannot be written
        // under it; later ones are, under the partition's next epoch.
        this.settleFailed(node, batch, error);
        return true;
      default:
        return false;
    }
  }

  /** `notAppended`: the answer proves the batch was not written (see PartitionLog.requeue). */
  private retryOrExpire(
    node: PartitionNode,
    batch: SealedBatch,
    cause: EkafError,
    notAppended = false,
  ): void {
    if (this.stoppedWith !== null) {
      this.settleFailed(node, batch, this.stoppedWith);
    } else if (batch.acceptedAt + this.options.deliveryTimeoutMs <= Date.now()) {
      this.settleFailed(node, batch, new DeliveryTimeoutError(this.options.deliveryTimeoutMs, cause));
    } else {
      node.lastError = cause;
      node.log.requeue(batch, notAppended);
    }
  }

  private settleFailed(node: PartitionNode, batch: SealedBatch, error: EkafError): void {
    // A stamped batch failed for good starts the partition's sequence again (PartitionLog.failed).
    node.log.failed(batch);
    // Failed for good, it leaves the spool; failed because close() gave up, it stays there for
    // the next producer.
    if (error !== this.stoppedWith) this.spooler?.releaseBatch(batch);
    this.budget.release(batch.recordCount, batch.payloadBytes);
    failBatch(batch, error);
  }

  /** Fails what has waited longer than deliveryTimeoutMs; reports workers still down. */
  private sweep(): void {
    const now = Date.now();
    const deadline = now - this.options.deliveryTimeoutMs;
    const timeoutMs = this.options.deliveryTimeoutMs;
    // The cause is the last error seen on the way: metadata's for records that never had a
    // partition (a refused login, say), the partition's last failure for its batches.
    const timeout = new DeliveryTimeoutError(timeoutMs, this.lastMetadataError ?? undefined);
    for (const topic of this.topics.values()) {
      while (topic.waiting.length > 0 && (topic.waiting[0] as WaitingRecord).acceptedAt <= deadline) {
        const waiting = topic.waiting.shift() as WaitingRecord;
        this.spooler?.release(waiting.spoolId);
        this.budget.release(1, waiting.record.size);
        waiting.call.fail(1, timeout);
      }
      for (const node of topic.partitions) {
        // A stamped batch that expires starts the partition's sequence again (PartitionLog.expire).
        const expired = node.log.expire(deadline);
        const batchTimeout =
          expired.length === 0 || node.lastError === null
            ? timeout
            : new DeliveryTimeoutError(timeoutMs, node.lastError);
        for (const batch of expired) {
          this.spooler?.releaseBatch(batch);
          this.budget.release(batch.recordCount, batch.payloadBytes);
          failBatch(batch, batchTimeout);
        }
      }
    }
    this.spooler?.expire(deadline, this.options.deliveryTimeoutMs);
  }

  // ---------------------------------------------------------------- actors

  private register(name: string, kind: ActorKind, logic: AnyActorLogic, input: unknown): void {
    this.kinds.set(name, kind);
    this.registry.send({ type: 'register', name, spec: { kind, logic, input } });
    this.reindex();
  }

  /** Stops and forgets an actor through the registry; the index drops it at once. */
  private deregister(name: string): void {
    this.kinds.delete(name);
    this.restarting.delete(name);
    this.registry.send({ type: 'unregister', name });
    this.reindex();
  }

  private reindex(): void {
    const children = this.registry.getSnapshot().children as Record<string, AnyActorRef | undefined>;
    for (const name of this.index.keys()) if (children[name] === undefined) this.index.delete(name);
    for (const [name, ref] of Object.entries(children)) {
      if (ref === undefined || this.index.get(name) === ref) continue;
      const restarted = this.index.has(name) || this.restarting.has(name);
      this.restarting.delete(name);
      this.index.set(name, ref);
      this.watch(name, ref);
      if (restarted) this.resume(name);
    }
    for (const name of this.kinds.keys()) {
      if (!this.index.has(name) && children[name] === undefined) this.restarting.add(name);
    }
  }

  /** A restarted partition worker starts without a leader: tell it what metadata said. */
  private resume(name: string): void {
    if (this.kinds.get(name) !== 'partition') return;
    const [, topicName, partition] = /^partition:(.*):(\d+)$/.exec(name) ?? [];
    const node = this.topics.get(topicName ?? '')?.partitions[Number(partition)];
    if (node !== undefined) this.updateLeader(node, node.leaderId);
  }

  /** Reports every transition as a `state` event, and reacts to broker connections. */
  private watch(name: string, ref: AnyActorRef): void {
    let previous = stateValue(ref);
    ref.subscribe({
      next: (snapshot: { value?: unknown; context?: unknown }) => {
        const current = stateValue(snapshot);
        if (current === previous) return;
        const from = previous;
        previous = current;
        this.events.emit('state', { actor: name, from, to: current });
        this.report(name, from, current, snapshot.context as Record<string, unknown>);
        if (this.kinds.get(name) === 'broker') this.brokerTransition(name, from, current, snapshot.context);
      },
      // The registry restarts a failed actor; without this observer xstate would rethrow it.
      error: (error: unknown) => {
        this.options.logger.error(`ekaf: ${name} failed and will be restarted`, { error: String(error) });
      },
    });
  }

  /** Logs transitions, and reports failures outside any produce call as `error` events. */
  private report(name: string, from: string, to: string, context: Record<string, unknown>): void {
    const { logger } = this.options;
    const lastError = context.lastError as { code: string; message: string } | null | undefined;
    logger.debug(`ekaf: ${name} ${from} -> ${to}`);
    const kind = this.kinds.get(name);
    if (kind === 'broker' && (to === 'retrying' || to === 'failed') && lastError) {
      logger.warn(`ekaf: ${name} connection failed: ${lastError.message}`, { attempts: context.attempts });
      if (to === 'failed')
        this.events.emit('error', new EkafError(lastError.code as EkafErrorCode, lastError.message));
    } else if (kind === 'metadata' && to === 'backoff' && lastError) {
      logger.warn(`ekaf: metadata refresh failed: ${lastError.message}`, { attempts: context.attempts });
      // Once per failure streak, not on every retry.
      if (context.attempts === 1)
        this.events.emit('error', new EkafError(lastError.code as EkafErrorCode, lastError.message));
    } else if (kind === 'partition' && (to === 'ready' || from === 'ready')) {
      logger.info(`ekaf: ${name} ${to}`, { leaderId: context.leaderId });
    }
  }

  /** The worker lost its leader and has not got one back (not a mere retry backoff). */
  private isDown(node: PartitionNode): boolean {
    const snapshot = this.worker(node)?.getSnapshot() as
      { context?: { downSince?: number | null } } | undefined;
    return snapshot?.context?.downSince != null;
  }

  private worker(node: PartitionNode): AnyActorRef | undefined {
    return this.index.get(node.name);
  }

  actor(name: string): AnyActorRef | undefined {
    return this.index.get(name);
  }

  private topic(name: string): TopicNode {
    let topic = this.topics.get(name);
    if (topic === undefined) {
      topic = new TopicNode(name, this.options.topics[name] ?? this.options.defaults);
      this.topics.set(name, topic);
      const node = topic;
      this.register(
        actorName.topic(name),
        'topic',
        topicMachine.provide({
          actions: {
            refreshMetadata: () => {
              this.refreshMetadata();
            },
            releaseWaiting: () => {
              this.releaseWaiting(node);
            },
          },
        }),
        { name },
      );
    }
    return topic;
  }

  private releaseWaiting(topic: TopicNode): void {
    // Taken off the list at once (shift() per record is quadratic on a long list); place()
    // fails a record it cannot route instead of throwing, so none is stranded.
    const waiting = topic.waiting.splice(0);
    const touched: PartitionNode[] = [];
    for (const w of waiting)
      touch(touched, this.place(topic, w.record, w.call, w.index, w.urgent, w.acceptedAt, w.spoolId));
    this.wake(touched);
  }

  refreshMetadata(): void {
    this.index.get('metadata')?.send({ type: 'refresh' });
  }

  private metadataLogic() {
    return metadataMachine.provide({
      actors: {
        fetch: fromPromise<MetadataSummary>(async () => {
          let response: MetadataResponse;
          try {
            response = await this.metadataClient.fetch([...this.topics.keys()]);
          } catch (error) {
            // Kept as the cause of the delivery timeout of records that waited for metadata.
            this.lastMetadataError =
              error instanceof EkafError
                ? error
                : new EkafError('ERR_KAFKA', String(error), { cause: error });
            throw error;
          }
          this.lastMetadataError = null;
          this.applyMetadata(response);
          return { brokers: response.brokers.length, topics: response.topics.length };
        }),
      },
    });
  }

  private applyMetadata(response: MetadataResponse): void {
    if (this.stoppedWith !== null) return;
    this.identity.start();
    for (const broker of response.brokers)
      this.ensureBroker(broker.nodeId, { host: broker.host, port: broker.port });
    let stale = false;
    for (const meta of response.topics) {
      const topic = meta.name === null ? undefined : this.topics.get(meta.name);
      if (topic === undefined) continue;
      if (meta.errorCode !== 0 || meta.partitions.length === 0) {
        this.topicError(topic, meta.errorCode);
        continue;
      }
      if (!this.applyTopic(topic, meta)) stale = true;
    }
    // After the topics: a partition that moved off a departing broker has its new leader by now.
    this.forgetAbsentBrokers(response.brokers, Date.now());
    if (stale) this.refreshMetadata();
  }

  /** Follows one topic's partitions and leaders; false when part of the answer was stale. */
  private applyTopic(topic: TopicNode, meta: TopicMetadata): boolean {
    let fresh = true;
    const topicId = knownTopicId(meta.topicId);
    const recreated = isRecreated(topic.topicId, topicId);
    if (recreated) {
      // Another topic under the same name: its leader epochs start again from 0, and its
      // partitions hold no producer state of ours, so their sequences start again too (under a
      // new epoch, once what is in flight to the old topic has come back).
      for (const node of topic.partitions) {
        node.leaderEpoch = -1;
        node.log.resetSequence();
      }
    }
    const knewId = topic.topicId !== null;
    topic.topicId = topicId ?? topic.topicId;
    topic.refusedWith = null;
    const count = meta.partitions.length;
    if (count < topic.partitions.length) {
      // Kafka cannot take partitions away from a topic: fewer means the topic was deleted and
      // created again, or a broker whose metadata lags behind partitions just added.
      topic.shrinkSeen++;
      // With both ids known the id decides (a new one: recreated; the same one: a stale
      // answer); without, a streak of answers does.
      const idsDecide = topicId !== null && knewId;
      const confirmed = idsDecide ? recreated : topic.shrinkSeen >= SHRINK_CONFIRMATIONS;
      if (confirmed) {
        topic.shrinkSeen = 0;
        this.shrink(topic, count);
      } else {
        fresh = false;
      }
    } else {
      topic.shrinkSeen = 0;
    }
    for (const p of meta.partitions) {
      const node = this.ensurePartition(topic, p.partition);
      if (isStaleEpoch(node.leaderEpoch, p.leaderEpoch)) {
        // This broker's metadata lags behind what we heard (KIP-320): keep the newer leader
        // for this partition, and ask again (the next answer may come from a fresher broker).
        fresh = false;
        continue;
      }
      if (p.leaderEpoch >= 0) node.leaderEpoch = p.leaderEpoch;
      this.updateLeader(node, p.leaderId);
    }
    this.index.get(actorName.topic(topic.name))?.send({ type: 'partitions', count: topic.partitions.length });
    return fresh;
  }

  /**
   * The topic now has `count` partitions, fewer than we had. New records are partitioned over
   * `count` (place() reads the array's length). What was buffered for a vanished partition fails
   * at once with UNKNOWN_TOPIC_OR_PARTITION, not retriable: its partition will not come back, and
   * moving it to another partition would break the order and the key placement its caller
   * chose (the Java producer does not move a batch either; it lets it expire). What is in flight
   * fails the same way when it comes back, unless the broker acknowledged it. The partitions'
   * workers are stopped through the registry.
   */
  private shrink(topic: TopicNode, count: number): void {
    for (const node of topic.partitions.splice(count)) {
      const error = new KafkaProtocolError(
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        'UNKNOWN_TOPIC_OR_PARTITION',
        `partition ${node.partition} of topic "${topic.name}" no longer exists (it has ${count} partitions now)`,
        false,
      );
      this.stopWorker(node);
      // Its sequence dies with it: nothing to start again.
      this.failHeld(node, node.log.drainAll(), error, false);
      if (!node.log.isEmpty) this.retired.set(node, error);
    }
  }

  /**
   * Metadata reports an error for the whole topic, in whichever state it is. A retriable one
   * (UNKNOWN_TOPIC_OR_PARTITION: deleted, or not created yet; LEADER_NOT_AVAILABLE) leaves its
   * records to be retried until their delivery timeout, as the Java producer does: the topic may
   * come back. A non-retriable one (TOPIC_AUTHORIZATION_FAILED, INVALID_TOPIC_EXCEPTION) fails
   * what is buffered at once, and what is produced to it while the error lasts; batches in
   * flight come back with the same error from the broker. The topic actor keeps asking for
   * metadata, so that the topic recovers when the error clears.
   */
  private topicError(topic: TopicNode, code: number): void {
    const info = kafkaError(code);
    this.index
      .get(actorName.topic(topic.name))
      ?.send({ type: 'topic.error', error: { code: info.name, message: info.description } });
    // No error code (a topic without partitions) or one not in our table: not a verdict.
    if (code === 0 || info.retriable || info.name.startsWith('UNKNOWN_ERROR_CODE')) {
      topic.refusedWith = null;
      return;
    }
    const error = new KafkaProtocolError(
      code,
      info.name,
      `topic "${topic.name}": ${info.description}`,
      false,
    );
    topic.refusedWith = error;
    for (const waiting of topic.waiting.splice(0)) {
      this.spooler?.release(waiting.spoolId);
      this.budget.release(1, waiting.record.size);
      waiting.call.fail(1, error);
    }
    for (const node of topic.partitions) this.failHeld(node, node.log.drainAll(), error, true);
  }

  /** A call to a topic that metadata refuses (see topicError()): every record fails at once. */
  private refuse(
    error: EkafError,
    records: NormalizedRecord[],
    call: ProduceCall,
    origin?: SpoolOrigin,
  ): void {
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      bytes += (records[i] as NormalizedRecord).size;
      if (origin !== undefined && origin.firstSpoolId !== -1) this.spooler?.release(origin.firstSpoolId + i);
    }
    this.budget.release(records.length, bytes);
    call.fail(records.length, error);
  }

  /**
   * Fails batches taken out of `node`'s log for good (not in flight). `restart`: the partition
   * lives on, so a stamped batch that will never be written leaves a gap in its sequence, which
   * starts again as after an expired batch (PartitionLog.expire).
   */
  private failHeld(
    node: PartitionNode,
    batches: readonly SealedBatch[],
    error: EkafError,
    restart: boolean,
  ): void {
    for (const batch of batches) {
      if (restart && batch.baseSequence !== -1) node.log.resetSequence();
      this.spooler?.releaseBatch(batch);
      this.budget.release(batch.recordCount, batch.payloadBytes);
      failBatch(batch, error);
    }
  }

  /** A partition worker leaves: no leader sends for it any more, and the registry stops it. */
  private stopWorker(node: PartitionNode): void {
    this.brokers.get(node.leaderId)?.sender.unlead(node);
    node.leaderId = -1;
    this.deregister(node.name);
  }

  /**
   * Brokers missing from metadata for long enough (see hasLeft()) have left the cluster: their
   * actor is stopped (closing its connection) and they are no longer dialled. One that comes
   * back is named by metadata again and gets a new actor.
   */
  private forgetAbsentBrokers(listed: readonly BrokerMetadata[], now: number): void {
    // An answer naming no broker at all says nothing about who left.
    if (listed.length === 0) return;
    const ids = new Set(listed.map((b) => b.nodeId));
    for (const broker of [...this.brokers.values()]) {
      if (ids.has(broker.id)) {
        broker.absences = 0;
        continue;
      }
      if (broker.absences++ === 0) broker.absentSince = now;
      if (!hasLeft(broker.absences, broker.absentSince, now)) continue;
      this.options.logger.info(`ekaf: broker ${broker.id} left the cluster; its connection is closed`, {
        address: `${broker.address.host}:${broker.address.port}`,
      });
      // Partitions metadata still names it for (their topic's answer had an error) lose it.
      for (const node of [...broker.sender.led]) {
        broker.sender.unlead(node);
        node.leaderId = -1;
        this.worker(node)?.send({ type: 'leader.lost' });
      }
      this.stopBrokerActor(broker);
      broker.sender.stop();
      this.brokers.delete(broker.id);
    }
  }

  /**
   * Stops a broker's actor through the registry. Its cleanup closes the connection, so what was
   * in flight on it comes back lost and is retried; the workers it led hear `conn.down` now,
   * since a stopped actor reports no transition out of `ready`.
   */
  private stopBrokerActor(broker: BrokerNode): void {
    this.deregister(actorName.broker(broker.id));
    this.connectionLost(broker, { code: 'ERR_CONNECTION_CLOSED', message: 'broker connection stopped' });
  }

  /** The broker's connection is gone: its partitions stop sending until it is back. */
  private connectionLost(broker: BrokerNode, error: { code: string; message: string }): void {
    if (broker.sender.connection === null) return;
    broker.sender.connection = null;
    for (const node of broker.sender.led) this.worker(node)?.send({ type: 'conn.down', error });
  }

  /**
   * Evicts topics idle for `topicIdleEvictionMs` (nothing waiting, buffered or in flight, nothing
   * produced), with their partition workers and topic actor: a gateway producing to many topic
   * names would otherwise keep an actor per partition of every name it ever saw. A later produce
   * recreates the topic lazily. A topic whose settings were changed with setTopicConfig is kept,
   * as its settings would be lost. Also settles what came back to retired partitions.
   */
  private tidy(now: number): void {
    for (const [node, error] of this.retired) {
      this.failHeld(node, node.log.drainAll(), error, false);
      if (node.log.isEmpty) this.retired.delete(node);
    }
    for (const topic of this.topics.values()) {
      if (now - topic.lastUsedAt < this.options.topicIdleEvictionMs || !this.isIdle(topic)) continue;
      this.options.logger.debug(`ekaf: topic ${topic.name} idle, evicted`);
      for (const node of topic.partitions.splice(0)) this.stopWorker(node);
      this.deregister(actorName.topic(topic.name));
      this.topics.delete(topic.name);
    }
  }

  private isIdle(topic: TopicNode): boolean {
    if (topic.waiting.length > 0) return false;
    if (topic.settings !== (this.options.topics[topic.name] ?? this.options.defaults)) return false;
    for (const node of topic.partitions) if (!node.log.isEmpty) return false;
    return true;
  }

  /**
   * A Produce answer refused a batch because its broker is not the partition's leader (any
   * more), and may say who is (KIP-951's current-leader hint, Produce v10+). A hint newer than
   * the leadership we follow moves the partition at once, so that its retry goes to the new
   * leader instead of waiting for a metadata refresh (which is still asked for: the hint covers
   * one partition, and an answer without one says nothing). A broker the hint names that we do
   * not know yet is added from the answer's endpoints.
   */
  private followLeaderHint(
    node: PartitionNode,
    answer: ProducePartitionResponse,
    endpoints: ProduceResponse['nodeEndpoints'],
  ): void {
    if (
      answer.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER &&
      answer.errorCode !== ErrorCode.FENCED_LEADER_EPOCH
    ) {
      return;
    }
    this.refreshMetadata();
    const hint = answer.currentLeader;
    // A partition that left its topic (or a topic evicted) is not followed any more.
    if (hint === null || hint.leaderId < 0 || node.topic.partitions[node.partition] !== node) return;
    if (!isNewerEpoch(node.leaderEpoch, hint.leaderEpoch)) return;
    const endpoint = endpoints.find((e) => e.nodeId === hint.leaderId);
    if (endpoint !== undefined)
      this.ensureBroker(hint.leaderId, { host: endpoint.host, port: endpoint.port });
    // A leader we cannot reach (unknown, no endpoint given) is left to the metadata refresh.
    if (!this.brokers.has(hint.leaderId)) return;
    node.leaderEpoch = hint.leaderEpoch;
    this.updateLeader(node, hint.leaderId);
  }

  private ensureBroker(id: number, address: BrokerAddress): BrokerNode {
    let broker = this.brokers.get(id);
    if (broker !== undefined) {
      if (broker.address.host === address.host && broker.address.port === address.port) return broker;
      // The broker moved (a new advertised listener): its actor is restarted with the new
      // address. It keeps its node, so the partitions it leads stay with it and resume when
      // the new connection is ready.
      this.options.logger.info(`ekaf: broker ${id} moved to ${address.host}:${address.port}`);
      broker.address = address;
      this.stopBrokerActor(broker);
      this.registerBroker(broker);
      return broker;
    }
    broker = {
      id,
      address,
      sender: new BrokerSender(id, this.options.maxRequestBytes, this.outcomes),
      absences: 0,
      absentSince: 0,
    };
    this.brokers.set(id, broker);
    this.registerBroker(broker);
    return broker;
  }

  private registerBroker(broker: BrokerNode): void {
    this.register(
      actorName.broker(broker.id),
      'broker',
      brokerConnectionLogic(this.connectionOptions(), this.options.sasl),
      {
        brokerId: broker.id,
        host: broker.address.host,
        port: broker.address.port,
        reconnectBackoffMs: this.options.retryBackoffMs,
        reconnectBackoffMaxMs: this.options.retryBackoffMaxMs,
      },
    );
  }

  private ensurePartition(topic: TopicNode, partition: number): PartitionNode {
    let node = topic.partitions[partition];
    if (node !== undefined) return node;
    const name = actorName.partition(topic.name, partition);
    node = new PartitionNode(
      topic,
      partition,
      name,
      () => this.index.get(name),
      this.identity,
      (t) => this.codecFor(t),
      this.batchBuffers,
    );
    // Partitions arrive in any order; keep the array dense by index.
    topic.partitions[partition] = node;
    const created = node;
    this.register(name, 'partition', this.workerLogic(created), {
      topic: topic.name,
      partition,
      retryBackoffMs: this.options.retryBackoffMs,
      retryBackoffMaxMs: this.options.retryBackoffMaxMs,
      stillDownIntervalMs: STILL_DOWN_INTERVAL_MS,
    });
    return node;
  }

  private workerLogic(node: PartitionNode) {
    const ref = { topic: node.topic.name, partition: node.partition };
    return partitionWorkerMachine.provide({
      actions: {
        drain: () => {
          this.brokers.get(node.leaderId)?.sender.requestDrain();
        },
        refreshMetadata: () => {
          this.refreshMetadata();
        },
        reportUp: ({ context }) => {
          if (context.downSince !== null && node.everUp) {
            this.events.emit('downtime.replayed', { ...ref, records: node.log.bufferedRecords });
            this.events.emit('time_down', { ...ref, ms: Date.now() - context.downSince });
          }
          if (!node.everUp) this.events.emit('time_to_connect', { ...ref, ms: Date.now() - this.startedAt });
          node.everUp = true;
          node.savedReported = false;
          this.events.emit('worker.up', { ...ref, leaderId: context.leaderId });
        },
        reportDown: ({ context }) => {
          if (node.everUp) this.events.emit('worker.down', { ...ref, error: context.lastError });
          // While a topic is down, everything it holds is on disk.
          if (this.spooler?.mode === 'downtime') this.spooler.catchUp(node.topic.name);
          if (node.everUp && node.log.hasPending && !node.savedReported) {
            node.savedReported = true;
            this.events.emit('downtime.saved', { ...ref, records: node.log.bufferedRecords });
          }
        },
        reportStillDown: ({ context }) => {
          if (node.everUp) {
            this.events.emit('worker.still_down', {
              ...ref,
              downForMs: Date.now() - (context.downSince ?? Date.now()),
            });
          }
        },
      },
    });
  }

  private updateLeader(node: PartitionNode, leaderId: number): void {
    const worker = this.worker(node);
    const leader = leaderId === -1 ? undefined : this.brokers.get(leaderId);
    if (leaderId !== node.leaderId) {
      this.brokers.get(node.leaderId)?.sender.unlead(node);
      node.leaderId = leaderId;
    }
    // Also when the id is unchanged: the broker may have been unknown when it was first named.
    leader?.sender.lead(node);
    if (leader === undefined) {
      worker?.send({ type: 'leader.lost' });
    } else {
      worker?.send({ type: 'leader', leaderId, connected: leader.sender.connection?.isOpen === true });
    }
  }

  private brokerTransition(name: string, from: string, to: string, context: unknown): void {
    const id = Number(name.slice('broker:'.length));
    const broker = this.brokers.get(id);
    if (broker === undefined) return;
    if (to === 'ready') {
      const { link, versions } = context as { link: BrokerLink | null; versions: Record<string, number> };
      broker.sender.connection = link instanceof Connection ? link : null;
      broker.sender.produceVersion = versions.Produce ?? 3;
      for (const node of broker.sender.led) this.worker(node)?.send({ type: 'conn.up' });
      broker.sender.requestDrain();
    } else if (from === 'ready') {
      broker.sender.connection = null;
      const { lastError } = context as { lastError: { code: string; message: string } | null };
      const error = lastError ?? { code: 'ERR_CONNECTION_CLOSED', message: 'connection lost' };
      for (const node of broker.sender.led) this.worker(node)?.send({ type: 'conn.down', error });
      this.refreshMetadata();
    }
  }

  // ---------------------------------------------------------------- runtime settings and lifecycle

  setTopicConfig(topicName: string, partial: Partial<TopicSettings>): TopicSettings {
    const topic = this.topic(topicName);
    const settings = resolveTopicSettings(`topics.${topicName}`, topic.settings, partial);
    checkIdempotence(`topics.${topicName}`, settings, this.options.idempotent);
    topic.settings = settings;
    if (
      partial.partitioner !== undefined ||
      partial.batchBytes !== undefined ||
      partial.batchRecords !== undefined
    ) {
      topic.partitioner = makePartitioner(topicName, settings);
    }
    for (const node of topic.partitions) this.brokers.get(node.leaderId)?.sender.requestDrain();
    return settings;
  }

  /** Fails everything still held with `error` (close() after its timeout). */
  failEverything(error: EkafError): void {
    this.stoppedWith = error;
    // Spooled records are not lost: say so, and leave them for the next producer on the spool.
    const dir = this.options.spool?.dir;
    const kept =
      dir === undefined
        ? error
        : new ProducerClosedError(`${error.message}; it stays in the spool (${dir}) for the next producer`);
    const errorFor = (spooled: boolean): EkafError => (spooled ? kept : error);
    for (const topic of this.topics.values()) {
      for (const waiting of topic.waiting.splice(0)) {
        this.budget.release(1, waiting.record.size);
        waiting.call.fail(1, errorFor(waiting.spoolId !== -1));
      }
      for (const node of topic.partitions) {
        for (const batch of node.log.drainAll()) {
          this.budget.release(batch.recordCount, batch.payloadBytes);
          failBatch(batch, errorFor(batch.spoolIds !== null && !batch.spoolIds.includes(-1)));
        }
      }
    }
    this.spooler?.failSpilled(kept);
    // Closing the connections rejects what is in flight; with `stopped` set it is failed, not retried.
    for (const broker of this.brokers.values()) broker.sender.connection?.close();
  }

  stop(): void {
    this.stoppedWith ??= new ProducerClosedError();
    clearInterval(this.sweepTimer);
    clearInterval(this.tidyTimer);
    this.identity.stop();
    for (const broker of this.brokers.values()) broker.sender.stop();
    this.registry.stop();
    this.metadataClient.close();
    this.budget.rejectWaiters(new ProducerClosedError());
    this.spooler?.spool.close();
  }

  // ---------------------------------------------------------------- introspection

  inspect(): ActorSnapshot[] {
    const actors: ActorSnapshot[] = [
      {
        name: 'registry',
        kind: 'registry',
        state: 'running',
        lastError: null,
        details: {
          children: this.index.size,
          restarts: this.registry.getSnapshot().context.restarts,
          ...this.identity.describe(),
        },
      },
    ];
    if (this.spooler !== null) {
      const stats = this.spooler.spool.stats();
      // Not an actor: the spool is a file log the runtime drives, shown alongside its actors.
      actors.push({
        name: 'spool',
        kind: 'spool',
        state: stats.backlogRecords > 0 ? 'replaying' : stats.liveRecords > 0 ? 'holding' : 'idle',
        lastError: stats.lastError === null ? null : { code: 'ERR_SPOOL', message: stats.lastError },
        details: { ...stats },
      });
    }
    for (const [name, ref] of this.index) {
      const snapshot = ref.getSnapshot() as { value: unknown; context: Record<string, unknown> };
      const kind = this.kinds.get(name) ?? 'metadata';
      actors.push({
        name,
        kind,
        state: stateValue(snapshot),
        lastError: (snapshot.context.lastError as ActorSnapshot['lastError'] | undefined) ?? null,
        details: this.details(name, kind, snapshot.context),
      });
    }
    return actors;
  }

  private details(name: string, kind: ActorKind, context: Record<string, unknown>): Record<string, unknown> {
    switch (kind) {
      case 'metadata':
        return {
          lastRefreshAt: context.lastRefreshAt,
          attempts: context.attempts,
          ...(context.summary as object),
        };
      case 'broker': {
        const broker = this.brokers.get(Number(name.slice('broker:'.length)));
        return {
          address: `${String(context.host)}:${String(context.port)}`,
          attempts: context.attempts,
          versions: context.versions,
          inFlightRequests: broker?.sender.connection?.inFlight ?? 0,
          partitionsLed: broker?.sender.led.length ?? 0,
        };
      }
      case 'topic': {
        const topic = this.topics.get(String(context.name));
        return {
          partitions: context.partitionCount,
          waitingRecords: topic?.waiting.length ?? 0,
          settings: topic === undefined ? null : publicSettings(topic.settings),
        };
      }
      case 'partition': {
        const [, topicName, partition] = /^partition:(.*):(\d+)$/.exec(name) ?? [];
        const node = this.topics.get(topicName ?? '')?.partitions[Number(partition)];
        return {
          leaderId: context.leaderId,
          attempts: context.attempts,
          bufferedRecords: node?.log.bufferedRecords ?? 0,
          inFlightBatches: node?.log.inFlight ?? 0,
          recordsAcked: node?.log.recordsAcked ?? 0,
          recordsFailed: node?.log.recordsFailed ?? 0,
          batchesRetried: node?.log.batchesRetried ?? 0,
          batchesSplit: node?.log.batchesSplit ?? 0,
          bytesBeforeCompression: node?.log.bytesBeforeCompression ?? 0,
          bytesSent: node?.log.bytesSent ?? 0,
          // Idempotence: this partition's own producer id, epoch and next sequence number.
          producerId:
            node === undefined || node.log.sequence.producerId === -1 ? null : node.log.sequence.producerId,
          producerEpoch:
            node === undefined || node.log.sequence.producerEpoch === -1
              ? null
              : node.log.sequence.producerEpoch,
          nextSequence: node?.log.sequence.nextSequence ?? 0,
          epochBumps: node?.log.sequence.epochBumps ?? 0,
          maxInFlight: node?.topic.settings.maxInFlight,
          lingerMs: node?.topic.settings.lingerMs,
        };
      }
    }
  }
}

export interface ActorSnapshot {
  name: string;
  kind: ActorKind | 'registry' | 'spool';
  state: string;
  lastError: { code: string; message: string } | null;
  details: Record<string, unknown>;
}

/**
 * The Java client's rule for UNKNOWN_PRODUCER_ID: resetting the sequence is safe only when the
 * broker's log now starts after every offset we had acknowledged (retention removed our
 * records and the producer state with them). Without a log start offset (Produce < v5) it is
 * not known to be safe.
 */
export function producerStateExpired(logStartOffset: Long | null, lastAckedOffset: number): boolean {
  return logStartOffset !== null && logStartOffset.toNumber() > lastAckedOffset;
}

function partitionerError(topic: string, error: unknown): EkafError {
  if (error instanceof EkafError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EkafError('ERR_CONFIG', `partitioner of topic "${topic}" threw: ${message}`, { cause: error });
}

function publicSettings(settings: TopicSettings): Record<string, unknown> {
  return {
    ...settings,
    partitioner: typeof settings.partitioner === 'function' ? 'custom' : settings.partitioner,
  };
}

/** A snapshot's top-level state ('buffering' for `{ buffering: 'waiting' }`). */
function stateValue(snapshotOrRef: unknown): string {
  const snapshot =
    typeof (snapshotOrRef as AnyActorRef).getSnapshot === 'function'
      ? ((snapshotOrRef as AnyActorRef).getSnapshot() as { value?: unknown })
      : (snapshotOrRef as { value?: unknown });
  const value = snapshot.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return Object.keys(value)[0] ?? 'unknown';
  return 'unknown';
}

/** Adds a partition appended to (if any) to `touched`, once. */
function touch(touched: PartitionNode[], node: PartitionNode | null): void {
  if (node !== null && !node.touched) {
    node.touched = true;
    touched.push(node);
  }
}
