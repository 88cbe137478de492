/**
 * Partitioners: which partition of a topic each record goes to.
 *
 * One `Partitioner` per topic (it holds that topic's sticky or round-robin state); the topic's
 * produce path calls `partition()` once per record, synchronously, before appending the encoded
 * record to that partition's accumulator. That is millions of calls per second, so `partition()`
 * allocates nothing, and each strategy is its own small class so the call site stays monomorphic
 * for a given topic.
 *
 * | name                 | keyed record    | record without a key         | nearest equivalent                    |
 * | -------------------- | --------------- | ---------------------------- | ------------------------------------- |
 * | `default`            | murmur2 % count | sticky, `batchBytes` each    | Java built-in, KIP-794 (not adaptive) |
 * | `murmur2`            | murmur2 % count | as `default`                 | librdkafka `murmur2_random`           |
 * | `uniform_sticky`     | murmur2 % count | as `default`                 | KIP-794 "uniform sticky"              |
 * | `random`             | random          | random                       | ekaf, librdkafka `random`             |
 * | `sticky_round_robin` | as no key       | `batchRecords` each, in turn | ekaf `sticky_round_robin`             |
 * | `strict_round_robin` | as no key       | next partition each record   | ekaf; Java RoundRobinPartitioner      |
 *
 * `default`, `murmur2` and `uniform_sticky` are one strategy under three names: the names people
 * bring from Java, librdkafka and KIP-794 all mean "hash the key like Java, stick when there is
 * none". Two near-misses: librdkafka's own `murmur2` sends every null-key record to the partition
 * of the empty key, and Java's deprecated `UniformStickyPartitioner` class (like
 * `partitioner.ignore.keys=true`) ignores keys altogether; neither is what these names do here.
 * An empty key (`Buffer.alloc(0)`) is a key, hashed as Java hashes it; only `null` is "no key".
 *
 * The round-robin and sticky strategies start at a random partition, so that many producers
 * started together do not all pile onto partition 0. If the partition count changes between calls
 * (the topic grew, or stale metadata said fewer), the state is brought back in range before use.
 */
import { ConfigError } from '../errors.js';
import { byteSize, putRecordBytes, toBytes, type RecordBytes } from '../protocol/record-bytes.js';

export type PartitionerName =
  'default' | 'murmur2' | 'uniform_sticky' | 'random' | 'sticky_round_robin' | 'strict_round_robin';

/** Every built-in strategy's name, for option validation. */
export const PARTITIONER_NAMES: readonly PartitionerName[] = [
  'default',
  'murmur2',
  'uniform_sticky',
  'random',
  'sticky_round_robin',
  'strict_round_robin',
];

/**
 * A user partitioner: (topic, key, value, partitionCount) => partition index in
 * [0, partitionCount). Roughly Java's `Partitioner.partition` / librdkafka's `partitioner_cb`.
 * Its result is checked on every call; anything but an integer in range throws
 * `InvalidPartitionError`.
 */
export type PartitionerFunction = (
  topic: string,
  key: Buffer | null,
  value: Buffer | null,
  partitionCount: number,
) => number;

export interface Partitioner {
  /**
   * Chooses the partition of one record. `size` is the record's encoded size in bytes (only the
   * sticky strategies use it). `partitionCount` is the topic's current number of partitions, a
   * positive integer: the caller takes it from metadata and does not call without partitions.
   */
  partition(
    key: RecordBytes | null,
    value: RecordBytes | null,
    size: number,
    partitionCount: number,
    /** The key's UTF-8 bytes when the caller knows them (a string key is not measured twice). */
    keySize?: number,
  ): number;
  /**
   * The key-less record just placed on `partition` would not fit in that partition's open batch
   * (it would start a new one there): a sticky strategy moves on now, and returns where the
   * record goes instead. Without it, the record starts a new batch there. Java's KIP-480
   * `onNewBatch`, which keeps a sticky partition from leaving a small batch behind each time it
   * moves on (at 1 000 partitions, a thousand partly filled batches).
   */
  newBatch?(partition: number, size: number, partitionCount: number): number;
}

export interface PartitionerOptions {
  /**
   * Bytes of key-less records sent to one partition before the sticky strategies move on, roughly
   * Java's `batch.size` (which KIP-794 uses as the sticky size). A positive integer.
   */
  batchBytes: number;
  /** Records per partition before `sticky_round_robin` moves on, ekaf's batch size. A positive integer. */
  batchRecords: number;
  /** A uniform random number in [0, 1), like Math.random (the default). Tests inject their own. */
  random?: () => number;
  /**
   * Whether the sticky partition takes key-less records past `batchBytes`, until its open batch
   * is full (`newBatch`): the topic says so while the partition cannot send (a downtime), where
   * moving on would only spread the records held over more partly filled batches, each in its
   * own buffer (1 M × 100 B records over 1 000 partitions: open batches in 179 MB of buffers
   * for 110 MB of records).
   */
  holdsOn?: (partition: number) => boolean;
}

/** A user partitioner returned something other than an integer in [0, partitionCount). */
export class InvalidPartitionError extends ConfigError {
  constructor(
    readonly topic: string,
    readonly returned: unknown,
    readonly partitionCount: number,
  ) {
    super(
      `partitioner of topic "${topic}"`,
      `returned ${describe(returned)}, expected an integer in [0, ${partitionCount})`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(value);
}

// MurmurHash2 (32-bit, by Austin Appleby) with Kafka's constants.
const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/**
 * Kafka's `Utils.murmur2`: MurmurHash2 with seed 0x9747b28c over the first `length` bytes, read as little-endian
 * 32-bit words, then the 1 to 3 trailing bytes, then the final avalanche (from `offset`: a key
 * inside a larger buffer, without a view of it). Returns a signed int32,
 * bit for bit what the Java client returns (librdkafka's `rd_murmur2` gives the same bits).
 *
 * Java's `int` arithmetic wraps at 32 bits; here `Math.imul` multiplies modulo 2^32 and the
 * bitwise operators keep every intermediate an int32, so no step ever becomes a float.
 */
export function murmur2(data: Uint8Array, length = data.length, offset = 0): number {
  let h = SEED ^ length;
  const words = offset + (length & ~3);
  for (let i = offset; i < words; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The tail: Java's switch falls through from case 3 to 2 to 1; only case 1 multiplies.
  const tail = length & 3;
  if (tail !== 0) {
    if (tail === 3) h ^= (data[words + 2] as number) << 16;
    if (tail >= 2) h ^= (data[words + 1] as number) << 8;
    h ^= data[words] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not Math.abs, which overflows at -2^31 in Java). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** Java's `BuiltInPartitioner.partitionForKey`: a string key is hashed as its UTF-8 bytes. */
function partitionForKey(key: RecordBytes, partitionCount: number, keySize?: number): number {
  if (typeof key !== 'string') return toPositive(murmur2(key)) % partitionCount;
  const size = keySize ?? byteSize(key);
  if (keyScratch.length < size) keyScratch = Buffer.allocUnsafe(Math.max(size, 2 * keyScratch.length));
  putRecordBytes(keyScratch, 0, key, size);
  return toPositive(murmur2(keyScratch, size)) % partitionCount;
}

/** Where a string key's bytes are written to be hashed: one buffer, reused (the hash is synchronous). */
let keyScratch = Buffer.allocUnsafe(256);

/**
 * Builds the partitioner of one topic. Throws `ConfigError` for an unknown strategy name or
 * options out of range; a user function's results are checked later, on each call.
 */
export function createPartitioner(
  topic: string,
  choice: PartitionerName | PartitionerFunction,
  options: PartitionerOptions,
): Partitioner {
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new ConfigError('random', 'must be a function');
  if (typeof choice === 'function') return new CustomPartitioner(topic, choice);
  switch (choice) {
    case 'default':
    case 'murmur2':
    case 'uniform_sticky':
      return new DefaultPartitioner(positiveInt(options.batchBytes, 'batchBytes'), random, options.holdsOn);
    case 'random':
      return new RandomPartitioner(random);
    case 'sticky_round_robin':
      return new StickyRoundRobinPartitioner(positiveInt(options.batchRecords, 'batchRecords'), random);
    case 'strict_round_robin':
      return new StrictRoundRobinPartitioner(random);
    default:
      throw new ConfigError(
        'partitioner',
        `unknown strategy ${describe(choice)} for topic "${topic}" ` +
          `(expected a function or one of ${PARTITIONER_NAMES.join(', ')})`,
      );
  }
}

function positiveInt(n: number, field: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(field, `must be a positive integer, got ${describe(n)}`);
  }
  return n;
}

/** An integer in [0, n), from a random number in [0, 1). Clamped, should a user's random return 1. */
function randomBelow(random: () => number, n: number): number {
  const r = Math.floor(random() * n);
  return r < n ? (r >= 0 ? r : 0) : n - 1;
}

/**
 * `default`, `murmur2`, `uniform_sticky`: Java's built-in partitioner (KIP-480's sticky
 * partitioning as reworked by KIP-794, without KIP-794's adaptive part that weighs partitions by
 * their queue sizes).
 *
 * - A keyed record goes to `toPositive(murmur2(key)) % partitionCount`, the same partition the
 *   Java client (and librdkafka's `murmur2`/`murmur2_random`) picks for that key.
 * - Records without a key stick to one partition until at least `batchBytes` bytes of them have
 *   gone there (the record that crosses the line still goes there), or until that partition's
 *   open batch is full (`newBatch`: the record that would not fit goes to the next), then the
 *   next one picks another partition at random. Keyed records do not count toward those bytes,
 *   as in Java.
 *
 * One difference from Java: Java's switch draws among all partitions, so it can draw the one it
 * is leaving; this one always moves to a different partition when there is more than one.
 */
class DefaultPartitioner implements Partitioner {
  /** The sticky partition; -1 until the first key-less record. */
  private current = -1;
  /** Bytes of key-less records sent to `current`. */
  private produced = 0;

  constructor(
    private readonly batchBytes: number,
    private readonly random: () => number,
    private readonly holdsOn?: (partition: number) => boolean,
  ) {}

  partition(
    key: RecordBytes | null,
    _value: RecordBytes | null,
    size: number,
    partitionCount: number,
    keySize?: number,
  ): number {
    if (key !== null) return partitionForKey(key, partitionCount, keySize);
    let p = this.current;
    if (p < 0 || p >= partitionCount) {
      // First record, or the partition is gone from the metadata: start afresh.
      p = randomBelow(this.random, partitionCount);
      this.produced = 0;
    } else if (this.produced >= this.batchBytes && !(this.holdsOn?.(p) ?? false)) {
      p = partitionCount === 1 ? 0 : otherPartition(this.random, p, partitionCount);
      this.produced = 0;
    }
    this.current = p;
    this.produced += size;
    return p;
  }

  newBatch(partition: number, size: number, partitionCount: number): number {
    if (partition !== this.current || partitionCount === 1) return partition;
    const p = otherPartition(this.random, partition, partitionCount);
    this.current = p;
    this.produced = size;
    return p;
  }
}

/** A random partition other than `current`, uniformly among the others (partitionCount >= 2). */
function otherPartition(random: () => number, current: number, partitionCount: number): number {
  const r = randomBelow(random, partitionCount - 1);
  return r >= current ? r + 1 : r;
}

/** `random`: every record to a uniformly random partition, key or not. ekaf's `random`. */
class RandomPartitioner implements Partitioner {
  constructor(private readonly random: () => number) {}

  partition(_key: unknown, _value: unknown, _size: number, partitionCount: number): number {
    return randomBelow(this.random, partitionCount);
  }
}

/**
 * `sticky_round_robin` (ekaf's strategy of that name). `batchRecords` records in a row go to one
 * partition, then the next partition in order takes over (wrapping to 0), key or not. Starts at a
 * random partition.
 */
class StickyRoundRobinPartitioner implements Partitioner {
  /** The partition being filled; -1 before the first record. */
  private current = -1;
  /** Records sent to `current` so far. */
  private count = 0;

  constructor(
    private readonly batchRecords: number,
    private readonly random: () => number,
  ) {}

  partition(_key: unknown, _value: unknown, _size: number, partitionCount: number): number {
    let p = this.current;
    if (p < 0) {
      p = randomBelow(this.random, partitionCount);
      this.count = 0;
    } else if (p >= partitionCount) {
      // Fewer partitions than before (stale metadata): fold back into range, a fresh run.
      p %= partitionCount;
      this.count = 0;
    } else if (this.count >= this.batchRecords) {
      p = p + 1 === partitionCount ? 0 : p + 1;
      this.count = 0;
    }
    this.current = p;
    this.count++;
    return p;
  }
}

/**
 * `strict_round_robin`: each record to the partition after the previous record's, wrapping, key
 * or not. ekaf's `strict_round_robin`; Java's `RoundRobinPartitioner` (without its skipping of
 * leaderless partitions: the partition worker buffers for a partition without a leader). Starts at
 * a random partition. When the topic grows, the new partitions join the rotation at once.
 */
class StrictRoundRobinPartitioner implements Partitioner {
  /** The previous record's partition; -1 before the first record. */
  private last = -1;

  constructor(private readonly random: () => number) {}

  partition(_key: unknown, _value: unknown, _size: number, partitionCount: number): number {
    let p: number;
    if (this.last < 0) p = randomBelow(this.random, partitionCount);
    else {
      p = this.last + 1;
      if (p >= partitionCount) p = 0;
    }
    this.last = p;
    return p;
  }
}

/** A user function, its every result checked: routing a record to a partition that does not exist must fail loudly. */
class CustomPartitioner implements Partitioner {
  constructor(
    private readonly topic: string,
    private readonly fn: PartitionerFunction,
  ) {}

  partition(
    key: RecordBytes | null,
    value: RecordBytes | null,
    _size: number,
    partitionCount: number,
  ): number {
    // The function is given Buffers, whatever the record was made of. unknown: a JavaScript
    // caller's function may return anything.
    const p: unknown = this.fn(
      this.topic,
      key === null ? null : toBytes(key),
      value === null ? null : toBytes(value),
      partitionCount,
    );
    // For a number, `p >>> 0 === p` holds exactly for the integers in [0, 2^32): NaN, fractions,
    // negatives and infinities fail it.
    if (typeof p !== 'number' || p >>> 0 !== p || p >= partitionCount) {
      throw new InvalidPartitionError(this.topic, p, partitionCount);
    }
    return p;
  }
}
