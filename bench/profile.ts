// CPU profile of ekaf in scenario 1a (1 000 000 × 100 B keyed records, produceAsync in calls of
// 10 000, acks all): `npx tsx bench/profile.ts [--records N] [--batched]`. The worker process runs
// under `node --import tsx --cpu-prof`; the profile (the whole worker process: reading the file,
// connecting, the warm-up run, producing) is written to /tmp/ekaf-bench/profile/ and its top
// self-time functions are printed (open the .cpuprofile in Chrome DevTools or speedscope for the
// full picture).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevCluster } from '../src/dev-cluster.js';
import { DATA_DIR, keyedFile } from './lib/data.js';
import { profileIn, topSelfTime } from './lib/cpu-profile.js';
import { runWorker } from './lib/proc.js';
import { WARM_UP_SHARE } from './scenarios/throughput.js';

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

const profile = profileIn(dir);
const { table, sampledSeconds } = topSelfTime(profile, Number(values.top));
console.log(`\n${profile}: ${sampledSeconds.toFixed(2)} s sampled\n`);
console.log(table);
