import { createActor, fromPromise, SimulatedClock, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  producerIdentityMachine,
  type InitProducerIdAnswer,
  type ProducerIdentityContext,
  type ProducerIdentityInput,
} from '../../machines/producer-identity.machine.js';

/**
 * The machine alone on a SimulatedClock, with an `initProducerId` whose promises the test settles
 * by hand: transitions and backoff delays are checked without a broker or sleeping. (Awaiting a
 * settled promise needs the real `setImmediate`; no timer of the machine is real.)
 */

interface Call {
  resolve: (answer: InitProducerIdAnswer) => void;
  reject: (error: unknown) => void;
}

interface Options {
  input?: Partial<ProducerIdentityInput>;
  /** Runs in `identityReady`, with the actor (to send from inside the action). */
  onReady?: (actor: AnyActorRef, context: ProducerIdentityContext) => void;
}

function start(options: Options = {}) {
  const clock = new SimulatedClock();
  const calls: Call[] = [];
  let ready = 0;
  let unsupported = 0;
  const logic = producerIdentityMachine.provide({
    actors: {
      initProducerId: fromPromise<InitProducerIdAnswer>(
        () =>
          new Promise<InitProducerIdAnswer>((resolve, reject) => {
            calls.push({ resolve, reject });
          }),
      ),
    },
    actions: {
      identityReady: ({ context, self }) => {
        ready++;
        options.onReady?.(self, context);
      },
      identityUnsupported: () => {
        unsupported++;
      },
    },
  });
  const actor = createActor(logic, {
    clock,
    input: {
      enabled: true,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      random: () => 0.5,
      ...options.input,
    },
  });
  actor.start();
  const state = (): string => actor.getSnapshot().value;
  const context = (): ProducerIdentityContext => actor.getSnapshot().context;
  /** The InitProducerId call made last (the one in flight). */
  const current = (): Call => {
    const last = calls.at(-1);
    if (last === undefined) throw new Error('no InitProducerId asked');
    return last;
  };
  /** Settles the call in flight with `answer` (an Error rejects it) and lets the machine see it. */
  const answer = async (value: InitProducerIdAnswer | Error): Promise<void> => {
    if (value instanceof Error) current().reject(value);
    else current().resolve(value);
    await flush();
  };
  return {
    actor,
    clock,
    calls,
    state,
    context,
    answer,
    ready: () => ready,
    unsupported: () => unsupported,
  };
}

/** Lets settled promises reach the machine. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const id = (producerId: number, producerEpoch = 0) => ({ producerId, producerEpoch, errorCode: 0 });

/** Advances the clock to 1 ms before `delay`, checks nothing happened, then to `delay`. */
function expectDelay(m: ReturnType<typeof start>, delay: number, from: string, to: string): void {
  m.clock.increment(delay - 1);
  expect(m.state()).toBe(from);
  m.clock.increment(1);
  expect(m.state()).toBe(to);
}

/** A machine that holds id `producerId` (epoch `epoch`), in `ready`. */
async function readyWith(producerId: number, epoch = 0, options: Options = {}) {
  const m = start(options);
  m.actor.send({ type: 'start' });
  await m.answer(id(producerId, epoch));
  expect(m.state()).toBe('ready');
  return m;
}

describe('producer-identity machine', () => {
  it('gives every state a tone for the visualizer', () => {
    const tones = Object.fromEntries(
      Object.entries(producerIdentityMachine.states).map(([name, node]) => [
        name,
        (node.meta as { tone?: string } | undefined)?.tone,
      ]),
    );
    expect(tones).toEqual({
      disabled: 'idle',
      waiting: 'idle',
      initializing: 'busy',
      retrying: 'warn',
      ready: 'good',
      renewing: 'busy',
      unsupported: 'bad',
      stopped: 'idle',
    });
  });

  it('is disabled, and asks nothing, when idempotence is off', () => {
    const m = start({ input: { enabled: false } });
    expect(m.state()).toBe('disabled');
    m.actor.send({ type: 'start' });
    m.actor.send({ type: 'epochs.exhausted', producerId: -1 });
    m.clock.increment(60_000);
    expect(m.state()).toBe('disabled');
    expect(m.calls).toHaveLength(0);
    expect(m.context().stamp).toBeNull();
  });

  it('waits for the first metadata: nothing is asked, nothing may be stamped', () => {
    const m = start();
    expect(m.state()).toBe('waiting');
    expect(m.context()).toMatchObject({
      stamp: null,
      attempts: 0,
      lastError: null,
      idsObtained: 0,
      epochBumps: 0,
      lastBump: null,
    });
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    m.actor.send({ type: 'epoch.bumped', topic: 't', partition: 0, epoch: 1 });
    m.clock.increment(60_000);
    expect(m.state()).toBe('waiting');
    expect(m.calls).toHaveLength(0);
    expect(m.context().epochBumps).toBe(0);
  });

  it('gets an id on start, and wakes the senders once', async () => {
    const m = start();
    m.actor.send({ type: 'start' });
    expect(m.state()).toBe('initializing');
    expect(m.calls).toHaveLength(1);
    expect(m.context().stamp).toBeNull();
    await m.answer(id(5));
    expect(m.state()).toBe('ready');
    expect(m.context()).toMatchObject({
      stamp: { producerId: 5, producerEpoch: 0 },
      idsObtained: 1,
      attempts: 0,
    });
    expect(m.ready()).toBe(1);
    // Later metadata answers start nothing.
    m.actor.send({ type: 'start' });
    expect(m.state()).toBe('ready');
    expect(m.calls).toHaveLength(1);
  });

  it('keeps the stamp object between snapshots (readers compare nothing, allocate nothing)', async () => {
    const m = await readyWith(5);
    const stamp = m.context().stamp;
    m.actor.send({ type: 'epoch.bumped', topic: 't', partition: 0, epoch: 1 });
    expect(m.context().stamp).toBe(stamp);
  });

  it('retries with backoff when the answer has no id (-1), an error code, or the call fails', async () => {
    const m = start();
    m.actor.send({ type: 'start' });

    await m.answer({ producerId: -1, producerEpoch: -1, errorCode: 0 });
    expect(m.state()).toBe('retrying');
    expect(m.context().attempts).toBe(1);
    expect(m.context().lastError).toEqual({
      code: 'ERR_KAFKA',
      message: 'InitProducerId answered without an id (-1, epoch -1)',
    });
    expectDelay(m, 100, 'retrying', 'initializing');
    expect(m.calls).toHaveLength(2);

    await m.answer({
      producerId: -1,
      producerEpoch: -1,
      errorCode: 15,
      errorName: 'COORDINATOR_NOT_AVAILABLE',
    });
    expect(m.state()).toBe('retrying');
    expect(m.context().attempts).toBe(2);
    expect(m.context().lastError?.message).toBe('InitProducerId failed: COORDINATOR_NOT_AVAILABLE (15)');
    expectDelay(m, 200, 'retrying', 'initializing');

    // An error code is a failure whatever id comes with it; without a name, the code alone.
    await m.answer({ producerId: 7, producerEpoch: 0, errorCode: 15 });
    expect(m.context().lastError?.message).toBe('InitProducerId failed: error code (15)');
    expectDelay(m, 400, 'retrying', 'initializing');

    await m.answer({ producerId: 7, producerEpoch: -1, errorCode: 0 });
    expect(m.context().lastError?.message).toBe('InitProducerId answered without an id (7, epoch -1)');
    expectDelay(m, 800, 'retrying', 'initializing');

    await m.answer(Object.assign(new Error('connection lost'), { code: 'ERR_CONNECTION_CLOSED' }));
    expect(m.state()).toBe('retrying');
    expect(m.context().attempts).toBe(5);
    expect(m.context().lastError).toEqual({ code: 'ERR_CONNECTION_CLOSED', message: 'connection lost' });
    expectDelay(m, 1000, 'retrying', 'initializing'); // capped

    await m.answer(id(9));
    expect(m.calls).toHaveLength(6);
    expect(m.state()).toBe('ready');
    expect(m.context()).toMatchObject({
      stamp: { producerId: 9, producerEpoch: 0 },
      attempts: 0,
      lastError: null,
    });
    expect(m.ready()).toBe(1);
  });

  it('jitters the backoff with the random source it is given', async () => {
    const m = start({ input: { random: () => 0 } }); // -20%
    m.actor.send({ type: 'start' });
    await m.answer(new Error('connection lost'));
    expectDelay(m, 80, 'retrying', 'initializing');
  });

  it('is unsupported when the broker has no InitProducerId, and stays so', async () => {
    const m = start();
    m.actor.send({ type: 'start' });
    await m.answer(null);
    expect(m.state()).toBe('unsupported');
    expect(m.unsupported()).toBe(1);
    expect(m.ready()).toBe(0);
    expect(m.context().stamp).toBeNull();
    m.actor.send({ type: 'start' });
    m.actor.send({ type: 'epochs.exhausted', producerId: -1 });
    m.clock.increment(60_000);
    expect(m.state()).toBe('unsupported');
    expect(m.calls).toHaveLength(1);
  });

  it('asks for a new id once however many partitions run out of epochs on the same id', async () => {
    const m = await readyWith(5);
    m.actor.send({ type: 'epochs.exhausted', producerId: 4 }); // not the current id
    expect(m.state()).toBe('ready');
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    expect(m.state()).toBe('renewing');
    // The other partitions keep stamping with the id they have.
    expect(m.context().stamp).toEqual({ producerId: 5, producerEpoch: 0 });
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    expect(m.calls).toHaveLength(2);
    await m.answer(id(6));
    expect(m.state()).toBe('ready');
    expect(m.context()).toMatchObject({ stamp: { producerId: 6, producerEpoch: 0 }, idsObtained: 2 });
    expect(m.ready()).toBe(2);
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 }); // stale: 6 is the current id already
    expect(m.state()).toBe('ready');
    expect(m.calls).toHaveLength(2);
  });

  it('issue 13 (g): a renewal that reaches a broker without the API retries instead of turning idempotence off', async () => {
    // The first id came from a broker with InitProducerId; the renewal's connection lands on one
    // without it (null). That is a rolling upgrade, not an old cluster.
    const m = await readyWith(5, 32767);
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    await m.answer(null);
    expect(m.state()).toBe('retrying');
    expect(m.unsupported()).toBe(0);
    expect(m.context().lastError?.message).toBe('InitProducerId: the broker did not offer the API');
    expect(m.context().stamp).toEqual({ producerId: 5, producerEpoch: 32767 }); // others keep sending
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 }); // a renewal is already under way
    expectDelay(m, 100, 'retrying', 'renewing'); // back to renewing, not initializing
    await m.answer(null);
    expectDelay(m, 200, 'retrying', 'renewing');
    await m.answer(id(6));
    expect(m.calls).toHaveLength(4);
    expect(m.ready()).toBe(2);
    expect(m.state()).toBe('ready');
    expect(m.context()).toMatchObject({
      stamp: { producerId: 6, producerEpoch: 0 },
      attempts: 0,
      lastError: null,
    });
  });

  it('retries a renewal whose call fails, keeping the id in use meanwhile', async () => {
    const m = await readyWith(5);
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    await m.answer(new Error('connection lost'));
    expect(m.state()).toBe('retrying');
    expect(m.context().stamp?.producerId).toBe(5);
    expectDelay(m, 100, 'retrying', 'renewing');
    await m.answer({ producerId: -1, producerEpoch: -1, errorCode: 15 });
    expect(m.state()).toBe('retrying');
    expectDelay(m, 200, 'retrying', 'renewing');
    await m.answer(id(6));
    expect(m.context().stamp?.producerId).toBe(6);
  });

  it('does not lose a renewal asked for while the new id is announced', async () => {
    // A partition that still needs a new id may ask again from identityReady's wake-up.
    let asked = false;
    const m = await readyWith(5, 0, {
      onReady: (self, context) => {
        if (context.stamp?.producerId === 6 && !asked) {
          asked = true;
          self.send({ type: 'epochs.exhausted', producerId: 6 });
        }
      },
    });
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    await m.answer(id(6));
    expect(asked).toBe(true);
    expect(m.state()).toBe('renewing');
    expect(m.calls).toHaveLength(3);
    await m.answer(id(7));
    expect(m.context().stamp?.producerId).toBe(7);
  });

  it('counts the epoch bumps partitions report, in ready, renewing and retrying', async () => {
    const m = await readyWith(5);
    m.actor.send({ type: 'epoch.bumped', topic: 't', partition: 0, epoch: 1 });
    expect(m.context()).toMatchObject({ epochBumps: 1, lastBump: { topic: 't', partition: 0, epoch: 1 } });
    m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
    m.actor.send({ type: 'epoch.bumped', topic: 't', partition: 1, epoch: 3 });
    expect(m.context()).toMatchObject({ epochBumps: 2, lastBump: { topic: 't', partition: 1, epoch: 3 } });
    await m.answer(new Error('connection lost'));
    expect(m.state()).toBe('retrying');
    m.actor.send({ type: 'epoch.bumped', topic: 'u', partition: 2, epoch: 1 });
    expect(m.context()).toMatchObject({ epochBumps: 3, lastBump: { topic: 'u', partition: 2, epoch: 1 } });
    // Counting changes no state and no id.
    expect(m.state()).toBe('retrying');
    expect(m.context().stamp?.producerId).toBe(5);
  });

  it('stops while initializing: the answer that comes later is dropped', async () => {
    const m = start();
    m.actor.send({ type: 'start' });
    m.actor.send({ type: 'stop' });
    expect(m.state()).toBe('stopped');
    expect(m.actor.getSnapshot().status).toBe('done');
    await m.answer(id(5));
    expect(m.state()).toBe('stopped');
    expect(m.context().stamp).toBeNull();
    expect(m.ready()).toBe(0);
  });

  it('stops while retrying: no attempt after the backoff', async () => {
    const m = start();
    m.actor.send({ type: 'start' });
    await m.answer(new Error('connection lost'));
    m.actor.send({ type: 'stop' });
    m.clock.increment(60_000);
    expect(m.state()).toBe('stopped');
    expect(m.calls).toHaveLength(1);
  });

  it('stops from ready, renewing, disabled and unsupported too', async () => {
    for (const reach of [
      async () => readyWith(5),
      async () => {
        const m = await readyWith(5);
        m.actor.send({ type: 'epochs.exhausted', producerId: 5 });
        return m;
      },
      () => Promise.resolve(start({ input: { enabled: false } })),
      async () => {
        const m = start();
        m.actor.send({ type: 'start' });
        await m.answer(null);
        return m;
      },
    ]) {
      const m = await reach();
      m.actor.send({ type: 'stop' });
      expect(m.state()).toBe('stopped');
    }
  });
});

describe('producer-identity machine without its implementations', () => {
  /** Runs the machine with only the given implementations; resolves with how it failed. */
  function bare(
    provided: Parameters<typeof producerIdentityMachine.provide>[0],
    answer: InitProducerIdAnswer,
  ) {
    const actor = createActor(
      producerIdentityMachine.provide({
        actors: { initProducerId: fromPromise<InitProducerIdAnswer>(() => Promise.resolve(answer)) },
        ...provided,
      }),
      { clock: new SimulatedClock(), input: { enabled: true, retryBackoffMs: 100, retryBackoffMaxMs: 1000 } },
    );
    const failed = new Promise<unknown>((resolve) => {
      actor.subscribe({ error: resolve });
    });
    actor.start();
    actor.send({ type: 'start' });
    return { actor, failed };
  }

  it('fails loudly when identityReady was not provided', async () => {
    const { actor, failed } = bare({ actions: { identityUnsupported: () => undefined } }, id(5));
    expect(await failed).toMatchObject({
      message: 'producer-identity machine: action "identityReady" was not provided',
    });
    expect(actor.getSnapshot().status).toBe('error');
  });

  it('fails loudly when identityUnsupported was not provided', async () => {
    const { actor, failed } = bare({ actions: { identityReady: () => undefined } }, null);
    expect(await failed).toMatchObject({
      message: 'producer-identity machine: action "identityUnsupported" was not provided',
    });
    expect(actor.getSnapshot().status).toBe('error');
  });

  it('says so in lastError, and keeps retrying, when initProducerId was not provided', async () => {
    const actor = createActor(
      producerIdentityMachine.provide({
        actions: { identityReady: () => undefined, identityUnsupported: () => undefined },
      }),
      { clock: new SimulatedClock(), input: { enabled: true, retryBackoffMs: 100, retryBackoffMaxMs: 1000 } },
    );
    actor.start();
    actor.send({ type: 'start' });
    await flush();
    expect(actor.getSnapshot().value).toBe('retrying');
    expect(actor.getSnapshot().context.lastError?.message).toBe(
      'producer-identity machine: actor "initProducerId" was not provided',
    );
  });
});
