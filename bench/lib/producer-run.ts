// One run of a producer contestant on Apache Kafka (scenarios 10 and 11), whatever its language:
// what it is asked to do, what it reports, and the table's metrics made of that. The Java
// program (test/kafka/java/ProducerBench.java), the C driver (bench/c/rdkafka-bench.c) and the
// Node workers (bench/scenarios/kafka-producers.ts) all take ProducerRunParams and report a
// ProducerRun, by the same rules: the same records, a warm-up of the first records to the same
// topic, then the measured phase; CPU read by the process itself (every thread) around the
// measured phase, and for the whole process just before it exits.
import { perMillion } from './cpu.js';
import type { Metrics } from './proc.js';
import type { MetricSpec } from './scenario.js';

export interface ProducerRunParams {
  bootstrap: string;
  topic: string;
  /** A "key:value" file (bench/lib/data.ts keyedFile) of at least `records` lines. */
  file: string;
  /** Measured records: the first `records` lines of the file. */
  records: number;
  /** Unmeasured warm-up records first (the file's first lines again), to the same topic. */
  warmup: number;
  /** Records per second, paced in 1 ms ticks; 0 = saturated (as fast as the client takes them). */
  rate: number;
  /** ekaf only: a variant of its defaults, shown beside them. */
  ekaf?: EkafVariant;
}

export interface EkafVariant {
  /** produceAsyncBatched (waits lingerMs for more records) instead of produceAsync. */
  batched?: boolean;
  /** Largest batch in bytes (default 1 MB, as librdkafka's; Java's batch.size is 16 KiB). */
  batchBytes?: number;
  /** Produce requests in flight per partition (default 5). */
  maxInFlight?: number;
}

/** The JSON line every driver prints (or a Node worker returns). */
export interface ProducerRun {
  records: number;
  warmupRecords: number;
  /** The measured phase: first send to last acknowledgement. */
  seconds: number;
  /** CPU seconds of the measured phase. */
  cpuSeconds: number;
  /** CPU seconds of the whole process, from its start until just before it exits. */
  processCpuSeconds: number;
  /** Paced runs: from each record's due time to its acknowledgement, nearest rank. */
  p50Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  maxMs?: number;
  achievedRate?: number;
}

/** Parses a driver's last stdout line; throws with the output when it is not a ProducerRun. */
export function parseProducerRun(stdout: string, who: string): ProducerRun {
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const run = JSON.parse(line) as ProducerRun;
    if (typeof run.seconds === 'number' && typeof run.processCpuSeconds === 'number') return run;
  } catch {
    // reported below
  }
  throw new Error(`${who} printed no result: ${JSON.stringify(stdout.slice(-2000))}`);
}

/**
 * The metrics of a run. `brokerCpuSeconds`: what the brokers' JVMs used from the client's spawn
 * to its exit. Per-million figures of the whole process (and the brokers) count the warm-up
 * records too, since the process produced them.
 */
export function producerRunMetrics(
  run: ProducerRun,
  payloadBytes: number,
  brokerCpuSeconds: number,
): Metrics {
  const produced = run.records + run.warmupRecords;
  const metrics: Metrics = {
    recPerSec: run.records / run.seconds,
    mbPerSec: payloadBytes / 1e6 / run.seconds,
    seconds: run.seconds,
    processCpuPerM: perMillion(run.processCpuSeconds, produced),
    phaseCpuPerM: perMillion(run.cpuSeconds, run.records),
    brokerCpuPerM: perMillion(brokerCpuSeconds, produced),
  };
  for (const key of ['p50Ms', 'p99Ms', 'p999Ms', 'maxMs', 'achievedRate'] as const) {
    const v = run[key];
    if (v !== undefined) metrics[key] = v;
  }
  return metrics;
}

export const PROCESS_CPU_METRIC: MetricSpec = {
  key: 'processCpuPerM',
  label: 'CPU s/M (process)',
  higherIsBetter: false,
};
export const PHASE_CPU_METRIC: MetricSpec = {
  key: 'phaseCpuPerM',
  label: 'CPU s/M (measured phase)',
  higherIsBetter: false,
};
export const BROKER_CPU_METRIC: MetricSpec = {
  key: 'brokerCpuPerM',
  label: 'brokers CPU s/M',
  higherIsBetter: false,
};
