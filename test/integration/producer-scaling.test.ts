import { describe, expect, it } from 'vitest';
import type { Producer } from '../../src/producer.js';
import { ofKind } from '../../src/runtime/introspection.js';
import { countRecords } from '../broker/kcat.js';
import type { MockCluster } from '../broker/cluster.js';
import { spreadLeaders, useMockCluster, useMockClusters, useProducers } from '../support/cluster-fixture.js';

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

describe('a worker at rest hears what its followers hear, in order (librdkafka 2.12 mock)', () => {
  const startCluster = useMockClusters();
  const make = useProducers(() => cluster, {}, { closeTimeoutMs: 1000 });
  let cluster: MockCluster;

  it('its broker moving to an address that refuses: worker.down, as for a worker that runs', async () => {
    cluster = await startCluster({ peer: '2.12', brokers: 2, topics: [{ name: 'moving', partitions: 2 }] });
    await spreadLeaders(cluster, 'moving', 2);
    const producer = make({ metadataMaxAgeMs: 200, retryBackoffMs: 50, deliveryTimeoutMs: 60_000 });
    await producer.produceSync('moving', onePerPartition(2, 'first'));
    await turnsUntil(allResting(producer, 'moving', 2), 'at rest');
    const down = new Promise<number>((resolve) => {
      producer.on('worker.down', ({ topic, partition }) => {
        if (topic === 'moving') resolve(partition);
      });
    });
    // Broker 2 (partition 1's leader) now advertises a port nothing listens on: the next
    // metadata refresh closes its connection (its followers hear conn.down) and names its new
    // actor as the leader. The worker at rest must hear the first before the second, or it
    // waits in `connecting` for a connection that never comes, reporting nothing.
    await cluster.command('set_host_port 2 127.0.0.1 1');
    expect(await Promise.race([down, new Promise((resolve) => setTimeout(resolve, 3000, 'none'))])).toBe(1);
    // Then, as a worker that runs: `connecting` to the new actor, still down (it reports
    // still_down there), and the topic counts as in a downtime (the spool's 'downtime' mode).
    expect(workersOf(producer, 'moving').map((w) => w.state)).toEqual(['ready', 'connecting']);
    const runtime = (producer as unknown as { runtime: { inDowntime(topic: string): boolean } }).runtime;
    expect(runtime.inDowntime('moving')).toBe(true);
  });
});
