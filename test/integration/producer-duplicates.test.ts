import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../src/producer.js';
import { ApiKey } from '../../src/protocol/api.js';
import { startCluster, type MockCluster } from '../broker/cluster.js';
import { readTopic } from '../broker/kcat.js';

/**
 * The duplicates scenario: the broker appends a batch but its answer comes after the request
 * timeout, so the client retries. Without idempotence the retry is appended again; this test
 * proves the scenario really retries. (With idempotence a real broker recognises the resent
 * batch by its producer id and sequence and does not append it; librdkafka's mock does not run
 * that check for a non-transactional producer, so that half cannot be shown against it.)
 */
describe('a Produce answered after the request timeout (librdkafka 2.12 mock)', () => {
  let cluster: MockCluster;
  let producer: Producer;

  beforeEach(async () => {
    cluster = await startCluster({ peer: '2.12', brokers: 1, topics: [{ name: 'd', partitions: 1 }] });
  });
  afterEach(async () => {
    await producer.close({ timeoutMs: 5000 });
    await cluster.stop();
  });

  it('is retried, and without idempotence written twice', async () => {
    producer = createProducer({
      brokers: cluster.bootstrap,
      idempotent: false,
      requestTimeoutMs: 1000,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 100,
    });
    await producer.produceSync('d', 'warm-up');
    // The next Produce succeeds (error 0) but its answer waits 1.5 s: past the 1 s timeout.
    await cluster.pushBrokerRequestErrors(1, ApiKey.Produce, [{ code: 0, rttMs: 1500 }]);
    const report = await producer.produceSync('d', 'once?');
    expect(report.acknowledged).toBe(true);
    const values = (await readTopic(cluster.bootstrap, 'd')).map((r) => r.value?.toString());
    expect(values).toEqual(['warm-up', 'once?', 'once?']);
  });
});
