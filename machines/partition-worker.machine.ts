import { assign, setup } from 'xstate';
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
  /** Whether the leader's connection is ready, as last reported. */
  connected: boolean;
  /** Consecutive retriable failures since the last success. */
  attempts: number;
  lastError: { code: string; message: string } | null;
  /** Since when the worker has had no usable leader (ms since epoch), or null. */
  downSince: number | null;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  stillDownIntervalMs: number;
  random: () => number;
}

export type PartitionWorkerEvent =
  /** Metadata named a leader; `connected` says whether its connection is ready. */
  | { type: 'leader'; leaderId: number; connected: boolean }
  /** Metadata has no usable leader for this partition. */
  | { type: 'leader.lost' }
  /** The leader's connection became ready / was lost. */
  | { type: 'conn.up' }
  | { type: 'conn.down'; error: { code: string; message: string } }
  /** A batch came back with a retriable error. */
  | { type: 'produce.retriable'; error: { code: string; message: string } }
  /** A batch was acknowledged. */
  | { type: 'produce.acked' };

/** Retry delay after `attempts` consecutive failures, with ±20% jitter. */
export function retryDelay(context: PartitionWorkerContext): number {
  return jitteredBackoff(context.attempts, context.retryBackoffMs, context.retryBackoffMaxMs, context.random);
}

export const partitionWorkerMachine = setup({
  types: {
    context: {} as PartitionWorkerContext,
    input: {} as PartitionWorkerInput,
    events: {} as PartitionWorkerEvent,
  },
  actions: {
    setLeader: assign(({ event }) =>
      event.type === 'leader' ? { leaderId: event.leaderId, connected: event.connected } : {},
    ),
    /** Let the leader's connection take this partition's batches (provided by the runtime). */
    drain: () => undefined,
    /** Ask the metadata actor for a refresh (provided by the runtime). */
    refreshMetadata: () => undefined,
    /** Report `worker.up` (and `time_to_connect` / `time_down`) (provided by the runtime). */
    reportUp: () => undefined,
    /** Report `worker.down` (provided by the runtime). */
    reportDown: () => undefined,
    /** Report `worker.still_down` (provided by the runtime). */
    reportStillDown: () => undefined,
  },
  delays: {
    retryDelay: ({ context }) => retryDelay(context),
    stillDownInterval: ({ context }) => context.stillDownIntervalMs,
  },
  guards: {
    leaderConnected: ({ event }) => event.type === 'leader' && event.connected,
    sameLeaderConnected: ({ context, event }) =>
      event.type === 'leader' && event.leaderId === context.leaderId && event.connected,
    connected: ({ context }) => context.connected,
    hasLeader: ({ context }) => context.leaderId !== -1,
    isDown: ({ context }) => context.downSince !== null,
  },
}).createMachine({
  id: 'partition-worker',
  context: ({ input }) => ({
    topic: input.topic,
    partition: input.partition,
    leaderId: -1,
    connected: false,
    attempts: 0,
    lastError: null,
    downSince: null,
    retryBackoffMs: input.retryBackoffMs,
    retryBackoffMaxMs: input.retryBackoffMaxMs,
    stillDownIntervalMs: input.stillDownIntervalMs,
    random: input.random ?? Math.random,
  }),
  initial: 'connecting',
  on: {
    'leader.lost': { target: '.buffering', actions: assign({ leaderId: -1, connected: false }) },
  },
  states: {
    connecting: {
      // After a downtime, waiting for the leader's connection is still being down.
      after: {
        stillDownInterval: {
          guard: 'isDown',
          target: 'connecting',
          reenter: true,
          actions: ['reportStillDown', 'refreshMetadata'],
        },
      },
      on: {
        'conn.up': { guard: 'hasLeader', target: 'ready', actions: assign({ connected: true }) },
        'conn.down': {
          target: 'buffering',
          actions: assign({ connected: false, lastError: ({ event }) => event.error }),
        },
        leader: [
          { guard: 'leaderConnected', target: 'ready', actions: 'setLeader' },
          { actions: 'setLeader' },
        ],
      },
    },
    ready: {
      entry: ['reportUp', assign({ downSince: null }), 'drain'],
      on: {
        'conn.down': {
          target: 'buffering',
          actions: assign({ connected: false, lastError: ({ event }) => event.error }),
        },
        leader: [
          { guard: 'sameLeaderConnected' },
          // A new leader: re-enter ready (its connection is up) or wait for it.
          { guard: 'leaderConnected', target: 'ready', reenter: true, actions: 'setLeader' },
          { target: 'connecting', actions: 'setLeader' },
        ],
        'produce.retriable': {
          target: 'retrying',
          actions: assign({
            attempts: ({ context }) => context.attempts + 1,
            lastError: ({ event }) => event.error,
          }),
        },
        'produce.acked': { actions: assign({ attempts: 0 }) },
      },
    },
    buffering: {
      entry: [
        assign({ downSince: ({ context }) => context.downSince ?? Date.now() }),
        'reportDown',
        'refreshMetadata',
      ],
      initial: 'waiting',
      states: {
        waiting: {
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
          { guard: 'leaderConnected', target: 'ready', actions: 'setLeader' },
          { target: 'connecting', actions: 'setLeader' },
        ],
        // Still no leader: stay, without reporting worker.down again or restarting the timer.
        'leader.lost': { actions: assign({ leaderId: -1, connected: false }) },
        'conn.up': { guard: 'hasLeader', target: 'ready', actions: assign({ connected: true }) },
      },
    },
    retrying: {
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
        leader: { actions: 'setLeader' },
      },
    },
  },
});
