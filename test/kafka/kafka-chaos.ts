import { createProducer, type Producer } from '../../src/producer.js';
import { accountChaos, startChaosLoad, type ChaosAccount } from '../support/chaos-load.js';
import { seeded } from '../support/seeded.js';
import type { KafkaCluster } from './kafka-cluster.js';
import { readWithKcat } from './read-back.js';

/**
 * The chaos run on Apache Kafka: keyed records numbered per key are produced at a steady rate
 * into a topic of three replicas (min.insync.replicas=2, acks all) while a seeded schedule
 * breaks a three-node KRaft cluster the ways a production cluster breaks:
 *
 * - `leader-kill`: the leader of a partition is SIGKILLed (no controlled shutdown), then started
 *   again; requests it had appended but not answered are resent to the new leader.
 * - `broker-hang`: a leader is SIGSTOPped for longer than the producer's request timeout, then
 *   resumed; the requests queued in its socket are processed after the producer gave up on
 *   them, so their resends reach a broker that already wrote them.
 * - `controlled-shutdown`: SIGTERM (leadership handed over), then started again.
 * - `two-down`: two of the three nodes SIGKILLed at once: partitions fall below
 *   min.insync.replicas (NOT_ENOUGH_REPLICAS) and the controller quorum is lost; both restart.
 * - `leader-election`: a preferred leader election moves leadership back where it belongs.
 *
 * Each fault is undone, and the cluster back to full in-sync replicas, before the next. Kafka's
 * broker checks the idempotent producer's sequence numbers itself: this run, not an emulation,
 * is the evidence that nothing is written twice. Everything is read back with kcat.
 */
export const KAFKA_FAULT_KINDS = [
  'leader-kill',
  'broker-hang',
  'controlled-shutdown',
  'two-down',
  'leader-election',
] as const;
export type KafkaFaultKind = (typeof KAFKA_FAULT_KINDS)[number];

export interface KafkaChaosOptions {
  /** A three-node cluster; the run creates its own topic on it. */
  cluster: KafkaCluster;
  topic: string;
  seed: number;
  records: number;
  /** Records per second. */
  rate: number;
  /** Faults to inject at least; the run goes on with faults until both counts are reached. */
  minFaults: number;
  /** false for the control run (retries then write records twice). */
  idempotent?: boolean;
  log?: (line: string) => void;
}

export interface KafkaChaosReport extends ChaosAccount {
  seed: number;
  idempotent: boolean;
  seconds: number;
  accepted: number;
  /** Records whose call reported them failed, by error code. */
  failed: Record<string, number>;
  faults: { atMs: number; kind: KafkaFaultKind; what: string }[];
  faultsByKind: Partial<Record<KafkaFaultKind, number>>;
}

const PARTITIONS = 6;
const KEYS = 600;
/** Short, so a hung broker outlasts it quickly; each fault is a few seconds. */
export const REQUEST_TIMEOUT_MS = 2_000;
/** Room for the longest outage (two nodes down, then their catch-up) without giving up. */
const DELIVERY_TIMEOUT_MS = 120_000;

export async function runKafkaChaos(options: KafkaChaosOptions): Promise<KafkaChaosReport> {
  const { cluster, topic } = options;
  const idempotent = options.idempotent ?? true;
  const log = options.log ?? (() => undefined);
  const random = seeded(options.seed);
  const between = (low: number, high: number): number => Math.round(low + random() * (high - low));

  await cluster.createTopics([
    {
      name: topic,
      partitions: PARTITIONS,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' },
    },
  ]);
  let producer: Producer | undefined;
  let stopLoad = (): void => undefined;
  try {
    producer = createProducer({
      brokers: cluster.bootstrap,
      clientId: `ekaf-kafka-chaos-${idempotent ? 'idempotent' : 'control'}`,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
      retryBackoffMs: 100,
      retryBackoffMaxMs: 1000,
      idempotent,
      defaults: { acks: 'all' },
    });
    const started = Date.now();
    const elapsed = (): number => Date.now() - started;
    const load = startChaosLoad(producer, {
      topic,
      records: options.records,
      rate: options.rate,
      keys: KEYS,
    });
    stopLoad = () => {
      load.stop();
    };
    const progress = { loaded: false };
    void load.loaded.then(() => {
      progress.loaded = true;
    });
    const faults: KafkaChaosReport['faults'] = [];
    while (!progress.loaded || faults.length < options.minFaults) {
      await sleep(between(200, 800));
      const kind = scheduled(faults.length, random);
      const what = await inject(cluster, topic, kind, between);
      faults.push({ atMs: elapsed(), kind, what });
      log(`${String(elapsed()).padStart(7)} ms  #${faults.length} ${what}  (${load.accepted()} accepted)`);
    }
    await load.loaded;
    log(`all ${options.records} records accepted after ${elapsed()} ms; flushing`);
    await producer.flush();
    await producer.close({ timeoutMs: 60_000 });
    const seconds = elapsed() / 1000;

    const consumed = await readWithKcat(cluster.bootstrap, topic, { timeoutMs: 300_000 });
    const faultsByKind: KafkaChaosReport['faultsByKind'] = {};
    for (const { kind } of faults) faultsByKind[kind] = (faultsByKind[kind] ?? 0) + 1;
    return {
      seed: options.seed,
      idempotent,
      seconds,
      accepted: load.accepted(),
      ...accountChaos(consumed, load, KEYS),
      failed: load.failed,
      faults,
      faultsByKind,
    };
  } finally {
    stopLoad();
    await producer?.close({ timeoutMs: 1000 });
  }
}

/**
 * The kind of fault number `n`: the first five are one of each kind, so that every run has
 * them all; then drawn by the seed.
 */
export function scheduled(n: number, random: () => number): KafkaFaultKind {
  if (n < KAFKA_FAULT_KINDS.length) return KAFKA_FAULT_KINDS[n] as KafkaFaultKind;
  return KAFKA_FAULT_KINDS[Math.floor(random() * KAFKA_FAULT_KINDS.length)] as KafkaFaultKind;
}

/**
 * Injects one fault and undoes it; resolves once every partition of `topic` is fully replicated
 * again. `topic` picks whose leaders the fault hits.
 */
export async function inject(
  cluster: KafkaCluster,
  topic: string,
  kind: KafkaFaultKind,
  between: (low: number, high: number) => number,
  partitions = PARTITIONS,
): Promise<string> {
  const partition = between(0, partitions - 1);
  const leader = async (): Promise<number> => {
    const id = await cluster.leaderOf(topic, partition);
    return id === -1 ? 1 : id;
  };
  let what: string;
  switch (kind) {
    case 'leader-kill': {
      const node = await leader();
      const ms = between(200, 1500);
      await cluster.kill(node);
      await sleep(ms);
      await cluster.restart(node);
      what = `leader of ${topic}/${partition} (node ${node}) SIGKILLed, restarted after ${ms} ms`;
      break;
    }
    case 'broker-hang': {
      const node = await leader();
      const ms = REQUEST_TIMEOUT_MS + between(300, 2000);
      cluster.pause(node);
      await sleep(ms);
      cluster.resume(node);
      what = `node ${node} (leader of ${topic}/${partition}) SIGSTOPped for ${ms} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`;
      break;
    }
    case 'controlled-shutdown': {
      const node = await leader();
      await cluster.stop(node);
      await cluster.restart(node);
      what = `node ${node} (leader of ${topic}/${partition}) controlled shutdown (SIGTERM), restarted`;
      break;
    }
    case 'two-down': {
      const spared = between(1, 3);
      const down = [1, 2, 3].filter((id) => id !== spared);
      const ms = between(500, 2500);
      await Promise.all(down.map((id) => cluster.kill(id)));
      await sleep(ms);
      await Promise.all(down.map((id) => cluster.restart(id)));
      what = `nodes ${down.join(' and ')} SIGKILLed together for ${ms} ms (below min.insync.replicas, quorum lost)`;
      break;
    }
    case 'leader-election': {
      try {
        await cluster.electPreferredLeaders(topic);
        what = `preferred leader election on ${topic}`;
      } catch (error) {
        // A preferred replica still catching up refuses leadership: Kafka's own answer, not a
        // failure of the run.
        if (!/PreferredLeaderNotAvailable|could not be elected/.test(String(error))) throw error;
        what = `preferred leader election on ${topic} (refused for a replica not in sync yet)`;
      }
      break;
    }
  }
  await cluster.waitForLeaders([topic], { fullIsr: true, timeoutMs: 120_000 });
  return what;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
