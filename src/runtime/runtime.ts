import type { EventEmitter } from 'eventemitter3';
import { createActor, type Actor, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { IDENTITY, METADATA, TRANSACTION } from '../../machines/actor-index.js';
import type { ProducerIdentityInput } from '../../machines/producer-identity.machine.js';
import { ActorIndex, actorName, registryMachine, type ActorKind } from '../../machines/registry.machine.js';
import type { MetadataSummary } from '../../machines/metadata.machine.js';
import type { TopicInput } from '../../machines/topic.machine.js';
import { REQUEST_FRAMING_BYTES, type ResolvedOptions, type TopicSettings } from '../config.js';
import { checkIdempotence, resolveTopicSettings } from '../config-topic-settings.js';
import { EkafError, ProducerClosedError } from '../errors.js';
import type { ProducerEvents } from '../events.js';
import { loadCodec, readyCodec, type Codec } from '../protocol/compression.js';
import type { SpoolDamage } from '../spool/spool.js';
import {
  brokerLogic,
  connectionOptions,
  metadataLogic,
  reportUp,
  topicLogic,
  workerInput,
  workerLogic,
  workerTiming,
  type LogicHost,
} from './actor-logic.js';
import { ActorMonitor, asEkafError } from './actor-monitor.js';
import { BatchBufferPool, POOL_FLOOR_BYTES } from './batch-buffer-pool.js';
import { BatchOutcomes } from './batch-outcomes.js';
import { BrokerSender } from './broker-sender.js';
import { BrokerSessions } from './broker-sessions.js';
import { CoordinatorRequests } from './coordinator-requests.js';
import { BufferBudget } from './buffer-budget.js';
import { KeepAlive, UNREFERENCED_CLOCK } from './keep-alive.js';
import type { ProduceCall } from './delivery.js';
import type { EncodedBatch } from './sealed-batch.js';
import { inspectActors, type ActorSnapshot } from './introspection.js';
import { MetadataClient } from './metadata-client.js';
import { Hibernation } from './hibernation.js';
import { PartitionNode, type WorkerLookup } from './partition-node.js';
import { RecordRouter } from './record-router.js';
import { identityLogic, IdentityView } from './producer-identity.js';
import type { NormalizedRecord, RecordList } from './records.js';
import { Settlement } from './settlement.js';
import { Spooler, type SpoolOrigin } from './spooler.js';
import { TopicNode } from './topic-node.js';
import { TopologyFollower, type BrokerNode } from './topology-follower.js';
import { TransactionManager } from './transaction-manager.js';

export type { ActorSnapshot, ActorSnapshotOf } from './introspection.js';
export { actorNamed, ofKind } from './introspection.js';

/** How often delivery timeouts are checked, and idle topics evicted. */
const SWEEP_INTERVAL_MS = 1000;
/** Idle batch buffers kept for reuse while batches are being made, at most (see BatchBufferPool). */
const MAX_IDLE_BATCH_BUFFERS = 64 * 1024 * 1024;
/** Registry restart delay for a failed actor (brod uses 5 s for workers). */
const RESTART_DELAY_MS = 5000;

/**
 * The producer's runtime: the composition root of its actors and its data path.
 *
 * ```
 * Runtime
 * ├── registry (machines/registry.machine.ts)    starts, stops, restarts and indexes the actors
 * ├── TopologyFollower (./topology-follower.ts)  metadata answers → actors and leaders
 * ├── BatchOutcomes (./batch-outcomes.ts)         broker answers → acknowledged, retried, failed
 * ├── Settlement (./settlement.ts)                the one way a record leaves: spool, budget, call
 * └── ActorMonitor (./actor-monitor.ts)           `state` events, logs, each actor's last events
 * ```
 *
 * The data path is plain code: `accept()` looks the topic up, asks its actor's state where the
 * records go, partitions them and appends them to their partitions' logs; each broker's sender
 * drains the logs of the partitions it leads. No record travels as an xstate event.
 */
export class Runtime {
  readonly budget: BufferBudget;
  /** Holds Node's event loop open while records or awaited operations are pending. */
  readonly keepAlive = new KeepAlive();
  /** Calls accepted and not yet done (flush waits on them). */
  readonly pendingCalls = new Set<ProduceCall>();
  /** The durable spool, when the `spool` option is given. */
  readonly spooler: Spooler | null;
  readonly registry: Actor<typeof registryMachine>;
  /** The registry's index: the data path's only lookup of actors. */
  private readonly index = new ActorIndex();
  private readonly settlement: Settlement;
  private readonly topology: TopologyFollower;
  private readonly outcomes: BatchOutcomes;
  private readonly router: RecordRouter;
  private readonly monitor: ActorMonitor;
  /** The producer identity actor (`identity`), read through the registry's index. */
  private readonly identity: IdentityView;
  private readonly metadataClient: MetadataClient;
  /** A transactional producer's transactions (the `transaction` actor's runtime side); else null. */
  readonly transactions: TransactionManager | null;
  /** Connections to the transaction and group coordinators (a transactional producer's). */
  private readonly coordinatorSessions: BrokerSessions | null;
  /** Buffers of settled batches, recycled for new ones (a quarter of maxBufferedBytes, ≤ 64 MiB). */
  private readonly batchBuffers: BatchBufferPool;
  /** Why the latest metadata request failed; null once one succeeds. */
  private lastMetadataError: EkafError | null = null;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private readonly logicHost: LogicHost;
  /** Where each partition's worker is, running or at rest. */
  private readonly workers: WorkerLookup = {
    actor: (name) => this.index.workerNamed(name),
    rest: (name) => this.index.workerRest(name),
    wake: (name, event) => {
      this.hibernation.wake(name, event);
    },
  };
  /** Puts `ready` workers to rest (./hibernation.ts). */
  private readonly hibernation: Hibernation;
  /** Every topic actor's logic (one per producer). */
  private readonly topicLogic: AnyActorLogic;

  constructor(
    readonly options: ResolvedOptions,
    private readonly events: Pick<EventEmitter<ProducerEvents>, 'emit'>,
  ) {
    this.budget = new BufferBudget(options.maxBufferedRecords, options.maxBufferedBytes);
    // Node keeps running while records are on their way, and only then (keep-alive.ts).
    let releaseRecords: (() => void) | undefined;
    this.budget.onBusy = (busy) => {
      if (busy) releaseRecords = this.keepAlive.hold();
      else releaseRecords?.();
    };
    this.batchBuffers = new BatchBufferPool(
      Math.min(MAX_IDLE_BATCH_BUFFERS, Math.max(POOL_FLOOR_BYTES, options.maxBufferedBytes / 4)),
    );
    // First: a locked or unreadable spool directory fails createProducer() before anything starts.
    this.spooler = options.spool === null ? null : new Spooler(options.spool, this.spoolerHost());
    this.settlement = new Settlement(this.budget, this.spooler, options.spool?.dir);
    this.metadataClient = new MetadataClient(
      options.brokers,
      () => [...this.topology.brokers.values()].map((b) => b.address),
      connectionOptions(options),
      options.sasl,
    );
    this.identity = new IdentityView(() => this.index.identity());
    if (options.transactionalId === null) {
      this.coordinatorSessions = null;
      this.transactions = null;
    } else {
      this.coordinatorSessions = new BrokerSessions(connectionOptions(options), options.sasl);
      const coordinator = new CoordinatorRequests(
        {
          transactionalId: options.transactionalId,
          retryBackoffMs: options.retryBackoffMs,
          retryBackoffMaxMs: options.retryBackoffMaxMs,
          timeoutMs: options.transactionCoordinatorTimeoutMs,
          candidates: () => [
            ...[...this.topology.brokers.values()].map((b) => b.address),
            ...options.brokers,
          ],
        },
        this.coordinatorSessions,
        () => this.transactions?.stateName ?? 'unknown',
      );
      this.transactions = new TransactionManager(
        {
          transactionalId: options.transactionalId,
          transactionTimeoutMs: options.transactionTimeoutMs,
          actor: () => this.index.transaction(),
          partitions: () => this.allPartitions(),
          pendingCalls: this.pendingCalls,
          flushAll: () => {
            this.flushAll();
          },
          wakeLeader: (node) => {
            this.wakeLeader(node);
          },
          wakeAll: () => {
            for (const broker of this.topology.brokers.values()) broker.sender.requestDrain();
          },
          batchFailed: (batch, error) => {
            this.settlement.batchFailed(batch, error);
          },
          failWaiting: (error) => {
            for (const topic of this.topology.topics.values()) {
              for (const waiting of topic.waiting.splice(0))
                this.settlement.recordFailed(waiting.record, waiting.spoolId, waiting.call, error);
            }
          },
        },
        coordinator,
      );
    }
    this.logicHost = {
      options,
      events,
      spooler: this.spooler,
      startedAt: this.startedAt,
      refreshMetadata: () => {
        this.refreshMetadata();
      },
      wakeLeader: (node) => {
        this.wakeLeader(node);
      },
      partition: (topic, partition) => this.topology.topics.get(topic)?.partitions[partition],
      topic: (name) => this.topology.topics.get(name),
      connectionLost: (nodes, error) => {
        this.hibernation.connectionLost(
          nodes.map((node) => node.name),
          error,
        );
      },
    };
    const sharedWorkerLogic = workerLogic(this.logicHost);
    const timing = workerTiming(options);
    this.topicLogic = topicLogic(this.logicHost, {
      releaseWaiting: (t) => {
        this.router.releaseWaiting(t);
      },
      refuseHeld: (t) => {
        this.topology.refuseHeld(t);
      },
    });
    this.topology = new TopologyFollower({
      registrar: {
        register: (name, kind, logic, input) => {
          this.register(name, kind, logic, input);
        },
        registerAll: (registrations) => {
          this.registry.send({
            type: 'register.all',
            children: registrations.map(({ name, kind, logic, input, rest }) => ({
              name,
              spec: { kind, logic, input },
              ...(rest === undefined ? {} : { rest }),
            })),
          });
        },
        unregister: (name) => {
          this.unregister(name);
        },
        get: (name) => this.index.get(name),
        topic: (name) => this.index.topic(name),
        broker: (id) => this.index.broker(id),
      },
      settlement: this.settlement,
      options,
      newBroker: (id, address) => ({
        id,
        address,
        sender: new BrokerSender(
          id,
          options.maxRequestBytes,
          this.outcomes,
          options.transactionalId,
          this.transactions === null
            ? null
            : () => (this.transactions as TransactionManager).maxProduceVersion,
        ),
        absences: 0,
        absentSince: 0,
      }),
      brokerLogic: (broker) => brokerLogic(this.logicHost, broker),
      newPartition: (topic, partition) => this.newPartition(topic, partition),
      workerLogic: (node) => ({ logic: sharedWorkerLogic, input: workerInput(node, timing) }),
      bornReady: (node, context) => {
        reportUp(this.logicHost, node, context);
        this.monitor.transitioned(node.name, 'partition', 'connecting', 'ready', context);
      },
      refreshMetadata: () => {
        this.refreshMetadata();
      },
    });
    this.outcomes = new BatchOutcomes({
      settlement: this.settlement,
      deliveryTimeoutMs: options.deliveryTimeoutMs,
      wakeLeader: (node) => {
        this.wakeLeader(node);
      },
      batchAcknowledged: (node, batch) => {
        events.emit('batch.acked', {
          topic: node.topic.name,
          partition: node.partition,
          broker: node.leaderId,
          records: batch.recordCount,
          bytes: batch.bytes.length,
          latencyMs: Date.now() - batch.acceptedAt,
        });
      },
      followLeaderHint: (node, answer, endpoints) => {
        this.topology.followLeaderHint(node, answer, endpoints);
      },
    });
    this.router = new RecordRouter({
      settlement: this.settlement,
      spooler: this.spooler,
      events,
      pendingCalls: this.pendingCalls,
      topic: (name) => this.topic(name),
      topics: () => this.topology.topics.values(),
      topicActor: (topic) => this.index.topicNamed(topic.actorName),
      wakeLeader: (node) => {
        this.wakeLeader(node);
      },
      partitionsUsed:
        this.transactions === null
          ? undefined
          : (nodes) => {
              this.transactions?.partitionsUsed(nodes);
            },
      leaderError: (node) => this.leaderError(node),
      topicError: (topic) => topic.metadataError,
    });
    this.monitor = new ActorMonitor(this.index, options.logger, events);
    this.hibernation = new Hibernation(
      this.index,
      {
        send: (event) => {
          this.registry.send(event);
        },
      },
      this.monitor,
    );
    const userInspect = options.inspect;
    this.registry = createActor(
      registryMachine.provide({
        actions: {
          restarted: (_, { name }) => {
            // A restarted identity waits for `start` again; the others learn what metadata said.
            if (name === TRANSACTION) {
              // Back in `uninitialized`: the next beginTransaction() initializes again.
            } else if (name === IDENTITY) {
              if (this.topology.brokers.size > 0) this.identity.start();
            } else {
              this.topology.restarted(name);
            }
          },
          woken: (_, { ref }) => {
            this.hibernation.woken(ref);
          },
        },
      }),
      {
        input: { restartDelayMs: RESTART_DELAY_MS, index: this.index },
        // The machines' delays (backoffs, refreshes, hibernation) do not keep Node running.
        clock: UNREFERENCED_CLOCK,
        // Every actor of the producer is a descendant of the registry: one inspector sees them all.
        inspect: (inspection) => {
          this.monitor.inspect(inspection);
          this.hibernation.inspect(inspection);
          if (typeof userInspect === 'function') userInspect(inspection);
          else userInspect?.next?.(inspection);
        },
      },
    );
    this.registry.start();
    const metadata = metadataLogic(this.logicHost, () => this.fetchMetadata());
    this.register(METADATA, 'metadata', metadata.logic, metadata.input);
    // Registered even when idempotence is off: it then rests in `disabled` (and shows so). A
    // transactional producer's partitions take their id and epoch from the transaction actor.
    const wakeAll = (): void => {
      for (const broker of this.topology.brokers.values()) broker.sender.requestDrain();
    };
    this.register(
      IDENTITY,
      'identity',
      identityLogic(this.metadataClient, {
        onReady: wakeAll,
        onUnsupported: () => {
          options.logger.warn('ekaf: the broker has no InitProducerId; idempotence is off');
          wakeAll();
        },
      }),
      {
        enabled: options.idempotent && this.transactions === null,
        retryBackoffMs: options.retryBackoffMs,
        retryBackoffMaxMs: options.retryBackoffMaxMs,
      } satisfies ProducerIdentityInput,
    );
    if (this.transactions !== null) {
      this.register(TRANSACTION, 'transaction', this.transactions.logic(), {
        transactionalId: options.transactionalId,
      });
    }
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      this.router.expire(now, options.deliveryTimeoutMs, this.lastMetadataError);
      this.topology.tidy(now);
      this.batchBuffers.decay(now);
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  // ---------------------------------------------------------------- the data path

  /** Settings of a topic as they are (or would be) used. */
  topicSettings(topic: string): TopicSettings {
    return this.topology.topics.get(topic)?.settings ?? this.options.topics[topic] ?? this.options.defaults;
  }

  /** Number of partitions if known (for validating explicit partitions early), else -1. */
  partitionCount(topic: string): number {
    const node = this.topology.topics.get(topic);
    return node === undefined || node.partitions.length === 0 ? -1 : node.partitions.length;
  }

  /**
   * Takes the records of an accepted call (room already reserved in the budget); see
   * RecordRouter.accept.
   */
  accept(
    topicName: string,
    records: RecordList,
    call: ProduceCall,
    urgent: boolean,
    origin?: SpoolOrigin,
  ): void {
    this.router.accept(topicName, records, call, urgent, origin);
  }

  /** Takes a batch a call encoded whole (room already reserved); see RecordRouter.acceptEncoded. */
  acceptEncoded(topicName: string, partition: number, batch: EncodedBatch, call: ProduceCall): void {
    this.router.acceptEncoded(topicName, partition, batch, call);
  }

  /**
   * Whether a topic cannot send right now: its partitions are not known yet, or one of them has
   * no ready leader. The spool's 'downtime' mode writes what such a topic takes.
   */
  inDowntime(topicName: string): boolean {
    const topic = this.topology.topics.get(topicName);
    if (topic === undefined || topic.partitions.length === 0) return true;
    for (const node of topic.partitions) if (!node.isReady()) return true;
    return false;
  }

  /** Every partition of every topic in use. */
  private *allPartitions(): Iterable<PartitionNode> {
    for (const topic of this.topology.topics.values()) yield* topic.partitions;
  }

  /** Makes every open batch leave now, and wakes every sender. */
  flushAll(): void {
    for (const topic of this.topology.topics.values())
      for (const node of topic.partitions) node.log.markUrgent();
    for (const broker of this.topology.brokers.values()) broker.sender.requestDrain();
  }

  /**
   * The partition's current leader may take its next batch now. Outcomes arrive on the
   * connection that sent the batch, which after a leader move is not the leader's any more.
   */
  private wakeLeader(node: PartitionNode): void {
    this.topology.brokers.get(node.leaderId)?.sender.requestDrain();
  }

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

  // ---------------------------------------------------------------- actors

  private register(name: string, kind: ActorKind, logic: AnyActorLogic, input: unknown): void {
    this.registry.send({ type: 'register', name, spec: { kind, logic, input } });
  }

  /** Stops and forgets an actor through the registry. */
  private unregister(name: string): void {
    this.registry.send({ type: 'unregister', name });
    this.monitor.forget(name);
  }

  /** An actor by its registry name (`partition:orders:3`), from the registry's index. */
  actor(name: string): AnyActorRef | undefined {
    return this.index.get(name);
  }

  /** The topic, created with its actor on first use. */
  /** A topic's settings before anything changed them: its own from the options, or the defaults. */
  private initialSettings(name: string): TopicSettings {
    return this.options.topics[name] ?? this.options.defaults;
  }

  private topic(name: string): TopicNode {
    let topic = this.topology.topics.get(name);
    if (topic === undefined) {
      topic = new TopicNode(
        name,
        this.initialSettings(name),
        this.options.maxRequestBytes - REQUEST_FRAMING_BYTES,
      );
      this.topology.topics.set(name, topic);
      this.register(actorName.topic(name), 'topic', this.topicLogic, { name } satisfies TopicInput);
    }
    return topic;
  }

  private newPartition(topic: TopicNode, partition: number): PartitionNode {
    const name = actorName.partition(topic.name, partition);
    return new PartitionNode(
      topic,
      partition,
      name,
      this.workers,
      this.transactions ?? this.identity,
      (t) => this.codecFor(t),
      this.batchBuffers,
      this.transactions,
    );
  }

  /** Why the partition's leader cannot be reached: its connection actor's last error while not ready. */
  private leaderError(node: PartitionNode): EkafError | null {
    const snapshot = node.leaderId === -1 ? undefined : this.index.broker(node.leaderId)?.getSnapshot();
    if (snapshot === undefined || snapshot.matches('ready')) return null;
    const summary = snapshot.context.lastError;
    return summary === null ? null : asEkafError(summary);
  }

  refreshMetadata(): void {
    this.index.get(METADATA)?.send({ type: 'refresh' });
  }

  /** The metadata actor's fetch: one answer, applied by the topology follower. */
  private async fetchMetadata(): Promise<MetadataSummary> {
    let response;
    try {
      response = await this.metadataClient.fetch([...this.topology.topics.keys()]);
    } catch (error) {
      // Kept as the cause of the delivery timeout of records that waited for metadata.
      this.lastMetadataError =
        error instanceof EkafError ? error : new EkafError('ERR_KAFKA', String(error), { cause: error });
      throw error;
    }
    this.lastMetadataError = null;
    if (this.settlement.closedWith === null) {
      this.identity.start();
      this.topology.apply(response);
    }
    return { brokers: response.brokers.length, topics: response.topics.length };
  }

  // ---------------------------------------------------------------- spool

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
      logsOf: (topic: string) => this.topology.topics.get(topic)?.partitions.map((node) => node.log) ?? [],
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

  // ---------------------------------------------------------------- runtime settings and lifecycle

  setTopicConfig(topicName: string, partial: Partial<TopicSettings>): TopicSettings {
    // Checked before the topic is made: refused settings leave no topic (and no actors) behind.
    const current = this.topology.topics.get(topicName)?.settings ?? this.initialSettings(topicName);
    const settings = resolveTopicSettings(`topics.${topicName}`, current, partial);
    checkIdempotence(`topics.${topicName}`, settings, this.options.idempotent);
    const topic = this.topic(topicName);
    topic.configure(settings, partial);
    for (const node of topic.partitions) this.wakeLeader(node);
    return settings;
  }

  /** Fails everything still held with `error` (close() after its timeout). */
  failEverything(error: EkafError): void {
    // Spooled records are not lost: they fail saying so, and stay for the next producer.
    const kept = this.settlement.close(error);
    for (const topic of this.topology.topics.values()) {
      for (const waiting of topic.waiting.splice(0))
        this.settlement.recordFailed(waiting.record, waiting.spoolId, waiting.call, error);
      for (const node of topic.partitions) {
        for (const batch of node.log.drainAll()) this.settlement.batchFailed(batch, error);
      }
    }
    this.spooler?.failSpilled(kept);
    // Closing the connections rejects what is in flight; closing, it is failed, not retried.
    for (const broker of this.topology.brokers.values()) broker.sender.connection?.close();
  }

  stop(): void {
    if (this.settlement.closedWith === null) this.settlement.close(new ProducerClosedError());
    clearInterval(this.sweepTimer);
    this.identity.stop();
    this.transactions?.stop();
    this.coordinatorSessions?.close();
    for (const broker of this.topology.brokers.values()) broker.sender.stop();
    this.hibernation.stop();
    // The registry's children are not in its snapshot (see registry.machine.ts): it stops them.
    this.registry.send({ type: 'close' });
    this.registry.stop();
    this.metadataClient.close();
    this.budget.rejectWaiters(new ProducerClosedError());
    this.spooler?.spool.close();
  }

  // ---------------------------------------------------------------- introspection

  inspect(): ActorSnapshot[] {
    return inspectActors({
      index: this.index,
      monitor: this.monitor,
      topology: this.topology,
      spooler: this.spooler,
      identity: () => this.identity.describe(),
      metadataAddresses: () => this.metadataClient.addresses(),
    });
  }
}

export type { BrokerNode };
