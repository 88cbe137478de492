// kafboy's POST /tx/batch on Apache Kafka 4.4.0 (3 nodes, transaction state log RF 3, transactions
// v2): a request's records, to several topics, are visible to read_committed readers together or
// not at all. Read back with kcat in read_committed, and in read_uncommitted to show that the
// records of a failed request were written (so that the test can fail).
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway/server.js';
import { createProducer, type Producer, type ProducerOptions } from '../../src/index.js';
import { errorOf, postJson, waitFor, type Answer } from '../gateway/helpers.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { readWithKcat, type IsolationLevel } from './read-back.js';

/** Batches over this many bytes are refused with MESSAGE_TOO_LARGE; one record cannot be split. */
const SMALL_MAX_MESSAGE_BYTES = 1024;

interface Report {
  topic: string;
  partition: number;
  offset: number;
}

describe('Kafka 4.4.0, 3 nodes: POST /tx/batch commits a request across topics, or nothing of it', () => {
  let cluster: KafkaCluster;
  const producers: Producer[] = [];
  const gateways: Gateway[] = [];
  const warnings: string[] = [];

  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => warnings.push(message),
    error: (message) => warnings.push(message),
  };

  const producer = (options: Partial<ProducerOptions> = {}): Producer => {
    const made = createProducer({
      brokers: cluster.bootstrap,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 500,
      ...options,
    });
    producers.push(made);
    return made;
  };

  /** A gateway in this process, its transactional producer made as `ekaf serve` makes it. */
  const gateway = async (transactionalId: string): Promise<{ url: string; made: Producer[] }> => {
    const made: Producer[] = [];
    const started = await startGateway({
      port: 0,
      producer: producer(),
      logger,
      transactions: {
        transactionalId,
        createProducer: (id) => {
          const p = producer({ transactionalId: id });
          made.push(p);
          return p;
        },
      },
    });
    gateways.push(started);
    return { url: started.url, made };
  };

  const values = async (topic: string, isolation: IsolationLevel): Promise<string[]> =>
    (await readWithKcat(cluster.bootstrap, topic, { isolationLevel: isolation, timeoutMs: 60_000 }))
      .map((r) => r.value?.toString() ?? '')
      .sort();

  const withPrefix = (list: string[], prefix: string): string[] => list.filter((v) => v.startsWith(prefix));

  const expectError = (answer: Answer, status: number, code: string): string => {
    expect(answer.status, answer.text).toBe(status);
    expect(errorOf(answer).code).toBe(code);
    return errorOf(answer).message;
  };

  beforeAll(async () => {
    const topic = (name: string, configs: Record<string, string> = {}) => ({
      name,
      partitions: 3,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2', ...configs },
    });
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 3,
      topics: [
        topic('gw-orders'),
        topic('gw-audit'),
        topic('gw-small', { 'max.message.bytes': String(SMALL_MAX_MESSAGE_BYTES) }),
        topic('gw-fence'),
        topic('gw-restart'),
      ],
    });
  }, 180_000);
  afterAll(async () => {
    for (const g of gateways) await g.close().catch(() => undefined);
    for (const p of producers) await p.close({ timeoutMs: 5_000 }).catch(() => undefined);
    await cluster.kill();
  }, 60_000);

  it('commits the records of one request, to 2 topics: each visible exactly once, at the offsets reported', async () => {
    const { url } = await gateway('gw-commit-0');
    const records = Array.from({ length: 40 }, (_, i) => ({
      topic: i % 2 === 0 ? 'gw-orders' : 'gw-audit',
      key: `k${i % 7}`,
      value: `ok-${i}`,
    }));
    const answer = await postJson(url, '/tx/batch', records);
    expect(answer.status, answer.text).toBe(200);
    const reports = (answer.body as { reports: Report[] }).reports;
    expect(reports.map((r) => r.topic)).toEqual(records.map((r) => r.topic));

    const expected = (topic: string): string[] =>
      records
        .filter((r) => r.topic === topic)
        .map((r) => r.value)
        .sort();
    expect(withPrefix(await values('gw-orders', 'read_committed'), 'ok-')).toEqual(expected('gw-orders'));
    expect(withPrefix(await values('gw-audit', 'read_committed'), 'ok-')).toEqual(expected('gw-audit'));
    // Each report names where its record is.
    const audit = await readWithKcat(cluster.bootstrap, 'gw-audit', { isolationLevel: 'read_committed' });
    for (const [i, report] of reports.entries()) {
      if (report.topic !== 'gw-audit') continue;
      const stored = audit.find((r) => r.partition === report.partition && r.offset === report.offset);
      expect(stored?.value?.toString()).toBe(records[i]?.value);
    }
  });

  it('a record over max.message.bytes fails the transaction: ERR_TRANSACTION_ABORTABLE, and nothing of the request is visible on any topic', async () => {
    const { url, made } = await gateway('gw-abort-0');
    const big = 'x'.repeat(SMALL_MAX_MESSAGE_BYTES * 4);
    const records = [
      ...Array.from({ length: 30 }, (_, i) => ({
        topic: i % 2 === 0 ? 'gw-orders' : 'gw-audit',
        value: `bad-${i}`,
      })),
      { topic: 'gw-small', value: `bad-big-${big}` },
    ];
    const answer = await postJson(url, '/tx/batch', records);
    const message = expectError(answer, 502, 'ERR_TRANSACTION_ABORTABLE');
    expect(message).toMatch(/MESSAGE_TOO_LARGE|too large/i);

    for (const topic of ['gw-orders', 'gw-audit', 'gw-small']) {
      expect(withPrefix(await values(topic, 'read_committed'), 'bad-'), topic).toEqual([]);
    }
    // They were written: a read_uncommitted reader sees (some of) them.
    const written = [
      ...withPrefix(await values('gw-orders', 'read_uncommitted'), 'bad-'),
      ...withPrefix(await values('gw-audit', 'read_uncommitted'), 'bad-'),
    ];
    expect(written.length).toBeGreaterThan(0);

    // The producer goes on: the next request commits.
    const next = await postJson(url, '/tx/batch', [
      { topic: 'gw-small', value: 'after-abort-small' },
      { topic: 'gw-orders', value: 'after-abort-orders' },
    ]);
    expect(next.status, next.text).toBe(200);
    expect(withPrefix(await values('gw-small', 'read_committed'), 'after-abort')).toEqual([
      'after-abort-small',
    ]);
    expect(withPrefix(await values('gw-orders', 'read_committed'), 'after-abort')).toEqual([
      'after-abort-orders',
    ]);
    expect(made).toHaveLength(1);
  });

  it('a record for a partition its topic does not have aborts the request: 400, nothing visible', async () => {
    const { url } = await gateway('gw-refuse-0');
    const answer = await postJson(url, '/tx/batch', [
      ...Array.from({ length: 10 }, (_, i) => ({ topic: 'gw-orders', value: `refused-${i}` })),
      { topic: 'gw-audit', value: 'refused-partition', partition: 99 },
    ]);
    expect(expectError(answer, 400, 'ERR_INVALID_RECORD')).toContain('topic "gw-audit"');
    expect(withPrefix(await values('gw-orders', 'read_committed'), 'refused-')).toEqual([]);
    expect(withPrefix(await values('gw-audit', 'read_committed'), 'refused-')).toEqual([]);
  });

  it('fenced by a newer producer with its id: the typed error, nothing of that request visible; the gateway starts a new producer and recovers', async () => {
    const id = 'gw-fence-0';
    const { url, made } = await gateway(id);
    const first = await postJson(url, '/tx/batch', { topic: 'gw-fence', value: 'before' });
    expect(first.status, first.text).toBe(200);
    // Another instance takes the id (what a second process with the same id would do).
    const usurper = producer({ transactionalId: id });
    await usurper.transaction(async (tx) => {
      await tx.produce('gw-fence', { value: 'usurper' });
    });
    const fenced = await postJson(url, '/tx/batch', [
      { topic: 'gw-fence', value: 'fenced-1' },
      { topic: 'gw-orders', value: 'fenced-2' },
    ]);
    expect(fenced.status, fenced.text).not.toBe(200);
    // Fenced at once, or abortable first (the broker refused the old epoch) and fenced by the abort.
    expect(['ERR_PRODUCER_FENCED', 'ERR_TRANSACTION_ABORTABLE']).toContain(errorOf(fenced).code);
    await waitFor(() => made.length === 2);
    expect(warnings.some((w) => w.includes(`"${id}" cannot go on`))).toBe(true);

    const again = await postJson(url, '/tx/batch', { topic: 'gw-fence', value: 'recovered' });
    expect(again.status, again.text).toBe(200);
    expect(await values('gw-fence', 'read_committed')).toEqual(['before', 'recovered', 'usurper']);
    expect(withPrefix(await values('gw-orders', 'read_committed'), 'fenced-')).toEqual([]);
  });

  it('a gateway started with the id of a dead incarnation aborts what it left open, before any request', async () => {
    const id = 'gw-restart-0';
    const dead = producer({ transactionalId: id });
    const tx = await dead.beginTransaction();
    await tx.produce('gw-restart', [{ value: 'left-open-1' }, { value: 'left-open-2' }]);
    // The old incarnation stops answering; its transaction stays open at the coordinator.
    const { url, made } = await gateway(id);
    await waitFor(() => made[0]?.inspect().find((a) => a.kind === 'transaction')?.state === 'ready', 30_000);
    // Before any request, the id is taken: the old incarnation is fenced.
    await expect(tx.commit()).rejects.toMatchObject({
      code: expect.stringMatching(/^(ERR_PRODUCER_FENCED|ERR_TRANSACTION_ABORTABLE)$/) as unknown,
    });
    expect(await values('gw-restart', 'read_uncommitted')).toEqual(['left-open-1', 'left-open-2']);
    // Aborted, not pending: a record committed after them is visible to read_committed readers,
    // which stop at the first open transaction.
    const answer = await postJson(url, '/tx/batch', { topic: 'gw-restart', value: 'after-restart' });
    expect(answer.status, answer.text).toBe(200);
    expect(await values('gw-restart', 'read_committed')).toEqual(['after-restart']);
  });
});
