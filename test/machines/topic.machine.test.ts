import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { topicMachine, type TopicContext, type TopicInput } from '../../machines/topic.machine.js';

type Action = 'refreshMetadata' | 'releaseWaiting' | 'refuseHeld';

/** The topic machine on a simulated clock, its runtime actions replaced by recorders. */
function start(input: Partial<TopicInput> = {}) {
  const clock = new SimulatedClock();
  const calls: { action: Action; context: TopicContext }[] = [];
  const actor = createActor(
    topicMachine.provide({
      actions: {
        refreshMetadata: ({ context }) => {
          calls.push({ action: 'refreshMetadata', context });
        },
        releaseWaiting: ({ context }) => {
          calls.push({ action: 'releaseWaiting', context });
        },
        refuseHeld: ({ context }) => {
          calls.push({ action: 'refuseHeld', context });
        },
      },
    }),
    { clock, input: { name: 'orders', ...input } },
  );
  actor.start();
  const state = (): string => actor.getSnapshot().value;
  const context = (): TopicContext => actor.getSnapshot().context;
  const count = (action: Action): number => calls.filter((c) => c.action === action).length;
  return { actor, clock, calls, state, context, count };
}

const UNKNOWN = {
  code: 'UNKNOWN_TOPIC_OR_PARTITION',
  message: 'This server does not host this topic-partition.',
};
const DENIED = { code: 'TOPIC_AUTHORIZATION_FAILED', message: 'Not authorized to access topics' };

describe('topic machine', () => {
  it('starts resolving and asks for metadata once', () => {
    const t = start();
    expect(t.state()).toBe('resolving');
    expect(t.context()).toEqual({ name: 'orders', retryMs: 1000, partitionCount: 0, lastError: null });
    expect(t.calls.map((c) => c.action)).toEqual(['refreshMetadata']);
    // While resolving, the metadata actor's own retries do the waiting: no timer here.
    t.clock.increment(60_000);
    expect(t.count('refreshMetadata')).toBe(1);
  });

  it('becomes active when partitions are known, and releases the records that waited', () => {
    const t = start();
    t.actor.send({ type: 'partitions', count: 6 });
    expect(t.state()).toBe('active');
    expect(t.context()).toMatchObject({ partitionCount: 6, lastError: null });
    expect(t.calls.map((c) => c.action)).toEqual(['refreshMetadata', 'releaseWaiting']);
    // releaseWaiting runs with the partition count already known.
    expect(t.calls[1]?.context.partitionCount).toBe(6);
  });

  it('follows a change of partition count while active', () => {
    const t = start();
    t.actor.send({ type: 'partitions', count: 3 });
    t.actor.send({ type: 'partitions', count: 12 });
    expect(t.state()).toBe('active');
    expect(t.context().partitionCount).toBe(12);
    expect(t.count('refreshMetadata')).toBe(1);
  });

  it('an active topic becomes unavailable on a retriable topic error, keeps its partitions, and asks again', () => {
    const t = start();
    t.actor.send({ type: 'partitions', count: 3 });
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    expect(t.state()).toBe('unavailable');
    expect(t.context()).toMatchObject({ partitionCount: 3, lastError: UNKNOWN });
    expect(t.count('refuseHeld')).toBe(0);
    t.clock.increment(1000);
    expect(t.count('refreshMetadata')).toBe(2);
    // The error clears (an ACL granted, the topic created again): active, with the new count.
    t.actor.send({ type: 'partitions', count: 2 });
    expect(t.state()).toBe('active');
    expect(t.context()).toMatchObject({ partitionCount: 2, lastError: null });
  });

  it('becomes unavailable on a topic error while resolving, keeping the error', () => {
    const t = start();
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    expect(t.state()).toBe('unavailable');
    expect(t.context()).toMatchObject({ lastError: UNKNOWN, partitionCount: 0 });
    expect(t.count('releaseWaiting')).toBe(0);
  });

  it('asks for metadata again every retryMs while unavailable', () => {
    const t = start();
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    expect(t.count('refreshMetadata')).toBe(1);
    t.clock.increment(999);
    expect(t.count('refreshMetadata')).toBe(1);
    t.clock.increment(1);
    expect(t.count('refreshMetadata')).toBe(2);
    expect(t.state()).toBe('unavailable');
    for (let i = 0; i < 4; i++) t.clock.increment(1000);
    expect(t.count('refreshMetadata')).toBe(6);
  });

  it('uses the retry interval it is given', () => {
    const t = start({ retryMs: 250 });
    expect(t.context().retryMs).toBe(250);
    t.actor.send({ type: 'topic.error', error: DENIED, retriable: false });
    t.clock.increment(249);
    expect(t.count('refreshMetadata')).toBe(1);
    t.clock.increment(1);
    expect(t.count('refreshMetadata')).toBe(2);
  });

  it('keeps the latest error while unavailable, without restarting its retry timer', () => {
    const t = start();
    const NO_LEADER = { code: 'LEADER_NOT_AVAILABLE', message: 'no leader' };
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    t.clock.increment(600);
    t.actor.send({ type: 'topic.error', error: NO_LEADER, retriable: true });
    expect(t.state()).toBe('unavailable');
    expect(t.context().lastError).toEqual(NO_LEADER);
    t.clock.increment(400);
    expect(t.count('refreshMetadata')).toBe(2);
  });

  it('recovers when partitions arrive: active, error cleared, records released, no more retries', () => {
    const t = start();
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    t.clock.increment(1000);
    t.actor.send({ type: 'partitions', count: 4 });
    expect(t.state()).toBe('active');
    expect(t.context()).toMatchObject({ partitionCount: 4, lastError: null });
    expect(t.calls.map((c) => c.action)).toEqual(['refreshMetadata', 'refreshMetadata', 'releaseWaiting']);
    t.clock.increment(10_000);
    expect(t.count('refreshMetadata')).toBe(2);
  });

  it('keeps the topic name it was created with', () => {
    const t = start({ name: 'audit.events-v2' });
    t.actor.send({ type: 'partitions', count: 1 });
    expect(t.context().name).toBe('audit.events-v2');
  });

  it('a non-retriable error refuses the topic in any state: what it holds fails, once', () => {
    for (const before of ['resolving', 'active', 'unavailable'] as const) {
      const t = start();
      if (before === 'active') t.actor.send({ type: 'partitions', count: 3 });
      if (before === 'unavailable') t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
      t.actor.send({ type: 'topic.error', error: DENIED, retriable: false });
      expect(t.state()).toBe('refused');
      expect(t.context().lastError).toEqual(DENIED);
      expect(t.count('refuseHeld')).toBe(1);
      // The same error again changes nothing; metadata is still asked for every retryMs.
      t.actor.send({ type: 'topic.error', error: DENIED, retriable: false });
      expect(t.count('refuseHeld')).toBe(1);
      const asked = t.count('refreshMetadata');
      t.clock.increment(1000);
      expect(t.count('refreshMetadata')).toBe(asked + 1);
    }
  });

  it('a refused topic recovers: unavailable on a retriable error, active when partitions come', () => {
    const t = start();
    t.actor.send({ type: 'topic.error', error: DENIED, retriable: false });
    t.actor.send({ type: 'topic.error', error: UNKNOWN, retriable: true });
    expect(t.state()).toBe('unavailable');
    t.actor.send({ type: 'topic.error', error: DENIED, retriable: false });
    t.actor.send({ type: 'partitions', count: 2 });
    expect(t.state()).toBe('active');
    expect(t.context()).toMatchObject({ partitionCount: 2, lastError: null });
  });

  it('fails loudly when the runtime did not provide an action', () => {
    const errors: unknown[] = [];
    const actor = createActor(topicMachine, { input: { name: 't' } });
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    expect(String(errors[0])).toContain('action "refreshMetadata" was not provided');
  });
});
