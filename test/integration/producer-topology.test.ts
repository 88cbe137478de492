import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MockCluster } from '../broker/cluster.js';
import { useMockClusters, useProducers } from '../support/cluster-fixture.js';
import { actorNamed } from '../../src/runtime/introspection.js';

/**
 * The cluster's shape changing under a running producer, against librdkafka 2.12's mock: a
 * partition's leader moving while Metadata cannot say so (KIP-951's current-leader hint must),
 * and a broker advertising a new address.
 */
describe('the cluster changes shape (librdkafka 2.12 mock)', () => {
  // Each test needs a cluster of its own shape.
  const startCluster = useMockClusters();
  let cluster: MockCluster;
  let proxy: net.Server | null = null;
  afterEach(async () => {
    const relay = proxy;
    if (relay !== null) await new Promise((resolve) => relay.close(resolve));
    proxy = null;
  });
  const make = useProducers(() => cluster, {}, { closeTimeoutMs: 2000 });

  it('NOT_LEADER_OR_FOLLOWER with a current-leader hint moves the partition at once (KIP-951)', async () => {
    cluster = await startCluster({ peer: '2.12', brokers: 3, topics: [{ name: 'hint', partitions: 1 }] });
    await cluster.setLeader('hint', 0, 1);
    const producer = make({
      idempotent: false,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 200,
      deliveryTimeoutMs: 4000,
    });
    await producer.produceSync('hint', 'before');
    // From now on every Metadata answer has an error for the topic (and so no partitions): only
    // the Produce answer's hint can say where the leader went.
    await cluster.setTopicError('hint', 5); // LEADER_NOT_AVAILABLE
    await cluster.setLeader('hint', 0, 2);
    const report = await producer.produceSync('hint', 'after');
    expect(report.partition).toBe(0);
    const worker = actorNamed(producer.inspect(), 'partition:hint:0');
    expect(worker?.details.leaderId).toBe(2);
  });

  it('a broker advertising a new host:port is redialled there', async () => {
    cluster = await startCluster({ peer: '2.12', brokers: 2, topics: [{ name: 'moved', partitions: 1 }] });
    await cluster.setLeader('moved', 0, 2);
    const target = cluster.brokers[1];
    if (target === undefined) throw new Error('no broker 2');
    // A plain TCP relay to broker 2: its new advertised address.
    let dialled!: () => void;
    const dialledThroughProxy = new Promise<void>((resolve) => (dialled = resolve));
    const relay = net.createServer((client) => {
      dialled();
      const upstream = net.connect(target.port, target.host);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    proxy = relay;
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;

    const producer = make({ metadataMaxAgeMs: 200, retryBackoffMs: 50 });
    await producer.produceSync('moved', 'before');
    await cluster.command(`set_host_port 2 127.0.0.1 ${String(port)}`);
    await dialledThroughProxy; // the next metadata refresh (≤ 200 ms) sees the new address
    await producer.produceSync('moved', 'after');
    const broker = actorNamed(producer.inspect(), 'broker:2');
    expect(broker?.details.address).toBe(`127.0.0.1:${String(port)}`);
  }, 10_000);

  it('an authorization error reported for an active topic fails its buffered records at once', async () => {
    cluster = await startCluster({ peer: '2.12', brokers: 2, topics: [{ name: 'acl', partitions: 1 }] });
    await cluster.setLeader('acl', 0, 2);
    const producer = make({
      metadataMaxAgeMs: 300,
      retryBackoffMs: 50,
      deliveryTimeoutMs: 60_000,
    });
    await producer.produceSync('acl', 'before');
    // The leader goes away, so what follows stays buffered; then the topic's ACL is revoked.
    await cluster.brokerDown(2);
    const failed = new Promise<unknown>((resolve) => {
      producer.produceAsync('acl', ['a', 'b'], (error) => {
        resolve(error);
      });
    });
    await cluster.setTopicError('acl', 29); // TOPIC_AUTHORIZATION_FAILED
    // Failed at the next metadata refresh, not after the 60 s delivery timeout.
    expect(await failed).toMatchObject({ code: 'ERR_KAFKA', errorCode: 29, retriable: false });
    await expect(producer.produceSync('acl', 'while-denied')).rejects.toMatchObject({ errorCode: 29 });
    // Granted again: once metadata says so (the topic actor is active again), records are taken.
    const active = new Promise<void>((resolve) => {
      producer.on('state', (event) => {
        if (event.actor === 'topic:acl' && event.to === 'active') resolve();
      });
    });
    await cluster.setTopicError('acl', 0);
    await cluster.brokerUp(2);
    await active;
    await expect(producer.produceSync('acl', 'after')).resolves.toMatchObject({ partition: 0 });
  }, 15_000);
});
