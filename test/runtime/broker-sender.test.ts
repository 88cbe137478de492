import { describe, expect, it } from 'vitest';
import { TOPIC_DEFAULTS, type TopicSettings } from '../../src/config.js';
import { ConnectionError, EkafError, EncodeError } from '../../src/errors.js';
import type { Connection } from '../../src/network/connection.js';
import { BrokerSender, type SendablePartition } from '../../src/runtime/broker-sender.js';
import { ProduceCall } from '../../src/runtime/delivery.js';
import { PartitionLog } from '../../src/runtime/partition-log.js';
import type { SealedBatch } from '../../src/runtime/sealed-batch.js';
import { normalizeRecord } from '../../src/runtime/records.js';

const T0 = 1_700_000_000_000;

/** A partition of topic `t` holding one urgent record, ready to be taken. */
function partition(settings: Partial<TopicSettings> = {}): SendablePartition {
  const log = new PartitionLog('t', 0);
  const call = new ProduceCall('t', 1, () => undefined);
  log.append(normalizeRecord('v', 'record', T0, 1024), call, 0, TOPIC_DEFAULTS, true, Infinity, T0);
  return {
    log,
    settings: () => ({ ...TOPIC_DEFAULTS, ...settings }),
    isReady: () => true,
    stamp: () => null,
    codec: () => null,
  };
}

/** A connection whose send and sendWithoutResponse do what `send` says, once. */
function connection(send: () => Promise<unknown>): Connection {
  let sent = 0;
  return {
    isOpen: true,
    get hasCapacity() {
      return sent === 0;
    },
    send: () => {
      sent++;
      return send();
    },
    sendWithoutResponse: () => {
      sent++;
      return send();
    },
  } as unknown as Connection;
}

/** A sender over `conn` whose outcomes are recorded; resolves once one arrived. */
function senderWith(conn: Connection) {
  const outcomes: { kind: string; batch: SealedBatch; error: EkafError }[] = [];
  let arrived: () => void = () => undefined;
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const record = (kind: string) => (_p: SendablePartition, batch: SealedBatch, error: EkafError) => {
    outcomes.push({ kind, batch, error });
    arrived();
  };
  const sender = new BrokerSender<SendablePartition>(1, 1024 * 1024, {
    acknowledged: () => undefined,
    rejected: () => undefined,
    lost: record('lost'),
    unsendable: record('unsendable'),
  });
  sender.connection = conn;
  return { sender, outcomes, first };
}

describe('BrokerSender: a request that cannot be built or encoded', () => {
  it.each([
    ['acks all', 'all'],
    ['acks 0', 0],
  ] as const)(
    '%s: a send that throws (a RangeError of the encoder) fails the batch for good with ERR_ENCODE, without throwing out of drain',
    async (_name, acks) => {
      const { sender, outcomes, first } = senderWith(
        connection(() => {
          throw new RangeError('The value of "value" is out of range. Received 3000000000');
        }),
      );
      const p = partition({ acks });
      sender.lead(p);
      expect(() => {
        sender.drain();
      }).not.toThrow();
      await first;
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]?.kind).toBe('unsendable');
      expect(outcomes[0]?.error).toBeInstanceOf(EncodeError);
      expect(outcomes[0]?.error).toMatchObject({ code: 'ERR_ENCODE', retriable: false });
      expect(outcomes[0]?.error.cause).toBeInstanceOf(RangeError);
      expect(outcomes[0]?.batch.recordCount).toBe(1);
    },
  );

  it('a send rejected with ERR_ENCODE fails the batch for good; a lost connection is still retried', async () => {
    const encode = senderWith(connection(() => Promise.reject(new EncodeError('cannot encode'))));
    encode.sender.lead(partition());
    encode.sender.drain();
    await encode.first;
    expect(encode.outcomes.map((o) => [o.kind, o.error.code])).toEqual([['unsendable', 'ERR_ENCODE']]);

    const lost = senderWith(connection(() => Promise.reject(new ConnectionError('reset', 'b:1'))));
    lost.sender.lead(partition());
    lost.sender.drain();
    await lost.first;
    expect(lost.outcomes.map((o) => [o.kind, o.error.code])).toEqual([['lost', 'ERR_CONNECTION']]);
  });

  it('a codec that throws fails the batch for good with ERR_ENCODE instead of throwing out of drain', async () => {
    let sends = 0;
    const { sender, outcomes, first } = senderWith(
      connection(() => {
        sends++;
        return new Promise(() => undefined);
      }),
    );
    const p = partition();
    const codec = {
      id: 1,
      compress: () => {
        throw new Error('codec crashed');
      },
    };
    const throwing = { ...p, codec: () => codec } as unknown as SendablePartition;
    sender.lead(throwing);
    expect(() => {
      sender.drain();
    }).not.toThrow();
    await first;
    expect(outcomes.map((o) => [o.kind, o.error.code])).toEqual([['unsendable', 'ERR_ENCODE']]);
    expect(outcomes[0]?.error.message).toMatch(/codec crashed/);
    expect(p.log.inFlight).toBe(1); // in flight until the runtime settles it as failed
    expect(sends).toBe(0);
  });
});
