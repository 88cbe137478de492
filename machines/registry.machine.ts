import {
  cancel,
  createActor,
  enqueueActions,
  setup,
  stopChild,
  type AnyActorRef,
  StateMachine,
  type AnyActorLogic,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { ActorIndex, type ActorRest, type ChildSpec } from './actor-index.js';

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

export { actorName, ActorIndex, type ActorKind, type ActorRest, type ChildSpec } from './actor-index.js';

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

/** One child to register: its name, how to start it, and whether it starts at rest. */
export interface ChildRegistration {
  name: string;
  spec: ChildSpec;
  /** Registered at rest in this state (no actor until an event wakes it); else started. */
  rest?: ActorRest;
}

export type RegistryEvent =
  | ({ type: 'register' } & ChildRegistration)
  /** Many children in one event (a topic's partitions): one transition instead of one each. */
  | { type: 'register.all'; children: readonly ChildRegistration[] }
  | { type: 'unregister'; name: string }
  | { type: 'restart'; name: string }
  /**
   * The child may rest: its actor is stopped and its state kept (see ActorRest). Asked only for
   * a state without timers or invoked actors (the partition worker's `ready`).
   */
  | { type: 'rest'; name: string }
  /**
   * `event` concerns the child: started again first if at rest (and told `resumed`), then given
   * the event.
   */
  | { type: 'wake'; name: string; event: EventObject }
  /** Stops every child (the producer closes); the registry is stopped after. */
  | { type: 'close' };

/**
 * Starts a child of the registry. Not xstate's `spawn`: a machine keeps its spawned children in
 * its snapshot, and copies that object on every spawn and every stop, so n partitions cost
 * O(n²) (1 000 stops took 2.4 s on closing). The registry's index is its table of children
 * instead: each is created with the registry as its parent, which makes it part of the
 * registry's actor system (one inspector sees it, `system.get` finds it) and sends its failure
 * to the registry as `xstate.error.actor.<name>`; the registry stops it with `stopChild(ref)`.
 */
function startChild(self: AnyActorRef, name: string, spec: ChildSpec): AnyActorRef {
  return createActor(spec.logic, { id: name, parent: self, input: spec.input });
}

/**
 * Starts a child again in the state it rested in. xstate's own restore takes a persisted (JSON)
 * snapshot and walks its context to revive actor references, which from a worker's context (it
 * holds its broker's actor) would walk the whole actor system; the snapshot resolved here is
 * live already, so the logic the actor is given restores it as it is.
 */
function resumeChild(self: AnyActorRef, name: string, spec: ChildSpec, rest: ActorRest): AnyActorRef {
  const machine = spec.logic;
  if (!(machine instanceof StateMachine))
    throw new Error(`registry: ${name} cannot rest, its logic is not a state machine`);
  const snapshot = machine.resolveState({ value: rest.value, context: rest.context, historyValue: {} });
  return createActor(resumable(machine), { id: name, parent: self, snapshot });
}

const resumables = new WeakMap<AnyStateMachine, AnyActorLogic>();

/** The machine's logic, but restoring a snapshot as it is given (see resumeChild). */
function resumable(machine: AnyStateMachine): AnyActorLogic {
  let logic = resumables.get(machine);
  if (logic === undefined) {
    type Snapshot = Parameters<AnyStateMachine['transition']>[0];
    type Scope = Parameters<AnyStateMachine['transition']>[2];
    const resumed: AnyActorLogic = {
      config: machine.config,
      transition: (snapshot: Snapshot, event: EventObject, scope: Scope) =>
        machine.transition(snapshot, event, scope),
      getInitialSnapshot: (scope: Scope, input: unknown) => machine.getInitialSnapshot(scope, input),
      getPersistedSnapshot: (snapshot: Snapshot) => machine.getPersistedSnapshot(snapshot),
      start: (snapshot: Snapshot) => {
        machine.start(snapshot);
      },
      restoreSnapshot: (snapshot: unknown) => snapshot,
    };
    logic = resumed;
    resumables.set(machine, logic);
  }
  return logic;
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
    /** A child at rest was started again (provided by the runtime), before its event reaches it. */
    woken: (_, _params: { name: string; ref: AnyActorRef }): void => {
      throw new Error('registry machine: action "woken" was not provided');
    },
    /**
     * Starts the children named for the first time, or registers them at rest; a name already
     * registered is kept as it is.
     */
    // Children are made while the registry's transition is resolved (enqueueActions), not in a
    // custom action: making a machine evaluates its context with xstate's own assign, which warns
    // ("Custom actions should not call assign() directly") when a custom action is running.
    register: enqueueActions(({ context, event, self }) => {
      const children =
        event.type === 'register' ? [event] : event.type === 'register.all' ? event.children : [];
      const started: AnyActorRef[] = [];
      for (const { name, spec, rest } of children) {
        if (context.index.has(name)) continue;
        if (rest !== undefined) {
          context.index.add(name, spec, null, rest);
          continue;
        }
        const ref = startChild(self, name, spec);
        // Indexed before it starts: its first actions may already look it up.
        context.index.add(name, spec, ref);
        started.push(ref);
      }
      for (const ref of started) ref.start();
    }),
    /** Stops a running child that may rest, keeping its state. */
    rest: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'rest') return;
      const ref = context.index.get(event.name);
      const snapshot = ref?.getSnapshot() as
        { status: string; value: unknown; context: unknown; children: object } | undefined;
      if (ref === undefined || snapshot === undefined) return;
      if (snapshot.status !== 'active' || typeof snapshot.value !== 'string') return;
      if (Object.keys(snapshot.children).length > 0) return;
      context.index.rested(event.name, { value: snapshot.value, context: snapshot.context });
      enqueue.stopChild(ref);
    }),
    /** Starts a child at rest again, in the state it rested in (enqueueActions, see `register`). */
    resume: enqueueActions(({ context, event, self }) => {
      const entry = event.type === 'wake' ? context.index.entry(event.name) : undefined;
      if (entry?.rest == null) return;
      const ref = resumeChild(self, entry.name, entry.spec, entry.rest);
      context.index.woke(entry.name, ref);
      ref.start();
    }),
    /**
     * Gives a child its event (none while it waits for its restart, which brings it up to date).
     * One just started again from rest is told `resumed` first: what it stopped doing at rest,
     * it takes up again (a partition worker follows its broker's actor again).
     */
    deliver: enqueueActions(({ context, event, enqueue }, params: { resumed: boolean }) => {
      if (event.type !== 'wake') return;
      const ref = context.index.get(event.name);
      if (ref === undefined) return;
      if (params.resumed) enqueue.sendTo(ref, { type: 'resumed' });
      enqueue.sendTo(ref, event.event);
    }),
    /** The failed child stopped itself; it waits for its restart without an actor. */
    recordFailure: ({ context, event }) => {
      context.index.failed(failedChild(event), failureOf(event));
    },
    scheduleRestart: enqueueActions(({ context, event, enqueue }) => {
      const name = failedChild(event);
      enqueue.raise({ type: 'restart', name }, { delay: context.restartDelayMs, id: restartId(name) });
    }),
    stopAll: enqueueActions(({ context, enqueue }) => {
      for (const entry of context.index.all()) if (entry.ref !== null) enqueue.stopChild(entry.ref);
    }),
  },
  guards: {
    isRunningChild: ({ context, event }) => context.index.get(failedChild(event)) !== undefined,
    isResting: ({ context, event }) => event.type === 'wake' && context.index.entry(event.name)?.rest != null,
  },
}).createMachine({
  id: 'registry',
  meta: { tone: 'good' },
  context: ({ input }) => ({ restartDelayMs: input.restartDelayMs, index: input.index ?? new ActorIndex() }),
  on: {
    register: { actions: 'register' },
    'register.all': { actions: 'register' },
    unregister: {
      actions: [
        cancel(({ event }) => restartId(event.name)),
        // '' names no child: nothing to stop when the child waits for its restart.
        stopChild(({ context, event }) => context.index.get(event.name) ?? ''),
        ({ context, event }) => {
          context.index.remove(event.name);
        },
      ],
    },
    // A child threw (and stopped): start it again after the delay.
    'xstate.error.actor.*': {
      guard: 'isRunningChild',
      actions: ['recordFailure', 'scheduleRestart'],
    },
    restart: {
      guard: ({ context, event }) => context.index.entry(event.name)?.ref === null,
      actions: [
        // enqueueActions, as `register`: no custom action runs while the child is made.
        enqueueActions(({ context, event, self }) => {
          const entry = context.index.entry(event.name);
          if (entry === undefined) return;
          const ref = startChild(self, event.name, entry.spec);
          context.index.restarted(event.name, ref);
          ref.start();
        }),
        { type: 'restarted', params: ({ event }) => ({ name: event.name }) },
      ],
    },
    rest: { actions: 'rest' },
    wake: [
      {
        guard: 'isResting',
        actions: [
          'resume',
          {
            type: 'woken',
            params: ({ context, event }) => ({
              name: event.name,
              ref: context.index.get(event.name) as AnyActorRef,
            }),
          },
          { type: 'deliver', params: { resumed: true } },
        ],
      },
      { actions: { type: 'deliver', params: { resumed: false } } },
    ],
    close: { actions: 'stopAll' },
  },
});
