import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProducer, type Producer } from '../../src/producer.js';
import type { MetadataResponse } from '../../src/protocol/apis/metadata.js';
import type { ProducePartitionResponse } from '../../src/protocol/apis/produce.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import type { TopologyFollower } from '../../src/runtime/topology-follower.js';
import type { PartitionNode } from '../../src/runtime/partition-node.js';
import { KafkaProtocolError, type EkafError } from '../../src/errors.js';
import { actorNamed } from '../../src/runtime/introspection.js';

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

let producer: Producer | null = null;

function start(options: { topicIdleEvictionMs?: number } = {}): {
  producer: Producer;
  runtime: Runtime;
  internals: TopologyFollower;
} {
  producer = createProducer({
    brokers: `${DEAD.host}:${DEAD.port}`,
    idempotent: false,
    retryBackoffMs: 1000,
    retryBackoffMaxMs: 1000,
    ...options,
  });
  const runtime = (producer as unknown as { runtime: Runtime }).runtime;
  // The runtime's topology follower: what the metadata actor's answers are applied by.
  return { producer, runtime, internals: (runtime as unknown as { topology: TopologyFollower }).topology };
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
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 5]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    // A broker whose metadata lags still names the old leader, with its older epoch.
    const refresh = vi.spyOn(runtime, 'refreshMetadata');
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 4]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    // Ignored for that partition, and a fresher answer asked for.
    expect(refresh).toHaveBeenCalled();
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 6]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });

  it('the same epoch is not stale; brokers without epochs (-1) are followed as before', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 5]] }]));
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 5]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, -1]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(1);
  });

  it('a recreated topic (new topic id) starts its epochs again', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 7]] }]));
    internals.apply(metadata([1, 2], [{ name: 't', id: 2, partitions: [[2, 0]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });

  it('one stale partition does not hold back the others of the answer', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(
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
    internals.apply(
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
  const hint = (leaderId: number, leaderEpoch: number, errorCode = NOT_LEADER_OR_FOLLOWER) =>
    ({ errorCode, currentLeader: { leaderId, leaderEpoch } }) as ProducePartitionResponse;

  it('a newer hint moves the partition at once, adding its broker from nodeEndpoints', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    const node = internals.topics.get('t')?.partitions[0] as PartitionNode;
    const refresh = vi.spyOn(runtime, 'refreshMetadata');
    internals.followLeaderHint(node, hint(4, 4), [{ nodeId: 4, ...DEAD, rack: null }]);
    expect(leaderOf(runtime, 't', 0)).toBe(4);
    expect(internals.brokers.has(4)).toBe(true);
    expect(refresh).toHaveBeenCalled(); // still refreshed: the hint covers one partition
    // A metadata answer from before the move does not undo it.
    internals.apply(metadata([1, 4], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    expect(leaderOf(runtime, 't', 0)).toBe(4);
  });

  it('a hint no newer than our leader, or naming a broker we cannot reach, is not followed', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[1, 3]] }]));
    const node = internals.topics.get('t')?.partitions[0] as PartitionNode;
    internals.followLeaderHint(node, hint(2, 3), []);
    internals.followLeaderHint(node, hint(2, 2), []);
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, hint(7, 9), []); // broker 7: unknown, no endpoint
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, hint(2, 9, 0), []);
    expect(leaderOf(runtime, 't', 0)).toBe(1);
    internals.followLeaderHint(node, hint(2, 4), []);
    expect(leaderOf(runtime, 't', 0)).toBe(2);
  });
});

describe('partition count follows metadata', () => {
  it('a recreated topic with fewer partitions: buffered records of vanished ones fail at once, typed', async () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1, 0); // the topic exists (metadata is applied to known topics only)
    internals.apply(
      metadata(
        [1],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [1, 0],
              [1, 0],
              [1, 0],
              [1, 0],
            ],
          },
        ],
      ),
    );
    const vanished = produce(p, 't', 2, 3);
    const kept = produce(p, 't', 1, 1);
    internals.apply(
      metadata(
        [1],
        [
          {
            name: 't',
            id: 2,
            partitions: [
              [1, 0],
              [1, 0],
            ],
          },
        ],
      ),
    );
    await vanished.done;
    const error = vanished.errors[0];
    expect(error).toBeInstanceOf(KafkaProtocolError);
    expect(error).toMatchObject({ code: 'ERR_KAFKA', errorCode: 3, retriable: false });
    expect(error?.message).toContain('partition 3 of topic "t" no longer exists');
    expect(kept.errors).toEqual([]); // partition 1 still exists: still buffered
    // New records are partitioned over the new count; the vanished workers are gone.
    expect(runtime.partitionCount('t')).toBe(2);
    expect(runtime.actor('partition:t:3')).toBeUndefined();
    expect(runtime.actor('partition:t:2')).toBeUndefined();
    expect(
      runtime
        .inspect()
        .filter((a) => a.kind === 'partition')
        .map((a) => a.name),
    ).toEqual(['partition:t:0', 'partition:t:1']);
    expect(() => {
      p.produceAsync('t', { value: 'x', partition: 3 });
    }).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_RECORD',
        field: 'record.partition',
        message: expect.stringContaining('has 2 partitions') as string,
      }),
    );
  });

  it('fewer partitions under the same topic id is a stale answer: ignored, and asked again', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1, 3);
    internals.apply(
      metadata(
        [1],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [1, 0],
              [1, 0],
              [1, 0],
              [1, 0],
            ],
          },
        ],
      ),
    );
    const refresh = vi.spyOn(runtime, 'refreshMetadata');
    internals.apply(
      metadata(
        [1],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [1, 0],
              [1, 0],
            ],
          },
        ],
      ),
    );
    expect(runtime.partitionCount('t')).toBe(4);
    expect(runtime.actor('partition:t:3')).toBeDefined();
    expect(refresh).toHaveBeenCalled();
  });

  it('without topic ids (Kafka < 2.8), a shrink is followed once two answers in a row say so', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    const four: TopicSpec = {
      name: 't',
      partitions: [
        [1, 0],
        [1, 0],
        [1, 0],
        [1, 0],
      ],
    };
    const two: TopicSpec = {
      name: 't',
      partitions: [
        [1, 0],
        [1, 0],
      ],
    };
    internals.apply(metadata([1], [four]));
    internals.apply(metadata([1], [two]));
    internals.apply(metadata([1], [four])); // the streak is broken
    internals.apply(metadata([1], [two]));
    expect(runtime.partitionCount('t')).toBe(4);
    internals.apply(metadata([1], [two]));
    expect(runtime.partitionCount('t')).toBe(2);
  });
});

describe('topic-level errors, in every topic state', () => {
  const UNKNOWN_TOPIC_OR_PARTITION = 3;
  const TOPIC_AUTHORIZATION_FAILED = 29;

  it('an authorization error fails what the active topic holds at once, and what is produced while it lasts', async () => {
    const { producer: p, runtime, internals } = start();
    const held = produce(p, 't', 3);
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]));
    internals.apply(metadata([1], [{ name: 't', errorCode: TOPIC_AUTHORIZATION_FAILED }]));
    await held.done;
    expect(held.errors[0]).toMatchObject({ errorCode: TOPIC_AUTHORIZATION_FAILED, retriable: false });
    // The topic's actor refuses it: that state is what fails new records at once.
    expect(stateOf(runtime, 'topic:t')).toBe('refused');
    const later = produce(p, 't', 1);
    await later.done;
    expect(later.errors[0]).toMatchObject({ errorCode: TOPIC_AUTHORIZATION_FAILED });
    expect(runtime.budget.records).toBe(0); // their room in the buffer is given back
    // Access granted again: the topic takes records.
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]));
    expect(stateOf(runtime, 'topic:t')).toBe('active');
    const again = produce(p, 't', 1);
    expect(again.errors).toEqual([]);
  });

  it('an authorization error while resolving fails the records that waited', async () => {
    const { producer: p, internals } = start();
    const waiting = produce(p, 't', 2);
    internals.apply(metadata([1], [{ name: 't', errorCode: TOPIC_AUTHORIZATION_FAILED }]));
    await waiting.done;
    expect(waiting.errors[0]).toMatchObject({ errorCode: TOPIC_AUTHORIZATION_FAILED });
  });

  it('a deleted topic (UNKNOWN_TOPIC_OR_PARTITION) keeps its records for their delivery timeout', () => {
    const { producer: p, runtime, internals } = start();
    const held = produce(p, 't', 3);
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]));
    internals.apply(metadata([1], [{ name: 't', errorCode: UNKNOWN_TOPIC_OR_PARTITION }]));
    expect(stateOf(runtime, 'topic:t')).toBe('unavailable');
    expect(held.errors).toEqual([]);
    expect(runtime.budget.records).toBe(3);
  });
});

describe('records that arrive while a topic becomes active', () => {
  it("wait with the others and go to their partitions: a failed record's listener producing again strands nothing", async () => {
    const { producer: p, runtime, internals } = start();
    // Partition 5 of a topic that turns out to have 1: that record fails while the waiting
    // records are released, and its failure's listener produces again, synchronously.
    const again = new Promise<void>((resolve) => {
      p.once('delivery.failed', () => {
        produce(p, 't', 1, 0);
        resolve();
      });
    });
    const bad = produce(p, 't', 1, 5);
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]));
    await bad.done;
    await again;
    expect(bad.errors[0]).toMatchObject({ code: 'ERR_INVALID_RECORD' });
    expect(internals.topics.get('t')?.waiting).toHaveLength(0);
    expect(actorNamed(runtime.inspect(), 'partition:t:0')?.details.bufferedRecords).toBe(1);
  });
});

describe('brokers that leave or move', () => {
  // Only Date is faked: the broker actors' timers run as they are (nothing answers them anyway).
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const later = (ms: number): void => {
    vi.setSystemTime(Date.now() + ms);
  };

  it('a broker missing from metadata for a minute (3 answers or more) is stopped and forgotten; one that returns is dialled again', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    const topic: TopicSpec = { name: 't', id: 1, partitions: [[1, 0]] };
    internals.apply(metadata([1, 2, 3], [topic]));
    expect(runtime.actor('broker:3')).toBeDefined();
    for (let i = 0; i < 10; i++) internals.apply(metadata([1, 2], [topic]));
    later(59_999);
    internals.apply(metadata([1, 2], [topic]));
    expect(runtime.actor('broker:3')).toBeDefined(); // many answers, but a restart takes a while
    later(1);
    internals.apply(metadata([1, 2], [topic]));
    expect(runtime.actor('broker:3')).toBeUndefined();
    expect(internals.brokers.has(3)).toBe(false);
    expect(runtime.inspect().some((a) => a.name === 'broker:3')).toBe(false);
    internals.apply(metadata([1, 2, 3], [topic]));
    expect(runtime.actor('broker:3')).toBeDefined();
  });

  it('a minute is not enough without 3 answers, and an answer listing the broker starts over', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    const topic: TopicSpec = { name: 't', id: 1, partitions: [[1, 0]] };
    internals.apply(metadata([1, 2], [topic]));
    internals.apply(metadata([1], [topic]));
    later(120_000);
    internals.apply(metadata([1], [topic]));
    expect(runtime.actor('broker:2')).toBeDefined();
    internals.apply(metadata([1, 2], [topic]));
    internals.apply(metadata([1], [topic]));
    internals.apply(metadata([1], [topic]));
    later(60_000);
    internals.apply(metadata([1], [topic]));
    expect(runtime.actor('broker:2')).toBeUndefined();
  });

  it('a broker that left while leading a partition leaves it without a leader', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1, 2], [{ name: 't', id: 1, partitions: [[2, 0]] }]));
    // The topic's answers carry an error from now on: nothing names a new leader.
    for (let i = 0; i < 3; i++) {
      internals.apply(metadata([1], [{ name: 't', errorCode: 5 }]));
      later(30_000);
    }
    expect(runtime.actor('broker:2')).toBeUndefined();
    expect(leaderOf(runtime, 't', 0)).toBe(-1);
  });

  it('a broker with a new host:port gets a new actor dialling the new address', () => {
    const { producer: p, runtime, internals } = start();
    produce(p, 't', 1);
    internals.apply(metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]));
    const before = runtime.actor('broker:1');
    const moved = metadata([1], [{ name: 't', id: 1, partitions: [[1, 0]] }]);
    moved.brokers[0] = { nodeId: 1, host: '127.0.0.2', port: 2, rack: null };
    internals.apply(moved);
    const after = runtime.actor('broker:1');
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect(internals.brokers.get(1)?.address).toEqual({ host: '127.0.0.2', port: 2 });
    const details = actorNamed(runtime.inspect(), 'broker:1')?.details;
    expect(details?.address).toBe('127.0.0.2:2');
    expect(details?.partitionsLed).toBe(1); // the partition stays with it
  });
});

describe('idle topics are evicted (topicIdleEvictionMs)', () => {
  it('an idle topic loses its actors; a later produce brings them back', async () => {
    const { producer: p, runtime, internals } = start({ topicIdleEvictionMs: 1000 });
    produce(p, 't', 1); // the topic exists (metadata is applied to known topics only)
    internals.apply(
      metadata(
        [1],
        [
          {
            name: 't',
            id: 1,
            partitions: [
              [1, 0],
              [1, 0],
            ],
          },
        ],
      ),
    );
    const sent = produce(p, 't', 1);
    const producedAt = Date.now();
    // Held records keep it, however long ago it was produced to.
    internals.tidy(producedAt + 60_000);
    expect(runtime.actor('topic:t')).toBeDefined();
    internals.apply(metadata([1], [{ name: 't', errorCode: 29 }])); // fails them
    await sent.done;
    internals.tidy(producedAt + 500);
    expect(runtime.actor('topic:t')).toBeDefined();
    internals.tidy(producedAt + 60_000);
    expect(runtime.actor('topic:t')).toBeUndefined();
    expect(runtime.actor('partition:t:0')).toBeUndefined();
    expect(internals.topics.has('t')).toBe(false);
    expect(runtime.inspect().map((a) => a.name)).not.toContain('partition:t:1');
    // Its broker actor forgot the workers that followed it (no stopped actor is kept).
    expect(actorNamed(runtime.inspect(), 'broker:1')?.details.followers).toBe(0);
    produce(p, 't', 1);
    expect(runtime.actor('topic:t')).toBeDefined();
    expect(stateOf(runtime, 'topic:t')).toBe('resolving');
  });

  it('a topic configured with setTopicConfig is kept', () => {
    const { producer: p, runtime, internals } = start({ topicIdleEvictionMs: 1000 });
    p.setTopicConfig('t', { lingerMs: 50 });
    internals.tidy(Date.now() + 60_000);
    expect(runtime.actor('topic:t')).toBeDefined();
  });
});

function stateOf(runtime: Runtime, name: string): unknown {
  return (runtime.actor(name)?.getSnapshot() as { value: unknown } | undefined)?.value;
}
