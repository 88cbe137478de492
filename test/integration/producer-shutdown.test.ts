import { beforeEach, describe, expect, it } from 'vitest';
import { ProducerClosedError, type EkafError } from '../../src/errors.js';
import type { Producer } from '../../src/producer.js';
import { spreadLeaders, useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';

/**
 * close() during an outage: it never hangs. Records it cannot deliver within its timeout fail
 * with ProducerClosedError (the callbacks, produceSync's promises, delivery.failed), and
 * records for partitions that are still reachable are delivered first.
 */
describe('close() during an outage (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 3,
    topics: [{ name: 'down', partitions: 6 }],
    // Partitions 0-5 on brokers 1 2 3 1 2 3.
    setup: (started) => spreadLeaders(started, 'down', 6),
  });
  // Each test closes its producer itself (that is what it tests); the fixture's close after it is a no-op.
  const make = useProducers(cluster);
  let producer: Producer;

  beforeEach(async () => {
    producer = make({ retryBackoffMs: 50, retryBackoffMaxMs: 200, requestTimeoutMs: 2000 });
    await producer.produceSync(
      'down',
      Array.from({ length: 6 }, (_, partition) => ({ value: 'warm-up', partition })),
    );
  });

  it('with every broker down: fails the pending records with ProducerClosedError after its timeout', async () => {
    await cluster().brokerDown(-1);
    const callbacks: (EkafError | null)[] = [];
    const failedEvents: number[] = [];
    producer.on('delivery.failed', ({ failed }) => failedEvents.push(failed));
    for (let i = 0; i < 10; i++) {
      producer.produceAsync(
        'down',
        Array.from({ length: 100 }, (_, j) => `lost-${i}-${j}`),
        (error) => callbacks.push(error),
      );
    }
    const sync = producer.produceSync('down', 'sync-lost').then(
      () => null,
      (error: unknown) => error,
    );
    expect(producer.metrics().bufferedRecords).toBe(1001);

    const t0 = Date.now();
    await producer.close({ timeoutMs: 1500 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1400);
    expect(took).toBeLessThan(5000);

    await Promise.resolve(); // callbacks are called on a microtask
    expect(callbacks).toHaveLength(10);
    for (const error of callbacks) {
      expect(error).toBeInstanceOf(ProducerClosedError);
      expect(error?.message).toBe('close() gave up after 1500 ms: the record was not acknowledged');
    }
    expect(await sync).toBeInstanceOf(ProducerClosedError);
    expect(failedEvents.reduce((a, b) => a + b, 0)).toBe(1001);
    expect(producer.metrics().bufferedRecords).toBe(0);
    expect(() => {
      producer.produceAsync('down', 'after');
    }).toThrow(ProducerClosedError);

    // Nothing of it reached Kafka (no broker was up to take it).
    await cluster().brokerUp(-1);
    const values = (await readTopic(cluster().bootstrap, 'down')).map((r) => r.value?.toString());
    expect(values.sort()).toEqual(Array.from({ length: 6 }, () => 'warm-up'));
  });

  it('with one broker down: delivers what it can, fails only the rest', async () => {
    const down = 2;
    const ledByDown = producer
      .inspect()
      .filter((a) => a.kind === 'partition' && a.details.leaderId === down)
      .map((a) => Number(a.name.split(':')[2]));
    expect(ledByDown.length).toBeGreaterThan(0);
    await cluster().brokerDown(down);

    const outcomes = new Map<number, EkafError | null>();
    for (let partition = 0; partition < 6; partition++) {
      producer.produceAsync(
        'down',
        Array.from({ length: 50 }, (_, j) => ({ value: `p${partition}-${j}`, partition })),
        (error) => outcomes.set(partition, error),
      );
    }
    await producer.close({ timeoutMs: 2000 });
    await Promise.resolve();

    for (let partition = 0; partition < 6; partition++) {
      if (ledByDown.includes(partition)) expect(outcomes.get(partition)).toBeInstanceOf(ProducerClosedError);
      else expect(outcomes.get(partition), `partition ${partition}`).toBeNull();
    }
    await cluster().brokerUp(down);
    const delivered = (await readTopic(cluster().bootstrap, 'down'))
      .map((r) => r.value?.toString() ?? '')
      .filter((v) => v !== 'warm-up');
    const expected = [0, 1, 2, 3, 4, 5]
      .filter((p) => !ledByDown.includes(p))
      .flatMap((p) => Array.from({ length: 50 }, (_, j) => `p${p}-${j}`));
    expect(delivered.sort()).toEqual(expected.sort());
  });
});
