// What bounds ekaf on Apache Kafka (scenario 10's saturated case): `flock /tmp/ekaf-kafka.lock
// flock /tmp/ekaf-bench.lock npx tsx bench/profile-kafka.ts [--records N] [--clients a,b] [--top N]
// [--rate R]` (--rate: paced at R records/s as scenarios 11 and 12, instead of saturated).
// Starts Kafka 4.4.0 (3 KRaft nodes), warms the brokers up as scenario 10 does, measures the
// brokers' idle CPU, then runs each client once on a fresh 6-partition topic (RF 3, min ISR 2),
// saturated, by scenario 10's rules (bench/scenarios/kafka-producers.ts). Per client it prints
// the wall time of the process, the cores the client and the brokers used meanwhile (CPU seconds
// / wall seconds: 2.0 is the whole machine), CPU per million records, and how the records were
// batched as the brokers stored them (DumpLogSegments). ekaf's worker runs under --cpu-prof; its
// top self-time functions are printed (the .cpuprofile is in /tmp/ekaf-bench/profile-kafka/).
// Clients: ekaf, ekaf-1mb (batchBytes 1 MB), java, librdkafka.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startKafkaCluster } from '../test/kafka/kafka-cluster.js';
import { totalCpuSeconds } from './lib/cpu.js';
import { profileIn, topSelfTime } from './lib/cpu-profile.js';
import { DATA_DIR, keyedFile } from './lib/data.js';
import { runJavaProducer } from './lib/java-bench.js';
import { logBatches } from './lib/log-batches.js';
import { runWorker } from './lib/proc.js';
import type { EkafVariant, ProducerRun, ProducerRunParams } from './lib/producer-run.js';
import { runRdkafkaProducer } from './lib/rdkafka-bench.js';
import { nowMs } from './lib/stats.js';
import { markdownTable } from './lib/table.js';
import { PARTITIONS, warmUpBrokers } from './scenarios/kafka-producers.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    clients: { type: 'string', default: 'ekaf,ekaf-1mb,java,librdkafka' },
    top: { type: 'string', default: '15' },
    rate: { type: 'string', default: '0' },
  },
});
const records = Number(values.records);
const rate = Number(values.rate);
const clients = values.clients.split(',');
const profileDir = join(DATA_DIR, 'profile-kafka');
rmSync(profileDir, { recursive: true, force: true });

const ekaf =
  (variant: EkafVariant, dir: string) =>
  async (p: ProducerRunParams): Promise<ProducerRun> => {
    mkdirSync(dir, { recursive: true });
    const m = await runWorker(
      'kafka-producers',
      'ekaf',
      { ...p, ekaf: variant },
      { execArgv: ['--cpu-prof', '--cpu-prof-dir', dir], timeoutMs: 600_000 },
    );
    return m as unknown as ProducerRun;
  };
const drivers: Record<string, (p: ProducerRunParams) => Promise<ProducerRun>> = {
  ekaf: ekaf({}, join(profileDir, 'ekaf')),
  'ekaf-1mb': ekaf({ batchBytes: 1_000_000 }, join(profileDir, 'ekaf-1mb')),
  java: (p) => runJavaProducer('4.4.0', p),
  librdkafka: (p) => runRdkafkaProducer(p),
};

const kafka = await startKafkaCluster({ version: '4.4.0', nodes: 3 });
const rows: string[][] = [];
try {
  const createTopic = (name: string, partitions: number): Promise<void> =>
    kafka.createTopics([{ name, partitions, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } }]);
  await warmUpBrokers(kafka, createTopic);
  const brokers = kafka.nodes.map((n) => n.pid);
  const idle0 = totalCpuSeconds(brokers);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const idleCores = (totalCpuSeconds(brokers) - idle0) / 10;
  console.log(`brokers idle after the warm-up: ${idleCores.toFixed(3)} cores (3 JVMs, 10 s)`);

  const file = keyedFile(records, 100);
  for (const name of clients) {
    const drive = drivers[name];
    if (drive === undefined) throw new Error(`no client ${name} (${Object.keys(drivers).join(', ')})`);
    const topic = `profile-${name}`;
    await createTopic(topic, PARTITIONS);
    const cpu0 = totalCpuSeconds(brokers);
    const t0 = nowMs();
    const run = await drive({
      bootstrap: kafka.bootstrap,
      topic,
      file,
      records,
      warmup: records / 2,
      rate,
    });
    const wall = (nowMs() - t0) / 1000;
    const brokerCpu = totalCpuSeconds(brokers) - cpu0;
    const batches = await logBatches(kafka, topic, PARTITIONS);
    const produced = run.records + run.warmupRecords;
    rows.push([
      name,
      Math.round(run.records / run.seconds).toLocaleString('en-US'),
      wall.toFixed(1),
      (run.processCpuSeconds / wall).toFixed(2),
      (brokerCpu / wall).toFixed(2),
      ((run.processCpuSeconds + brokerCpu) / wall).toFixed(2),
      ((run.processCpuSeconds / produced) * 1e6).toFixed(2),
      ((run.cpuSeconds / run.records) * 1e6).toFixed(2),
      ((brokerCpu / produced) * 1e6).toFixed(2),
      `${batches.batches.toLocaleString('en-US')} (${batches.recordsPerBatch.toFixed(0)})`,
    ]);
    console.log(rows[rows.length - 1]?.join(' | '));
  }
} finally {
  await kafka.stop();
}

console.log(
  `\n${markdownTable(
    [
      'client',
      'records/s (measured)',
      'process wall s',
      'client cores',
      'broker cores',
      'total cores',
      'client CPU s/M (process)',
      'client CPU s/M (measured)',
      'broker CPU s/M',
      'batches (records/batch)',
    ],
    rows,
  )}`,
);
for (const name of clients.filter((c) => c.startsWith('ekaf'))) {
  const { table, sampledSeconds } = topSelfTime(profileIn(join(profileDir, name)), Number(values.top));
  console.log(`\n${name}: ${sampledSeconds.toFixed(2)} s sampled (the whole worker process)\n\n${table}`);
}
