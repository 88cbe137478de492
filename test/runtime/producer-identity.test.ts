import { describe, expect, it } from 'vitest';
import { ProducerIdentity } from '../../src/runtime/producer-identity.js';

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
