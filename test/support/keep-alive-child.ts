// A script as users write them, for test/integration/keep-alive.test.ts: it makes a producer,
// does what argv says, never calls close(), and lets its last line fall off the end. What Node
// does then (exit, or wait for records) is what the test looks at.
import { createProducer } from '../../src/producer.js';

const [brokers = '', mode = 'unused'] = process.argv.slice(2);
const producer = createProducer({
  brokers,
  clientId: 'keep-alive-child',
  deliveryTimeoutMs: 3000,
  ...(mode === 'transaction' ? { transactionalId: 'keep-alive-child' } : {}),
});

if (mode === 'acknowledged') {
  const reports = await producer.produceSync('keep-alive', ['a', 'b', 'c']);
  console.log(`acknowledged ${reports.length}`);
} else if (mode === 'transaction') {
  // Coordinator lookups and retries wait on the machines' (unreferenced) timers: the awaited
  // operations hold Node open themselves.
  await producer.transaction(async (tx) => tx.produce('keep-alive', ['t1', 't2']));
  console.log('committed');
} else if (mode === 'fire-and-forget') {
  // Nothing awaited: Node must not exit before the callback.
  producer.produceAsync(
    'keep-alive',
    Array.from({ length: 1000 }, (_, i) => `r${i}`),
    (error, reports) => {
      console.log(`callback ${error === null ? 'ok' : error.code} ${reports.length}`);
    },
  );
}
console.log('end of script');
