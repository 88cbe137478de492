import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/config-validation.js';
import { TopicNode } from '../../src/runtime/topic-node.js';
import { ProduceCall } from '../../src/runtime/delivery.js';
import { PartitionLog } from '../../src/runtime/partition-log.js';
import { normalizeRecord } from '../../src/runtime/records.js';

const { defaults } = resolveOptions({ brokers: '127.0.0.1:1' });

describe('TopicNode batch limits', () => {
  it('keeps batches within a request: batchBytes no larger than maxBatchBytes', () => {
    const topic = new TopicNode('t', defaults, 64 * 1024 - 512);
    expect(defaults.batchBytes).toBe(1_000_000);
    expect(topic.batchLimits).toEqual({ batchBytes: 64 * 1024 - 512, batchRecords: 10_000 });
    // A log filled through those limits seals batches that fit the request.
    const log = new PartitionLog('t', 0);
    const call = new ProduceCall('t', 2000, () => undefined);
    for (let i = 0; i < 2000; i++)
      log.append(
        normalizeRecord('v'.repeat(100), i, 1, 1 << 20),
        call,
        i,
        topic.batchLimits,
        true,
        Infinity,
        1,
      );
    for (let batch = log.takeNext(1); batch !== undefined; batch = log.takeNext(1)) {
      expect(batch.bytes.length).toBeLessThanOrEqual(64 * 1024 - 512);
      log.acknowledged(batch, 0);
    }
  });

  it('follows batchBytes set at runtime, within the same bound', () => {
    const topic = new TopicNode('t', defaults, 100_000);
    topic.configure({ ...defaults, batchBytes: 20_000 }, { batchBytes: 20_000 });
    expect(topic.batchLimits.batchBytes).toBe(20_000);
    topic.configure({ ...defaults, batchBytes: 500_000 }, { batchBytes: 500_000 });
    expect(topic.batchLimits.batchBytes).toBe(100_000);
  });

  it('sticks key-less records to a partition for at most 64 KiB, whatever batchBytes is', () => {
    const topic = new TopicNode('t', defaults);
    const value = 'x'.repeat(1000);
    const first = topic.partitioner.partition(null, value, 1000, 6);
    let moved = -1;
    for (let i = 1; i < 200 && moved === -1; i++) {
      if (topic.partitioner.partition(null, value, 1000, 6) !== first) moved = i;
    }
    // 66 records of 1000 bytes reach 64 KiB; the next moves on.
    expect(moved).toBe(66);
  });
});
