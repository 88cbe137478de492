import { ErrorCode } from '../protocol/error-codes.js';

/** The highest producer epoch (int16); past it a partition needs a new producer id. */
export const MAX_PRODUCER_EPOCH = 0x7fff;

/** A producer id and epoch, as InitProducerId gave them or as a partition bumped them. */
export interface ProducerStamp {
  producerId: number;
  producerEpoch: number;
}

/**
 * Broker answers that mean the batch was not appended, so the sequence numbers it carried were
 * not used. Every other error, a lost connection and a request timeout leave the batch in doubt:
 * the leader may have appended it (REQUEST_TIMED_OUT and NOT_ENOUGH_REPLICAS_AFTER_APPEND are
 * answered after the append; NOT_LEADER_OR_FOLLOWER also completes a produce that was appended
 * and then lost its leadership while waiting for acks=all).
 */
const NOT_APPENDED: ReadonlySet<number> = new Set([
  ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  ErrorCode.UNKNOWN_PRODUCER_ID,
  ErrorCode.INVALID_PRODUCER_EPOCH,
  ErrorCode.PRODUCER_FENCED,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  // Checked against the in-sync replicas before the append (acks=all).
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.CORRUPT_MESSAGE,
  ErrorCode.INVALID_RECORD,
]);

/** Whether a Produce error code proves the batch was not appended (see NOT_APPENDED). */
export function provesNotAppended(errorCode: number): boolean {
  return NOT_APPENDED.has(errorCode);
}

/**
 * One partition's idempotence state: the producer id and epoch its batches carry, the sequence
 * number of the next batch, and whether the sequence must start again.
 *
 * The rules, as Apache Kafka's broker checks them and the Java producer keeps them per partition:
 *
 * - A batch takes its producer id, epoch and base sequence once, when first sent, and keeps them
 *   on every resend while its fate is unknown: the broker may already hold it, and only the
 *   same (id, epoch, sequence) lets the broker recognise the resend as a duplicate.
 * - When a stamped batch fails for good (delivery timeout, a refusal), its sequence numbers are a
 *   gap the broker will refuse to skip, or a write we cannot prove. The partition then starts
 *   again under the next epoch of the same producer id, from sequence 0 (KIP-360). The broker
 *   takes a higher epoch at sequence 0 for an idempotent producer, and no earlier
 *   (id, epoch, sequence) is ever reused, so no resend can be mistaken for new data.
 * - The bump waits until no batch the broker may hold is still unresolved: those are resent
 *   under their own stamp until they are acknowledged (DUPLICATE_SEQUENCE_NUMBER included) or
 *   refused. Only then are the batches known not to be written stamped again, in order.
 * - A broker that has no state for our producer id on a partition (nothing of ours written yet,
 *   or a new epoch) takes a batch of any sequence number. So the first batch under an id and
 *   epoch goes alone; pipelining starts once it is acknowledged, when the broker checks the
 *   order (`confirmed`).
 * - It is local and per partition: for a producer without a transactional id the broker answers
 *   every InitProducerId with a new id, so asking it would stall every partition for nothing;
 *   one partition's trouble stops only that partition. A new id is asked for only when the
 *   epoch would pass MAX_PRODUCER_EPOCH.
 */
export class PartitionSequence {
  /**
   * @param coordinated the epochs come from the transaction coordinator (a transactional
   *   producer): the partition never bumps its own, and starts again from sequence 0 whenever
   *   the producer's id or epoch changes (InitProducerId after an abort, EndTxn in transactions
   *   v2), which happens only between transactions, when nothing is in flight.
   */
  constructor(readonly coordinated = false) {}

  /** The id and epoch new batches are stamped with; -1 until the first batch is stamped. */
  producerId = -1;
  producerEpoch = -1;
  /** The base sequence of the next batch stamped. */
  nextSequence = 0;
  /** A stamped batch failed for good: start again under a new epoch before stamping more. */
  resetPending = false;
  /**
   * The broker acknowledged a batch under the current id and epoch, so it keeps our sequence
   * state for this partition. Until then a broker with no state for us takes any sequence
   * number: a later batch could be written before an earlier one that it refused (say with
   * NOT_ENOUGH_REPLICAS), so the first batch goes alone.
   */
  confirmed = false;
  /** How many times this partition started again under a new epoch (inspect()). */
  epochBumps = 0;

  /** Takes the producer's id and epoch if this partition has none yet. */
  adopt(producer: ProducerStamp): void {
    if (
      this.producerId === -1 ||
      (this.coordinated &&
        (producer.producerId !== this.producerId || producer.producerEpoch !== this.producerEpoch))
    ) {
      this.producerId = producer.producerId;
      this.producerEpoch = producer.producerEpoch;
      this.nextSequence = 0;
      this.confirmed = false;
    }
  }

  /**
   * Starts the sequence again: the next epoch of the same id, or the producer's newer id once
   * the epochs are used up. Returns false when a new id is needed and `producer` has not got
   * one yet (the caller asks for it).
   */
  bump(producer: ProducerStamp): boolean {
    if (this.coordinated) {
      // Only the coordinator gives epochs: wait for a new one (the caller asks for it).
      if (producer.producerId === this.producerId && producer.producerEpoch === this.producerEpoch)
        return false;
      this.producerId = producer.producerId;
      this.producerEpoch = producer.producerEpoch;
    } else if (this.producerId === -1 || this.producerId !== producer.producerId) {
      this.producerId = producer.producerId;
      this.producerEpoch = producer.producerEpoch;
    } else if (this.producerEpoch < MAX_PRODUCER_EPOCH) {
      this.producerEpoch++;
    } else {
      return false;
    }
    this.nextSequence = 0;
    this.resetPending = false;
    this.confirmed = false;
    this.epochBumps++;
    return true;
  }

  /** The broker acknowledged a batch stamped with `producerId` and `producerEpoch`. */
  acknowledged(producerId: number, producerEpoch: number): void {
    if (producerId === this.producerId && producerEpoch === this.producerEpoch) this.confirmed = true;
  }

  /** The base sequence for a batch of `count` records, advancing the next one past it. */
  take(count: number): number {
    const base = this.nextSequence;
    // Sequence numbers wrap to 0 after 2^31 - 1, as the broker expects.
    this.nextSequence = (base + count) % 0x80000000;
    return base;
  }
}
