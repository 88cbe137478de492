import { createProducer, type Producer } from '../../src/producer.js';
import { EkafError } from '../../src/errors.js';
import { seeded } from '../support/seeded.js';
import { inject, REQUEST_TIMEOUT_MS, scheduled, sleep, type KafkaFaultKind } from './kafka-chaos.js';
import type { KafkaCluster } from './kafka-cluster.js';
import { readWithKcat, type IsolationLevel } from './read-back.js';

/**
 * The transactional chaos run on Apache Kafka: transactions of 1 to 1 000 records, each spread
 * over three topics, committed one after another by one transactional producer while the
 * schedule of test/kafka/kafka-chaos.ts (leaders SIGKILLed, brokers hung past the request
 * timeout, controlled shutdowns, two nodes down at once, preferred elections) and SIGKILLs of the
 * transaction coordinator break the cluster. Every record's value names its transaction, its
 * index and the transaction's size (`<txn>:<i>:<size>`), so the read_committed view can be
 * checked transaction by transaction:
 *
 * - a committed transaction is visible whole, each record once (0 lost, 0 duplicated);
 * - an aborted one (its commit refused, then aborted) is not visible at all;
 * - one whose outcome is unknown (the commit failed with a fence, a fatal error or a timeout)
 *   is visible whole or not at all;
 * - nothing else is visible.
 */
export interface TxnChaosOptions {
  cluster: KafkaCluster;
  topics: readonly string[];
  seed: number;
  /** Run at least this many transactions… */
  minTransactions: number;
  /** …and at least this many faults. */
  minFaults: number;
  log?: (line: string) => void;
}

export type TxnOutcome = 'committed' | 'aborted' | 'unknown';

export interface TxnChaosReport {
  seed: number;
  seconds: number;
  transactions: number;
  records: number;
  outcomes: Record<TxnOutcome, number>;
  /** Records of committed transactions missing from the read_committed view. */
  lost: number;
  /** Records seen more than once read_committed. */
  duplicated: number;
  /** Transactions visible in part (some of their records, not all). */
  partial: number;
  /** Records of aborted transactions visible read_committed. */
  abortedVisible: number;
  /** Transactions of unknown outcome visible whole (the others were not visible at all). */
  unknownVisible: number;
  /** Records visible read_uncommitted but not read_committed (written, then aborted). */
  writtenNotCommitted: number;
  /** Failures by error code (the commit's or the abort's). */
  errors: Record<string, number>;
  /** Producers made: one more after each fence or fatal error. */
  producers: number;
  faults: { atMs: number; kind: string; what: string }[];
}

const KEYS = 50;

export async function runTxnChaos(options: TxnChaosOptions): Promise<TxnChaosReport> {
  const { cluster, topics } = options;
  const log = options.log ?? (() => undefined);
  const random = seeded(options.seed);
  const between = (low: number, high: number): number => Math.round(low + random() * (high - low));
  const transactionalId = `txn-chaos-${options.seed}`;
  let producers = 0;
  const makeProducer = (): Producer => {
    producers++;
    return createProducer({
      brokers: cluster.bootstrap,
      transactionalId,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      deliveryTimeoutMs: 120_000,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1_000,
      transactionCoordinatorTimeoutMs: 120_000,
    });
  };
  const sizes: number[] = [0]; // by transaction number, from 1
  const outcomes = new Map<number, TxnOutcome>();
  const errors: Record<string, number> = {};
  const faults: TxnChaosReport['faults'] = [];
  const started = Date.now();
  const elapsed = (): number => Date.now() - started;
  // Changed by the other loop (an object: TypeScript narrows a plain `let` across await).
  const run = { stopped: false, loadDone: false };

  // The transactions, one after another.
  const load = (async () => {
    let producer = makeProducer();
    try {
      for (let n = 1; !run.stopped || n <= options.minTransactions; n++) {
        const size = drawSize(random);
        sizes[n] = size;
        const byTopic = new Map<string, { key: string; value: string }[]>();
        for (let i = 0; i < size; i++) {
          const topic = topics[Math.floor(random() * topics.length)] as string;
          const list = byTopic.get(topic) ?? [];
          list.push({ key: `k${Math.floor(random() * KEYS)}`, value: `${n}:${i}:${size}` });
          byTopic.set(topic, list);
        }
        // One in ten is aborted on purpose once its records are written: the read_committed view
        // must not show them, and the read_uncommitted one shows they were there.
        const abortOnPurpose = random() < 0.1;
        try {
          await producer.transaction(async (tx) => {
            await Promise.all([...byTopic].map(([topic, records]) => tx.produce(topic, records)));
            if (abortOnPurpose) throw new AbortOnPurpose();
          });
          outcomes.set(n, 'committed');
        } catch (error) {
          if (error instanceof AbortOnPurpose) {
            outcomes.set(n, await stateAfterAbort(producer));
            continue;
          }
          const code = error instanceof EkafError ? error.code : 'unknown';
          errors[code] = (errors[code] ?? 0) + 1;
          // transaction() aborted after an abortable failure: a failed record or a refused
          // commit. Anything else may have committed or not.
          if (
            code === 'ERR_TRANSACTION_ABORTABLE' ||
            (error instanceof EkafError && !isCommitOutcome(error))
          ) {
            outcomes.set(n, await stateAfterAbort(producer));
          } else {
            outcomes.set(n, 'unknown');
          }
          if (!usable(producer)) {
            await producer.close({ timeoutMs: 1_000 }).catch(() => undefined);
            producer = makeProducer();
          }
        }
      }
    } finally {
      await producer.close({ timeoutMs: 30_000 }).catch(() => undefined);
    }
  })();

  // The faults, meanwhile, until both counts are reached.
  void load.finally(() => {
    run.loadDone = true;
  });
  while (faults.length < options.minFaults) {
    await sleep(between(200, 800));
    const n = faults.length;
    let what: string;
    let kind: string;
    // Every sixth fault SIGKILLs the transaction coordinator (what the schedule of the
    // idempotent run never aims at).
    if (n % 6 === 5) {
      kind = 'coordinator-kill';
      const node = await coordinatorNode(cluster, transactionalId);
      const ms = between(200, 1500);
      await cluster.kill(node);
      await sleep(ms);
      await cluster.restart(node);
      what = `transaction coordinator (node ${node}) SIGKILLed, restarted after ${ms} ms`;
    } else {
      const faultKind: KafkaFaultKind = scheduled(n - Math.floor(n / 6), random);
      kind = faultKind;
      const topic = topics[between(0, topics.length - 1)] as string;
      what = await inject(cluster, topic, faultKind, between, 3);
    }
    await cluster.waitForLeaders([...topics], { fullIsr: true, timeoutMs: 120_000 });
    faults.push({ atMs: elapsed(), kind, what });
    log(`${String(elapsed()).padStart(7)} ms  #${faults.length} ${what}  (${outcomes.size} transactions)`);
  }
  run.stopped = true;
  if (!run.loadDone) log(`faults done after ${elapsed()} ms; finishing the transactions`);
  await load;
  const seconds = elapsed() / 1000;

  // The check.
  const seen = async (isolation: IsolationLevel) => {
    const counts = new Map<string, number>();
    for (const topic of topics) {
      for (const record of await readWithKcat(cluster.bootstrap, topic, {
        isolationLevel: isolation,
        timeoutMs: 300_000,
      })) {
        const value = record.value?.toString() ?? '';
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    return counts;
  };
  const committedView = await seen('read_committed');
  const uncommittedView = await seen('read_uncommitted');
  const visiblePerTxn = new Map<number, number>();
  let duplicated = 0;
  for (const [value, count] of committedView) {
    const n = Number(value.split(':')[0]);
    visiblePerTxn.set(n, (visiblePerTxn.get(n) ?? 0) + 1);
    if (count > 1) duplicated += count - 1;
  }
  let lost = 0;
  let partial = 0;
  let abortedVisible = 0;
  let unknownVisible = 0;
  const counted: Record<TxnOutcome, number> = { committed: 0, aborted: 0, unknown: 0 };
  for (const [n, outcome] of outcomes) {
    counted[outcome]++;
    const size = sizes[n] as number;
    const visible = visiblePerTxn.get(n) ?? 0;
    if (visible !== 0 && visible !== size) partial++;
    if (outcome === 'committed') lost += size - visible;
    if (outcome === 'aborted') abortedVisible += visible;
    if (outcome === 'unknown' && visible === size) unknownVisible++;
  }
  // Anything visible that no transaction of the run produced counts as partial too.
  for (const n of visiblePerTxn.keys()) if (!outcomes.has(n)) partial++;
  let writtenNotCommitted = 0;
  for (const value of uncommittedView.keys()) if (!committedView.has(value)) writtenNotCommitted++;
  return {
    seed: options.seed,
    seconds,
    transactions: outcomes.size,
    records: sizes.reduce((a, b) => a + b, 0),
    outcomes: counted,
    lost,
    duplicated,
    partial,
    abortedVisible,
    unknownVisible,
    writtenNotCommitted,
    errors,
    producers,
    faults,
  };
}

/** What the load throws inside a transaction it aborts on purpose. */
class AbortOnPurpose extends Error {}

/** 1 to 1 000 records: mostly small transactions, some large. */
function drawSize(random: () => number): number {
  const r = random();
  if (r < 0.5) return 1 + Math.floor(random() * 20);
  if (r < 0.8) return 20 + Math.floor(random() * 180);
  return 200 + Math.floor(random() * 801);
}

/** Errors that say the commit did not happen (transaction() aborted after them). */
function isCommitOutcome(error: EkafError): boolean {
  return [
    'ERR_PRODUCER_FENCED',
    'ERR_TRANSACTION_FATAL',
    'ERR_TRANSACTION_TIMEOUT',
    'ERR_INVALID_TXN_STATE',
  ].includes(error.code);
}

/** After transaction() gave up: aborted when its abort went through (the producer is ready). */
async function stateAfterAbort(producer: Producer): Promise<TxnOutcome> {
  await Promise.resolve();
  const state = producer.inspect().find((a) => a.name === 'transaction')?.state;
  return state === 'ready' ? 'aborted' : 'unknown';
}

/** A producer fenced or broken is replaced. */
function usable(producer: Producer): boolean {
  const state = producer.inspect().find((a) => a.name === 'transaction')?.state;
  return state === 'ready' || state === 'uninitialized';
}

async function coordinatorNode(cluster: KafkaCluster, transactionalId: string): Promise<number> {
  let answer: string;
  try {
    answer = await describeTransaction(cluster, transactionalId);
  } catch {
    return 1; // not known yet (no transaction began): any node
  }
  // The first column of the answer's row is the coordinator's id.
  const row = answer.split('\n').find((line) => /^\s*\d+\s/.test(line));
  const id = Number(row?.trim().split(/\s+/)[0]);
  return Number.isInteger(id) && id >= 1 && id <= 3 ? id : 1;
}

/** `kafka-transactions describe` of one transactional id: its coordinator, epoch and state. */
export async function describeTransaction(cluster: KafkaCluster, transactionalId: string): Promise<string> {
  const result = await cluster.runTool('org.apache.kafka.tools.TransactionsCommand', [
    '--bootstrap-server',
    cluster.bootstrap,
    'describe',
    '--transactional-id',
    transactionalId,
  ]);
  return result.stdout.toString();
}
