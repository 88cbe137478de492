// A producer process for the spool's crash tests (test/integration/spool.test.ts): it produces
// keyed records into a spool and prints `accepted <n>` after each call returns, until it has
// produced COUNT records (then prints `done` and idles) or is killed. Records are numbered:
// key `k<i % 20>`, value `<i>`, so that the reader can check order per key.
import { createProducer } from '../../src/producer.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const count = Number(env('COUNT'));
const perCall = Number(process.env.PER_CALL ?? '50');
const producer = createProducer({
  brokers: env('BROKERS'),
  spool: { dir: env('SPOOL_DIR'), mode: env('MODE') as 'downtime' | 'always' },
  maxBufferedRecords: Number(process.env.MAX_BUFFERED ?? '100000'),
  retryBackoffMs: 50,
  retryBackoffMaxMs: 200,
});
producer.on('error', () => undefined);
// The spool's crash test kills the process as soon as it reads this: by then (worker.down is
// emitted after the catch-up), what the topic held is on disk.
producer.once('worker.down', () => process.stdout.write('down\n'));

let next = 0;
function produceSome(): void {
  const n = Math.min(perCall, count - next);
  if (n <= 0) {
    process.stdout.write('done\n');
    return;
  }
  const records = Array.from({ length: n }, (_, j) => ({
    key: `k${(next + j) % 20}`,
    value: String(next + j),
  }));
  producer.produceAsync(env('TOPIC'), records);
  next += n;
  // Synchronous on Linux for a pipe: once printed, the records were accepted.
  process.stdout.write(`accepted ${next}\n`);
  setImmediate(produceSome);
}
produceSome();
// Keeps running until killed.
setInterval(() => undefined, 60_000);
