// The Apache Kafka side of the transaction tests, checked without ekaf: the Java transactional
// producer (java-txn-producer.ts) writes what a read_committed reader then sees exactly; a
// transaction it leaves open is written (read_uncommitted) but invisible (read_committed); a
// second instance fences it; the group offsets helper (group-offsets.ts) reads offsets a Java
// consumer committed, and tells offsets of an open transaction apart; transaction.version is
// what kafka-cluster.ts says (2 on 4.4.0 by default, 1 when asked).
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitGroupOffsetsWithJava, readGroupOffsets } from './group-offsets.js';
import { javaTxnValue, runJavaTransactions, startJavaOpenTransaction } from './java-txn-producer.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { readWithKcat, type ReadBackRecord } from './read-back.js';

const values = (records: ReadBackRecord[]): string[] =>
  records.map((r) => r.value?.toString() ?? '<null>').sort();

describe('Kafka 4.4.0, 3 nodes: the Java transactional producer and the group offsets reader', () => {
  let cluster: KafkaCluster;

  beforeAll(async () => {
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 3,
      topics: [
        { name: 'txn-a', partitions: 3, replicationFactor: 3 },
        { name: 'txn-b', partitions: 2, replicationFactor: 3 },
        { name: 'txn-open', partitions: 2, replicationFactor: 3 },
        { name: 'txn-group', partitions: 2, replicationFactor: 3 },
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await cluster.kill();
  }, 60_000);

  it('transaction.version is finalized at 2 (transactions v2) by default', async () => {
    expect(await cluster.transactionVersion()).toBe(2);
  });

  it('committed transactions over two topics are read back read_committed exactly once', async () => {
    const result = await runJavaTransactions(cluster.bootstrap, {
      transactionalId: 'infra-run',
      topics: ['txn-a', 'txn-b'],
      transactions: 3,
      recordsPerTransaction: 5,
      recordSize: 40,
      jvm: 'quick',
      timeoutMs: 60_000,
    });
    expect(result).toMatchObject({ transactions: 3, records: 15, recordSize: 40 });
    expect(result.recordsPerSecond).toBeGreaterThan(0);

    const expected = (topic: number): string[] => {
      const out: string[] = [];
      for (let t = 0; t < 3; t++)
        for (let r = topic; r < 5; r += 2) out.push(javaTxnValue('infra-run', t, r, 40));
      return out.sort();
    };
    const [a, b] = await Promise.all([
      readWithKcat(cluster.bootstrap, 'txn-a', { isolationLevel: 'read_committed' }),
      readWithKcat(cluster.bootstrap, 'txn-b', { isolationLevel: 'read_committed' }),
    ]);
    expect(values(a)).toEqual(expected(0));
    expect(values(b)).toEqual(expected(1));
  });

  it('an open transaction is written but not committed; a new instance fences the old one and aborts it', async () => {
    const zombie = await startJavaOpenTransaction(cluster.bootstrap, {
      transactionalId: 'infra-open',
      label: 'zombie',
      topics: ['txn-open'],
      records: 4,
      recordSize: 20,
    });
    try {
      const [committed, uncommitted] = await Promise.all([
        readWithKcat(cluster.bootstrap, 'txn-open', { isolationLevel: 'read_committed' }),
        readWithKcat(cluster.bootstrap, 'txn-open', { isolationLevel: 'read_uncommitted' }),
      ]);
      expect(committed).toEqual([]);
      expect(values(uncommitted)).toEqual([0, 1, 2, 3].map((r) => javaTxnValue('zombie', 0, r, 20)).sort());

      // initTransactions() of a second instance aborts the open transaction and fences the first.
      const successor = await startJavaOpenTransaction(cluster.bootstrap, {
        transactionalId: 'infra-open',
        label: 'successor',
        topics: ['txn-open'],
        records: 2,
        recordSize: 20,
      });
      try {
        // EndTxn with the old epoch: PRODUCER_FENCED. (A produce with it would have been refused
        // INVALID_PRODUCER_EPOCH, and the Java client then reports InvalidProducerEpochException.)
        expect(await zombie.commit()).toMatchObject({
          ok: false,
          error: 'org.apache.kafka.common.errors.ProducerFencedException',
        });
        expect(await successor.commit()).toEqual({ command: 'commit', ok: true });
      } finally {
        await successor.hangUp();
      }
      const after = await readWithKcat(cluster.bootstrap, 'txn-open', { isolationLevel: 'read_committed' });
      expect(values(after)).toEqual([0, 1].map((r) => javaTxnValue('successor', 0, r, 20)).sort());
    } finally {
      await zombie.kill();
    }
  });

  it('a SIGKILLed producer leaves its records unread until the transaction is aborted', async () => {
    const hung = await startJavaOpenTransaction(cluster.bootstrap, {
      transactionalId: 'infra-hang',
      label: 'killed',
      topics: ['txn-open'],
      records: 3,
      recordSize: 20,
      mode: 'hang',
    });
    await hung.kill();
    expect(await hung.exited).toBe('SIGKILL');
    const uncommitted = await readWithKcat(cluster.bootstrap, 'txn-open', {
      isolationLevel: 'read_uncommitted',
    });
    expect(values(uncommitted).filter((v) => v.startsWith('killed:'))).toHaveLength(3);
    // A new instance's initTransactions() aborts the killed one's transaction at once.
    const next = await runJavaTransactions(cluster.bootstrap, {
      transactionalId: 'infra-hang',
      label: 'next',
      topics: ['txn-open'],
      transactions: 1,
      recordsPerTransaction: 1,
      recordSize: 20,
      jvm: 'quick',
    });
    expect(next.records).toBe(1);
    const committed = await readWithKcat(cluster.bootstrap, 'txn-open', { isolationLevel: 'read_committed' });
    expect(values(committed).filter((v) => !v.startsWith('successor:'))).toEqual([
      javaTxnValue('next', 0, 0, 20),
    ]);
  });

  it('group offsets: committed by a Java consumer, pending while in an open transaction, visible after its commit', async () => {
    await commitGroupOffsetsWithJava(cluster.bootstrap, 'infra-group', {
      'txn-group:0': 2,
      'txn-group:1': 1,
    });
    const before = new Map([
      ['txn-group:0', 2],
      ['txn-group:1', 1],
    ]);
    // Two JVMs at once: the read without requireStable does not see offsets still pending anyway.
    const [committed, tx] = await Promise.all([
      readGroupOffsets(cluster.bootstrap, 'infra-group'),
      startJavaOpenTransaction(cluster.bootstrap, {
        transactionalId: 'infra-offsets',
        topics: ['txn-a'],
        records: 1,
        sendOffsets: { groupId: 'infra-group', offsets: { 'txn-group:0': 7 } },
      }),
    ]);
    expect(committed).toEqual({ status: 'ok', offsets: before });
    try {
      const [stable, latest] = await Promise.all([
        readGroupOffsets(cluster.bootstrap, 'infra-group', {
          requireStable: true,
          topics: ['txn-group'],
          timeoutMs: 2_000,
        }),
        readGroupOffsets(cluster.bootstrap, 'infra-group'),
      ]);
      expect(stable.status).toBe('pending');
      expect(latest).toEqual({ status: 'ok', offsets: before });

      expect((await tx.commit()).ok).toBe(true);
    } finally {
      await tx.hangUp();
    }
    const after = await readGroupOffsets(cluster.bootstrap, 'infra-group', { requireStable: true });
    expect(after).toEqual({
      status: 'ok',
      offsets: new Map([
        ['txn-group:0', 7],
        ['txn-group:1', 1],
      ]),
    });
  });
});

describe('Kafka 4.4.0 formatted with transaction.version=1', () => {
  it('finalizes transaction.version 1', async () => {
    const cluster = await startKafkaCluster({ version: '4.4.0', nodes: 1, transactionVersion: 1 });
    try {
      expect(await cluster.transactionVersion()).toBe(1);
    } finally {
      await cluster.kill();
    }
  }, 120_000);
});
