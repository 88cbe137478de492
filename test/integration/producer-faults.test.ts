import { beforeEach, describe, expect, it } from 'vitest';
import type { Producer } from '../../src/producer.js';
import { useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { orderViolations, startStream } from '../support/stream.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('producer under faults (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 3,
    topics: [{ name: 'stream', partitions: 6 }],
    // Leaders fixed (the mock may place them otherwise): partitions 0-5 on brokers 1 2 3 1 2 3.
    setup: async (started) => {
      for (let partition = 0; partition < 6; partition++)
        await started.setLeader('stream', partition, 1 + (partition % 3));
    },
  });
  const make = useProducers(cluster);
  let producer: Producer;

  beforeEach(() => {
    producer = make({
      clientId: 'ekaf-test',
      retryBackoffMs: 50,
      retryBackoffMaxMs: 500,
      requestTimeoutMs: 5000,
    });
  });

  it('a broker down for 3 s mid-stream: nothing lost, order kept, down → saved → replayed → up', async () => {
    const events: string[] = [];
    for (const name of ['worker.down', 'downtime.saved', 'downtime.replayed', 'worker.up'] as const) {
      producer.on(name, (event: { topic: string; partition: number }) => {
        events.push(`${name}:${event.partition}`);
      });
    }
    const stream = startStream(producer, 'stream', { keys: 50, perTick: 50, tickMs: 10 });
    await sleep(1000);
    const leader = 2;
    const partitionsOfLeader = producer
      .inspect()
      .filter((a) => a.kind === 'partition' && a.details.leaderId === leader)
      .map((a) => Number(a.name.split(':')[2]));
    expect(partitionsOfLeader.length).toBeGreaterThan(0);
    await cluster().brokerDown(leader);
    await sleep(3000);
    await cluster().brokerUp(leader);
    await sleep(1500);
    await stream.stop();

    expect(stream.failed).toEqual([]);
    expect(stream.acknowledged).toBe(stream.accepted);
    const consumed = await readTopic(cluster().bootstrap, 'stream', { timeoutMs: 60_000 });
    const seqs = new Set(consumed.map((r) => Number(r.value?.toString())));
    expect(seqs.size).toBe(stream.accepted);
    expect(consumed).toHaveLength(stream.accepted); // no duplicates
    expect(orderViolations(consumed)).toEqual([]);

    for (const partition of partitionsOfLeader) {
      const mine = events.filter((e) => e.endsWith(`:${partition}`)).map((e) => e.split(':')[0]);
      const down = mine.indexOf('worker.down');
      expect(down, mine.join(',')).toBeGreaterThanOrEqual(0);
      expect(mine.slice(down, down + 4)).toEqual([
        'worker.down',
        'downtime.saved',
        'downtime.replayed',
        'worker.up',
      ]);
    }
  });

  it('a partition leader moved mid-stream: nothing lost, nothing reordered', async () => {
    const stream = startStream(producer, 'stream', { keys: 50, perTick: 50, tickMs: 10 });
    await sleep(800);
    await cluster().setLeader('stream', 0, 3);
    await cluster().setLeader('stream', 1, 1);
    await sleep(1500);
    await stream.stop();
    expect(stream.failed).toEqual([]);
    const consumed = await readTopic(cluster().bootstrap, 'stream', { timeoutMs: 60_000 });
    expect(consumed).toHaveLength(stream.accepted);
    expect(new Set(consumed.map((r) => r.value?.toString())).size).toBe(stream.accepted);
    expect(orderViolations(consumed)).toEqual([]);
    const leaders = Object.fromEntries(
      producer
        .inspect()
        .filter((a) => a.kind === 'partition')
        .map((a) => [a.name, a.details.leaderId]),
    );
    expect(leaders['partition:stream:0']).toBe(3);
    expect(leaders['partition:stream:1']).toBe(1);
  });

  it('a leader move while a batch is in flight on the slow old leader: both land, in order, promptly', async () => {
    await producer.close();
    producer = make({
      retryBackoffMs: 50,
      deliveryTimeoutMs: 8000,
      topics: { moving: { maxInFlight: 1 } },
    });
    await cluster().createTopic('moving', 1, 3);
    await cluster().setLeader('moving', 0, 3);
    await producer.produceSync('moving', 'warm-up');
    await cluster().setRtt(3, 1500); // the old leader answers slowly
    const first = producer.produceSync('moving', 'A'); // in flight on broker 3
    await sleep(100);
    await cluster().setLeader('moving', 0, 2);
    await producer.produceSync('trigger', 'x'); // a new topic: metadata refresh, learns leader 2
    const started = Date.now();
    const second = producer.produceSync('moving', 'B'); // waits for A's slot
    await first;
    await second;
    expect(Date.now() - started).toBeLessThan(5000); // not the 8 s delivery timeout
    await cluster().setRtt(3, 0);
    const values = (await readTopic(cluster().bootstrap, 'moving')).map((r) => r.value?.toString());
    expect(values).toEqual(['warm-up', 'A', 'B']);
  });
});
