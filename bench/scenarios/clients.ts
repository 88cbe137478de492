// Child-side helpers: how each client is set up and driven, shared by the scenarios.
// Imported by worker processes only (each loads just the client it measures).
import type { Kafka, Producer as KafkaJsProducer, CompressionTypes } from 'kafkajs';
import type { Producer as PlatformaticProducer } from '@platformatic/kafka';
import type { Producer, ProducerOptions, ProduceRecord } from '../../src/index.js';
import type { Rec } from '../lib/data.js';

export const PARTITIONS = 6;

/**
 * ekaf as an application that installed it runs it: the compiled package (dist/, which `npm run
 * bench` builds first), not its TypeScript sources transpiled at start-up by tsx, which the
 * workers run under. kafkajs and @platformatic/kafka are plain JavaScript too; a worker's
 * whole-process CPU (scenario 10) counted tsx's start-up as ekaf's: 4.39 CPU s for a run whose
 * measured phase took 1.06 (500 000 records after 250 000 of warm-up, mock cluster).
 */
export async function ekafModule(): Promise<typeof import('../../src/index.js')> {
  const compiled = new URL('../../dist/src/index.js', import.meta.url).href;
  return (await import(compiled)) as typeof import('../../src/index.js');
}

/**
 * An ekaf producer with buffer bounds large enough to hold a whole run (the library scenarios
 * hand it everything at once); otherwise ekaf's defaults: acks all, idempotent, lingerMs 5.
 */
export async function ekafProducer(brokers: string, extra: Partial<ProducerOptions> = {}): Promise<Producer> {
  const { createProducer } = await ekafModule();
  return createProducer({
    brokers,
    clientId: 'ekaf-bench',
    maxBufferedRecords: 4_000_000,
    maxBufferedBytes: 2 * 1024 * 1024 * 1024,
    ...extra,
  });
}

/**
 * The buffer bound of the throughput runs, the same as kcat's and the C driver's: librdkafka's
 * default queue (queue.buffering.max.messages 100 000; max.kbytes 1 GiB). A call refused for a
 * full buffer waits for the next completion (pumpEkaf), as kcat waits on a full queue.
 *
 * Handing ekaf a whole run at once instead (a buffer of millions) costs it half its speed:
 * 120 MB of fresh batch buffers grow external memory while the run's million input records are
 * alive, and V8 answers with full collections of that heap; a bounded buffer recycles the same
 * few megabytes (.scratch measurements in the commit that set this).
 */
export const PEER_BUFFER_BOUND: Partial<ProducerOptions> = {
  maxBufferedRecords: 100_000,
  maxBufferedBytes: 1024 * 1024 * 1024,
};

/** One record to each partition, awaited: metadata fetched and every leader connected. */
export async function warmEkaf(producer: Producer, topic: string): Promise<void> {
  const records: ProduceRecord[] = [];
  for (let p = 0; p < PARTITIONS; p++) records.push({ value: 'warm-up', partition: p });
  await producer.produceSync(topic, records);
}

/**
 * Hands `records` to ekaf in calls of `chunk` records (produceAsync, or produceAsyncBatched)
 * and resolves when every record is acknowledged. A call refused for a full buffer is retried
 * after the next completion. Rejects on the first failed record.
 */
export function pumpEkaf(
  producer: Producer,
  topic: string,
  records: readonly ProduceRecord[],
  chunk: number,
  batched = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let outstanding = 0;
    let failed = false;
    const done = (error: Error | null): void => {
      outstanding--;
      if (error !== null && !failed) {
        failed = true;
        reject(error);
        return;
      }
      if (next < records.length) feed();
      else if (outstanding === 0 && !failed) resolve();
    };
    const feed = (): void => {
      while (next < records.length) {
        const call = records.slice(next, next + chunk);
        try {
          if (batched) producer.produceAsyncBatched(topic, call, done);
          else producer.produceAsync(topic, call, done);
        } catch (error) {
          if ((error as { code?: string }).code === 'ERR_BUFFER_FULL' && outstanding > 0) return;
          throw error;
        }
        outstanding++;
        next += call.length;
      }
    };
    feed();
  });
}

/**
 * A kafkajs producer as its docs recommend for throughput: the default (Java-compatible)
 * partitioner, idempotent false (kafkajs's default) unless asked, logs off.
 */
export async function kafkajsProducer(
  brokers: string,
  idempotent = false,
): Promise<{ kafka: Kafka; producer: KafkaJsProducer }> {
  const { Kafka, logLevel, Partitioners } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: 'kafkajs-bench',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    idempotent,
  });
  await producer.connect();
  return { kafka, producer };
}

export async function warmKafkajs(producer: KafkaJsProducer, topic: string): Promise<void> {
  const messages = [];
  for (let p = 0; p < PARTITIONS; p++) messages.push({ value: 'warm-up', partition: p });
  await producer.send({ topic, acks: -1, messages });
}

/**
 * kafkajs's best case for bulk: `send()` of `batch`-record batches, `inFlight` sends at a time,
 * acks -1. Resolves when every send resolved.
 */
export async function pumpKafkajs(
  producer: KafkaJsProducer,
  topic: string,
  records: readonly Rec[],
  batch: number,
  inFlight: number,
  compression?: CompressionTypes,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < records.length) {
      const messages = records.slice(next, next + batch);
      next += messages.length;
      await producer.send({
        topic,
        acks: -1,
        messages,
        ...(compression === undefined ? {} : { compression }),
      });
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/**
 * A @platformatic/kafka producer as its README sets one up for delivery guarantees: idempotent,
 * acks all, Java's partitioner (murmur2), no topic auto-creation. `idempotent: false` for the
 * librdkafka mock: its InitProducerId answers @platformatic/kafka 2.12.1 with UNKNOWN_PRODUCER_ID
 * (59), so on the mock it runs without idempotence, a lighter load than ekaf's.
 */
export async function platformaticProducer(
  bootstrap: string,
  idempotent = true,
): Promise<PlatformaticProducer> {
  // @platformatic/kafka 2.x wants Node >= 22 (its engines field) for Promise.withResolvers
  // alone, as far as these runs go: on Node 20 it gets this equivalent first.
  if (!('withResolvers' in Promise)) {
    Object.defineProperty(Promise, 'withResolvers', {
      configurable: true,
      writable: true,
      value<T>() {
        let resolve!: (value: T) => void;
        let reject!: (reason: unknown) => void;
        const promise = new Promise<T>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        return { promise, resolve, reject };
      },
    });
  }
  const { Producer, ProduceAcks, compatibilityPartitioner } = await import('@platformatic/kafka');
  return new Producer({
    clientId: 'platformatic-bench',
    bootstrapBrokers: bootstrap.split(','),
    idempotent,
    acks: ProduceAcks.ALL,
    partitioner: compatibilityPartitioner,
    autocreateTopics: false,
  });
}
