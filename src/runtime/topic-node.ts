import type { SnapshotFrom } from 'xstate';
import { actorName, type TopicRef } from '../../machines/actor-index.js';
import type { TopicSettings } from '../config.js';
import type { KafkaProtocolError } from '../errors.js';
import type { ProduceCall } from './delivery.js';
import type { PartitionNode } from './partition-node.js';
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
  ) {
    this.settings = settings;
    this.partitioner = makePartitioner(name, settings);
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
    if (
      partial.partitioner !== undefined ||
      partial.batchBytes !== undefined ||
      partial.batchRecords !== undefined
    ) {
      this.partitioner = makePartitioner(this.name, settings);
    }
  }
}

function makePartitioner(topic: string, settings: TopicSettings): Partitioner {
  return createPartitioner(topic, settings.partitioner, {
    batchBytes: settings.batchBytes,
    batchRecords: settings.batchRecords,
  });
}
