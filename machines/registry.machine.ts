import { assign, cancel, enqueueActions, setup, stopChild, type AnyActorLogic } from 'xstate';

/**
 * The registry: gproc's role. It names every actor of the producer (`metadata`, `broker:<id>`,
 * `topic:<name>`, `partition:<name>:<p>`), spawns and stops them as its children, and restarts
 * a child that fails, after a delay (brod waits 5 s for a worker, 10 s for a client).
 *
 * Routing does not go through this machine: the runtime keeps a plain Map from name to actor,
 * updated from this machine's children, so that finding a partition's worker is a synchronous
 * lookup (gproc's lookups are ETS reads, not messages).
 */

export type ActorKind = 'metadata' | 'broker' | 'topic' | 'partition';

export interface ChildSpec {
  kind: ActorKind;
  logic: AnyActorLogic;
  input: unknown;
}

export interface RegistryInput {
  /** Delay before a failed child is started again. */
  restartDelayMs: number;
}

export interface RegistryContext {
  restartDelayMs: number;
  /** How to (re)start each registered child, by name. */
  specs: Record<string, ChildSpec>;
  /** How many times each child was restarted. */
  restarts: Record<string, number>;
  /** The last error of each child that failed. */
  failures: Record<string, string>;
}

export type RegistryEvent =
  | { type: 'register'; name: string; spec: ChildSpec }
  | { type: 'unregister'; name: string }
  | { type: 'restart'; name: string };

/** The registry name of a broker connection, topic or partition worker. */
export const actorName = {
  broker: (id: number) => `broker:${id}`,
  topic: (name: string) => `topic:${name}`,
  partition: (topic: string, partition: number) => `partition:${topic}:${partition}`,
} as const;

/**
 * Children are spawned by name with logic chosen at run time, which xstate's types (built for
 * children declared in `setup`) do not describe; this is the one place that bridges the two.
 */
function spawnNamed(spawnChild: unknown, name: string, spec: ChildSpec): void {
  (spawnChild as (logic: AnyActorLogic, options: { id: string; input: unknown }) => void)(spec.logic, {
    id: name,
    input: spec.input,
  });
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
    /** Tell the runtime the set of children changed, so that it refreshes its index. */
    childrenChanged: () => undefined,
    recordFailure: assign({
      failures: ({ context, event }) => ({ ...context.failures, [failedChild(event)]: failureOf(event) }),
    }),
    stopFailedChild: stopChild(({ event }) => failedChild(event)),
    scheduleRestart: enqueueActions(({ context, event, enqueue }) => {
      const name = failedChild(event);
      enqueue.raise({ type: 'restart', name }, { delay: context.restartDelayMs, id: restartId(name) });
    }),
  },
  guards: {
    isRegisteredChild: ({ context, event }) => failedChild(event) in context.specs,
  },
}).createMachine({
  id: 'registry',
  context: ({ input }) => ({ restartDelayMs: input.restartDelayMs, specs: {}, restarts: {}, failures: {} }),
  on: {
    register: {
      guard: ({ context, event }) => !(event.name in context.specs),
      actions: [
        assign({ specs: ({ context, event }) => ({ ...context.specs, [event.name]: event.spec }) }),
        enqueueActions(({ enqueue, event }) => {
          spawnNamed(enqueue.spawnChild, event.name, event.spec);
        }),
        'childrenChanged',
      ],
    },
    unregister: {
      actions: [
        cancel(({ event }) => restartId(event.name)),
        stopChild(({ event }) => event.name),
        assign({
          specs: ({ context, event }) =>
            Object.fromEntries(Object.entries(context.specs).filter(([name]) => name !== event.name)),
        }),
        'childrenChanged',
      ],
    },
    // A child threw: stop what is left of it and start it again after the delay.
    'xstate.error.actor.*': {
      guard: 'isRegisteredChild',
      actions: ['recordFailure', 'stopFailedChild', 'scheduleRestart', 'childrenChanged'],
    },
    restart: {
      guard: ({ context, event }) => event.name in context.specs,
      actions: [
        assign({
          restarts: ({ context, event }) => ({
            ...context.restarts,
            [event.name]: (context.restarts[event.name] ?? 0) + 1,
          }),
        }),
        enqueueActions(({ context, event, enqueue }) => {
          const spec = context.specs[event.name];
          if (spec !== undefined) spawnNamed(enqueue.spawnChild, event.name, spec);
        }),
        'childrenChanged',
      ],
    },
  },
});
