import type Long from 'long';
import { describeError } from '../../machines/describe-error.js';
import { DeliveryTimeoutError, KafkaProtocolError, type EkafError } from '../errors.js';
import type { ProducePartitionResponse, ProduceResponse } from '../protocol/apis/produce.js';
import { ErrorCode, protocolError } from '../protocol/error-codes.js';
import { offsetOf, type SendOutcomes } from './broker-sender.js';
import type { SealedBatch } from './sealed-batch.js';
import type { PartitionNode } from './partition-node.js';
import { provesNotAppended } from './partition-sequence.js';
import type { Settlement } from './settlement.js';

/** The resend delay after CONCURRENT_TRANSACTIONS (the Java producer's, for AddPartitionsToTxn). */
export const CONCURRENT_TRANSACTIONS_RETRY_MS = 20;

/**
 * What becomes of a batch the broker refused, decided from the answer and what the partition's
 * log knows; no I/O, so that every rule is unit-tested (test/runtime/batch-outcomes.test.ts).
 *
 * - `split`: MESSAGE_TOO_LARGE: the halves go in its place, under its sequence numbers (if the
 *   batch can be split; otherwise the error's own verdict applies).
 * - `duplicate`: the broker has this batch already: a success whose offsets it no longer says.
 * - `retry`: resend after a backoff; `notAppended` when the answer proves it was not written
 *   (PartitionLog.requeue may then restamp it); `resetSequence` when the partition's sequence
 *   must start again first.
 * - `fail`: failed for good with `error`; the partition goes on with its next batch.
 */
export type Verdict =
  | { kind: 'split' }
  | { kind: 'duplicate' }
  | { kind: 'retry'; error: KafkaProtocolError; notAppended: boolean; resetSequence: boolean }
  | { kind: 'fail'; error: KafkaProtocolError; resetSequence: boolean };

/** What the verdict needs to know of the batch and its partition. */
export interface BatchFacts {
  /** The batch carries a producer id and sequence (idempotence). */
  stamped: boolean;
  /** A later batch of the partition was acknowledged already. */
  overtaken: boolean;
  /** A batch sealed before it is still unacknowledged. */
  earlierUnacknowledged: boolean;
  /** The offset of the partition's last acknowledged record, -1 if none. */
  lastAckedOffset: number;
  /** The batch holds more than one record (MESSAGE_TOO_LARGE: it can be sent in halves). */
  splittable: boolean;
}

export function judgeRejection(answer: ProducePartitionResponse, facts: BatchFacts): Verdict {
  if (answer.errorCode === ErrorCode.MESSAGE_TOO_LARGE && facts.splittable) return { kind: 'split' };
  const error = errorOf(answer);
  if (facts.stamped) {
    const verdict = judgeSequenceError(answer, facts, error);
    if (verdict !== null) return verdict;
  }
  return error.retriable
    ? { kind: 'retry', error, notAppended: provesNotAppended(answer.errorCode), resetSequence: false }
    : { kind: 'fail', error, resetSequence: false };
}

function errorOf(answer: ProducePartitionResponse): KafkaProtocolError {
  return protocolError(answer.errorCode, answer.errorMessage);
}

/**
 * The sequence and epoch errors of an idempotent producer, handled as the Java producer does
 * for a producer without a transactional id (the partition's epoch bump is its own: see
 * PartitionSequence). Null when the answer is not one of them.
 */
function judgeSequenceError(
  answer: ProducePartitionResponse,
  facts: BatchFacts,
  error: KafkaProtocolError,
): Verdict | null {
  switch (answer.errorCode) {
    case ErrorCode.DUPLICATE_SEQUENCE_NUMBER:
      return { kind: 'duplicate' };
    case ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER:
      // Not written. If a later batch of the partition is written already (a broker with no
      // state for us takes any sequence), resending this one would put its records after later
      // ones: it fails by name. If an earlier batch is still unacknowledged, its fate decides:
      // written, this one follows it under its stamp; failed for good, the sequence starts
      // again. If none is, the broker lacks sequence numbers we cannot resend: a gap, so the
      // sequence starts again under a new epoch, this batch first.
      if (facts.overtaken) {
        return {
          kind: 'fail',
          error: new KafkaProtocolError(
            error.errorCode,
            error.errorName,
            'a later batch of this partition was written first; resending this one would reorder them',
            false,
          ),
          resetSequence: false,
        };
      }
      return { kind: 'retry', error, notAppended: true, resetSequence: !facts.earlierUnacknowledged };
    case ErrorCode.UNKNOWN_PRODUCER_ID:
      // Not written; the broker lost our producer state (a broker before 2.5). If retention
      // removed our records and the state with them, nothing of ours can be there twice, so the
      // batch is resent under the new epoch; if our records are still in the log (a leader
      // without the state), resending what was in doubt could duplicate it: it fails by name.
      return producerStateExpired(answer.logStartOffset, facts.lastAckedOffset)
        ? { kind: 'retry', error, notAppended: true, resetSequence: true }
        : { kind: 'fail', error, resetSequence: true };
    case ErrorCode.INVALID_PRODUCER_EPOCH:
    case ErrorCode.PRODUCER_FENCED:
      // Our epoch is older than the broker's for this partition: this batch cannot be written
      // under it; later ones are, under the partition's next epoch.
      return { kind: 'fail', error, resetSequence: false };
    default:
      return null;
  }
}

/**
 * The Java client's rule for UNKNOWN_PRODUCER_ID: resetting the sequence is safe only when the
 * broker's log now starts after every offset we had acknowledged (retention removed our
 * records and the producer state with them). Without a log start offset (Produce < v5) it is
 * not known to be safe.
 */
export function producerStateExpired(logStartOffset: Long | null, lastAckedOffset: number): boolean {
  return logStartOffset !== null && logStartOffset.toNumber() > lastAckedOffset;
}

/** What the outcomes need of the rest of the runtime. */
export interface OutcomeHost {
  readonly settlement: Settlement;
  readonly deliveryTimeoutMs: number;
  /** The partition's current leader may take its next batch now. */
  wakeLeader(node: PartitionNode): void;
  /** A batch was acknowledged (the `batch.acked` event). */
  batchAcknowledged(node: PartitionNode, batch: SealedBatch): void;
  /** A NOT_LEADER answer may name the new leader (KIP-951): follow it at once. */
  followLeaderHint(
    node: PartitionNode,
    answer: ProducePartitionResponse,
    endpoints: ProduceResponse['nodeEndpoints'],
  ): void;
}

/**
 * Where each batch's outcome goes, as the broker senders report them. The success path is plain
 * calls (no xstate event per acknowledged batch: the worker hears of a success only when it was
 * counting failed attempts); what changes a worker's state reaches it as an event
 * (`produce.retriable`, `produce.failed`).
 */
export class BatchOutcomes implements SendOutcomes<PartitionNode> {
  constructor(private readonly host: OutcomeHost) {}

  acknowledged(node: PartitionNode, batch: SealedBatch, answer: ProducePartitionResponse | null): void {
    const baseOffset = answer === null ? -1 : offsetOf(answer.baseOffset);
    const appendTime = answer === null ? -1 : offsetOf(answer.logAppendTimeMs);
    this.settleAcknowledged(node, batch, baseOffset, appendTime, answer !== null);
  }

  rejected(
    node: PartitionNode,
    batch: SealedBatch,
    answer: ProducePartitionResponse,
    endpoints: ProduceResponse['nodeEndpoints'],
  ): void {
    this.host.followLeaderHint(node, answer, endpoints);
    const log = node.log;
    const verdict = judgeRejection(answer, {
      stamped: batch.baseSequence !== -1,
      overtaken: batch.sequence < log.lastAckedPosition,
      earlierUnacknowledged: log.hasEarlierUnacknowledged(batch),
      lastAckedOffset: log.lastAckedOffset,
      splittable: batch.recordCount > 1,
    });
    switch (verdict.kind) {
      case 'split':
        // The halves are sent in its place, under its sequence numbers (PartitionLog.split).
        if (!log.split(batch)) this.failed(node, batch, errorOf(answer));
        this.host.wakeLeader(node);
        return;
      case 'duplicate':
        // Offsets unknown: -1 for every call of the batch.
        this.settleAcknowledged(node, batch, -1, -1, true);
        return;
      case 'retry':
        if (verdict.resetSequence) log.resetSequence();
        // A transactional partition cannot start its sequence again on its own: only the
        // transaction's abort brings a new epoch. A batch proven not written would wait for it,
        // and the abort for the batch: it fails now, and the transaction becomes abortable (Java).
        if (log.sequence.coordinated && verdict.notAppended && log.sequence.resetPending) {
          this.host.wakeLeader(node);
          this.failed(node, batch, verdict.error);
          return;
        }
        this.host.wakeLeader(node);
        this.retryOrExpire(node, batch, verdict.error, verdict.notAppended);
        node.tell({
          type: 'produce.retriable',
          error: describeError(verdict.error),
          // Transactions v2: the first batch of a transaction to a partition meets the previous
          // transaction's markers still being written; they take milliseconds, not a backoff.
          ...(answer.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS
            ? { soonMs: CONCURRENT_TRANSACTIONS_RETRY_MS }
            : {}),
        });
        return;
      case 'fail':
        if (verdict.resetSequence) log.resetSequence();
        this.host.wakeLeader(node);
        this.failed(node, batch, verdict.error);
        return;
    }
  }

  lost(node: PartitionNode, batch: SealedBatch, error: EkafError): void {
    this.retryOrExpire(node, batch, error);
    // A lost connection already moved the worker out of ready (conn.down comes first); a
    // request answered without this partition makes it back off before resending.
    node.tell({ type: 'produce.retriable', error: describeError(error) });
    this.host.wakeLeader(node);
  }

  unsendable(node: PartitionNode, batch: SealedBatch, error: EkafError): void {
    // Never sent and never sendable as it is (ERR_ENCODE): failed for good, as a non-retriable
    // broker error would fail it; the partition goes on with its next batch.
    this.failed(node, batch, error);
    this.host.wakeLeader(node);
  }

  /** Fails a batch for good; a stamped one starts the sequence again (PartitionLog.failed). */
  failed(node: PartitionNode, batch: SealedBatch, error: EkafError): void {
    node.log.failed(batch);
    this.host.settlement.batchFailed(batch, error);
    node.tell({ type: 'produce.failed', error: describeError(error) });
  }

  private settleAcknowledged(
    node: PartitionNode,
    batch: SealedBatch,
    baseOffset: number,
    appendTime: number,
    acknowledged: boolean,
  ): void {
    node.log.acknowledged(batch, baseOffset);
    node.lastError = null;
    this.host.batchAcknowledged(node, batch);
    this.host.settlement.acknowledged(node.partition, batch, baseOffset, appendTime, acknowledged);
    // Only a worker counting failed attempts needs to hear of a success.
    if (node.attempts > 0) node.tell({ type: 'produce.acked' });
    this.host.wakeLeader(node);
  }

  /** `notAppended`: the answer proves the batch was not written (see PartitionLog.requeue). */
  private retryOrExpire(
    node: PartitionNode,
    batch: SealedBatch,
    cause: EkafError,
    notAppended = false,
  ): void {
    const closedWith = this.host.settlement.closedWith;
    if (closedWith !== null) {
      this.failed(node, batch, closedWith);
    } else if (batch.acceptedAt + this.host.deliveryTimeoutMs <= Date.now()) {
      this.failed(node, batch, new DeliveryTimeoutError(this.host.deliveryTimeoutMs, cause));
    } else {
      node.lastError = cause;
      node.log.requeue(batch, notAppended);
    }
  }
}
