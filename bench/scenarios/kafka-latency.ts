// Scenarios 11 and 12: latency at fixed rates on Apache Kafka 4.4.0 (3 combined KRaft nodes, a
// fresh 6-partition topic per run, replication factor 3, min.insync.replicas 2, acks all,
// idempotence on): 10 000 (11) and 100 000 (12) records/s of keyed records (8 B keys, 100 B
// values) from a paced producer; two scenarios so that each run stays under ten minutes. Record i is due at start + i / rate; every client's process wakes about every
// millisecond and sends every record that is due (the same rule in Node, Java and C: see
// bench/lib/pacer.ts); a record's latency runs from its due time to its acknowledgement (the
// callback, the delivery report, or the send() promise for kafkajs and @platformatic/kafka,
// which are given each tick's records in one send()). Measuring from the due time, not from the
// call, keeps a client that falls behind from hiding it (no coordinated omission); the achieved
// rate says whether it kept up (a client that does not takes longer: the runs are short for
// that). Each process first runs WARM_UP_SECONDS at the same rate, unmeasured, to the same topic. The contestants: bench/scenarios/kafka-producers.ts; ekaf also with
// produceAsyncBatched, which waits lingerMs (5) for more records as Java's and librdkafka's
// send() do by default, where produceAsync sends as soon as a request slot is free.
// Started only when asked: `flock /tmp/ekaf-kafka.lock npx tsx bench/run.ts --only 11` (or 12).
import { keyedFile } from '../lib/data.js';
import { BROKER_CPU_METRIC, PROCESS_CPU_METRIC } from '../lib/producer-run.js';
import { ratioTarget, type KafkaScenario, type MetricSpec } from '../lib/scenario.js';
import { kafkaContestants, warmUpBrokers } from './kafka-producers.js';

export const workers = {};

const LATENCY_METRICS: MetricSpec[] = [
  { key: 'p50Ms', label: 'ms p50', higherIsBetter: false },
  { key: 'p99Ms', label: 'ms p99', higherIsBetter: false },
  { key: 'p999Ms', label: 'ms p99.9', higherIsBetter: false },
  { key: 'maxMs', label: 'ms max', higherIsBetter: false },
  { key: 'achievedRate', label: 'records/s achieved', higherIsBetter: true },
  PROCESS_CPU_METRIC,
  BROKER_CPU_METRIC,
];

/** Seconds each process first runs at the rate, unmeasured. */
const WARM_UP_SECONDS = 1;

/** A scenario of one case: `rate` records/s for `seconds` (quick: `quickSeconds`). */
function latencyScenario(
  id: string,
  rate: number,
  seconds: number,
  quickSeconds: number,
  withTarget: boolean,
): KafkaScenario {
  const rateText = rate.toLocaleString('en-US');
  return {
    id,
    name: `Apache Kafka: latency at ${rateText} records/s (4.4.0, 3 nodes, RF 3, acks all, idempotent)`,
    apacheKafka: { version: '4.4.0', nodes: 3 },
    warmUpCluster: warmUpBrokers,
    cases(quick) {
      const s = quick ? quickSeconds : seconds;
      const records = rate * s;
      const workload = { file: keyedFile(records, 100), records, warmup: rate * WARM_UP_SECONDS, rate };
      return [
        {
          id,
          title: `${rateText} records/s for ${s} s (ms from due time to ack)`,
          contestants: kafkaContestants(workload, { 'ekaf (batched)': { batched: true } }),
          metrics: LATENCY_METRICS,
          targets: withTarget
            ? [ratioTarget(`${id}: ekaf p99 ≤ Java p99`, 'ekaf', 'Java', 'p99Ms', 1.0, false)]
            : [],
        },
      ];
    },
  };
}

export const latency10k = latencyScenario('11', 10_000, 6, 3, true);
export const latency100k = latencyScenario('12', 100_000, 3, 1, false);
