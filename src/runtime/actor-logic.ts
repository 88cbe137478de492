import type { EventEmitter } from 'eventemitter3';
import { fromPromise } from 'xstate';
import { metadataMachine, type MetadataSummary } from '../../machines/metadata.machine.js';
import { partitionWorkerMachine } from '../../machines/partition-worker.machine.js';
import { topicMachine } from '../../machines/topic.machine.js';
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
}

export function workerLogic(host: LogicHost, node: PartitionNode) {
  const ref = { topic: node.topic.name, partition: node.partition };
  const { events } = host;
  const logic = partitionWorkerMachine.provide({
    actions: {
      drain: () => {
        host.wakeLeader(node);
      },
      refreshMetadata: () => {
        host.refreshMetadata();
      },
      reportUp: ({ context }) => {
        if (context.downSince !== null && node.everUp) {
          events.emit('downtime.replayed', { ...ref, records: node.log.bufferedRecords });
          events.emit('time_down', { ...ref, ms: Date.now() - context.downSince });
        }
        if (!node.everUp) events.emit('time_to_connect', { ...ref, ms: Date.now() - host.startedAt });
        node.everUp = true;
        node.savedReported = false;
        node.log.downtime = false;
        events.emit('worker.up', { ...ref, leaderId: context.leaderId });
      },
      reportDown: ({ context }) => {
        node.log.downtime = true;
        if (node.everUp) events.emit('worker.down', { ...ref, error: context.lastError });
        // While a topic is down, everything it holds is on disk.
        if (host.spooler?.mode === 'downtime') host.spooler.catchUp(node.topic.name);
        if (node.everUp && node.log.hasPending && !node.savedReported) {
          node.savedReported = true;
          events.emit('downtime.saved', { ...ref, records: node.log.bufferedRecords });
        }
      },
      reportStillDown: ({ context }) => {
        if (node.everUp) {
          events.emit('worker.still_down', {
            ...ref,
            downForMs: Date.now() - (context.downSince ?? Date.now()),
          });
        }
      },
    },
  });
  const { retryBackoffMs, retryBackoffMaxMs } = host.options;
  return {
    logic,
    input: {
      topic: node.topic.name,
      partition: node.partition,
      retryBackoffMs,
      retryBackoffMaxMs,
      stillDownIntervalMs: STILL_DOWN_INTERVAL_MS,
    },
  };
}

export function topicLogic(
  host: LogicHost,
  topic: TopicNode,
  hooks: { releaseWaiting(topic: TopicNode): void; refuseHeld(topic: TopicNode): void },
) {
  const logic = topicMachine.provide({
    actions: {
      refreshMetadata: () => {
        host.refreshMetadata();
      },
      releaseWaiting: () => {
        hooks.releaseWaiting(topic);
      },
      refuseHeld: () => {
        hooks.refuseHeld(topic);
      },
    },
  });
  return { logic, input: { name: topic.name } };
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
      down: () => {
        broker.sender.connection = null;
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
