// Scenario 5: memory per record held in ekaf's downtime buffer. The producer connects (one
// warm-up record per partition), then every broker goes down (the dev cluster's broker_down -1:
// connections closed, new ones refused) and 1 000 000 records of 100 B values (no key) are
// handed to produceAsync in calls of 10 000. Each value is a fresh, flat 100-character string
// (as from JSON.parse or a socket); the bench keeps no reference to it. Measured after forced
// GCs (--expose-gc), against a baseline taken with the brokers already down:
//   heap/rec   = Δ heapUsed / records
//   ext/rec    = Δ external (Buffers' bytes, off the V8 heap) / records
//   total/rec  = heap + external: what the target "≤ payload + 16 B" is checked against
//   RSS/rec    = Δ RSS / records (includes the allocator's slack)
// A 100-character V8 string alone takes about 116 B of heap, so "payload + 16" is the floor for
// keeping the values as given. The "payload" row is the 100 B baseline of the ratio column.
// The topic has 6 partitions here; scenario 13m (bench/scenarios/scaling.ts) runs the same on
// 1 000 partitions, where every partition's open batch and its buffer count.
import { runWorker, type Metrics } from '../lib/proc.js';
import type { Case, RunContext, Scenario } from '../lib/scenario.js';
import type { ClusterCommand } from '../worker.js';
import { ekafProducer } from './clients.js';

interface Params {
  bootstrap: string;
  topic: string;
  records: number;
  /** The topic's partitions, each first given one record (the producer connects them all). */
  partitions: number;
}

const VALUE_BYTES = 100;

declare const gc: (() => void) | undefined;

function settle(): NodeJS.MemoryUsage {
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage();
}

export const workers = {
  async ekaf(p: Params, cluster: ClusterCommand): Promise<Metrics> {
    const producer = await ekafProducer(p.bootstrap, { deliveryTimeoutMs: 3_600_000 });
    const warm: { value: string; partition: number }[] = [];
    for (let partition = 0; partition < p.partitions; partition++) warm.push({ value: 'warm-up', partition });
    await producer.produceSync(p.topic, warm);
    const down = new Set<number>();
    const allDown = new Promise<void>((resolve) => {
      producer.on('worker.down', ({ partition }) => {
        down.add(partition);
        if (down.size === p.partitions) resolve();
      });
    });
    await cluster('broker_down -1');
    await Promise.race([allDown, new Promise((r) => setTimeout(r, 5000))]);
    await new Promise((r) => setTimeout(r, 200));

    const scratch = Buffer.alloc(VALUE_BYTES, 'x');
    const before = settle();
    for (let i = 0; i < p.records; i += 10_000) {
      const call: string[] = [];
      for (let j = i; j < Math.min(p.records, i + 10_000); j++) {
        scratch.write(String(j).padStart(10, '0'), 0, 'latin1');
        call.push(scratch.toString('latin1')); // a fresh flat string of 100 characters
      }
      producer.produceAsync(p.topic, call);
    }
    const after = settle();
    const buffered = producer.metrics().bufferedRecords;
    if (buffered < p.records) throw new Error(`only ${buffered} of ${p.records} records buffered`);
    const heap = (after.heapUsed - before.heapUsed) / p.records;
    const ext = (after.external - before.external) / p.records;
    void producer.close({ timeoutMs: 0 });
    return {
      totalPerRec: heap + ext,
      heapPerRec: heap,
      extPerRec: ext,
      rssPerRec: (after.rss - before.rss) / p.records,
      overPayload: heap + ext - VALUE_BYTES,
      downPartitions: down.size,
    };
  },
};

/** The case: `records` × 100 B values buffered in a topic of `partitions`, against the payload. */
export function bufferedRecordCase(id: string, records: number, partitions: number): Case {
  return {
    id,
    title: `${records.toLocaleString('en-US')} × 100 B values in the downtime buffer, ${partitions.toLocaleString('en-US')} partitions (bytes/record)`,
    contestants: [
      {
        name: 'ekaf',
        run: async (ctx: RunContext) => {
          try {
            return await runWorker(
              'memory',
              'ekaf',
              {
                bootstrap: ctx.cluster.bootstrap,
                topic: await ctx.freshTopic('ekaf', partitions),
                records,
                partitions,
              } satisfies Params,
              { execArgv: ['--expose-gc'], onCommand: (line) => ctx.cluster.command(line) },
            );
          } finally {
            await ctx.cluster.brokerUp(-1);
          }
        },
      },
      { name: 'payload', run: () => Promise.resolve({ totalPerRec: VALUE_BYTES }) },
    ],
    metrics: [
      { key: 'totalPerRec', label: 'B heap+ext', higherIsBetter: false },
      { key: 'heapPerRec', label: 'B heap', higherIsBetter: false },
      { key: 'extPerRec', label: 'B external', higherIsBetter: false },
      { key: 'rssPerRec', label: 'B RSS', higherIsBetter: false },
      { key: 'overPayload', label: 'B over payload', higherIsBetter: false },
    ],
    targets: [
      {
        label: `${id}: heap (+ external) per buffered record ≤ payload + 16 B (${partitions.toLocaleString('en-US')} partitions)`,
        evaluate(medians) {
          const m = medians.ekaf;
          if (m?.totalPerRec === undefined) return undefined;
          return {
            measured: `${m.totalPerRec.toFixed(1)} B/record = payload + ${(m.totalPerRec - VALUE_BYTES).toFixed(1)} B (heap ${m.heapPerRec?.toFixed(1)}, external ${m.extPerRec?.toFixed(1)}, RSS ${m.rssPerRec?.toFixed(1)})`,
            pass: m.totalPerRec <= VALUE_BYTES + 16,
          };
        },
      },
    ],
  };
}

export const scenario: Scenario = {
  id: '5',
  name: 'Memory per buffered record, all brokers down',
  cases(quick) {
    return [bufferedRecordCase('5', quick ? 100_000 : 1_000_000, 6)];
  },
};
