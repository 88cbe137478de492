// Scenario 4: latency of one awaited send. One caller, sequential: `await produceSync(topic,
// record)` (ekaf) or `await send({ acks: -1, messages: [record] })` (kafkajs), one record of
// 100 B with an 8 B key, 5 000 times after 200 unmeasured warm-up sends; each send is timed from
// the call to its acknowledgement (acks=all). p50/p99/p99.9 in ms; lower is better.
import { keyedFile, readRecords, type Rec } from '../lib/data.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import type { RunContext, Scenario, Target } from '../lib/scenario.js';
import { nowMs, percentile } from '../lib/stats.js';
import { ekafProducer, kafkajsProducer, warmEkaf, warmKafkajs } from './clients.js';

interface Params {
  bootstrap: string;
  topic: string;
  file: string;
  sends: number;
}

const WARM_UP = 200;

async function measure(
  records: readonly Rec[],
  sends: number,
  send: (r: Rec) => Promise<unknown>,
): Promise<Metrics> {
  for (let i = 0; i < WARM_UP; i++) await send(records[i % records.length] as Rec);
  const samples: number[] = [];
  for (let i = 0; i < sends; i++) {
    const r = records[i % records.length] as Rec;
    const t0 = nowMs();
    await send(r);
    samples.push(nowMs() - t0);
  }
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    p999: percentile(samples, 99.9),
    max: samples[samples.length - 1] ?? NaN,
  };
}

export const workers = {
  async ekaf(p: Params): Promise<Metrics> {
    const records = readRecords(p.file);
    const producer = await ekafProducer(p.bootstrap);
    await warmEkaf(producer, p.topic);
    const m = await measure(records, p.sends, (r) => producer.produceSync(p.topic, r));
    await producer.close();
    return m;
  },
  async kafkajs(p: Params): Promise<Metrics> {
    const records = readRecords(p.file);
    const { producer } = await kafkajsProducer(p.bootstrap);
    await warmKafkajs(producer, p.topic);
    const m = await measure(records, p.sends, (r) =>
      producer.send({ topic: p.topic, acks: -1, messages: [r] }),
    );
    await producer.disconnect();
    return m;
  },
};

function latencyTarget(label: string, key: string, factor: number): Target {
  return {
    label,
    evaluate(medians) {
      const e = medians.ekaf?.[key];
      const k = medians.kafkajs?.[key];
      if (e === undefined || k === undefined) return undefined;
      return {
        measured: `ekaf ${e.toFixed(3)} ms vs kafkajs ${k.toFixed(3)} ms (${(e / k).toFixed(2)}×)`,
        pass: e <= factor * k,
      };
    },
  };
}

export const scenario: Scenario = {
  id: '4',
  name: 'Latency, one caller, sequential awaited sends of one record',
  cases(quick) {
    const sends = quick ? 1000 : 5000;
    const file = keyedFile(10_000, 100);
    const lib = (fn: 'ekaf' | 'kafkajs') => ({
      name: fn,
      run: async (ctx: RunContext) =>
        runWorker('latency', fn, {
          bootstrap: ctx.cluster.bootstrap,
          topic: await ctx.freshTopic(fn),
          file,
          sends,
        }),
    });
    return [
      {
        id: '4',
        title: `${sends.toLocaleString('en-US')} sequential sends (ms)`,
        contestants: [lib('ekaf'), lib('kafkajs')],
        metrics: [
          { key: 'p50', label: 'p50', higherIsBetter: false },
          { key: 'p99', label: 'p99', higherIsBetter: false },
          { key: 'p999', label: 'p99.9', higherIsBetter: false },
          { key: 'max', label: 'max', higherIsBetter: false },
        ],
        targets: [
          latencyTarget('4: ekaf p99 ≤ kafkajs p99', 'p99', 1.0),
          latencyTarget('4: ekaf p50 ≤ 1.2× kafkajs p50', 'p50', 1.2),
        ],
      },
    ];
  },
};
