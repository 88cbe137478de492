import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { readTopic } from '../broker/kcat.js';
import {
  AFTER_CLOSE,
  BAD_CALLBACK,
  BAD_CALLS,
  MAX_REQUEST_BYTES,
  normalizeRow,
  PARTITIONS,
  readmeRow,
  TOPIC,
  type BadCall,
} from '../support/bad-input.js';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';

/** The error a call throws (produceAsync) or rejects with (produceSync). */
async function refusal(c: BadCall, producer: Producer, mode: 'async' | 'sync'): Promise<unknown> {
  if (mode === 'async') {
    try {
      c.run(producer, mode);
    } catch (error) {
      return error;
    }
    return new Error(`${c.call}: produceAsync did not throw`);
  }
  const result = c.run(producer, mode);
  expect(result, `${c.call}: produceSync must return a promise, not throw`).toBeInstanceOf(Promise);
  return (result as Promise<unknown>).then(
    () => new Error(`${c.call}: produceSync resolved`),
    (error: unknown) => error,
  );
}

function expectTyped(c: BadCall, error: unknown): void {
  const type = errors[c.error];
  expect(error, c.call).toBeInstanceOf(type);
  expect((error as Error).message, c.call).toBe(c.message);
  if (c.field !== undefined) expect((error as errors.InvalidRecordError).field, c.call).toBe(c.field);
}

describe('bad input from the application, against librdkafka 2.12', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: TOPIC, partitions: PARTITIONS }] });
  const producer = useProducer(cluster, { maxRequestBytes: MAX_REQUEST_BYTES });

  it('refuses every bad call with its typed error, and disturbs nothing accepted before', async () => {
    // Metadata known, then 2 000 good records accepted and mostly still in flight.
    await producer().produceSync(TOPIC, { key: 'first', value: 'good-first' });
    const good = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i % 10}`, value: `good-${i}` }));
    const settled: (Error | null)[] = [];
    for (let i = 0; i < good.length; i += 100) {
      producer().produceAsync(TOPIC, good.slice(i, i + 100), (error) => settled.push(error));
    }
    const buffered = producer().metrics().bufferedRecords;
    expect(buffered).toBeGreaterThan(0);

    // Every bad call, through both APIs, synchronously: nothing is acknowledged meanwhile, so the
    // buffer must hold exactly what it held.
    // (refusal() makes its call before its first await.)
    const refusals: [BadCall, Promise<unknown>][] = [];
    for (const c of [...BAD_CALLS, BAD_CALLBACK]) {
      refusals.push([c, refusal(c, producer(), 'async')]);
      if (c !== BAD_CALLBACK) refusals.push([c, refusal(c, producer(), 'sync')]);
    }
    expect(producer().metrics().bufferedRecords).toBe(buffered);
    for (const [c, error] of refusals) expectTyped(c, await error);

    await producer().flush();
    expect(settled).toEqual(Array.from({ length: 20 }, () => null));
    const consumed = await readTopic(cluster().bootstrap, TOPIC);
    const values = consumed.map((r) => r.value?.toString());
    expect(values.sort()).toEqual(['good-first', ...good.map((g) => g.value)].sort());
  });

  it('refuses records after close() with ProducerClosedError, both APIs', async () => {
    const closing = createProducer({ brokers: cluster().bootstrap });
    await closing.close();
    expectTyped(AFTER_CLOSE, await refusal(AFTER_CLOSE, closing, 'async'));
    expectTyped(AFTER_CLOSE, await refusal(AFTER_CLOSE, closing, 'sync'));
  });

  it('lists every case in the README table, as it is', () => {
    const rows = new Set(
      readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('| `produceAsync('))
        .map(normalizeRow),
    );
    const missing = [...BAD_CALLS, BAD_CALLBACK, AFTER_CLOSE].map(readmeRow).filter((row) => !rows.has(row));
    expect(missing, 'README "Bad input" rows to add or update').toEqual([]);
  });
});
