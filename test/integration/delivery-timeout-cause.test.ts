// A record that cannot be delivered fails with DeliveryTimeoutError, and its standard `cause`
// names what kept it from being delivered, as the Java producer's TimeoutException does: the
// refused connection with its address, a peer that is not Kafka, the leader's connection error
// when only the leader is out of reach, the topic's error in the metadata answer. Real peers:
// a closed port, a node:http server, librdkafka's mock cluster.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProducerOptions } from '../../src/config.js';
import {
  ConnectionError,
  DeliveryTimeoutError,
  KafkaProtocolError,
  NotKafkaError,
} from '../../src/errors.js';
import { actorNamed } from '../../src/runtime/introspection.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { useMockClusters } from '../support/cluster-fixture.js';
import { closedPort } from '../support/ports.js';

const SILENT = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('DeliveryTimeoutError names its cause', () => {
  const producers: Producer[] = [];
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const producer of producers.splice(0)) await producer.close({ timeoutMs: 0 });
    for (const close of closers.splice(0)) await close();
  });
  const make = (options: ProducerOptions): Producer => {
    const producer = createProducer({
      retryBackoffMs: 50,
      retryBackoffMaxMs: 200,
      logger: SILENT,
      ...options,
    });
    producers.push(producer);
    return producer;
  };
  const clusters = useMockClusters();

  it('a bootstrap address that refuses connections: the cause is the refusal, naming the address (ECONNREFUSED)', async () => {
    const port = await closedPort();
    const address = `127.0.0.1:${port}`;
    const producer = make({ brokers: address, deliveryTimeoutMs: 1500 });
    const started = Date.now();
    const error = await producer.produceSync('t', 'never').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(ConnectionError);
    expect(cause).toMatchObject({ code: 'ERR_CONNECTION', broker: address });
    expect((cause as Error).message).toMatch(new RegExp(`^${address}: .*ECONNREFUSED`));
    // Node's own error, below ours.
    expect((cause as Error).cause).toMatchObject({ code: 'ECONNREFUSED', port });
    // inspect(): no broker ever answered, and why, address by address.
    const metadata = actorNamed(producer.inspect(), 'metadata');
    expect(metadata?.details.lastRefreshAt).toBe(0);
    // 'failed', or 'connecting' when the next attempt is under way: its last error stays.
    expect(metadata?.details.addresses).toEqual([
      {
        address,
        state: expect.stringMatching(/^(failed|connecting)$/) as unknown,
        lastError: { code: 'ERR_CONNECTION', message: expect.stringMatching(/ECONNREFUSED/) as unknown },
        answeredAt: 0,
      },
    ]);
  });

  it('a bootstrap address where a web server answers: the cause is NotKafkaError naming it', async () => {
    const server = http.createServer((_request, response) => {
      response.end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const producer = make({ brokers: address, deliveryTimeoutMs: 1500 });
    const error = await producer.produceSync('t', 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(NotKafkaError);
    expect(cause).toMatchObject({ broker: address, protocol: 'HTTP' });
    expect((cause as Error).message).toMatch(/answered with HTTP: it is not a Kafka broker/);
  });

  it('metadata answers but the leader refuses connections: the cause is the leader’s connection error', async () => {
    const cluster = await clusters({ peer: '2.12', brokers: 1, topics: [{ name: 'far', partitions: 1 }] });
    const port = await closedPort();
    // The broker now advertises a port nothing listens on: bootstrap still answers metadata,
    // but the produce connection to the leader is refused (a wrong advertised listener).
    await cluster.command(`set_host_port 1 127.0.0.1 ${port}`);
    const producer = make({ brokers: cluster.bootstrap, deliveryTimeoutMs: 2000 });
    const error = await producer.produceSync('far', 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(ConnectionError);
    expect(cause).toMatchObject({ broker: `127.0.0.1:${port}` });
    expect((cause as Error).message).toMatch(/ECONNREFUSED/);
    // The cluster was reached: metadata was answered at the bootstrap address.
    const metadata = actorNamed(producer.inspect(), 'metadata');
    expect(metadata?.details.lastRefreshAt).toBeGreaterThan(0);
    expect(
      metadata?.details.addresses.find((a) => a.address === cluster.bootstrap)?.answeredAt,
    ).toBeGreaterThan(0);
  });

  it('metadata answers with an error for the topic: the cause is that error', async () => {
    const cluster = await clusters({
      peer: '2.12',
      brokers: 1,
      topics: [{ name: 'leaderless', partitions: 1 }],
    });
    await cluster.setTopicError('leaderless', ErrorCode.LEADER_NOT_AVAILABLE);
    const producer = make({ brokers: cluster.bootstrap, deliveryTimeoutMs: 1500 });
    const error = await producer.produceSync('leaderless', 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryTimeoutError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(KafkaProtocolError);
    expect(cause).toMatchObject({ errorName: 'LEADER_NOT_AVAILABLE', retriable: true });
    expect((cause as Error).message).toMatch(/topic "leaderless"/);
  });
});
