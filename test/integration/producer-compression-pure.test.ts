// The pure path end to end: EKAF_PURE=1 set before ekaf is loaded (this file imports ekaf only
// after setting it; vitest gives each file its own modules), so batches are compressed by ekaf's
// pure snappy and LZ4 and checksummed by its pure CRC-32C. Every codec's topic is read back by
// librdkafka (kcat, CRCs checked) and every record counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type MockCluster } from '../broker/cluster.js';
import { readTopic } from '../broker/kcat.js';
import { seeded } from '../support/seeded.js';

process.env.EKAF_PURE = '1';
const { accelerators, createProducer } = await import('../../src/index.js');
type Producer = ReturnType<typeof createProducer>;

const CODECS = ['snappy', 'lz4', 'gzip', 'zstd'] as const;
const RECORDS = 30_000;

const SEED = 20261202;
const random = seeded(SEED);

/** JSON events with repeated fields, and every tenth random (incompressible); all distinct. */
function value(i: number): string {
  if (i % 10 === 0) return `${i}:${random().toString(36)}${random().toString(36)}`;
  return JSON.stringify({ id: i, type: 'page_view', user: `user-${i % 700}`, path: `/p/${i % 89}` });
}

describe('compression with EKAF_PURE=1 (pure snappy, LZ4, CRC-32C), read back by kcat', () => {
  let cluster: MockCluster;
  let producer: Producer;
  beforeAll(async () => {
    cluster = await startCluster({
      peer: '2.12',
      brokers: 3,
      topics: CODECS.map((codec) => ({ name: `pure-${codec}`, partitions: 3 })),
    });
    producer = createProducer({
      brokers: cluster.bootstrap,
      topics: Object.fromEntries(CODECS.map((codec) => [`pure-${codec}`, { compression: codec }])),
    });
  });
  afterAll(async () => {
    await producer.close();
    await cluster.stop();
  });

  it('uses the pure implementations (the CRC in WebAssembly: no native addon either)', () => {
    const report = accelerators();
    expect(report.pureForced).toBe(true);
    expect([report.crc32c, report.snappy, report.lz4].map((c) => c.implementation)).toEqual([
      'wasm',
      'pure',
      'pure',
    ]);
  });

  it.each(CODECS)('%s: 30 000 records in batches of 1 to 5 000, every one read back', async (codec) => {
    const topic = `pure-${codec}`;
    const values = Array.from({ length: RECORDS }, (_, i) => value(i));
    // Call sizes from a single record to large batches: tiny and multi-block LZ4 frames.
    const sizes = [1, 2, 17, 250, 1000, 5000];
    for (let i = 0, k = 0; i < RECORDS; k++) {
      const n = Math.min(sizes[k % sizes.length] as number, RECORDS - i);
      await producer.produceSync(
        topic,
        values.slice(i, i + n).map((v, j) => ({ key: `k${(i + j) % 977}`, value: v })),
      );
      i += n;
    }
    const consumed = await readTopic(cluster.bootstrap, topic, { timeoutMs: 120_000 });
    expect(consumed).toHaveLength(RECORDS);
    const got = new Map(consumed.map((r) => [r.value?.toString(), r.key?.toString()]));
    expect(got.size).toBe(RECORDS);
    values.forEach((v, i) => {
      expect(got.get(v), `record ${i}`).toBe(`k${i % 977}`);
    });
  });
});
