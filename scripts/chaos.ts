/**
 * The chaos run from the command line: `npm run chaos [-- --seed N] [-- --records N]
 * [-- --rate R] [-- --fault-every-ms M]`. Produces keyed, numbered records through the bundled
 * dev cluster while a seeded schedule of faults breaks it (test/broker/chaos.ts), reads every
 * partition back with kcat and reports: accepted, acknowledged, failed (by error), lost,
 * duplicated, out of order. Exit code 1 unless lost, duplicated and out of order are all 0.
 * The seed is printed first and last: `--seed` replays a run.
 */
import { parseArgs } from 'node:util';
import { runChaos } from '../test/broker/chaos.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    records: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '20000' },
    'fault-every-ms': { type: 'string', default: '400' },
  },
});
const seed = values.seed === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(values.seed);
const records = Number(values.records);
const rate = Number(values.rate);
const faultEveryMs = Number(values['fault-every-ms']);
if (![seed, records, rate, faultEveryMs].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(
    'usage: npm run chaos -- [--seed N] [--records N] [--rate R] [--fault-every-ms M] (positive integers)',
  );
  process.exit(2);
}
console.log(`chaos: seed ${seed}, ${records} records at ${rate}/s, a fault every ~${faultEveryMs} ms`);
const report = await runChaos({
  seed,
  records,
  rate,
  faultEveryMs,
  log: (line) => {
    console.log(line);
  },
});
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
const ok = report.lost === 0 && report.duplicated === 0 && report.outOfOrder === 0;
console.log(ok ? 'chaos PASSED' : 'chaos FAILED');
process.exit(ok ? 0 : 1);
