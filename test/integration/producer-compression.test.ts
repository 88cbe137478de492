import { afterAll, describe, expect, it } from 'vitest';
import type { CompressionName } from '../../src/protocol/compression.js';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';
import { readTopic } from '../broker/kcat.js';
import { ofKind } from '../../src/runtime/introspection.js';

const RECORDS = 50_000;
const CODECS: CompressionName[] = ['gzip', 'snappy', 'lz4', 'zstd'];

/** Compressible JSON, as events usually are. */
const event = (i: number): string =>
  JSON.stringify({
    id: i,
    type: 'page_view',
    user: `user-${i % 500}`,
    path: `/products/${i % 97}`,
    ok: true,
  });

describe('compression: every codec read back by librdkafka (kcat)', () => {
  const sizes: string[] = [];
  afterAll(() => {
    console.log(`compressed batch sizes (${RECORDS} records each):\n${sizes.join('\n')}`);
  });
  const cluster = useMockCluster({
    peer: '2.12',
    brokers: 3,
    topics: CODECS.map((codec) => ({ name: `c-${codec}`, partitions: 3 })),
  });
  const producer = useProducer(cluster, {
    topics: Object.fromEntries(CODECS.map((codec) => [`c-${codec}`, { compression: codec }])),
  });

  it.each(CODECS)('%s: 50 000 records, each read back intact', async (codec) => {
    const topic = `c-${codec}`;
    const values = Array.from({ length: RECORDS }, (_, i) => event(i));
    for (let i = 0; i < RECORDS; i += 5000) {
      await producer().produceSync(
        topic,
        values.slice(i, i + 5000).map((value, j) => ({ key: `k${(i + j) % 1000}`, value })),
      );
    }
    const partitions = ofKind(producer().inspect(), 'partition').filter((a) =>
      a.name.startsWith(`partition:${topic}:`),
    );
    const before = partitions.reduce((n, a) => n + a.details.bytesBeforeCompression, 0);
    const sent = partitions.reduce((n, a) => n + a.details.bytesSent, 0);
    sizes.push(`  ${codec.padEnd(6)} ${before} -> ${sent} bytes (${((100 * sent) / before).toFixed(1)} %)`);
    expect(sent).toBeLessThan(before / 2);

    const consumed = await readTopic(cluster().bootstrap, topic, { timeoutMs: 120_000 });
    expect(consumed).toHaveLength(RECORDS);
    const got = new Set(consumed.map((r) => r.value?.toString()));
    expect(got.size).toBe(RECORDS);
    for (const value of values) expect(got.has(value)).toBe(true);
  });
});
