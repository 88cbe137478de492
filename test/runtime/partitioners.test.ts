import { seeded } from '../support/seeded.js';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  createPartitioner,
  InvalidPartitionError,
  murmur2,
  PARTITIONER_NAMES,
  toPositive,
  type Partitioner,
  type PartitionerFunction,
} from '../../src/runtime/partitioners.js';

const OPTIONS = { batchBytes: 16_384, batchRecords: 100 };

/** Returns the given numbers in turn, then repeats the last one. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)] ?? 0;
}

/**
 * A second murmur2, written independently from the one under test: straight from the algorithm's
 * definition in Java's terms (signed 32-bit ints, `+` to assemble a word, `>>>`), with BigInt
 * arithmetic reduced to 32 bits after each step. Slow, but shares no trick with the fast version.
 */
function referenceMurmur2(data: Uint8Array): number {
  const mask = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & mask;
  const seed = 0x9747b28cn;
  const m = 0x5bd1e995n;
  let h = (seed ^ BigInt(data.length)) & mask;
  const byte = (i: number) => BigInt(data[i] ?? 0);
  const full = Math.floor(data.length / 4);
  for (let w = 0; w < full; w++) {
    const i = w * 4;
    let k = (byte(i) + (byte(i + 1) << 8n) + (byte(i + 2) << 16n) + (byte(i + 3) << 24n)) & mask;
    k = mul(k, m);
    k ^= k >> 24n;
    k = mul(k, m);
    h = mul(h, m);
    h ^= k;
  }
  const rest = data.length % 4;
  const base = full * 4;
  if (rest >= 3) h ^= byte(base + 2) << 16n;
  if (rest >= 2) h ^= byte(base + 1) << 8n;
  if (rest >= 1) {
    h ^= byte(base);
    h = mul(h, m);
  }
  h ^= h >> 13n;
  h = mul(h, m);
  h ^= h >> 15n;
  return Number(BigInt.asIntN(32, h));
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('murmur2', () => {
  // Apache Kafka, clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java, testMurmur2,
  // at commit f55581dc73953c3509a4702433aeeeddc2970779: Utils.murmur2(key) as a Java int.
  it('hashes a key where it lies in a larger buffer (offset) as it hashes the key alone', () => {
    const random = seeded(99);
    const buffer = Buffer.from(Array.from({ length: 200 }, () => Math.floor(random() * 256)));
    for (let start = 0; start < 40; start += 3) {
      for (let length = 0; length < 30; length++) {
        expect(murmur2(buffer, length, start)).toBe(murmur2(buffer.subarray(start, start + length)));
      }
    }
  });

  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('matches Kafka UtilsTest.testMurmur2: %j', (key, expected) => {
    expect(murmur2(bytes(key))).toBe(expected);
  });

  // librdkafka, src/rdmurmur2.c, unittest_murmur2, at commit 6cbbd2f7aee9cad3be4aea2c169f12b5b3d787b0:
  // "java_murmur2_results", int32 values written in hex. The suffixes of "1234" give 4-, 3-, 2- and
  // 1-byte inputs; those of the 38-byte string give tails of 2, 1, 0 and 3 bytes.
  const shortUnaligned = '1234';
  const unaligned = 'PreAmbleWillBeRemoved,ThePrePartThatIs';
  it.each([
    ['kafka', 0xd067cf64],
    ['giberish123456789', 0x8f552b0c],
    [shortUnaligned, 0x9fc97b14],
    [shortUnaligned.slice(1), 0xe7c009ca],
    [shortUnaligned.slice(2), 0x873930da],
    [shortUnaligned.slice(3), 0x5a4b5ca1],
    [unaligned, 0x78424f1c],
    [unaligned.slice(1), 0x4a62b377],
    [unaligned.slice(2), 0xe0e4e09e],
    [unaligned.slice(3), 0x62b8b43f],
    ['', 0x106e08d9],
  ])('matches librdkafka unittest_murmur2 (Java results): %j', (key, expected) => {
    expect(murmur2(bytes(key))).toBe(expected | 0);
  });

  // librdkafka, src/rdmurmur2.c, unittest_murmurhashneutral2, at commit
  // 0ef8e34481174a14c052c70430cd70113852f838: Java's results after toPositive.
  it.each([
    ['kafka', 1348980580],
    ['amqp', 767747138],
    ['giberish123456789', 257239820],
  ])('matches librdkafka unittest_murmurhashneutral2 after toPositive: %j', (key, expected) => {
    expect(toPositive(murmur2(bytes(key)))).toBe(expected);
  });

  it('hashes the empty key (Java: seed ^ 0, no tail, final mix)', () => {
    expect(murmur2(new Uint8Array(0))).toBe(0x106e08d9);
  });

  it('handles 1-, 2- and 3-byte tails, alone and after whole words, with bytes >= 0x80', () => {
    for (let length = 1; length <= 11; length++) {
      for (const fill of [0x00, 0x41, 0x7f, 0x80, 0xff]) {
        const data = Buffer.alloc(length, fill);
        data[length - 1] = 0xfe; // a high byte in the tail: Java masks it with & 0xff
        expect(murmur2(data), `length ${length}, fill ${fill}`).toBe(referenceMurmur2(data));
      }
    }
  });

  it('matches the reference on UTF-8 keys', () => {
    for (const key of [
      'é',
      'ключ',
      '键',
      '🔑',
      'naïve café',
      'Ünïcödé-ключ-键-🔑-0123456789',
      'ß'.repeat(33),
    ]) {
      expect(murmur2(bytes(key)), key).toBe(referenceMurmur2(bytes(key)));
    }
  });

  it('matches the reference on long and random keys of every length up to 300', () => {
    const random = seeded(42);
    for (let length = 0; length <= 300; length++) {
      const data = Buffer.alloc(length);
      for (let i = 0; i < length; i++) data[i] = Math.floor(random() * 256);
      expect(murmur2(data), `length ${length}`).toBe(referenceMurmur2(data));
    }
    const long = Buffer.alloc(1 << 20, 'abcdefghij');
    expect(murmur2(long)).toBe(referenceMurmur2(long));
  });

  it('reads only the view it is given (Buffer slices, Uint8Array)', () => {
    const whole = Buffer.from('xxfoobaryy');
    expect(murmur2(whole.subarray(2, 8))).toBe(-790332482);
    expect(murmur2(new Uint8Array(whole.buffer, whole.byteOffset + 2, 6))).toBe(-790332482);
  });

  it('always returns a signed int32', () => {
    const random = seeded(7);
    for (let n = 0; n < 1000; n++) {
      const h = murmur2(Buffer.from(String(random())));
      expect(h | 0).toBe(h);
    }
  });
});

describe('toPositive', () => {
  it('clears the sign bit, as Kafka Utils.toPositive', () => {
    expect(toPositive(0)).toBe(0);
    expect(toPositive(5)).toBe(5);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(2147483647)).toBe(2147483647);
    expect(toPositive(-973932308)).toBe(1173551340);
  });
});

describe.each(['default', 'murmur2', 'uniform_sticky'] as const)('%s: keyed records', (name) => {
  // librdkafka, tests/0048-partitioner.c, do_test_partitioners, "murmur2" row: partitions computed
  // with Java (tests/java/Murmur2Cli), for 17 partitions (7 in quick mode). The key "" is a key.
  it.each([17, 7])(
    'sends the keys of librdkafka 0048-partitioner to Java partitions (%i partitions)',
    (n) => {
      const p = createPartitioner('t', name, OPTIONS);
      expect(p.partition(Buffer.alloc(0), null, 10, n)).toBe(0x106e08d9 % n);
      expect(p.partition(bytes('123456').subarray(1), null, 10, n)).toBe(0x058d780f % n);
      expect(p.partition(bytes('this is another string with more length to it perhaps'), null, 10, n)).toBe(
        0x4f7703da % n,
      );
      expect(p.partition(bytes('hejsan'), null, 10, n)).toBe(0x5ec19395 % n);
    },
  );

  it('is toPositive(murmur2(key)) % partitionCount, for every count', () => {
    const p = createPartitioner('t', name, OPTIONS);
    for (const key of ['21', 'foobar', 'abc', 'kafka', 'ключ', '']) {
      const h = referenceMurmur2(bytes(key)) & 0x7fffffff;
      for (let n = 1; n <= 64; n++) expect(p.partition(bytes(key), null, 10, n)).toBe(h % n);
    }
  });

  it('hashes a string key as its UTF-8 bytes (a string key is never converted to a Buffer)', () => {
    const p = createPartitioner('t', name, OPTIONS);
    const long = 'clé-'.repeat(100); // longer than the first scratch buffer
    for (const key of ['21', 'foobar', 'ключ', '', '😀\ud800', long]) {
      const h = referenceMurmur2(bytes(key)) & 0x7fffffff;
      for (let n = 1; n <= 64; n++) expect(p.partition(key, null, 10, n), key).toBe(h % n);
    }
  });

  it('ignores value and size for keyed records', () => {
    const p = createPartitioner('t', name, OPTIONS);
    const first = p.partition(bytes('k'), bytes('v1'), 1, 12);
    for (let i = 0; i < 100; i++) expect(p.partition(bytes('k'), bytes(`v${i}`), 1_000_000, 12)).toBe(first);
  });
});

describe.each(['default', 'murmur2', 'uniform_sticky'] as const)('%s: records without a key', (name) => {
  it('stick to one partition until batchBytes bytes went there, the crossing record included', () => {
    // First pick: 0.5 * 6 → 3. Switch: 0.0 → the first partition other than 3 → 0.
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 100, random: sequence(0.5, 0.0) });
    const got = [30, 30, 30, 30, 30].map((size) => p.partition(null, null, size, 6));
    // 30, 60, 90 bytes < 100; the 4th record reaches 120 and still goes to 3; the 5th switches.
    expect(got).toEqual([3, 3, 3, 3, 0]);
  });

  it('switch exactly when the bytes reach batchBytes', () => {
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 100, random: sequence(0.0, 0.0, 0.0) });
    expect([50, 50, 1].map((size) => p.partition(null, null, size, 4))).toEqual([0, 0, 1]);
  });

  it('always switch to a different partition when there is more than one', () => {
    for (let n = 2; n <= 9; n++) {
      const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 1, random: seeded(n) });
      const seen = new Set<number>();
      let previous = p.partition(null, null, 1, n);
      let repeats = 0;
      for (let i = 0; i < 2000; i++) {
        const next = p.partition(null, null, 1, n);
        if (next === previous) repeats++;
        seen.add(next);
        previous = next;
      }
      expect(repeats).toBe(0);
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });

  it('stay on the only partition of a one-partition topic', () => {
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 1, random: seeded(1) });
    for (let i = 0; i < 100; i++) expect(p.partition(null, null, 10, 1)).toBe(0);
  });

  it('spread uniformly over the partitions, one batch at a time', () => {
    const n = 6;
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 1000, random: seeded(2024) });
    const counts = new Array<number>(n).fill(0);
    let switches = 0;
    let previous = -1;
    for (let i = 0; i < 600_000; i++) {
      const partition = p.partition(null, null, 100, n); // 10 records per stick
      counts[partition] = (counts[partition] ?? 0) + 1;
      if (partition !== previous) switches++;
      previous = partition;
    }
    expect(switches).toBe(60_000);
    for (const c of counts) expect(Math.abs(c - 100_000)).toBeLessThan(3_000);
  });

  it('do not count keyed records, which do not move the sticky partition', () => {
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 100, random: sequence(0.5, 0.0) });
    expect(p.partition(null, null, 60, 6)).toBe(3);
    for (let i = 0; i < 50; i++) p.partition(bytes(`key-${i}`), null, 60, 6);
    expect(p.partition(null, null, 30, 6)).toBe(3); // 90 bytes
    expect(p.partition(null, null, 30, 6)).toBe(3); // 120 bytes
    expect(p.partition(null, null, 30, 6)).toBe(0); // switched
  });

  it('re-pick in range when the partition count shrinks, and reach new partitions after it grows', () => {
    const p = createPartitioner('t', name, {
      ...OPTIONS,
      batchBytes: 100,
      random: sequence(0.99, 0.5, 0.99),
    });
    expect(p.partition(null, null, 10, 10)).toBe(9);
    // Metadata now says 4 partitions: 9 is out of range, re-picked at once (0.5 * 4 → 2).
    expect(p.partition(null, null, 10, 4)).toBe(2);
    expect(p.partition(null, null, 10, 4)).toBe(2);
    // Grown to 12: 2 is still valid, and stays until the batch is full.
    expect(p.partition(null, null, 100, 12)).toBe(2);
    // The switch draws among the 11 others: 0.99 * 11 → 10, which is >= 2, so 11.
    expect(p.partition(null, null, 10, 12)).toBe(11);
  });

  it("move on when the sticky partition's open batch is full (newBatch), the record with them", () => {
    // First pick: 0.5 * 6 -> 3. newBatch: 0.0 -> 0, the record goes there and counts there.
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 100, random: sequence(0.5, 0.0, 0.0) });
    expect(p.partition(null, null, 30, 6)).toBe(3);
    expect(p.newBatch?.(3, 30, 6)).toBe(0);
    expect(p.partition(null, null, 30, 6)).toBe(0); // 60 bytes on 0
    expect(p.partition(null, null, 30, 6)).toBe(0); // 90
    expect(p.partition(null, null, 30, 6)).toBe(0); // 120, crossing
    expect(p.partition(null, null, 30, 6)).toBe(1); // switched: 0.0 -> first other than 0
  });

  it('stay past batchBytes while the topic says the partition holds on (a downtime), until its batch is full', () => {
    const down = new Set([3]);
    const p = createPartitioner('t', name, {
      ...OPTIONS,
      batchBytes: 100,
      random: sequence(0.5, 0.0, 0.0),
      holdsOn: (partition) => down.has(partition),
    });
    expect([30, 30, 30, 30, 30, 30].map((size) => p.partition(null, null, size, 6))).toEqual([
      3, 3, 3, 3, 3, 3,
    ]);
    expect(p.newBatch?.(3, 30, 6)).toBe(0); // full: moves on all the same
    down.clear();
    expect([30, 30, 30, 30, 30].map((size) => p.partition(null, null, size, 6))).toEqual([0, 0, 0, 1, 1]); // 30 from newBatch, then 60, 90, 120: switched
  });

  it("newBatch leaves a partition other than the sticky one (a keyed record's) and a one-partition topic alone", () => {
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 100, random: sequence(0.5) });
    expect(p.partition(null, null, 10, 6)).toBe(3);
    expect(p.newBatch?.(5, 10, 6)).toBe(5);
    expect(p.partition(null, null, 10, 6)).toBe(3);
    expect(p.newBatch?.(0, 10, 1)).toBe(0);
  });

  it('work with the default Math.random', () => {
    const p = createPartitioner('t', name, { ...OPTIONS, batchBytes: 10 });
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const partition = p.partition(null, null, 10, 5);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(5);
      seen.add(partition);
    }
    expect(seen.size).toBe(5);
  });
});

describe('random', () => {
  it('picks floor(random * partitionCount), ignoring keys', () => {
    const p = createPartitioner('t', 'random', { ...OPTIONS, random: sequence(0, 0.25, 0.5, 0.999999) });
    expect([null, bytes('k'), bytes('k'), null].map((key) => p.partition(key, null, 10, 4))).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it('stays in range if a user random returns 1 or a tiny negative', () => {
    expect(
      createPartitioner('t', 'random', { ...OPTIONS, random: () => 1 }).partition(null, null, 1, 4),
    ).toBe(3);
    expect(
      createPartitioner('t', 'random', { ...OPTIONS, random: () => -1e-9 }).partition(null, null, 1, 4),
    ).toBe(0);
  });

  it('is uniform, record by record', () => {
    const n = 8;
    const p = createPartitioner('t', 'random', { ...OPTIONS, random: seeded(99) });
    const counts = new Array<number>(n).fill(0);
    let repeats = 0;
    let previous = -1;
    for (let i = 0; i < 400_000; i++) {
      const partition = p.partition(bytes('same key'), null, 10, n);
      counts[partition] = (counts[partition] ?? 0) + 1;
      if (partition === previous) repeats++;
      previous = partition;
    }
    for (const c of counts) expect(Math.abs(c - 50_000)).toBeLessThan(1_500);
    // Not sticky: the same partition twice in a row about 1 time in n.
    expect(Math.abs(repeats - 50_000)).toBeLessThan(1_500);
  });
});

describe('sticky_round_robin', () => {
  it('sends batchRecords records to a partition, then moves to the next one, wrapping', () => {
    const p = createPartitioner('t', 'sticky_round_robin', {
      ...OPTIONS,
      batchRecords: 3,
      random: () => 0.5,
    });
    const got = Array.from({ length: 15 }, (_, i) => p.partition(i % 2 ? bytes(`k${i}`) : null, null, 10, 4));
    expect(got).toEqual([2, 2, 2, 3, 3, 3, 0, 0, 0, 1, 1, 1, 2, 2, 2]);
  });

  it('gives every partition the same share', () => {
    const p = createPartitioner('t', 'sticky_round_robin', {
      ...OPTIONS,
      batchRecords: 7,
      random: seeded(3),
    });
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 7 * 5 * 100; i++) {
      const partition = p.partition(null, null, 10, 5);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    expect(counts).toEqual([700, 700, 700, 700, 700]);
  });

  it('with batchRecords 1, is strict round robin', () => {
    const p = createPartitioner('t', 'sticky_round_robin', { ...OPTIONS, batchRecords: 1, random: () => 0 });
    expect(Array.from({ length: 7 }, () => p.partition(null, null, 10, 3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it('folds back into range when the count shrinks, and reaches new partitions after it grows', () => {
    const p = createPartitioner('t', 'sticky_round_robin', {
      ...OPTIONS,
      batchRecords: 2,
      random: () => 0.99,
    });
    expect([p.partition(null, null, 1, 8), p.partition(null, null, 1, 8)]).toEqual([7, 7]);
    // 7 % 3 = 1, a fresh run of 2.
    expect([
      p.partition(null, null, 1, 3),
      p.partition(null, null, 1, 3),
      p.partition(null, null, 1, 3),
    ]).toEqual([1, 1, 2]);
    // Grown to 5: 2 finishes its run, then 3 and 4 join the rotation.
    const got = Array.from({ length: 7 }, () => p.partition(null, null, 1, 5));
    expect(got).toEqual([2, 3, 3, 4, 4, 0, 0]);
  });
});

describe('strict_round_robin', () => {
  it('sends each record to the next partition, from a random start, ignoring keys', () => {
    const p = createPartitioner('t', 'strict_round_robin', { ...OPTIONS, random: () => 0.6 });
    const got = Array.from({ length: 8 }, (_, i) => p.partition(i % 3 ? bytes('k') : null, null, 10, 5));
    expect(got).toEqual([3, 4, 0, 1, 2, 3, 4, 0]);
  });

  it('includes new partitions at once, and wraps when the count shrinks', () => {
    const p = createPartitioner('t', 'strict_round_robin', { ...OPTIONS, random: () => 0.99 });
    expect(p.partition(null, null, 1, 4)).toBe(3);
    expect([
      p.partition(null, null, 1, 6),
      p.partition(null, null, 1, 6),
      p.partition(null, null, 1, 6),
    ]).toEqual([4, 5, 0]);
    expect(p.partition(null, null, 1, 6)).toBe(1);
    expect(p.partition(null, null, 1, 6)).toBe(2);
    expect(p.partition(null, null, 1, 2)).toBe(0); // 3 would be out of range
    expect(p.partition(null, null, 1, 2)).toBe(1);
  });

  it('gives every partition exactly the same share', () => {
    const p = createPartitioner('t', 'strict_round_robin', { ...OPTIONS, random: seeded(5) });
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) {
      const partition = p.partition(null, null, 10, 7);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    expect(counts).toEqual(new Array<number>(7).fill(1000));
  });
});

describe('custom function', () => {
  it('gets the topic, key, value and partition count, and its answer is used', () => {
    const calls: Parameters<PartitionerFunction>[] = [];
    const fn: PartitionerFunction = (...args) => {
      calls.push(args);
      return args[3] - 1;
    };
    const p = createPartitioner('orders', fn, OPTIONS);
    expect(p.partition(bytes('k'), bytes('v'), 10, 6)).toBe(5);
    expect(p.partition(null, null, 10, 3)).toBe(2);
    expect(calls).toEqual([
      ['orders', bytes('k'), bytes('v'), 6],
      ['orders', null, null, 3],
    ]);
  });

  it('is given Buffers for string keys and values', () => {
    const seen: unknown[] = [];
    const p = createPartitioner('t', (_topic, key, value) => (seen.push(key, value), 0), OPTIONS);
    p.partition('clé', 'vé', 10, 1);
    expect(seen).toEqual([bytes('clé'), bytes('vé')]);
    expect(seen.every((x) => Buffer.isBuffer(x))).toBe(true);
  });

  it('accepts 0 and partitionCount - 1', () => {
    expect(createPartitioner('t', () => 0, OPTIONS).partition(null, null, 1, 1)).toBe(0);
    expect(createPartitioner('t', () => 4, OPTIONS).partition(null, null, 1, 5)).toBe(4);
  });

  it.each([
    [-1, '-1'],
    [6, '6'],
    [1.5, '1.5'],
    [-0.5, '-0.5'],
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [2 ** 32, '4294967296'],
    [2 ** 32 + 1, '4294967297'],
    ['1', '"1"'],
    [undefined, 'undefined'],
    [null, 'null'],
    [1n, '1n'],
  ])('refuses %s with an InvalidPartitionError naming the topic and the value', (returned, shown) => {
    const p = createPartitioner('orders', (() => returned) as unknown as PartitionerFunction, OPTIONS);
    let error: unknown;
    try {
      p.partition(null, null, 1, 6);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidPartitionError);
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as InvalidPartitionError;
    expect(e.code).toBe('ERR_CONFIG');
    expect(e.topic).toBe('orders');
    expect(e.returned).toBe(returned);
    expect(e.partitionCount).toBe(6);
    expect(e.message).toBe(`partitioner of topic "orders": returned ${shown}, expected an integer in [0, 6)`);
  });

  it("lets the function's own errors through", () => {
    const boom = new Error('boom');
    const p = createPartitioner(
      't',
      () => {
        throw boom;
      },
      OPTIONS,
    );
    expect(() => p.partition(null, null, 1, 3)).toThrow(boom);
  });
});

describe('createPartitioner', () => {
  it('knows every name in PARTITIONER_NAMES', () => {
    for (const name of PARTITIONER_NAMES) {
      const p: Partitioner = createPartitioner('t', name, OPTIONS);
      expect(p.partition(bytes('k'), null, 1, 3)).toBeLessThan(3);
      expect(p.partition(null, null, 1, 3)).toBeLessThan(3);
    }
  });

  it('gives each topic its own state', () => {
    const a = createPartitioner('a', 'strict_round_robin', { ...OPTIONS, random: () => 0 });
    const b = createPartitioner('b', 'strict_round_robin', { ...OPTIONS, random: () => 0 });
    expect([
      a.partition(null, null, 1, 3),
      a.partition(null, null, 1, 3),
      b.partition(null, null, 1, 3),
    ]).toEqual([0, 1, 0]);
  });

  it('refuses an unknown strategy with a ConfigError', () => {
    expect(() => createPartitioner('t', 'consistent' as never, OPTIONS)).toThrow(ConfigError);
    expect(() => createPartitioner('t', 'consistent' as never, OPTIONS)).toThrow(
      /partitioner: unknown strategy "consistent" for topic "t"/,
    );
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity])(
    'refuses batchBytes %s for the sticky strategies',
    (batchBytes) => {
      for (const name of ['default', 'murmur2', 'uniform_sticky'] as const) {
        expect(() => createPartitioner('t', name, { ...OPTIONS, batchBytes })).toThrow(
          /^batchBytes: must be a positive integer/,
        );
      }
      // Strategies that do not use it do not care.
      expect(() => createPartitioner('t', 'strict_round_robin', { ...OPTIONS, batchBytes })).not.toThrow();
    },
  );

  it.each([0, -3, 2.5])('refuses batchRecords %s for sticky_round_robin', (batchRecords) => {
    expect(() => createPartitioner('t', 'sticky_round_robin', { ...OPTIONS, batchRecords })).toThrow(
      /^batchRecords: must be a positive integer/,
    );
  });

  it('refuses a random that is not a function', () => {
    expect(() => createPartitioner('t', 'random', { ...OPTIONS, random: 4 as never })).toThrow(ConfigError);
  });
});
