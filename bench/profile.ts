// CPU profile of ekaf in scenario 1a (1 000 000 × 100 B keyed records, produceAsync in calls of
// 10 000, acks all): `npx tsx bench/profile.ts [--records N] [--batched]`. The worker process runs
// under `node --import tsx --cpu-prof`; the profile (the whole worker process: reading the file,
// connecting, the warm-up run, producing) is written to /tmp/ekaf-bench/profile/ and its top
// self-time functions are printed (open the .cpuprofile in Chrome DevTools or speedscope for the
// full picture).
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevCluster } from '../src/dev-cluster.js';
import { DATA_DIR, keyedFile } from './lib/data.js';
import { ROOT_DIR, runWorker } from './lib/proc.js';
import { markdownTable } from './lib/table.js';
import { WARM_UP_SHARE } from './scenarios/throughput.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    batched: { type: 'boolean', default: false },
    top: { type: 'string', default: '10' },
  },
});
const records = Number(values.records);
const dir = join(DATA_DIR, 'profile');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const file = keyedFile(records, 100);
const cluster = await startDevCluster({ brokers: 3 });
try {
  await cluster.createTopic('profile', 6);
  await cluster.createTopic('profile-warm', 6);
  const metrics = await runWorker(
    'throughput',
    'ekaf',
    {
      bootstrap: cluster.bootstrap,
      topic: 'profile',
      file,
      batched: values.batched,
      warmTopic: 'profile-warm',
      warmRecords: Math.round(records * WARM_UP_SHARE),
    },
    { execArgv: ['--cpu-prof', '--cpu-prof-dir', dir] },
  );
  console.log(
    `ekaf: ${Math.round(metrics.recPerSec ?? 0).toLocaleString('en-US')} records/s under the profiler`,
  );
} finally {
  await cluster.stop();
}

const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (name === undefined) throw new Error(`no .cpuprofile in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id);
  if (node === undefined) return;
  const { functionName, url, lineNumber } = node.callFrame;
  const where =
    url === ''
      ? ''
      : ` ${url.startsWith('file://') ? relative(ROOT_DIR, new URL(url).pathname) : url}:${lineNumber + 1}`;
  const key = `${functionName === '' ? '(anonymous)' : functionName}${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
});
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
console.log(`\n${join(dir, name)}: ${(total / 1e6).toFixed(2)} s sampled\n`);
console.log(
  markdownTable(
    ['#', 'Self time', '%', 'Function (file:line)'],
    top.map(([key, us], i) => [
      String(i + 1),
      `${(us / 1000).toFixed(0)} ms`,
      `${((100 * us) / total).toFixed(1)}%`,
      key,
    ]),
  ),
);
