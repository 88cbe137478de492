// Transactions on Apache Kafka (issue 15): 3 nodes, transaction state log RF 3, read back with
// kcat in read_committed and read_uncommitted. Kafka 4.4 speaks transactions v2 (KIP-890) by
// default; 3.9 speaks v1 (AddPartitionsToTxn), so both protocols are proven.
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/network/connection.js';
import { negotiateVersions } from '../../src/network/handshake.js';
import { ApiKey } from '../../src/protocol/api.js';
import { CoordinatorType, FindCoordinator } from '../../src/protocol/apis/find-coordinator.js';
import { actorNamed } from '../../src/runtime/introspection.js';
import {
  createProducer,
  EkafError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionTimeoutError,
  type Producer,
  type ProducerOptions,
} from '../../src/index.js';
import { startKafkaCluster, type KafkaCluster, type KafkaVersion } from './kafka-cluster.js';
import { readGroupOffsets } from './group-offsets.js';
import { readWithKcat, type IsolationLevel } from './read-back.js';

const TOPICS = ['tx-a', 'tx-b', 'tx-c', 'tx-kill', 'tx-coord', 'tx-timeout'];
const CHILD = fileURLToPath(new URL('../support/txn-child.ts', import.meta.url));

/** The node id of the transaction coordinator of `transactionalId`, asked of the cluster itself. */
async function coordinatorOf(cluster: KafkaCluster, transactionalId: string): Promise<number> {
  const [host, port] = cluster.bootstrap.split(',')[0]?.split(':') ?? [];
  const connection = new Connection({ host: host ?? '127.0.0.1', port: Number(port), clientId: 'test' });
  try {
    await connection.connect();
    const { versions } = await negotiateVersions(connection);
    const response = await connection.send(FindCoordinator, versions.get(ApiKey.FindCoordinator) ?? 1, {
      keyType: CoordinatorType.Transaction,
      keys: [transactionalId],
    });
    const found = response.coordinators[0];
    if (found === undefined || found.errorCode !== 0)
      throw new Error(`no coordinator: ${JSON.stringify(found)}`);
    return found.nodeId;
  } finally {
    connection.close();
  }
}

for (const [version, protocol] of [
  ['4.4.0', 'v2'],
  ['3.9.2', 'v1'],
] as const satisfies readonly (readonly [KafkaVersion, string])[]) {
  describe(`Kafka ${version}, 3 nodes: transactions ${protocol}`, () => {
    let cluster: KafkaCluster;
    const producers: Producer[] = [];

    const producer = (options: Partial<ProducerOptions> & { transactionalId: string }): Producer => {
      const made = createProducer({
        brokers: cluster.bootstrap,
        retryBackoffMs: 50,
        retryBackoffMaxMs: 500,
        ...options,
      });
      producers.push(made);
      return made;
    };

    /** The values of `topic` as a reader at `isolation` sees them. */
    const values = async (topic: string, isolation: IsolationLevel): Promise<string[]> =>
      (await readWithKcat(cluster.bootstrap, topic, { isolationLevel: isolation, timeoutMs: 60_000 })).map(
        (r) => r.value?.toString() ?? '',
      );

    beforeAll(async () => {
      cluster = await startKafkaCluster({
        version,
        nodes: 3,
        topics: TOPICS.map((name) => ({
          name,
          partitions: 3,
          replicationFactor: 3,
          configs: { 'min.insync.replicas': '2' },
        })),
        // Transactions that outlive their timeout are aborted within half a second (default 10 s).
        brokerConfig: { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500' },
      });
    }, 180_000);
    afterAll(async () => {
      for (const p of producers) await p.close({ timeoutMs: 5_000 }).catch(() => undefined);
      await cluster.kill();
    }, 60_000);

    it('committed records are visible exactly once; aborted ones never (but were written)', async () => {
      const p = producer({ transactionalId: `basic-${version}` });
      const committed = await p.transaction(async (tx) => {
        const a = await tx.produce('tx-a', [
          { value: 'c1', key: 'k1' },
          { value: 'c2', key: 'k2' },
        ]);
        const b = await tx.produce('tx-b', { value: 'c3', key: 'k3' });
        return [...a, b];
      });
      expect(committed).toHaveLength(3);
      const aborted = await p.beginTransaction();
      await aborted.produce('tx-a', [
        { value: 'a1', key: 'k1' },
        { value: 'a2', key: 'k4' },
      ]);
      await aborted.produce('tx-b', { value: 'a3' });
      await aborted.abort();
      // A third one after the abort: the producer goes on with a clean sequence.
      await p.transaction(async (tx) => {
        await tx.produce('tx-a', { value: 'c4', key: 'k2' });
      });
      expect((await values('tx-a', 'read_committed')).sort()).toEqual(['c1', 'c2', 'c4']);
      expect(await values('tx-b', 'read_committed')).toEqual(['c3']);
      // The aborted records are in the log: a read_uncommitted reader sees them.
      expect((await values('tx-a', 'read_uncommitted')).sort()).toEqual(['a1', 'a2', 'c1', 'c2', 'c4']);
      expect((await values('tx-b', 'read_uncommitted')).sort()).toEqual(['a3', 'c3']);
      const tx = actorNamed(p.inspect(), 'transaction');
      expect(tx?.details).toMatchObject({ committed: 2, aborted: 1, protocol });
    });

    it('a producer SIGKILLed inside a transaction: the next instance aborts it, nothing of it is ever visible', async () => {
      const id = `killed-${version}`;
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: {
          ...process.env,
          BROKERS: cluster.bootstrap,
          TRANSACTIONAL_ID: id,
          TOPIC: 'tx-kill',
          COUNT: '500',
          PREFIX: 'killed',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit');
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('sent')) resolve();
        });
        void exited.then(() => {
          reject(new Error(`the child exited before sending: ${stderr}`));
        });
      });
      child.kill('SIGKILL');
      await exited;
      // Written, not committed: a read_uncommitted reader sees all 500.
      expect(
        (await values('tx-kill', 'read_uncommitted')).filter((v) => v.startsWith('killed')),
      ).toHaveLength(500);
      // A new instance: its initialization aborts the open transaction (CONCURRENT_TRANSACTIONS
      // until the markers are written), then it commits its own.
      const next = producer({ transactionalId: id });
      await next.transaction(async (tx) => {
        await tx.produce('tx-kill', { value: 'after-restart' });
      });
      expect(await values('tx-kill', 'read_committed')).toEqual(['after-restart']);
    }, 120_000);

    it('the coordinator SIGKILLed during commit: the commit completes or fails typed; never half visible', async () => {
      const id = `coordinator-kill-${version}`;
      const p = producer({ transactionalId: id, requestTimeoutMs: 3_000 });
      // Warm: the producer knows its coordinator.
      await p.transaction(async (tx) => {
        await tx.produce('tx-coord', { value: 'warm' });
      });
      const coordinator = await coordinatorOf(cluster, id);
      const tx = await p.beginTransaction();
      const records = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 9}`, value: `during-${i}` }));
      await tx.produce('tx-coord', records);
      const commit = tx.commit().then(
        () => 'committed',
        (error: unknown) => error,
      );
      await cluster.kill(coordinator);
      const outcome = await commit;
      await cluster.restart(coordinator);
      await cluster.waitForLeaders(['tx-coord']);
      const visible = (await values('tx-coord', 'read_committed')).filter((v) => v.startsWith('during-'));
      if (outcome === 'committed') {
        expect(visible).toHaveLength(300);
      } else {
        expect(outcome).toBeInstanceOf(EkafError);
        // Unknown outcome (a timeout): all or nothing, never part.
        expect([0, 300]).toContain(visible.length);
      }
    }, 180_000);

    it('transactionTimeoutMs is enforced by the broker and reported; the abort recovers the producer', async () => {
      const id = `timeout-${version}`;
      const p = producer({ transactionalId: id, transactionTimeoutMs: 1_000 });
      const tx = await p.beginTransaction();
      await tx.produce('tx-timeout', { value: 'too-late' });
      // The coordinator aborts it on its own once it is older than 1 s.
      await expect
        .poll(
          async () =>
            (
              await cluster.runTool('org.apache.kafka.tools.TransactionsCommand', [
                '--bootstrap-server',
                cluster.bootstrap,
                'describe',
                '--transactional-id',
                id,
              ])
            ).stdout.toString(),
          { timeout: 60_000, interval: 500 },
        )
        .toContain('CompleteAbort');
      const error = await tx.commit().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransactionAbortableError);
      expect((error as Error).cause).toBeInstanceOf(TransactionTimeoutError);
      expect(actorNamed(p.inspect(), 'transaction')?.details.abortableReason).toContain(
        'transactionTimeoutMs',
      );
      let next = p;
      if (protocol === 'v2') {
        // EndTxn(abort) with the old epoch is taken as a retry and hands back the new one.
        await tx.abort();
      } else {
        // v1: the coordinator's bump fences this producer (as the Java producer finds); a new
        // instance with the same id goes on.
        const abortError = await tx.abort().then(
          () => null,
          (e: unknown) => e,
        );
        expect(abortError).toBeInstanceOf(ProducerFencedError);
        expect((abortError as Error).message).toContain('transactionTimeoutMs');
        next = producer({ transactionalId: id });
      }
      await next.transaction(async (t) => {
        await t.produce('tx-timeout', { value: 'after-timeout' });
      });
      expect(await values('tx-timeout', 'read_committed')).toEqual(['after-timeout']);
    }, 120_000);

    it('sendOffsets: the offsets reach the group with the commit, never with an abort', async () => {
      const group = `group-${version}`;
      const read = () =>
        readGroupOffsets(cluster.bootstrap, group, {
          requireStable: true,
          topics: ['tx-b'],
          timeoutMs: 3_000,
          version,
        });
      const p = producer({ transactionalId: `offsets-${version}` });
      const tx = await p.beginTransaction();
      await tx.produce('tx-a', { value: 'with-offsets' });
      await tx.sendOffsets({ groupId: group, offsets: [{ topic: 'tx-b', partition: 0, offset: 42 }] });
      // In the open transaction: a read_committed consumer's fetch of them is not stable.
      expect((await read()).status).toBe('pending');
      await tx.commit();
      expect(await read()).toEqual({ status: 'ok', offsets: new Map([['tx-b:0', 42]]) });
      const aborted = await p.beginTransaction();
      await aborted.sendOffsets({ groupId: group, offsets: [{ topic: 'tx-b', partition: 0, offset: 99 }] });
      await aborted.abort();
      expect(await read()).toEqual({ status: 'ok', offsets: new Map([['tx-b:0', 42]]) });
    }, 120_000);

    it('produceSync outside a transaction is refused on a transactional producer', async () => {
      const p = producer({ transactionalId: `outside-${version}` });
      await expect(p.produceSync('tx-a', { value: 'x' })).rejects.toMatchObject({
        code: 'ERR_INVALID_TXN_STATE',
      });
      expect(() => {
        p.produceAsync('tx-a', { value: 'x' });
      }).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TXN_STATE' }));
      await p.beginTransaction();
      await expect(p.beginTransaction()).rejects.toMatchObject({ code: 'ERR_INVALID_TXN_STATE' });
    });

    it('a zombie is fenced with the typed error; none of its records after the fence is visible', async () => {
      const id = `zombie-${version}`;
      const zombie = producer({ transactionalId: id });
      const tx = await zombie.beginTransaction();
      await tx.produce('tx-c', { value: 'zombie-before' });
      // A new instance with the same id: InitProducerId bumps the epoch, aborts the zombie's
      // open transaction.
      const successor = producer({ transactionalId: id });
      await successor.transaction(async (t) => {
        await t.produce('tx-c', { value: 'successor' });
      });
      // The zombie's next record is refused (its epoch is old) or its partition cannot be added
      // to the transaction (v1: AddPartitionsToTxn is fenced).
      await expect(tx.produce('tx-c', { value: 'zombie-after' })).rejects.toBeInstanceOf(EkafError);
      // Its commit is refused: fenced, or abortable because of the refused record (Java:
      // InvalidProducerEpochException), and the abort then finds it fenced.
      const commitError = await tx.commit().then(
        () => null,
        (error: unknown) => error,
      );
      expect(commitError).toMatchObject({
        code: expect.stringMatching(/^(ERR_PRODUCER_FENCED|ERR_TRANSACTION_ABORTABLE)$/) as unknown,
      });
      if ((commitError as EkafError).code === 'ERR_TRANSACTION_ABORTABLE') {
        await expect(tx.abort()).rejects.toBeInstanceOf(ProducerFencedError);
      }
      await expect(zombie.beginTransaction()).rejects.toBeInstanceOf(ProducerFencedError);
      expect(await values('tx-c', 'read_committed')).toEqual(['successor']);
      expect((await values('tx-c', 'read_uncommitted')).sort()).toContain('zombie-before');
    });
  });
}
