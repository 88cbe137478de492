import { createActor, fromCallback, SimulatedClock, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { actorName, registryMachine } from '../../machines/registry.machine.js';

describe('registry machine', () => {
  it('names children, stops them, and restarts a failed one after the delay', () => {
    const clock = new SimulatedClock();
    let starts = 0;
    const flaky = fromCallback<{ type: 'boom' }>(({ receive }) => {
      starts++;
      receive(() => {
        throw new Error('child crashed');
      });
    });
    let changes = 0;
    const registry = createActor(
      registryMachine.provide({
        actions: {
          childrenChanged: () => {
            changes++;
          },
        },
      }),
      { clock, input: { restartDelayMs: 5000 } },
    );
    registry.start();
    const child = (): AnyActorRef | undefined =>
      (registry.getSnapshot().children as Record<string, AnyActorRef | undefined>)[name];
    const name = actorName.partition('events', 3);
    expect(name).toBe('partition:events:3');
    registry.send({ type: 'register', name, spec: { kind: 'partition', logic: flaky, input: {} } });
    registry.send({ type: 'register', name, spec: { kind: 'partition', logic: flaky, input: {} } }); // no duplicate
    expect(Object.keys(registry.getSnapshot().children)).toEqual([name]);
    expect(starts).toBe(1);

    child()?.send({ type: 'boom' });
    expect(child()).toBeUndefined();
    expect(registry.getSnapshot().context.failures[name]).toContain('child crashed');
    clock.increment(4999);
    expect(starts).toBe(1);
    clock.increment(1);
    expect(starts).toBe(2);
    expect(child()).toBeDefined();
    expect(registry.getSnapshot().context.restarts[name]).toBe(1);

    registry.send({ type: 'unregister', name });
    expect(child()).toBeUndefined();
    expect(registry.getSnapshot().context.specs).toEqual({});
    expect(changes).toBe(4); // register, failure, restart, unregister
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
    const registry = createActor(registryMachine, { clock, input: { restartDelayMs: 5000 } });
    registry.start();
    const name = actorName.broker(3);
    const spec = { kind: 'broker' as const, logic: flaky, input: {} };
    registry.send({ type: 'register', name, spec });
    (registry.getSnapshot().children as Record<string, AnyActorRef>)[name]?.send({ type: 'boom' });
    // The broker moved while its restart was pending: stopped, and started again at once.
    registry.send({ type: 'unregister', name });
    registry.send({ type: 'register', name, spec });
    expect(starts).toBe(2);
    clock.increment(5000);
    expect(starts).toBe(2);
    expect(registry.getSnapshot().context.restarts[name]).toBeUndefined();
    expect(Object.keys(registry.getSnapshot().children)).toEqual([name]);
  });
});
