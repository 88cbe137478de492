import { describe, expect, it } from 'vitest';
import { createActor, waitFor } from 'xstate';
import { Connection } from '../../src/network/connection.js';
import { ApiKey } from '../../src/protocol/api.js';
import { brokerConnectionLogic } from '../../src/runtime/broker-connection.js';
import { PEERS } from '../broker/cluster.js';
import { useMockCluster } from '../support/cluster-fixture.js';

/** The broker-connection actor against a real librdkafka mock broker, set down and up. */
describe.each(PEERS)('broker-connection actor against librdkafka %s', (peer) => {
  const cluster = useMockCluster({ peer, brokers: 1 });
  /** What the broker's sender would be handed: the ready connection, and its loss. */
  let handed: string[] = [];
  const links = {
    up: (connection: Connection, versions: Record<string, number>) => {
      handed.push(connection.isOpen && versions.Produce !== undefined ? 'up' : 'up (not usable)');
    },
    down: () => {
      handed.push('down');
    },
  };

  it('connects, negotiates, goes retrying when its broker is down and ready when it is back', async () => {
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    handed = [];
    const actor = createActor(
      brokerConnectionLogic({ clientId: 'ekaf-test', requestTimeoutMs: 5000 }, links),
      {
        input: { brokerId: broker.id, host: broker.host, port: broker.port, reconnectBackoffMaxMs: 200 },
      },
    );
    const states: string[] = [];
    actor.subscribe((snapshot) => {
      if (states.at(-1) !== snapshot.value) states.push(snapshot.value);
    });
    actor.start();
    await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
    expect(states).toEqual(['connecting', 'handshaking', 'ready']);
    const { versions } = actor.getSnapshot().context;
    expect(versions.Produce).toBeGreaterThanOrEqual(3);
    expect(versions.Metadata).toBeGreaterThanOrEqual(1);

    await cluster().brokerDown(broker.id);
    await waitFor(actor, (s) => s.matches('retrying'), { timeout: 10_000 });
    expect(actor.getSnapshot().context.lastError?.code).toMatch(/^ERR_CONNECTION/);
    // While down, attempts keep failing and backing off.
    await waitFor(actor, (s) => s.context.attempts >= 2, { timeout: 10_000 });

    await cluster().brokerUp(broker.id);
    await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
    expect(actor.getSnapshot().context.attempts).toBe(0);
    expect(states.slice(0, 4)).toEqual(['connecting', 'handshaking', 'ready', 'retrying']);
    expect(states.at(-1)).toBe('ready');
    // The connection was handed over each time it was ready, and taken back when it was lost.
    expect(handed).toEqual(['up', 'down', 'up']);

    actor.send({ type: 'close' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(handed).toEqual(['up', 'down', 'up', 'down']);
  });

  it('closes its socket when the actor is stopped while ready', async () => {
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    const actor = createActor(brokerConnectionLogic({ clientId: 'ekaf-test' }, links), {
      input: { brokerId: broker.id, host: broker.host, port: broker.port },
    });
    actor.start();
    await waitFor(actor, (s) => s.matches('ready'), { timeout: 10_000 });
    const link = actor.getSnapshot().context.link;
    expect(link).toBeInstanceOf(Connection);
    actor.stop();
    expect((link as Connection).isOpen).toBe(false);
  });

  it('stops in failed, naming both ranges, when the broker has no common Produce version', async () => {
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    await cluster().setApiVersion(ApiKey.Produce, 0, 2);
    try {
      const actor = createActor(brokerConnectionLogic({ clientId: 'ekaf-test' }, links), {
        input: { brokerId: broker.id, host: broker.host, port: broker.port },
      });
      actor.start();
      await waitFor(actor, (s) => s.status === 'done', { timeout: 10_000 });
      const { value, context } = actor.getSnapshot();
      expect(value).toBe('failed');
      expect(context.lastError).toEqual({
        code: 'ERR_UNSUPPORTED_VERSION',
        message: `Produce: no common version (ekaf supports v3-v12, the broker v0-v2)`,
      });
      expect(context.link).toBeNull();
    } finally {
      await cluster().setApiVersion(ApiKey.Produce, 0, peer === '2.0' ? 7 : 10);
    }
  });
});
