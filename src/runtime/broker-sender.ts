import type Long from 'long';
import type { TopicSettings } from '../config.js';
import { wireAcks } from '../config-topic-settings.js';
import { EkafError, EncodeError } from '../errors.js';
import type { Connection } from '../network/connection.js';
import {
  Produce,
  type ProducePartitionResponse,
  type ProduceRequest,
  type ProduceResponse,
} from '../protocol/apis/produce.js';
import type { Codec } from '../protocol/compression.js';
import type { PartitionLog, ProducerStamp } from './partition-log.js';
import { UnsendableBatch, type SealedBatch } from './sealed-batch.js';

/** What the sender needs of a partition: its log, its settings, and whether it may send. */
export interface SendablePartition {
  readonly log: PartitionLog;
  readonly settings: () => TopicSettings;
  /** The worker is `ready` (its machine says batches may flow). */
  readonly isReady: () => boolean;
  /** The producer identity to stamp new batches with (idempotence), or null. */
  readonly stamp: () => ProducerStamp | null;
  /** The topic's codec; null for no compression; undefined while it is still loading. */
  readonly codec: () => Codec | null | undefined;
}

/** Where the outcome of each batch goes (the runtime). */
export interface SendOutcomes<P extends SendablePartition> {
  acknowledged(partition: P, batch: SealedBatch, response: ProducePartitionResponse | null): void;
  /**
   * The broker answered with an error for this partition. `endpoints`: the response's
   * addresses of the leaders its current-leader hints name (KIP-951, Produce v10+).
   */
  rejected(
    partition: P,
    batch: SealedBatch,
    response: ProducePartitionResponse,
    endpoints: ProduceResponse['nodeEndpoints'],
  ): void;
  /** No answer: the request failed as a whole (connection lost, timeout). */
  lost(partition: P, batch: SealedBatch, error: EkafError): void;
  /**
   * The request could not be built or encoded (ERR_ENCODE): it was never sent, and resending
   * the same batch would fail the same way, so the batch fails for good.
   */
  unsendable(partition: P, batch: SealedBatch, error: EkafError): void;
}

interface Entry<P> {
  partition: P;
  batch: SealedBatch;
}

/**
 * Sends the batches of every partition one broker leads. When the connection has a free
 * request slot it collects at most one batch per partition, in rotation so that no partition
 * starves, up to `maxRequestBytes`, into one Produce request; batches of topics with different
 * acks go in different requests. Each partition's own in-flight limit is respected.
 */
export class BrokerSender<P extends SendablePartition> {
  connection: Connection | null = null;
  produceVersion = 3;
  private readonly partitions: P[] = [];
  private rotation = 0;
  /** Produce requests sent on the current or an earlier connection and not answered yet. */
  private requestsInFlight = 0;
  private drainScheduled = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private lingerAt = Infinity;

  constructor(
    readonly brokerId: number,
    private readonly maxRequestBytes: number,
    private readonly outcomes: SendOutcomes<P>,
    /** A transactional producer's id, sent with every Produce request; null otherwise. */
    private readonly transactionalId: string | null = null,
    /**
     * The highest Produce version allowed (a transactional producer: v12 announces transactions
     * v2, so it is sent only when the coordinator speaks them).
     */
    private readonly maxProduceVersion: (() => number) | null = null,
  ) {}

  get led(): readonly P[] {
    return this.partitions;
  }

  lead(partition: P): void {
    if (!this.partitions.includes(partition)) this.partitions.push(partition);
  }

  unlead(partition: P): void {
    const index = this.partitions.indexOf(partition);
    if (index !== -1) this.partitions.splice(index, 1);
  }

  /**
   * Drains soon: once per turn of the event loop, however many records were appended in it.
   * setImmediate rather than a microtask: callers woken by one response (each awaiting its
   * produceSync, then producing again) all append before the drain, so their records share
   * requests instead of leaving one per request. The check phase follows the poll phase in the
   * same loop iteration, so this adds microseconds, not a timer's delay.
   */
  requestDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Sends as many requests as the connection has slots for and there are batches to fill. */
  drain(): void {
    const connection = this.connection;
    if (connection === null || !connection.isOpen) return;
    const now = Date.now();
    while (connection.hasCapacity) {
      const entries = this.collect(now);
      if (entries === null) break;
      this.send(connection, entries);
    }
    this.scheduleLinger(now);
  }

  stop(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  private collect(now: number): Entry<P>[] | null {
    const count = this.partitions.length;
    if (count === 0) return null;
    const entries: Entry<P>[] = [];
    let acks: number | null = null;
    let size = 0;
    // Batches that are not full leave only when nothing is in flight to this broker, all in
    // one request; full ones (sealed as records are appended) go at once, up to each
    // partition's maxInFlight. Nagle's rule for TCP: as many requests as the broker answers,
    // each carrying what arrived during the last round trip. A request per produce call instead
    // (a free slot taken as soon as a record came) cost Apache Kafka's brokers twice Java's CPU
    // per record at 10 000 records/s, and doubled ekaf's latency there (bench scenario 11).
    const openMayLeave = this.requestsInFlight === 0;
    for (let i = 0; i < count; i++) {
      const partition = this.partitions[(this.rotation + i) % count] as P;
      const settings = partition.settings();
      if (!partition.isReady() || partition.log.inFlight >= settings.maxInFlight) continue;
      const partitionAcks = wireAcks(settings.acks);
      if (acks !== null && partitionAcks !== acks) continue;
      const next = partition.log.nextSize(now, partition.stamp(), openMayLeave);
      if (next === 0 || (entries.length > 0 && size + next > this.maxRequestBytes)) continue;
      const codec = partition.codec();
      if (codec === undefined) continue; // woken when the codec has loaded
      let batch: SealedBatch | undefined;
      try {
        batch = partition.log.takeNext(now, partition.stamp(), codec, openMayLeave);
      } catch (error) {
        if (!(error instanceof UnsendableBatch)) throw error;
        this.outcomes.unsendable(partition, error.batch, error.error);
        continue;
      }
      if (batch === undefined) continue;
      acks = partitionAcks;
      size += batch.bytes.length;
      entries.push({ partition, batch });
    }
    this.rotation = (this.rotation + 1) % count;
    return entries.length > 0 ? entries : null;
  }

  private send(connection: Connection, entries: Entry<P>[]): void {
    const first = entries[0] as Entry<P>;
    const version =
      this.maxProduceVersion === null
        ? this.produceVersion
        : Math.min(this.produceVersion, this.maxProduceVersion());
    const settings = first.partition.settings();
    const acks = wireAcks(settings.acks);
    const byTopic = new Map<string, ProduceRequest['topics'][number]>();
    for (const { partition, batch } of entries) {
      const topic = partition.log.topic;
      let data = byTopic.get(topic);
      if (data === undefined) {
        data = { name: topic, partitions: [] };
        byTopic.set(topic, data);
      }
      data.partitions.push({ partition: partition.log.partition, records: batch.bytes });
    }
    const request: ProduceRequest = {
      transactionalId: this.transactionalId,
      acks,
      timeoutMs: settings.produceTimeoutMs,
      topics: [...byTopic.values()],
    };
    this.requestsInFlight++;
    if (acks === 0) {
      rejecting(() => connection.sendWithoutResponse(Produce, version, request)).then(
        () => {
          this.requestsInFlight--;
          for (const { partition, batch } of entries) this.outcomes.acknowledged(partition, batch, null);
          this.requestDrain();
        },
        (error: unknown) => {
          this.requestsInFlight--;
          this.fail(entries, error);
        },
      );
      return;
    }
    rejecting(() => connection.send(Produce, version, request)).then(
      (response) => {
        this.requestsInFlight--;
        const answers = new Map<string, ProducePartitionResponse>();
        for (const topic of response.topics) {
          for (const p of topic.partitions) answers.set(`${topic.name}\u0000${p.partition}`, p);
        }
        for (const { partition, batch } of entries) {
          const answer = answers.get(`${partition.log.topic}\u0000${partition.log.partition}`);
          if (answer === undefined) {
            this.outcomes.lost(
              partition,
              batch,
              new EkafError('ERR_KAFKA', `broker ${this.brokerId} did not answer for this partition`, {
                retriable: true,
              }),
            );
          } else if (answer.errorCode === 0) {
            this.outcomes.acknowledged(partition, batch, answer);
          } else {
            this.outcomes.rejected(partition, batch, answer, response.nodeEndpoints);
          }
        }
        this.requestDrain();
      },
      (error: unknown) => {
        this.requestsInFlight--;
        this.fail(entries, error);
      },
    );
  }

  /** The request failed as a whole: an unencodable one for good, any other is retried. */
  private fail(entries: Entry<P>[], error: unknown): void {
    if (!(error instanceof EkafError) || error.code !== 'ERR_ENCODE') {
      this.lose(entries, error);
      return;
    }
    for (const { partition, batch } of entries) this.outcomes.unsendable(partition, batch, error);
    // Nothing went out: the slot is free again for what follows.
    this.requestDrain();
  }

  private lose(entries: Entry<P>[], error: unknown): void {
    const typed =
      error instanceof EkafError
        ? error
        : new EkafError('ERR_CONNECTION', String(error), { cause: error, retriable: true });
    for (const { partition, batch } of entries) this.outcomes.lost(partition, batch, typed);
  }

  /** Wakes up when the earliest linger among the led partitions expires. */
  private scheduleLinger(now: number): void {
    // Without a free request slot, the next response drains anyway; an expired linger that
    // could not be sent waits for that (or for its partition's own events), not for a timer.
    if (this.connection?.hasCapacity !== true) return;
    let earliest = Infinity;
    for (const partition of this.partitions) {
      // Partitions that cannot send now are woken by their own events (ready, a response).
      if (!partition.isReady() || partition.log.inFlight >= partition.settings().maxInFlight) continue;
      const deadline = partition.log.lingerDeadline;
      if (deadline !== null && deadline > now && deadline < earliest) earliest = deadline;
    }
    if (earliest === Infinity || earliest >= this.lingerAt) return;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerAt = earliest;
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = null;
        this.lingerAt = Infinity;
        this.drain();
      },
      Math.max(0, earliest - now),
    );
  }
}

/**
 * Calls `send`, turning anything it throws into a rejection. Connection.send reports an encoding
 * failure as a rejection already; should anything still throw while the request is built, it
 * must not escape drain() (run from setImmediate or a timer, the process would exit) and leave
 * the batches just taken in flight forever.
 */
function rejecting<T>(send: () => Promise<T>): Promise<T> {
  try {
    return send();
  } catch (error) {
    return Promise.reject(
      error instanceof EkafError
        ? error
        : new EncodeError(
            `cannot build the request: ${error instanceof Error ? error.message : String(error)}`,
            error,
          ),
    );
  }
}

/** Offsets come back as Long; JavaScript numbers hold them exactly below 2^53. */
export function offsetOf(value: Long): number {
  return value.toNumber();
}
