import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedVersionError } from '../../src/errors.js';
import { Connection } from '../../src/network/connection.js';
import { negotiateVersions } from '../../src/network/handshake.js';
import { ApiKey } from '../../src/protocol/api.js';
import { Produce, type ProduceRequest } from '../../src/protocol/apis/produce.js';
import { RecordBatchBuilder, type EncodableRecord } from '../../src/protocol/record-batch.js';
import { SUPPORTED_VERSIONS } from '../../src/protocol/versions.js';
import { PEERS } from '../broker/cluster.js';
import { useMockCluster } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { rawClient, type RawClient } from '../support/raw-client.js';

const TOTAL = 10_000;
const PARTITIONS = 3;
const PER_BATCH = 250;

/** Record i, with every shape the format allows: null keys, null and empty values, headers. */
function record(i: number): EncodableRecord {
  return {
    key: i % 7 === 0 ? null : Buffer.from(`key-${i}`),
    value:
      i % 11 === 0 ? null : i % 13 === 0 ? Buffer.alloc(0) : Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`),
    headers:
      i % 3 === 0
        ? []
        : [
            ['seq', Buffer.from(String(i))],
            ['seq', Buffer.from('repeat')],
            ['none', null],
          ],
    timestamp: 1_700_000_000_000 + i,
  };
}

describe.each(PEERS)('protocol layer against librdkafka %s', (peer) => {
  const cluster = useMockCluster({
    peer,
    brokers: 3,
    topics: [{ name: 'events', partitions: PARTITIONS }],
    // Partitions 0 and 1 on broker 1, partition 2 on broker 2: requests to broker 1 carry two
    // partitions, and two brokers are written to.
    setup: async (started) => {
      await started.setLeader('events', 0, 1);
      await started.setLeader('events', 1, 1);
      await started.setLeader('events', 2, 2);
    },
  });
  let client: RawClient;

  beforeAll(() => {
    client = rawClient(cluster());
  });
  afterAll(() => {
    client.close();
  });

  it('negotiates versions through the ApiVersions fallback', async () => {
    const { handshake } = await client.connection(1);
    // The mock supports ApiVersions up to v2 and answers our v3 with UNSUPPORTED_VERSION.
    expect(handshake.apiVersionsVersion).toBeLessThan(3);
    const produceMax = handshake.brokerRanges.find((r) => r.apiKey === ApiKey.Produce)?.maxVersion ?? -1;
    const metadataMax = handshake.brokerRanges.find((r) => r.apiKey === ApiKey.Metadata)?.maxVersion ?? -1;
    expect(handshake.versions.get(ApiKey.Produce)).toBe(
      Math.min(produceMax, SUPPORTED_VERSIONS[ApiKey.Produce].max),
    );
    expect(handshake.versions.get(ApiKey.Metadata)).toBe(
      Math.min(metadataMax, SUPPORTED_VERSIONS[ApiKey.Metadata].max),
    );
  });

  it('fetches metadata: brokers, controller, partitions and leaders', async () => {
    const metadata = await client.metadata(['events']);
    expect(metadata.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    for (const broker of metadata.brokers) {
      const mock = cluster().brokers.find((b) => b.id === broker.nodeId);
      expect(`${broker.host}:${broker.port}`).toBe(`${mock?.host}:${mock?.port}`);
    }
    const topic = metadata.topics.find((t) => t.name === 'events');
    expect(topic?.errorCode).toBe(0);
    expect(topic?.partitions.map((p) => [p.partition, p.leaderId]).sort()).toEqual([
      [0, 1],
      [1, 1],
      [2, 2],
    ]);
    // Metadata v4+ can ask the broker not to auto-create; the mock auto-creates for v1-v3.
    const { handshake } = await client.connection(1);
    if ((handshake.versions.get(ApiKey.Metadata) ?? 0) >= 4) {
      const unknown = await client.metadata(['no-such-topic']);
      expect(unknown.topics[0]?.errorCode).toBe(3); // UNKNOWN_TOPIC_OR_PARTITION
    }
  });

  it(`produces ${TOTAL} records in multi-partition requests and kcat reads every one back`, async () => {
    const metadata = await client.metadata(['events']);
    const leaders = new Map(metadata.topics[0]?.partitions.map((p) => [p.partition, p.leaderId]));

    // Records go round-robin to partitions; batches of PER_BATCH per partition; each request
    // carries one batch for every partition its broker leads.
    const sent: EncodableRecord[][] = Array.from({ length: PARTITIONS }, () => []);
    for (let i = 0; i < TOTAL; i++) sent[i % PARTITIONS]?.push(record(i));

    let multiPartitionRequests = 0;
    const baseOffsets: number[][] = Array.from({ length: PARTITIONS }, () => []);
    for (let start = 0; start < TOTAL / PARTITIONS; start += PER_BATCH) {
      const byBroker = new Map<number, ProduceRequest['topics'][number]['partitions']>();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const slice = sent[partition]?.slice(start, start + PER_BATCH) ?? [];
        if (slice.length === 0) continue;
        const builder = new RecordBatchBuilder();
        for (const r of slice) builder.append(r);
        const leader = leaders.get(partition) ?? -1;
        const list = byBroker.get(leader) ?? [];
        list.push({ partition, records: Buffer.from(builder.seal()) });
        byBroker.set(leader, list);
      }
      await Promise.all(
        [...byBroker].map(async ([brokerId, partitions]) => {
          if (partitions.length > 1) multiPartitionRequests++;
          const { connection, handshake } = await client.connection(brokerId);
          const version = handshake.versions.get(ApiKey.Produce) ?? 3;
          const response = await connection.send(Produce, version, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 10_000,
            topics: [{ name: 'events', partitions }],
          });
          for (const p of response.topics[0]?.partitions ?? []) {
            expect(p.errorCode).toBe(0);
            baseOffsets[p.partition]?.push(p.baseOffset.toNumber());
          }
        }),
      );
    }
    expect(multiPartitionRequests).toBeGreaterThan(0);
    // Base offsets advance by the batch sizes.
    for (const offsets of baseOffsets) expect(offsets.slice(0, 3)).toEqual([0, PER_BATCH, 2 * PER_BATCH]);

    const consumed = await readTopic(cluster().bootstrap, 'events');
    expect(consumed.length).toBe(TOTAL);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const got = consumed.filter((r) => r.partition === partition);
      const expected = sent[partition] ?? [];
      expect(got.length).toBe(expected.length);
      got.forEach((r, index) => {
        const want = expected[index] as EncodableRecord;
        expect(r.offset).toBe(index);
        expect(r.key).toEqual(want.key);
        expect(r.value).toEqual(want.value);
        expect(r.timestamp).toBe(want.timestamp);
        expect(r.headers).toEqual(want.headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v)]));
      });
    }
  });

  it('produces with acks=1 (offsets returned) and acks=0 (no response awaited)', async () => {
    await cluster().createTopic('acks', 1, 1);
    const metadata = await client.metadata(['acks']);
    const leader = metadata.topics[0]?.partitions[0]?.leaderId ?? -1;
    const { connection, handshake } = await client.connection(leader);
    const version = handshake.versions.get(ApiKey.Produce) ?? 3;
    const batch = (value: string): Buffer => {
      const builder = new RecordBatchBuilder();
      builder.append({ key: null, value: Buffer.from(value), headers: [], timestamp: Date.now() });
      return Buffer.from(builder.seal());
    };
    const request = (acks: 0 | 1, value: string): ProduceRequest => ({
      transactionalId: null,
      acks,
      timeoutMs: 5000,
      topics: [{ name: 'acks', partitions: [{ partition: 0, records: batch(value) }] }],
    });
    const one = await connection.send(Produce, version, request(1, 'acks-1'));
    expect(one.topics[0]?.partitions[0]?.baseOffset.toNumber()).toBe(0);
    await connection.sendWithoutResponse(Produce, version, request(0, 'acks-0'));
    // A request after the acks=0 one proves the connection stayed in sync.
    const after = await connection.send(Produce, version, request(1, 'after'));
    expect(after.topics[0]?.partitions[0]?.baseOffset.toNumber()).toBe(2);
    const consumed = await readTopic(cluster().bootstrap, 'acks');
    expect(consumed.map((r) => r.value?.toString())).toEqual(['acks-1', 'acks-0', 'after']);
  });
});

describe('version negotiation with restricted brokers', () => {
  const cluster = useMockCluster({ peer: '2.12', brokers: 1 });

  const handshake = async () => {
    const broker = cluster().brokers[0];
    if (broker === undefined) throw new Error('no broker');
    const connection = new Connection({ host: broker.host, port: broker.port, clientId: 'ekaf-test' });
    await connection.connect();
    try {
      return await negotiateVersions(connection);
    } finally {
      connection.close();
    }
  };

  it('negotiates with a broker restricted to ApiVersions v0-v2 and v0-v1', async () => {
    await cluster().setApiVersion(ApiKey.ApiVersions, 0, 2);
    expect((await handshake()).apiVersionsVersion).toBeLessThanOrEqual(2);
    await cluster().setApiVersion(ApiKey.ApiVersions, 0, 1);
    const result = await handshake();
    expect(result.apiVersionsVersion).toBeLessThanOrEqual(1);
    expect(result.versions.get(ApiKey.Produce)).toBeGreaterThanOrEqual(3);
  });

  it('fails with a clear error when the broker’s Produce range is disjoint from ours', async () => {
    await cluster().setApiVersion(ApiKey.Produce, 0, 2);
    const error = await handshake().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect((error as Error).message).toBe(
      'Produce: no common version (ekaf supports v3-v12, the broker v0-v2)',
    );
  });
});
