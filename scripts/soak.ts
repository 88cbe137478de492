/**
 * Long-run stability: `npm run soak -- --minutes N [--rate R]`.
 *
 * A steady load (R records/s, default 2 000, in produceAsync calls of 20 every 10 ms) into a
 * 6-partition topic of the bundled dev cluster (3 brokers), while one broker goes down for 5 s
 * at second 30 of every minute, in turn. Every 10 s it samples the heap after a full GC, RSS,
 * event-loop delay, the number of actors and the records buffered. It fails (exit 1) when:
 *
 * - the heap at the end is more than 10 % above the heap at the end of the first minute;
 * - the actors just before a bounce are not as many as before the first one (a leak per bounce);
 * - a record accepted was neither acknowledged nor failed, or Kafka holds fewer records than
 *   were acknowledged.
 *
 * Runs under `node --expose-gc` (npm run soak sets it) so that heap samples are taken after a
 * full collection: what is still referenced, not garbage waiting to be collected.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startDevCluster } from '../src/dev-cluster.js';
import { createProducer } from '../src/index.js';
import { countRecords } from '../test/broker/kcat.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    rate: { type: 'string', default: '2000' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
if (!(minutes >= 1) || !(rate > 0)) {
  console.error('usage: npm run soak -- --minutes N (N >= 1) [--rate records/s]');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('soak: run under node --expose-gc (npm run soak does)');
  process.exit(2);
}

const TOPIC = 'soak';
const TICK_MS = 10;
const PER_TICK = Math.max(1, Math.round((rate * TICK_MS) / 1000));
const SAMPLE_MS = 10_000;
const BOUNCE_AT_S = 30;
const DOWN_MS = 5_000;
const HEAP_GROWTH_LIMIT = 1.1;

interface Sample {
  t: number;
  heapMB: number;
  rssMB: number;
  loopP99Ms: number;
  loopMaxMs: number;
  actors: number;
  buffered: number;
  accepted: number;
  acked: number;
}

const cluster = await startDevCluster({ brokers: 3 });
await cluster.createTopic(TOPIC, 6);
const producer = createProducer({ brokers: cluster.bootstrap, clientId: 'ekaf-soak' });
// The histogram's values include its sampling interval: it is subtracted from what is reported.
const LOOP_RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
loop.enable();

const counts = { accepted: 0, acked: 0, failed: 0, refused: 0 };
const failures = new Map<string, number>();
let sequence = 0;
const produceTick = (): void => {
  const records = Array.from({ length: PER_TICK }, () => {
    const n = sequence++;
    return { key: `k${n % 1000}`, value: `{"seq":${n},"pad":"${'x'.repeat(80)}"}` };
  });
  try {
    producer.produceAsync(TOPIC, records, (error) => {
      if (error === null) counts.acked += records.length;
      else {
        // Counted per call: a failed call's records are counted failed (some may be delivered).
        counts.failed += records.length;
        failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
      }
    });
    counts.accepted += records.length;
  } catch (error) {
    counts.refused += records.length; // buffer full during a bounce: refused, not accepted
    failures.set(`refused ${(error as { code?: string }).code ?? 'error'}`, 1);
  }
};

const started = Date.now();
const elapsed = (): number => (Date.now() - started) / 1000;
const samples: Sample[] = [];
const actorsBeforeBounce: number[] = [];
const sample = (): Sample => {
  gc();
  const memory = process.memoryUsage();
  const s: Sample = {
    t: Math.round(elapsed()),
    heapMB: memory.heapUsed / 2 ** 20,
    rssMB: memory.rss / 2 ** 20,
    loopP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    loopMaxMs: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    actors: producer.inspect().length,
    buffered: producer.metrics().bufferedRecords,
    accepted: counts.accepted,
    acked: counts.acked,
  };
  loop.reset();
  samples.push(s);
  console.log(
    `t=${String(s.t).padStart(5)} s  heap ${s.heapMB.toFixed(1)} MB  rss ${s.rssMB.toFixed(0)} MB  ` +
      `loop p99 ${s.loopP99Ms.toFixed(1)} ms max ${s.loopMaxMs.toFixed(0)} ms  actors ${s.actors}  ` +
      `buffered ${s.buffered}  accepted ${s.accepted}  acked ${s.acked}`,
  );
  return s;
};

console.log(
  `soak: ${minutes} min, ${rate} records/s into ${TOPIC} (6 partitions, 3 brokers), ` +
    `a broker down ${DOWN_MS / 1000} s at second ${BOUNCE_AT_S} of every minute`,
);
const ticker = setInterval(produceTick, TICK_MS);
const sampler = setInterval(sample, SAMPLE_MS);
const problems: string[] = [];
try {
  for (let minute = 0; minute < minutes; minute++) {
    await until(minute * 60 + BOUNCE_AT_S);
    actorsBeforeBounce.push(producer.inspect().length);
    const broker = 1 + (minute % 3);
    console.log(`t=${Math.round(elapsed())} s  broker ${broker} down`);
    await cluster.brokerDown(broker);
    await sleep(DOWN_MS);
    await cluster.brokerUp(broker);
    console.log(`t=${Math.round(elapsed())} s  broker ${broker} up`);
  }
  await until(minutes * 60);
} finally {
  clearInterval(ticker);
  clearInterval(sampler);
}
const last = sample();
await producer.flush();
await producer.close();
const inKafka = await countRecords(cluster.bootstrap, TOPIC);
await cluster.stop();

// Verdicts.
const oneMinute = samples.find((s) => s.t >= 60) ?? last;
const growth = last.heapMB / oneMinute.heapMB;
if (minutes >= 2 && growth > HEAP_GROWTH_LIMIT) {
  problems.push(
    `heap grew ${((growth - 1) * 100).toFixed(1)} % after the first minute ` +
      `(${oneMinute.heapMB.toFixed(1)} -> ${last.heapMB.toFixed(1)} MB; limit ${(HEAP_GROWTH_LIMIT - 1) * 100} %)`,
  );
}
const baseline = actorsBeforeBounce[0];
actorsBeforeBounce.forEach((n, minute) => {
  if (n !== baseline)
    problems.push(`actors before bounce ${minute + 1}: ${n}, before the first: ${baseline}`);
});
if (counts.acked + counts.failed !== counts.accepted) {
  problems.push(
    `accepted ${counts.accepted}, settled ${counts.acked + counts.failed}: records unaccounted for`,
  );
}
if (inKafka < counts.acked)
  problems.push(`Kafka holds ${inKafka} records, ${counts.acked} were acknowledged`);

console.log(`
soak summary (${minutes} min at ${rate} records/s)
  records: accepted ${counts.accepted}, acknowledged ${counts.acked}, failed ${counts.failed}, refused (buffer full) ${counts.refused}; in Kafka ${inKafka} (duplicates from retries allowed: at least once)
  errors: ${failures.size === 0 ? 'none' : [...failures].map(([code, n]) => `${code} x${n}`).join(', ')}
  heap after GC: ${oneMinute.heapMB.toFixed(1)} MB at ${oneMinute.t} s, ${last.heapMB.toFixed(1)} MB at the end (${((growth - 1) * 100).toFixed(1)} %)
  rss: max ${Math.max(...samples.map((s) => s.rssMB)).toFixed(0)} MB; event-loop delay: worst p99 ${Math.max(...samples.map((s) => s.loopP99Ms)).toFixed(1)} ms, max ${Math.max(...samples.map((s) => s.loopMaxMs)).toFixed(0)} ms
  actors before each bounce: ${actorsBeforeBounce.join(', ')}
soak ${problems.length === 0 ? 'PASSED' : `FAILED:\n  ${problems.join('\n  ')}`}`);
process.exit(problems.length === 0 ? 0 : 1);

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function until(second: number): Promise<void> {
  return sleep(Math.max(0, started + second * 1000 - Date.now()));
}
