import type { AnyActorLogic, AnyActorRef } from 'xstate';
import {
  actorName,
  type ActorKind,
  type ActorRest,
  type BrokerConnectionRef,
  type TopicRef,
} from '../../machines/actor-index.js';
import {
  readyWithLeader,
  type PartitionWorkerContext,
  type PartitionWorkerInput,
} from '../../machines/partition-worker.machine.js';
import type { BrokerAddress, ResolvedOptions } from '../config.js';
import { KafkaProtocolError, type EkafError } from '../errors.js';
import type { BrokerMetadata, MetadataResponse, TopicMetadata } from '../protocol/apis/metadata.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/apis/produce.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import type { BrokerSender } from './broker-sender.js';
import type { SealedBatch } from './sealed-batch.js';
import type { PartitionNode } from './partition-node.js';
import type { Settlement } from './settlement.js';
import type { TopicNode } from './topic-node.js';
import {
  hasLeft,
  isNewerEpoch,
  isRecreated,
  isStaleEpoch,
  knownTopicId,
  SHRINK_CONFIRMATIONS,
} from './topology.js';

/** One broker of the cluster: its address, and the sender its connection actor hands links to. */
export interface BrokerNode {
  id: number;
  address: BrokerAddress;
  sender: BrokerSender<PartitionNode>;
  /** Consecutive metadata answers that did not list this broker (see hasLeft()). */
  absences: number;
  /** Since when metadata has not listed it (ms since epoch), meaningful while absences > 0. */
  absentSince: number;
}

/** An actor to start: its registry name, kind, logic and input; or to register at rest. */
export interface Registration {
  name: string;
  kind: ActorKind;
  logic: AnyActorLogic;
  input: unknown;
  rest?: ActorRest;
}

/** The registry, as the follower asks it to start and stop actors (src/runtime/runtime.ts). */
export interface Registrar {
  register(name: string, kind: ActorKind, logic: AnyActorLogic, input: unknown): void;
  /** Many actors in one registry event. */
  registerAll(registrations: readonly Registration[]): void;
  unregister(name: string): void;
  /** The running actor by name, from the registry's index. */
  get(name: string): AnyActorRef | undefined;
  topic(name: string): TopicRef | undefined;
  broker(id: number): BrokerConnectionRef | undefined;
}

/** How the follower makes what it registers (src/runtime/actor-logic.ts, runtime.ts). */
export interface TopologyParts {
  readonly registrar: Registrar;
  readonly settlement: Settlement;
  readonly options: ResolvedOptions;
  newBroker(id: number, address: BrokerAddress): BrokerNode;
  brokerLogic(broker: BrokerNode): { logic: AnyActorLogic; input: unknown };
  newPartition(topic: TopicNode, partition: number): PartitionNode;
  workerLogic(node: PartitionNode): { logic: AnyActorLogic; input: PartitionWorkerInput };
  /** A worker was born at rest in `ready` (see ensurePartitions): report what entering it reports. */
  bornReady(node: PartitionNode, context: PartitionWorkerContext): void;
  refreshMetadata(): void;
}

/**
 * Follows the cluster's shape from what the metadata actor fetched: brokers to connect to and
 * to forget, each topic's partitions and their leaders (with leader epochs: KIP-320), topics
 * that vanish or are refused. It asks the registry to start and stop the actors, and tells each
 * partition worker its leader's broker actor, which the worker then follows. The rules it
 * applies are pure functions in ./topology.ts.
 */
export class TopologyFollower {
  readonly topics = new Map<string, TopicNode>();
  readonly brokers = new Map<number, BrokerNode>();
  /**
   * Partitions that left their topic while batches of theirs were in flight, with the error
   * those fail with when they come back to be retried. Bounded by the partitions removed; each
   * leaves once nothing of it is in flight (within a request timeout).
   */
  private readonly retired = new Map<PartitionNode, EkafError>();

  constructor(private readonly parts: TopologyParts) {}

  /** Applies one metadata answer (from the metadata actor's fetch). */
  apply(response: MetadataResponse): void {
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
    if (stale) this.parts.refreshMetadata();
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
    topic.metadataError = null;
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
    this.ensurePartitions(topic, meta.partitions);
    for (const p of meta.partitions) {
      const node = topic.partitions[p.partition] as PartitionNode;
      if (isStaleEpoch(node.leaderEpoch, p.leaderEpoch)) {
        // This broker's metadata lags behind what we heard (KIP-320): keep the newer leader
        // for this partition, and ask again (the next answer may come from a fresher broker).
        fresh = false;
        continue;
      }
      if (p.leaderEpoch >= 0) node.leaderEpoch = p.leaderEpoch;
      this.updateLeader(node, p.leaderId);
    }
    this.topicActor(topic)?.send({ type: 'partitions', count: topic.partitions.length });
    return fresh;
  }

  private topicActor(topic: TopicNode): TopicRef | undefined {
    return this.parts.registrar.topic(topic.name);
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
   * Metadata reports an error for the whole topic; its actor decides what it means (retriable:
   * records wait or are retried until their delivery timeout, as the Java producer does, since
   * the topic may come back; not retriable, such as TOPIC_AUTHORIZATION_FAILED: its `refused`
   * state fails what the topic holds, see refuseHeld(), and what is produced to it while the
   * error lasts). Batches in flight come back with the broker's own error.
   */
  private topicError(topic: TopicNode, code: number): void {
    const info = kafkaError(code);
    // No error code (a topic without partitions) or one not in our table: not a verdict.
    const retriable = code === 0 || info.retriable || info.name.startsWith('UNKNOWN_ERROR_CODE');
    const error =
      code === 0
        ? null
        : new KafkaProtocolError(code, info.name, `topic "${topic.name}": ${info.description}`, retriable);
    topic.refusedWith = retriable ? null : error;
    topic.metadataError = error;
    this.topicActor(topic)?.send({
      type: 'topic.error',
      error: { code: info.name, message: info.description },
      retriable,
    });
  }

  /** The topic actor entered `refused`: what the topic holds fails with its error. */
  refuseHeld(topic: TopicNode): void {
    const error = topic.refusedWith;
    if (error === null) return;
    const settlement = this.parts.settlement;
    for (const waiting of topic.waiting.splice(0))
      settlement.recordFailed(waiting.record, waiting.spoolId, waiting.call, error);
    for (const node of topic.partitions) this.failHeld(node, node.log.drainAll(), error, true);
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
      this.parts.settlement.batchFailed(batch, error);
    }
  }

  /**
   * A partition worker leaves: no leader sends for it any more, its broker actor forgets it (a
   * stopped actor says nothing of its own), and the registry stops it.
   */
  private stopWorker(node: PartitionNode): void {
    this.brokers.get(node.leaderId)?.sender.unlead(node);
    const worker = node.worker();
    if (worker !== undefined) this.parts.registrar.broker(node.leaderId)?.send({ type: 'unfollow', worker });
    node.leaderId = -1;
    this.parts.registrar.unregister(node.name);
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
      this.parts.options.logger.info(`ekaf: broker ${broker.id} left the cluster; its connection is closed`, {
        address: `${broker.address.host}:${broker.address.port}`,
      });
      // Partitions metadata still names it for (their topic's answer had an error) lose it.
      for (const node of [...broker.sender.led]) this.updateLeader(node, -1);
      this.stopBrokerActor(broker);
      broker.sender.stop();
      this.brokers.delete(broker.id);
    }
  }

  /**
   * Stops a broker's actor through the registry. It is told to close first, so that it tells
   * the workers that follow it `conn.down` (a stopped actor runs no exit actions); closing its
   * connection makes what was in flight on it come back lost, to be retried.
   */
  private stopBrokerActor(broker: BrokerNode): void {
    const name = actorName.broker(broker.id);
    this.parts.registrar.broker(broker.id)?.send({ type: 'close' });
    this.parts.registrar.unregister(name);
    broker.sender.connection = null;
  }

  /**
   * Evicts topics idle for `topicIdleEvictionMs` (nothing waiting, buffered or in flight, nothing
   * produced), with their partition workers and topic actor: a gateway producing to many topic
   * names would otherwise keep an actor per partition of every name it ever saw. A later produce
   * recreates the topic lazily. A topic whose settings were changed with setTopicConfig is kept,
   * as its settings would be lost. Also settles what came back to retired partitions.
   */
  tidy(now: number): void {
    for (const [node, error] of this.retired) {
      this.failHeld(node, node.log.drainAll(), error, false);
      if (node.log.isEmpty) this.retired.delete(node);
    }
    const { options } = this.parts;
    for (const topic of this.topics.values()) {
      if (now - topic.lastUsedAt < options.topicIdleEvictionMs || !this.isIdle(topic)) continue;
      options.logger.debug(`ekaf: topic ${topic.name} idle, evicted`);
      for (const node of topic.partitions.splice(0)) this.stopWorker(node);
      this.parts.registrar.unregister(actorName.topic(topic.name));
      this.topics.delete(topic.name);
    }
  }

  private isIdle(topic: TopicNode): boolean {
    if (topic.waiting.length > 0) return false;
    const { options } = this.parts;
    // A transactional producer keeps its topics: with transactions v1 the broker expects each
    // partition's sequence to go on under the same epoch, which a new partition log would restart.
    if (options.transactionalId !== null) return false;
    if (topic.settings !== (options.topics[topic.name] ?? options.defaults)) return false;
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
  followLeaderHint(
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
    this.parts.refreshMetadata();
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
      // address. It keeps its node, so the partitions it leads stay with it; they follow the
      // new actor, which tells them when its connection is ready.
      this.parts.options.logger.info(`ekaf: broker ${id} moved to ${address.host}:${address.port}`);
      broker.address = address;
      this.stopBrokerActor(broker);
      this.registerBroker(broker);
      this.brokerRestarted(broker);
      return broker;
    }
    broker = this.parts.newBroker(id, address);
    this.brokers.set(id, broker);
    this.registerBroker(broker);
    return broker;
  }

  private registerBroker(broker: BrokerNode): void {
    const { logic, input } = this.parts.brokerLogic(broker);
    this.parts.registrar.register(actorName.broker(broker.id), 'broker', logic, input);
  }

  /** A broker has a new actor (moved, or restarted by the registry): its workers follow it. */
  brokerRestarted(broker: BrokerNode): void {
    for (const node of broker.sender.led) this.updateLeader(node, node.leaderId);
  }

  /** The registry restarted an actor: bring it up to date with what metadata said. */
  restarted(name: string): void {
    for (const broker of this.brokers.values()) {
      if (actorName.broker(broker.id) === name) {
        this.brokerRestarted(broker);
        return;
      }
    }
    for (const topic of this.topics.values()) {
      if (actorName.topic(topic.name) === name) {
        const actor = this.topicActor(topic);
        if (topic.refusedWith !== null) {
          const { errorName, message } = topic.refusedWith;
          actor?.send({ type: 'topic.error', error: { code: errorName, message }, retriable: false });
        } else if (topic.partitions.length > 0) {
          actor?.send({ type: 'partitions', count: topic.partitions.length });
        }
        return;
      }
      for (const node of topic.partitions) {
        if (node.name === name) {
          this.updateLeader(node, node.leaderId);
          return;
        }
      }
    }
  }

  /**
   * Makes the partitions metadata names that the topic does not have yet, and registers their
   * workers with the registry in one event (a new topic of 1 000 partitions: one transition).
   */
  private ensurePartitions(topic: TopicNode, partitions: TopicMetadata['partitions']): void {
    const registrations: Registration[] = [];
    const born: { node: PartitionNode; context: PartitionWorkerContext }[] = [];
    for (const { partition, leaderId, leaderEpoch } of partitions) {
      if (topic.partitions[partition] !== undefined) continue;
      const node = this.parts.newPartition(topic, partition);
      // Partitions arrive in any order; keep the array dense by index.
      topic.partitions[partition] = node;
      const { logic, input } = this.parts.workerLogic(node);
      // Its leader's connection is up already: the worker would go connecting -> ready at once
      // (follow, conn.up); it is born there, at rest, without an actor (./hibernation.ts).
      const leader = this.readyBroker(leaderId);
      if (leader === undefined) {
        registrations.push({ name: node.name, kind: 'partition', logic, input });
        continue;
      }
      const rest = readyWithLeader(input, leaderId, leader.actor);
      registrations.push({ name: node.name, kind: 'partition', logic, input, rest });
      node.leaderId = leaderId;
      if (leaderEpoch >= 0) node.leaderEpoch = leaderEpoch;
      leader.node.sender.lead(node);
      born.push({ node, context: rest.context });
    }
    if (registrations.length > 0) this.parts.registrar.registerAll(registrations);
    for (const { node, context } of born) this.parts.bornReady(node, context);
  }

  /** A broker whose connection actor is `ready`, with that actor; undefined otherwise. */
  private readyBroker(id: number): { node: BrokerNode; actor: BrokerConnectionRef } | undefined {
    const node = id === -1 ? undefined : this.brokers.get(id);
    const actor = node === undefined ? undefined : this.parts.registrar.broker(id);
    if (node === undefined || actor === undefined || actor.getSnapshot().value !== 'ready') return undefined;
    return { node, actor };
  }

  /**
   * Names the partition's leader: the broker's sender leads it (the data path), and its worker
   * is told which broker actor to follow (the control path). -1, or a broker we do not know:
   * no leader.
   */
  private updateLeader(node: PartitionNode, leaderId: number): void {
    const leader = leaderId === -1 ? undefined : this.brokers.get(leaderId);
    if (leaderId !== node.leaderId) {
      this.brokers.get(node.leaderId)?.sender.unlead(node);
      node.leaderId = leaderId;
    }
    // Also when the id is unchanged: the broker may have been unknown when it was first named.
    leader?.sender.lead(node);
    if (leader === undefined) {
      node.tell({ type: 'leader.lost' });
      return;
    }
    // No actor while the registry restarts a failed one: the worker is told when it is back
    // (brokerRestarted), rather than told its leader is lost.
    const brokerActor = this.parts.registrar.broker(leader.id);
    if (brokerActor !== undefined) node.tell({ type: 'leader', leaderId, broker: brokerActor });
  }
}
