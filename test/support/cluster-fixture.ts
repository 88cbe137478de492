// The one way integration tests get a librdkafka mock cluster and producers on it: each helper
// registers its own hooks, so a test file says what it needs (how many brokers, which topics,
// a producer with which options) and not how to start and stop it.
//
// Teardown order: vitest runs after-hooks in reverse order of registration ('stack', its
// default), so producers made by a fixture registered after the cluster's close before the
// cluster stops, and a file's own afterEach registered after them runs before they close.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { ProducerOptions } from '../../src/config.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { startCluster, type MockCluster, type StartOptions } from '../broker/cluster.js';

/** 'suite': made before the first test of the describe block, ended after its last; 'test': per test. */
export type FixtureScope = 'suite' | 'test';

export interface MockClusterFixture extends StartOptions {
  /** Default 'suite'. A test that leaves the cluster changed for the next one wants 'test'. */
  per?: FixtureScope;
  /** Runs once the cluster is up, before any producer fixture (fixing leaders, say). */
  setup?: (cluster: MockCluster) => Promise<void>;
}

function hooks(per: FixtureScope): [typeof beforeAll, typeof afterAll] {
  return per === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
}

/** A mock cluster for the enclosing describe block (or file); returns its getter. */
export function useMockCluster(options: MockClusterFixture = {}): () => MockCluster {
  const { per = 'suite', setup, ...start } = options;
  const [before, after] = hooks(per);
  let cluster: MockCluster | undefined;
  before(async () => {
    cluster = await startCluster(start);
    await setup?.(cluster);
  });
  after(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return () => {
    if (cluster === undefined) throw new Error('the mock cluster is used outside the tests of its block');
    return cluster;
  };
}

/**
 * Fixes the topic's leaders round the brokers: partition p on broker 1 + (p mod brokers). The
 * mock may otherwise put several on one broker, or place them differently from run to run.
 */
export async function spreadLeaders(cluster: MockCluster, topic: string, partitions: number): Promise<void> {
  for (let p = 0; p < partitions; p++) await cluster.setLeader(topic, p, 1 + (p % cluster.brokers.length));
}

/**
 * Clusters a test starts itself, for tests of one block that each need a different one; every
 * cluster started in a test is stopped after it.
 */
export function useMockClusters(): (options: StartOptions) => Promise<MockCluster> {
  const started: MockCluster[] = [];
  afterEach(async () => {
    for (const cluster of started.splice(0)) await cluster.stop();
  });
  return async (options) => {
    const cluster = await startCluster(options);
    started.push(cluster);
    return cluster;
  };
}

export type ProducerFixtureOptions = Omit<ProducerOptions, 'brokers'> & { brokers?: string };

export interface ProducerFixture {
  /** Default: the cluster's per, or 'suite'. */
  per?: FixtureScope;
  /** What close() is given at teardown (default 5000). */
  closeTimeoutMs?: number;
}

/**
 * One producer on the cluster, made before the block (or each test) and closed after it;
 * returns its getter. `options` is a function when it needs the cluster (a proxy's address).
 */
export function useProducer(
  cluster: () => MockCluster,
  options: ProducerFixtureOptions | (() => ProducerFixtureOptions) = {},
  fixture: ProducerFixture = {},
): () => Producer {
  const [before, after] = hooks(fixture.per ?? 'suite');
  let producer: Producer | undefined;
  before(() => {
    const resolved = typeof options === 'function' ? options() : options;
    producer = createProducer({ brokers: cluster().bootstrap, ...resolved });
  });
  after(async () => {
    await producer?.close({ timeoutMs: fixture.closeTimeoutMs ?? 5000 });
    producer = undefined;
  });
  return () => {
    if (producer === undefined) throw new Error('the producer is used outside the tests of its block');
    return producer;
  };
}

/**
 * A factory for tests that make their own producers: `make(options)` creates one on the cluster
 * with `defaults` under `options`; every producer it made is closed after each test (and, for
 * those made in a beforeAll, after the block).
 */
export function useProducers(
  cluster: () => MockCluster,
  defaults: ProducerFixtureOptions = {},
  fixture: Omit<ProducerFixture, 'per'> = {},
): (options?: ProducerFixtureOptions) => Producer {
  const made: Producer[] = [];
  const closeAll = async (): Promise<void> => {
    for (const producer of made.splice(0))
      await producer.close({ timeoutMs: fixture.closeTimeoutMs ?? 5000 });
  };
  afterEach(closeAll);
  afterAll(closeAll);
  return (options = {}) => {
    const producer = createProducer({ brokers: cluster().bootstrap, ...defaults, ...options });
    made.push(producer);
    return producer;
  };
}
