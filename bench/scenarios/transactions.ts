// Scenario 9: transactions on Apache Kafka (not the mock cluster): committed records/s of a
// producer running transaction after transaction, each of N records (100 B values, 8 B keys,
// murmur2-partitioned over a fresh 6-partition topic, replication factor 3, min ISR 2, acks all),
// on Apache Kafka 4.4.0, 3 combined KRaft nodes (test/kafka/kafka-cluster.ts; transactions v2,
// its default):
//   ekaf: `await producer.transaction(async (tx) => { await tx.produce(topic, records) })` per
//         transaction, one producer with a transactionalId;
//   Java: kafka-clients 4.4.0 (test/kafka/java/TxnProducer.java): beginTransaction(), send() of
//         each record, commitTransaction(), in one JVM run as Kafka runs its tools (C2, G1).
// The same records (javaTxnKey / javaTxnValue) in both. Each first runs WARM_UP_SHARE as many
// transactions, unmeasured, on the same topic; the time is from the first measured transaction's
// start to the last one's commit. Every run is checked by counting the topic read_committed.
// On a 2-core machine the 100-record case measures the broker more than the client: Java's
// EndTxn takes ~20 ms of a transaction's ~160-250 ms; the rest is its next transaction's first
// produce waiting for the broker to finish the previous commit, retried after retry.backoff.ms
// (5 ms instead of the default 100 took a v2 transaction from ~245 to ~160 ms).
// Started only when asked (`--only 9`): it needs the jars of scripts/kafka-jars.sh, a JDK, and
// the machine's Kafka lock: `flock /tmp/ekaf-kafka.lock npm run bench -- --only 9`.
import { spawn } from 'node:child_process';
import type { KafkaCluster } from '../../test/kafka/kafka-cluster.js';
import { javaTxnKey, javaTxnValue, runJavaTransactions } from '../../test/kafka/java-txn-producer.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import {
  rates,
  THROUGHPUT_METRICS,
  type Case,
  type KafkaScenario,
  type RunContext,
} from '../lib/scenario.js';
import { nowMs } from '../lib/stats.js';
import { peakRss } from './throughput.js';
import { ekafModule } from './clients.js';

const RECORD_SIZE = 100;
const KEY_SIZE = 8;
const PARTITIONS = 6;
/** Warm-up transactions, as a share of the measured ones (at least 1). */
const WARM_UP_SHARE = 0.25;

interface Params {
  bootstrap: string;
  topic: string;
  transactionalId: string;
  transactions: number;
  recordsPerTransaction: number;
  warmupTransactions: number;
}

export const workers = {
  async ekaf(p: Params): Promise<Metrics> {
    // The records of every transaction, built before the clock starts, as the Java side's are
    // cheap to build on the fly: key "k%07d" by record number, value "<label>:<t>:<r>" + '.'.
    const all: { key: Buffer; value: Buffer }[][] = [];
    let n = 0;
    for (let t = 0; t < p.warmupTransactions + p.transactions; t++) {
      const records: { key: Buffer; value: Buffer }[] = [];
      for (let r = 0; r < p.recordsPerTransaction; r++) {
        records.push({
          key: Buffer.from(javaTxnKey(n++)),
          value: Buffer.from(javaTxnValue(p.transactionalId, t, r, RECORD_SIZE)),
        });
      }
      all.push(records);
    }
    const { createProducer } = await ekafModule();
    const producer = createProducer({
      brokers: p.bootstrap,
      clientId: 'ekaf-bench-txn',
      transactionalId: p.transactionalId,
    });
    const run = async (records: { key: Buffer; value: Buffer }[]): Promise<void> => {
      await producer.transaction(async (tx) => {
        await tx.produce(p.topic, records);
      });
    };
    for (const records of all.slice(0, p.warmupTransactions)) await run(records);
    const t0 = nowMs();
    for (const records of all.slice(p.warmupTransactions)) await run(records);
    const ms = nowMs() - t0;
    await producer.close();
    return { ...metrics(p.transactions, p.recordsPerTransaction, ms), peakRssMB: peakRss() };
  },
};

function metrics(transactions: number, recordsPerTransaction: number, ms: number): Metrics {
  const records = transactions * recordsPerTransaction;
  return {
    ...rates(records, records * (KEY_SIZE + RECORD_SIZE), ms),
    txnPerSec: transactions / (ms / 1000),
  };
}

/** Records a read_committed consumer sees in the topic (kcat, librdkafka), counted, not kept. */
export function countCommitted(bootstrap: string, topic: string, timeoutMs = 120_000): Promise<number> {
  const args = ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e'];
  args.push('-X', 'isolation.level=read_committed', '-f', '\\n');
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(lines);
      else reject(new Error(`kcat ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
}

async function checkCommitted(bootstrap: string, topic: string, expected: number): Promise<void> {
  const n = await countCommitted(bootstrap, topic);
  if (n !== expected) throw new Error(`${topic} holds ${n} committed records, expected ${expected}`);
}

function txnCase(id: string, transactions: number, recordsPerTransaction: number): Case<KafkaCluster> {
  const warmupTransactions = Math.max(1, Math.round(transactions * WARM_UP_SHARE));
  const total = (warmupTransactions + transactions) * recordsPerTransaction;
  const fmtN = (x: number): string => x.toLocaleString('en-US');
  return {
    id,
    title: `${fmtN(transactions)} transactions × ${fmtN(recordsPerTransaction)} records of ${RECORD_SIZE} B`,
    contestants: [
      {
        name: 'ekaf',
        run: async (ctx: RunContext<KafkaCluster>) => {
          const topic = await ctx.freshTopic('ekaf', PARTITIONS);
          const params: Params = {
            bootstrap: ctx.cluster.bootstrap,
            topic,
            transactionalId: `bench-ekaf-${id}-${ctx.round}`,
            transactions,
            recordsPerTransaction,
            warmupTransactions,
          };
          const m = await runWorker('transactions', 'ekaf', params);
          await checkCommitted(ctx.cluster.bootstrap, topic, total);
          return m;
        },
      },
      {
        name: 'Java',
        run: async (ctx: RunContext<KafkaCluster>) => {
          const topic = await ctx.freshTopic('java', PARTITIONS);
          const r = await runJavaTransactions(ctx.cluster.bootstrap, {
            version: ctx.cluster.version,
            transactionalId: `bench-java-${id}-${ctx.round}`,
            topics: [topic],
            transactions,
            recordsPerTransaction,
            recordSize: RECORD_SIZE,
            warmupTransactions,
            jvm: 'bench',
          });
          await checkCommitted(ctx.cluster.bootstrap, topic, total);
          return metrics(r.transactions, recordsPerTransaction, r.seconds * 1000);
        },
      },
    ],
    metrics: [...THROUGHPUT_METRICS, { key: 'txnPerSec', label: 'transactions/s', higherIsBetter: true }],
  };
}

export const scenario: KafkaScenario = {
  id: '9',
  name: 'Transactions, committed records/s (Apache Kafka 4.4.0, 3 nodes, RF 3, acks all)',
  apacheKafka: { version: '4.4.0', nodes: 3 },
  cases(quick) {
    return [txnCase('9a', quick ? 20 : 100, 100), txnCase('9b', quick ? 3 : 20, 10_000)];
  },
};
