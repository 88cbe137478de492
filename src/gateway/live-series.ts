import type { Producer } from '../producer.js';
import type { ProducerEvents } from '../events.js';
import { ofKind } from '../runtime/introspection.js';
import { health, type Health } from './health.js';

/**
 * The last minutes of the producer, second by second, for the visualizer's charts: per topic
 * and per broker, records and bytes acknowledged, acknowledgement latency p50 / p99, and per
 * topic the records buffered, the batches retried and the records failed; with the health state
 * of each second.
 *
 * Counted from the producer's events (`batch.acked`, `delivery.failed`) as they happen, and from
 * `inspect()` once a second (buffered, retries). Bounded: `keep` samples (5 minutes), each with
 * an entry per topic and broker that had any activity or holds records; topics are bounded by
 * the gateway's `maxTopics`, brokers by the cluster.
 */
export interface TopicPoint {
  /** Records acknowledged in the second. */
  records: number;
  /** Bytes of batches acknowledged (as sent, compressed). */
  bytes: number;
  /** Acknowledgement latency of the batches acknowledged in the second, ms (null: none). */
  p50: number | null;
  p99: number | null;
  /** Records held at the end of the second (accepted, not yet acknowledged or failed). */
  buffered: number;
  /** Batches sent again in the second. */
  retries: number;
  /** Records that failed for good in the second. */
  errors: number;
}

export type BrokerPoint = Pick<TopicPoint, 'records' | 'bytes' | 'p50' | 'p99'>;

export interface SeriesSample {
  /** End of the second, ms since the epoch. */
  t: number;
  health: Health;
  topics: Record<string, TopicPoint>;
  /** By broker id. */
  brokers: Record<string, BrokerPoint>;
}

export interface LiveSeriesOptions {
  /** Default 1000. */
  intervalMs?: number;
  /** Samples kept. Default 300 (5 minutes of seconds). */
  keep?: number;
  /** The clock, ms since the epoch; tests move it. */
  now?: () => number;
}

/** Failures older than this no longer make the health `degraded`. */
const FAILURE_MEMORY_MS = 60_000;

export class LiveSeries {
  readonly intervalMs: number;
  private readonly keep: number;
  private readonly now: () => number;
  private readonly samples: SeriesSample[] = [];
  private topics = new Map<string, Tally>();
  private brokers = new Map<string, Tally>();
  /** Batches retried so far, per topic, at the last sample (the counters only grow). */
  private readonly retriedBefore = new Map<string, number>();
  /** [time, records] of recent failures, oldest first. */
  private readonly failures: [number, number][] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly detach: () => void;

  constructor(
    private readonly producer: Producer,
    options: LiveSeriesOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.keep = options.keep ?? 300;
    this.now = options.now ?? Date.now;
    const onAcked: ProducerEvents['batch.acked'] = ({ topic, broker, records, bytes, latencyMs }) => {
      tally(this.topics, topic).ack(records, bytes, latencyMs);
      tally(this.brokers, String(broker)).ack(records, bytes, latencyMs);
    };
    const onFailed: ProducerEvents['delivery.failed'] = ({ topic, failed }) => {
      tally(this.topics, topic).errors += failed;
      this.failures.push([this.now(), failed]);
    };
    producer.on('batch.acked', onAcked);
    producer.on('delivery.failed', onFailed);
    this.detach = () => {
      producer.off('batch.acked', onAcked);
      producer.off('delivery.failed', onFailed);
    };
  }

  /** Samples every intervalMs until stop(); the timer does not keep Node running. */
  start(): void {
    this.timer ??= setInterval(() => {
      this.sample();
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.detach();
  }

  /** Closes the current second: what was counted since the last sample, and the state now. */
  sample(): SeriesSample {
    const t = this.now();
    const actors = this.producer.inspect();
    const buffered = new Map<string, number>();
    const retried = new Map<string, number>();
    for (const partition of ofKind(actors, 'partition')) {
      const { topic } = partition.details;
      buffered.set(topic, (buffered.get(topic) ?? 0) + partition.details.bufferedRecords);
      retried.set(topic, (retried.get(topic) ?? 0) + partition.details.batchesRetried);
    }
    const topics: Record<string, TopicPoint> = {};
    for (const name of new Set([...this.topics.keys(), ...buffered.keys()])) {
      const counted = this.topics.get(name) ?? new Tally();
      const retriedNow = retried.get(name) ?? 0;
      const retries = Math.max(0, retriedNow - (this.retriedBefore.get(name) ?? retriedNow));
      this.retriedBefore.set(name, retriedNow);
      const held = buffered.get(name) ?? 0;
      // A topic with nothing to say this second is left out (the chart reads it as zero).
      if (counted.records === 0 && counted.errors === 0 && held === 0 && retries === 0) continue;
      topics[name] = { ...counted.point(), buffered: held, retries, errors: counted.errors };
    }
    const brokers: Record<string, BrokerPoint> = {};
    for (const [id, counted] of this.brokers) brokers[id] = counted.point();
    this.topics = new Map();
    this.brokers = new Map();

    while (this.failures.length > 0 && (this.failures[0] as [number, number])[0] <= t - FAILURE_MEMORY_MS) {
      this.failures.shift();
    }
    const recentFailures = this.failures.reduce((sum, [, records]) => sum + records, 0);
    const sample: SeriesSample = { t, health: health(actors, recentFailures), topics, brokers };
    this.samples.push(sample);
    if (this.samples.length > this.keep) this.samples.shift();
    return sample;
  }

  /** The samples after `since` (ms since the epoch; 0: all kept), oldest first. */
  since(since = 0): SeriesSample[] {
    let first = this.samples.length;
    while (first > 0 && (this.samples[first - 1] as SeriesSample).t > since) first--;
    return this.samples.slice(first);
  }

  /** The last sample's health, or the health now when none was taken yet. */
  health(): Health {
    return this.samples.at(-1)?.health ?? health(this.producer.inspect());
  }
}

function tally(map: Map<string, Tally>, key: string): Tally {
  let found = map.get(key);
  if (found === undefined) {
    found = new Tally();
    map.set(key, found);
  }
  return found;
}

/**
 * One second's counts for a topic or a broker. Latencies go into buckets a quarter of a power
 * of two wide (≤ 19 % apart): p50 and p99 are read from them without keeping every value.
 */
class Tally {
  records = 0;
  bytes = 0;
  errors = 0;
  private batches = 0;
  private readonly buckets = new Map<number, number>();

  ack(records: number, bytes: number, latencyMs: number): void {
    this.records += records;
    this.bytes += bytes;
    this.batches += 1;
    const bucket = Math.ceil(Math.log2(Math.max(latencyMs, 0.25)) * 4);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
  }

  point(): BrokerPoint {
    return { records: this.records, bytes: this.bytes, p50: this.quantile(0.5), p99: this.quantile(0.99) };
  }

  /** The upper bound of the bucket holding the q-quantile of the batches' latencies, in ms. */
  private quantile(q: number): number | null {
    if (this.batches === 0) return null;
    const rank = Math.ceil(q * this.batches);
    let seen = 0;
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket) ?? 0;
      if (seen >= rank) return Math.round(2 ** (bucket / 4) * 100) / 100;
    }
    return null;
  }
}
