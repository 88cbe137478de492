// Scenario 6: throughput with batch compression, on compressible JSON values (~220 B web
// events, 8 B keys), acks=all, 6 partitions. Same method as scenario 1 (bench/scenarios/
// throughput.ts: produceAsync in calls of 10 000, all acknowledgements awaited, after an
// unmeasured warm-up run on another topic):
//   lz4, zstd: ekaf (lz4-napi, @hpcc-js/wasm-zstd) vs kcat -z lz4 / -z zstd (librdkafka, C);
//              kafkajs has no built-in lz4 or zstd;
//   gzip:      ekaf (node:zlib) vs kafkajs (its built-in gzip, 1000-record sends, 16 in flight)
//              vs kcat -z gzip.
import { jsonFile } from '../lib/data.js';
import { checkDelivered, kcatProduce } from '../lib/kcat.js';
import { PARTITIONS } from './clients.js';
import { WARM_UP_SHARE } from './throughput.js';
import { runWorker } from '../lib/proc.js';
import {
  THROUGHPUT_METRICS,
  type Case,
  type Contestant,
  type RunContext,
  type Scenario,
} from '../lib/scenario.js';

type Codec = 'gzip' | 'lz4' | 'zstd';

export const workers = {};

function lib(fn: 'ekaf' | 'kafkajs', file: string, records: number, compression: Codec): Contestant {
  return {
    name: fn,
    run: async (ctx: RunContext) => {
      const topic = await ctx.freshTopic(`${fn}-${compression}`);
      const params = {
        bootstrap: ctx.cluster.bootstrap,
        topic,
        file,
        compression,
        batched: false,
        warmTopic: await ctx.freshTopic(`${fn}-${compression}-warm`),
        warmRecords: Math.round(records * WARM_UP_SHARE),
      };
      const metrics = await runWorker('throughput', fn, params);
      await checkDelivered(ctx.cluster.bootstrap, topic, records, PARTITIONS);
      return metrics;
    },
  };
}

function kcat(file: string, records: number, compression: Codec): Contestant {
  return {
    name: `kcat -z ${compression}`,
    run: async (ctx: RunContext) =>
      kcatProduce(ctx.cluster.bootstrap, await ctx.freshTopic(`kcat-${compression}`), file, records, [
        '-z',
        compression,
      ]),
  };
}

export const scenario: Scenario = {
  id: '6',
  name: 'Compression (compressible JSON values, acks=all)',
  cases(quick) {
    const records = quick ? 50_000 : 300_000;
    const file = jsonFile(records);
    const n = records.toLocaleString('en-US');
    const metrics = [
      ...THROUGHPUT_METRICS,
      { key: 'peakRssMB', label: 'peak RSS MB', higherIsBetter: false },
    ];
    const cases: Case[] = (['lz4', 'zstd'] as const).map((codec) => ({
      id: `6-${codec}`,
      title: `${codec}, ${n} JSON records`,
      contestants: [lib('ekaf', file, records, codec), kcat(file, records, codec)],
      metrics,
    }));
    cases.push({
      id: '6-gzip',
      title: `gzip, ${n} JSON records`,
      contestants: [
        lib('ekaf', file, records, 'gzip'),
        lib('kafkajs', file, records, 'gzip'),
        kcat(file, records, 'gzip'),
      ],
      metrics,
    });
    return cases;
  },
};
