// Scenario 10: saturated throughput and CPU per record on Apache Kafka 4.4.0, 3 combined KRaft
// nodes, a fresh 6-partition topic per run (replication factor 3, min.insync.replicas 2), acks
// all, idempotence on. 500 000 keyed records (8 B keys, 100 B values, as scenario 1a) handed to
// each client as fast as it takes them, after an unmeasured warm-up with the first half of them
// to the same topic; the contestants and how each is driven: bench/scenarios/kafka-producers.ts.
// Also kcat -P (librdkafka through its line reader, idempotent, no warm-up), timed from spawn to
// exit, its CPU from /usr/bin/time; and ekaf with batches of up to 64 KiB (batchBytes, its default
// before 1 MB, librdkafka's batch.size), since the brokers' CPU per record falls with the records
// per batch.
// Metrics: records/s and MB/s of the measured phase; client CPU seconds (user + system, every
// thread) per million records, for the whole process from start to exit (warm-up records
// counted) and for the measured phase alone; the brokers' CPU (three JVMs, /proc) per million
// records over the client's run. CPU is the figure that survives a noisy 2-core machine, where
// the brokers and the client share the cores: here every client's speed is bounded by the
// brokers' CPU as much as by its own.
// Started only when asked: `flock /tmp/ekaf-kafka.lock npx tsx bench/run.ts --only 10`.
import type { KafkaCluster } from '../../test/kafka/kafka-cluster.js';
import { keyedFile } from '../lib/data.js';
import { kcatProduce } from '../lib/kcat.js';
import { perMillion } from '../lib/cpu.js';
import { BROKER_CPU_METRIC, PHASE_CPU_METRIC, PROCESS_CPU_METRIC } from '../lib/producer-run.js';
import {
  ratioTarget,
  THROUGHPUT_METRICS,
  type Contestant,
  type KafkaScenario,
  type RunContext,
} from '../lib/scenario.js';
import { kafkaContestants, PARTITIONS, warmUpBrokers, withBrokerCpu } from './kafka-producers.js';

export const workers = {};

/**
 * Measured records per run (each process first sends half as many, unmeasured). Not 1 M as in
 * scenario 1a: with the brokers on the same 2 cores, the Java producer and kafkajs reach 20 000 -
 * 60 000 records/s, and three rounds of seven contestants must stay under ten minutes.
 */
const MEASURED_RECORDS = 500_000;

/** kcat -P of the whole file, idempotent, placed by murmur2 as the others. */
function kcatContestant(file: string, records: number): Contestant<KafkaCluster> {
  return {
    name: 'kcat',
    run: async (ctx: RunContext<KafkaCluster>) => {
      const topic = await ctx.freshTopic('kcat', PARTITIONS);
      const extra = ['-X', 'enable.idempotence=true', '-X', 'partitioner=murmur2_random'];
      const { result, brokerCpu } = await withBrokerCpu(ctx.cluster, () =>
        kcatProduce(ctx.cluster.bootstrap, topic, file, records, extra),
      );
      const { cpuPerM, ...rest } = result;
      // kcat is one process doing only this: its whole CPU is its measured phase too.
      return {
        ...rest,
        processCpuPerM: cpuPerM ?? NaN,
        phaseCpuPerM: cpuPerM ?? NaN,
        brokerCpuPerM: perMillion(brokerCpu, records),
      };
    },
  };
}

export const scenario: KafkaScenario = {
  id: '10',
  name: 'Apache Kafka: saturated throughput and CPU per record (4.4.0, 3 nodes, RF 3, acks all, idempotent)',
  apacheKafka: { version: '4.4.0', nodes: 3 },
  warmUpCluster: warmUpBrokers,
  cases(quick) {
    const records = quick ? 100_000 : MEASURED_RECORDS;
    const file = keyedFile(records, 100);
    const workload = { file, records, warmup: records / 2, rate: 0 };
    return [
      {
        id: '10',
        title: `${records.toLocaleString('en-US')} × 100 B values, 8 B keys, saturated`,
        contestants: [
          ...kafkaContestants(workload, { 'ekaf (batchBytes 64 KiB)': { batchBytes: 64 * 1024 } }),
          kcatContestant(file, records),
        ],
        metrics: [...THROUGHPUT_METRICS, PROCESS_CPU_METRIC, PHASE_CPU_METRIC, BROKER_CPU_METRIC],
        targets: [
          ratioTarget('10: ekaf CPU/M (process) ≤ 1.0× Java', 'ekaf', 'Java', 'processCpuPerM', 1.0, false),
          ratioTarget(
            '10: ekaf CPU/M (process) ≤ 1.5× librdkafka',
            'ekaf',
            'librdkafka',
            'processCpuPerM',
            1.5,
            false,
          ),
          ratioTarget('10: ekaf throughput ≥ 1.0× Java', 'ekaf', 'Java', 'recPerSec', 1.0, true),
          ratioTarget(
            '10: ekaf CPU/M (measured phase) ≤ 1.0× Java',
            'ekaf',
            'Java',
            'phaseCpuPerM',
            1.0,
            false,
          ),
          ratioTarget(
            '10: ekaf CPU/M (measured phase) ≤ 1.5× librdkafka',
            'ekaf',
            'librdkafka',
            'phaseCpuPerM',
            1.5,
            false,
          ),
        ],
      },
    ];
  },
};
