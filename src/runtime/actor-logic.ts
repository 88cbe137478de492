import type { EventEmitter } from 'eventemitter3';
import { fromPromise } from 'xstate';
import { metadataMachine, type MetadataSummary } from '../../machines/metadata.machine.js';
import {
  partitionWorkerMachine,
  type PartitionWorkerContext,
  type PartitionWorkerInput,
} from '../../machines/partition-worker.machine.js';
import { topicMachine, type TopicContext } from '../../machines/topic.machine.js';
import type { ResolvedOptions } from '../config.js';
import type { ProducerEvents } from '../events.js';
import type { ConnectionOptions } from '../network/connection.js';
import { brokerConnectionLogic } from './broker-connection.js';
import type { PartitionNode } from './partition-node.js';
import type { Spooler } from './spooler.js';
import type { TopicNode } from './topic-node.js';
import type { BrokerNode } from './topology-follower.js';

/**
 * The machines of ./machines with the runtime's implementations provided: what each actor does
 * on its transitions (report events, wake a sender, ask for metadata). The machines declare
 * these actions as throwing placeholders, so a forgotten one fails loudly.
 */

/** How often `worker.still_down` is reported while a partition is down. */
const STILL_DOWN_INTERVAL_MS = 5000;

export interface LogicHost {
  readonly options: ResolvedOptions;
  readonly events: Pick<EventEmitter<ProducerEvents>, 'emit'>;
  readonly spooler: Spooler | null;
  /** When the producer started (for `time_to_connect`). */
  readonly startedAt: number;
  refreshMetadata(): void;
  /** The sender of the partition's current leader may take its batches. */
  wakeLeader(node: PartitionNode): void;
  /** A partition of a topic in use, undefined once it left (its worker is being stopped). */
  partition(topic: string, partition: number): PartitionNode | undefined;
  /** A topic in use, undefined once evicted. */
  topic(name: string): TopicNode | undefined;
  /**
   * The connection of the broker leading `nodes` was lost: those of their workers at rest, which
   * do not follow its actor, are owed the `conn.down` its followers are told (hibernation.ts).
   */
  connectionLost(nodes: readonly PartitionNode[], error: { code: string; message: string }): void;
}

/** What the worker's actions are given: its context names its partition. */
interface WorkerArgs {
  context: PartitionWorkerContext;
}

/**
 * The partition worker's logic, made once per producer and shared by every worker: each action
 * finds its partition from the worker's context. (A logic per partition, from `provide()`, built
 * a machine's state nodes per partition: 16 KB of heap each, and most of the time of a first
 * produce to a new topic of 1 000 partitions.)
 */
export function workerLogic(host: LogicHost) {
  const { events } = host;
  const nodeOf = (context: PartitionWorkerContext): PartitionNode | undefined =>
    host.partition(context.topic, context.partition);
  return partitionWorkerMachine.provide({
    actions: {
      drain: ({ context }: WorkerArgs) => {
        const node = nodeOf(context);
        if (node !== undefined) host.wakeLeader(node);
      },
      refreshMetadata: () => {
        host.refreshMetadata();
      },
      reportUp: ({ context }: WorkerArgs) => {
        const node = nodeOf(context);
        if (node !== undefined) reportUp(host, node, context);
      },
      reportDown: ({ context }: WorkerArgs) => {
        const node = nodeOf(context);
        if (node === undefined) return;
        const ref = { topic: context.topic, partition: context.partition };
        node.log.downtime = true;
        // While a topic is down, everything it holds is on disk: written before anyone hears of
        // the outage, so that a listener of worker.down knows it is there.
        if (host.spooler?.mode === 'downtime') host.spooler.catchUp(node.topic.name);
        if (node.everUp) events.emit('worker.down', { ...ref, error: context.lastError });
        if (node.everUp && node.log.hasPending && !node.savedReported) {
          node.savedReported = true;
          events.emit('downtime.saved', { ...ref, records: node.log.bufferedRecords });
        }
      },
      reportStillDown: ({ context }: WorkerArgs) => {
        if (nodeOf(context)?.everUp === true) {
          events.emit('worker.still_down', {
            topic: context.topic,
            partition: context.partition,
            downForMs: Date.now() - (context.downSince ?? Date.now()),
          });
        }
      },
    },
  });
}

/** `worker.up` (and `time_to_connect` / `time_down`): the worker entered `ready`. */
export function reportUp(host: LogicHost, node: PartitionNode, context: PartitionWorkerContext): void {
  const { events } = host;
  const ref = { topic: context.topic, partition: context.partition };
  if (context.downSince !== null && node.everUp) {
    events.emit('downtime.replayed', { ...ref, records: node.log.bufferedRecords });
    events.emit('time_down', { ...ref, ms: Date.now() - context.downSince });
  }
  if (!node.everUp) events.emit('time_to_connect', { ...ref, ms: Date.now() - host.startedAt });
  node.everUp = true;
  node.savedReported = false;
  node.log.downtime = false;
  events.emit('worker.up', { ...ref, leaderId: context.leaderId });
}

/** What a partition's worker starts with; `timing` is shared by every worker of the producer. */
export function workerInput(node: PartitionNode, timing: WorkerTiming): PartitionWorkerInput {
  return { topic: node.topic.name, partition: node.partition, ...timing };
}

/** The retry and reporting delays of every worker (the producer's options). */
export type WorkerTiming = Pick<
  PartitionWorkerInput,
  'retryBackoffMs' | 'retryBackoffMaxMs' | 'stillDownIntervalMs'
>;

export function workerTiming(options: ResolvedOptions): WorkerTiming {
  return {
    retryBackoffMs: options.retryBackoffMs,
    retryBackoffMaxMs: options.retryBackoffMaxMs,
    stillDownIntervalMs: STILL_DOWN_INTERVAL_MS,
  };
}

/** The topic actor's logic, made once per producer and shared by every topic. */
export function topicLogic(
  host: LogicHost,
  hooks: { releaseWaiting(topic: TopicNode): void; refuseHeld(topic: TopicNode): void },
) {
  return topicMachine.provide({
    actions: {
      refreshMetadata: () => {
        host.refreshMetadata();
      },
      releaseWaiting: ({ context }: { context: TopicContext }) => {
        const topic = host.topic(context.name);
        if (topic !== undefined) hooks.releaseWaiting(topic);
      },
      refuseHeld: ({ context }: { context: TopicContext }) => {
        const topic = host.topic(context.name);
        if (topic !== undefined) hooks.refuseHeld(topic);
      },
    },
  });
}

/**
 * A broker's connection actor: its socket work (./broker-connection.ts), and the link handed to
 * the broker's sender while the connection is ready.
 */
export function brokerLogic(host: LogicHost, broker: BrokerNode) {
  const { options } = host;
  const logic = brokerConnectionLogic(
    connectionOptions(options),
    {
      up: (connection, versions) => {
        broker.sender.connection = connection;
        broker.sender.produceVersion = versions.Produce ?? 3;
        broker.sender.requestDrain();
      },
      down: (error) => {
        broker.sender.connection = null;
        host.connectionLost([...broker.sender.led], error);
        host.refreshMetadata();
      },
    },
    options.sasl,
  );
  return {
    logic,
    input: {
      brokerId: broker.id,
      host: broker.address.host,
      port: broker.address.port,
      reconnectBackoffMs: options.retryBackoffMs,
      reconnectBackoffMaxMs: options.retryBackoffMaxMs,
    },
  };
}

/** What every broker connection is opened with, metadata's and the produce connections alike. */
export function connectionOptions(options: ResolvedOptions): Omit<ConnectionOptions, 'host' | 'port'> {
  return {
    clientId: options.clientId,
    requestTimeoutMs: options.requestTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    tls: options.tls,
  };
}

/** The metadata actor; `fetch` fetches and applies one answer (see Runtime.fetchMetadata). */
export function metadataLogic(host: LogicHost, fetch: () => Promise<MetadataSummary>) {
  const logic = metadataMachine.provide({ actors: { fetch: fromPromise<MetadataSummary>(fetch) } });
  const { options } = host;
  return {
    logic,
    input: {
      metadataMaxAgeMs: options.metadataMaxAgeMs,
      minIntervalMs: options.retryBackoffMs,
      retryBackoffMs: options.retryBackoffMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs,
    },
  };
}
