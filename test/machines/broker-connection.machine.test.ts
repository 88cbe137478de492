import { createActor, fromCallback, fromPromise, SimulatedClock, type AnyActorRef } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  brokerConnectionMachine,
  type BrokerConnectionEvent,
  type BrokerLink,
  type HandshakeOutput,
} from '../../machines/broker-connection.machine.js';

/**
 * The machine alone, with scripted actors and a simulated clock: transitions and backoff are
 * checked without sockets or sleeping. The real-socket version is in
 * test/integration/broker-connection.test.ts.
 */
function scripted(script: { connectFailures: number }) {
  let connectCalls = 0;
  const links: (BrokerLink & { closed: boolean; down?: () => void })[] = [];
  /** linkUp / linkDown, as the runtime's sender would hear them. */
  const linkEvents: string[] = [];
  const logic = brokerConnectionMachine.provide({
    actions: {
      linkUp: () => {
        linkEvents.push('up');
      },
      linkDown: () => {
        linkEvents.push('down');
      },
    },
    actors: {
      connect: fromPromise<BrokerLink, { host: string; port: number }>(() => {
        connectCalls++;
        if (connectCalls <= script.connectFailures) {
          return Promise.reject(Object.assign(new Error('connection refused'), { code: 'ERR_CONNECTION' }));
        }
        const link: (typeof links)[number] = {
          closed: false,
          close: () => {
            link.closed = true;
          },
        };
        links.push(link);
        return Promise.resolve(link);
      }),
      handshake: fromPromise<HandshakeOutput, { link: BrokerLink }>(() =>
        Promise.resolve({ versions: { Produce: 9, Metadata: 12, ApiVersions: 3 } }),
      ),
      watch: fromCallback<BrokerConnectionEvent, { link: BrokerLink }>(({ input, sendBack }) => {
        const link = links.find((l) => l === input.link);
        if (link) {
          link.down = () => {
            sendBack({ type: 'conn.down', error: { code: 'ERR_CONNECTION_CLOSED', message: 'gone' } });
          };
        }
      }),
    },
  });
  return { logic, links, linkEvents, connectCalls: () => connectCalls };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('broker-connection machine', () => {
  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, 50, 1000))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('goes connecting → retrying (backoff) → connecting … → handshaking → ready', async () => {
    const clock = new SimulatedClock();
    const { logic, connectCalls } = scripted({ connectFailures: 3 });
    const actor = createActor(logic, {
      clock,
      input: { brokerId: 1, host: 'h', port: 1, random: () => 0.5 }, // 0.5 = no jitter
    });
    const states: string[] = [];
    actor.subscribe((snapshot) => {
      if (states.at(-1) !== snapshot.value) states.push(snapshot.value);
    });
    actor.start();
    await flush();
    expect(actor.getSnapshot().value).toBe('retrying');
    expect(actor.getSnapshot().context.attempts).toBe(1);
    expect(actor.getSnapshot().context.lastError).toEqual({
      code: 'ERR_CONNECTION',
      message: 'connection refused',
    });

    clock.increment(49); // first delay is 50 ms
    await flush();
    expect(connectCalls()).toBe(1);
    clock.increment(1);
    await flush();
    expect(connectCalls()).toBe(2);
    expect(actor.getSnapshot().context.attempts).toBe(2);

    clock.increment(99); // second delay is 100 ms
    await flush();
    expect(connectCalls()).toBe(2);
    clock.increment(1);
    await flush();
    clock.increment(200);
    await flush();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context.attempts).toBe(0);
    expect(actor.getSnapshot().context.versions).toEqual({ Produce: 9, Metadata: 12, ApiVersions: 3 });
    expect(states).toEqual([
      'connecting',
      'retrying',
      'connecting',
      'retrying',
      'connecting',
      'retrying',
      'connecting',
      'handshaking',
      'ready',
    ]);
    actor.stop();
  });

  it('applies jitter within ±20%', async () => {
    const clock = new SimulatedClock();
    const { logic, connectCalls } = scripted({ connectFailures: 1 });
    const actor = createActor(logic, { clock, input: { brokerId: 1, host: 'h', port: 1, random: () => 1 } });
    actor.start();
    await flush();
    clock.increment(59); // 50 ms × 1.2
    await flush();
    expect(connectCalls()).toBe(1);
    clock.increment(1);
    await flush();
    expect(connectCalls()).toBe(2);
    actor.stop();
  });

  it('leaves ready for retrying when the connection goes down, and closes for good on close', async () => {
    const clock = new SimulatedClock();
    const { logic, links } = scripted({ connectFailures: 0 });
    const actor = createActor(logic, {
      clock,
      input: { brokerId: 7, host: 'h', port: 1, random: () => 0.5 },
    });
    actor.start();
    await flush();
    expect(actor.getSnapshot().value).toBe('ready');
    links[0]?.down?.();
    expect(actor.getSnapshot().value).toBe('retrying');
    expect(actor.getSnapshot().context.lastError?.code).toBe('ERR_CONNECTION_CLOSED');
    clock.increment(50);
    await flush();
    expect(actor.getSnapshot().value).toBe('ready');
    actor.send({ type: 'close' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(links[1]?.closed).toBe(true);
  });

  it('tells the workers that follow it when its connection goes up and down', async () => {
    const clock = new SimulatedClock();
    const { logic, links, linkEvents } = scripted({ connectFailures: 0 });
    const actor = createActor(logic, {
      clock,
      input: { brokerId: 3, host: 'h', port: 1, random: () => 0.5 },
    });
    /** A stand-in worker that records what it is told. */
    const worker = (id: string) => {
      const heard: string[] = [];
      const ref = createActor(
        fromCallback<{ type: string }>(({ receive }) => {
          receive((event) => heard.push(event.type));
        }),
        { id },
      ).start();
      return { ref: ref as AnyActorRef, heard };
    };
    const early = worker('partition:t:0');
    actor.start();
    // Followed before the connection is ready: told nothing yet.
    actor.send({ type: 'follow', worker: early.ref });
    expect(early.heard).toEqual([]);
    await flush();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(early.heard).toEqual(['conn.up']);
    // Followed while ready: welcomed at once.
    const late = worker('partition:t:1');
    actor.send({ type: 'follow', worker: late.ref });
    expect(late.heard).toEqual(['conn.up']);
    expect(actor.getSnapshot().context.followers.size).toBe(2);
    // One leaves (its partition moved); the connection drops: only the other hears.
    actor.send({ type: 'unfollow', worker: late.ref });
    links[0]?.down?.();
    expect(early.heard).toEqual(['conn.up', 'conn.down']);
    expect(late.heard).toEqual(['conn.up']);
    expect(linkEvents).toEqual(['up', 'down']);
    // A worker back from rest follows again with `resync`: told the state either way, down too.
    const rested = worker('partition:t:3');
    actor.send({ type: 'follow', worker: rested.ref, resync: true });
    expect(rested.heard).toEqual(['conn.down']);
    const plain = worker('partition:t:4'); // a first follow waits for the connection
    actor.send({ type: 'follow', worker: plain.ref });
    expect(plain.heard).toEqual([]);
    actor.send({ type: 'unfollow', worker: rested.ref });
    actor.send({ type: 'unfollow', worker: plain.ref });
    // A stopped follower is skipped, not sent to.
    early.ref.stop();
    clock.increment(50);
    await flush();
    expect(actor.getSnapshot().value).toBe('ready');
    expect(early.heard).toEqual(['conn.up', 'conn.down']);
    // Closing from ready tells the followers the connection is gone.
    const last = worker('partition:t:2');
    actor.send({ type: 'follow', worker: last.ref });
    actor.send({ type: 'close' });
    expect(last.heard).toEqual(['conn.up', 'conn.down']);
  });

  it('fails loudly when the runtime did not provide linkUp', async () => {
    const { links } = scripted({ connectFailures: 0 });
    const logic = brokerConnectionMachine.provide({
      actors: {
        connect: fromPromise<BrokerLink, { host: string; port: number }>(() =>
          Promise.resolve({ close: () => undefined }),
        ),
        handshake: fromPromise<HandshakeOutput, { link: BrokerLink }>(() =>
          Promise.resolve({ versions: {} }),
        ),
        watch: fromCallback<BrokerConnectionEvent, { link: BrokerLink }>(() => undefined),
      },
    });
    expect(links).toEqual([]);
    const errors: unknown[] = [];
    const actor = createActor(logic, { input: { brokerId: 1, host: 'h', port: 1 } });
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    await flush();
    expect(String(errors[0])).toContain('action "linkUp" was not provided');
  });
});
