// Self-test of the real-Kafka harness: Apache Kafka clusters from Maven jars, ekaf producing to
// them, two independent readers (kcat and the Java console consumer) reading back, node faults
// (SIGKILL, restart, SIGSTOP/SIGCONT), and no JVM left behind. Also a Kafka 2.8.2 broker in
// ZooKeeper mode, the oldest peer ekaf negotiates with.
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProducerOptions } from '../../src/config.js';
import { createProducer } from '../../src/index.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { withConnection } from './kafka-admin.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { isOurJvm, liveJvmsOwnedHere } from './pid-registry.js';
import { readWithJavaConsumer, readWithKcat, type ReadBackRecord } from './read-back.js';

const TOPIC = 'harness';
const RECORDS = 1_000;

/** Record i: a key and value the Java reader can print (no 0x1d–0x1f), two headers, one empty. */
function record(i: number): { key: string; value: string; headers: Record<string, string> } {
  return { key: `key-${i}`, value: `value-${i} ünïcödé`, headers: { seq: String(i), empty: '' } };
}

/** Every record of 0..count-1 exactly once, with its key, value and headers intact. */
function expectExactlyOnce(records: ReadBackRecord[], count: number): void {
  expect(records).toHaveLength(count);
  const seen = new Set<number>();
  for (const r of records) {
    const i = Number(r.key?.toString().slice('key-'.length));
    expect(seen.has(i), `key-${i} read twice`).toBe(false);
    seen.add(i);
    const want = record(i);
    expect(r.value?.toString()).toBe(want.value);
    expect(r.headers.map(([name, value]) => [name, value?.toString()])).toEqual([
      ['seq', String(i)],
      ['empty', ''],
    ]);
  }
  expect(seen.size).toBe(count);
}

/** Offsets of each partition are 0..n-1: nothing lost, nothing doubled by the broker. */
function expectDenseOffsets(records: ReadBackRecord[]): void {
  const byPartition = new Map<number, number[]>();
  for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
  for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
}

const stripForCompare = (records: ReadBackRecord[]) =>
  records.map((r) => ({ ...r, key: r.key?.toString('hex'), value: r.value?.toString('hex') }));

describe('Kafka 4.4.0, three KRaft nodes', () => {
  let cluster: KafkaCluster | undefined;
  const started = () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 3,
      topics: [{ name: TOPIC, partitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }],
    });
    console.log(`[harness] 3 nodes up in ${cluster.startup.ms} ms (formatted: ${cluster.startup.formatted})`);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('reads back what ekaf produced exactly once, with kcat and with the Java consumer', async () => {
    const c = started();
    const producer = createProducer({ brokers: c.bootstrap, clientId: 'harness-test' });
    try {
      const reports = await producer.produceSync(
        TOPIC,
        Array.from({ length: RECORDS }, (_, i) => record(i)),
      );
      expect(reports).toHaveLength(RECORDS);
    } finally {
      await producer.close();
    }

    const viaKcat = await readWithKcat(c.bootstrap, TOPIC);
    expectExactlyOnce(viaKcat, RECORDS);
    expectDenseOffsets(viaKcat);
    expect(new Set(viaKcat.map((r) => r.partition)).size).toBe(3);

    const viaJava = await readWithJavaConsumer(c.version, c.bootstrap, TOPIC, { maxMessages: RECORDS });
    expectExactlyOnce(viaJava, RECORDS);
    // Two readers that share no code agree on every byte, offset and timestamp.
    expect(stripForCompare(viaJava)).toEqual(stripForCompare(viaKcat));
  }, 90_000);

  it('moves leadership off a SIGKILLed node, and takes the node back after a restart', async () => {
    const c = started();
    const victim = await c.leaderOf(TOPIC, 0);
    expect(victim).toBeGreaterThan(0);
    await c.kill(victim);
    const moved = await c.waitForMetadata(
      `partition 0 led by a node other than ${victim}`,
      (m) => {
        const leader = m.topics[0]?.partitions.find((p) => p.partition === 0)?.leaderId ?? -1;
        return leader > 0 && leader !== victim;
      },
      { topics: [TOPIC], timeoutMs: 30_000 },
    );
    expect(moved.topics[0]?.partitions.find((p) => p.partition === 0)?.leaderId).not.toBe(victim);

    await c.restart(victim);
    await c.waitForLeaders([TOPIC], { fullIsr: true, timeoutMs: 60_000 });
    await c.electPreferredLeaders(TOPIC);
    // Partition p's preferred replica is the first of its replica list; after the election
    // each partition is led by it again (the restarted node included).
    await c.waitForMetadata(
      'preferred leaders',
      (m) => m.topics[0]?.partitions.every((p) => p.leaderId === p.replicaNodes[0]) ?? false,
      { topics: [TOPIC], timeoutMs: 30_000 },
    );
  }, 120_000);

  it('fences a node hung by SIGSTOP and takes it back after SIGCONT', async () => {
    const c = started();
    const hung = 3;
    c.pause(hung);
    // A hung broker misses its heartbeats: after broker.session.timeout.ms (6 s) the
    // controller fences it and Metadata stops listing it.
    await c.waitForMetadata(`node ${hung} fenced`, (m) => !m.brokers.some((b) => b.nodeId === hung), {
      timeoutMs: 30_000,
    });
    c.resume(hung);
    await c.waitForMetadata(`node ${hung} back`, (m) => m.brokers.some((b) => b.nodeId === hung), {
      timeoutMs: 30_000,
    });
    await c.waitForLeaders([TOPIC], { fullIsr: true, timeoutMs: 60_000 });
    // And the data is all still there.
    expectExactlyOnce(await readWithKcat(c.bootstrap, TOPIC), RECORDS);
  }, 120_000);

  it('stops every node and leaves no JVM of ours behind', async () => {
    const c = started();
    const pids = c.nodes.map((n) => n.pid).filter((pid): pid is number => pid !== undefined);
    expect(pids).toHaveLength(3);
    await c.stop();
    for (const pid of pids) expect(isOurJvm(pid), `pid ${pid} still runs`).toBe(false);
    expect(c.nodes.map((n) => n.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(liveJvmsOwnedHere()).toEqual([]);
  }, 60_000);
});

describe('Kafka 2.8.2, one broker with ZooKeeper', () => {
  let cluster: KafkaCluster | undefined;

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '2.8.2',
      topics: [
        { name: 'old', partitions: 2, replicationFactor: 1, configs: { 'compression.type': 'producer' } },
      ],
    });
    console.log(`[harness] 2.8.2 + ZooKeeper up in ${cluster.startup.ms} ms`);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('takes what ekaf produces (Produce v9 at most) and kcat reads it back exactly once', async () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    // The point of this peer: it tops out at Produce v9, below what ekaf would pick with 4.x.
    const versions = await withConnection(cluster.bootstrap, (conn) =>
      conn.send(ApiVersions, 3, { clientSoftwareName: 'ekaf-harness', clientSoftwareVersion: '0' }),
    );
    expect(versions.apiKeys.find((k) => k.apiKey === 0)?.maxVersion).toBe(9);

    const producer = createProducer({ brokers: cluster.bootstrap, clientId: 'harness-test' });
    try {
      await producer.produceSync(
        'old',
        Array.from({ length: 100 }, (_, i) => record(i)),
      );
    } finally {
      await producer.close();
    }
    const records = await readWithKcat(cluster.bootstrap, 'old');
    expectExactlyOnce(records, 100);
    expectDenseOffsets(records);

    const pids = cluster.nodes.map((n) => n.pid);
    await cluster.stop();
    for (const pid of pids) expect(pid !== undefined && isOurJvm(pid)).toBe(false);
    expect(liveJvmsOwnedHere()).toEqual([]);
  }, 60_000);
});

describe('Kafka 4.4.0, TLS and SASL listeners', () => {
  let cluster: KafkaCluster | undefined;

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      listeners: ['SSL', 'SASL_PLAINTEXT', 'SASL_SSL'],
      topics: [{ name: 'secure', partitions: 1, replicationFactor: 1 }],
    });
    console.log(`[harness] 1 node with TLS/SASL listeners up in ${cluster.startup.ms} ms`);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  it('takes ekaf over SSL, SASL_PLAINTEXT (PLAIN) and SASL_SSL (SCRAM-SHA-256 and -512)', async () => {
    const c = cluster;
    if (c === undefined || c.security === undefined) throw new Error('the cluster did not start');
    const tls = { ca: c.security.caPem };
    const alice = { username: 'alice', password: 'alice-secret' };
    const ways: [string, string, Partial<ProducerOptions>][] = [
      ['SSL', c.bootstraps.SSL ?? '', { tls }],
      ['SASL_PLAINTEXT PLAIN', c.bootstraps.SASL_PLAINTEXT ?? '', { sasl: { mechanism: 'PLAIN', ...alice } }],
      [
        'SASL_SSL SCRAM-SHA-256',
        c.bootstraps.SASL_SSL ?? '',
        { tls, sasl: { mechanism: 'SCRAM-SHA-256', ...alice } },
      ],
      [
        'SASL_SSL SCRAM-SHA-512',
        c.bootstraps.SASL_SSL ?? '',
        { tls, sasl: { mechanism: 'SCRAM-SHA-512', ...alice } },
      ],
    ];
    for (const [i, [what, brokers, security]] of ways.entries()) {
      const producer = createProducer({ brokers, clientId: 'harness-test', ...security });
      try {
        const report = await producer.produceSync('secure', { key: what, value: `via ${what}` });
        expect(report.offset, what).toBe(i);
      } finally {
        await producer.close();
      }
    }
    const records = await readWithKcat(c.bootstrap, 'secure');
    expect(records.map((r) => r.value?.toString())).toEqual(ways.map(([what]) => `via ${what}`));
  }, 60_000);
});
