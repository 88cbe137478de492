import { assign, enqueueActions, fromCallback, fromPromise, setup, type AnyActorRef } from 'xstate';
import { jitteredBackoff } from './backoff.js';
import { describeError } from './describe-error.js';

/**
 * One broker connection: `connecting → handshaking → ready`, `retrying` with capped, jittered
 * exponential backoff after any failure, `closed` when told to close, `failed` when the broker
 * cannot serve us at all (no common API versions).
 *
 * This is a pure definition: the socket work (`connect`, `handshake`, `watch`) and what the
 * runtime does with a ready link (`linkUp`, `linkDown`: hand it to the broker's sender) are
 * provided by `src/runtime/broker-connection.ts` with `machine.provide()`. The machine only sees
 * the link as an opaque object it can close.
 *
 * Partition workers whose leader this broker is `follow` it (and `unfollow` it when the leader
 * moves); the machine itself tells its followers `conn.up` when it becomes ready (and at once
 * when one follows a ready connection) and `conn.down` when it leaves `ready` (and at once when
 * one follows again after a rest, with `resync`, while it is not ready). No one else
 * relays its transitions.
 */

/** What the machine needs of a live connection. */
export interface BrokerLink {
  close(): void;
}

export interface BrokerConnectionInput {
  brokerId: number;
  host: string;
  port: number;
  /** First retry delay; doubles on each consecutive failure. */
  reconnectBackoffMs?: number;
  /** Cap of the retry delay. */
  reconnectBackoffMaxMs?: number;
  /** Relative jitter applied to each delay (0.2 = ±20%), so that clients do not reconnect in lockstep. */
  reconnectJitter?: number;
  /** Source of randomness for the jitter; tests pass a fixed one. */
  random?: () => number;
}

/** What a follower is told. */
export type ConnectionNews =
  { type: 'conn.up' } | { type: 'conn.down'; error: { code: string; message: string } };

export interface BrokerConnectionContext {
  brokerId: number;
  /** The workers this broker leads, by name, told of every change of the connection. */
  followers: ReadonlyMap<string, AnyActorRef>;
  host: string;
  port: number;
  link: BrokerLink | null;
  /** Negotiated version per API name, once handshaking succeeded. */
  versions: Record<string, number>;
  /** Consecutive failed attempts since the last time the connection was ready. */
  attempts: number;
  lastError: { code: string; message: string } | null;
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  reconnectJitter: number;
  random: () => number;
}

export type BrokerConnectionEvent =
  | { type: 'conn.down'; error: { code: string; message: string } }
  | { type: 'close' }
  /**
   * A partition worker whose leader this broker is. `resync`: it follows again after a time it
   * could not be told (at rest, see src/runtime/hibernation.ts): it is told the connection's
   * state either way, `conn.down` too.
   */
  | { type: 'follow'; worker: AnyActorRef; resync?: boolean }
  | { type: 'unfollow'; worker: AnyActorRef };

export interface HandshakeOutput {
  versions: Record<string, number>;
}

export const BROKER_CONNECTION_DEFAULTS = {
  reconnectBackoffMs: 50,
  reconnectBackoffMaxMs: 1000,
  reconnectJitter: 0.2,
} as const;

export { backoffDelay } from './backoff.js';

/** Context changes after a failed attempt or a lost connection. */
function failure(context: BrokerConnectionContext, error: unknown): Partial<BrokerConnectionContext> {
  return { link: null, versions: {}, attempts: context.attempts + 1, lastError: describeError(error) };
}

/**
 * A broker whose API versions do not overlap ours will not start to on a reconnect: the machine
 * stops in `failed` instead of reconnecting every second forever. Its supervisor decides whether
 * to try again later (a broker may be upgraded). Every other failure is retried.
 */
function isPermanent(error: unknown): boolean {
  return describeError(error).code === 'ERR_UNSUPPORTED_VERSION';
}

const notProvided = (name: string) => (): never => {
  throw new Error(`broker-connection machine: actor "${name}" was not provided`);
};

const actionNotProvided = (name: string) => (): never => {
  throw new Error(`broker-connection machine: action "${name}" was not provided`);
};

const CLOSED = { code: 'ERR_CONNECTION_CLOSED', message: 'broker connection stopped' };

/** Why the connection left `ready`, as its followers are told: the lost connection's error, or a close. */
export function downReason(event: BrokerConnectionEvent): { code: string; message: string } {
  return event.type === 'conn.down' ? event.error : CLOSED;
}

/** Tells every live follower `news` (a stopped worker, left behind by its partition, is skipped). */
function tellFollowers(
  followers: ReadonlyMap<string, AnyActorRef>,
  news: ConnectionNews,
  sendTo: (ref: AnyActorRef, event: ConnectionNews) => void,
): void {
  for (const ref of followers.values()) {
    if ((ref.getSnapshot() as { status: string }).status === 'active') sendTo(ref, news);
  }
}

export const brokerConnectionMachine = setup({
  types: {
    context: {} as BrokerConnectionContext,
    input: {} as BrokerConnectionInput,
    events: {} as BrokerConnectionEvent,
  },
  actors: {
    /** Opens a link; closes it if stopped before it finishes (xstate aborts the signal). */
    connect: fromPromise<BrokerLink, { host: string; port: number }>(notProvided('connect')),
    /** Negotiates versions; closes the link if stopped before it finishes. */
    handshake: fromPromise<HandshakeOutput, { link: BrokerLink }>(notProvided('handshake')),
    /**
     * Reports `conn.down` when the link closes. It owns the link while `ready`: stopping it (any
     * exit from `ready`, or the whole actor being stopped) closes the link.
     */
    watch: fromCallback<BrokerConnectionEvent, { link: BrokerLink }>(notProvided('watch')),
  },
  actions: {
    closeLink: ({ context }) => {
      context.link?.close();
    },
    /** The link is ready: the runtime's sender may send on it (provided by the runtime). */
    linkUp: actionNotProvided('linkUp'),
    /** The link is gone: the sender stops using it (provided by the runtime). */
    linkDown: actionNotProvided('linkDown'),
    follow: assign({
      followers: ({ context, event }) =>
        event.type === 'follow'
          ? new Map(context.followers).set(event.worker.id, event.worker)
          : context.followers,
    }),
    unfollow: assign({
      followers: ({ context, event }) => {
        // Only the actor that followed: a restarted worker under the same name may follow already.
        if (event.type !== 'unfollow' || context.followers.get(event.worker.id) !== event.worker)
          return context.followers;
        const followers = new Map(context.followers);
        followers.delete(event.worker.id);
        return followers;
      },
    }),
    announceUp: enqueueActions(({ context, enqueue }) => {
      tellFollowers(context.followers, { type: 'conn.up' }, (ref, news) => {
        enqueue.sendTo(ref, news);
      });
    }),
    /** A follower back from a time it could not be told, while the connection is not ready. */
    tellNotReady: enqueueActions(({ context, event, enqueue }) => {
      if (event.type === 'follow' && event.resync === true)
        enqueue.sendTo(event.worker, { type: 'conn.down', error: context.lastError ?? CLOSED });
    }),
    /** A follower joined a ready connection: it may send at once. */
    welcome: enqueueActions(({ event, enqueue }) => {
      if (event.type === 'follow') enqueue.sendTo(event.worker, { type: 'conn.up' });
    }),
    /** Leaving `ready`: the reason is the lost connection's error, or a close. */
    announceDown: enqueueActions(({ context, event, enqueue }) => {
      const error = downReason(event);
      tellFollowers(context.followers, { type: 'conn.down', error }, (ref, news) => {
        enqueue.sendTo(ref, news);
      });
    }),
  },
  delays: {
    backoff: ({ context }) =>
      jitteredBackoff(
        context.attempts,
        context.reconnectBackoffMs,
        context.reconnectBackoffMaxMs,
        context.random,
        context.reconnectJitter,
      ),
  },
}).createMachine({
  id: 'broker-connection',
  context: ({ input }) => ({
    brokerId: input.brokerId,
    host: input.host,
    port: input.port,
    followers: new Map(),
    link: null,
    versions: {},
    attempts: 0,
    lastError: null,
    reconnectBackoffMs: input.reconnectBackoffMs ?? BROKER_CONNECTION_DEFAULTS.reconnectBackoffMs,
    reconnectBackoffMaxMs: input.reconnectBackoffMaxMs ?? BROKER_CONNECTION_DEFAULTS.reconnectBackoffMaxMs,
    reconnectJitter: input.reconnectJitter ?? BROKER_CONNECTION_DEFAULTS.reconnectJitter,
    random: input.random ?? Math.random,
  }),
  initial: 'connecting',
  on: {
    close: { target: '.closed' },
    follow: { actions: ['follow', 'tellNotReady'] },
    unfollow: { actions: 'unfollow' },
  },
  states: {
    connecting: {
      meta: { tone: 'busy' },
      invoke: {
        src: 'connect',
        input: ({ context }) => ({ host: context.host, port: context.port }),
        onDone: {
          target: 'handshaking',
          actions: assign({ link: ({ event }) => event.output }),
        },
        onError: {
          target: 'retrying',
          actions: assign(({ context, event }) => failure(context, event.error)),
        },
      },
    },
    handshaking: {
      meta: { tone: 'busy' },
      invoke: {
        src: 'handshake',
        input: ({ context }) => ({ link: context.link as BrokerLink }),
        onDone: {
          target: 'ready',
          actions: assign({ versions: ({ event }) => event.output.versions }),
        },
        onError: [
          {
            guard: ({ event }) => isPermanent(event.error),
            target: 'failed',
            actions: ['closeLink', assign(({ context, event }) => failure(context, event.error))],
          },
          {
            target: 'retrying',
            actions: ['closeLink', assign(({ context, event }) => failure(context, event.error))],
          },
        ],
      },
    },
    ready: {
      meta: { tone: 'good' },
      entry: [assign({ attempts: 0 }), 'linkUp', 'announceUp'],
      exit: ['linkDown', 'announceDown'],
      invoke: {
        src: 'watch',
        input: ({ context }) => ({ link: context.link as BrokerLink }),
      },
      on: {
        follow: { actions: ['follow', 'welcome'] },
        'conn.down': {
          target: 'retrying',
          actions: assign(({ context, event }) => failure(context, event.error)),
        },
      },
    },
    retrying: {
      meta: { tone: 'warn' },
      after: {
        backoff: { target: 'connecting' },
      },
    },
    closed: {
      meta: { tone: 'idle' },
      type: 'final',
      entry: ['closeLink', assign({ link: null })],
    },
    /** The broker cannot serve this client (no common API versions); see `lastError`. */
    failed: {
      meta: { tone: 'bad' },
      type: 'final',
    },
  },
});
