// Scenario 13: scaling with partitions, topics and record sizes (issue 16, item 2). A partition
// worker per partition must stay cheap while idle, and a gateway that sees a new topic of 1 000
// partitions must not stall on it. Every ekaf run is its own process, with --expose-gc.
//
// 13a-d. First produce to N partitions: one producer, connected (an unmeasured record to each
//   partition of a 6-partition warm-up topic: metadata, the three broker connections, the
//   producer id), then one produceAsync call of one record per partition (explicit partition) to
//   a topic it has never seen; with 1 000 topics of 1 partition, one call per topic. Measured:
//     first ack ms  from the first call until every record is acknowledged;
//     CPU ms        the process's CPU time (user + system) over that span;
//     return ms     from the first call until the last call returned;
//     heap/worker   heapUsed after the records were acknowledged and the producer went idle,
//                   minus before the first call (both after forced GCs), per partition worker
//                   (with its topic's share: a topic actor per partition in 13d);
//     ext/worker    the same for external memory (Buffers' bytes, off the V8 heap);
//     timers/worker active timers (process.getActiveResourcesInfo(), ref'd 'Timeout's) held
//                   while idle, minus before, per worker;
//     loop max ms   the longest event-loop stall during the first produce (monitorEventLoopDelay);
//     next topic    the same first produce again, to as many new topics of the same shape, in the
//                   same process (warm, as a gateway's is when it meets a new topic).
//   kcat beside it (13a-c): N keyed records whose keys murmur2 to each partition once
//   (-X topic.partitioner=murmur2), a fresh process timed from spawn to exit (it connects, fetches
//   metadata and starts a thread per broker inside that time; ekaf was connected before).
// 13e-h. Throughput with 1, 100 and 1 000 partitions of one topic, and 1 000 topics of one
//   partition: 100 B values with 8 B keys (produceAsync in calls of 1 000; over 1 000 topics
//   each call goes to the next topic). Warm: an unmeasured first share of the records to the
//   same topics first (their workers exist and are compiled). Also heap after the run (after
//   GC) and the event loop's delay during it (p99, max). kcat on the same keyed file (13e-g;
//   it takes one topic per run).
// 13i-l. Record sizes 10 B, 1 KiB, 100 KiB, 1 MiB (values, 8 B keys, 6 partitions), MB/s.
//   maxRequestBytes (ekaf) and message.max.bytes (kcat) are 2 MiB for every size, so that a
//   1 MiB record fits.
// 13m. Memory per buffered record at 1 000 partitions: scenario 5's measure (bench/scenarios/
//   memory.ts) on a topic of 1 000 partitions, each of which first takes one record; all
//   brokers down, 1 000 000 × 100 B values buffered (no key: the sticky partitioner fills one
//   partition's batch, then the next).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import type { Producer, ProduceRecord } from '../../src/index.js';
import { murmur2, toPositive } from '../../src/runtime/partitioners.js';
import { DATA_DIR, keyedFile, readRecords, type Rec } from '../lib/data.js';
import { checkDelivered, kcatProduce, payloadBytes } from '../lib/kcat.js';
import { runWorker, timeCommand, type Metrics } from '../lib/proc.js';
import {
  rates,
  ratioTarget,
  type Case,
  type Contestant,
  type MetricSpec,
  type RunContext,
  type Scenario,
  type Target,
} from '../lib/scenario.js';
import { nowMs } from '../lib/stats.js';
import { ekafProducer, pumpEkaf, warmEkaf } from './clients.js';
import { bufferedRecordCase } from './memory.js';

declare const gc: (() => void) | undefined;

/** Heap and external memory after forced GCs. */
export function settledMemory(): NodeJS.MemoryUsage {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
}

/** Active ref'd timers of this process (what keeps its event loop awake). */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/**
 * The event loop's delay from now on, in ms when read (p99, max). Resolves after a turn of the
 * loop: the histogram's timer starts on the next turn, so a stall in the turn that enabled it
 * would go unseen.
 */
async function loopDelay(): Promise<{ stop(): Metrics }> {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await nextTurn(5);
  return {
    stop() {
      h.disable();
      return { loopP99Ms: h.percentile(99) / 1e6, loopMaxMs: h.max / 1e6 };
    },
  };
}

/** Resolves on the next turn of the event loop, after pending immediates and I/O callbacks. */
function nextTurn(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A CPU profile from now until stop(), written to `<dir>/<name>.cpuprofile`; nothing without a dir. */
async function profileTo(dir: string | undefined): Promise<{ stop(name: string): Promise<void> }> {
  if (dir === undefined) return { stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      session.post(method, (error, result) => {
        if (error === null) resolve(result);
        else reject(error);
      });
    });
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop(name) {
      const { profile } = (await post('Profiler.stop')) as { profile: object };
      writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * One produceAsync call per topic of one record per partition (explicit partition), to topics the
 * producer has never seen: the time until every record is acknowledged, the process's CPU time
 * over it (what survives a busy machine), the time until the calls returned, the longest loop
 * stall. EKAF_CPU_PROFILE=<dir>: a CPU profile of it alone, `<dir>/<name>.cpuprofile`.
 */
async function firstProduceTo(
  producer: Producer,
  topics: readonly string[],
  partitions: number,
  name: string,
): Promise<{ ackMs: number; cpuMs: number; returnMs: number; loopMaxMs: number }> {
  const calls = topics.map((topic) => {
    const records: ProduceRecord[] = [];
    for (let partition = 0; partition < partitions; partition++) records.push({ value: 'first', partition });
    return { topic, records };
  });
  const delay = await loopDelay();
  const profile = await profileTo(process.env.EKAF_CPU_PROFILE);
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  const acked = calls.map(({ topic, records }) => produceCall(producer, topic, records));
  const returnMs = nowMs() - t0;
  await Promise.all(acked);
  const ackMs = nowMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  await profile.stop(name);
  return {
    ackMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    returnMs,
    loopMaxMs: delay.stop().loopMaxMs as number,
  };
}

interface FirstProduceParams {
  bootstrap: string;
  warmTopic: string;
  /** One topic of `partitions`, or many of one partition each. */
  topics: string[];
  /** As many topics of the same shape, produced to after (the process warm). */
  nextTopics: string[];
  partitions: number;
}

interface ThroughputParams {
  bootstrap: string;
  topics: string[];
  file: string;
  /** Records of the file first produced, unmeasured, to the same topics. */
  warmRecords: number;
  /** Records per produceAsync call. */
  chunk: number;
  maxRequestBytes?: number;
}

/** produceAsync, settled when every record of the call is (a callback of one argument: no reports). */
function produceCall(producer: Producer, topic: string, records: readonly ProduceRecord[]): Promise<void> {
  return new Promise((resolve, reject) => {
    producer.produceAsync(topic, records, (error) => {
      if (error === null) resolve();
      else reject(error);
    });
  });
}

/**
 * Hands `records` to ekaf in calls of `chunk` records, the calls going round `topics`, and
 * resolves when every record is acknowledged.
 */
async function pumpTopics(
  producer: Producer,
  topics: readonly string[],
  records: readonly ProduceRecord[],
  chunk: number,
): Promise<void> {
  if (topics.length === 1) return pumpEkaf(producer, topics[0] as string, records, chunk);
  let call = 0;
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < records.length; i += chunk) {
    const topic = topics[call++ % topics.length] as string;
    calls.push(produceCall(producer, topic, records.slice(i, i + chunk)));
  }
  await Promise.all(calls);
}

export const workers = {
  async firstProduce(p: FirstProduceParams): Promise<Metrics> {
    const producer = await ekafProducer(p.bootstrap);
    await warmEkaf(producer, p.warmTopic);
    const workersMade = p.topics.length * p.partitions;
    await nextTurn(50);
    const before = settledMemory();
    // EKAF_HEAP_SNAPSHOTS=<dir>: heap snapshots before the first produce and once idle, for
    // bench/heap-diff.ts (what the workers hold, by constructor).
    const snapshots = process.env.EKAF_HEAP_SNAPSHOTS;
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, 'before.heapsnapshot'));
    const timersBefore = activeTimers();
    const first = await firstProduceTo(producer, p.topics, p.partitions, 'first-produce');
    // Idle: what a settled batch leaves behind (the sender's linger timer, immediates) is gone.
    await nextTurn(50);
    const after = settledMemory();
    if (snapshots !== undefined) writeHeapSnapshot(join(snapshots, 'idle.heapsnapshot'));
    const timersAfter = activeTimers();
    const workers = producer.inspect().filter((a) => a.kind === 'partition').length;
    if (workers !== workersMade + 6)
      throw new Error(`${workers} partition actors, expected ${workersMade + 6}`);
    // The same again to topics of the same shape, in the same (now warm) process: a gateway that
    // meets a new topic has met others before.
    const next = await firstProduceTo(producer, p.nextTopics, p.partitions, 'next-produce');
    await producer.close();
    return {
      firstAckMs: first.ackMs,
      firstCpuMs: first.cpuMs,
      returnMs: first.returnMs,
      nextAckMs: next.ackMs,
      nextCpuMs: next.cpuMs,
      heapPerWorker: (after.heapUsed - before.heapUsed) / workersMade,
      extPerWorker: (after.external - before.external) / workersMade,
      timersPerWorker: (timersAfter - timersBefore) / workersMade,
      loopMaxMs: first.loopMaxMs,
    };
  },

  async throughput(p: ThroughputParams): Promise<Metrics> {
    const records: Rec[] = readRecords(p.file);
    const producer = await ekafProducer(
      p.bootstrap,
      p.maxRequestBytes === undefined ? {} : { maxRequestBytes: p.maxRequestBytes },
    );
    await pumpTopics(producer, p.topics, records.slice(0, p.warmRecords), p.chunk);
    const delay = await loopDelay();
    const t0 = nowMs();
    await pumpTopics(producer, p.topics, records, p.chunk);
    const ms = nowMs() - t0;
    const loop = delay.stop();
    const heapMB = settledMemory().heapUsed / 2 ** 20;
    await producer.close();
    return { ...rates(records.length, payloadBytes(p.file, records.length), ms), heapMB, ...loop };
  },
};

/** A file of `partitions` lines "key:first" whose keys murmur2 to partitions 0, 1, 2… once each. */
function onePerPartitionFile(partitions: number): string {
  const path = join(DATA_DIR, `one-per-partition-${partitions}.txt`);
  if (existsSync(path)) return path;
  mkdirSync(DATA_DIR, { recursive: true });
  const keys = new Array<string | undefined>(partitions);
  let found = 0;
  for (let i = 0; found < partitions; i++) {
    const key = `k${i}`;
    const partition = toPositive(murmur2(Buffer.from(key))) % partitions;
    if (keys[partition] === undefined) {
      keys[partition] = key;
      found++;
    }
  }
  writeFileSync(path, keys.map((k) => `${k}:first\n`).join(''));
  return path;
}

const FIRST_METRICS: MetricSpec[] = [
  { key: 'firstAckMs', label: 'ms to every ack', higherIsBetter: false },
  { key: 'firstCpuMs', label: 'CPU ms', higherIsBetter: false },
  { key: 'returnMs', label: 'ms to return', higherIsBetter: false },
  { key: 'nextAckMs', label: 'ms to every ack, next topic', higherIsBetter: false },
  { key: 'nextCpuMs', label: 'CPU ms, next topic', higherIsBetter: false },
  { key: 'heapPerWorker', label: 'B heap/worker', higherIsBetter: false },
  { key: 'extPerWorker', label: 'B ext/worker', higherIsBetter: false },
  { key: 'timersPerWorker', label: 'timers/worker', higherIsBetter: false },
  { key: 'loopMaxMs', label: 'ms loop max', higherIsBetter: false },
];

const THROUGHPUT: MetricSpec[] = [
  { key: 'recPerSec', label: 'records/s', higherIsBetter: true },
  { key: 'mbPerSec', label: 'MB/s', higherIsBetter: true },
  { key: 'heapMB', label: 'MB heap after', higherIsBetter: false },
  { key: 'loopP99Ms', label: 'ms loop p99', higherIsBetter: false },
  { key: 'loopMaxMs', label: 'ms loop max', higherIsBetter: false },
];

/** A target "ekaf's `key` ≤ limit", printed with `unit`. */
function atMost(label: string, key: string, limit: number, unit: string): Target {
  return {
    label,
    evaluate(medians) {
      const v = medians.ekaf?.[key];
      if (v === undefined) return undefined;
      return { measured: `${v.toFixed(1)} ${unit} (limit ${limit} ${unit})`, pass: v <= limit };
    },
  };
}

function firstProduceCase(id: string, topicCount: number, partitions: number): Case {
  const ekaf: Contestant = {
    name: 'ekaf',
    run: async (ctx: RunContext) => {
      const topics: string[] = [];
      const nextTopics: string[] = [];
      for (let t = 0; t < topicCount; t++) topics.push(await ctx.freshTopic('ekaf', partitions));
      for (let t = 0; t < topicCount; t++) nextTopics.push(await ctx.freshTopic('next', partitions));
      return runWorker(
        'scaling',
        'firstProduce',
        {
          bootstrap: ctx.cluster.bootstrap,
          warmTopic: await ctx.freshTopic('warm'),
          topics,
          nextTopics,
          partitions,
        } satisfies FirstProduceParams,
        { execArgv: ['--expose-gc'] },
      );
    },
  };
  const kcat: Contestant = {
    name: 'kcat',
    run: async (ctx: RunContext) => {
      const topic = await ctx.freshTopic('kcat', partitions);
      const file = onePerPartitionFile(partitions);
      const args = ['-P', '-b', ctx.cluster.bootstrap, '-t', topic, '-K', ':', '-l'];
      args.push('-X', 'acks=all', '-X', 'topic.partitioner=murmur2', file);
      const r = await timeCommand('kcat', args);
      if (r.code !== 0 || /fail|error/i.test(r.stderr)) throw new Error(`kcat exited ${r.code}: ${r.stderr}`);
      await checkDelivered(ctx.cluster.bootstrap, topic, partitions);
      return { firstAckMs: r.ms };
    },
  };
  const targets: Target[] =
    topicCount === 1 && partitions === 1000
      ? [
          atMost(`${id}: first produce to 1 000 partitions ≤ 100 ms`, 'firstAckMs', 100, 'ms'),
          atMost(`${id}: heap per idle partition worker ≤ 4 KB`, 'heapPerWorker', 4096, 'B'),
          atMost(`${id}: timers per idle partition worker = 0`, 'timersPerWorker', 0, 'timers'),
        ]
      : [];
  return {
    id,
    title:
      topicCount === 1
        ? `first produce to ${partitions.toLocaleString('en-US')} partitions, idle workers after`
        : `first produce to ${topicCount.toLocaleString('en-US')} topics of ${partitions} partition, idle workers after`,
    contestants: topicCount === 1 ? [ekaf, kcat] : [ekaf],
    metrics: FIRST_METRICS,
    targets,
  };
}

function throughputCase(
  id: string,
  title: string,
  opts: {
    topicCount: number;
    partitions: number;
    records: number;
    valueBytes: number;
    chunk: number;
    sizeFirst?: boolean;
  },
): Case {
  const file = keyedFile(opts.records, opts.valueBytes);
  // A 1 MiB value and its key are more than the default 1 MiB request (ekaf) and 1 000 000 B
  // message (librdkafka): both clients get room for it.
  const big = opts.valueBytes >= 1 << 20;
  const ekaf: Contestant = {
    name: 'ekaf',
    run: async (ctx) => {
      const topics: string[] = [];
      for (let t = 0; t < opts.topicCount; t++) topics.push(await ctx.freshTopic('ekaf', opts.partitions));
      const warmRecords = Math.round(opts.records * 0.2);
      const metrics = await runWorker(
        'scaling',
        'throughput',
        {
          bootstrap: ctx.cluster.bootstrap,
          topics,
          file,
          warmRecords,
          chunk: opts.chunk,
          maxRequestBytes: big ? 2 << 20 : undefined,
        } satisfies ThroughputParams,
        { execArgv: ['--expose-gc'] },
      );
      if (opts.topicCount === 1)
        await checkDelivered(ctx.cluster.bootstrap, topics[0] as string, opts.records, warmRecords);
      return metrics;
    },
  };
  const kcat: Contestant = {
    name: 'kcat',
    run: async (ctx) =>
      kcatProduce(
        ctx.cluster.bootstrap,
        await ctx.freshTopic('kcat', opts.partitions),
        file,
        opts.records,
        big ? ['-X', `message.max.bytes=${2 << 20}`] : [],
      ),
  };
  const metrics = opts.sizeFirst
    ? [THROUGHPUT[1] as MetricSpec, THROUGHPUT[0] as MetricSpec, ...THROUGHPUT.slice(2)]
    : THROUGHPUT;
  return {
    id,
    title,
    contestants: opts.topicCount === 1 ? [ekaf, kcat] : [ekaf],
    metrics,
    targets:
      opts.topicCount === 1
        ? [ratioTarget(`${id}: ekaf ≥ 1.0× kcat`, 'ekaf', 'kcat', metrics[0]?.key as string, 1.0, true)]
        : [],
  };
}

export const scenario: Scenario = {
  id: '13',
  name: 'Scaling: partitions, topics, record sizes (acks=all, 3 brokers)',
  cases(quick) {
    const small = quick ? 100_000 : 1_000_000;
    const cases: Case[] = [
      firstProduceCase('13a', 1, 10),
      firstProduceCase('13b', 1, 100),
      firstProduceCase('13c', 1, 1000),
      firstProduceCase('13d', 1000, 1),
    ];
    for (const [id, topicCount, partitions] of [
      ['13e', 1, 1],
      ['13f', 1, 100],
      ['13g', 1, 1000],
      ['13h', 1000, 1],
    ] as const) {
      const where =
        topicCount === 1
          ? `${partitions.toLocaleString('en-US')} partition${partitions === 1 ? '' : 's'}`
          : `${topicCount.toLocaleString('en-US')} topics of 1 partition`;
      cases.push(
        throughputCase(id, `${small.toLocaleString('en-US')} × 100 B values, 8 B keys, ${where}`, {
          topicCount,
          partitions,
          records: small,
          valueBytes: 100,
          chunk: 1000,
        }),
      );
    }
    // About the same bytes per size (100 MB to 200 MB), fewer for the small records.
    for (const [id, label, valueBytes, full] of [
      ['13i', '10 B', 10, 1_000_000],
      ['13j', '1 KiB', 1024, 200_000],
      ['13k', '100 KiB', 100 * 1024, 2000],
      ['13l', '1 MiB', 1024 * 1024, 200],
    ] as const) {
      const records = quick ? full / 10 : full;
      cases.push(
        throughputCase(id, `${records.toLocaleString('en-US')} × ${label} values, 8 B keys, 6 partitions`, {
          topicCount: 1,
          partitions: 6,
          records,
          valueBytes,
          chunk: Math.max(1, Math.min(1000, Math.floor((1 << 20) / valueBytes))),
          sizeFirst: true,
        }),
      );
    }
    cases.push(bufferedRecordCase('13m', small, 1000));
    return cases;
  },
};
