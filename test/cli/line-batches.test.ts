// ekaf produce's fast path: lines encoded straight into batches (LineBatcher), handed whole to
// the producer (produceEncodedBatch). The batches' records are checked against the rules the
// record path follows (LineSplitter's split, the default partitioner's choice), then produced
// into a mock cluster and read back by kcat.
import { describe, expect, it } from 'vitest';
import { LineBatcher, type LineBatchOptions, type ReadyBatch } from '../../src/cli/line-batches.js';
import { LineSplitter } from '../../src/cli/line-splitter.js';
import { createProducer } from '../../src/index.js';
import { createPartitioner } from '../../src/runtime/partitioners.js';
import { MAX_STICKY_BYTES } from '../../src/runtime/topic-node.js';
import { readTopic } from '../broker/kcat.js';
import { useMockCluster } from '../support/cluster-fixture.js';
import { decodeRecordBatch } from '../support/record-batch-decoder.js';
import { seeded } from '../support/seeded.js';

const T0 = 1_700_000_000_000;

function batcher(options: Partial<LineBatchOptions> = {}): LineBatcher {
  return new LineBatcher({
    partitions: 6,
    batchBytes: 1_000_000,
    lingerMs: 5,
    maxRecordBytes: 1_000_000,
    random: seeded(7),
    ...options,
  });
}

/** Splits `text` into lines and adds each to `lines` as `ekaf produce` does; false results. */
function addAll(lines: LineBatcher, text: string, delimiter?: string, now = T0): number {
  const splitter = new LineSplitter(delimiter === undefined ? {} : { keyDelimiter: Buffer.from(delimiter) });
  splitter.push(Buffer.from(text));
  let refused = 0;
  while (splitter.nextLine()) {
    if (!lines.add(splitter.line, splitter.lineStart, splitter.lineEnd, now)) refused++;
  }
  if (splitter.finishLine() && !lines.add(splitter.line, splitter.lineStart, splitter.lineEnd, now))
    refused++;
  return refused;
}

/** Each ready batch as [partition, "key:value" lines (key "-" for none)], checking its CRC-less bytes. */
function decoded(ready: ReadyBatch[]): [number, string[]][] {
  return ready.map(({ partition, batch }) => {
    const { records } = decodeRecordBatch(batch.bytes, { checkCrc: false });
    expect(records).toHaveLength(batch.recordCount);
    const payload = records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
    expect(batch.payloadBytes).toBe(payload);
    return [partition, records.map((r) => `${r.key?.toString() ?? '-'}:${r.value?.toString() ?? 'null'}`)];
  });
}

describe('LineBatcher', () => {
  it('puts each keyed line where the default partitioner puts its key, in input order (seeded)', () => {
    const seed = 424242;
    const random = seeded(seed);
    const lines = Array.from({ length: 3000 }, (_, i) => {
      const key = Math.floor(random() * 500).toString(36);
      return `${key}=${'v'.repeat(Math.floor(random() * 300))}${i}`;
    });
    const b = batcher({ keyDelimiter: Buffer.from('=') });
    expect(addAll(b, lines.join('\n'), '=')).toBe(0);
    b.sealAll();
    const partitioner = createPartitioner('t', 'default', { batchBytes: 1_000_000, batchRecords: 10_000 });
    const want = new Map<number, string[]>();
    for (const line of lines) {
      const [key, value] = line.split('=') as [string, string];
      const partition = partitioner.partition(Buffer.from(key), null, 0, 6);
      want.set(partition, [...(want.get(partition) ?? []), `${key}:${value}`]);
    }
    const got = new Map(decoded(b.takeReady()));
    expect(got, `seed ${seed}`).toEqual(want);
  });

  it('keeps LineSplitter’s rules: no delimiter means no key, an empty key stays empty, a multi-byte delimiter', () => {
    const b = batcher({ keyDelimiter: Buffer.from('::'), partition: 2 });
    addAll(b, 'a::1\nno key\n::empty key\nk::\nx::y::z\n\nlast::line', '::');
    b.sealAll();
    expect(decoded(b.takeReady())).toEqual([
      [2, ['a:1', '-:no key', ':empty key', 'k:', 'x:y::z', 'last:line']],
    ]);
  });

  it('sticks key-less lines to one partition until its batch is full, then moves on', () => {
    const b = batcher({ batchBytes: 1000 });
    addAll(
      b,
      Array.from({ length: 40 }, (_, i) => `${'x'.repeat(90)}${String(i).padStart(2, '0')}`).join('\n'),
    );
    const full = decoded(b.takeReady());
    expect(full.length).toBeGreaterThanOrEqual(3);
    for (const [i, [partition, records]] of full.entries()) {
      expect(records.length).toBe(9); // 9 records of ~100 bytes in 1000 bytes
      if (i > 0) expect(partition).not.toBe(full[i - 1]?.[0]);
    }
    // Every line once, in order.
    b.sealAll();
    const all = [...full, ...decoded(b.takeReady())].flatMap(([, records]) => records);
    expect(all.map((r) => Number(r.slice(-2)))).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('moves key-less lines on after MAX_STICKY_BYTES, as the producer’s sticky partitioner does', () => {
    const b = batcher();
    const lines = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(4, '0')}${'y'.repeat(996)}`);
    addAll(b, lines.join('\n'));
    b.sealAll();
    // Per line, its partition, in input order: runs of MAX_STICKY_BYTES / 1000 bytes.
    const where = new Map<number, number>();
    for (const [partition, records] of decoded(b.takeReady()))
      for (const record of records) where.set(Number(record.slice(2, 6)), partition);
    const runs: number[] = [];
    for (let i = 0; i < 1000; i++) {
      if (i === 0 || where.get(i) !== where.get(i - 1)) runs.push(0);
      runs[runs.length - 1] = (runs.at(-1) ?? 0) + 1;
    }
    const share = Math.ceil(MAX_STICKY_BYTES / 1000);
    expect(runs.slice(0, -1).every((run) => run === share || run === share + 1)).toBe(true);
    expect(new Set(where.values()).size).toBe(6);
  });

  it('fills batches up to batchBytes; a record larger than that goes alone; one larger than a request is refused', () => {
    const b = batcher({ batchBytes: 4096, maxRecordBytes: 10_000, partition: 0 });
    const refused = addAll(
      b,
      ['a'.repeat(1000), 'b'.repeat(1000), 'c'.repeat(1000), 'd'.repeat(6000), 'e'.repeat(10_001), 'f'].join(
        '\n',
      ),
    );
    expect(refused).toBe(1);
    expect(b.refusedBytes).toBe(10_001);
    b.sealAll();
    const ready = b.takeReady();
    expect(ready.map(({ batch }) => batch.recordCount)).toEqual([3, 1, 1]);
    expect(ready[0]?.batch.bytes.length).toBeLessThanOrEqual(4096);
    expect(decoded(ready).map(([, r]) => r.map((s) => s.charAt(2)))).toEqual([['a', 'b', 'c'], ['d'], ['f']]);
  });

  it('seals a batch when its linger has run out since its first line, not before', () => {
    const b = batcher({ partition: 1, lingerMs: 5 });
    addAll(b, 'one', undefined, T0);
    addAll(b, 'two', undefined, T0 + 3);
    b.sealExpired(T0 + 4);
    expect(b.takeReady()).toEqual([]);
    expect(b.hasOpen).toBe(true);
    b.sealExpired(T0 + 5);
    expect(decoded(b.takeReady())).toEqual([[1, ['-:one', '-:two']]]);
    expect(b.hasOpen).toBe(false);
  });
});

describe('Producer.produceEncodedBatch', () => {
  const cluster = useMockCluster({
    topics: [
      { name: 'encoded', partitions: 3 },
      { name: 'later', partitions: 2 },
    ],
  });

  it('delivers batches in order after the records produced before them; kcat reads each line once', async () => {
    const producer = createProducer({ brokers: cluster().bootstrap, clientId: 'encoded' });
    try {
      expect(producer.partitionCount('encoded')).toBe(-1);
      // Records first, as ekaf produce sends them while the partitions are not known.
      await producer.produceSync(
        'encoded',
        [0, 1, 2].map((p) => ({ key: `r${p}`, value: 'before', partition: p })),
      );
      expect(producer.partitionCount('encoded')).toBe(3);
      const b = batcher({ partitions: 3, batchBytes: 2000, keyDelimiter: Buffer.from(':') });
      const lines = Array.from({ length: 2000 }, (_, i) => `k${i % 50}:line ${i}`);
      addAll(b, lines.join('\n'), ':');
      b.sealAll();
      const ready = b.takeReady();
      expect(ready.length).toBeGreaterThan(3);
      let delivered = 0;
      await Promise.all(
        ready.map(
          ({ partition, batch }) =>
            new Promise<void>((resolve, reject) => {
              producer.produceEncodedBatch('encoded', partition, batch, (error, reports) => {
                if (error !== null) {
                  reject(error);
                  return;
                }
                expect(reports).toHaveLength(batch.recordCount);
                expect(new Set(reports.map((r) => r?.partition))).toEqual(new Set([partition]));
                delivered += reports.length;
                resolve();
              });
            }),
        ),
      );
      expect(delivered).toBe(2000);
      const records = await readTopic(cluster().bootstrap, 'encoded');
      expect(records).toHaveLength(2003);
      for (const partition of [0, 1, 2]) {
        const values = records.filter((r) => r.partition === partition).map((r) => r.value?.toString() ?? '');
        expect(values[0]).toBe('before');
        const indexes = values.slice(1).map((v) => Number(v.split(' ')[1]));
        expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
      }
      const read = records.slice().map((r) => `${r.key?.toString()}:${r.value?.toString()}`);
      expect(read.filter((r) => r.includes('line')).sort()).toEqual([...lines].sort());
    } finally {
      await producer.close();
    }
  });

  it('before the partitions are known, reads its records back and sends them as records', async () => {
    const producer = createProducer({ brokers: cluster().bootstrap, clientId: 'encoded-early' });
    try {
      const b = batcher({ partitions: 2, partition: 1 });
      addAll(b, 'a\nb\nc');
      b.sealAll();
      const [ready] = b.takeReady();
      const reports = await new Promise((resolve, reject) => {
        producer.produceEncodedBatch('later', 1, (ready as ReadyBatch).batch, (error, r) => {
          if (error === null) resolve(r);
          else reject(error);
        });
      });
      expect(reports).toMatchObject([{ partition: 1 }, { partition: 1 }, { partition: 1 }]);
      const records = await readTopic(cluster().bootstrap, 'later');
      expect(records.map((r) => [r.partition, r.value?.toString()])).toEqual([
        [1, 'a'],
        [1, 'b'],
        [1, 'c'],
      ]);
    } finally {
      await producer.close();
    }
  });

  it('refuses what it cannot take, naming it, and accepts nothing then', () => {
    const producer = createProducer({
      brokers: cluster().bootstrap,
      clientId: 'encoded-bad',
      maxRequestBytes: 64 * 1024,
    });
    const b = batcher({ partition: 0, batchBytes: 200_000, maxRecordBytes: 200_000 });
    addAll(b, 'x'.repeat(100_000));
    b.sealAll();
    const [ready] = b.takeReady();
    const batch = (ready as ReadyBatch).batch;
    expect(() => {
      producer.produceEncodedBatch('encoded', 0, batch);
    }).toThrow(/exceeds the limit/);
    expect(() => {
      producer.produceEncodedBatch('encoded', -1, batch);
    }).toThrow(/partition: must be a non-negative integer/);
    expect(() => {
      producer.produceEncodedBatch('bad topic', 0, batch);
    }).toThrow(/topic/);
    expect(producer.metrics()).toMatchObject({ bufferedRecords: 0, bufferedBytes: 0 });
    void producer.close();
  });
});
