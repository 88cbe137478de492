import { assign, setup } from 'xstate';
import type { ErrorSummary } from './describe-error.js';

/**
 * One topic, created lazily by the first produce to it (ekaf's topic server).
 *
 * - `resolving`: partitions not known yet; records wait (within the producer's bounds) and a
 *   metadata refresh is asked for.
 * - `active`: partitions known; records are partitioned and appended to their workers.
 * - `unavailable`: the cluster reports an error for the topic (unknown topic, authorization…),
 *   while resolving or once active (a topic deleted, an ACL revoked); metadata is asked for again
 *   every `retryMs` until the error clears. The runtime decides what the error does to records:
 *   a retriable one (a deleted topic may come back) leaves them to their delivery timeout, a
 *   non-retriable one (authorization) fails them at once.
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

export type TopicEvent = { type: 'partitions'; count: number } | { type: 'topic.error'; error: ErrorSummary };

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
    refreshMetadata: () => undefined,
    /** Move waiting records into partition workers (provided by the runtime). */
    releaseWaiting: () => undefined,
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
  },
  states: {
    resolving: {
      entry: 'refreshMetadata',
      on: {
        'topic.error': { target: 'unavailable', actions: assign({ lastError: ({ event }) => event.error }) },
      },
    },
    active: {
      entry: 'releaseWaiting',
      on: {
        'topic.error': { target: 'unavailable', actions: assign({ lastError: ({ event }) => event.error }) },
      },
    },
    unavailable: {
      // Keep asking: the topic may be created, or the error may clear.
      after: { retry: { target: 'unavailable', reenter: true, actions: 'refreshMetadata' } },
      on: { 'topic.error': { actions: assign({ lastError: ({ event }) => event.error }) } },
    },
  },
});
