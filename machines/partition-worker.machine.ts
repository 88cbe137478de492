import { assign, enqueueActions, not, setup, type AnyActorRef } from 'xstate';
import { jitteredBackoff } from './backoff.js';

/**
 * One topic-partition's worker. Records never pass through this machine: they sit in the
 * partition's accumulator (plain code, see src/runtime/partition-log.ts). The machine decides
 * *whether* batches may flow, and reports the transitions ekaf's callbacks are made of.
 *
 * - `connecting`: the leader is known, its connection is not ready yet.
 * - `ready`: batches flow to the leader.
 * - `buffering`: no usable leader (broker down, election, unknown broker); records are held
 *   within the producer's bounds and replayed in order when a leader is back.
 * - `retrying`: a batch failed with a retriable error; wait (capped, jittered backoff) while
 *   metadata is refreshed, then resend in the original order.
 *
 * Who talks to it: the topology follower names its leader (`leader`, with the leader's
 * broker-connection actor, or `leader.lost`); the worker then `follow`s that broker actor, which
 * answers `conn.up` when its connection is ready and tells it `conn.up` / `conn.down` from then
 * on. Batch outcomes that change something arrive as events (`produce.retriable`,
 * `produce.failed`, `produce.acked` after failures, `epoch.bumped`); an acknowledgement on the
 * success path does not (an xstate event costs ~13 µs: none per batch when nothing changes).
 */

export interface PartitionWorkerInput {
  topic: string;
  partition: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** How often `worker.still_down` is reported while buffering. */
  stillDownIntervalMs: number;
  random?: () => number;
}

export interface PartitionWorkerContext {
  topic: string;
  partition: number;
  /** -1 when unknown. */
  leaderId: number;
  /** The leader's broker-connection actor, which this worker follows; null when none. */
  broker: AnyActorRef | null;
  /** Whether the leader's connection is ready, as last reported. */
  connected: boolean;
  /** Consecutive retriable failures since the last success. */
  attempts: number;
  /** The fixed delay the latest retriable failure asked for (`soonMs`), or null for the backoff. */
  retrySoonMs: number | null;
  lastError: { code: string; message: string } | null;
  /** Since when the worker has had no usable leader (ms since epoch), or null. */
  downSince: number | null;
  /** Batches failed for good (non-retriable answers), and times the sequence started again. */
  batchesFailed: number;
  /**
   * Why the latest batch failed for good. Apart from `lastError` (the connection's or the last
   * retriable failure, which `worker.down` reports): one bad batch says nothing of the leader.
   */
  lastBatchError: { code: string; message: string } | null;
  epochBumps: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  stillDownIntervalMs: number;
  random: () => number;
}

export type PartitionWorkerEvent =
  /** Metadata (or a current-leader hint) named a leader, with its broker-connection actor. */
  | { type: 'leader'; leaderId: number; broker: AnyActorRef }
  /** Metadata has no usable leader for this partition. */
  | { type: 'leader.lost' }
  /** From the followed broker actor: its connection became ready / was lost. */
  | { type: 'conn.up' }
  | { type: 'conn.down'; error: { code: string; message: string } }
  /** A batch came back with a retriable error. */
  /**
   * A batch comes back to be resent. `soonMs`: resend after this fixed delay instead of the
   * backoff (CONCURRENT_TRANSACTIONS: the coordinator is writing the previous transaction's
   * markers, done within milliseconds; Java retries after 20 ms in that case).
   */
  | { type: 'produce.retriable'; error: { code: string; message: string }; soonMs?: number }
  /** A batch failed for good (a non-retriable answer); the partition goes on with the next. */
  | { type: 'produce.failed'; error: { code: string; message: string } }
  /** A batch was acknowledged after failed attempts. */
  | { type: 'produce.acked' }
  /** The partition's idempotent sequence started again under a new epoch. */
  | { type: 'epoch.bumped'; producerId: number; producerEpoch: number }
  /**
   * The worker was at rest (no actor, see src/runtime/hibernation.ts) and runs again: it follows
   * its leader's broker actor again, which it left on going to rest.
   */
  | { type: 'resumed' };

/** A worker's context when it starts: no leader yet, nothing failed. */
export function initialWorkerContext(input: PartitionWorkerInput): PartitionWorkerContext {
  return {
    topic: input.topic,
    partition: input.partition,
    leaderId: -1,
    broker: null,
    connected: false,
    attempts: 0,
    retrySoonMs: null,
    lastError: null,
    downSince: null,
    batchesFailed: 0,
    lastBatchError: null,
    epochBumps: 0,
    retryBackoffMs: input.retryBackoffMs,
    retryBackoffMaxMs: input.retryBackoffMaxMs,
    stillDownIntervalMs: input.stillDownIntervalMs,
    random: input.random ?? Math.random,
  };
}

/** What a worker at rest keeps: its state (`ready`, the one state it rests in) and its context. */
export interface WorkerRest {
  value: 'ready';
  context: PartitionWorkerContext;
}

/**
 * Where a new worker is once it has followed a leader whose connection is ready: `connecting`,
 * then `leader` (followLeader), then the broker's `conn.up`, then `ready`. A worker born when
 * its leader's connection is already up is registered at rest in that state (see
 * src/runtime/hibernation.ts), without running the three steps; the machine's tests check that
 * the two agree.
 */
export function readyWithLeader(
  input: PartitionWorkerInput,
  leaderId: number,
  broker: AnyActorRef,
): WorkerRest {
  return { value: 'ready', context: { ...initialWorkerContext(input), leaderId, broker, connected: true } };
}

/**
 * Whether `leader` names the leader the worker follows already: nothing to do in `ready`, and
 * nothing that would wake a worker at rest.
 */
export function isSameLeader(
  context: Pick<PartitionWorkerContext, 'leaderId' | 'broker'>,
  event: PartitionWorkerEvent,
): boolean {
  return event.type === 'leader' && event.leaderId === context.leaderId && event.broker === context.broker;
}

/** Retry delay after `attempts` consecutive failures, with ±20% jitter. */
export function retryDelay(context: PartitionWorkerContext): number {
  if (context.retrySoonMs !== null) return context.retrySoonMs;
  return jitteredBackoff(context.attempts, context.retryBackoffMs, context.retryBackoffMaxMs, context.random);
}

const notProvided = (name: string) => (): never => {
  throw new Error(`partition-worker machine: action "${name}" was not provided`);
};

export const partitionWorkerMachine = setup({
  types: {
    context: {} as PartitionWorkerContext,
    input: {} as PartitionWorkerInput,
    events: {} as PartitionWorkerEvent,
  },
  actions: {
    /**
     * Follow the named leader's broker actor (it answers `conn.up` if its connection is ready),
     * after leaving the previous one. Until it answers, the worker is not connected.
     */
    followLeader: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'leader') return;
      if (context.broker !== null && context.broker !== event.broker) {
        enqueue.sendTo(context.broker, { type: 'unfollow', worker: self });
      }
      enqueue.assign({ leaderId: event.leaderId, broker: event.broker, connected: false });
      enqueue.sendTo(event.broker, { type: 'follow', worker: self });
    }),
    /**
     * The leader named is the one followed, but the worker is not ready: ask its broker actor
     * again (it answers `conn.up` if its connection is ready). A cheap resync on each metadata
     * answer while down, so that no lost message can keep a worker down for good.
     */
    refollow: enqueueActions(({ context, enqueue, self }) => {
      if (context.broker !== null) enqueue.sendTo(context.broker, { type: 'follow', worker: self });
    }),
    /**
     * Back from rest, where its broker actor could not tell it anything: follow it again, and
     * be told the connection's state either way (`conn.down` if it went down meanwhile).
     */
    resync: enqueueActions(({ context, enqueue, self }) => {
      if (context.broker !== null)
        enqueue.sendTo(context.broker, { type: 'follow', worker: self, resync: true });
    }),
    leaveLeader: enqueueActions(({ context, enqueue, self }) => {
      if (context.broker !== null) enqueue.sendTo(context.broker, { type: 'unfollow', worker: self });
      enqueue.assign({ leaderId: -1, broker: null, connected: false });
    }),
    /** Let the leader's connection take this partition's batches (provided by the runtime). */
    drain: notProvided('drain'),
    /** Ask the metadata actor for a refresh (provided by the runtime). */
    refreshMetadata: notProvided('refreshMetadata'),
    /** Report `worker.up` (and `time_to_connect` / `time_down`) (provided by the runtime). */
    reportUp: notProvided('reportUp'),
    /** Report `worker.down` (provided by the runtime). */
    reportDown: notProvided('reportDown'),
    /** Report `worker.still_down` (provided by the runtime). */
    reportStillDown: notProvided('reportStillDown'),
  },
  delays: {
    retryDelay: ({ context }) => retryDelay(context),
    stillDownInterval: ({ context }) => context.stillDownIntervalMs,
  },
  guards: {
    /** The leader named is the one followed already: nothing to do. */
    sameLeader: ({ context, event }) => isSameLeader(context, event),
    connected: ({ context }) => context.connected,
    hasLeader: ({ context }) => context.leaderId !== -1,
    isDown: ({ context }) => context.downSince !== null,
  },
}).createMachine({
  id: 'partition-worker',
  context: ({ input }) => initialWorkerContext(input),
  initial: 'connecting',
  on: {
    'leader.lost': { target: '.buffering', actions: 'leaveLeader' },
    'produce.failed': {
      actions: assign({
        batchesFailed: ({ context }) => context.batchesFailed + 1,
        lastBatchError: ({ event }) => event.error,
      }),
    },
    'epoch.bumped': { actions: assign({ epochBumps: ({ context }) => context.epochBumps + 1 }) },
    resumed: { actions: 'resync' },
  },
  states: {
    connecting: {
      meta: { tone: 'busy' },
      initial: 'waiting',
      states: {
        // The first connection, or a leader move while up: nothing to report, and no timer
        // (a thousand partitions connecting at start would hold a thousand).
        waiting: {
          meta: { tone: 'busy' },
          always: { guard: 'isDown', target: 'stillDown' },
        },
        // After a downtime, waiting for the leader's connection is still being down.
        stillDown: {
          meta: { tone: 'warn' },
          after: {
            stillDownInterval: {
              target: 'stillDown',
              reenter: true,
              actions: ['reportStillDown', 'refreshMetadata'],
            },
          },
        },
      },
      on: {
        'conn.up': { guard: 'hasLeader', target: 'ready', actions: assign({ connected: true }) },
        'conn.down': {
          target: 'buffering',
          actions: assign({ connected: false, lastError: ({ event }) => event.error }),
        },
        leader: [{ guard: 'sameLeader', actions: 'refollow' }, { actions: 'followLeader' }],
      },
    },
    ready: {
      meta: { tone: 'good' },
      entry: ['reportUp', assign({ downSince: null }), 'drain'],
      on: {
        'conn.down': {
          target: 'buffering',
          actions: assign({ connected: false, lastError: ({ event }) => event.error }),
        },
        leader: [
          { guard: 'sameLeader' },
          // A new leader: wait for its connection (its actor answers at once when it is ready).
          { target: 'connecting', actions: 'followLeader' },
        ],
        'produce.retriable': {
          target: 'retrying',
          actions: assign({
            attempts: ({ context }) => context.attempts + 1,
            lastError: ({ event }) => event.error,
            retrySoonMs: ({ event }) => event.soonMs ?? null,
          }),
        },
        'produce.acked': { actions: assign({ attempts: 0 }) },
      },
    },
    buffering: {
      meta: { tone: 'warn' },
      entry: [
        assign({ downSince: ({ context }) => context.downSince ?? Date.now() }),
        'reportDown',
        'refreshMetadata',
      ],
      initial: 'waiting',
      states: {
        waiting: {
          meta: { tone: 'warn' },
          after: {
            stillDownInterval: {
              target: 'waiting',
              reenter: true,
              actions: ['reportStillDown', 'refreshMetadata'],
            },
          },
        },
      },
      on: {
        leader: [
          // Its connection was lost: stay until the same broker actor says it is back.
          { guard: 'sameLeader', actions: 'refollow' },
          { target: 'connecting', actions: 'followLeader' },
        ],
        // Still no leader: stay, without reporting worker.down again or restarting the timer.
        'leader.lost': { actions: 'leaveLeader' },
        'conn.up': { guard: 'hasLeader', target: 'ready', actions: assign({ connected: true }) },
      },
    },
    retrying: {
      meta: { tone: 'warn' },
      entry: 'refreshMetadata',
      after: {
        retryDelay: [{ guard: 'connected', target: 'ready' }, { target: 'connecting' }],
      },
      on: {
        'conn.up': { actions: assign({ connected: true }) },
        'conn.down': {
          target: 'buffering',
          actions: assign({ connected: false, lastError: ({ event }) => event.error }),
        },
        'produce.retriable': { actions: assign({ lastError: ({ event }) => event.error }) },
        leader: { guard: not('sameLeader'), actions: 'followLeader' },
      },
    },
  },
});
