// Compression on Apache Kafka 4.4.0 (issue 13, part 2): three KRaft nodes, RF 3, min ISR 2,
// acks all, idempotence on.
//
// - gzip, snappy, lz4 and zstd, each to its own topic with compression.type=producer: the
//   broker keeps ekaf's batches as they are, but first decompresses every one to validate it
//   (CRC, record count, offset deltas, sequence numbers), so an acknowledgement is the broker's
//   verdict on ekaf's encoding. The segments on disk must hold batches of that codec only.
// - a topic with compression.type=zstd that ekaf sends to uncompressed and with gzip: the
//   broker recompresses every batch (the segments hold zstd only).
//
// Each topic is read back with kcat (CRCs checked): every record exactly once, where ekaf's
// delivery report said, keys, values and headers byte for byte (all 256 byte values occur),
// null kept apart from empty. Values range from empty to 100 KiB, compressible and not.
//
// snappy, lz4 and the CRC come from the native optional packages where they load, else from
// ekaf's pure TypeScript; `EKAF_PURE=1 npx vitest run test/kafka/compression.test.ts` runs this on
// the pure path. zstd is node:zlib's (Node 22.15+) or WebAssembly (@bokuweb/zstd-wasm): a missing
// one fails this test (ERR_CONFIG from createProducer) rather than skipping it.
//
// Starts JVMs: on a shared machine run it under `flock /tmp/ekaf-kafka.lock`.
// EKAF_COMPRESSION_SEED=<n> replays another seed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicSettings } from '../../src/config.js';
import { createProducer, type DeliveryReport, type ProduceRecord } from '../../src/index.js';
import { CompressionCodec } from '../../src/protocol/record-batch.js';
import { seeded } from '../support/seeded.js';
import { startKafkaCluster, type KafkaCluster } from './kafka-cluster.js';
import { readWithKcat, type ReadBackRecord } from './read-back.js';

const SEED = Number(process.env.EKAF_COMPRESSION_SEED ?? 20261214);
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
type CodecName = (typeof CODECS)[number];
const RECORDS_PER_CODEC = 3_000;
const PARTITIONS = 3;
const RECOMPRESSED = 'recompressed-zstd';
const KIB = 1_024;

const topicOf = (codec: CodecName): string => `compressed-${codec}`;

// ---------------------------------------------------------------------------------------------
// Records

interface Expected {
  key: Buffer | null;
  value: Buffer | null;
  /** The first header is always ['id', '<n>']: how a read-back record is matched. */
  headers: [string, Buffer | null][];
}

const LOREM = Buffer.from(
  'Kafka batches compress well when records repeat themselves: keys, field names, enums. ',
);

/**
 * `count` records with ids from `firstId`. Values: a tenth null, the rest from empty to 100 KiB,
 * half random bytes (incompressible, every byte value), half repetitive text (compressible).
 */
function makeRecords(random: () => number, firstId: number, count: number): Expected[] {
  const int = (below: number): number => Math.floor(random() * below);
  const bytes = (length: number): Buffer => {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = int(256);
    return out;
  };
  const text = (length: number): Buffer => {
    const out = Buffer.allocUnsafe(length);
    const start = int(LOREM.length);
    for (let i = 0; i < length; i++) out[i] = LOREM[(start + i) % LOREM.length] ?? 0x20;
    // A few random bytes, so that not every value is the same run of text.
    for (let i = 0; i < length / 64; i++) out[int(length)] = int(256);
    return out;
  };
  const records: Expected[] = [];
  for (let n = 0; n < count; n++) {
    const id = firstId + n;
    const key = random() < 0.1 ? null : bytes(int(40));
    const sizeRoll = random();
    const length =
      sizeRoll < 0.35
        ? int(100)
        : sizeRoll < 0.7
          ? 100 + int(4 * KIB)
          : sizeRoll < 0.88
            ? 4 * KIB + int(28 * KIB)
            : sizeRoll < 0.9
              ? 100 * KIB
              : -1;
    const value = length < 0 ? null : random() < 0.5 ? bytes(length) : text(length);
    const headers: [string, Buffer | null][] = [['id', Buffer.from(String(id))]];
    for (let h = int(4); h > 0; h--) {
      const kind = int(4);
      headers.push([
        ['bin', 'ünïcödé', 'empty', 'null'][kind] ?? 'bin',
        kind === 0
          ? bytes(int(64))
          : kind === 1
            ? Buffer.from('wert ✓')
            : kind === 2
              ? Buffer.alloc(0)
              : null,
      ]);
    }
    records.push({ key, value, headers });
  }
  return records;
}

const asProduceRecord = (r: Expected): ProduceRecord => ({ key: r.key, value: r.value, headers: r.headers });

// ---------------------------------------------------------------------------------------------
// Checks

const show = (b: Buffer | null): string =>
  b === null ? 'null' : `${b.length}B ${b.subarray(0, 24).toString('hex')}`;
const sameBytes = (a: Buffer | null, b: Buffer | null): boolean =>
  a === null || b === null ? a === b : a.equals(b);

/** Every expected record exactly once, where its report said, byte for byte. */
function expectIntact(
  topic: string,
  read: ReadBackRecord[],
  expected: Map<number, Expected>,
  reports: Map<number, DeliveryReport>,
): void {
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const r of read) {
    const where = `${topic} p${r.partition}@${r.offset}`;
    const idHeader = r.headers[0];
    const id = idHeader?.[0] === 'id' && idHeader[1] !== null ? Number(idHeader[1].toString()) : NaN;
    const want = expected.get(id);
    if (want === undefined) {
      problems.push(`${where}: no known id (${JSON.stringify(idHeader?.[0])})`);
      continue;
    }
    if (seen.has(id)) problems.push(`${where}: record ${id} read twice`);
    seen.add(id);
    const report = reports.get(id);
    if (report?.partition !== r.partition || report.offset !== r.offset) {
      problems.push(`${where}: record ${id} reported at p${report?.partition}@${report?.offset}`);
    }
    if (!sameBytes(r.key, want.key)) problems.push(`${where}: key ${show(r.key)}, sent ${show(want.key)}`);
    if (!sameBytes(r.value, want.value)) {
      problems.push(`${where}: value ${show(r.value)}, sent ${show(want.value)}`);
    }
    const headersMatch =
      r.headers.length === want.headers.length &&
      r.headers.every(([name, value], i) => {
        const sent = want.headers[i];
        return sent !== undefined && sent[0] === name && sameBytes(value, sent[1]);
      });
    if (!headersMatch) problems.push(`${where}: headers differ from what was sent`);
  }
  for (const id of expected.keys())
    if (!seen.has(id)) problems.push(`${topic}: record ${id} never read back`);
  expect(problems.slice(0, 20), `${problems.length} problems (seed ${SEED})`).toEqual([]);
  expect(read).toHaveLength(expected.size);
}

/**
 * The codec of every batch the brokers stored for a topic, read from the segment files of each
 * replica (RecordBatch v2: batchLength at byte 8, magic at 16, attributes at 21, codec in
 * attributes' bits 0–2). Counts batches per codec over all replicas.
 */
function storedCodecs(cluster: KafkaCluster, topic: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const node of cluster.nodes) {
    const dataDir = join(node.dir, 'data');
    for (const dir of readdirSync(dataDir)) {
      if (!dir.startsWith(`${topic}-`) || !/^\d+$/.test(dir.slice(topic.length + 1))) continue;
      for (const file of readdirSync(join(dataDir, dir)).filter((f) => f.endsWith('.log'))) {
        const log = readFileSync(join(dataDir, dir, file));
        for (let at = 0; at + 61 <= log.length;) {
          const batchLength = log.readInt32BE(at + 8);
          expect(log[at + 16], `magic of a batch in ${dir}/${file}`).toBe(2);
          const codec = log.readInt16BE(at + 21) & 0x07;
          counts.set(codec, (counts.get(codec) ?? 0) + 1);
          at += 12 + batchLength;
        }
      }
    }
  }
  return counts;
}

/** Batch bytes before and after compression, summed over a topic's partition actors. */
function compressionStats(
  actors: ReturnType<ReturnType<typeof createProducer>['inspect']>,
  topic: string,
): { before: number; sent: number } {
  let before = 0;
  let sent = 0;
  for (const actor of actors) {
    if (actor.kind !== 'partition' || !actor.name.startsWith(`partition:${topic}:`)) continue;
    before += actor.details.bytesBeforeCompression;
    sent += actor.details.bytesSent;
  }
  return { before, sent };
}

// ---------------------------------------------------------------------------------------------

describe('compression on Kafka 4.4.0, three KRaft nodes (RF 3, min ISR 2)', () => {
  let cluster: KafkaCluster | undefined;
  let describeStarted = 0;
  const started = (): KafkaCluster => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
  const topicSpec = (name: string, compressionType: string) => ({
    name,
    partitions: PARTITIONS,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2', 'compression.type': compressionType },
  });

  beforeAll(async () => {
    describeStarted = Date.now();
    cluster = await startKafkaCluster({
      version: '4.4.0',
      nodes: 3,
      topics: [
        ...CODECS.map((codec) => topicSpec(topicOf(codec), 'producer')),
        topicSpec(RECOMPRESSED, 'zstd'),
      ],
    });
    console.log(`[compression] 3 nodes up in ${cluster.startup.ms} ms (seed ${SEED})`);
  }, 240_000);

  afterAll(async () => {
    await cluster?.kill();
    console.log(`[compression] describe took ${((Date.now() - describeStarted) / 1000).toFixed(1)} s`);
  }, 60_000);

  it(`gzip, snappy, lz4 and zstd batches (${RECORDS_PER_CODEC} records each, up to 100 KiB, headers) validated by the broker and read back intact`, async () => {
    const c = started();
    const random = seeded(SEED);
    const topics: Record<string, Partial<TopicSettings>> = {};
    for (const codec of CODECS) topics[topicOf(codec)] = { compression: codec };
    const producer = createProducer({ brokers: c.bootstrap, clientId: 'compression-test', topics });
    const sent = new Map<
      CodecName,
      { expected: Map<number, Expected>; reports: Map<number, DeliveryReport> }
    >();
    let actors: ReturnType<typeof producer.inspect> = [];
    try {
      await Promise.all(
        CODECS.map(async (codec, i) => {
          const records = makeRecords(random, i * RECORDS_PER_CODEC, RECORDS_PER_CODEC);
          const got = await producer.produceSync(topicOf(codec), records.map(asProduceRecord));
          const expected = new Map<number, Expected>();
          const reports = new Map<number, DeliveryReport>();
          records.forEach((r, n) => {
            const report = got[n];
            expected.set(i * RECORDS_PER_CODEC + n, r);
            if (report !== undefined) reports.set(i * RECORDS_PER_CODEC + n, report);
          });
          sent.set(codec, { expected, reports });
        }),
      );
      actors = producer.inspect();
    } finally {
      await producer.close();
    }

    for (const codec of CODECS) {
      const topic = topicOf(codec);
      const result = sent.get(codec);
      if (result === undefined) throw new Error(`nothing sent with ${codec}`);
      const { expected, reports } = result;
      const stats = compressionStats(actors, topic);
      const stored = storedCodecs(c, topic);
      console.log(
        `[compression] ${codec}: ${stats.before} bytes of batches sent as ${stats.sent} ` +
          `(${((stats.sent / stats.before) * 100).toFixed(0)}%); stored batches by codec ${JSON.stringify(Object.fromEntries(stored))}`,
      );
      // Half the values are text: every codec must have shrunk the batches.
      expect(stats.sent).toBeLessThan(stats.before);
      // compression.type=producer: the broker kept ekaf's batches, codec included.
      expect([...stored.keys()], topic).toEqual([CompressionCodec[codec]]);
      expectIntact(topic, await readWithKcat(c.bootstrap, topic), expected, reports);
    }
  }, 300_000);

  it('a compression.type=zstd topic recompresses what ekaf sends uncompressed and with gzip', async () => {
    const c = started();
    const random = seeded(SEED + 1);
    const expected = new Map<number, Expected>();
    const reports = new Map<number, DeliveryReport>();
    const ways: ('none' | 'gzip')[] = ['none', 'gzip'];
    for (const [i, compression] of ways.entries()) {
      const records = makeRecords(random, i * RECORDS_PER_CODEC, RECORDS_PER_CODEC / 2);
      const producer = createProducer({
        brokers: c.bootstrap,
        clientId: `compression-test-${compression}`,
        topics: { [RECOMPRESSED]: { compression } },
      });
      try {
        const got = await producer.produceSync(RECOMPRESSED, records.map(asProduceRecord));
        records.forEach((r, n) => {
          expected.set(i * RECORDS_PER_CODEC + n, r);
          const report = got[n];
          if (report !== undefined) reports.set(i * RECORDS_PER_CODEC + n, report);
        });
      } finally {
        await producer.close();
      }
    }
    const stored = storedCodecs(c, RECOMPRESSED);
    console.log(
      `[compression] ${RECOMPRESSED}: stored batches by codec ${JSON.stringify(Object.fromEntries(stored))}`,
    );
    expect([...stored.keys()]).toEqual([CompressionCodec.zstd]);
    expectIntact(RECOMPRESSED, await readWithKcat(c.bootstrap, RECOMPRESSED), expected, reports);
  }, 300_000);
});
