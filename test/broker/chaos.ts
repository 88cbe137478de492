import { startDevCluster, type DevCluster } from '../../src/dev-cluster.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { ApiKey } from '../../src/protocol/api.js';
import { accountChaos, startChaosLoad, type ChaosAccount } from '../support/chaos-load.js';
import { seeded } from '../support/seeded.js';
import { readTopic } from './kcat.js';
import { startSequenceProxies, type SequenceProxies } from './sequence-proxy.js';

/**
 * The chaos run: keyed records with a sequence number per key are produced at a steady rate
 * while a seeded random schedule breaks the cluster: brokers down and up (one, then all),
 * partition leaders moved, retriable errors injected on Produce and Metadata, round trips made
 * longer than the request timeout, answers dropped with their connection after the broker wrote.
 * Then every partition is read back with kcat, and each record accounted for.
 *
 * The cluster is librdkafka's mock behind test/broker/sequence-proxy.ts (the mock does not check
 * sequence numbers for a producer without a transactional id; the proxies add that check), so
 * that a retried batch the broker already wrote is recognised as Kafka would.
 *
 * `npm run chaos` (scripts/chaos.ts) runs it from the command line; test/integration/chaos.test.ts
 * runs a fixed seed in CI.
 */
export interface ChaosOptions {
  seed: number;
  /** Records to produce. */
  records: number;
  /** Produce rate, records per second. */
  rate: number;
  /** Mean time between two faults (each is drawn between half and 1.5 times this). */
  faultEveryMs: number;
  /** Progress lines; quiet when absent. */
  log?: (line: string) => void;
  /** false for a control run without idempotence (retries then do duplicate records). */
  idempotent?: boolean;
  /** The kinds of fault to draw from; all of them by default. */
  faults?: readonly FaultKind[];
}

export const FAULT_KINDS = [
  'broker-down',
  'all-down',
  'leader-move',
  'produce-errors',
  'metadata-errors',
  'rtt-spike',
  'drop-answers',
  'corrupt-answers',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosReport extends ChaosAccount {
  seed: number;
  seconds: number;
  accepted: number;
  acknowledged: number;
  /** Records whose call reported them failed, by error code. */
  failed: Record<string, number>;
  faults: { atMs: number; fault: string }[];
  /** What the sequence proxies recognised: retried batches already written, and the like. */
  proxies: { duplicates: number; outOfOrder: number; written: number; notWritten: number };
}

const TOPIC = 'chaos';
const PARTITIONS = 6;
const BROKERS = 3;
const KEYS = 600;
const REQUEST_TIMEOUT_MS = 1500;

const RETRIABLE_PRODUCE_ERRORS = [
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  19, // NOT_ENOUGH_REPLICAS
  5, // LEADER_NOT_AVAILABLE
];
const RETRIABLE_METADATA_ERRORS = [
  5, // LEADER_NOT_AVAILABLE
  7, // REQUEST_TIMED_OUT
];

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const random = seeded(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (low: number, high: number): number => Math.round(low + random() * (high - low));

  const cluster = await startDevCluster({ brokers: BROKERS });
  let proxies: SequenceProxies | undefined;
  let producer: Producer | undefined;
  try {
    await cluster.createTopic(TOPIC, PARTITIONS, BROKERS);
    proxies = await startSequenceProxies(cluster.brokers);
    for (const [id, port] of proxies.ports) await cluster.command(`set_host_port ${id} 127.0.0.1 ${port}`);
    producer = createProducer({
      brokers: proxies.bootstrap,
      clientId: 'ekaf-chaos',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      retryBackoffMs: 50,
      retryBackoffMaxMs: 500,
      idempotent: options.idempotent ?? true,
    });
    const started = Date.now();
    const faults: ChaosReport['faults'] = [];
    const load = startChaosLoad(producer, {
      topic: TOPIC,
      records: options.records,
      rate: options.rate,
      keys: KEYS,
    });
    const { loaded } = load;

    // The faults, one after another until the load is done; each undone before the next.
    const progress = { done: false };
    const loadDone = (): boolean => progress.done;
    void loaded.then(() => {
      progress.done = true;
    });
    let faultNumber = 0;
    while (!loadDone()) {
      await sleep(between(options.faultEveryMs / 2, (options.faultEveryMs * 3) / 2));
      if (loadDone()) break;
      const fault = await injectFault(
        cluster,
        proxies,
        options.faults ?? FAULT_KINDS,
        faultNumber++,
        random,
        pick,
        between,
      );
      faults.push({ atMs: Date.now() - started, fault });
      log(`${String(Date.now() - started).padStart(7)} ms  ${fault}`);
    }
    await loaded;
    log(`all ${options.records} records accepted after ${Date.now() - started} ms; flushing`);
    await producer.flush();
    await producer.close({ timeoutMs: 60_000 });
    const seconds = (Date.now() - started) / 1000;

    // Read back and account for every record.
    const consumed = await readTopic(cluster.bootstrap, TOPIC, { timeoutMs: 120_000 });
    const account = accountChaos(consumed, load, KEYS);
    const { duplicates, outOfOrder: proxyOutOfOrder, resolved } = proxies;
    return {
      seed: options.seed,
      seconds,
      accepted: load.accepted(),
      ...account,
      failed: load.failed,
      faults,
      proxies: { duplicates, outOfOrder: proxyOutOfOrder, ...resolved },
    };
  } finally {
    await producer?.close({ timeoutMs: 1000 });
    await proxies?.close();
    await cluster.stop();
  }
}

/** One fault, chosen by the seed; returns what it did. Faults that last are undone here. */
async function injectFault(
  cluster: DevCluster,
  proxies: SequenceProxies,
  kinds: readonly FaultKind[],
  n: number,
  random: () => number,
  pick: <T>(items: readonly T[]) => T,
  between: (low: number, high: number) => number,
): Promise<string> {
  const brokers = Array.from({ length: BROKERS }, (_, i) => i + 1);
  // The first faults take one broker down, then all of them: every full run has both.
  const first: FaultKind | undefined = n === 0 ? 'broker-down' : n === 1 ? 'all-down' : undefined;
  const kind = first !== undefined && kinds.includes(first) ? first : pick(kinds);
  switch (kind) {
    case 'broker-down': {
      const broker = pick(brokers);
      const ms = between(300, 1500);
      await cluster.brokerDown(broker);
      await sleep(ms);
      await cluster.brokerUp(broker);
      return `broker ${broker} down for ${ms} ms`;
    }
    case 'all-down': {
      const ms = between(300, 1200);
      await cluster.brokerDown(-1);
      await sleep(ms);
      await cluster.brokerUp(-1);
      return `all brokers down for ${ms} ms`;
    }
    case 'leader-move': {
      const partition = Math.floor(random() * PARTITIONS);
      const broker = pick(brokers);
      await cluster.setLeader(TOPIC, partition, broker);
      return `leader of partition ${partition} moved to broker ${broker}`;
    }
    case 'produce-errors': {
      const codes = Array.from({ length: between(1, 3) }, () => pick(RETRIABLE_PRODUCE_ERRORS));
      await cluster.pushRequestErrors(ApiKey.Produce, codes);
      return `Produce errors ${codes.join(', ')}`;
    }
    case 'metadata-errors': {
      const codes = Array.from({ length: between(1, 2) }, () => pick(RETRIABLE_METADATA_ERRORS));
      await cluster.pushRequestErrors(ApiKey.Metadata, codes);
      return `Metadata errors ${codes.join(', ')}`;
    }
    case 'rtt-spike': {
      const broker = pick(brokers);
      const ms = between(300, 1000);
      await cluster.setRtt(broker, REQUEST_TIMEOUT_MS + 500);
      await sleep(ms);
      await cluster.setRtt(broker, 0);
      return `broker ${broker} answers ${REQUEST_TIMEOUT_MS + 500} ms late for ${ms} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`;
    }
    case 'drop-answers': {
      const count = between(1, 3);
      proxies.dropAnswers(count);
      return `next ${count} Produce answers dropped with their connection`;
    }
    case 'corrupt-answers': {
      const count = between(1, 3);
      proxies.corruptAnswers(count);
      return `next ${count} Produce answers mangled (truncated, impossible size, wrong correlation id)`;
    }
  }
  return kind satisfies never;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
