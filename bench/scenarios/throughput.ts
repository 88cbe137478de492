// Scenario 1: library throughput. Every record of a file ("key:value" lines, 8-byte keys) is
// handed to the client and the time is taken from the first produce call to the last
// acknowledgement (acks=all). Before that, unmeasured, each library client runs the same workload
// on another topic with the first WARM_UP_SHARE of the records: it is measured warm (JIT-compiled,
// connected), as in the long-running daemon it is made for. kcat is a fresh process, timed from
// spawn to exit (its start-up takes milliseconds: there is no JIT to warm).
//   ekaf:     produceAsync in calls of 10 000 records (its own batching), all callbacks awaited,
//             holding at most 100 000 records as kcat's librdkafka queue does (PEER_BUFFER_BOUND);
//   ekaf (batched): the same through produceAsyncBatched (lingerMs 5);
//   ekaf (strings): the same records with string keys and values (what JSON.stringify gives, the
//             common case), converted before the warm-up, unmeasured;
//   kafkajs:  producer.send() of 1000-record batches, 16 sends in flight, acks -1 (its best case);
//   kcat:     `kcat -P -l -K:` of the same file (librdkafka, C): the reference, spawn to exit.
// "CPU s/M rec": user + system CPU seconds per million records, every thread of the process
// (bench/lib/cpu.ts): of the measured phase for the library clients, spawn to exit for kcat.
import type { CompressionTypes } from 'kafkajs';
import type { ProduceRecord } from '../../src/index.js';
import { CPU_PER_M_METRIC, cpuMetric, cpuSecondsSince } from '../lib/cpu.js';
import { keyedFile, readRecords } from '../lib/data.js';
import { checkDelivered, kcatProduce, payloadBytes } from '../lib/kcat.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import {
  rates,
  ratioTarget,
  THROUGHPUT_METRICS,
  type Case,
  type Contestant,
  type Scenario,
} from '../lib/scenario.js';
import { nowMs } from '../lib/stats.js';
import {
  ekafProducer,
  kafkajsProducer,
  PARTITIONS,
  PEER_BUFFER_BOUND,
  pumpEkaf,
  pumpKafkajs,
  warmEkaf,
  warmKafkajs,
} from './clients.js';

/** Share of a run's records first produced, unmeasured, to a warm-up topic (library clients). */
export const WARM_UP_SHARE = 0.5;

export interface ThroughputParams {
  bootstrap: string;
  topic: string;
  file: string;
  /** Where the unmeasured warm-up run goes, and how many records it takes. */
  warmTopic: string;
  warmRecords: number;
  /** Scenario 6: batch compression (kafkajs: gzip only). */
  compression?: 'gzip' | 'snappy' | 'lz4' | 'zstd';
}

export const workers = {
  async ekaf(p: ThroughputParams & { batched: boolean; strings?: boolean }): Promise<Metrics> {
    const records: ProduceRecord[] =
      p.strings === true
        ? readRecords(p.file).map((r) => ({ key: r.key.toString(), value: r.value.toString() }))
        : readRecords(p.file);
    const producer = await ekafProducer(p.bootstrap, {
      ...PEER_BUFFER_BOUND,
      ...(p.compression === undefined ? {} : { defaults: { compression: p.compression } }),
    });
    await warmEkaf(producer, p.topic);
    await pumpEkaf(producer, p.warmTopic, records.slice(0, p.warmRecords), 10_000, p.batched);
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    await pumpEkaf(producer, p.topic, records, 10_000, p.batched);
    const ms = nowMs() - t0;
    const cpu = cpuMetric(cpuSecondsSince(cpu0), records.length);
    await producer.close();
    return {
      ...rates(records.length, payloadBytes(p.file, records.length), ms),
      ...cpu,
      peakRssMB: peakRss(),
    };
  },
  async kafkajs(p: ThroughputParams): Promise<Metrics> {
    const records = readRecords(p.file);
    const { producer } = await kafkajsProducer(p.bootstrap);
    await warmKafkajs(producer, p.topic);
    let codec: CompressionTypes | undefined;
    if (p.compression !== undefined) {
      if (p.compression !== 'gzip') throw new Error(`kafkajs has no built-in ${p.compression}`);
      codec = (await import('kafkajs')).CompressionTypes.GZIP;
    }
    await pumpKafkajs(producer, p.warmTopic, records.slice(0, p.warmRecords), 1000, 16, codec);
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    await pumpKafkajs(producer, p.topic, records, 1000, 16, codec);
    const ms = nowMs() - t0;
    const cpu = cpuMetric(cpuSecondsSince(cpu0), records.length);
    await producer.disconnect();
    return {
      ...rates(records.length, payloadBytes(p.file, records.length), ms),
      ...cpu,
      peakRssMB: peakRss(),
    };
  },
};

/** Peak RSS of this process in MB (includes the records read from the file). */
export function peakRss(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * ekaf, ekaf batched, kafkajs and kcat over one file; with `pure`, also ekaf with EKAF_PURE=1 (no
 * native addon: the pure CRC-32C).
 */
function contestants(file: string, records: number, pure = false): Contestant[] {
  const lib = (
    fn: 'ekaf' | 'kafkajs',
    batched = false,
    env: Record<string, string> = {},
    strings = false,
  ): Contestant['run'] => {
    return async (ctx) => {
      const topic = await ctx.freshTopic(fn);
      const metrics = await runWorker(
        'throughput',
        fn,
        {
          bootstrap: ctx.cluster.bootstrap,
          topic,
          file,
          batched,
          strings,
          warmTopic: await ctx.freshTopic(`${fn}-warm`),
          warmRecords: Math.round(records * WARM_UP_SHARE),
        },
        { env },
      );
      await checkDelivered(ctx.cluster.bootstrap, topic, records, PARTITIONS);
      return metrics;
    };
  };
  return [
    { name: 'ekaf', run: lib('ekaf') },
    ...(pure ? [{ name: 'ekaf (pure)', run: lib('ekaf', false, { EKAF_PURE: '1' }) }] : []),
    { name: 'ekaf (batched)', run: lib('ekaf', true) },
    { name: 'ekaf (strings)', run: lib('ekaf', false, {}, true) },
    { name: 'kafkajs', run: lib('kafkajs') },
    {
      name: 'kcat',
      run: async (ctx) => kcatProduce(ctx.cluster.bootstrap, await ctx.freshTopic('kcat'), file, records),
    },
  ];
}

export const scenario: Scenario = {
  id: '1',
  name: 'Throughput, library (acks=all, 6 partitions, 3 brokers)',
  cases(quick) {
    const small = quick ? 100_000 : 1_000_000;
    const large = quick ? 20_000 : 200_000;
    const targets = (id: string) => [
      ratioTarget(`${id}: ekaf ≥ 1.0× kcat`, 'ekaf', 'kcat', 'recPerSec', 1.0, true),
      ratioTarget(
        `${id}: ekaf with string records ≥ 1.0× kcat`,
        'ekaf (strings)',
        'kcat',
        'recPerSec',
        1.0,
        true,
      ),
      ratioTarget(`${id}: ekaf ≥ 15× kafkajs`, 'ekaf', 'kafkajs', 'recPerSec', 15, true),
    ];
    const cases: Case[] = [
      {
        id: '1a',
        title: `${small.toLocaleString('en-US')} × 100 B values, 8 B keys`,
        contestants: contestants(keyedFile(small, 100), small, true),
        metrics: [
          ...THROUGHPUT_METRICS,
          CPU_PER_M_METRIC,
          { key: 'peakRssMB', label: 'peak RSS MB', higherIsBetter: false },
        ],
        targets: [
          ...targets('1a'),
          ratioTarget(
            'Pure path (no native addon) ≥ 0.8× the native path on 1a',
            'ekaf (pure)',
            'ekaf',
            'recPerSec',
            0.8,
            true,
          ),
        ],
      },
      {
        id: '1b',
        title: `${large.toLocaleString('en-US')} × 1 KiB values, 8 B keys`,
        contestants: contestants(keyedFile(large, 1024), large),
        metrics: [
          ...THROUGHPUT_METRICS,
          CPU_PER_M_METRIC,
          { key: 'peakRssMB', label: 'peak RSS MB', higherIsBetter: false },
        ],
        targets: targets('1b'),
      },
    ];
    return cases;
  },
};
