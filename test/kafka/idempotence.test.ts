// The idempotent producer's sequence numbers, checked by Apache Kafka's own broker: a batch whose
// fate is unknown keeps its producer id, epoch and sequence, whatever happens to other partitions
// meanwhile (issue 13, defect a).
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../src/index.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { readWithKcat } from './read-back.js';
import { actorNamed } from '../../src/runtime/introspection.js';

const REQUEST_TIMEOUT_MS = 1_000;

describe('Kafka 4.4.0: a batch in doubt keeps its stamp while another partition is in trouble', () => {
  let cluster: KafkaCluster;
  let producer: Producer | undefined;

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 3,
      topics: [
        { name: 'orders', partitions: 3, replicationFactor: 1 },
        // Batches over 3 000 bytes are refused (MESSAGE_TOO_LARGE) and split by the producer.
        { name: 'small', partitions: 3, replicationFactor: 1, configs: { 'max.message.bytes': '3000' } },
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await producer?.close({ timeoutMs: 5_000 });
    await cluster.kill();
  }, 60_000);

  it('a split after MESSAGE_TOO_LARGE on one broker does not restamp a batch another broker may hold: written once', async () => {
    // Before the fix, the split renewed the producer identity, and the batch waiting on a hung
    // broker was resent under the new producer id: when the broker woke up it wrote both the
    // old request and the restamped one.
    const leaders = async (topic: string) =>
      Promise.all([0, 1, 2].map((partition) => cluster.leaderOf(topic, partition)));
    const orderLeaders = await leaders('orders');
    const smallLeaders = await leaders('small');
    // A partition of each topic, led by two different nodes.
    let pair: { orders: number; small: number } | undefined;
    for (const [o, ol] of orderLeaders.entries()) {
      const s = smallLeaders.findIndex((sl) => sl !== ol);
      if (s !== -1) {
        pair = { orders: o, small: s };
        break;
      }
    }
    if (pair === undefined)
      throw new Error(`no pair of partitions on two nodes: ${orderLeaders.join()} ${smallLeaders.join()}`);
    const hung = orderLeaders[pair.orders] as number;

    const live = createProducer({
      brokers: cluster.bootstrap,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 300,
      deliveryTimeoutMs: 60_000,
    });
    producer = live;
    await live.produceSync('orders', { value: 'warm-up', partition: pair.orders });
    await live.produceSync('small', { value: 'warm-up', partition: pair.small });

    // The leader of orders/p hangs with our request in its socket: the request times out, the
    // connection is closed, and the batch goes back to its log under its stamp (the broker may
    // hold it), to be resent when a connection to the leader is ready again.
    cluster.pause(hung);
    const once = live.produceSync('orders', { value: 'exactly-once', partition: pair.orders });
    // The timeout has put the batch back (the counter counts requeues): its fate is unknown now.
    const hungWorker = `partition:orders:${pair.orders}` as const;
    await expect
      .poll(() => actorNamed(live.inspect(), hungWorker)?.details.batchesRetried, {
        timeout: REQUEST_TIMEOUT_MS * 10,
      })
      .toBeGreaterThanOrEqual(1);
    // Meanwhile another broker refuses a batch as too large: the producer splits it.
    const big = Array.from({ length: 4 }, (_, i) => ({ value: `${i}`.repeat(1_200), partition: pair.small }));
    const reports = await live.produceSyncBatched('small', big);
    expect(reports).toHaveLength(4);
    const split = actorNamed(live.inspect(), `partition:small:${pair.small}` as const);
    expect(split?.details.batchesSplit).toBeGreaterThan(0);
    // Then the hung broker wakes up and works through what waited in its sockets.
    cluster.resume(hung);
    await once;
    await live.flush();

    const records = await readWithKcat(cluster.bootstrap, 'orders', { partition: pair.orders });
    const values = records.map((r) => r.value?.toString());
    expect(values).toEqual(['warm-up', 'exactly-once']);
  }, 120_000);
});
