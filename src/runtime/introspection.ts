import type { ActorIndex, IndexEntry } from '../../machines/actor-index.js';
import type { TopicSettings } from '../config.js';
import type { SpoolStats } from '../spool/spool.js';
import type { ActorMonitor, ReceivedEvent } from './actor-monitor.js';
import { topState } from './actor-monitor.js';
import type { PartitionNode } from './partition-node.js';
import type { AddressOutcome } from './metadata-client.js';
import type { IdentityDescription } from './producer-identity.js';
import type { Spooler } from './spooler.js';
import type { TopologyFollower } from './topology-follower.js';

/** Every actor snapshot has these; `details` depends on the kind. */
interface SnapshotBase {
  name: string;
  /** Its top-level state ('buffering' for `{ buffering: 'waiting' }`). */
  state: string;
  lastError: { code: string; message: string } | null;
  /** The last events it received, oldest first (the visualizer shows them). */
  recentEvents: readonly ReceivedEvent[];
}

export interface RegistryDetails extends IdentityDescription {
  children: number;
  restarts: number;
}

export interface MetadataDetails {
  /** When metadata was last fetched (ms since epoch); 0 while no broker has answered yet. */
  lastRefreshAt: number;
  attempts: number;
  brokers: number;
  topics: number;
  /**
   * What the metadata connection last saw at each bootstrap address and each broker it tried:
   * while `lastRefreshAt` is 0, why no broker was reached, address by address.
   */
  addresses: AddressOutcome[];
}

export interface BrokerDetails {
  brokerId: number;
  address: string;
  attempts: number;
  versions: Record<string, number>;
  inFlightRequests: number;
  partitionsLed: number;
  /** Workers that follow this broker's connection actor. */
  followers: number;
}

export interface TopicDetails {
  topic: string;
  partitions: number;
  waitingRecords: number;
  settings: PublicTopicSettings | null;
}

export type PublicTopicSettings = Omit<TopicSettings, 'partitioner'> & { partitioner: string };

export interface PartitionDetails {
  topic: string;
  partition: number;
  leaderId: number;
  attempts: number;
  bufferedRecords: number;
  inFlightBatches: number;
  recordsAcked: number;
  recordsFailed: number;
  batchesRetried: number;
  batchesSplit: number;
  bytesBeforeCompression: number;
  bytesSent: number;
  /** Idempotence: this partition's own producer id, epoch and next sequence number. */
  producerId: number | null;
  producerEpoch: number | null;
  nextSequence: number;
  epochBumps: number;
  maxInFlight: number;
  lingerMs: number;
  /** At rest: no actor runs, its state (`ready`) is kept until something concerns it. */
  resting: boolean;
}

/** A transactional producer's transaction actor (`transaction`). */
export interface TransactionDetails {
  transactionalId: string;
  producerId: number | null;
  producerEpoch: number | null;
  /** 'v1' (AddPartitionsToTxn) or 'v2' (KIP-890); null before initialization. */
  protocol: string | null;
  /** The current (or last) transaction's number, from 1. */
  transaction: number;
  /** Partitions added to the current transaction. */
  partitions: number;
  /** How long the current transaction has been open, ms; null between transactions. */
  openForMs: number | null;
  /** Why the current transaction must be aborted; null while it may commit. */
  abortableReason: string | null;
  committed: number;
  aborted: number;
}

/** What `inspect()` says of each actor (and of the spool, shown beside them). */
export type ActorSnapshot =
  | (SnapshotBase & { kind: 'registry'; details: RegistryDetails })
  | (SnapshotBase & { kind: 'spool'; details: SpoolStats })
  | (SnapshotBase & { kind: 'metadata'; details: MetadataDetails })
  | (SnapshotBase & { kind: 'identity'; details: IdentityDescription })
  | (SnapshotBase & { kind: 'transaction'; details: TransactionDetails })
  | (SnapshotBase & { kind: 'broker'; details: BrokerDetails })
  | (SnapshotBase & { kind: 'topic'; details: TopicDetails })
  | (SnapshotBase & { kind: 'partition'; details: PartitionDetails });

export type ActorSnapshotOf<K extends ActorSnapshot['kind']> = Extract<ActorSnapshot, { kind: K }>;

/** The snapshots of one kind, typed: `ofKind(producer.inspect(), 'partition')[0].details.leaderId`. */
export function ofKind<K extends ActorSnapshot['kind']>(
  actors: readonly ActorSnapshot[],
  kind: K,
): ActorSnapshotOf<K>[] {
  return actors.filter((a): a is ActorSnapshotOf<K> => a.kind === kind);
}

/** What the introspection reads. */
export interface IntrospectionSources {
  readonly index: ActorIndex;
  readonly monitor: ActorMonitor;
  readonly topology: TopologyFollower;
  readonly spooler: Spooler | null;
  identity(): IdentityDescription;
  /** The metadata connection's outcome at each address (MetadataClient.addresses). */
  metadataAddresses(): AddressOutcome[];
}

/** Every actor's snapshot, for `producer.inspect()`, the visualizer and /metrics. */
export function inspectActors(sources: IntrospectionSources): ActorSnapshot[] {
  const { index, spooler } = sources;
  const actors: ActorSnapshot[] = [
    {
      name: 'registry',
      kind: 'registry',
      state: 'running',
      lastError: null,
      recentEvents: [],
      details: { children: index.size, restarts: index.restarts, ...sources.identity() },
    },
  ];
  if (spooler !== null) {
    const stats = spooler.spool.stats();
    // Not an actor: the spool is a file log the runtime drives, shown alongside its actors.
    actors.push({
      name: 'spool',
      kind: 'spool',
      state: stats.backlogRecords > 0 ? 'replaying' : stats.liveRecords > 0 ? 'holding' : 'idle',
      lastError: stats.lastError === null ? null : { code: 'ERR_SPOOL', message: stats.lastError },
      recentEvents: [],
      details: stats,
    });
  }
  for (const entry of index.all()) {
    // A worker at rest is listed from the state it keeps (src/runtime/hibernation.ts).
    const state = (entry.ref?.getSnapshot() as ActorState | undefined) ?? entry.rest;
    if (state == null) continue;
    const snapshot = describe(sources, entry, state as ActorState);
    if (snapshot !== null) actors.push(snapshot);
  }
  return actors;
}

/** What an actor is described from: its snapshot, or what it keeps at rest. */
interface ActorState {
  value: unknown;
  context: Record<string, unknown>;
}

function describe(
  sources: IntrospectionSources,
  entry: IndexEntry,
  snapshot: ActorState,
): ActorSnapshot | null {
  const context = snapshot.context;
  const base: SnapshotBase = {
    name: entry.name,
    state: topState(snapshot.value),
    lastError: (context.lastError as SnapshotBase['lastError'] | undefined) ?? null,
    recentEvents: sources.monitor.recentEvents(entry.name),
  };
  const { topology } = sources;
  switch (entry.spec.kind) {
    case 'metadata': {
      const summary = context.summary as { brokers: number; topics: number };
      return {
        ...base,
        kind: 'metadata',
        details: {
          lastRefreshAt: context.lastRefreshAt as number,
          attempts: context.attempts as number,
          brokers: summary.brokers,
          topics: summary.topics,
          addresses: sources.metadataAddresses(),
        },
      };
    }
    case 'identity':
      return { ...base, kind: 'identity', details: sources.identity() };
    case 'transaction':
      return { ...base, kind: 'transaction', details: transactionDetails(context) };
    case 'broker': {
      const broker = topology.brokers.get(context.brokerId as number);
      return {
        ...base,
        kind: 'broker',
        details: {
          brokerId: context.brokerId as number,
          address: `${String(context.host)}:${String(context.port)}`,
          attempts: context.attempts as number,
          versions: context.versions as Record<string, number>,
          inFlightRequests: broker?.sender.connection?.inFlight ?? 0,
          partitionsLed: broker?.sender.led.length ?? 0,
          followers: (context.followers as ReadonlyMap<string, unknown>).size,
        },
      };
    }
    case 'topic': {
      const topic = topology.topics.get(context.name as string);
      return {
        ...base,
        kind: 'topic',
        details: {
          topic: context.name as string,
          partitions: context.partitionCount as number,
          waitingRecords: topic?.waiting.length ?? 0,
          settings: topic === undefined ? null : publicSettings(topic.settings),
        },
      };
    }
    case 'partition': {
      const node = topology.topics.get(context.topic as string)?.partitions[context.partition as number];
      if (node === undefined) return null;
      return {
        ...base,
        kind: 'partition',
        details: { ...partitionDetails(node, context), resting: entry.ref === null },
      };
    }
  }
}

function transactionDetails(context: Record<string, unknown>): TransactionDetails {
  const stamp = context.stamp as { producerId: number; producerEpoch: number } | null;
  const startedAt = context.startedAt as number | null;
  const abortable = context.abortableError as { message: string } | null;
  return {
    transactionalId: context.transactionalId as string,
    producerId: stamp?.producerId ?? null,
    producerEpoch: stamp?.producerEpoch ?? null,
    protocol: context.protocol as string | null,
    transaction: context.serial as number,
    partitions: context.partitions as number,
    openForMs: startedAt === null ? null : Date.now() - startedAt,
    abortableReason: abortable?.message ?? null,
    committed: context.committed as number,
    aborted: context.aborted as number,
  };
}

function partitionDetails(
  node: PartitionNode,
  context: Record<string, unknown>,
): Omit<PartitionDetails, 'resting'> {
  const { log } = node;
  const sequence = log.sequence;
  return {
    topic: node.topic.name,
    partition: node.partition,
    leaderId: context.leaderId as number,
    attempts: context.attempts as number,
    bufferedRecords: log.bufferedRecords,
    inFlightBatches: log.inFlight,
    recordsAcked: log.recordsAcked,
    recordsFailed: log.recordsFailed,
    batchesRetried: log.batchesRetried,
    batchesSplit: log.batchesSplit,
    bytesBeforeCompression: log.bytesBeforeCompression,
    bytesSent: log.bytesSent,
    producerId: sequence.producerId === -1 ? null : sequence.producerId,
    producerEpoch: sequence.producerEpoch === -1 ? null : sequence.producerEpoch,
    nextSequence: sequence.nextSequence,
    epochBumps: sequence.epochBumps,
    maxInFlight: node.topic.settings.maxInFlight,
    lingerMs: node.topic.settings.lingerMs,
  };
}

function publicSettings(settings: TopicSettings): PublicTopicSettings {
  return {
    ...settings,
    partitioner: typeof settings.partitioner === 'function' ? 'custom' : settings.partitioner,
  };
}

/** The kind an actor name says (`partition:orders:3` is a partition), as a type. */
type KindOfName<N extends string> = N extends `partition:${string}`
  ? 'partition'
  : N extends `topic:${string}`
    ? 'topic'
    : N extends `broker:${string}`
      ? 'broker'
      : N extends ActorSnapshot['kind']
        ? N
        : ActorSnapshot['kind'];

/** The snapshot of the actor named `name`, typed by its name: `actorNamed(a, 'topic:t')?.details.settings`. */
export function actorNamed<N extends string>(
  actors: readonly ActorSnapshot[],
  name: N,
): ActorSnapshotOf<KindOfName<N>> | undefined {
  return actors.find((a) => a.name === name) as ActorSnapshotOf<KindOfName<N>> | undefined;
}
