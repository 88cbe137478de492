// Scenario 2: command-line throughput on the same "key:value" file, one record per line:
//   ekaf produce: `node dist/bin/ekaf.js produce -b … -t … -K : file`, the bundled command an
//                 installed package runs (package.json "bin"; `npm run bench` builds it first),
//                 on the bench's Node (--node: lib/node-binaries.ts);
//   kcat:         `kcat -P -l -K : -X acks=all file`.
// Both timed from spawn to exit, start-up included (what a user waits for). ekaf's own summary
// line gives its producing time without start-up ("ekaf s (own)").
import { readFileSync } from 'node:fs';
import { keyedFile } from '../lib/data.js';
import { checkDelivered, kcatProduce, payloadBytes } from '../lib/kcat.js';
import { benchNode } from '../lib/node-binaries.js';
import { timeCommand, type Metrics } from '../lib/proc.js';
import { rates, ratioTarget, THROUGHPUT_METRICS, type Scenario } from '../lib/scenario.js';

async function ekafProduce(
  bootstrap: string,
  topic: string,
  file: string,
  records: number,
): Promise<Metrics> {
  const args = [EKAF_BIN, 'produce', '-b', bootstrap, '-t', topic, '-K', ':', file];
  const r = await timeCommand(benchNode().path, args);
  // "ekaf produce: N records, B bytes in S s (...); D delivered, F failed"
  const m = /ekaf produce: (\d+) records, \d+ bytes in ([\d.]+) s .*; (\d+) delivered, (\d+) failed/.exec(
    r.stderr,
  );
  if (r.code !== 0 || m === null || Number(m[3]) !== records) {
    throw new Error(`ekaf produce exited ${r.code}: ${r.stderr.trim()}`);
  }
  await checkDelivered(bootstrap, topic, records);
  return { ...rates(records, payloadBytes(file, records), r.ms), ownSeconds: Number(m[2]) };
}

/** The command an installed package runs: package.json's "bin". */
const EKAF_BIN = (JSON.parse(readFileSync('package.json', 'utf8')) as { bin: { ekaf: string } }).bin.ekaf;

export const workers = {};

export const scenario: Scenario = {
  id: '2',
  name: 'Throughput, command line (file of key:value lines, acks=all)',
  cases(quick) {
    const records = quick ? 100_000 : 1_000_000;
    const file = keyedFile(records, 100);
    return [
      {
        id: '2',
        title: `${records.toLocaleString('en-US')} lines (8 B key, 100 B value)`,
        contestants: [
          {
            name: 'ekaf produce',
            run: async (ctx) =>
              ekafProduce(ctx.cluster.bootstrap, await ctx.freshTopic('ekaf'), file, records),
          },
          {
            name: 'kcat -P',
            run: async (ctx) =>
              kcatProduce(ctx.cluster.bootstrap, await ctx.freshTopic('kcat'), file, records),
          },
        ],
        metrics: [
          ...THROUGHPUT_METRICS,
          { key: 'ownSeconds', label: 's (ekaf own, no start-up)', higherIsBetter: false },
        ],
        targets: [
          ratioTarget('2: ekaf produce ≥ 1.0× kcat', 'ekaf produce', 'kcat -P', 'recPerSec', 1.0, true),
        ],
      },
    ];
  },
};
