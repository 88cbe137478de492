import { assign, fromPromise, setup } from 'xstate';
import { jitteredBackoff } from './backoff.js';
import { describeError } from './describe-error.js';

/**
 * Cluster metadata for the whole producer: one refresh in flight at a time.
 *
 * Refreshes are asked for by unknown topics, retriable errors and lost connections (`refresh`),
 * and happen on their own when the metadata is `metadataMaxAgeMs` old. Requests that arrive
 * while a fetch is running are folded into one follow-up fetch; fetches are at least
 * `minIntervalMs` apart and failures back off (capped, jittered), so that a broken cluster never
 * causes a refresh storm.
 */

export interface MetadataInput {
  metadataMaxAgeMs: number;
  /** Least time between two fetches (the first refresh is immediate). */
  minIntervalMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  random?: () => number;
}

export interface MetadataSummary {
  brokers: number;
  topics: number;
}

export interface MetadataContext extends MetadataInput {
  random: () => number;
  /** When the last successful fetch finished (ms since epoch), 0 before. */
  lastRefreshAt: number;
  /** When the last fetch started, 0 before. */
  lastFetchAt: number;
  /** A refresh was asked for while a fetch was running. */
  pending: boolean;
  attempts: number;
  lastError: { code: string; message: string } | null;
  summary: MetadataSummary;
}

export type MetadataEvent = { type: 'refresh' } | { type: 'stop' };

export const metadataMachine = setup({
  types: {
    context: {} as MetadataContext,
    input: {} as MetadataInput,
    events: {} as MetadataEvent,
  },
  actors: {
    /** Fetches metadata for the topics in use and applies it (provided by the runtime). */
    fetch: fromPromise<MetadataSummary>(() => {
      throw new Error('metadata machine: actor "fetch" was not provided');
    }),
  },
  delays: {
    /** Until `minIntervalMs` has passed since the last fetch started. */
    cooldown: ({ context }) => Math.max(0, context.lastFetchAt + context.minIntervalMs - Date.now()),
    backoff: ({ context }) =>
      jitteredBackoff(context.attempts, context.retryBackoffMs, context.retryBackoffMaxMs, context.random),
    maxAge: ({ context }) => context.metadataMaxAgeMs,
  },
}).createMachine({
  id: 'metadata',
  context: ({ input }) => ({
    ...input,
    random: input.random ?? Math.random,
    lastRefreshAt: 0,
    lastFetchAt: 0,
    pending: false,
    attempts: 0,
    lastError: null,
    summary: { brokers: 0, topics: 0 },
  }),
  // Lazy: nothing is fetched until the first refresh (the first produce to a topic).
  initial: 'idle',
  on: {
    stop: '.stopped',
  },
  states: {
    idle: {
      meta: { tone: 'good' },
      // Age only counts once metadata was fetched: an unused producer fetches nothing.
      after: { maxAge: { guard: ({ context }) => context.lastRefreshAt > 0, target: 'cooldown' } },
      on: { refresh: 'cooldown' },
    },
    cooldown: {
      meta: { tone: 'busy' },
      after: { cooldown: 'fetching' },
    },
    fetching: {
      meta: { tone: 'busy' },
      entry: assign({ lastFetchAt: () => Date.now(), pending: false }),
      invoke: {
        src: 'fetch',
        onDone: [
          {
            guard: ({ context }) => context.pending,
            target: 'cooldown',
            actions: assign({
              lastRefreshAt: () => Date.now(),
              attempts: 0,
              summary: ({ event }) => event.output,
            }),
          },
          {
            target: 'idle',
            actions: assign({
              lastRefreshAt: () => Date.now(),
              attempts: 0,
              summary: ({ event }) => event.output,
            }),
          },
        ],
        onError: {
          target: 'backoff',
          actions: assign({
            attempts: ({ context }) => context.attempts + 1,
            lastError: ({ event }) => describeError(event.error),
          }),
        },
      },
      on: { refresh: { actions: assign({ pending: true }) } },
    },
    backoff: {
      meta: { tone: 'warn' },
      after: { backoff: 'fetching' },
    },
    stopped: { type: 'final', meta: { tone: 'idle' } },
  },
});
