// The contestants of the Apache Kafka scenarios (10: saturated throughput, 11: latency at fixed
// rates), each in its own process, all acks=all with idempotence on, all sending the same
// records (a "key:value" file: 8 B keys, 100 B values), murmur2-placed by key as the Java client
// does, to a fresh 6-partition topic (replication factor 3, min.insync.replicas 2):
//   ekaf:     bench/worker.ts → workers.ekaf: its defaults (idempotent, acks all, lingerMs 5);
//             saturated: produceAsync in calls of 10 000 records; paced: one produceAsync per
//             record, each with its callback (as an application sends events one by one);
//   Java:     test/kafka/java/ProducerBench.java, kafka-clients of the cluster's version, its
//             defaults (linger.ms 5, batch.size 16 384): send() per record with a callback;
//   librdkafka: bench/c/rdkafka-bench.c (Debian's librdkafka 2.0.2, kcat's library), its
//             defaults (linger.ms 5): rd_kafka_producev() per record, delivery reports;
//   kafkajs:  idempotent: true (so one Produce in flight per broker, its rule); saturated:
//             send() of 1 000-record batches, 16 in flight; paced: one send() per tick of the
//             records due, at most 1 000 a send (kafkajs does not batch across send() calls:
//             one per record would be one request per record);
//   @platformatic/kafka: idempotent: true, acks -1, the Java-compatible murmur2 partitioner; as
//             kafkajs (it does not batch across send() calls either).
// Every process first sends the first `warmup` records, unmeasured, to the same topic (the JIT
// compiles, metadata is fetched, leaders are connected), then the measured records. It reports
// the time and its own CPU (every thread) of the measured phase, and its whole CPU from start to
// just before exit (bench/lib/producer-run.ts). The orchestrator also reads the brokers' JVM CPU
// (/proc) around each run, and counts the topic's records afterwards.
import type { Producer as PlatformaticProducer } from '@platformatic/kafka';
import type { Producer as KafkaJsProducer } from 'kafkajs';
import type { Producer as EkafProducer } from '../../src/index.js';
import type { KafkaCluster } from '../../test/kafka/kafka-cluster.js';
import { cpuSecondsSince, selfCpuSeconds, totalCpuSeconds } from '../lib/cpu.js';
import { keyedFile, readRecords, type Rec } from '../lib/data.js';
import { runJavaProducer } from '../lib/java-bench.js';
import { checkDelivered, payloadBytes } from '../lib/kcat.js';
import { PacedRun, type LatencySummary } from '../lib/pacer.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import {
  producerRunMetrics,
  type EkafVariant,
  type ProducerRun,
  type ProducerRunParams,
} from '../lib/producer-run.js';
import { runRdkafkaProducer } from '../lib/rdkafka-bench.js';
import type { Contestant, RunContext } from '../lib/scenario.js';
import { nowMs } from '../lib/stats.js';
import {
  ekafProducer,
  kafkajsProducer,
  PEER_BUFFER_BOUND,
  platformaticProducer,
  pumpEkaf,
  pumpKafkajs,
} from './clients.js';

export const PARTITIONS = 6;
/** Records per send() for kafkajs and @platformatic/kafka, and how many sends in flight. */
const NODE_BATCH = 1000;
const NODE_IN_FLIGHT = 16;

/** A Node client as the workers drive it. */
interface NodeClient {
  /** Sends every record and resolves when all are acknowledged. */
  saturate(topic: string, records: readonly Rec[]): Promise<void>;
  /** Sends records [from, to) and reports their acknowledgement (or failure) to `run`. */
  sendDue(topic: string, records: readonly Rec[], from: number, to: number, run: PacedRun): void;
  close(): Promise<void>;
}

function ekafClient(producer: EkafProducer, batched: boolean): NodeClient {
  return {
    saturate: (topic, records) => pumpEkaf(producer, topic, records, 10_000, batched),
    sendDue(topic, records, from, to, run) {
      for (let i = from; i < to; i++) {
        // A callback declared with one parameter gets no delivery reports (none are built).
        const done = (error: Error | null): void => {
          if (error === null) run.acked(i);
          else run.failed(error);
        };
        if (batched) producer.produceAsyncBatched(topic, records[i] as Rec, done);
        else producer.produceAsync(topic, records[i] as Rec, done);
      }
    },
    close: () => producer.close(),
  };
}

function kafkajsClient(producer: KafkaJsProducer): NodeClient {
  return {
    saturate: (topic, records) => pumpKafkajs(producer, topic, records, NODE_BATCH, NODE_IN_FLIGHT),
    sendDue(topic, records, from, to, run) {
      producer.send({ topic, acks: -1, messages: records.slice(from, to) }).then(
        () => {
          run.acked(from, to);
        },
        (error: unknown) => {
          run.failed(error as Error);
        },
      );
    },
    close: () => producer.disconnect(),
  };
}

/** @platformatic/kafka fails a send() with an AggregateError: its message names none of the causes. */
function withCauses(error: unknown): Error {
  if (!(error instanceof AggregateError)) return error as Error;
  const messagesOf = (e: unknown): string[] =>
    e instanceof AggregateError
      ? (e.errors as unknown[]).flatMap(messagesOf)
      : [e instanceof Error ? e.message : String(e)];
  const causes = messagesOf(error);
  return new Error(`${error.message}: ${[...new Set(causes)].join('; ')}`, { cause: error });
}

function platformaticClient(producer: PlatformaticProducer): NodeClient {
  const messages = (topic: string, records: readonly Rec[]) =>
    records.map((r) => ({ topic, key: r.key, value: r.value }));
  return {
    async saturate(topic, records) {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < records.length) {
          const batch = records.slice(next, next + NODE_BATCH);
          next += batch.length;
          await producer.send({ messages: messages(topic, batch) }).catch((error: unknown) => {
            throw withCauses(error);
          });
        }
      };
      await Promise.all(Array.from({ length: NODE_IN_FLIGHT }, lane));
    },
    sendDue(topic, records, from, to, run) {
      producer.send({ messages: messages(topic, records.slice(from, to)) }).then(
        () => {
          run.acked(from, to);
        },
        (error: unknown) => {
          run.failed(withCauses(error));
        },
      );
    },
    close: () => producer.close(),
  };
}

/** Warm-up, then the measured phase, by ProducerRunParams' rules; the result as Metrics. */
async function nodeRun(p: ProducerRunParams, client: NodeClient): Promise<Metrics> {
  const records = readRecords(p.file).slice(0, p.records);
  const phase = async (count: number): Promise<LatencySummary | undefined> => {
    if (p.rate <= 0) {
      await client.saturate(p.topic, records.slice(0, count));
      return undefined;
    }
    const run = new PacedRun(count, p.rate);
    // A client that falls behind finds many records due at once: in sends of at most NODE_BATCH
    // (one send of them all outgrew the brokers' 1 MB message.max.bytes for kafkajs).
    await run.run((from, to) => {
      for (let a = from; a < to; a += NODE_BATCH) {
        client.sendDue(p.topic, records, a, Math.min(to, a + NODE_BATCH), run);
      }
    });
    return run.summary();
  };
  await phase(Math.min(p.warmup, records.length));
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const latency = await phase(records.length);
  const seconds = (nowMs() - t0) / 1000;
  const cpuSeconds = cpuSecondsSince(cpu0);
  await client.close();
  const run: ProducerRun = {
    records: records.length,
    warmupRecords: Math.min(p.warmup, records.length),
    seconds,
    cpuSeconds,
    ...latency,
    ...(latency === undefined ? {} : { achievedRate: records.length / seconds }),
    processCpuSeconds: selfCpuSeconds(),
  };
  return { ...run };
}

export const workers = {
  async ekaf(p: ProducerRunParams): Promise<Metrics> {
    const { batched = false, batchBytes, maxInFlight } = p.ekaf ?? {};
    const producer = await ekafProducer(p.bootstrap, {
      // Saturated runs hold what the C driver's queue holds; paced ones hand each record on when
      // due and cannot wait for room, so they keep the large bound.
      ...(p.rate === 0 ? PEER_BUFFER_BOUND : {}),
      defaults: {
        ...(batchBytes === undefined ? {} : { batchBytes }),
        ...(maxInFlight === undefined ? {} : { maxInFlight }),
      },
    });
    return nodeRun(p, ekafClient(producer, batched));
  },
  async kafkajs(p: ProducerRunParams): Promise<Metrics> {
    const { producer } = await kafkajsProducer(p.bootstrap, true);
    return nodeRun(p, kafkajsClient(producer));
  },
  async platformatic(p: ProducerRunParams): Promise<Metrics> {
    const producer = await platformaticProducer(p.bootstrap);
    return nodeRun(p, platformaticClient(producer));
  },
};

type NodeWorker = keyof typeof workers;

/** What a case asks of every contestant. */
export interface KafkaWorkload {
  file: string;
  records: number;
  warmup: number;
  rate: number;
}

/** Runs `fn` and reads the CPU seconds the cluster's broker JVMs used meanwhile (/proc). */
export async function withBrokerCpu<T>(
  cluster: KafkaCluster,
  fn: () => Promise<T>,
): Promise<{ result: T; brokerCpu: number }> {
  const brokers = cluster.nodes.map((n) => n.pid);
  const before = totalCpuSeconds(brokers);
  const result = await fn();
  return { result, brokerCpu: totalCpuSeconds(brokers) - before };
}

/**
 * One contestant's run: a fresh topic, the client's process, the brokers' CPU around it, and the
 * topic's record count checked afterwards (warm-up + measured; idempotence forbids duplicates).
 */
function contestant(
  name: string,
  w: KafkaWorkload,
  drive: (p: ProducerRunParams, cluster: KafkaCluster) => Promise<ProducerRun>,
): Contestant<KafkaCluster> {
  return {
    name,
    run: async (ctx: RunContext<KafkaCluster>) => {
      const topic = await ctx.freshTopic(name, PARTITIONS);
      const params: ProducerRunParams = { bootstrap: ctx.cluster.bootstrap, topic, ...w };
      const { result: run, brokerCpu } = await withBrokerCpu(ctx.cluster, () => drive(params, ctx.cluster));
      await checkDelivered(ctx.cluster.bootstrap, topic, run.records + run.warmupRecords);
      return producerRunMetrics(run, payloadBytes(w.file, w.records), brokerCpu);
    },
  };
}

function nodeContestant(
  name: string,
  fn: NodeWorker,
  w: KafkaWorkload,
  ekaf?: EkafVariant,
): Contestant<KafkaCluster> {
  return contestant(name, w, async (p) => {
    const m = await runWorker('kafka-producers', fn, { ...p, ekaf }, { timeoutMs: 600_000 });
    return m as unknown as ProducerRun;
  });
}

/**
 * ekaf first (the ratio column is ekaf / each), its variants (named), then Java, librdkafka,
 * kafkajs, platformatic.
 */
export function kafkaContestants(
  w: KafkaWorkload,
  ekafVariants: Record<string, EkafVariant> = {},
): Contestant<KafkaCluster>[] {
  return [
    nodeContestant('ekaf', 'ekaf', w),
    ...Object.entries(ekafVariants).map(([name, v]) => nodeContestant(name, 'ekaf', w, v)),
    contestant('Java', w, (p, cluster) => runJavaProducer(cluster.version, p)),
    contestant('librdkafka', w, (p) => runRdkafkaProducer(p)),
    nodeContestant('kafkajs', 'kafkajs', w),
    nodeContestant('platformatic', 'platformatic', w),
  ];
}

/**
 * The brokers' warm-up (KafkaScenario.warmUpCluster), to a topic of its own, by librdkafka (whose
 * own CPU is the smallest): 300 000 records saturated with its 1 MB batches, then with Java's
 * 16 KiB ones (many
 * more requests: the brokers' per-request code is what takes longest to compile), then paced at
 * 10 000 records/s. Measured on this machine: without the small batches, the brokers' CPU per
 * record of ekaf's runs still fell from 24 to 17 s/M over its first three runs.
 */
export async function warmUpBrokers(
  cluster: KafkaCluster,
  createTopic: (name: string, partitions: number) => Promise<void>,
): Promise<void> {
  const records = 300_000;
  const topic = 'bench-warm-up-brokers';
  await createTopic(topic, PARTITIONS);
  const p = { bootstrap: cluster.bootstrap, topic, file: keyedFile(records, 100), records, warmup: 0 };
  await runRdkafkaProducer({ ...p, rate: 0 });
  await runRdkafkaProducer({ ...p, rate: 0 }, { 'batch.size': '16384' });
  await runRdkafkaProducer({ ...p, records: 30_000, rate: 10_000 });
}
