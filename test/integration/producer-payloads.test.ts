import { describe, expect, it } from 'vitest';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';

describe('acks modes, timestamps and headers (librdkafka 2.12 mock, read back with kcat)', () => {
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: [
      { name: 'acks0', partitions: 1 },
      { name: 'acks1', partitions: 1 },
      { name: 'payloads', partitions: 1 },
    ],
  });
  const producer = useProducer(cluster, {
    idempotent: false, // acks 0 and 1 need it off
    topics: { acks0: { acks: 0 }, acks1: { acks: 1 } },
  });

  it('acks=0: reports say sent, not acknowledged; kcat reads every record', async () => {
    const reports = await producer().produceSync('acks0', ['a', 'b', 'c']);
    expect(reports.map((r) => [r.acknowledged, r.offset])).toEqual([
      [false, -1],
      [false, -1],
      [false, -1],
    ]);
    const consumed = await readTopic(cluster().bootstrap, 'acks0');
    expect(consumed.map((r) => r.value?.toString())).toEqual(['a', 'b', 'c']);
  });

  it('acks=1: acknowledged by the leader, with offsets', async () => {
    const reports = await producer().produceSync('acks1', ['x', 'y']);
    expect(reports.map((r) => [r.acknowledged, r.offset])).toEqual([
      [true, 0],
      [true, 1],
    ]);
  });

  it('keeps explicit timestamps, stamps create time otherwise, and carries string/Buffer/repeated/null headers', async () => {
    const before = Date.now();
    await producer().produceSync('payloads', [
      { value: 'explicit', timestamp: 1_600_000_000_123 },
      { value: 'now' },
      {
        value: 'headers',
        headers: [
          ['trace', 'abc'],
          ['trace', Buffer.from([0, 1, 2, 255])],
          ['empty', ''],
          ['none', null],
        ],
      },
      { value: 'object headers', headers: { a: '1', b: Buffer.from('2') } },
    ]);
    const after = Date.now();
    const [explicit, now, withHeaders, objectHeaders] = await readTopic(cluster().bootstrap, 'payloads');
    expect(explicit?.timestamp).toBe(1_600_000_000_123);
    expect(now?.timestamp).toBeGreaterThanOrEqual(before);
    expect(now?.timestamp).toBeLessThanOrEqual(after);
    expect(withHeaders?.headers).toEqual([
      ['trace', Buffer.from('abc')],
      ['trace', Buffer.from([0, 1, 2, 255])],
      ['empty', Buffer.alloc(0)],
      ['none', null],
    ]);
    expect(objectHeaders?.headers).toEqual([
      ['a', Buffer.from('1')],
      ['b', Buffer.from('2')],
    ]);
  });
});
