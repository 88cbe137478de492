import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic, type ConsumedRecord } from '../broker/kcat.js';
import { call, postJson, startStack, type Stack } from './helpers.js';

const TOPICS = ['sync-json', 'sync-ndjson', 'raw-text', 'raw-bytes', 'async', 'batch-sync', 'batch-async'];

interface Report {
  topic: string;
  partition: number;
  offset: number;
  acknowledged: boolean;
}

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));
const headersOf = (r: ConsumedRecord): [string, string | null][] => r.headers.map(([n, v]) => [n, text(v)]);

describe('kafboy produce routes (librdkafka 2.12, 3 brokers)', () => {
  let stack: Stack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ topics: TOPICS.map((name) => ({ name, partitions: 3 })) });
    base = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('POST /sync/:topic, JSON: one record or an array; strings as is, other values JSON-encoded, null a tombstone', async () => {
    const one = await postJson(base, '/sync/sync-json', {
      key: 'k1',
      value: 'plain',
      headers: { source: 'web', empty: null },
      partition: 1,
    });
    expect(one.status).toBe(200);
    const reports = (one.body as { reports: Report[] }).reports;
    expect(reports).toEqual([
      expect.objectContaining({ topic: 'sync-json', partition: 1, acknowledged: true }),
    ]);

    const many = await postJson(base, '/sync/sync-json', [
      { value: { total: 12, items: ['a'] }, partition: 2 },
      { key: 'k2', value: 42, partition: 2 },
      {
        key: 'gone',
        value: null,
        partition: 2,
        headers: [
          ['h', 'x'],
          ['h', 'y'],
        ],
      },
    ]);
    expect(many.status).toBe(200);
    const manyReports = (many.body as { reports: Report[] }).reports;
    expect(manyReports.map((r) => r.offset)).toEqual([0, 1, 2]);

    const read = await readTopic(stack.cluster.bootstrap, 'sync-json');
    expect(read.map((r) => [r.partition, text(r.key), text(r.value)])).toEqual([
      [1, 'k1', 'plain'],
      [2, null, '{"total":12,"items":["a"]}'],
      [2, 'k2', '42'],
      [2, 'gone', null],
    ]);
    expect(headersOf(read[0] as ConsumedRecord)).toEqual([
      ['source', 'web'],
      ['empty', null],
    ]);
    expect(headersOf(read[3] as ConsumedRecord)).toEqual([
      ['h', 'x'],
      ['h', 'y'],
    ]);
  });

  it('POST /sync/:topic, NDJSON: one record per line, blank lines and CRLF tolerated', async () => {
    const body =
      '{"key":"a","value":"1","partition":0}\r\n\n   \n{"value":{"n":2},"partition":0}\n{"value":"3","partition":0}\n';
    const answer = await call(base, '/sync/sync-ndjson', { body, type: 'application/x-ndjson' });
    expect(answer.status).toBe(200);
    expect((answer.body as { reports: Report[] }).reports).toHaveLength(3);
    const read = await readTopic(stack.cluster.bootstrap, 'sync-ndjson');
    expect(read.map((r) => [text(r.key), text(r.value)])).toEqual([
      ['a', '1'],
      [null, '{"n":2}'],
      [null, '3'],
    ]);
  });

  it('text/plain: the body is the value; key, headers and partition from the query and X-Kafka-* headers', async () => {
    const answer = await call(base, '/sync/raw-text?key=q-key&partition=2&header.Origin=query&header.n=1', {
      body: 'hello, kafka',
      type: 'text/plain; charset=utf-8',
      headers: { 'X-Kafka-Header-Trace-Id': 'abc', 'X-Kafka-Key': 'ignored: the query key wins' },
    });
    expect(answer.status).toBe(200);
    expect((answer.body as { reports: Report[] }).reports[0]).toMatchObject({ partition: 2, offset: 0 });
    const [record] = await readTopic(stack.cluster.bootstrap, 'raw-text');
    expect(record).toBeDefined();
    expect(text(record?.key ?? null)).toBe('q-key');
    expect(text(record?.value ?? null)).toBe('hello, kafka');
    expect(headersOf(record as ConsumedRecord)).toEqual([
      ['trace-id', 'abc'],
      ['Origin', 'query'],
      ['n', '1'],
    ]);
  });

  it('application/octet-stream: binary-safe value, key from X-Kafka-Key', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const answer = await call(base, '/sync/raw-bytes?partition=0', {
      body: bytes,
      type: 'application/octet-stream',
      headers: { 'X-Kafka-Key': 'bin' },
    });
    expect(answer.status).toBe(200);
    const [record] = await readTopic(stack.cluster.bootstrap, 'raw-bytes');
    expect(text(record?.key ?? null)).toBe('bin');
    expect(record?.value?.equals(bytes)).toBe(true);
  });

  it('POST /async/:topic answers 202 once accepted; the records reach Kafka', async () => {
    const answer = await postJson(base, '/async/async', [{ value: 'a1' }, { value: 'a2' }]);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ accepted: 2 });
    const ndjson = await call(base, '/async/async', {
      body: '{"value":"a3"}\n',
      type: 'application/x-ndjson',
    });
    expect(ndjson.status).toBe(202);
    await stack.producer.flush();
    const read = await readTopic(stack.cluster.bootstrap, 'async');
    expect(read.map((r) => text(r.value)).sort()).toEqual(['a1', 'a2', 'a3']);
  });

  it('POST /batch/sync/:topic and /batch/async/:topic go through the batch window', async () => {
    stack.producer.setTopicConfig('batch-sync', { lingerMs: 50 });
    const sync = await Promise.all(
      ['b1', 'b2', 'b3'].map((value) => postJson(base, '/batch/sync/batch-sync', { value, partition: 0 })),
    );
    expect(sync.map((a) => a.status)).toEqual([200, 200, 200]);
    const asyncAnswer = await postJson(base, '/batch/async/batch-async', [{ value: 'c1' }, { value: 'c2' }]);
    expect(asyncAnswer.status).toBe(202);
    await stack.producer.flush();
    expect((await readTopic(stack.cluster.bootstrap, 'batch-sync')).map((r) => text(r.value)).sort()).toEqual(
      ['b1', 'b2', 'b3'],
    );
    expect(
      (await readTopic(stack.cluster.bootstrap, 'batch-async')).map((r) => text(r.value)).sort(),
    ).toEqual(['c1', 'c2']);
  });
});
