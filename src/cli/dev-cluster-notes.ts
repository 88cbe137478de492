// What `ekaf dev-cluster` and `ekaf serve` (without brokers) tell the user about the bundled
// dev cluster, beside its bootstrap address.
import type { DevCluster } from '../dev-cluster.js';

/** Where the first broker listens when the port is free: Kafka's own, as READMEs assume. */
export const DEV_CLUSTER_PORT = 9092;

/** Said when the brokers could not have their well-known ports; undefined when they have them. */
export function portsTakenNote(dev: DevCluster, firstPort: number): string | undefined {
  if (firstPort === 0 || dev.brokers[0]?.port === firstPort) return undefined;
  const last = firstPort + dev.brokers.length - 1;
  return `note:      ports ${firstPort}-${last} are not all free (another Kafka?): the brokers listen on the ports above`;
}

/**
 * librdkafka's mock brokers answer every produce with the log-append time 1234 (ms after the
 * epoch), as if the topic used LogAppendTime, so every delivery report (and kafboy's answers)
 * says `timestamp: 1234`. Apache Kafka answers -1 for CreateTime topics, and the report carries
 * the record's own timestamp.
 */
export const TIMESTAMP_NOTE =
  'note:      the mock brokers acknowledge every record with the timestamp 1234 (a constant of the mock)';
