import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProducer, type Producer } from '../../src/producer.js';
import type { MetadataResponse } from '../../src/protocol/apis/metadata.js';
import type { ProducePartitionResponse, ProduceResponse } from '../../src/protocol/apis/produce.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { EkafError } from '../../src/errors.js';

/**
 * The runtime's handling of what metadata says about the cluster's shape (leader epochs,
 * partition counts, topic errors, brokers that leave or move, idle topics), driven with crafted
 * Metadata answers: nothing listens on the addresses they name, so no broker ever answers and
 * every change comes from the answers the test applies.
 */

/** A port nothing listens on: connections are refused at once. */
const DEAD = { host: '127.0.0.1', port: 1 };

interface TopicSpec {
  name: string;
  /** [leaderId, leaderEpoch] of each partition. */
  partitions?: [number, number][];
  errorCode?: number;
  /** Last byte of the topic id; 0: unknown (all zero). */
  id?: number;
}

function metadata(brokers: number[], topics: TopicSpec[]): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: brokers.map((nodeId) => ({ nodeId, ...DEAD, rack: null })),
    clusterId: 'test',
    controllerId: brokers[0] ?? -1,
    topics: topics.map((t) => {
      const topicId = Buffer.alloc(16);
      topicId[15] = t.id ?? 0;
      return {
        errorCode: t.errorCode ?? 0,
        name: t.name,
        topicId,
        isInternal: false,
        partitions: (t.partitions ?? []).map(([leaderId, leaderEpoch], partition) => ({
          errorCode: 0,
          partition,
          leaderId,
          leaderEpoch,
          replicaNodes: [leaderId],
          isrNodes: [leaderId],
          offlineReplicas: [],
        })),
      };
    }),
  };
}

/** The runtime behind a producer, with its private metadata entry points. */
interface RuntimeInternals {
  applyMetadata(response: MetadataResponse): void;
  followLeaderHint(
    node: unknown,
    answer: Pick<ProducePartitionResponse, 'errorCode' | 'currentLeader'>,
    endpoints: ProduceResponse['nodeEndpoints'],
  ): void;
  tidy(now: number): void;
  brokers: Map<number, { address: { host: string; port: number } }>;
  topics: Map<string, { partitions: unknown[] }>;
}

let producer: Producer | null = null;

function start(options: { topicIdleEvictionMs?: number } = {}): {
  producer: Producer;
  runtime: Runtime;
  internals: RuntimeInternals;
} {
  producer = createProducer({
    brokers: `${DEAD.host}:${DEAD.port}`,
    idempotent: false,
    retryBackoffMs: 1000,
    retryBackoffMaxMs: 1000,
    ...options,
  });
  const runtime = (producer as unknown as { runtime: Runtime }).runtime;
  return { producer, runtime, internals: runtime as unknown as RuntimeInternals };
}

afterEach(async () => {
  await producer?.close({ timeoutMs: 0 });
  producer = null;
});

function leaderOf(runtime: Runtime, topic: string, partition: number): unknown {
  const snapshot = runtime.actor(`partition:${topic}:${partition}`)?.getSnapshot() as
    { context: { leaderId: number } } | undefined;
  return snapshot?.context.leaderId;
}

/** Produces `count` records to `partition` (-1: let the partitioner choose); their outcomes. */
function produce(
  p: Producer,
  topic: string,
  count: number,
  partition = -1,
): { errors: (EkafError | null)[]; done: Promise<void> } {
  const errors: (EkafError | null)[] = [];
  const done = new Promise<void>((resolve) => {
    const records = Array.from({ length: count }, (_, i) => ({
      value: `v${i}`,
      ...(partition === -1 ? {} : { partition }),
    }));
    p.produceAsync(topic, records, (error) => {
      errors.push(error ?? null);
      resolve();
    });
  });
  return { errors, done };
}

describe('leader epochs (KIP-320)', () => {
  it('a stale answer after a newer one does not move the partition back', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 5]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    // A broker whose metadata lags still names the old leader, with its older epoch.
    const refresh = vi.spyOn(runtime, 'refreshMetadata');
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 4]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    // Ignored for that partition, and a fresher answer asked for.
    expect(refresh).toHaveBeenCalled();
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 6]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });

  it('the same epoch is not stale; brokers without epochs (-1) are followed as before', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 5]] }]));
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 5]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, -1]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
  });

  it('a recreated topic (new topic id) starts its epochs again', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 7]] }]));
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 2, partitions: [[2, 0]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });

  it('one stale partition does not hold back the others of the answer', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(
      metadata(
        [1, 2],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [1, 5],
              [1, 5],
            ],
          },
        ],
      ),
    );
    internals.applyMetadata(
      metadata(
        [1, 2],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [2, 4],
              [2, 6],
            ],
          },
        ],
      ),
    );
    expect([leaderOf(runtime, 't', 0), leaderOf(runtime, 't', 1)]).toEqual([1, 2]);
  });
});

describe('current-leader hints (KIP-951)', () => {
  const NOT_LEADER_OR_FOLLOWER = 6;
  const hint = (leaderId: number, leaderEpoch: number) => ({
    errorCode: NOT_LEADER_OR_FOLLOWER,
    currentLeader: { leaderId, leaderEpoch },
  });

  it('a newer hint moves the partition at once, adding its broker from nodeEndpoints', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(metadata([1], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    const node = internals.topics.get('t')?.partitions[0];
    const refresh = vi.spyOn(runtime, 'refreshMetadata');
    internals.followLeaderHint(node, hint(4, 4), [{ nodeId: 4, ...DEAD, rack: null }]);
    expect(leaderOf(runtime, 't', 0)).toBe(4);
    expect(internals.brokers.has(4)).toBe(true);
    expect(refresh).toHaveBeenCalled(); // still refreshed: the hint covers one partition
    // A metadata answer from before the move does not undo it.
    internals.applyMetadata(metadata([1, 4], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(4);
  });

  it('a hint no newer than our leader, or naming a broker we cannot reach, is not followed', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.applyMetadata(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    const node = internals.topics.get('t')?.partitions[0];
    internals.followLeaderHint(node, hint(2, 3), []);
    internals.followLeaderHint(node, hint(2, 2), []);
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, hint(7, 9), []); // broker 7: unknown, no endpoint
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, { errorCode: 0, currentLeader: { leaderId: 2, leaderEpoch: 9 } }, []);
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, hint(2, 4), []);
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });
});
