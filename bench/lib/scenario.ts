// What a scenario is, as the orchestrator (bench/run.ts) sees it. Most run on the bundled dev
// cluster (C = DevCluster); a KafkaScenario runs on Apache Kafka (C = KafkaCluster).
import type { DevCluster } from '../../src/dev-cluster.js';
import type { KafkaCluster, KafkaVersion } from '../../test/kafka/kafka-cluster.js';
import type { Metrics } from './proc.js';

export interface RunContext<C = DevCluster> {
  cluster: C;
  quick: boolean;
  round: number;
  /** A new topic (6 partitions unless told), created on the cluster, so runs never share data. */
  freshTopic(label: string, partitions?: number): Promise<string>;
}

/** One client (or configuration) measured in a case. */
export interface Contestant<C = DevCluster> {
  name: string;
  /** One measured run; every process it needs is started and ended inside. */
  run(ctx: RunContext<C>): Promise<Metrics>;
}

export interface MetricSpec {
  key: string;
  label: string;
  /** Throughput: higher is better; latency, memory: lower. */
  higherIsBetter: boolean;
}

export interface TargetOutcome {
  measured: string;
  pass: boolean;
}

export interface Target {
  label: string;
  /** From the medians of each contestant (by name); undefined when a contestant has no result. */
  evaluate(medians: Record<string, Metrics>): TargetOutcome | undefined;
}

export interface Case<C = DevCluster> {
  id: string;
  title: string;
  /** The first is ekaf: the ratio column is ekaf / each contestant, on the first metric. */
  contestants: Contestant<C>[];
  metrics: MetricSpec[];
  targets?: Target[];
}

export interface Scenario<C = DevCluster> {
  id: string;
  name: string;
  cases(quick: boolean): Case<C>[];
}

/**
 * A scenario on Apache Kafka, started by run.ts from the jars of scripts/kafka-jars.sh (fresh
 * topics: replication factor = nodes, min ISR 2). Run only when named with --only; the caller
 * holds the machine's Kafka lock (`flock /tmp/ekaf-kafka.lock npm run bench -- --only <id>`).
 */
export interface KafkaScenario extends Scenario<KafkaCluster> {
  apacheKafka: { version: KafkaVersion; nodes: 1 | 3 };
  /**
   * Unmeasured load on the freshly started cluster before the first round. A broker JVM that
   * just started spends its first minute compiling (3 idle brokers burn ~0.25 s of CPU per
   * second, and the first runs cost them twice the CPU per record of later ones): without
   * this, the first contestant of round 1 pays for it.
   */
  warmUpCluster?(
    cluster: KafkaCluster,
    createTopic: (name: string, partitions: number) => Promise<void>,
  ): Promise<void>;
}

/** records/s and MB/s of payload (keys + values) from a run's count, bytes and milliseconds. */
export function rates(records: number, payloadBytes: number, ms: number): Metrics {
  return { recPerSec: records / (ms / 1000), mbPerSec: payloadBytes / 1e6 / (ms / 1000), seconds: ms / 1000 };
}

export const THROUGHPUT_METRICS: MetricSpec[] = [
  { key: 'recPerSec', label: 'records/s', higherIsBetter: true },
  { key: 'mbPerSec', label: 'MB/s', higherIsBetter: true },
  { key: 'seconds', label: 's', higherIsBetter: false },
];

/** A target "a's metric ≥ factor × b's metric" (or ≤ for lower-is-better). */
export function ratioTarget(
  label: string,
  a: string,
  b: string,
  key: string,
  factor: number,
  atLeast: boolean,
): Target {
  return {
    label,
    evaluate(medians) {
      const x = medians[a]?.[key];
      const y = medians[b]?.[key];
      if (x === undefined || y === undefined) return undefined;
      const r = x / y;
      return { measured: `${r.toFixed(2)}× (${a} / ${b})`, pass: atLeast ? r >= factor : r <= factor };
    },
  };
}
