import type { ActorKind } from '../machines/actor-index.js';
import type { EkafError } from './errors.js';
import type { DeliveryReport } from './runtime/delivery.js';

/** A partition, as events name it. */
export interface PartitionRef {
  topic: string;
  partition: number;
}

/**
 * The producer's events. The first group are ekaf's callbacks, named the same; `flush` and
 * `flush.replied` differ: ekaf sent them for every batch and broker reply, here they wrap
 * `producer.flush()` (per-batch outcomes are `delivery` / `delivery.failed`). The second group
 * are ekaf-for-Node's own.
 */
export interface ProducerEvents {
  /** A partition worker can send: its leader's connection is ready. */
  'worker.up': (event: PartitionRef & { leaderId: number }) => void;
  /** A partition worker lost its leader (broker down, election); its records are held. */
  'worker.down': (event: PartitionRef & { error: { code: string; message: string } | null }) => void;
  /** Still no leader, reported periodically while down. */
  'worker.still_down': (event: PartitionRef & { downForMs: number }) => void;
  /** Time from the producer's start to a worker's first `worker.up`. */
  time_to_connect: (event: PartitionRef & { ms: number }) => void;
  /** How long a worker was down, reported when it is up again. */
  time_down: (event: PartitionRef & { ms: number }) => void;
  /** Records were accepted while their partition was down: they wait in the downtime buffer. */
  'downtime.saved': (event: PartitionRef & { records: number }) => void;
  /** A worker is up again and sends what it held, in order. */
  'downtime.replayed': (event: PartitionRef & { records: number }) => void;
  /** A produce was refused because the buffer is full. */
  'downtime.buffer_full': (event: { topic: string; records: number; bytes: number }) => void;
  /** flush() was called / has finished. */
  flush: (event: { pendingCalls: number }) => void;
  'flush.replied': (event: { ms: number }) => void;

  /**
   * A produce call's records were all acknowledged. For a produceAsync call without a callback,
   * the reports are built only if a `delivery` or `delivery.failed` listener existed when the call
   * was made (otherwise `reports` is empty: nobody asked, and it saves an object per record).
   */
  delivery: (event: { topic: string; reports: DeliveryReport[] }) => void;
  /**
   * A batch was acknowledged (acks 0: sent): `latencyMs` from its oldest record's acceptance to
   * the broker's answer, `bytes` as sent (after compression). What kafboy's live charts count.
   */
  'batch.acked': (
    event: PartitionRef & { broker: number; records: number; bytes: number; latencyMs: number },
  ) => void;
  /** Some records of a produce call failed for good; `failed` counts them. */
  'delivery.failed': (event: {
    topic: string;
    error: EkafError;
    failed: number;
    reports: (DeliveryReport | undefined)[];
  }) => void;
  /**
   * A producer opened on a spool directory found records a previous producer left unacknowledged
   * (a crash, a restart during an outage): they are sent first, before any new record.
   */
  'spool.recovered': (event: { dir: string; records: number; segments: number; bytes: number }) => void;
  /**
   * The spool held damaged bytes (a torn tail after a crash, a corrupted entry): they were
   * skipped, and what came before them is delivered. Also logged as a warning.
   */
  'spool.damaged': (event: { file: string; offset: number; reason: string; droppedBytes: number }) => void;
  /** An actor changed state. */
  state: (event: { actor: string; kind: ActorKind; from: string; to: string }) => void;
  /** Something went wrong outside any produce call (e.g. metadata cannot be fetched). */
  error: (error: EkafError) => void;
}
