/**
 * The chaos run from the command line:
 *
 *   npm run chaos -- [--seed N] [--records N] [--rate R] [--fault-every-ms M]
 *     librdkafka's mock cluster (test/broker/chaos.ts): brokers down, leaders moved, injected
 *     errors, late, dropped and mangled answers, behind sequence-checking proxies.
 *   npm run chaos -- --kafka [--seed N] [--records N] [--rate R] [--min-faults F] [--control]
 *     Apache Kafka 4.4, three KRaft nodes (test/kafka/kafka-chaos.ts): leaders SIGKILLed,
 *     brokers hung, controlled shutdowns, two nodes down, leader elections; Kafka checks the
 *     sequence numbers. --control runs without idempotence (duplicates expected).
 *
 * Produces keyed, numbered records while a seeded schedule of faults breaks the cluster, reads
 * every partition back with kcat and reports: accepted, acknowledged, failed (by error), lost,
 * duplicated, out of order. Exit code 1 unless lost, duplicated and out of order are all 0 (with
 * --control: unless lost is 0 and duplicates appeared). The seed is printed first and last.
 */
import { parseArgs } from 'node:util';
import { runChaos } from '../test/broker/chaos.js';
import { startKafkaCluster } from '../test/kafka/kafka-cluster.js';
import { runKafkaChaos } from '../test/kafka/kafka-chaos.js';

const { values } = parseArgs({
  options: {
    kafka: { type: 'boolean', default: false },
    control: { type: 'boolean', default: false },
    seed: { type: 'string' },
    records: { type: 'string', default: '1000000' },
    rate: { type: 'string' },
    'fault-every-ms': { type: 'string', default: '400' },
    'min-faults': { type: 'string', default: '50' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(values.seed);
const records = Number(values.records);
const rate = Number(values.rate ?? (values.kafka ? '4000' : '20000'));
const faultEveryMs = Number(values['fault-every-ms']);
const minFaults = Number(values['min-faults']);
if (![seed, records, rate, faultEveryMs, minFaults].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(
    'usage: npm run chaos -- [--kafka [--control] [--min-faults F]] [--seed N] [--records N] [--rate R] [--fault-every-ms M] (positive integers)',
  );
  process.exit(2);
}
const log = (line: string): void => {
  console.log(line);
};

let ok: boolean;
if (values.kafka) {
  const idempotent = !values.control;
  console.log(
    `chaos on Apache Kafka 4.4: seed ${seed}, ${records} records at ${rate}/s, at least ${minFaults} faults${idempotent ? '' : ', without idempotence (control)'}`,
  );
  const cluster = await startKafkaCluster({ version: '4.4.0', nodes: 3 });
  try {
    const report = await runKafkaChaos({
      cluster,
      topic: 'chaos',
      seed,
      records,
      rate,
      minFaults,
      idempotent,
      log,
    });
    const failed = Object.entries(report.failed);
    console.log(`
chaos summary (Kafka 4.4, seed ${report.seed}, ${report.seconds.toFixed(1)} s, ${report.faults.length} faults: ${Object.entries(
      report.faultsByKind,
    )
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')})
  accepted            ${report.accepted}
  acknowledged        ${report.acknowledged}
  failed              ${failed.length === 0 ? 0 : failed.map(([code, n]) => `${n} ${code}`).join(', ')}
  failed but written  ${report.failedButWritten}
  lost                ${report.lost}
  duplicated          ${report.duplicated}
  out of order        ${report.outOfOrder}
  in Kafka            ${report.inKafka}
replay: npm run chaos -- --kafka${idempotent ? '' : ' --control'} --seed ${report.seed} --records ${records} --rate ${rate} --min-faults ${minFaults}`);
    ok = idempotent
      ? report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0
      : report.lost === 0 && report.duplicated > 0;
  } finally {
    await cluster.kill();
  }
} else {
  console.log(`chaos: seed ${seed}, ${records} records at ${rate}/s, a fault every ~${faultEveryMs} ms`);
  const report = await runChaos({ seed, records, rate, faultEveryMs, log });
  const failed = Object.entries(report.failed);
  console.log(`
chaos summary (seed ${report.seed}, ${report.seconds.toFixed(1)} s, ${report.faults.length} faults)
  accepted      ${report.accepted}
  acknowledged  ${report.acknowledged}
  failed        ${failed.length === 0 ? 0 : failed.map(([code, n]) => `${n} ${code}`).join(', ')}
  lost          ${report.lost}
  duplicated    ${report.duplicated}
  out of order  ${report.outOfOrder}
  in Kafka      ${report.inKafka}
  proxies: ${report.proxies.duplicates} retried batches recognised as written, ${report.proxies.outOfOrder} out-of-order batches refused, ${report.proxies.written} + ${report.proxies.notWritten} unanswered batches found written + not written
replay: npm run chaos -- --seed ${report.seed} --records ${records} --rate ${rate} --fault-every-ms ${faultEveryMs}`);
  ok = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0;
}
console.log(ok ? 'chaos PASSED' : 'chaos FAILED');
process.exit(ok ? 0 : 1);
