import { assign, fromPromise, setup } from 'xstate';
import { jitteredBackoff } from './backoff.js';
import { describeError, type ErrorSummary } from './describe-error.js';

/**
 * The idempotent producer's identity: the producer id and first epoch that InitProducerId gives,
 * which partitions stamp their batches with. `waiting` until the first metadata (nothing may be
 * sent), `initializing` while InitProducerId is asked, `retrying` after a failed attempt, `ready`
 * once an id is held, `renewing` when a partition has used up the epochs of the current id,
 * `unsupported` when the broker has no InitProducerId, `disabled` when idempotence is off.
 *
 * - `disabled`: idempotence is off; nothing to obtain, batches go unstamped. Inert.
 * - `waiting`: no broker is known yet; nothing may be sent until the first id (`start`).
 * - `initializing`: InitProducerId for the first id. A broker without the API (a null answer)
 *   means idempotence cannot work; an error code, an answer without an id (-1) or a failed call
 *   is retried.
 * - `retrying`: waits a capped, jittered backoff after a failed attempt, then asks again:
 *   `initializing` while no id was ever obtained, `renewing` after that.
 * - `ready`: partitions stamp with `stamp` and keep their own epoch and sequence numbers from
 *   then on (PartitionSequence): a partition whose sequence must start again bumps its own epoch
 *   without asking the broker, as the Java producer does (`epoch.bumped` only counts those).
 * - `renewing`: a partition used up the epochs of the current id (`epochs.exhausted`, which
 *   names the id, so a late report about an older one is ignored): a new id is asked for, once,
 *   however many partitions report it. The other partitions keep stamping with the id they have,
 *   so `stamp` stays readable, also while `retrying` a renewal. A null answer here is retried:
 *   this cluster had the API, so the connection moved to a broker without it (a rolling upgrade).
 * - `unsupported`: the broker has no InitProducerId (before Kafka 0.11): idempotence is off.
 *
 * For a producer without a transactional id the broker answers every InitProducerId with a new
 * id at epoch 0: there is no epoch to bump on the broker's side, so a new id is asked for only
 * when a partition's epoch would pass the int16 maximum.
 *
 * This is a pure definition: `initProducerId`, `identityReady` and `identityUnsupported` are
 * provided by `src/runtime/producer-identity.ts` with `machine.provide()`, and fail loudly when
 * they are not.
 */

export interface ProducerIdentityInput {
  /** Idempotence is on (`idempotent`, roughly `enable.idempotence`). */
  enabled: boolean;
  /** First retry delay; doubles on each consecutive failure. */
  retryBackoffMs: number;
  /** Cap of the retry delay. */
  retryBackoffMaxMs: number;
  /** Source of randomness for the jitter; tests pass a fixed one. */
  random?: () => number;
}

/** A producer id and epoch, as InitProducerId gave them (PartitionSequence's ProducerStamp). */
export interface IdentityStamp {
  producerId: number;
  producerEpoch: number;
}

/** InitProducerId's answer; null when the broker has no InitProducerId at all. */
export type InitProducerIdAnswer = {
  producerId: number;
  producerEpoch: number;
  errorCode: number;
  /** The name of `errorCode` (machines know no error table), for `lastError`. */
  errorName?: string;
} | null;

/** A partition started its sequence again under a new epoch of the current id. */
export interface EpochBump {
  topic: string;
  partition: number;
  epoch: number;
}

export interface ProducerIdentityContext {
  enabled: boolean;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  random: () => number;
  /** What partitions stamp with; null until the first id. Replaced, never mutated. */
  stamp: IdentityStamp | null;
  /** Consecutive failed attempts since the last id obtained. */
  attempts: number;
  lastError: ErrorSummary | null;
  /** How many producer ids were obtained. */
  idsObtained: number;
  /** Epoch bumps done by partitions on their own (reported by `epoch.bumped`). */
  epochBumps: number;
  lastBump: EpochBump | null;
}

export type ProducerIdentityEvent =
  | { type: 'start' }
  | { type: 'epochs.exhausted'; producerId: number }
  | ({ type: 'epoch.bumped' } & EpochBump)
  | { type: 'stop' };

const notProvided = (kind: 'actor' | 'action', name: string) => (): never => {
  throw new Error(`producer-identity machine: ${kind} "${name}" was not provided`);
};

/** Why an answer gives no usable id (null when it does); a null answer is the caller's case. */
function refusal(answer: InitProducerIdAnswer): ErrorSummary | null {
  if (answer === null) {
    return { code: 'ERR_KAFKA', message: 'InitProducerId: the broker did not offer the API' };
  }
  if (answer.errorCode !== 0) {
    const name = answer.errorName === undefined ? 'error code' : answer.errorName;
    return { code: 'ERR_KAFKA', message: `InitProducerId failed: ${name} (${answer.errorCode})` };
  }
  if (answer.producerId < 0 || answer.producerEpoch < 0) {
    return {
      code: 'ERR_KAFKA',
      message: `InitProducerId answered without an id (${answer.producerId}, epoch ${answer.producerEpoch})`,
    };
  }
  return null;
}

/**
 * The answer an `initProducerId` done event carries. Named actions and guards are typed with the
 * machine's own events only, so this is the one place that reads the done event's output.
 */
function answerOf(event: object): InitProducerIdAnswer {
  return 'output' in event ? (event.output as InitProducerIdAnswer) : null;
}

/** The error an `initProducerId` error event carries. */
function errorOf(event: object): unknown {
  return 'error' in event ? event.error : undefined;
}

export const producerIdentityMachine = setup({
  types: {
    context: {} as ProducerIdentityContext,
    input: {} as ProducerIdentityInput,
    events: {} as ProducerIdentityEvent,
  },
  actors: {
    /** Sends InitProducerId (provided by the runtime). */
    initProducerId: fromPromise<InitProducerIdAnswer>(notProvided('actor', 'initProducerId')),
  },
  actions: {
    /** An id was obtained: wake the senders (provided by the runtime). */
    identityReady: notProvided('action', 'identityReady'),
    /** The broker has no InitProducerId: warn, and wake the senders (provided by the runtime). */
    identityUnsupported: notProvided('action', 'identityUnsupported'),
    recordId: assign(({ context, event }) => {
      const answer = answerOf(event);
      if (answer === null) return {};
      return {
        stamp: { producerId: answer.producerId, producerEpoch: answer.producerEpoch },
        idsObtained: context.idsObtained + 1,
        attempts: 0,
        lastError: null,
      };
    }),
    recordRefusal: assign(({ context, event }) => ({
      attempts: context.attempts + 1,
      lastError: refusal(answerOf(event)),
    })),
    recordError: assign(({ context, event }) => ({
      attempts: context.attempts + 1,
      lastError: describeError(errorOf(event)),
    })),
    countBump: assign(({ context, event }) => {
      if (event.type !== 'epoch.bumped') return {};
      return {
        epochBumps: context.epochBumps + 1,
        lastBump: { topic: event.topic, partition: event.partition, epoch: event.epoch },
      };
    }),
  },
  guards: {
    idempotenceOff: ({ context }) => !context.enabled,
    gotId: ({ event }) => refusal(answerOf(event)) === null,
    noApi: ({ event }) => answerOf(event) === null,
    hasId: ({ context }) => context.stamp !== null,
    isCurrentId: ({ context, event }) =>
      event.type === 'epochs.exhausted' && event.producerId === context.stamp?.producerId,
  },
  delays: {
    backoff: ({ context }) =>
      jitteredBackoff(context.attempts, context.retryBackoffMs, context.retryBackoffMaxMs, context.random),
  },
}).createMachine({
  id: 'producer-identity',
  context: ({ input }) => ({
    enabled: input.enabled,
    retryBackoffMs: input.retryBackoffMs,
    retryBackoffMaxMs: input.retryBackoffMaxMs,
    random: input.random ?? Math.random,
    stamp: null,
    attempts: 0,
    lastError: null,
    idsObtained: 0,
    epochBumps: 0,
    lastBump: null,
  }),
  initial: 'waiting',
  on: {
    stop: '.stopped',
  },
  states: {
    disabled: {
      description: 'Idempotence is off: batches go unstamped.',
      meta: { tone: 'idle' },
    },
    waiting: {
      description: 'Until the first metadata: nothing may be sent before the first id.',
      meta: { tone: 'idle' },
      always: { guard: 'idempotenceOff', target: 'disabled' },
      on: { start: 'initializing' },
    },
    initializing: {
      description: 'Asking InitProducerId for the first id.',
      meta: { tone: 'busy' },
      invoke: {
        src: 'initProducerId',
        onDone: [
          { guard: 'gotId', target: 'ready', actions: 'recordId' },
          { guard: 'noApi', target: 'unsupported' },
          { target: 'retrying', actions: 'recordRefusal' },
        ],
        onError: { target: 'retrying', actions: 'recordError' },
      },
    },
    retrying: {
      description: 'Backing off after a failed InitProducerId; a held id stays in use.',
      meta: { tone: 'warn' },
      after: {
        backoff: [{ guard: 'hasId', target: 'renewing' }, { target: 'initializing' }],
      },
      on: { 'epoch.bumped': { actions: 'countBump' } },
    },
    ready: {
      description: 'Partitions stamp with the id; they bump their own epochs.',
      meta: { tone: 'good' },
      entry: 'identityReady',
      on: {
        'epochs.exhausted': { guard: 'isCurrentId', target: 'renewing' },
        'epoch.bumped': { actions: 'countBump' },
      },
    },
    renewing: {
      description: 'A partition used up the epochs of the id: asking for a new one, once.',
      meta: { tone: 'busy' },
      invoke: {
        src: 'initProducerId',
        onDone: [
          { guard: 'gotId', target: 'ready', actions: 'recordId' },
          // A null answer too: this cluster had the API (a rolling upgrade), ask elsewhere.
          { target: 'retrying', actions: 'recordRefusal' },
        ],
        onError: { target: 'retrying', actions: 'recordError' },
      },
      on: { 'epoch.bumped': { actions: 'countBump' } },
    },
    unsupported: {
      description: 'The broker has no InitProducerId: idempotence is off.',
      meta: { tone: 'bad' },
      entry: 'identityUnsupported',
    },
    stopped: {
      meta: { tone: 'idle' },
      type: 'final',
    },
  },
});
