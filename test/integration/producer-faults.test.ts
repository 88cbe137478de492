import { beforeEach, describe, expect, it } from 'vitest';
import type { Producer } from '../../src/producer.js';
import { spreadLeaders, useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { orderViolations, startStream, type Stream } from '../support/stream.js';
import { actorNamed } from '../../src/runtime/introspection.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the stream has `more` records acknowledged past what it has now. */
const progress = (stream: Stream, more: number): Promise<void> => {
  const from = stream.acknowledged;
  return expect.poll(() => stream.acknowledged, { timeout: 20_000 }).toBeGreaterThanOrEqual(from + more);
};

describe('producer under faults (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 3,
    topics: [{ name: 'stream', partitions: 6 }],
    // Partitions 0-5 on brokers 1 2 3 1 2 3.
    setup: (started) => spreadLeaders(started, 'stream', 6),
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
    // Flowing to all six partitions (50 keys) before the fault.
    await progress(stream, 2000);
    const leader = 2;
    const partitionsOfLeader = producer
      .inspect()
      .filter((a) => a.kind === 'partition' && a.details.leaderId === leader)
      .map((a) => Number(a.name.split(':')[2]));
    expect(partitionsOfLeader.length).toBeGreaterThan(0);
    await cluster().brokerDown(leader);
    // A real-time wait on purpose: the outage's length is the scenario (records pile up, are
    // saved, and must be replayed in order), not something the producer signals.
    await sleep(3000);
    await cluster().brokerUp(leader);
    // Every partition of the leader back up, and records flowing after it.
    await expect
      .poll(() => partitionsOfLeader.filter((p) => events.includes(`worker.up:${p}`)), { timeout: 20_000 })
      .toEqual(partitionsOfLeader);
    await progress(stream, 2000);
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
    await progress(stream, 2000);
    await cluster().setLeader('stream', 0, 3);
    await cluster().setLeader('stream', 1, 1);
    // The producer follows both moves, and records keep flowing after them.
    const leaderOf = (partition: number): unknown =>
      actorNamed(producer.inspect(), `partition:stream:${partition}`)?.details.leaderId;
    await expect.poll(() => [leaderOf(0), leaderOf(1)], { timeout: 20_000 }).toEqual([3, 1]);
    await progress(stream, 2000);
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
    const first = producer.produceSync('moving', 'A');
    // In flight on broker 3.
    await expect
      .poll(() => actorNamed(producer.inspect(), 'partition:moving:0')?.details.inFlightBatches)
      .toBe(1);
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
