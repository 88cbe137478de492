import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { runKafkaChaos, type KafkaChaosReport } from './kafka-chaos.js';

/**
 * The chaos run on Apache Kafka 4.4 (three KRaft nodes, RF 3, min.insync.replicas 2, acks all),
 * at a fixed seed: 1 000 000 keyed records through at least 50 faults (leaders SIGKILLed,
 * brokers hung past the request timeout, controlled shutdowns, two nodes down at once, preferred
 * leader elections). Kafka's broker checks the sequence numbers: nothing acknowledged may be
 * lost, nothing written twice, nothing reordered within a key, and every failure is named. The
 * same schedule without idempotence is the control: it must write duplicates, so that the check
 * can fail. `npm run chaos -- --kafka` runs any seed.
 */
const SEED = 20261202;
const RECORDS = 1_000_000;
const MIN_FAULTS = 50;
/** Records per second offered; the faults (~8 s each on two cores) set the run's length. */
const RATE = 5_000;

function summary(report: KafkaChaosReport): string {
  return JSON.stringify({ ...report, faults: report.faults.length }, null, 1);
}

describe('chaos on Apache Kafka 4.4 (3 nodes, RF 3, min.insync.replicas 2)', () => {
  let cluster: KafkaCluster;
  beforeAll(async () => {
    cluster = await startKafkaCluster({ version: '4.4.0', nodes: 3 });
  }, 180_000);
  afterAll(async () => {
    await cluster.kill();
  });

  it(`idempotent: loses, duplicates and reorders nothing (seed ${SEED}, ${RECORDS} records, >= ${MIN_FAULTS} faults)`, async () => {
    const lines: string[] = [];
    const report = await runKafkaChaos({
      cluster,
      topic: 'chaos-idempotent',
      seed: SEED,
      records: RECORDS,
      rate: RATE,
      minFaults: MIN_FAULTS,
      log: (line) => lines.push(line),
    });
    console.log(`chaos on Kafka, idempotent (seed ${SEED}):\n${summary(report)}`);
    expect(report.faults.length, lines.join('\n')).toBeGreaterThanOrEqual(MIN_FAULTS);
    expect(Object.keys(report.faultsByKind).length).toBe(5);
    expect(report.accepted).toBe(RECORDS);
    expect(report.lost, summary(report)).toBe(0);
    expect(report.duplicated, summary(report)).toBe(0);
    expect(report.outOfOrder, summary(report)).toBe(0);
    // Every record is accounted for: acknowledged, or failed with a named error.
    const failed = Object.values(report.failed).reduce((a, b) => a + b, 0);
    expect(report.acknowledged + failed, summary(report)).toBe(RECORDS);
    expect(report.failed.unknown, summary(report)).toBeUndefined();
  }, 1_200_000);

  it('control: the same schedule without idempotence writes duplicates (the check above can fail)', async () => {
    // The whole schedule again (about seven minutes): on 2026-12-02 it wrote 12 499 duplicates
    // and put 10 395 records out of order.
    const report = await runKafkaChaos({
      cluster,
      topic: 'chaos-control',
      seed: SEED,
      records: RECORDS,
      rate: RATE,
      minFaults: MIN_FAULTS,
      idempotent: false,
    });
    console.log(`chaos on Kafka, control without idempotence (seed ${SEED}):\n${summary(report)}`);
    expect(report.lost, summary(report)).toBe(0);
    expect(report.duplicated, summary(report)).toBeGreaterThan(0);
  }, 1_200_000);
});
