// The mock Kafka cluster for integration tests: librdkafka's mock cluster
// (test/broker/mock-cluster.c) as a child process, driven through its line
// protocol: real Kafka-protocol brokers on 127.0.0.1 with fault injection.
//
// The implementation is the library's dev cluster (src/dev-cluster.ts), the
// one `ekaf dev-cluster` and `ekaf serve` start; this module keeps the names
// the tests use.
import {
  DEV_CLUSTER_PEERS,
  devClusterBinary,
  startDevCluster,
  type DevCluster,
  type DevClusterBroker,
  type DevClusterOptions,
  type DevClusterPeer,
} from '../../src/dev-cluster.js';

/** The librdkafka version the mock brokers come from. */
export type Peer = DevClusterPeer;
export const PEERS: Peer[] = DEV_CLUSTER_PEERS;

export type MockBroker = DevClusterBroker;

/** A running cluster: its bootstrap address, its brokers, and the fault-injection commands. */
export type MockCluster = DevCluster;

/** peer (default '2.12'), brokers (default 3), topics, debug, commandTimeoutMs (default 10 s). */
export type StartOptions = Omit<DevClusterOptions, 'binary'>;

export function mockClusterBinary(peer: Peer): string {
  return devClusterBinary(peer);
}

export function startCluster(opts: StartOptions = {}): Promise<MockCluster> {
  return startDevCluster(opts);
}
