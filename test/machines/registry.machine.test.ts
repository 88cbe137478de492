import {
  assign,
  createActor,
  createMachine,
  fromCallback,
  setup,
  SimulatedClock,
  type AnyActorRef,
} from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { actorName, registryMachine } from '../../machines/registry.machine.js';

describe('registry machine', () => {
  it('makes a child machine whose context is a function without xstate warning about assign()', () => {
    // xstate evaluates such a context with its own assign, which warns when run from a custom action.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const registry = createActor(registryMachine, { input: { restartDelayMs: 5000 } });
      registry.start();
      const logic = createMachine({ context: ({ input }: { input: { n: number } }) => ({ n: input.n }) });
      registry.send({
        type: 'register',
        name: 'transaction',
        spec: { kind: 'transaction', logic, input: { n: 1 } },
      });
      const child = registry.getSnapshot().context.index.get('transaction');
      expect((child?.getSnapshot() as { context: unknown } | undefined)?.context).toEqual({ n: 1 });
      expect(warn).not.toHaveBeenCalled();
      registry.stop();
    } finally {
      warn.mockRestore();
    }
  });

  it('names children, stops them, and restarts a failed one after the delay', () => {
    const clock = new SimulatedClock();
    let starts = 0;
    const flaky = fromCallback<{ type: 'boom' }>(({ receive }) => {
      starts++;
      receive(() => {
        throw new Error('child crashed');
      });
    });
    const restarted: string[] = [];
    const registry = createActor(
      registryMachine.provide({
        actions: {
          restarted: (_, { name }) => {
            restarted.push(name);
          },
        },
      }),
      { clock, input: { restartDelayMs: 5000 } },
    );
    registry.start();
    const child = (): AnyActorRef | undefined => registry.getSnapshot().context.index.get(name);
    const name = actorName.partition('events', 3);
    expect(name).toBe('partition:events:3');
    registry.send({ type: 'register', name, spec: { kind: 'partition', logic: flaky, input: {} } });
    registry.send({ type: 'register', name, spec: { kind: 'partition', logic: flaky, input: {} } }); // no duplicate
    expect([...registry.getSnapshot().context.index.all()].map((e) => e.name)).toEqual([name]);
    expect(starts).toBe(1);
    // The index serves the child synchronously, as soon as it is registered.
    const index = registry.getSnapshot().context.index;
    expect(index.get(name)).toBe(child());
    expect(index.entry(name)?.spec.kind).toBe('partition');

    child()?.send({ type: 'boom' });
    expect(child()).toBeUndefined();
    expect(index.get(name)).toBeUndefined(); // failed: no actor to route to until the restart
    expect(index.entry(name)?.lastFailure).toContain('child crashed');
    clock.increment(4999);
    expect(starts).toBe(1);
    clock.increment(1);
    expect(starts).toBe(2);
    expect(child()).toBeDefined();
    expect(index.get(name)).toBe(child());
    expect(index.entry(name)?.restarts).toBe(1);
    expect(restarted).toEqual([name]);

    const last = child();
    registry.send({ type: 'unregister', name });
    expect(child()).toBeUndefined();
    expect((last?.getSnapshot() as { status: string } | undefined)?.status).toBe('stopped');
    expect(index.has(name)).toBe(false);
    expect(index.size).toBe(0);
  });

  it('registers many children in one event, in its actor system, and stops them all on close', () => {
    const seen = new Set<string>();
    const registry = createActor(registryMachine, {
      input: { restartDelayMs: 10 },
      // One inspector sees the registry's children (the runtime's monitor relies on it).
      inspect: (inspection) => {
        if (inspection.type === '@xstate.actor') seen.add((inspection.actorRef as AnyActorRef).id);
      },
    });
    registry.start();
    let transitions = 0;
    registry.subscribe(() => transitions++);
    const cleanups: string[] = [];
    const child = (name: string) => ({
      name,
      spec: {
        kind: 'partition' as const,
        logic: fromCallback(() => () => cleanups.push(name)),
        input: {},
      },
    });
    const names = Array.from({ length: 50 }, (_, p) => actorName.partition('t', p));
    registry.send({ type: 'register.all', children: [...names.map(child), child(names[0] as string)] });
    expect(transitions).toBe(1);
    const index = registry.getSnapshot().context.index;
    expect(index.size).toBe(50);
    expect(names.every((name) => seen.has(name))).toBe(true);
    expect((index.get(names[7] as string)?.getSnapshot() as { status: string }).status).toBe('active');
    // Children are not kept in the registry's snapshot (copied on every spawn and stop): the index is their table.
    expect(Object.keys(registry.getSnapshot().children)).toEqual([]);
    registry.send({ type: 'unregister', name: names[0] as string });
    expect(cleanups).toEqual([names[0]]);
    registry.send({ type: 'close' });
    expect(cleanups.sort()).toEqual([...names].sort());
    registry.stop();
  });

  it('fails loudly when the runtime did not provide `restarted`', () => {
    const clock = new SimulatedClock();
    const flaky = fromCallback<{ type: 'boom' }>(({ receive }) => {
      receive(() => {
        throw new Error('child crashed');
      });
    });
    const errors: unknown[] = [];
    const registry = createActor(registryMachine, { clock, input: { restartDelayMs: 10 } });
    registry.subscribe({ error: (error) => errors.push(error) });
    registry.start();
    const name = actorName.topic('t');
    registry.send({ type: 'register', name, spec: { kind: 'topic', logic: flaky, input: {} } });
    registry.getSnapshot().context.index.get(name)?.send({ type: 'boom' });
    clock.increment(10);
    expect(String(errors[0])).toContain('action "restarted" was not provided');
  });

  it('a typed lookup checks the kind the name says', () => {
    const registry = createActor(registryMachine, { input: { restartDelayMs: 10 } });
    registry.start();
    const quiet = fromCallback(() => undefined);
    // A topic registered under a broker's name is a bug, caught at the lookup.
    registry.send({
      type: 'register',
      name: actorName.broker(1),
      spec: { kind: 'topic', logic: quiet, input: {} },
    });
    const index = registry.getSnapshot().context.index;
    expect(() => index.broker(1)).toThrow('actor index: broker:1 is a topic, not a broker');
  });
});

describe('registry machine: a child registered again under its name', () => {
  it('is not restarted a second time by the restart its failed predecessor had scheduled', () => {
    const clock = new SimulatedClock();
    let starts = 0;
    const flaky = fromCallback<{ type: 'boom' }>(({ receive }) => {
      starts++;
      receive(() => {
        throw new Error('child crashed');
      });
    });
    const registry = createActor(registryMachine.provide({ actions: { restarted: () => undefined } }), {
      clock,
      input: { restartDelayMs: 5000 },
    });
    registry.start();
    const name = actorName.broker(3);
    const spec = { kind: 'broker' as const, logic: flaky, input: {} };
    registry.send({ type: 'register', name, spec });
    registry.getSnapshot().context.index.get(name)?.send({ type: 'boom' });
    // The broker moved while its restart was pending: stopped, and started again at once.
    registry.send({ type: 'unregister', name });
    registry.send({ type: 'register', name, spec });
    expect(starts).toBe(2);
    clock.increment(5000);
    expect(starts).toBe(2);
    expect(registry.getSnapshot().context.index.entry(name)?.restarts).toBe(0);
    expect(registry.getSnapshot().context.index.size).toBe(1);
  });
});

describe('registry machine: children at rest', () => {
  /** A child that counts its entries into `ready` and goes `down` on conn.down. */
  const child = setup({
    types: { context: {} as { entries: number; seen: string[] }, events: {} as { type: string } },
    actors: { quiet: fromCallback(() => undefined) },
  }).createMachine({
    context: { entries: 0, seen: [] },
    initial: 'ready',
    states: {
      ready: {
        entry: assign({ entries: ({ context }) => context.entries + 1 }),
        on: {
          'conn.down': 'down',
          work: 'busy',
          poke: { actions: assign({ seen: ({ context }) => [...context.seen, 'poke'] }) },
        },
      },
      down: {},
      busy: { invoke: { src: 'quiet' } },
    },
  });

  function registry() {
    const woken: { name: string; state: unknown }[] = [];
    const created: string[] = [];
    const actor = createActor(
      registryMachine.provide({
        actions: {
          restarted: () => undefined,
          woken: (_, { name, ref }) => {
            woken.push({ name, state: (ref.getSnapshot() as { value: unknown }).value });
          },
        },
      }),
      {
        input: { restartDelayMs: 10 },
        inspect: (inspection) => {
          if (inspection.type === '@xstate.actor') created.push((inspection.actorRef as AnyActorRef).id);
        },
      },
    );
    actor.start();
    return { actor, index: actor.getSnapshot().context.index, woken, created };
  }
  const spec = { kind: 'partition' as const, logic: child, input: {} };
  const name = actorName.partition('t', 0);
  const snapshotOf = (ref: AnyActorRef | undefined) =>
    ref?.getSnapshot() as { value: unknown; status: string; context: { entries: number; seen: string[] } };

  it('registers a child at rest without an actor, and wakes it in that state for its event', () => {
    const r = registry();
    r.actor.send({
      type: 'register',
      name,
      spec,
      rest: { value: 'ready', context: { entries: 1, seen: [] } },
    });
    expect(r.index.get(name)).toBeUndefined();
    expect(r.index.entry(name)?.rest?.value).toBe('ready');
    expect(r.created).not.toContain(name);

    r.actor.send({ type: 'wake', name, event: { type: 'conn.down' } });
    const ref = r.index.get(name);
    expect(r.created).toContain(name);
    // Started in `ready` without entering it again (no second entry), then given its event.
    expect(r.woken).toEqual([{ name, state: 'ready' }]);
    expect(snapshotOf(ref).value).toBe('down');
    expect(snapshotOf(ref).context.entries).toBe(1);
    expect(r.index.entry(name)?.rest).toBeNull();
    // Awake: the next event goes straight to it.
    r.actor.send({ type: 'wake', name, event: { type: 'poke' } });
    expect(r.woken).toHaveLength(1);
  });

  it('puts a running child to rest, keeping its context, and wakes it as it was', () => {
    const r = registry();
    r.actor.send({ type: 'register', name, spec });
    const first = r.index.get(name);
    first?.send({ type: 'poke' });
    r.actor.send({ type: 'rest', name });
    expect(r.index.get(name)).toBeUndefined();
    expect(snapshotOf(first).status).toBe('stopped');
    expect(r.index.entry(name)?.rest).toEqual({ value: 'ready', context: { entries: 1, seen: ['poke'] } });

    r.actor.send({ type: 'wake', name, event: { type: 'poke' } });
    const woken = r.index.get(name);
    expect(woken).not.toBe(first);
    expect(snapshotOf(woken).context).toEqual({ entries: 1, seen: ['poke', 'poke'] });
  });

  it('does not rest a child with an invoked actor; a resting child unregistered stays gone', () => {
    const r = registry();
    r.actor.send({ type: 'register', name, spec });
    r.index.get(name)?.send({ type: 'work' });
    r.actor.send({ type: 'rest', name });
    expect(snapshotOf(r.index.get(name)).value).toBe('busy'); // still running
    r.actor.send({ type: 'unregister', name });
    r.actor.send({ type: 'wake', name, event: { type: 'poke' } });
    expect(r.index.has(name)).toBe(false);
    expect(r.index.get(name)).toBeUndefined();
  });
});
