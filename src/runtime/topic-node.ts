import type { SnapshotFrom } from 'xstate';
import { actorName, type TopicRef } from '../../machines/actor-index.js';
import type { TopicSettings } from '../config.js';
import type { KafkaProtocolError } from '../errors.js';
import type { ProduceCall } from './delivery.js';
import type { PartitionNode } from './partition-node.js';
import type { BatchLimits } from './partition-log.js';
import { createPartitioner, type Partitioner } from './partitioners.js';
import type { NormalizedRecord } from './records.js';

export type TopicRoute = 'refuse' | 'wait' | 'place';

/** A record of a call, waiting for its topic's partitions to be known. */
export interface WaitingRecord {
  record: NormalizedRecord;
  call: ProduceCall;
  index: number;
  urgent: boolean;
  acceptedAt: number;
  /** Its spool entry, -1 if not spooled. */
  spoolId: number;
}

/**
 * What the runtime holds for one topic beside its actor (`topic:<name>`, whose state decides
 * where records go): its settings and partitioner, its partitions, and the records that wait
 * for them.
 */
export class TopicNode {
  settings: TopicSettings;
  /**
   * The batch limits its partitions' logs apply: the settings', with batchBytes no larger than a
   * request may be (`maxBatchBytes`), so that the default 1 MB batches keep within a smaller
   * maxRequestBytes.
   */
  batchLimits: BatchLimits;
  partitioner: Partitioner;
  readonly partitions: PartitionNode[] = [];
  waiting: WaitingRecord[] = [];
  /** The topic's id as metadata last gave it (v10+), null while unknown. */
  topicId: Buffer | null = null;
  /** Consecutive metadata answers with fewer partitions than we have (see SHRINK_CONFIRMATIONS). */
  shrinkSeen = 0;
  /**
   * The non-retriable error metadata reports for the topic (TOPIC_AUTHORIZATION_FAILED…), which
   * its actor's `refused` state fails records with, as the Java client's send() does.
   */
  refusedWith: KafkaProtocolError | null = null;
  /**
   * The error the latest metadata answer that named an error gave for the topic, retriable or
   * not (UNKNOWN_TOPIC_OR_PARTITION while it is being created…): the cause of the delivery
   * timeout of records that waited for its partitions.
   */
  metadataError: KafkaProtocolError | null = null;
  /** When the topic was last produced to (idle topics are evicted, see topicIdleEvictionMs). */
  lastUsedAt = Date.now();
  /** Its actor's registry name. */
  readonly actorName: string;
  /** The actor snapshot the route was last read from, and the route (see routeFor). */
  private routedBy: unknown = undefined;
  private route: TopicRoute = 'wait';

  constructor(
    readonly name: string,
    settings: TopicSettings,
    private readonly maxBatchBytes = Infinity,
  ) {
    this.settings = settings;
    this.batchLimits = limitsOf(settings, maxBatchBytes);
    this.partitioner = makePartitioner(name, settings, this.partitions);
    this.actorName = actorName.topic(name);
  }

  /**
   * Where a call's records go, as the topic actor's state says: `refuse` (refused), `wait` (no
   * partitions known: resolving, or unavailable before any were), `place`. Asked on every call:
   * the answer is kept per snapshot, since `matches()` parses its argument each time.
   */
  routeFor(snapshot: SnapshotFrom<TopicRef> | undefined): TopicRoute {
    // No snapshot while the registry restarts the topic's actor: the partitions we know decide.
    if (snapshot === undefined) return this.partitions.length > 0 ? 'place' : 'wait';
    if (snapshot !== this.routedBy) {
      this.routedBy = snapshot;
      this.route = snapshot.matches('refused')
        ? 'refuse'
        : snapshot.context.partitionCount > 0
          ? 'place'
          : 'wait';
    }
    return this.route;
  }

  /** New settings; the partitioner is made again when what it depends on changed. */
  configure(settings: TopicSettings, partial: Partial<TopicSettings>): void {
    this.settings = settings;
    this.batchLimits = limitsOf(settings, this.maxBatchBytes);
    if (
      partial.partitioner !== undefined ||
      partial.batchBytes !== undefined ||
      partial.batchRecords !== undefined
    ) {
      this.partitioner = makePartitioner(this.name, settings, this.partitions);
    }
  }
}

function limitsOf(settings: TopicSettings, maxBatchBytes: number): BatchLimits {
  return {
    batchBytes: Math.max(1, Math.min(settings.batchBytes, maxBatchBytes)),
    batchRecords: settings.batchRecords,
  };
}

/**
 * The most bytes of key-less records the sticky strategies send to one partition before moving
 * on, whatever batchBytes is: with 1 MB batches, a producer of a hundred small records a second
 * would feed one partition for minutes (Java sticks for batch.size, 16 KiB by default; librdkafka
 * for 10 ms).
 */
export const MAX_STICKY_BYTES = 64 * 1024;

function makePartitioner(
  topic: string,
  settings: TopicSettings,
  partitions: readonly PartitionNode[],
): Partitioner {
  return createPartitioner(topic, settings.partitioner, {
    batchBytes: Math.min(settings.batchBytes, MAX_STICKY_BYTES),
    batchRecords: settings.batchRecords,
    holdsOn: (partition) => partitions[partition]?.log.downtime === true,
  });
}
