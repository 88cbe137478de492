// Self-test of the real-peer harness: the mock cluster binaries, their
// command protocol, and kcat as the independent producer/consumer. Also pins
// down the ApiVersions each peer advertises, which the client negotiates with.
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEERS, startCluster, type MockCluster, type Peer } from './cluster.js';
import { listMetadata, produceRecordsWithKcat, produceWithKcat, readTopic } from './kcat.js';

// ApiKey -> [min, max] as each mock advertises them (ApiVersions v0..v2).
const ADVERTISED: Record<Peer, Record<number, [number, number]>> = {
  '2.0': {
    0: [0, 7], // Produce
    1: [0, 11], // Fetch
    2: [0, 5], // ListOffsets
    3: [0, 2], // Metadata
    8: [0, 7], // OffsetCommit
    9: [0, 5], // OffsetFetch
    10: [0, 2], // FindCoordinator
    11: [0, 5], // JoinGroup
    12: [0, 3], // Heartbeat
    13: [0, 1], // LeaveGroup
    14: [0, 3], // SyncGroup
    18: [0, 2], // ApiVersions
    22: [0, 4], // InitProducerId
    24: [0, 1], // AddPartitionsToTxn
    25: [0, 1], // AddOffsetsToTxn
    26: [0, 1], // EndTxn
    28: [0, 2], // TxnOffsetCommit
  },
  '2.12': {
    0: [0, 10], // Produce
    1: [0, 16], // Fetch
    2: [0, 7], // ListOffsets
    3: [0, 12], // Metadata
    8: [0, 9], // OffsetCommit
    9: [0, 6], // OffsetFetch
    10: [0, 3], // FindCoordinator
    11: [0, 6], // JoinGroup
    12: [0, 5], // Heartbeat
    13: [0, 4], // LeaveGroup
    14: [0, 4], // SyncGroup
    18: [0, 2], // ApiVersions
    22: [0, 4], // InitProducerId
    23: [2, 2], // OffsetForLeaderEpoch
    24: [0, 1], // AddPartitionsToTxn
    25: [0, 1], // AddOffsetsToTxn
    26: [0, 1], // EndTxn
    28: [0, 3], // TxnOffsetCommit
    68: [1, 1], // ConsumerGroupHeartbeat
    71: [0, 0], // GetTelemetrySubscriptions
    72: [0, 0], // PushTelemetry
  },
};

/**
 * Sends one request on a fresh connection and returns the response body
 * (after the correlation id). Hand-written so that the harness does not depend
 * on the client under test. flexible: request header v2 (with tagged fields).
 */
async function rawRequest(
  broker: { host: string; port: number },
  apiKey: number,
  version: number,
  body: Buffer,
  flexible = false,
): Promise<Buffer> {
  const header = Buffer.alloc(8);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(42, 4); // CorrelationId
  const request = Buffer.concat([header, str('harness'), Buffer.from(flexible ? [0] : []), body]);

  const socket = connect(broker.port, broker.host);
  try {
    socket.write(Buffer.concat([int32(request.length), request]));
    let received = Buffer.alloc(0);
    for await (const chunk of socket) {
      received = Buffer.concat([received, chunk as Buffer]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) break;
    }
    expect(received.readInt32BE(4)).toBe(42);
    return received.subarray(8, 4 + received.readInt32BE(0));
  } finally {
    socket.destroy();
  }
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function str(s: string): Buffer {
  return Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
}

/** ApiVersions v3+ body: ClientSoftwareName and ClientSoftwareVersion (compact strings), tagged fields. */
const API_VERSIONS_V3_BODY = Buffer.from([5, ...Buffer.from('ekaf'), 4, ...Buffer.from('0.0'), 0]);

/**
 * A Produce v3 body with one RecordBatch holding one record, whose CRC field
 * is 0 instead of the CRC32C of the batch (which, for this fixed content, is
 * not 0).
 */
function produceV3WithZeroCrc(topic: string, partition: number, value: Buffer): Buffer {
  // Record: length, attributes, timestampDelta, offsetDelta, key -1, value, 0 headers (varints zigzag).
  if (value.length > 50) throw new Error('keep the value short: single-byte varints only');
  const record = Buffer.from([0, 0, 0, 1, value.length * 2, ...value, 0]);
  const records = Buffer.concat([Buffer.from([record.length * 2]), record]);
  const afterCrc = Buffer.alloc(40);
  afterCrc.writeInt16BE(0, 0); // attributes
  afterCrc.writeInt32BE(0, 2); // lastOffsetDelta
  afterCrc.writeBigInt64BE(1700000000000n, 6); // baseTimestamp
  afterCrc.writeBigInt64BE(1700000000000n, 14); // maxTimestamp
  afterCrc.writeBigInt64BE(-1n, 22); // producerId
  afterCrc.writeInt16BE(-1, 30); // producerEpoch
  afterCrc.writeInt32BE(-1, 32); // baseSequence
  afterCrc.writeInt32BE(1, 36); // record count
  const batchLength = 4 + 1 + 4 + afterCrc.length + records.length; // from partitionLeaderEpoch on
  const head = Buffer.alloc(21);
  head.writeBigInt64BE(0n, 0); // baseOffset
  head.writeInt32BE(batchLength, 8);
  head.writeInt32BE(-1, 12); // partitionLeaderEpoch
  head.writeInt8(2, 16); // magic
  head.writeUInt32BE(0, 17); // crc: wrong on purpose
  const batch = Buffer.concat([head, afterCrc, records]);
  // TransactionalId null, acks -1, timeout, [topic [partition records]]
  return Buffer.concat([
    int16(-1),
    int16(-1),
    int32(5000),
    int32(1),
    str(topic),
    int32(1),
    int32(partition),
    int32(batch.length),
    batch,
  ]);
}

/** Parses a v0 ApiVersions response body into ApiKey -> [min, max]. */
function parseApiVersionsV0(body: Buffer): { errorCode: number; apis: Record<number, [number, number]> } {
  const apis: Record<number, [number, number]> = {};
  const count = body.readInt32BE(2);
  for (let i = 0, o = 6; i < count; i++, o += 6) {
    apis[body.readInt16BE(o)] = [body.readInt16BE(o + 2), body.readInt16BE(o + 4)];
  }
  return { errorCode: body.readInt16BE(0), apis };
}

function firstBroker(cluster: MockCluster): { host: string; port: number } {
  const broker = cluster.brokers[0];
  if (!broker) throw new Error('the cluster has no brokers');
  return broker;
}

describe.each(PEERS)('mock cluster, librdkafka %s', (peer) => {
  let cluster: MockCluster;
  // A fresh cluster per test: commands change its state, and starting one takes milliseconds.
  beforeEach(async () => {
    cluster = await startCluster({ peer, brokers: 3, topics: [{ name: 'lines', partitions: 3 }] });
  });
  afterEach(async () => {
    await cluster.stop();
  });

  it('lists brokers 1..3 in bootstrap order, matching the ids in Metadata', async () => {
    expect(cluster.peer).toBe(peer);
    expect(cluster.brokers.map((b) => b.id)).toEqual([1, 2, 3]);
    expect(cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')).toBe(cluster.bootstrap);
    expect(await cluster.command('bootstraps')).toBe(cluster.bootstrap);

    const md = await listMetadata(cluster.bootstrap, { topic: 'lines' });
    const fromMetadata = md.brokers.map((b) => `${b.id}=${b.name}`).sort();
    expect(fromMetadata).toEqual(cluster.brokers.map((b) => `${b.id}=${b.host}:${b.port}`));
    expect(md.topics[0]?.partitions).toHaveLength(3);
  });

  it('reads back 100 lines produced by kcat, on every partition', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `key-${i}|value ${i}`);
    await produceWithKcat(cluster.bootstrap, 'lines', lines, { keyDelimiter: '|' });

    const records = await readTopic(cluster.bootstrap, 'lines');
    expect(records).toHaveLength(100);
    const got = records.map((r) => `${r.key?.toString() ?? 'null'}|${r.value?.toString() ?? 'null'}`).sort();
    expect(got).toEqual([...lines].sort());
    for (const r of records) {
      expect(r.topic).toBe('lines');
      expect(r.timestamp).toBeGreaterThan(0);
      expect(r.headers).toEqual([]);
    }
    // Offsets are dense from 0 in each partition.
    for (const p of [0, 1, 2]) {
      const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
  });

  it('reads to the end even when some partitions are empty', async () => {
    await cluster.createTopic('sparse', 3);
    await produceWithKcat(cluster.bootstrap, 'sparse', ['a', 'b'], { partition: 1 });

    expect((await readTopic(cluster.bootstrap, 'sparse')).map((r) => r.value?.toString())).toEqual([
      'a',
      'b',
    ]);
    const only0and1 = await readTopic(cluster.bootstrap, 'sparse', { partitions: [0, 1] });
    expect(only0and1.map((r) => [r.partition, r.offset])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    expect(await readTopic(cluster.bootstrap, 'sparse', { partitions: [2] })).toEqual([]);
  });

  it('round-trips binary keys and values, null apart from empty', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const records = [
      { key: Buffer.from('k\n\0\r\n'), value: Buffer.from('v\0\n"\\/\u00e9\n') },
      { key: all, value: Buffer.from(all).reverse() },
      { key: null, value: Buffer.from([0xff, 0xfe, 0, 0x0a]) },
      { key: Buffer.alloc(0), value: Buffer.alloc(0) },
      { key: Buffer.from('k'), value: null },
      { key: null, value: null },
      { key: Buffer.alloc(0), value: Buffer.from('x') },
      { key: Buffer.from('y'), value: Buffer.alloc(0) },
    ];
    await cluster.createTopic('binary', 1);
    await produceRecordsWithKcat(cluster.bootstrap, 'binary', records, { partition: 0 });

    const got = await readTopic(cluster.bootstrap, 'binary');
    expect(got.map((r) => ({ key: r.key, value: r.value }))).toEqual(records);
    expect(got.map((r) => r.offset)).toEqual(records.map((_, i) => i));
  });

  it('round-trips headers, with null and empty values', async () => {
    await cluster.createTopic('headers', 1);
    const headers: [string, string | null][] = [
      ['a', 'x,y=z'],
      ['empty', ''],
      ['null', null],
      ['a', 'again'],
      ['ünï', 'çødé'],
    ];
    await produceWithKcat(cluster.bootstrap, 'headers', ['m'], { headers });

    const [record] = await readTopic(cluster.bootstrap, 'headers');
    expect(record?.headers).toEqual(headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v)]));
  });

  it('answers ok to every fault-injection command', async () => {
    await cluster.brokerDown(2);
    await cluster.brokerUp(2);
    await cluster.setRtt(1, 50);
    await cluster.setRtt(1, 0);
    await cluster.setLeader('lines', 0, 3);
    await cluster.setLeader('lines', 0, -1);
    await cluster.pushRequestErrors(0, [6, 7]);
    await cluster.clearRequestErrors(0);
    await cluster.pushBrokerRequestErrors(1, 0, [
      { code: 6, rttMs: 10 },
      { code: 0, rttMs: 100 },
    ]);
    await cluster.setApiVersion(0, 3, 7);
    await cluster.setTopicError('lines', 0);
    const md = await listMetadata(cluster.bootstrap, { topic: 'lines' });
    expect(md.topics[0]?.partitions.find((p) => p.partition === 0)?.leader).toBe(-1);
  });

  it('applies topic errors to Metadata', async () => {
    await cluster.setTopicError('lines', 3); // UNKNOWN_TOPIC_OR_PARTITION
    const md = await listMetadata(cluster.bootstrap, { topic: 'lines' });
    expect(md.topics[0]?.error).toMatch(/Unknown topic or partition/);
  });

  it('rejects unknown commands, bad arguments and unknown brokers, and stays usable', async () => {
    await expect(cluster.command('no_such_command')).rejects.toThrow(/unknown command: no_such_command/);
    await expect(cluster.command('create_topic t x 1')).rejects.toThrow(/usage: create_topic/);
    await expect(cluster.command('broker_down')).rejects.toThrow(/usage: broker_down/);
    await expect(cluster.brokerDown(9)).rejects.toThrow(/mock-cluster-.*broker_down 9/);
    await expect(cluster.pushBrokerRequestErrors(9, 0, [{ code: 6, rttMs: 0 }])).rejects.toThrow(
      /Unknown broker/,
    );
    await expect(cluster.setRtt(1, 1.5)).rejects.toThrow(/integer/);
    await expect(cluster.command('bootstraps\nquit')).rejects.toThrow(/one line/);
    expect(await cluster.command('bootstraps')).toBe(cluster.bootstrap);
  });

  it('serialises concurrent commands, answering each in order', async () => {
    const answers = await Promise.allSettled([
      cluster.command('bootstraps'),
      cluster.command('nope'),
      cluster.command('brokers'),
    ]);
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(answers[2]).toMatchObject({ value: expect.stringMatching(/^1=/) as unknown });
  });

  it('rejects commands after stop()', async () => {
    await cluster.stop();
    await expect(cluster.command('bootstraps')).rejects.toThrow(/stopped/);
  });

  it('stores a RecordBatch with a wrong CRC, which readTopic then refuses', async () => {
    await cluster.createTopic('crc', 1);
    await cluster.setLeader('crc', 0, 1);
    await produceWithKcat(cluster.bootstrap, 'crc', ['good'], { partition: 0 });
    expect((await readTopic(cluster.bootstrap, 'crc')).map((r) => r.value?.toString())).toEqual(['good']);

    // The mock does not check CRCs: it answers no error and appends the batch.
    const broker = firstBroker(cluster);
    const response = await rawRequest(broker, 0, 3, produceV3WithZeroCrc('crc', 0, Buffer.from('bad')));
    // [topic "crc" [partition, ErrorCode, BaseOffset, LogAppendTime]], ThrottleTimeMs
    const partitionAt = 4 + 2 + 'crc'.length + 4;
    expect(response.readInt32BE(partitionAt)).toBe(0);
    expect(response.readInt16BE(partitionAt + 4)).toBe(0);
    expect(response.readBigInt64BE(partitionAt + 6)).toBe(1n);

    // kcat, with check.crcs=true, is the one that catches it.
    await expect(readTopic(cluster.bootstrap, 'crc')).rejects.toThrow(/failed CRC32C check/);
  });

  it('advertises the expected ApiVersions', async () => {
    const broker = firstBroker(cluster);
    for (const version of [0, 1, 2]) {
      const { errorCode, apis } = parseApiVersionsV0(await rawRequest(broker, 18, version, Buffer.alloc(0)));
      expect(errorCode).toBe(0);
      expect(apis).toEqual(ADVERTISED[peer]);
    }
  });

  it('answers ApiVersions above v2 with UNSUPPORTED_VERSION in a malformed, non-v0 body', async () => {
    const broker = firstBroker(cluster);
    for (const version of [3, 4]) {
      const body = await rawRequest(broker, 18, version, API_VERSIONS_V3_BODY, true);
      // ErrorCode 35, a one-byte array count of 1 (which as a compact array
      // would mean 0 entries), the ApiVersions entry 18: 0..2, ThrottleTimeMs,
      // and no tagged fields: neither the v0 nor the v3 layout. Only the
      // error code is usable; the client must then retry with v0..v2.
      expect(body.toString('hex')).toBe('0023' + '01' + '0012' + '0000' + '0002' + '00000000');
    }
  });

  it('advertises what set_apiversion sets, and drops disabled APIs', async () => {
    await cluster.setApiVersion(0, 3, 7);
    await cluster.setApiVersion(22, -1, -1);
    const broker = firstBroker(cluster);
    const { apis } = parseApiVersionsV0(await rawRequest(broker, 18, 0, Buffer.alloc(0)));
    expect(apis[0]).toEqual([3, 7]);
    expect(apis[22]).toBeUndefined();
  });
});
