import { assign, setup } from 'xstate';
import type { ErrorSummary } from './describe-error.js';

/**
 * One topic, created lazily by the first produce to it (ekaf's topic server). Its state decides
 * where a produce call's records go (src/runtime/runtime.ts, `accept`):
 *
 * - `resolving`: partitions not known yet; records wait (within the producer's bounds) and a
 *   metadata refresh is asked for.
 * - `active`: partitions known; records are partitioned and appended to their workers.
 * - `unavailable`: the cluster reports a retriable error for the topic (unknown topic, no
 *   leader…): the topic may come back, so records wait if its partitions were never known, or go
 *   to their partitions and are retried there, until their delivery timeout (as the Java
 *   producer does). Metadata is asked for again every `retryMs`.
 * - `refused`: the cluster reports a non-retriable error (authorization, invalid topic): what
 *   the topic holds fails at once (`refuseHeld`), and so does every record produced to it while
 *   the error lasts. Metadata is still asked for, so that the topic recovers when it clears.
 *
 * Every state takes both metadata verdicts (`partitions`, `topic.error`).
 */

export interface TopicInput {
  name: string;
  /** How often metadata is asked for again while the topic is unavailable. Default 1000 ms. */
  retryMs?: number;
}

export interface TopicContext {
  name: string;
  retryMs: number;
  partitionCount: number;
  lastError: ErrorSummary | null;
}

export type TopicEvent =
  | { type: 'partitions'; count: number }
  /** `retriable`: whether the topic may come back by itself (see the states above). */
  | { type: 'topic.error'; error: ErrorSummary; retriable: boolean };

const notProvided = (name: string) => (): never => {
  throw new Error(`topic machine: action "${name}" was not provided`);
};

export const topicMachine = setup({
  types: {
    context: {} as TopicContext,
    input: {} as TopicInput,
    events: {} as TopicEvent,
  },
  delays: {
    retry: ({ context }) => context.retryMs,
  },
  actions: {
    /** Ask the metadata actor for a refresh (provided by the runtime). */
    refreshMetadata: notProvided('refreshMetadata'),
    /** Move waiting records into partition workers (provided by the runtime). */
    releaseWaiting: notProvided('releaseWaiting'),
    /** Fail what the topic holds with its error (provided by the runtime). */
    refuseHeld: notProvided('refuseHeld'),
    noteError: assign({ lastError: ({ event }) => (event.type === 'topic.error' ? event.error : null) }),
  },
  guards: {
    retriable: ({ event }) => event.type === 'topic.error' && event.retriable,
  },
}).createMachine({
  id: 'topic',
  context: ({ input }) => ({
    name: input.name,
    retryMs: input.retryMs ?? 1000,
    partitionCount: 0,
    lastError: null,
  }),
  initial: 'resolving',
  on: {
    partitions: {
      target: '.active',
      actions: assign({ partitionCount: ({ event }) => event.count, lastError: null }),
    },
    'topic.error': [
      { guard: 'retriable', target: '.unavailable', actions: 'noteError' },
      { target: '.refused', actions: 'noteError' },
    ],
  },
  states: {
    resolving: {
      meta: { tone: 'busy' },
      entry: 'refreshMetadata',
    },
    active: {
      meta: { tone: 'good' },
      entry: 'releaseWaiting',
    },
    unavailable: {
      meta: { tone: 'bad' },
      // Keep asking: the topic may be created, or the error may clear.
      after: { retry: { target: 'unavailable', reenter: true, actions: 'refreshMetadata' } },
      on: {
        // Another retriable error: same state, timer kept.
        'topic.error': [
          { guard: 'retriable', actions: 'noteError' },
          { target: 'refused', actions: 'noteError' },
        ],
      },
    },
    refused: {
      meta: { tone: 'bad' },
      // Re-entered every retryMs: nothing is held by then (records are refused as they come).
      entry: 'refuseHeld',
      after: { retry: { target: 'refused', reenter: true, actions: 'refreshMetadata' } },
      on: {
        'topic.error': [
          { guard: 'retriable', target: 'unavailable', actions: 'noteError' },
          { actions: 'noteError' },
        ],
      },
    },
  },
});
