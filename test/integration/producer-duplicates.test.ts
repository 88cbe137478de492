import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/api.js';
import { useMockCluster, useProducers } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { startSequenceProxies, type SequenceProxies } from '../broker/sequence-proxy.js';

/**
 * The duplicates scenario: the broker appends a batch but its answer comes after the request
 * timeout, so the client retries. Without idempotence the retry is appended again (which proves
 * the scenario really retries). With idempotence a broker recognises the resent batch by its
 * producer id, epoch and sequence number and does not append it. librdkafka's mock skips that
 * check for a producer without a transactional id, so the broker here is the mock behind
 * test/broker/sequence-proxy.ts, which adds exactly that check and nothing else.
 */
describe('a Produce answered after the request timeout (librdkafka 2.12 mock)', () => {
  const cluster = useMockCluster({
    per: 'test',
    peer: '2.12',
    brokers: 1,
    topics: [{ name: 'd', partitions: 1 }],
  });
  let proxy: SequenceProxies;
  let bootstrap: string;

  beforeEach(async () => {
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    proxy = await startSequenceProxies([broker]);
    // Metadata now names the proxy as broker 1: every connection goes through it.
    await cluster().command(`set_host_port 1 127.0.0.1 ${String(proxy.ports.get(1))}`);
    bootstrap = proxy.bootstrap;
  });
  afterEach(async () => {
    await proxy.close();
  });
  const make = useProducers(cluster);

  const delayNextProduce = (): Promise<void> =>
    // The next Produce succeeds (error 0) but its answer waits 1.5 s: past the 1 s timeout.
    cluster().pushBrokerRequestErrors(1, ApiKey.Produce, [{ code: 0, rttMs: 1500 }]);
  const options = { requestTimeoutMs: 1000, retryBackoffMs: 20, retryBackoffMaxMs: 100 };

  it('with idempotence (the default): retried, and written exactly once', async () => {
    const producer = make({ brokers: bootstrap, ...options });
    await producer.produceSync('d', 'warm-up');
    await delayNextProduce();
    const report = await producer.produceSync('d', 'once');
    expect(report.acknowledged).toBe(true);
    expect(proxy.duplicates).toBe(1); // the retry reached the broker and was recognised
    const values = (await readTopic(bootstrap, 'd')).map((r) => r.value?.toString());
    expect(values).toEqual(['warm-up', 'once']);
  });

  it('is retried, and without idempotence written twice', async () => {
    const producer = make({ brokers: bootstrap, idempotent: false, ...options });
    await producer.produceSync('d', 'warm-up');
    await delayNextProduce();
    const report = await producer.produceSync('d', 'once?');
    expect(report.acknowledged).toBe(true);
    expect(proxy.duplicates).toBe(0); // no producer id: nothing to recognise
    const values = (await readTopic(bootstrap, 'd')).map((r) => r.value?.toString());
    expect(values).toEqual(['warm-up', 'once?', 'once?']);
  });
});
