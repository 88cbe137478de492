import { describe, expect, it } from 'vitest';
import { BufferFullError, EkafError, KafkaProtocolError, ProducerClosedError } from '../../src/errors.js';
import { InvalidPartitionError } from '../../src/runtime/partitioners.js';
import type { Producer } from '../../src/producer.js';
import { ApiKey } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { orderViolations, startStream, type Stream } from '../support/stream.js';
import { actorNamed } from '../../src/runtime/introspection.js';

/** Waits until the stream has `more` records acknowledged past what it has now. */
const progress = (stream: Stream, more: number): Promise<void> => {
  const from = stream.acknowledged;
  return expect.poll(() => stream.acknowledged, { timeout: 20_000 }).toBeGreaterThanOrEqual(from + more);
};

describe('producer errors, bounds and runtime settings (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 3,
    topics: [{ name: 't', partitions: 3 }],
  });
  const make = useProducers(cluster, { clientId: 'ekaf-test', retryBackoffMs: 20, retryBackoffMaxMs: 200 });
  let producer: Producer;

  it('retries NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT and delivers', async () => {
    producer = make();
    await producer.produceSync('t', 'warm-up'); // connections and metadata in place
    await cluster().pushRequestErrors(ApiKey.Produce, [
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      ErrorCode.REQUEST_TIMED_OUT,
      ErrorCode.NOT_LEADER_OR_FOLLOWER,
      ErrorCode.REQUEST_TIMED_OUT,
    ]);
    const reports = await producer.produceSync(
      't',
      Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) })),
    );
    expect(reports).toHaveLength(300);
    const retried = producer
      .inspect()
      .filter((a) => a.kind === 'partition')
      .reduce((n, a) => n + a.details.batchesRetried, 0);
    expect(retried).toBeGreaterThanOrEqual(4);
    const consumed = await readTopic(cluster().bootstrap, 't');
    expect(
      consumed
        .map((r) => r.value?.toString())
        .filter((v) => v !== 'warm-up')
        .sort(),
    ).toEqual(Array.from({ length: 300 }, (_, i) => String(i)).sort());
  });

  it('a non-retriable error fails only the records of its batch, naming the Kafka error', async () => {
    producer = make();
    await producer.produceSync('t', { value: 'first', partition: 0 });
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.MESSAGE_TOO_LARGE]);
    const error = await producer
      .produceSync('t', { value: 'x'.repeat(5000), partition: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KafkaProtocolError);
    expect(error).toMatchObject({ code: 'ERR_KAFKA', errorName: 'MESSAGE_TOO_LARGE', errorCode: 10 });
    await producer.produceSync('t', { value: 'after', partition: 0 });
    const consumed = await readTopic(cluster().bootstrap, 't', { partitions: [0] });
    expect(consumed.map((r) => r.value?.toString())).toEqual(['first', 'after']);
  });

  it('buffer full: typed errors, and everything accepted before is delivered', async () => {
    producer = make({ maxBufferedRecords: 100, bufferTimeoutMs: 200 });
    await producer.produceSync('t', 'warm-up');
    for (const id of [1, 2, 3]) await cluster().brokerDown(id);
    const outcomes: (Error | null)[] = [];
    for (let i = 0; i < 100; i++) {
      producer.produceAsync('t', { key: `k${i}`, value: String(i) }, (error) => outcomes.push(error));
    }
    expect(() => {
      producer.produceAsync('t', 'one too many');
    }).toThrow(BufferFullError);
    await expect(producer.produceSync('t', 'waits, then gives up')).rejects.toMatchObject({
      code: 'ERR_BUFFER_FULL',
    });
    expect(producer.metrics().bufferedRecords).toBe(100);
    for (const id of [1, 2, 3]) await cluster().brokerUp(id);
    await producer.flush();
    expect(outcomes).toHaveLength(100);
    expect(outcomes.every((e) => e === null)).toBe(true);
    const consumed = await readTopic(cluster().bootstrap, 't');
    expect(consumed.map((r) => r.value?.toString()).filter((v) => v !== 'warm-up')).toHaveLength(100);
  });

  it('close() while records are pending delivers them all before resolving', async () => {
    producer = make();
    await producer.produceSync('t', 'warm-up');
    await cluster().brokerDown(1);
    let delivered = 0;
    for (let i = 0; i < 500; i++) {
      producer.produceAsyncBatched('t', { key: `k${i}`, value: String(i) }, (error) => {
        if (error === null) delivered++;
      });
    }
    // The broker comes back while close() waits on the records it leads.
    const closing = producer.close({ timeoutMs: 20_000 });
    await cluster().brokerUp(1);
    await closing;
    expect(delivered).toBe(500);
    expect(() => {
      producer.produceAsync('t', 'late');
    }).toThrow(ProducerClosedError);
    const consumed = await readTopic(cluster().bootstrap, 't');
    expect(consumed).toHaveLength(501);
  });

  it('setTopicConfig changes in-flight limit and linger while producing; order is kept', async () => {
    producer = make();
    const stream = startStream(producer, 't', { keys: 20, perTick: 20, tickMs: 5 });
    await progress(stream, 500);
    const settings = producer.setTopicConfig('t', { maxInFlight: 1, lingerMs: 50 });
    expect(settings).toMatchObject({ maxInFlight: 1, lingerMs: 50 });
    await progress(stream, 500);
    for (const actor of producer.inspect().filter((a) => a.kind === 'partition')) {
      expect(actor.details).toMatchObject({ maxInFlight: 1, lingerMs: 50 });
    }
    expect(actorNamed(producer.inspect(), 'topic:t')?.details.settings).toMatchObject({
      maxInFlight: 1,
      lingerMs: 50,
    });
    producer.setTopicConfig('t', { maxInFlight: 5, lingerMs: 0 });
    await progress(stream, 500);
    await stream.stop();
    expect(stream.failed).toEqual([]);
    const consumed = await readTopic(cluster().bootstrap, 't');
    expect(consumed).toHaveLength(stream.accepted);
    expect(orderViolations(consumed)).toEqual([]);
    expect(() => producer.setTopicConfig('t', { maxInFlight: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG', field: 'topics.t.maxInFlight' }),
    );
  });

  it('records that cannot be delivered within deliveryTimeoutMs fail with ERR_DELIVERY_TIMEOUT', async () => {
    producer = make({ deliveryTimeoutMs: 1500 });
    await producer.produceSync('t', 'warm-up');
    for (const id of [1, 2, 3]) await cluster().brokerDown(id);
    const started = Date.now();
    const error = await producer.produceSync('t', ['a', 'b']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(producer.metrics().bufferedRecords).toBe(0);
    for (const id of [1, 2, 3]) await cluster().brokerUp(id);
  });

  it('a request that cannot be encoded fails its calls with ERR_ENCODE for good; the process lives on, nothing stays pending', async () => {
    producer = make();
    await producer.produceSync('t', 'warm-up');
    // The validator refuses produceTimeoutMs above 2^31 - 1 since issue 13; bypass it through
    // the live settings object setTopicConfig returns, to reach the sender's encoding failure.
    const live = producer.setTopicConfig('t', {});
    live.produceTimeoutMs = 3_000_000_000;
    expect(actorNamed(producer.inspect(), 'topic:t')?.details.settings).toMatchObject({
      produceTimeoutMs: 3_000_000_000,
    });
    // What would have ended the process ends the test instead, at once, naming the exception.
    let onUncaught: (error: unknown) => void = () => undefined;
    const crashed = new Promise<never>((_, reject) => {
      onUncaught = (error) => {
        reject(new Error(`uncaught exception: ${String(error)}`));
      };
    });
    void crashed.catch(() => undefined); // reported through orCrash, when awaited
    process.on('uncaughtException', onUncaught);
    const orCrash = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, crashed]);
    try {
      const viaCallback = new Promise<unknown>((resolve) => {
        producer.produceAsync('t', { value: 'callback', partition: 1 }, (error) => {
          resolve(error);
        });
      });
      const error = await orCrash(
        producer.produceSync('t', [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 2 },
        ]),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EkafError);
      expect(error).toMatchObject({ code: 'ERR_ENCODE', retriable: false });
      expect((error as Error).message).toMatch(/cannot encode Produce v\d+ request: .*out of range/);
      expect(await orCrash(viaCallback)).toMatchObject({ code: 'ERR_ENCODE' });
      await orCrash(producer.flush());
      expect(producer.metrics()).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0, pendingCalls: 0 });
      for (const actor of producer.inspect().filter((a) => a.kind === 'partition')) {
        expect(actor.details).toMatchObject({ bufferedRecords: 0, inFlightBatches: 0 });
      }
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    // Not retried: once the setting is sane again, new records go through and nothing old comes back.
    producer.setTopicConfig('t', { produceTimeoutMs: 30_000 });
    await producer.produceSync('t', { value: 'after', partition: 0 });
    const consumed = await readTopic(cluster().bootstrap, 't');
    expect(consumed.map((r) => r.value?.toString()).sort()).toEqual(['after', 'warm-up']);
  });

  it('a topic the cluster does not know yet is created on first use (auto-create) and delivered to', async () => {
    producer = make();
    const report = await producer.produceSync('brand-new-topic', 'hello');
    expect(report.topic).toBe('brand-new-topic');
    const consumed = await readTopic(cluster().bootstrap, 'brand-new-topic');
    expect(consumed.map((r) => r.value?.toString())).toEqual(['hello']);
  });

  it('rejects bad calls with typed errors naming the field, accepting nothing of them', async () => {
    producer = make();
    expect(() => {
      producer.produceAsync('bad topic!', 'x');
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_RECORD', field: 'topic' }));
    expect(() => {
      producer.produceAsync('t', ['ok', { key: 'k', value: 42 } as never]);
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_RECORD', field: 'records[1].value' }));
    await producer.produceSync('t', 'fine');
    expect(() => {
      producer.produceAsync('t', { value: 'x', partition: 7 });
    }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_RECORD', field: 'record.partition' }));
    expect(producer.metrics().bufferedRecords).toBe(0);
  });

  it('a custom partitioner returning a bad partition fails only that call; nothing hangs or crashes', async () => {
    producer = make({ topics: { odd: { partitioner: () => 99 } } });
    // Before partitions are known (records wait for metadata) and after.
    for (let round = 0; round < 2; round++) {
      const error = await producer.produceSync('odd', 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPartitionError);
      expect(error).toMatchObject({ code: 'ERR_CONFIG', topic: 'odd', returned: 99 });
    }
    await producer.flush();
    expect(producer.metrics().bufferedRecords).toBe(0);
    producer.setTopicConfig('odd', { partitioner: 'default' });
    await expect(producer.produceSync('odd', 'y')).resolves.toMatchObject({ topic: 'odd' });
  });

  it.each(['none', 'gzip'] as const)(
    'a batch refused as MESSAGE_TOO_LARGE is split and delivered in order (compression %s)',
    async (compression) => {
      // One batch in flight: a half sent while its twin is refused would be written first by
      // the mock, which does not check sequence numbers (a real broker refuses it as out of order).
      producer = make({ topics: { big: { compression, maxInFlight: 1 } } });
      await producer.produceSync('big', { value: 'first', partition: 0 });
      await cluster().pushRequestErrors(ApiKey.Produce, [
        ErrorCode.MESSAGE_TOO_LARGE,
        ErrorCode.MESSAGE_TOO_LARGE,
      ]);
      const values = Array.from({ length: 40 }, (_, i) => `record-${i}`);
      const reports = await producer.produceSync(
        'big',
        values.map((value) => ({ value, partition: 0 })),
      );
      expect(reports.map((r) => r.offset)).toEqual(values.map((_, i) => i + 1));
      const worker = actorNamed(producer.inspect(), 'partition:big:0');
      expect(worker?.details.batchesSplit).toBe(2); // the batch, then its first half
      const consumed = await readTopic(cluster().bootstrap, 'big', { partitions: [0] });
      expect(consumed.map((r) => r.value?.toString())).toEqual(['first', ...values]);
    },
  );

  it('a record over maxRequestBytes is refused at the call with its size and the limit; nothing is sent', () => {
    producer = make({ maxRequestBytes: 10_000 });
    expect(() => {
      producer.produceAsync('t', Buffer.alloc(20_000));
    }).toThrow(expect.objectContaining({ code: 'ERR_RECORD_TOO_LARGE', size: 20_000, limit: 9488 }));
    expect(producer.metrics().bufferedRecords).toBe(0);
  });
});
