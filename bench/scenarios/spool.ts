// Scenario 8: the durable spool's cost, on this machine's disk (the spool directory is under
// os.tmpdir(), ext4 here). Keyed 100 B records, acks=all, 6 partitions, brokers up; ekaf alone,
// with and without a spool, every acknowledgement awaited (after an unmeasured warm-up run):
//   8a  calls of 10 000 records (produceAsync), as a log shipper hands over its reads;
//   8b  calls of 1 record (produceAsync), as a web handler produces one event per request.
// Contestants: no spool; mode 'downtime' (brokers up: almost nothing is written); mode 'always'
// with fsync 'never', 'interval' (1 s) and 'batch' (fdatasync after every call's write); and
// 'always' with only 20 000 records in memory, so that most records spill to disk and are read
// back (the path a long outage takes; in 8b, whose calls have callbacks, at most 20 000 calls wait
// on disk, and a refused call is retried after the next completion).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpoolOption } from '../../src/config.js';
import { keyedFile, readRecords } from '../lib/data.js';
import { checkDelivered, payloadBytes } from '../lib/kcat.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import { nowMs } from '../lib/stats.js';
import {
  rates,
  ratioTarget,
  THROUGHPUT_METRICS,
  type Case,
  type Contestant,
  type Scenario,
} from '../lib/scenario.js';
import { ekafProducer, PARTITIONS, pumpEkaf, warmEkaf } from './clients.js';
import { peakRss, WARM_UP_SHARE } from './throughput.js';

interface SpoolParams {
  bootstrap: string;
  topic: string;
  warmTopic: string;
  file: string;
  warmRecords: number;
  chunk: number;
  spool: Omit<SpoolOption, 'dir'> | null;
  maxBufferedRecords?: number;
}

export const workers = {
  async ekaf(p: SpoolParams): Promise<Metrics> {
    const records = readRecords(p.file);
    const dir = p.spool === null ? null : mkdtempSync(join(tmpdir(), 'ekaf-bench-spool-'));
    try {
      const producer = await ekafProducer(p.bootstrap, {
        ...(dir === null ? {} : { spool: { ...p.spool, dir } }),
        ...(p.maxBufferedRecords === undefined ? {} : { maxBufferedRecords: p.maxBufferedRecords }),
      });
      await warmEkaf(producer, p.topic);
      await pumpEkaf(producer, p.warmTopic, records.slice(0, p.warmRecords), p.chunk);
      const t0 = nowMs();
      await pumpEkaf(producer, p.topic, records, p.chunk);
      const ms = nowMs() - t0;
      await producer.close();
      return { ...rates(records.length, payloadBytes(p.file, records.length), ms), peakRssMB: peakRss() };
    } finally {
      if (dir !== null) rmSync(dir, { recursive: true, force: true });
    }
  },
};

function contestant(
  name: string,
  file: string,
  records: number,
  chunk: number,
  spool: SpoolParams['spool'],
  maxBufferedRecords?: number,
): Contestant {
  return {
    name,
    run: async (ctx) => {
      const topic = await ctx.freshTopic('spool');
      const params: SpoolParams = {
        bootstrap: ctx.cluster.bootstrap,
        topic,
        warmTopic: await ctx.freshTopic('spool-warm'),
        file,
        warmRecords: Math.round(records * WARM_UP_SHARE),
        chunk,
        spool,
        ...(maxBufferedRecords === undefined ? {} : { maxBufferedRecords }),
      };
      const metrics = await runWorker('spool', 'ekaf', params);
      await checkDelivered(ctx.cluster.bootstrap, topic, records, PARTITIONS);
      return metrics;
    },
  };
}

export const scenario: Scenario = {
  id: '8',
  name: 'Durable spool (ekaf with and without, brokers up, acks=all, disk under os.tmpdir())',
  cases(quick) {
    const make = (id: string, title: string, records: number, chunk: number): Case => {
      const file = keyedFile(records, 100);
      const contestants = [
        contestant('no spool', file, records, chunk, null),
        contestant("spool 'downtime'", file, records, chunk, { mode: 'downtime' }),
        contestant("'always', fsync never", file, records, chunk, { mode: 'always', fsync: 'never' }),
        contestant("'always', fsync interval", file, records, chunk, { mode: 'always', fsync: 'interval' }),
        contestant("'always', fsync batch", file, records, chunk, { mode: 'always', fsync: 'batch' }),
        contestant("'always', 20 000 in memory", file, records, chunk, { mode: 'always' }, 20_000),
      ];
      return {
        id,
        title,
        contestants,
        metrics: [...THROUGHPUT_METRICS, { key: 'peakRssMB', label: 'peak RSS MB', higherIsBetter: false }],
        // Not targets the issue sets: the cost of each mode, stated as a ratio to no spool.
        targets: [
          ratioTarget(
            `${id}: spool 'downtime' costs < 10 % when brokers are up`,
            "spool 'downtime'",
            'no spool',
            'recPerSec',
            0.9,
            true,
          ),
        ],
      };
    };
    const bulk = quick ? 100_000 : 500_000;
    const single = quick ? 20_000 : 100_000;
    return [
      make('8a', `${bulk.toLocaleString('en-US')} × 100 B, calls of 10 000`, bulk, 10_000),
      make('8b', `${single.toLocaleString('en-US')} × 100 B, calls of 1 record`, single, 1),
    ];
  },
};
