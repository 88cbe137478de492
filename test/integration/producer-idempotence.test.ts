import { beforeEach, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../src/producer.js';
import { ApiKey } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { actorNamed } from '../../src/runtime/introspection.js';

/**
 * The idempotent producer's sequence and epoch errors, injected by the mock broker. The mock
 * does not check sequence numbers itself for a producer without a transactional id (it only
 * stores the batches), so these tests drive each error path by injection.
 */
describe('idempotence errors (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 1,
    topics: [{ name: 't', partitions: 1 }],
  });
  const make = useProducers(cluster);
  let producer: Producer;
  const identity = (): { producerId: unknown; producerEpoch: unknown; idempotence: unknown } => {
    const details = actorNamed(producer.inspect(), 'registry')?.details;
    return {
      producerId: details?.producerId,
      producerEpoch: details?.producerEpoch,
      idempotence: details?.idempotence,
    };
  };

  beforeEach(async () => {
    producer = make({ retryBackoffMs: 20, retryBackoffMaxMs: 100 });
    await producer.produceSync('t', 'first');
  });

  it('is on by default and has a producer id', () => {
    const { producerId, idempotence } = identity();
    expect(idempotence).toBe('ready');
    expect(producerId).toEqual(expect.any(Number));
  });

  /** The producer id and epoch partition t/0 stamps its batches with, and its bumps. */
  const partitionStamp = (): unknown => {
    const details = actorNamed(producer.inspect(), 'partition:t:0')?.details;
    return [details?.producerId, details?.producerEpoch, details?.epochBumps];
  };

  it('DUPLICATE_SEQUENCE_NUMBER is a success (the broker already has the batch)', async () => {
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.DUPLICATE_SEQUENCE_NUMBER]);
    const report = await producer.produceSync('t', 'dup');
    expect(report).toMatchObject({ acknowledged: true, offset: -1 });
  });

  it('DUPLICATE_SEQUENCE_NUMBER reports offset -1 to every call sharing the batch, not made-up offsets', async () => {
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.DUPLICATE_SEQUENCE_NUMBER]);
    // Three calls in one turn of the event loop share one batch (the sender drains once a turn).
    const reports = await Promise.all([
      producer.produceSync('t', 'd1'),
      producer.produceSync('t', 'd2'),
      producer.produceSyncBatched('t', ['d3', 'd4']),
    ]);
    expect(actorNamed(producer.inspect(), 'partition:t:0')?.details.recordsAcked).toBe(5);
    expect(reports.flat().map((r) => r.offset)).toEqual([-1, -1, -1, -1]);
  });

  it('OUT_OF_ORDER_SEQUENCE_NUMBER on the oldest batch: the partition bumps its own epoch and the batch is resent from sequence 0', async () => {
    const before = identity();
    const [producerId, epoch] = partitionStamp() as [number, number];
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER]);
    await producer.produceSync('t', 'gap');
    await producer.produceSync('t', 'after');
    expect(partitionStamp()).toEqual([producerId, epoch + 1, 1]);
    expect(identity()).toEqual(before); // no InitProducerId: the bump is the partition's own
    const values = (await readTopic(cluster().bootstrap, 't')).map((r) => r.value?.toString());
    expect(values).toEqual(['first', 'gap', 'after']);
  });

  it('UNKNOWN_PRODUCER_ID while our records are still in the log fails the batch by name (a resend could duplicate)', async () => {
    // The mock's log still starts at offset 0, below our acknowledged 'first': not the
    // retention case where resetting is safe (that rule is unit-tested in test/runtime).
    const [producerId, epoch] = partitionStamp() as [number, number];
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.UNKNOWN_PRODUCER_ID]);
    await expect(producer.produceSync('t', 'unsure')).rejects.toMatchObject({
      code: 'ERR_KAFKA',
      errorName: 'UNKNOWN_PRODUCER_ID',
      errorCode: 59,
    });
    await producer.produceSync('t', 'after');
    expect(partitionStamp()).toEqual([producerId, epoch + 1, 1]);
    const values = (await readTopic(cluster().bootstrap, 't')).map((r) => r.value?.toString());
    expect(values).toEqual(['first', 'after']);
  });

  it('INVALID_PRODUCER_EPOCH fails the batch by name; the next records go under the partition’s next epoch', async () => {
    const [producerId, epoch] = partitionStamp() as [number, number];
    await cluster().pushRequestErrors(ApiKey.Produce, [ErrorCode.INVALID_PRODUCER_EPOCH]);
    await expect(producer.produceSync('t', 'fenced')).rejects.toMatchObject({
      code: 'ERR_KAFKA',
      errorName: 'INVALID_PRODUCER_EPOCH',
      errorCode: 47,
    });
    await producer.produceSync('t', 'after');
    expect(partitionStamp()).toEqual([producerId, epoch + 1, 1]);
    const values = (await readTopic(cluster().bootstrap, 't')).map((r) => r.value?.toString());
    expect(values).toEqual(['first', 'after']);
  });

  it('idempotent: false sends no producer identity', async () => {
    const plain = createProducer({
      brokers: cluster().bootstrap,
      idempotent: false,
      topics: { t: { acks: 1 } },
    });
    try {
      await plain.produceSync('t', 'plain');
      expect(actorNamed(plain.inspect(), 'registry')?.details.idempotence).toBe('off');
    } finally {
      await plain.close();
    }
  });

  it('keeps order across retries: a failed batch is resent before the later ones the broker refused', async () => {
    // Three batches in flight at once (responses delayed 200 ms). The broker fails the first
    // with REQUEST_TIMED_OUT and refuses the next two as OUT_OF_ORDER_SEQUENCE_NUMBER, as a real
    // broker does for batches after a sequence gap; all three must land once, in order.
    // A batch per record, full as it is sealed: only full batches go while a request is in
    // flight (a batch that is not full waits for the answer, see BrokerSender.collect).
    producer.setTopicConfig('t', { batchRecords: 1 });
    await cluster().setRtt(1, 200);
    await cluster().pushRequestErrors(ApiKey.Produce, [
      ErrorCode.REQUEST_TIMED_OUT,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    ]);
    const sends: Promise<unknown>[] = [];
    const inFlight = (): unknown => actorNamed(producer.inspect(), 'partition:t:0')?.details.inFlightBatches;
    for (const value of ['A', 'B', 'C']) {
      sends.push(producer.produceSync('t', value));
      // A request each: the next record waits until this one's batch is on the wire.
      await expect.poll(inFlight, { interval: 5 }).toBe(sends.length);
    }
    await Promise.all(sends);
    await cluster().setRtt(1, 0);
    const partition = actorNamed(producer.inspect(), 'partition:t:0');
    expect(partition?.details.batchesRetried).toBe(3);
    const values = (await readTopic(cluster().bootstrap, 't')).map((r) => r.value?.toString());
    expect(values).toEqual(['first', 'A', 'B', 'C']);
  });
});
