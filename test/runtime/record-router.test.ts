import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/config-validation.js';
import { BatchBufferPool } from '../../src/runtime/batch-buffer-pool.js';
import { BufferBudget } from '../../src/runtime/buffer-budget.js';
import { ProduceCall } from '../../src/runtime/delivery.js';
import { PartitionNode, type StampSource } from '../../src/runtime/partition-node.js';
import { normalizeRecord } from '../../src/runtime/records.js';
import { createPartitioner } from '../../src/runtime/partitioners.js';
import { RecordRouter } from '../../src/runtime/record-router.js';
import { Settlement } from '../../src/runtime/settlement.js';
import { TopicNode } from '../../src/runtime/topic-node.js';
import { seeded } from '../support/seeded.js';

const SEED = Number(process.env.EKAF_ROUTER_SEED ?? 20261202);

/** A topic of `partitions` whose workers rest in `ready`, and the router that places records on it. */
function routed(partitions: number, batchBytes: number) {
  const { defaults } = resolveOptions({ brokers: '127.0.0.1:1' });
  const topic = new TopicNode('t', { ...defaults, batchBytes, partitioner: 'default' });
  const identity: StampSource = {
    canSend: true,
    stamp: null,
    renewFor: () => undefined,
    epochBumped: () => undefined,
  };
  const workers = { actor: () => undefined, rest: () => undefined, wake: () => undefined };
  const pool = new BatchBufferPool();
  topic.partitioner = createPartitioner('t', 'default', {
    batchBytes,
    batchRecords: 10_000,
    random: seeded(SEED + 1),
  });
  for (let p = 0; p < partitions; p++)
    topic.partitions.push(
      new PartitionNode(topic, p, `partition:t:${p}`, workers, identity, () => null, pool),
    );
  const router = new RecordRouter({
    settlement: new Settlement(new BufferBudget(1e9, 1e12), null, undefined),
    spooler: null,
    events: { emit: () => true },
    pendingCalls: new Set(),
    topic: () => topic,
    topics: () => [topic],
    // Routed as an active topic: its partitions are known.
    topicActor: () => undefined,
    wakeLeader: () => undefined,
  });
  return { topic, router };
}

describe('RecordRouter: key-less records on the default partitioner', () => {
  it("fill each sticky partition's batch before moving on: none is left a small batch", () => {
    const random = seeded(SEED);
    // Calls of 1 to 40 values of 100 bytes; a batch of 8 KiB holds ~75 of them.
    const batchBytes = 8 * 1024;
    const { topic, router } = routed(50, batchBytes);
    let total = 0;
    for (let call = 0; call < 400; call++) {
      const count = 1 + Math.floor(random() * 40);
      const records = Array.from({ length: count }, (_, i) =>
        normalizeRecord({ value: String(i).padStart(100, 'v') }, i, 1, 1 << 20),
      );
      router.accept('t', records, new ProduceCall('t', count, () => undefined), false);
      total += count;
    }
    // Every batch, the open ones sealed, is full but the last of the partition it is on now.
    const batches = topic.partitions.flatMap((node) => node.log.drainAll());
    const partial = batches.filter((b) => b.bytes.length < batchBytes - 200);
    expect(
      batches.reduce((n, b) => n + b.recordCount, 0),
      `seed ${SEED}`,
    ).toBe(total);
    expect(partial.length, `seed ${SEED}`).toBeLessThanOrEqual(1);
  });
});
