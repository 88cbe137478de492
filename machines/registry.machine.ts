import {
  assign,
  cancel,
  enqueueActions,
  setup,
  stopChild,
  type AnyActorLogic,
  type AnyActorRef,
} from 'xstate';
import { ActorIndex, type ChildSpec } from './actor-index.js';

/**
 * The registry: gproc's role. It is the one place that starts, stops and restarts the
 * producer's actors (`metadata`, `identity`, `broker:<id>`, `topic:<name>`,
 * `partition:<topic>:<p>`), as its children, and it keeps their index (./actor-index.ts), which
 * the data path reads synchronously. A child that fails is stopped and started again after a
 * delay (brod waits 5 s for a worker, 10 s for a client); the runtime hears of each restart
 * (`restarted`) to bring the new actor up to date (a partition worker learns its leader again).
 *
 * ```
 * registry
 * ├── metadata            what the cluster looks like; the runtime turns its answers into
 * │                       register / unregister events (src/runtime/topology-follower.ts)
 * ├── identity            the idempotent producer's id and epoch
 * ├── broker:<id>         one connection per broker; tells the workers that follow it
 * │                       when it goes up or down
 * ├── topic:<name>        routes records: waiting, active, unavailable, refused
 * └── partition:<t>:<p>   one worker per partition: connecting, ready, buffering, retrying
 * ```
 */

export { actorName, ActorIndex, type ActorKind, type ChildSpec } from './actor-index.js';

export interface RegistryInput {
  /** Delay before a failed child is started again. */
  restartDelayMs: number;
  /** The index to keep (the runtime holds the same object to read it); a new one if absent. */
  index?: ActorIndex;
}

export interface RegistryContext {
  restartDelayMs: number;
  index: ActorIndex;
}

export type RegistryEvent =
  | { type: 'register'; name: string; spec: ChildSpec }
  | { type: 'unregister'; name: string }
  | { type: 'restart'; name: string };

/**
 * Children are spawned by name with logic chosen at run time, which xstate's types (built for
 * children declared in `setup`) do not describe; this is the one place that bridges the two.
 */
function spawnNamed(spawn: unknown, name: string, spec: ChildSpec): AnyActorRef {
  return (spawn as (logic: AnyActorLogic, options: { id: string; input: unknown }) => AnyActorRef)(
    spec.logic,
    { id: name, input: spec.input },
  );
}

const ERROR_PREFIX = 'xstate.error.actor.';

/**
 * The id of a child's pending restart, so that unregistering the child cancels it: otherwise a
 * child registered again under the same name (a broker restarted at a new address) would be
 * started a second time when its failed predecessor's restart fell due.
 */
const restartId = (name: string): string => `restart:${name}`;

/** The child named by an `xstate.error.actor.<name>` event. */
function failedChild(event: { type: string }): string {
  return event.type.startsWith(ERROR_PREFIX) ? event.type.slice(ERROR_PREFIX.length) : '';
}

function failureOf(event: object): string {
  const { error } = event as { error?: unknown };
  return error instanceof Error ? error.message : String(error);
}

export const registryMachine = setup({
  types: {
    context: {} as RegistryContext,
    input: {} as RegistryInput,
    events: {} as RegistryEvent,
  },
  actions: {
    /** A child was started again after a failure (provided by the runtime). */
    restarted: (_, _params: { name: string }): void => {
      throw new Error('registry machine: action "restarted" was not provided');
    },
    recordFailure: ({ context, event }) => {
      context.index.failed(failedChild(event), failureOf(event));
    },
    stopFailedChild: stopChild(({ event }) => failedChild(event)),
    scheduleRestart: enqueueActions(({ context, event, enqueue }) => {
      const name = failedChild(event);
      enqueue.raise({ type: 'restart', name }, { delay: context.restartDelayMs, id: restartId(name) });
    }),
  },
  guards: {
    isRunningChild: ({ context, event }) => context.index.get(failedChild(event)) !== undefined,
  },
}).createMachine({
  id: 'registry',
  meta: { tone: 'good' },
  context: ({ input }) => ({ restartDelayMs: input.restartDelayMs, index: input.index ?? new ActorIndex() }),
  on: {
    register: {
      guard: ({ context, event }) => !context.index.has(event.name),
      actions: assign(({ context, event, spawn }) => {
        context.index.add(event.name, event.spec, spawnNamed(spawn, event.name, event.spec));
        return { index: context.index };
      }),
    },
    unregister: {
      actions: [
        cancel(({ event }) => restartId(event.name)),
        stopChild(({ event }) => event.name),
        ({ context, event }) => {
          context.index.remove(event.name);
        },
      ],
    },
    // A child threw: stop what is left of it and start it again after the delay.
    'xstate.error.actor.*': {
      guard: 'isRunningChild',
      actions: ['recordFailure', 'stopFailedChild', 'scheduleRestart'],
    },
    restart: {
      guard: ({ context, event }) => context.index.entry(event.name)?.ref === null,
      actions: [
        assign(({ context, event, spawn }) => {
          const entry = context.index.entry(event.name);
          if (entry !== undefined)
            context.index.restarted(event.name, spawnNamed(spawn, event.name, entry.spec));
          return { index: context.index };
        }),
        { type: 'restarted', params: ({ event }) => ({ name: event.name }) },
      ],
    },
  },
});
