import { describe, expect, it } from 'vitest';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';
import { produceRecordsWithKcat, readTopic } from '../broker/kcat.js';

const KEYS = 1000;
const PER_KEY = 100;
const TOTAL = KEYS * PER_KEY;

/**
 * The first acceptance test of the runtime: 100 000 keyed records over 6 partitions and 3
 * brokers, read back by kcat: each exactly once, in produce order per key, and each key in the
 * partition librdkafka's murmur2 partitioner (Java-compatible) chooses for it.
 */
describe('100 000 keyed records', () => {
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: [
      { name: 'keyed', partitions: 6 },
      { name: 'keyed-by-librdkafka', partitions: 6 },
    ],
  });
  const producer = useProducer(cluster, { clientId: 'ekaf-test' });

  it('are all delivered once, in order per key, in the partition murmur2 chooses', async () => {
    const key = (k: number): string => `user-${k}`;
    // Interleave keys as a stream would: seq-major, so each call holds many keys.
    const calls: Promise<unknown>[] = [];
    for (let seq = 0; seq < PER_KEY; seq++) {
      const records = [];
      for (let k = 0; k < KEYS; k++) records.push({ key: key(k), value: `${key(k)}:${seq}` });
      calls.push(producer().produceSync('keyed', records));
    }
    const results = (await Promise.all(calls)) as { partition: number; offset: number }[][];
    expect(results.flat()).toHaveLength(TOTAL);

    const consumed = await readTopic(cluster().bootstrap, 'keyed', { timeoutMs: 120_000 });
    expect(consumed).toHaveLength(TOTAL);
    const values = new Set(consumed.map((r) => r.value?.toString()));
    expect(values.size).toBe(TOTAL);

    const partitionOfKey = new Map<string, number>();
    const lastSeq = new Map<string, number>();
    for (const record of consumed) {
      // consumed is sorted by partition, then offset.
      const k = record.key?.toString() ?? '';
      const seq = Number(record.value?.toString().split(':')[1]);
      expect(partitionOfKey.get(k) ?? record.partition).toBe(record.partition);
      partitionOfKey.set(k, record.partition);
      expect(seq).toBe((lastSeq.get(k) ?? -1) + 1);
      lastSeq.set(k, seq);
    }
    expect(partitionOfKey.size).toBe(KEYS);

    // The same keys through librdkafka's Java-compatible murmur2 partitioner.
    await produceRecordsWithKcat(
      cluster().bootstrap,
      'keyed-by-librdkafka',
      Array.from({ length: KEYS }, (_, k) => ({ key: Buffer.from(key(k)), value: Buffer.from('x') })),
      { config: { 'topic.partitioner': 'murmur2' } },
    );
    const theirs = await readTopic(cluster().bootstrap, 'keyed-by-librdkafka');
    expect(theirs).toHaveLength(KEYS);
    for (const record of theirs) {
      expect(partitionOfKey.get(record.key?.toString() ?? '')).toBe(record.partition);
    }
  });
});
