import { describe, expect, it } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { createProducer } from '../../src/producer.js';
import { PEERS } from '../broker/cluster.js';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';

describe.each(PEERS)('producer basics against librdkafka %s', (peer) => {
  const cluster = useMockCluster({ peer, brokers: 3, topics: [{ name: 'basic', partitions: 3 }] });
  const producer = useProducer(cluster, { clientId: 'ekaf-test' });

  it('produceSync resolves with offsets; kcat reads the records back', async () => {
    const report = await producer().produceSync('basic', { key: 'k1', value: 'hello', partition: 1 });
    expect(report).toMatchObject({ topic: 'basic', partition: 1, offset: 0, acknowledged: true });
    const reports = await producer().produceSync('basic', [
      'a',
      'b',
      { key: 'k', value: 'c', headers: { h: 'v' } },
    ]);
    expect(reports).toHaveLength(3);
    const consumed = await readTopic(cluster().bootstrap, 'basic');
    expect(consumed.map((r) => r.value?.toString()).sort()).toEqual(['a', 'b', 'c', 'hello']);
  });

  it('produceAsync reports through the callback and the delivery event', async () => {
    const events: number[] = [];
    producer().on('delivery', ({ reports }) => events.push(reports.length));
    const reports = await new Promise((resolve, reject) => {
      producer().produceAsync('basic', ['x', 'y'], (error, result) => {
        if (error) reject(error);
        else resolve(result);
      });
    });
    expect(reports).toHaveLength(2);
    expect(events).toContain(2);
  });

  it('builds no reports for a callback declared with the error alone; delivers all the same', async () => {
    const own = createProducer({ brokers: cluster().bootstrap, clientId: 'ekaf-test-arity' });
    try {
      const values = Array.from({ length: 50 }, (_, i) => `arity-${i}`);
      const [errorOnly, withReports] = await Promise.all([
        new Promise<unknown[]>((resolve) => {
          // One declared parameter: the callback gets an empty array, no report is built.
          own.produceAsync('basic', values.slice(0, 25), function (this: unknown, error) {
            // eslint-disable-next-line prefer-rest-params
            resolve([error, arguments[1]]);
          });
        }),
        new Promise<unknown[]>((resolve) => {
          own.produceAsync('basic', values.slice(25), (error, reports) => {
            resolve([error, reports]);
          });
        }),
      ]);
      expect(errorOnly).toEqual([null, []]);
      expect(withReports[0]).toBeNull();
      expect(withReports[1]).toHaveLength(25);
      const consumed = await readTopic(cluster().bootstrap, 'basic');
      const got = new Set(consumed.map((r) => r.value?.toString()));
      expect(values.every((v) => got.has(v))).toBe(true);
    } finally {
      await own.close({ timeoutMs: 5000 });
    }
  });

  it('inspect() lists the registry, metadata, brokers, topic and partition workers', () => {
    const actors = producer().inspect();
    const names = actors.map((a) => a.name);
    expect(names).toContain('registry');
    expect(names).toContain('metadata');
    expect(names).toContain('broker:1');
    expect(names).toContain('topic:basic');
    expect(names).toContain('partition:basic:2');
    expect(actors.find((a) => a.name === 'partition:basic:1')?.state).toBe('ready');
    expect(JSON.parse(JSON.stringify(actors))).toEqual(actors);
  });

  it('an inspect observer sees the whole actor system (xstate inspection)', async () => {
    const seen = new Set<string>();
    const inspected = createProducer({
      brokers: cluster().bootstrap,
      inspect: (event) => {
        if (event.type === '@xstate.actor') seen.add((event.actorRef as AnyActorRef).id);
      },
    });
    try {
      await inspected.produceSync('basic', 'inspected');
      expect(seen).toContain('metadata');
      expect(seen).toContain('topic:basic');
      expect(seen).toContain('partition:basic:0');
      expect([...seen].some((id) => id.startsWith('broker:'))).toBe(true);
    } finally {
      await inspected.close();
    }
  });
});
