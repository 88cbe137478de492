// Scenario 6: throughput with batch compression, on compressible JSON values (~220 B web
// events, 8 B keys), acks=all, 6 partitions. Same method as scenario 1 (bench/scenarios/
// throughput.ts: produceAsync in calls of 10 000, all acknowledgements awaited, after an
// unmeasured warm-up run on another topic). Every codec at its Kafka / librdkafka default level
// (gzip 6, zstd 3):
//   ekaf:        the codecs accelerators() picks: lz4-napi, snappy, @node-rs/crc32 where they
//                load; zstd from node:zlib (Node 22.15+) or @bokuweb/zstd-wasm; gzip node:zlib;
//   ekaf (pure): the same run with EKAF_PURE=1: no native addon (pure LZ4, snappy, CRC-32C;
//                gzip and zstd are the same as ekaf's, only the CRC differs);
//   kcat -z:     librdkafka (C), which compresses on its broker thread;
//   kafkajs:     its built-in gzip (1000-record sends, 16 in flight); it has no lz4 or zstd.
import { jsonFile } from '../lib/data.js';
import { checkDelivered, kcatProduce } from '../lib/kcat.js';
import { PARTITIONS } from './clients.js';
import { WARM_UP_SHARE } from './throughput.js';
import { runWorker } from '../lib/proc.js';
import {
  ratioTarget,
  THROUGHPUT_METRICS,
  type Target,
  type Case,
  type Contestant,
  type RunContext,
  type Scenario,
} from '../lib/scenario.js';

type Codec = 'gzip' | 'snappy' | 'lz4' | 'zstd';

export const workers = {};

function lib(
  fn: 'ekaf' | 'kafkajs',
  file: string,
  records: number,
  compression: Codec,
  pure = false,
): Contestant {
  return {
    name: pure ? `${fn} (pure)` : fn,
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
      const metrics = await runWorker('throughput', fn, params, { env: pure ? { EKAF_PURE: '1' } : {} });
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
    const target = (codec: Codec): Target =>
      ratioTarget(
        `6-${codec}: ekaf ≥ 0.8× kcat -z ${codec}`,
        'ekaf',
        `kcat -z ${codec}`,
        'recPerSec',
        0.8,
        true,
      );
    const cases: Case[] = (['lz4', 'zstd', 'snappy'] as const).map((codec) => ({
      id: `6-${codec}`,
      title: `${codec}, ${n} JSON records`,
      contestants: [
        lib('ekaf', file, records, codec),
        lib('ekaf', file, records, codec, true),
        kcat(file, records, codec),
      ],
      metrics,
      // The targets name lz4, gzip and zstd; snappy is shown for its pure path.
      targets: codec === 'snappy' ? [] : [target(codec)],
    }));
    cases.push({
      id: '6-gzip',
      title: `gzip, ${n} JSON records`,
      contestants: [
        lib('ekaf', file, records, 'gzip'),
        lib('ekaf', file, records, 'gzip', true),
        lib('kafkajs', file, records, 'gzip'),
        kcat(file, records, 'gzip'),
      ],
      metrics,
      targets: [target('gzip')],
    });
    return cases;
  },
};
