import { describe, expect, it } from 'vitest';
import { BatchBufferPool, POOL_DECAY_MS, POOL_FLOOR_BYTES } from '../../src/runtime/batch-buffer-pool.js';
import { PartitionLog } from '../../src/runtime/partition-log.js';
import type { SealedBatch } from '../../src/runtime/sealed-batch.js';
import { ProduceCall } from '../../src/runtime/delivery.js';
import { normalizeRecord } from '../../src/runtime/records.js';
import { decodeRecordBatch } from '../support/record-batch-decoder.js';

describe('BatchBufferPool', () => {
  it('recycles a buffer given back, by size', () => {
    const pool = new BatchBufferPool(1 << 20);
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    pool.give(a);
    expect(pool.idleSize).toBe(1000);
    expect(pool.take(2000)).not.toBe(a);
    expect(pool.take(1000)).toBe(a);
    expect(pool.idleSize).toBe(0);
  });

  it('keeps no more idle bytes than its bound', () => {
    const pool = new BatchBufferPool(2500);
    for (let i = 0; i < 5; i++) pool.give(Buffer.alloc(1000));
    expect(pool.idleSize).toBe(2000);
  });
});

describe('PartitionLog with a pool', () => {
  // 50 records of 60 bytes fill a batch (batchRecords), sealed as they are appended: each fill()
  // is one full batch of 3.5 KB, which takes its scratch buffer over. Batches that small start in
  // a small (4 KiB) buffer, not a batch-sized one (batchBytes + 1 KiB).
  const SMALL = 4096;
  const limits = { batchBytes: 4096, batchRecords: 50 };
  const fill = (log: PartitionLog, tag: string): SealedBatch => {
    const call = new ProduceCall('t', 50, () => undefined);
    for (let i = 0; i < 50; i++) {
      const record = normalizeRecord(`${tag}-${i}`.padEnd(60, '.'), i, 1, 1 << 20);
      log.append(record, call, i, limits, true, Infinity, 1);
    }
    return log.takeNext(1) as SealedBatch;
  };
  const values = (batch: SealedBatch): string[] =>
    decodeRecordBatch(batch.bytes).records.map((r) => r.value?.toString() ?? '');

  it('reuses the buffer of an acknowledged batch, never one still in flight', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    const first = fill(log, 'a');
    const firstValues = values(first);
    // While `first` is in flight, a new batch gets another buffer: its bytes stay as sent.
    const second = fill(log, 'b');
    expect(second.bytes.buffer).not.toBe(first.bytes.buffer);
    expect(values(first)).toEqual(firstValues);
    // Acknowledged: its buffer backs the next batch.
    log.acknowledged(first, 0);
    expect(pool.idleSize).toBe(SMALL);
    const third = fill(log, 'c');
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    expect(values(third).every((v) => v.startsWith('c-'))).toBe(true);
    expect(values(second).every((v) => v.startsWith('b-'))).toBe(true);
  });

  it('gives back the buffers of failed and drained batches', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    log.failed(fill(log, 'a'));
    expect(pool.idleSize).toBe(SMALL);
    const call = new ProduceCall('t', 50, () => undefined);
    for (let i = 0; i < 50; i++)
      log.append(normalizeRecord('x'.repeat(60), i, 1, 1 << 20), call, i, limits, false, 10, 1);
    expect(pool.idleSize).toBe(0); // the sealed, waiting batch holds it
    log.drainAll();
    expect(pool.idleSize).toBe(SMALL);
  });

  it('holds no buffer while nothing is open: a small batch is copied out and its buffer given back', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    const call = new ProduceCall('t', 1, () => undefined);
    log.append(normalizeRecord('small', 0, 1, 1 << 20), call, 0, limits, true, Infinity, 1);
    expect(pool.idleSize).toBe(0); // the open batch writes into it
    const batch = log.takeNext(1) as SealedBatch;
    // An idle partition (a gateway has thousands) keeps no buffer of its own.
    expect(pool.idleSize).toBe(SMALL);
    expect(batch.pooled).toBeNull();
    expect(batch.bytes.length).toBeLessThan(200);
    expect(values(batch)).toEqual(['small']);
    // The next batch, of any partition, starts in that buffer again.
    const other = new PartitionLog('t', 1, pool);
    other.append(normalizeRecord('next', 0, 1, 1 << 20), call, 0, limits, true, Infinity, 1);
    expect(pool.idleSize).toBe(0);
  });

  it('grows a batch into a larger buffer of the pool, giving back the one outgrown', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    const call = new ProduceCall('t', 1, () => undefined);
    log.append(normalizeRecord('y'.repeat(10_000), 0, 1, 1 << 20), call, 0, limits, true, Infinity, 1);
    // 4 KiB, doubled twice: the 16 KiB buffer is taken from the pool, the 4 KiB one given back.
    expect(pool.idleSize).toBe(SMALL);
    const batch = log.takeNext(1) as SealedBatch;
    expect(values(batch)).toEqual(['y'.repeat(10_000)]);
    expect(batch.pooled?.length).toBe(16 * 1024);
    log.acknowledged(batch, 0);
    expect(pool.idleSize).toBe(SMALL + 16 * 1024);
  });

  it('in a downtime, starts an open batch in a small buffer that grows with it', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    log.downtime = true;
    const big = { batchBytes: 64 * 1024, batchRecords: 10_000 };
    const call = new ProduceCall('t', 100, () => undefined);
    log.append(normalizeRecord('a'.repeat(60), 0, 1, 1 << 20), call, 0, big, false, 10, 1);
    // A thousand partitions left with a few records each hold a few KiB each, not 65 KiB.
    const open = log.takeNext(10) as SealedBatch;
    expect(open.bytes.length).toBeLessThan(200);
    expect(pool.idleSize).toBe(4096);
    for (let i = 0; i < 100; i++)
      log.append(normalizeRecord(`b-${i}`.padEnd(60, '.'), i, 1, 1 << 20), call, i, big, false, 10, 1);
    const grown = log.takeNext(10) as SealedBatch;
    expect(values(grown)).toHaveLength(100);
    expect(values(grown)[99]).toMatch(/^b-99\./);
    // The 4 KiB buffer it outgrew is not kept idle: nothing would ask for it in a downtime.
    expect(pool.idleSize).toBe(0);
    // Back up: its last batch filled more than a small buffer, so a batch-sized one, for throughput.
    log.downtime = false;
    for (let i = 0; i < 300; i++)
      log.append(normalizeRecord(`c-${i}`.padEnd(60, '.'), i, 1, 1 << 20), call, i, big, false, 10, 1);
    // Up, the buffers a batch outgrows go back to the pool.
    expect(pool.idleSize).toBeGreaterThan(0);
  });

  it('grows a batch to the size a full one needs, not to the next power of two', () => {
    const pool = new BatchBufferPool();
    const log = new PartitionLog('t', 0, pool);
    log.downtime = true;
    const limits = { batchBytes: 100_000, batchRecords: 100_000 };
    const call = new ProduceCall('t', 2000, () => undefined);
    for (let i = 0; i < 2000; i++)
      log.append(normalizeRecord('x'.repeat(100), i, 1, 1 << 20), call, i, limits, false, 10, 1);
    const full = log.takeNext(10) as SealedBatch;
    expect(full.bytes.length).toBeGreaterThan(99_000);
    expect(full.pooled?.length).toBe(100_000 + 1024);
  });
});

describe('BatchBufferPool decay', () => {
  const MiB = 1024 * 1024;
  it('keeps up to its bound while batches are made, and lets go of all but the floor once none was for POOL_DECAY_MS', () => {
    const pool = new BatchBufferPool(16 * MiB);
    const taken = Array.from({ length: 16 }, () => pool.take(MiB, 1000));
    for (const buffer of taken) pool.give(buffer);
    expect(pool.idleSize).toBe(16 * MiB);
    // Busy: a batch was made less than POOL_DECAY_MS ago.
    pool.decay(1000 + POOL_DECAY_MS - 1);
    expect(pool.idleSize).toBe(16 * MiB);
    pool.decay(1000 + POOL_DECAY_MS);
    expect(pool.idleSize).toBe(POOL_FLOOR_BYTES);
    // What is left is still recycled.
    expect(taken).toContain(pool.take(MiB, 20_000));
    expect(pool.idleSize).toBe(POOL_FLOOR_BYTES - MiB);
  });

  it('never lets go below the floor', () => {
    const pool = new BatchBufferPool(16 * MiB);
    pool.give(Buffer.alloc(MiB));
    pool.decay(Number.MAX_SAFE_INTEGER);
    expect(pool.idleSize).toBe(MiB);
  });
});
