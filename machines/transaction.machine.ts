import { assign, fromPromise, setup } from 'xstate';
import { describeError, type ErrorSummary } from './describe-error.js';

/**
 * A transactional producer's transaction, as the Java producer's TransactionManager keeps it:
 *
 * - `uninitialized`: nothing asked yet. `init` (the first `beginTransaction()`) starts it.
 * - `initializing`: the transaction coordinator is found (FindCoordinator) and InitProducerId
 *   gives the producer id and a new epoch, which fences every older producer with the same
 *   transactional id and aborts what it left open. A timeout or the broker's refusal (an
 *   authorization failure, `ERR_KAFKA`) returns to `uninitialized`: the next call tries again,
 *   as Java's initTransactions() may. A fence or anything else is final.
 * - `ready`: between transactions. `begin` opens one.
 * - `inTransaction`: records go out to the partitions added to the transaction. `open` while all
 *   is well; `abortable` once something failed (a record, an AddPartitionsToTxn, a
 *   TransactionAbortable answer, the broker's transaction timeout): commit is refused, naming
 *   why, and only `abort` leaves. Entering it fails every record not sent yet (`failUnsent`),
 *   as Java's Sender does, so that no caller waits for records that can only be aborted.
 * - `committing`: every record of the transaction is acknowledged, then EndTxn(commit). A record
 *   that fails meanwhile makes the transaction `abortable` instead. A commit that times out
 *   (its outcome unknown) goes to `unresolved`.
 * - `unresolved`: only `commit` again is allowed (Java: commitTransaction() may be retried after
 *   a timeout); it resends EndTxn(commit) under the same epoch, which the coordinator answers as
 *   a retry.
 * - `aborting`: what was not sent is failed, what is in flight is awaited, EndTxn(abort); then,
 *   when a partition's sequence has a gap (a batch failed for good) or the broker lost our
 *   state, a new epoch (InitProducerId with the current id and epoch, KIP-360), so that the next
 *   transaction's sequence numbers start clean. Transactions v2 get a new epoch from every
 *   EndTxn anyway.
 * - `fenced`: a newer producer took the transactional id; everything transactional is refused,
 *   and the records held are failed (`failHeld`).
 * - `fatal`: the producer cannot go on (an answer that makes no sense in its state, a broker
 *   without the APIs); everything transactional is refused, and the records held are failed.
 *
 * The protocol work (coordinator requests, waiting for records) is the runtime's, provided with
 * `machine.provide()` by src/runtime/transaction-manager.ts; a missing one fails loudly. Records
 * never travel as events: only the transaction's turning points do.
 */

export interface TransactionInput {
  transactionalId: string;
}

/** A producer id and epoch, as InitProducerId or EndTxn (transactions v2) gave them. */
export interface TransactionStamp {
  producerId: number;
  producerEpoch: number;
}

/**
 * Which protocol the coordinator speaks: `v1` adds partitions with AddPartitionsToTxn; `v2`
 * (KIP-890, Kafka 4 with transaction.version 2) adds them with Produce itself and gives a new
 * epoch at every EndTxn.
 */
export type TransactionProtocol = 'v1' | 'v2';

/** What initialization and each end of a transaction produce. */
export interface TransactionStep {
  /** The id and epoch to use from now on; null when they do not change. */
  stamp: TransactionStamp | null;
  protocol?: TransactionProtocol;
}

export interface TransactionContext {
  transactionalId: string;
  stamp: TransactionStamp | null;
  protocol: TransactionProtocol | null;
  /** Number of the current (or last) transaction, from 1. */
  serial: number;
  /** When the current transaction began (ms since epoch); null between transactions. */
  startedAt: number | null;
  /** Partitions added to the current transaction. */
  partitions: number;
  /** Why the current transaction must be aborted; null while it may commit. */
  abortableError: ErrorSummary | null;
  /** The next abort must end with a new epoch from the coordinator (a sequence gap to close). */
  epochBumpRequired: boolean;
  committed: number;
  aborted: number;
  /** Why the latest operation failed (also what `fenced` and `fatal` were entered for). */
  lastError: ErrorSummary | null;
}

export type TransactionEvent =
  | { type: 'init' }
  | { type: 'begin' }
  | { type: 'commit' }
  | { type: 'abort' }
  /** The current transaction cannot commit any more; `bumpEpoch`: its abort needs a new epoch. */
  | { type: 'abortable'; error: ErrorSummary; bumpEpoch: boolean }
  | { type: 'partitions.added'; count: number }
  | { type: 'fenced'; error: ErrorSummary }
  | { type: 'fatal'; error: ErrorSummary }
  | { type: 'stop' };

const notProvided = (name: string) => (): never => {
  throw new Error(`transaction machine: actor "${name}" was not provided`);
};
const notProvidedAction = (name: string) => (): never => {
  throw new Error(`transaction machine: action "${name}" was not provided`);
};

/** The error code an actor's error event carries (codes are EkafError codes). */
function codeOf(event: object): string | undefined {
  if (!('error' in event)) return undefined;
  const { error } = event;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** The output of a done event (named actions are typed with the machine's own events only). */
function stepOf(event: object): TransactionStep | null {
  return 'output' in event ? (event.output as TransactionStep) : null;
}

export const transactionMachine = setup({
  types: {
    context: {} as TransactionContext,
    input: {} as TransactionInput,
    events: {} as TransactionEvent,
  },
  actors: {
    /** FindCoordinator + InitProducerId (with `bump`, the current id and epoch: KIP-360). */
    initialize: fromPromise<TransactionStep>(notProvided('initialize')),
    /** Waits for every record of the transaction, then EndTxn(commit). */
    commitTransaction: fromPromise<TransactionStep>(notProvided('commitTransaction')),
    /** Fails what was not sent, waits for what is in flight, EndTxn(abort), a new epoch if asked. */
    abortTransaction: fromPromise<TransactionStep, { bumpEpoch: boolean }>(notProvided('abortTransaction')),
  },
  actions: {
    /** Fails the records of the transaction not sent yet with the abortable error (provided). */
    failUnsent: notProvidedAction('failUnsent'),
    /** Fails every record held, sent or not, with the error that broke the producer (provided). */
    failHeld: notProvidedAction('failHeld'),
    takeStep: assign(({ context, event }) => {
      const step = stepOf(event);
      return {
        stamp: step?.stamp ?? context.stamp,
        protocol: step?.protocol ?? context.protocol,
        lastError: null,
      };
    }),
    open: assign(({ context }) => ({
      serial: context.serial + 1,
      startedAt: Date.now(),
      partitions: 0,
      abortableError: null,
    })),
    close: assign({ startedAt: null, partitions: 0, abortableError: null, epochBumpRequired: false }),
    countCommitted: assign(({ context }) => ({ committed: context.committed + 1 })),
    countAborted: assign(({ context }) => ({ aborted: context.aborted + 1 })),
    countPartitions: assign(({ context, event }) => ({
      partitions: context.partitions + (event.type === 'partitions.added' ? event.count : 0),
    })),
    markAbortable: assign(({ context, event }) => {
      if (event.type === 'abortable') {
        return {
          // The first cause is the one commit names; later ones follow from it.
          abortableError: context.abortableError ?? event.error,
          epochBumpRequired: context.epochBumpRequired || event.bumpEpoch,
        };
      }
      // A commit that failed because of the transaction's own records.
      const error = describeError('error' in event ? event.error : undefined);
      return { abortableError: context.abortableError ?? error, lastError: error };
    }),
    recordError: assign(({ event }) => {
      if (event.type === 'fenced' || event.type === 'fatal') return { lastError: event.error };
      return { lastError: describeError('error' in event ? event.error : undefined) };
    }),
  },
  guards: {
    fencedError: ({ event }) => codeOf(event) === 'ERR_PRODUCER_FENCED',
    abortableError: ({ event }) => codeOf(event) === 'ERR_TRANSACTION_ABORTABLE',
    timedOut: ({ event }) => codeOf(event) === 'ERR_TRANSACTION_TIMEOUT',
    /** A timeout, or the broker's plain refusal (an authorization failure): worth asking again. */
    mayRetryInit: ({ event }) => codeOf(event) === 'ERR_TRANSACTION_TIMEOUT' || codeOf(event) === 'ERR_KAFKA',
  },
}).createMachine({
  id: 'transaction',
  context: ({ input }) => ({
    transactionalId: input.transactionalId,
    stamp: null,
    protocol: null,
    serial: 0,
    startedAt: null,
    partitions: 0,
    abortableError: null,
    epochBumpRequired: false,
    committed: 0,
    aborted: 0,
    lastError: null,
  }),
  initial: 'uninitialized',
  on: {
    stop: '.stopped',
  },
  states: {
    uninitialized: {
      description: 'No producer id yet: the first transaction initializes.',
      meta: { tone: 'idle' },
      on: { init: 'initializing' },
    },
    initializing: {
      description: 'FindCoordinator, then InitProducerId: fences older producers, aborts what they left.',
      meta: { tone: 'busy' },
      invoke: {
        src: 'initialize',
        onDone: { target: 'ready', actions: 'takeStep' },
        onError: [
          { guard: 'fencedError', target: 'fenced', actions: 'recordError' },
          { guard: 'mayRetryInit', target: 'uninitialized', actions: 'recordError' },
          { target: 'fatal', actions: 'recordError' },
        ],
      },
    },
    ready: {
      description: 'Between transactions.',
      meta: { tone: 'good' },
      on: { begin: { target: 'inTransaction', actions: 'open' } },
    },
    inTransaction: {
      description: 'Records go to the partitions added to the transaction.',
      meta: { tone: 'good' },
      initial: 'open',
      on: {
        abort: 'aborting',
        abortable: { target: '.abortable', actions: 'markAbortable' },
        'partitions.added': { actions: 'countPartitions' },
        fenced: { target: 'fenced', actions: 'recordError' },
        fatal: { target: 'fatal', actions: 'recordError' },
      },
      states: {
        open: {
          description: 'All is well: commit or abort.',
          meta: { tone: 'good' },
          on: { commit: '#transaction.committing' },
        },
        abortable: {
          description: 'Something failed: only abort leaves.',
          meta: { tone: 'warn' },
          entry: 'failUnsent',
          // Later causes are kept for the record; the state is not entered again.
          on: { abortable: { actions: 'markAbortable' } },
        },
      },
    },
    committing: {
      description: 'Waiting for every record, then EndTxn(commit).',
      meta: { tone: 'busy' },
      on: {
        // Counted for the abort that follows; the commit itself sees the failed record.
        abortable: { actions: 'markAbortable' },
        'partitions.added': { actions: 'countPartitions' },
      },
      invoke: {
        src: 'commitTransaction',
        onDone: { target: 'ready', actions: ['takeStep', 'countCommitted', 'close'] },
        onError: [
          { guard: 'fencedError', target: 'fenced', actions: 'recordError' },
          { guard: 'abortableError', target: 'inTransaction.abortable', actions: 'markAbortable' },
          { guard: 'timedOut', target: 'unresolved', actions: 'recordError' },
          { target: 'fatal', actions: 'recordError' },
        ],
      },
    },
    unresolved: {
      description: 'A commit timed out, its outcome unknown: only commit() again resolves it.',
      meta: { tone: 'warn' },
      on: {
        commit: 'committing',
        fenced: { target: 'fenced', actions: 'recordError' },
        fatal: { target: 'fatal', actions: 'recordError' },
      },
    },
    aborting: {
      description: 'Failing what was not sent, then EndTxn(abort), and a new epoch if one is needed.',
      meta: { tone: 'busy' },
      on: {
        abortable: { actions: 'markAbortable' },
      },
      invoke: {
        src: 'abortTransaction',
        input: ({ context }) => ({ bumpEpoch: context.epochBumpRequired }),
        onDone: { target: 'ready', actions: ['takeStep', 'countAborted', 'close'] },
        onError: [
          { guard: 'fencedError', target: 'fenced', actions: 'recordError' },
          { target: 'fatal', actions: 'recordError' },
        ],
      },
    },
    fenced: {
      description: 'A newer producer took the transactional id: nothing transactional is allowed.',
      meta: { tone: 'bad' },
      entry: 'failHeld',
    },
    fatal: {
      description: 'The producer cannot go on: close it.',
      meta: { tone: 'bad' },
      entry: 'failHeld',
    },
    stopped: {
      meta: { tone: 'idle' },
      type: 'final',
    },
  },
});
