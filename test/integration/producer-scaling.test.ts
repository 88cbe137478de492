import { describe, expect, it } from 'vitest';
import type { Producer } from '../../src/producer.js';
import { ofKind } from '../../src/runtime/introspection.js';
import { countRecords } from '../broker/kcat.js';
import { spreadLeaders, useMockCluster, useProducers } from '../support/cluster-fixture.js';

/**
 * Many partitions against librdkafka 2.12's mock: a partition worker at rest costs no actor and
 * no timer (src/runtime/hibernation.ts), a first produce to a topic of 1 000 partitions makes
 * none, and a worker at rest still hears of its broker going down, buffers, and comes back.
 * Records are counted back with kcat.
 */

/** Active ref'd timers of this process. */
const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Turns of the event loop until `done()` (workers go to rest once the turn that made them ready is over). */
async function turnsUntil(done: () => boolean, what: string, turns = 200): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`not ${what} after ${turns} turns of the event loop`);
}

/** The topic's partition workers as inspect() lists them. */
function workersOf(producer: Producer, topic: string) {
  return ofKind(producer.inspect(), 'partition').filter((a) => a.details.topic === topic);
}

const allResting = (producer: Producer, topic: string, count: number) => (): boolean => {
  const workers = workersOf(producer, topic);
  return workers.length === count && workers.every((w) => w.state === 'ready' && w.details.resting);
};

/** One record to each partition, explicitly placed. */
const onePerPartition = (partitions: number, tag: string) =>
  Array.from({ length: partitions }, (_, partition) => ({ value: `${tag}-${partition}`, partition }));

describe('many partitions (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: [
      { name: 'warm', partitions: 3 },
      { name: 'wide', partitions: 1000 },
      { name: 'nap', partitions: 30 },
    ],
    setup: async (c) => {
      await spreadLeaders(c, 'warm', 3);
      await spreadLeaders(c, 'nap', 30);
    },
  });
  const make = useProducers(cluster, {}, { closeTimeoutMs: 5000 });

  it('a first produce to 1 000 partitions leaves 1 000 workers at rest: no actor, no timer; kcat counts every record', async () => {
    const producer = make();
    // Connected to every broker, with its producer id.
    await producer.produceSync('warm', onePerPartition(3, 'warm'));
    await turnsUntil(allResting(producer, 'warm', 3), 'at rest');
    const timers = activeTimers();

    await producer.produceSync('wide', onePerPartition(1000, 'first'));
    await turnsUntil(allResting(producer, 'wide', 1000), 'at rest');
    // inspect() (and the visualizer) list every worker, in `ready`, without an actor behind it.
    const runtime = (producer as unknown as { runtime: { actor(name: string): unknown } }).runtime;
    expect(runtime.actor('partition:wide:0')).toBeUndefined();
    expect(runtime.actor('partition:wide:999')).toBeUndefined();
    // None more than before (vitest's own throttled reporting may hold one fewer by now).
    expect(activeTimers()).toBeLessThanOrEqual(timers);

    // And they take records as before: 10 more to each partition.
    const more = Array.from({ length: 10 }, (_, round) => onePerPartition(1000, `more${round}`)).flat();
    await producer.produceSync('wide', more);
    expect(await countRecords(cluster().bootstrap, 'wide')).toBe(11_000);
  });

  it('workers at rest wake when their broker goes down, buffer, and rest again once it is back', async () => {
    const producer = make({ retryBackoffMs: 50, retryBackoffMaxMs: 200 });
    await producer.produceSync('nap', onePerPartition(30, 'first'));
    await turnsUntil(allResting(producer, 'nap', 30), 'at rest');

    // Broker 1 leads partitions 0, 3, 6, ... (spreadLeaders): their workers wake and go down.
    const ledByOne = Array.from({ length: 10 }, (_, i) => 3 * i);
    const down = new Set<number>();
    const states: string[] = [];
    producer.on('state', (e) => {
      if (e.actor === 'partition:nap:3') states.push(`${e.from}>${e.to}`);
    });
    const allDown = new Promise<void>((resolve) => {
      producer.on('worker.down', ({ topic, partition }) => {
        if (topic === 'nap') down.add(partition);
        if (down.size === ledByOne.length) resolve();
      });
    });
    await cluster().brokerDown(1);
    await allDown;
    expect([...down].sort((a, b) => a - b)).toEqual(ledByOne);
    const workers = workersOf(producer, 'nap');
    for (const w of workers) {
      if (ledByOne.includes(w.details.partition)) expect(w.state).toBe('buffering');
      else expect(w.details.resting).toBe(true);
    }
    // The monitor follows a woken worker from the state it rested in.
    expect(states[0]).toBe('ready>buffering');

    // Records to every partition: those of broker 1 wait for it.
    const sent = producer.produceSync('nap', onePerPartition(30, 'during'));
    await cluster().brokerUp(1);
    await sent;
    await turnsUntil(allResting(producer, 'nap', 30), 'at rest again');
    expect(await countRecords(cluster().bootstrap, 'nap')).toBe(60);
  });
});
