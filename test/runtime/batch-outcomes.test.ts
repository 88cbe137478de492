import Long from 'long';
import { describe, expect, it } from 'vitest';
import type { ProducePartitionResponse } from '../../src/protocol/apis/produce.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { judgeRejection, type BatchFacts } from '../../src/runtime/batch-outcomes.js';

/**
 * What becomes of a refused batch, decided without a cluster: each rule of the Java producer's
 * for a producer without a transactional id, as judgeRejection applies it.
 */

function answer(
  errorCode: number,
  logStartOffset: Long | null = Long.fromNumber(0),
): ProducePartitionResponse {
  return {
    partition: 0,
    errorCode,
    baseOffset: Long.NEG_ONE,
    logAppendTimeMs: Long.NEG_ONE,
    logStartOffset,
    recordErrors: [],
    errorMessage: null,
    currentLeader: null,
  };
}

/** An idempotent batch of several records, alone in flight, its partition with acks up to offset 99. */
const stamped: BatchFacts = {
  stamped: true,
  overtaken: false,
  earlierUnacknowledged: false,
  lastAckedOffset: 99,
  splittable: true,
};
const plain: BatchFacts = { ...stamped, stamped: false };

describe('judgeRejection', () => {
  it('splits a batch too large for the broker, if it has more than one record', () => {
    expect(judgeRejection(answer(ErrorCode.MESSAGE_TOO_LARGE), plain)).toEqual({ kind: 'split' });
    const single = judgeRejection(answer(ErrorCode.MESSAGE_TOO_LARGE), { ...plain, splittable: false });
    expect(single).toMatchObject({ kind: 'fail', resetSequence: false });
    expect(single.kind === 'fail' && single.error.errorName).toBe('MESSAGE_TOO_LARGE');
  });

  it('retries a retriable error; not-appended only when the error proves it', () => {
    expect(judgeRejection(answer(ErrorCode.NOT_ENOUGH_REPLICAS), plain)).toMatchObject({
      kind: 'retry',
      notAppended: true,
      resetSequence: false,
    });
    // A timeout says nothing about whether the broker wrote the batch.
    expect(judgeRejection(answer(ErrorCode.REQUEST_TIMED_OUT), stamped)).toMatchObject({
      kind: 'retry',
      notAppended: false,
    });
  });

  it('fails a non-retriable error for good, naming it', () => {
    const verdict = judgeRejection(answer(ErrorCode.INVALID_RECORD), stamped);
    expect(verdict).toMatchObject({ kind: 'fail', resetSequence: false });
    expect(verdict.kind === 'fail' && verdict.error).toMatchObject({
      errorCode: ErrorCode.INVALID_RECORD,
      errorName: 'INVALID_RECORD',
      retriable: false,
    });
  });

  it('a duplicate sequence is a success with unknown offsets, for a stamped batch only', () => {
    expect(judgeRejection(answer(ErrorCode.DUPLICATE_SEQUENCE_NUMBER), stamped)).toEqual({
      kind: 'duplicate',
    });
    // Unstamped, the broker cannot have seen it before: the code is just a refusal.
    expect(judgeRejection(answer(ErrorCode.DUPLICATE_SEQUENCE_NUMBER), plain)).toMatchObject({
      kind: 'fail',
    });
  });

  it('OUT_OF_ORDER_SEQUENCE_NUMBER: resent; the sequence restarts unless an earlier batch may fill the gap', () => {
    expect(judgeRejection(answer(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), stamped)).toMatchObject({
      kind: 'retry',
      notAppended: true,
      resetSequence: true,
    });
    expect(
      judgeRejection(answer(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), {
        ...stamped,
        earlierUnacknowledged: true,
      }),
    ).toMatchObject({ kind: 'retry', notAppended: true, resetSequence: false });
  });

  it('OUT_OF_ORDER_SEQUENCE_NUMBER after a later batch was written: failed by name (a resend would reorder)', () => {
    const verdict = judgeRejection(answer(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER), {
      ...stamped,
      overtaken: true,
    });
    expect(verdict).toMatchObject({ kind: 'fail', resetSequence: false });
    expect(verdict.kind === 'fail' && verdict.error.message).toContain('would reorder them');
    expect(verdict.kind === 'fail' && verdict.error.retriable).toBe(false);
  });

  it('UNKNOWN_PRODUCER_ID: resent under a new epoch only when retention removed our records (Java rule)', () => {
    // The log now starts after everything we had acknowledged: nothing of ours can be there twice.
    expect(
      judgeRejection(answer(ErrorCode.UNKNOWN_PRODUCER_ID, Long.fromNumber(100)), stamped),
    ).toMatchObject({
      kind: 'retry',
      notAppended: true,
      resetSequence: true,
    });
    // Our records are still in the log (or the broker does not say): a resend could duplicate.
    for (const logStart of [Long.fromNumber(99), null]) {
      expect(judgeRejection(answer(ErrorCode.UNKNOWN_PRODUCER_ID, logStart), stamped)).toMatchObject({
        kind: 'fail',
        resetSequence: true,
      });
    }
  });

  it('an older epoch than the broker has: this batch fails; later ones go under the next epoch', () => {
    for (const code of [ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.PRODUCER_FENCED]) {
      expect(judgeRejection(answer(code), stamped)).toMatchObject({ kind: 'fail', resetSequence: false });
    }
  });
});
