// A transactional producer process for the crash tests (test/kafka/transactions.test.ts): it
// opens a transaction, produces COUNT records to TOPIC (value `<PREFIX>-<i>`), prints `sent`
// once the partition leaders have them all, and then idles inside the open transaction until it
// is killed (SIGKILL: no abort, no close).
import { createProducer } from '../../src/producer.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const producer = createProducer({
  brokers: env('BROKERS'),
  transactionalId: env('TRANSACTIONAL_ID'),
  retryBackoffMs: 50,
  retryBackoffMaxMs: 300,
});
const count = Number(env('COUNT'));
const prefix = env('PREFIX');

const tx = await producer.beginTransaction();
await tx.produce(
  env('TOPIC'),
  Array.from({ length: count }, (_, i) => ({ key: `k${i % 7}`, value: `${prefix}-${i}` })),
);
process.stdout.write('sent\n');
// Keeps the process (and its open transaction) alive until it is killed.
setInterval(() => undefined, 1 << 30);
