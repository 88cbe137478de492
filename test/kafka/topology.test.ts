// A topic deleted and created again with fewer partitions under a running producer, against
// Apache Kafka 4.4.0 (one KRaft node): the real broker's answers (UNKNOWN_TOPIC_OR_PARTITION
// while the topic is gone, a new topic id and partition count after) are what ekaf follows.
//
// Starts a JVM: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProducer, type Producer } from '../../src/index.js';
import { ApiKey, type Api } from '../../src/protocol/api.js';
import type { Reader } from '../../src/protocol/reader.js';
import type { Writer } from '../../src/protocol/writer.js';
import { withConnection } from './kafka-admin.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';

const TOPIC = 'shrinking';
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** DeleteTopics (key 20) v3, the last version before the flexible encoding (2.8 and 4.x take it). */
const DeleteTopics: Api<{ names: string[]; timeoutMs: number }, { errors: [string, number][] }> = {
  key: 20 as ApiKey,
  name: 'DeleteTopics',
  flexibleFrom: 4,
  encodeRequest(writer: Writer, _version: number, request): void {
    writer.array(request.names, (w, name) => w.string(name)).int32(request.timeoutMs);
  },
  decodeResponse(reader: Reader) {
    reader.int32(); // throttle time
    return { errors: reader.array((r): [string, number] => [r.string(), r.int16()]) };
  },
};

describe('Kafka 4.4.0: a topic recreated with fewer partitions', () => {
  let cluster: KafkaCluster | undefined;
  let producer: Producer | undefined;
  const started = (): KafkaCluster => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 1,
      topics: [{ name: TOPIC, partitions: 4, replicationFactor: 1 }],
    });
  }, 180_000);

  afterAll(async () => {
    await producer?.close({ timeoutMs: 2000 });
    await cluster?.stop();
  }, 60_000);

  it('fails what waited for a vanished partition at once, typed, and partitions new records over the new count', async () => {
    const c = started();
    const p = createProducer({ brokers: c.bootstrap, metadataMaxAgeMs: 500, deliveryTimeoutMs: 60_000 });
    producer = p;
    // Sequence state on the broker for partitions 0 and 3 (idempotence is on).
    await p.produceSync(TOPIC, [
      { value: 'warm-0', partition: 0 },
      { value: 'warm-3', partition: 3 },
    ]);

    const address = c.bootstrap.split(',')[0] as string;
    const deleted = await withConnection(address, (conn) =>
      conn.send(DeleteTopics, 3, { names: [TOPIC], timeoutMs: 30_000 }),
    );
    expect(deleted.errors).toEqual([[TOPIC, 0]]);
    const unavailable = new Promise<void>((resolve) => {
      p.on('state', (event) => {
        if (event.actor === `topic:${TOPIC}` && event.to === 'unavailable') resolve();
      });
    });
    // Records for partition 3 while the topic is gone: retried, as the topic may come back.
    const outcome = new Promise<Error | null>((resolve) => {
      p.produceAsync(TOPIC, [{ value: 'late-3', partition: 3 }], (error) => {
        resolve(error ?? null);
      });
    });
    await unavailable;

    await c.createTopics([{ name: TOPIC, partitions: 2, replicationFactor: 1 }]);
    await c.waitForLeaders([TOPIC]);
    // Failed once metadata shows the new topic, long before the 60 s delivery timeout.
    const error = await outcome;
    expect(error).toMatchObject({
      code: 'ERR_KAFKA',
      errorCode: UNKNOWN_TOPIC_OR_PARTITION,
      retriable: false,
    });
    expect(error?.message).toContain(`partition 3 of topic "${TOPIC}" no longer exists`);

    // New records go to the partitions that exist, and the broker takes them: their sequences
    // started again for the new topic.
    const reports = await p.produceSync(
      TOPIC,
      Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `after-${i}` })),
    );
    expect(new Set(reports.map((r) => r.partition))).toEqual(new Set([0, 1]));
    expect(() => {
      p.produceAsync(TOPIC, { value: 'x', partition: 3 });
    }).toThrow(/has 2 partitions/);
    expect(
      p
        .inspect()
        .filter((a) => a.kind === 'partition')
        .map((a) => a.name),
    ).toEqual([`partition:${TOPIC}:0`, `partition:${TOPIC}:1`]);
  }, 90_000);
});
