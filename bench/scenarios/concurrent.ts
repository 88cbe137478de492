// Scenario 3: many concurrent awaited sends. 64 callers, each in a loop awaiting the send of one
// record (100 B value, 8 B key) before its next, until 100 000 records are acknowledged:
//   ekaf:    `await producer.produceSync(topic, record)` (acks all; records arriving while a
//            request is in flight share the next one);
//   kafkajs: `await producer.send({ topic, acks: -1, messages: [record] })`;
//   platformatic: `await producer.send({ messages: [{ topic, key, value }] })` (@platformatic/kafka,
//            the newest Node client; acks all, not idempotent: the mock refuses its InitProducerId).
// Time from the first call to the last acknowledgement, after an unmeasured warm-up: the same
// 64 callers on another topic for WARM_UP_SHARE of the records (JIT-compiled and connected, as
// in a long-running web server).
import { keyedFile, readRecords, type Rec } from '../lib/data.js';
import { payloadBytes } from '../lib/kcat.js';
import { runWorker, type Metrics } from '../lib/proc.js';
import { rates, ratioTarget, type RunContext, type Scenario } from '../lib/scenario.js';
import { nowMs } from '../lib/stats.js';
import { ekafProducer, kafkajsProducer, platformaticProducer, warmEkaf, warmKafkajs } from './clients.js';
import { WARM_UP_SHARE } from './throughput.js';
import { peakRss } from './throughput.js';

interface Params {
  bootstrap: string;
  topic: string;
  file: string;
  callers: number;
  warmTopic: string;
}

/** Runs `callers` loops that each take the next record and await `send` of it. */
async function callers(
  records: readonly Rec[],
  count: number,
  send: (r: Rec) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = nowMs();
  await Promise.all(
    Array.from({ length: count }, async () => {
      while (next < records.length) {
        const r = records[next++] as Rec;
        await send(r);
      }
    }),
  );
  return nowMs() - t0;
}

export const workers = {
  async ekaf(p: Params): Promise<Metrics> {
    const records = readRecords(p.file);
    const producer = await ekafProducer(p.bootstrap);
    await warmEkaf(producer, p.topic);
    const warm = records.slice(0, Math.round(records.length * WARM_UP_SHARE));
    await callers(warm, p.callers, (r) => producer.produceSync(p.warmTopic, r));
    const ms = await callers(records, p.callers, (r) => producer.produceSync(p.topic, r));
    await producer.close();
    return { ...rates(records.length, payloadBytes(p.file, records.length), ms), peakRssMB: peakRss() };
  },
  async kafkajs(p: Params): Promise<Metrics> {
    const records = readRecords(p.file);
    const { producer } = await kafkajsProducer(p.bootstrap);
    await warmKafkajs(producer, p.topic);
    const warm = records.slice(0, Math.round(records.length * WARM_UP_SHARE));
    await callers(warm, p.callers, (r) => producer.send({ topic: p.warmTopic, acks: -1, messages: [r] }));
    const ms = await callers(records, p.callers, (r) =>
      producer.send({ topic: p.topic, acks: -1, messages: [r] }),
    );
    await producer.disconnect();
    return { ...rates(records.length, payloadBytes(p.file, records.length), ms), peakRssMB: peakRss() };
  },
  async platformatic(p: Params): Promise<Metrics> {
    const records = readRecords(p.file);
    const producer = await platformaticProducer(p.bootstrap, false);
    const send = (topic: string, r: Rec) =>
      producer.send({ messages: [{ topic, key: r.key, value: r.value }] });
    await send(p.topic, records[0] as Rec);
    const warm = records.slice(0, Math.round(records.length * WARM_UP_SHARE));
    await callers(warm, p.callers, (r) => send(p.warmTopic, r));
    const ms = await callers(records, p.callers, (r) => send(p.topic, r));
    await producer.close();
    return { ...rates(records.length, payloadBytes(p.file, records.length), ms), peakRssMB: peakRss() };
  },
};

export const scenario: Scenario = {
  id: '3',
  name: 'Many concurrent awaited sends (64 callers, one record per send)',
  cases(quick) {
    const records = quick ? 10_000 : 100_000;
    const file = keyedFile(records, 100);
    const lib = (fn: 'ekaf' | 'kafkajs' | 'platformatic') => ({
      name: fn,
      run: async (ctx: RunContext) =>
        runWorker('concurrent', fn, {
          bootstrap: ctx.cluster.bootstrap,
          topic: await ctx.freshTopic(fn),
          file,
          callers: 64,
          warmTopic: await ctx.freshTopic(`${fn}-warm`),
        }),
    });
    return [
      {
        id: '3',
        title: `64 callers × await one send, ${records.toLocaleString('en-US')} records`,
        contestants: [lib('ekaf'), lib('kafkajs'), lib('platformatic')],
        metrics: [
          { key: 'recPerSec', label: 'records/s', higherIsBetter: true },
          { key: 'seconds', label: 's', higherIsBetter: false },
          { key: 'peakRssMB', label: 'peak RSS MB', higherIsBetter: false },
        ],
        targets: [
          ratioTarget('3: ekaf ≥ 50× kafkajs', 'ekaf', 'kafkajs', 'recPerSec', 50, true),
          ratioTarget('3: ekaf ≥ 3× @platformatic/kafka', 'ekaf', 'platformatic', 'recPerSec', 3, true),
        ],
      },
    ];
  },
};
