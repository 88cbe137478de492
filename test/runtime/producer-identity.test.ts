import { createActor, setup, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import { IdentityView, identityLogic, ProducerIdentity } from '../../src/runtime/producer-identity.js';

type Answer = { producerId: number; producerEpoch: number; errorCode: number } | null | Error;

/** An InitProducerId client that gives the scripted answers in turn, and counts the calls. */
function scripted(answers: Answer[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    initProducerId: () => {
      const answer = answers[Math.min(calls++, answers.length - 1)] as Answer;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

/** An identity whose backoff is immediate; resolves `ready()` each time it gets an id. */
function identityWith(client: ReturnType<typeof scripted>) {
  let readyCount = 0;
  let unsupported = false;
  let wake: (() => void) | null = null;
  const identity = new ProducerIdentity(
    true,
    client,
    () => 0,
    () => {
      readyCount++;
      wake?.();
    },
    () => {
      unsupported = true;
      wake?.();
    },
  );
  const next = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
    });
  return { identity, next, ready: () => readyCount, unsupported: () => unsupported };
}

const id = (producerId: number, producerEpoch = 0) => ({ producerId, producerEpoch, errorCode: 0 });

describe('ProducerIdentity', () => {
  it('gets an id, and nothing is sent before it', async () => {
    const client = scripted([id(5)]);
    const { identity, next } = identityWith(client);
    expect(identity.canSend).toBe(false);
    expect(identity.stamp).toBeNull();
    const got = next();
    identity.start();
    await got;
    expect(identity.stamp).toEqual({ producerId: 5, producerEpoch: 0 });
    expect(identity.canSend).toBe(true);
  });

  it('a broker without InitProducerId turns idempotence off', async () => {
    const { identity, next, unsupported } = identityWith(scripted([null]));
    const got = next();
    identity.start();
    await got;
    expect(unsupported()).toBe(true);
    expect(identity.state).toBe('unsupported');
  });

  it('retries with backoff when the answer has no id (-1), an error code, or the call fails', async () => {
    const client = scripted([
      { producerId: -1, producerEpoch: -1, errorCode: 0 },
      { producerId: -1, producerEpoch: -1, errorCode: 15 }, // COORDINATOR_NOT_AVAILABLE
      new Error('connection lost'),
      id(9),
    ]);
    const { identity, next } = identityWith(client);
    const got = next();
    identity.start();
    await got;
    expect(client.calls).toBe(4);
    expect(identity.stamp).toEqual({ producerId: 9, producerEpoch: 0 });
  });

  it('issue 13 (g): after a connection switch to a broker without the API, a renewal retries instead of hanging', async () => {
    // The first id came from a broker with InitProducerId; the renewal's connection lands on one
    // without it (null). Before the fix the identity stayed pending for ever.
    const client = scripted([id(5, 32767), null, null, id(6)]);
    const { identity, next, ready } = identityWith(client);
    let got = next();
    identity.start();
    await got;
    got = next();
    identity.renewFor(5); // a partition used up the epochs of id 5
    expect(identity.stamp).toEqual({ producerId: 5, producerEpoch: 32767 }); // others keep sending
    await got;
    expect(client.calls).toBe(4);
    expect(ready()).toBe(2);
    expect(identity.state).toBe('ready');
    expect(identity.stamp).toEqual({ producerId: 6, producerEpoch: 0 });
  });

  it('asks for a new id once however many partitions run out of epochs on the same id', async () => {
    const client = scripted([id(5), id(6), id(7)]);
    const { identity, next } = identityWith(client);
    let got = next();
    identity.start();
    await got;
    got = next();
    identity.renewFor(5);
    identity.renewFor(5);
    await got;
    identity.renewFor(5); // stale: 6 is the current id already
    expect(client.calls).toBe(2);
    expect(identity.stamp?.producerId).toBe(6);
  });
});

describe('IdentityView', () => {
  /**
   * The identity as the runtime runs it: a child of another actor (the registry, under the name
   * `identity`), found by name in a plain index, read through an IdentityView.
   */
  function asChild(client: ReturnType<typeof scripted>, enabled = true, retryBackoffMs = 0) {
    let readyCount = 0;
    let unsupported = 0;
    const logic = identityLogic(client, {
      onReady: () => {
        readyCount++;
      },
      onUnsupported: () => {
        unsupported++;
      },
    });
    const parent = createActor(
      setup({ actors: { identity: logic } }).createMachine({
        invoke: {
          id: 'identity',
          src: 'identity',
          input: { enabled, retryBackoffMs, retryBackoffMaxMs: retryBackoffMs },
        },
      }),
    );
    parent.start();
    const index = new Map<string, AnyActorRef>();
    const child = parent.getSnapshot().children.identity;
    if (child !== undefined) index.set('identity', child);
    const view = new IdentityView(() => index.get('identity'));
    return { parent, index, view, ready: () => readyCount, unsupported: () => unsupported };
  }

  /** Lets settled promises reach the actors. */
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('reads a child actor: pending until start, then the stamp, the same object on every read', async () => {
    const { view, ready } = asChild(scripted([id(5)]));
    expect(view.state).toBe('pending');
    expect(view.canSend).toBe(false);
    expect(view.stamp).toBeNull();
    view.start();
    await settle();
    expect(ready()).toBe(1);
    expect(view.state).toBe('ready');
    expect(view.canSend).toBe(true);
    const stamp = view.stamp;
    expect(stamp).toEqual({ producerId: 5, producerEpoch: 0 });
    expect(view.stamp).toBe(stamp); // no allocation per read
    expect(view.idsObtained).toBe(1);
    expect(view.describe()).toEqual({
      idempotence: 'ready',
      producerId: 5,
      producerEpoch: 0,
      producerIdsObtained: 1,
      epochBumps: 0,
    });
  });

  it('sends nothing while there is no actor (a restart under way)', () => {
    const view = new IdentityView(() => undefined);
    expect(view.state).toBe('pending');
    expect(view.canSend).toBe(false);
    expect(view.stamp).toBeNull();
    view.start();
    view.renewFor(5);
    view.stop();
  });

  it('lets batches go unstamped when idempotence is off', () => {
    const client = scripted([id(5)]);
    const { view } = asChild(client, false);
    view.start();
    expect(view.state).toBe('off');
    expect(view.canSend).toBe(true);
    expect(view.stamp).toBeNull();
    expect(client.calls).toBe(0);
  });

  it('names the Kafka error of a failed InitProducerId in lastError', async () => {
    const client = scripted([{ producerId: -1, producerEpoch: -1, errorCode: 15 }]);
    const { parent, view } = asChild(client, true, 60_000);
    view.start();
    await settle();
    expect(view.state).toBe('pending');
    expect(view.lastError).toEqual({
      code: 'ERR_KAFKA',
      message: 'InitProducerId failed: COORDINATOR_NOT_AVAILABLE (15)',
    });
    parent.stop(); // and its retry timer with it
  });

  it('after stop(), nothing is sent and a late answer is dropped', async () => {
    const client = scripted([id(5)]);
    const { view, ready } = asChild(client);
    view.start();
    view.stop();
    await settle();
    expect(view.state).toBe('stopped');
    expect(view.canSend).toBe(false);
    expect(view.stamp).toBeNull();
    expect(ready()).toBe(0);
    view.stop(); // again: nothing to send to
  });
});
