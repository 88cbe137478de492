// POST /tx/batch against librdkafka's mock cluster, which runs transactions v1 (FindCoordinator,
// InitProducerId, AddPartitionsToTxn, EndTxn) but does not hide aborted records from
// read_committed readers: what a commit makes visible is proven on Apache Kafka
// (test/kafka/gateway-transactions.test.ts). Here: the route's contract, its errors, the queue,
// the metrics and the recovery of a fenced or broken transactional producer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/config.js';
import { startGateway } from '../../src/gateway/server.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { ApiKey } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { startCluster } from '../broker/cluster.js';
import { readTopic } from '../broker/kcat.js';
import { call, errorOf, postJson, startStack, waitFor, type Answer, type Stack } from './helpers.js';

interface Report {
  topic: string;
  partition: number;
  offset: number;
  acknowledged: boolean;
}

const reportsOf = (answer: Answer): Report[] => (answer.body as { reports: Report[] }).reports;

function expectError(answer: Answer, status: number, code: string): string {
  expect(answer.status, answer.text).toBe(status);
  const error = errorOf(answer);
  expect(error.code).toBe(code);
  return error.message;
}

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string): void => {
    lines.push(message);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

/** The value of one sample of /metrics, 0 when absent. */
async function metric(base: string, sample: string): Promise<number> {
  const text = (await call(base, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

const outcome = (name: string): string => `kafboy_transactions_total{outcome="${name}"}`;

/** The state of a transactional producer's transaction actor. */
function txState(stack: Stack, index = -1): string | undefined {
  return stack.txProducers
    .at(index)
    ?.inspect()
    .find((a) => a.kind === 'transaction')?.state;
}

describe('POST /tx/batch without a transactional id', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ topics: [{ name: 'plain', partitions: 1 }] });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('answers 501 ERR_TRANSACTIONS_DISABLED naming the option; the other routes work', async () => {
    const answer = await postJson(stack.gateway.url, '/tx/batch', [{ topic: 'plain', value: 'x' }]);
    const message = expectError(answer, 501, 'ERR_TRANSACTIONS_DISABLED');
    expect(message).toContain('--transactional-id');
    expect(message).toContain('transactions');
    expect((await postJson(stack.gateway.url, '/sync/plain', { value: 'x' })).status).toBe(200);
    const metrics = (await call(stack.gateway.url, '/metrics')).text;
    expect(metrics).not.toContain('kafboy_transactions_total{');
  });
});

describe('POST /tx/batch (librdkafka 2.12 mock cluster, transactions v1)', () => {
  let stack: Stack;
  let base: string;
  const logger = recordingLogger();

  beforeAll(async () => {
    stack = await startStack({
      topics: [
        { name: 'tx-orders', partitions: 3 },
        { name: 'tx-audit', partitions: 1 },
        { name: 'tx-errors', partitions: 1 },
        { name: 'tx-queue', partitions: 1 },
        { name: 'tx-fresh', partitions: 2 },
      ],
      gateway: { logger, allowTopics: ['tx-orders', 'tx-audit', 'tx-errors', 'tx-queue', 'tx-fresh'] },
      transactions: {
        transactionalId: 'kafboy-test-0',
        maxQueued: 1,
        producer: { retryBackoffMs: 20, retryBackoffMaxMs: 100, transactionCoordinatorTimeoutMs: 10_000 },
      },
    });
    base = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('initializes the transactional producer at start (the id is taken before the first request)', async () => {
    expect(stack.txProducers).toHaveLength(1);
    await waitFor(() => txState(stack) === 'ready');
    expect(logger.lines.some((l) => l.includes('transactional id "kafboy-test-0"'))).toBe(true);
    expect(await metric(base, outcome('committed'))).toBe(0);
  });

  it('commits records to several topics together: 200 with the reports in request order', async () => {
    const before = await metric(base, outcome('committed'));
    const answer = await postJson(base, '/tx/batch', [
      { topic: 'tx-orders', key: 'o1', value: { id: 1 }, partition: 0 },
      { topic: 'tx-audit', value: 'order 1 placed', headers: { who: 'web' } },
      { topic: 'tx-orders', key: 'o2', value: 'second', partition: 2 },
      { topic: 'tx-audit', key: null, value: null },
    ]);
    expect(answer.status, answer.text).toBe(200);
    const reports = reportsOf(answer);
    expect(reports.map((r) => [r.topic, r.partition])).toEqual([
      ['tx-orders', 0],
      ['tx-audit', 0],
      ['tx-orders', 2],
      ['tx-audit', 0],
    ]);
    expect(reports.every((r) => r.acknowledged)).toBe(true);
    expect(reports[3]?.offset).toBe((reports[1]?.offset ?? -1) + 1);
    expect(await metric(base, outcome('committed'))).toBe(before + 1);

    const orders = await readTopic(stack.cluster.bootstrap, 'tx-orders');
    expect(orders.map((r) => [r.partition, r.key?.toString(), r.value?.toString()])).toEqual([
      [0, 'o1', '{"id":1}'],
      [2, 'o2', 'second'],
    ]);
    const audit = await readTopic(stack.cluster.bootstrap, 'tx-audit');
    expect(audit.map((r) => r.value?.toString() ?? null)).toEqual(['order 1 placed', null]);
    expect(audit[0]?.headers.map(([n, v]) => [n, v?.toString()])).toEqual([['who', 'web']]);
    // Records of one topic sit at the offsets the reports name.
    expect(audit.map((r) => r.offset)).toEqual([reports[1]?.offset, reports[3]?.offset]);
  });

  it('takes NDJSON and a single JSON record too', async () => {
    const ndjson = await call(base, '/tx/batch', {
      type: 'application/x-ndjson',
      body: '{"topic":"tx-audit","value":"n1"}\n\n{"topic":"tx-orders","value":"n2","partition":1}\r\n',
    });
    expect(ndjson.status, ndjson.text).toBe(200);
    expect(reportsOf(ndjson).map((r) => [r.topic, r.partition])).toEqual([
      ['tx-audit', 0],
      ['tx-orders', 1],
    ]);
    const one = await postJson(base, '/tx/batch', { topic: 'tx-audit', value: 'single' });
    expect(one.status, one.text).toBe(200);
    expect(reportsOf(one)).toHaveLength(1);
  });

  it('refuses bad requests with 4xx before anything is sent', async () => {
    const before = await Promise.all(['committed', 'aborted', 'failed'].map((o) => metric(base, outcome(o))));
    const audit = (await readTopic(stack.cluster.bootstrap, 'tx-audit')).length;
    const cases: [Promise<Answer>, number, string, string][] = [
      [
        call(base, '/tx/batch', { type: 'application/json', body: '[{"topic":' }),
        400,
        'ERR_BAD_REQUEST',
        'invalid JSON',
      ],
      [
        postJson(base, '/tx/batch', [{ topic: 'tx-audit', value: 'a' }, { value: 'b' }]),
        400,
        'ERR_BAD_REQUEST',
        'records[1]: topic is required',
      ],
      [
        postJson(base, '/tx/batch', [{ topic: 7, value: 'a' }]),
        400,
        'ERR_BAD_REQUEST',
        'records[0]: topic is required',
      ],
      [
        postJson(base, '/tx/batch', [{ topic: 'tx-audit' }]),
        400,
        'ERR_BAD_REQUEST',
        'records[0]: value is required',
      ],
      [
        postJson(base, '/tx/batch', [{ topic: 'tx-audit', value: 'a', colour: 'red' }]),
        400,
        'ERR_BAD_REQUEST',
        'unknown field "colour"',
      ],
      [postJson(base, '/tx/batch', []), 400, 'ERR_BAD_REQUEST', 'no records'],
      [
        postJson(base, '/tx/batch', ['just a string']),
        400,
        'ERR_BAD_REQUEST',
        'must be an object { topic, key',
      ],
      [
        call(base, '/tx/batch', {
          type: 'application/x-ndjson',
          body: '{"topic":"tx-audit","value":"a"}\n{"value":"b"}\n',
        }),
        400,
        'ERR_BAD_REQUEST',
        'line 2: topic is required',
      ],
      [
        postJson(base, '/tx/batch', [{ topic: 'bad topic', value: 'a' }]),
        400,
        'ERR_INVALID_TOPIC',
        'invalid topic name',
      ],
      [
        postJson(base, '/tx/batch', [
          { topic: 'tx-audit', value: 'a' },
          { topic: 'elsewhere', value: 'b' },
        ]),
        403,
        'ERR_TOPIC_FORBIDDEN',
        'elsewhere',
      ],
      [
        call(base, '/tx/batch', { type: 'text/plain', body: 'raw' }),
        415,
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        'each with its topic',
      ],
      [call(base, '/tx/batch', { method: 'GET' }), 405, 'ERR_METHOD_NOT_ALLOWED', 'GET'],
    ];
    for (const [answer, status, code, text] of cases) {
      expect(expectError(await answer, status, code)).toContain(text);
    }
    const after = await Promise.all(['committed', 'aborted', 'failed'].map((o) => metric(base, outcome(o))));
    expect(after).toEqual(before);
    expect(await readTopic(stack.cluster.bootstrap, 'tx-audit')).toHaveLength(audit);
  });

  // tx-audit's partitions are known to the producer by now: the call is refused on the spot.
  // tx-fresh is new to it: the record is taken, and fails once the topic's metadata arrives.
  it.each([
    ['refuses on the spot', 'tx-audit', 5],
    ['learns of only after it took the record', 'tx-fresh', 7],
  ])(
    'a bad partition the producer %s aborts the transaction: 400 ERR_INVALID_RECORD, topic named',
    async (_when, topic, partition) => {
      const aborted = await metric(base, outcome('aborted'));
      const answer = await postJson(base, '/tx/batch', [
        { topic: 'tx-orders', value: 'fine' },
        { topic, value: 'no such partition', partition },
      ]);
      const message = expectError(answer, 400, 'ERR_INVALID_RECORD');
      expect(message).toContain(`topic "${topic}"`);
      expect(message).toContain('the transaction was aborted');
      expect(await metric(base, outcome('aborted'))).toBe(aborted + 1);
      expect(txState(stack)).toBe('ready');
      // The producer goes on.
      expect((await postJson(base, '/tx/batch', { topic, value: 'after' })).status).toBe(200);
    },
  );

  it('a record Kafka refuses makes the transaction abortable: 502 ERR_TRANSACTION_ABORTABLE, aborted, the producer goes on', async () => {
    const aborted = await metric(base, outcome('aborted'));
    await stack.cluster.pushRequestErrors(ApiKey.Produce, [ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    const answer = await postJson(base, '/tx/batch', [{ topic: 'tx-errors', value: 'refused' }]);
    const message = expectError(answer, 502, 'ERR_TRANSACTION_ABORTABLE');
    expect(message).toContain('TOPIC_AUTHORIZATION_FAILED');
    expect(await metric(base, outcome('aborted'))).toBe(aborted + 1);
    expect(stack.txProducers).toHaveLength(1);
    expect((await postJson(base, '/tx/batch', { topic: 'tx-errors', value: 'next' })).status).toBe(200);
  });

  it('a partition that cannot join the transaction (its records held back) ends the request too: 502, not a hang', async () => {
    const aborted = await metric(base, outcome('aborted'));
    await stack.cluster.pushRequestErrors(ApiKey.AddPartitionsToTxn, [ErrorCode.TOPIC_AUTHORIZATION_FAILED]);
    const answer = await postJson(base, '/tx/batch', [
      { topic: 'tx-errors', value: 'held 1' },
      { topic: 'tx-orders', value: 'held 2' },
    ]);
    expect(expectError(answer, 502, 'ERR_TRANSACTION_ABORTABLE')).toContain('AddPartitionsToTxn');
    expect(await metric(base, outcome('aborted'))).toBe(aborted + 1);
    expect((await postJson(base, '/tx/batch', { topic: 'tx-errors', value: 'next' })).status).toBe(200);
  });

  it('fenced: 500 ERR_PRODUCER_FENCED, logged; the gateway replaces the producer and the next request commits', async () => {
    const failed = await metric(base, outcome('failed'));
    const made = stack.txProducers.length;
    await stack.cluster.pushRequestErrors(ApiKey.EndTxn, [ErrorCode.PRODUCER_FENCED]);
    const answer = await postJson(base, '/tx/batch', [{ topic: 'tx-errors', value: 'fenced' }]);
    expectError(answer, 500, 'ERR_PRODUCER_FENCED');
    expect(await metric(base, outcome('failed'))).toBe(failed + 1);
    expect(stack.txProducers).toHaveLength(made + 1);
    expect(txState(stack, -2)).toBe('stopped'); // the fenced one, closed
    expect(logger.lines.some((l) => /cannot go on \(ERR_PRODUCER_FENCED/.test(l))).toBe(true);
    const next = await postJson(base, '/tx/batch', { topic: 'tx-errors', value: 'after the fence' });
    expect(next.status, next.text).toBe(200);
    expect(txState(stack)).toBe('ready');
  });

  it('a fatal error (ERR_TRANSACTION_FATAL) is recovered from the same way', async () => {
    const made = stack.txProducers.length;
    await stack.cluster.pushRequestErrors(ApiKey.EndTxn, [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]);
    const answer = await postJson(base, '/tx/batch', [{ topic: 'tx-errors', value: 'fatal' }]);
    expectError(answer, 500, 'ERR_TRANSACTION_FATAL');
    expect(stack.txProducers).toHaveLength(made + 1);
    const next = await postJson(base, '/tx/batch', { topic: 'tx-errors', value: 'after fatal' });
    expect(next.status, next.text).toBe(200);
  });

  it('one transaction at a time; a full queue answers 503 ERR_TRANSACTIONS_BUSY with Retry-After', async () => {
    // Slow brokers: each transaction takes a few round trips of 300 ms.
    await stack.cluster.setRtt(-1, 300);
    try {
      const committed = await metric(base, outcome('committed'));
      const answers = await Promise.all(
        [0, 1, 2].map(async (i) => {
          // In this order: the first runs, the second waits (maxQueued 1), the third is refused.
          await new Promise((resolve) => setTimeout(resolve, i * 100));
          return postJson(base, '/tx/batch', { topic: 'tx-queue', value: `q${i}` });
        }),
      );
      expect(answers.map((a) => a.status)).toEqual([200, 200, 503]);
      const busy = answers[2] as Answer;
      expect(expectError(busy, 503, 'ERR_TRANSACTIONS_BUSY')).toContain('maxQueued');
      expect(busy.headers.get('retry-after')).toBe('1');
      expect(await metric(base, outcome('committed'))).toBe(committed + 2);
      expect(await metric(base, 'kafboy_transactions_queued')).toBe(0);
    } finally {
      await stack.cluster.setRtt(-1, 0);
    }
    const values = (await readTopic(stack.cluster.bootstrap, 'tx-queue')).map((r) => r.value?.toString());
    expect(values).toEqual(['q0', 'q1']);
  });

  it('counts in /metrics: transactions by outcome, and the records and latency of route tx/batch', async () => {
    const text = (await call(base, '/metrics')).text;
    expect(text).toMatch(/^kafboy_transactions_total\{outcome="committed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^kafboy_transactions_total\{outcome="aborted"\} [1-9]\d*$/m);
    expect(text).toMatch(/^kafboy_transactions_total\{outcome="failed"\} [1-9]\d*$/m);
    expect(text).toMatch(
      /^kafboy_produce_request_records_count\{topic="tx-orders",route="tx\/batch"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^kafboy_produce_latency_seconds_count\{topic="tx-audit",route="tx\/batch"\} [1-9]/m,
    );
    expect(text).toMatch(/^kafboy_http_requests_total\{route="tx\/batch",status="200"\} [1-9]/m);
  });
});

describe('POST /tx/batch: waiting, and closing', () => {
  it('a request that waits longer than requestTimeoutMs for its turn gets 503, nothing sent; close() closes the transactional producer', async () => {
    const stack = await startStack({
      topics: [{ name: 'tx-slow', partitions: 1 }],
      gateway: { requestTimeoutMs: 400 },
      transactions: { transactionalId: 'kafboy-slow-0' },
    });
    try {
      await waitFor(() => txState(stack) === 'ready');
      await stack.cluster.setRtt(-1, 300);
      const first = postJson(stack.gateway.url, '/tx/batch', { topic: 'tx-slow', value: 'first' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const second = await postJson(stack.gateway.url, '/tx/batch', { topic: 'tx-slow', value: 'second' });
      expect(expectError(second, 503, 'ERR_TRANSACTIONS_BUSY')).toContain('requestTimeoutMs');
      expect((await first).status).toBe(200);
      await stack.cluster.setRtt(-1, 0);
      expect((await readTopic(stack.cluster.bootstrap, 'tx-slow')).map((r) => r.value?.toString())).toEqual([
        'first',
      ]);
    } finally {
      await stack.stop();
    }
    const [txProducer] = stack.txProducers;
    await expect(txProducer?.beginTransaction()).rejects.toMatchObject({ code: 'ERR_PRODUCER_CLOSED' });
  });

  it('a producer the broker refuses to initialize (not authorised) is kept, uninitialized, not replaced in a loop; the next request initializes again', async () => {
    const cluster = await startCluster({
      peer: '2.12',
      brokers: 1,
      topics: [{ name: 'tx-init', partitions: 1 }],
    });
    const made: Producer[] = [];
    const main = createProducer({ brokers: cluster.bootstrap });
    const logger = recordingLogger();
    try {
      await cluster.pushRequestErrors(ApiKey.InitProducerId, [
        ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      ]);
      const gateway = await startGateway({
        port: 0,
        producer: main,
        logger,
        transactions: {
          transactionalId: 'kafboy-init-0',
          createProducer: (transactionalId) => {
            const p = createProducer({ brokers: cluster.bootstrap, transactionalId });
            made.push(p);
            return p;
          },
        },
      });
      try {
        // The refusal leaves the producer uninitialized (as Java's initTransactions()): it is kept.
        await waitFor(() =>
          logger.lines.some((l) => l.includes('cannot initialize the transactional producer')),
        );
        expect(made).toHaveLength(1);
        expect(made[0]?.inspect().find((a) => a.kind === 'transaction')?.state).toBe('uninitialized');
        const answer = await postJson(gateway.url, '/tx/batch', { topic: 'tx-init', value: 'x' });
        expect(answer.status, answer.text).toBe(200);
      } finally {
        await gateway.close();
      }
    } finally {
      await main.close({ timeoutMs: 1000 });
      await cluster.stop();
    }
  });
});
