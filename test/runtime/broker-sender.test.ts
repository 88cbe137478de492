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

describe('BrokerSender: batches that are not full wait for the request in flight', () => {
  /** A connection with room for many requests, each answered when the test says. */
  function answeringConnection() {
    const requests: { topics: { partitions: { partition: number; records: Buffer }[] }[] }[] = [];
    const answers: (() => void)[] = [];
    const conn = {
      isOpen: true,
      hasCapacity: true,
      send: (_api: unknown, _version: number, request: (typeof requests)[number]) => {
        requests.push(request);
        return new Promise((resolve) => {
          answers.push(() => {
            resolve({
              topics: request.topics.map((t) => ({
                name: 't',
                partitions: t.partitions.map((p) => ({
                  partition: p.partition,
                  errorCode: 0,
                  baseOffset: 0,
                })),
              })),
            });
          });
        });
      },
    } as unknown as Connection;
    return { conn, requests, answers };
  }

  function partitionOf(n: number): SendablePartition & { log: PartitionLog } {
    return {
      log: new PartitionLog('t', n),
      settings: () => TOPIC_DEFAULTS,
      isReady: () => true,
      stamp: () => null,
      codec: () => null,
    };
  }

  const limits = { batchBytes: 2048, batchRecords: 10_000 };
  const put = (p: { log: PartitionLog }, values: string[]): void => {
    const call = new ProduceCall('t', values.length, () => undefined);
    values.forEach((v, i) => {
      p.log.append(normalizeRecord(v, i, T0, 1 << 20), call, i, limits, true, Infinity, T0);
    });
  };
  const recordsIn = (request: { topics: { partitions: { partition: number }[] }[] }): number[] =>
    request.topics.flatMap((t) => t.partitions.map((p) => p.partition));

  it('sends open batches of every partition together once the broker has answered; full ones at once', async () => {
    const { conn, requests, answers } = answeringConnection();
    const acked: number[] = [];
    const sender = new BrokerSender<SendablePartition>(1, 1024 * 1024, {
      acknowledged: (p) => acked.push(p.log.partition),
      rejected: () => undefined,
      lost: () => undefined,
      unsendable: () => undefined,
    });
    sender.connection = conn;
    const [a, b] = [partitionOf(0), partitionOf(1)];
    sender.lead(a);
    sender.lead(b);
    put(a, ['a0']);
    sender.drain();
    expect(requests.map(recordsIn)).toEqual([[0]]);
    // While it is in flight, small urgent batches of both partitions wait: no request each.
    put(a, ['a1']);
    put(b, ['b0']);
    sender.drain();
    expect(requests).toHaveLength(1);
    // A full batch does not wait (sealed as records are appended: 2 KiB of 100 B records).
    put(
      b,
      Array.from({ length: 25 }, (_, i) => `b${i}`.padEnd(100, '.')),
    );
    sender.drain();
    expect(requests).toHaveLength(2);
    expect(recordsIn(requests[1] as (typeof requests)[number])).toEqual([1]);
    // Answered: what waited leaves in one request, both partitions in it.
    answers[0]?.();
    answers[1]?.();
    // The answers' callbacks run as microtasks, and the drain they ask for on the next turn.
    for (let turn = 0; turn < 5 && requests.length < 3; turn++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(requests).toHaveLength(3);
    expect(recordsIn(requests[2] as (typeof requests)[number]).sort()).toEqual([0, 1]);
    expect(acked.sort()).toEqual([0, 1]);
  });
});
