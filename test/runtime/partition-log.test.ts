import { describe, expect, it } from 'vitest';
import { EkafError } from '../../src/errors.js';
import { ProduceCall, type CallOutcome } from '../../src/runtime/delivery.js';
import { openBufferSize, PartitionLog, type BatchLimits } from '../../src/runtime/partition-log.js';
import { failBatch, type EncodedBatch, type SealedBatch } from '../../src/runtime/sealed-batch.js';
import { TimestampRuns } from '../../src/runtime/timestamp-runs.js';
import {
  CompressionCodec,
  NO_PRODUCER_IDENTITY,
  RecordBatchBuilder,
} from '../../src/protocol/record-batch.js';
import { normalizeRecord, type NormalizedRecord } from '../../src/runtime/records.js';
import { decodeRecordBatch } from '../support/record-batch-decoder.js';

const T0 = 1_700_000_000_000;
const ROOMY: BatchLimits = { batchBytes: 1024 * 1024, batchRecords: 10_000 };

const record = (input: unknown, timestamp = T0): NormalizedRecord =>
  normalizeRecord(input, 'record', timestamp, 1024 * 1024);

/** A call whose outcome is recorded. */
function call(count: number, topic = 'orders'): ProduceCall & { outcomes: CallOutcome[] } {
  const outcomes: CallOutcome[] = [];
  const produced = new ProduceCall(topic, count, (_call, outcome) => {
    outcomes.push(outcome);
  });
  return Object.assign(produced, { outcomes });
}

/**
 * The values of a sealed batch, decoded from its bytes, as strings. A batch that was sent
 * (finalized) must carry its CRC; one never sent has none yet.
 */
const values = (batch: SealedBatch | undefined): (string | null)[] =>
  decodeRecordBatch(batchOf(batch).bytes, { checkCrc: batchOf(batch).finalized }).records.map(
    (r) => r.value?.toString('utf8') ?? null,
  );

function batchOf(batch: SealedBatch | undefined): SealedBatch {
  if (batch === undefined) throw new Error('expected a batch');
  return batch;
}

/** Appends string values of one call, all with the same options. */
function appendAll(
  log: PartitionLog,
  items: string[],
  options: {
    call?: ProduceCall;
    limits?: BatchLimits;
    urgent?: boolean;
    lingerDeadline?: number;
    now?: number;
    firstIndex?: number;
  } = {},
): ProduceCall {
  const produced = options.call ?? call(items.length + (options.firstIndex ?? 0));
  items.forEach((value, i) => {
    log.append(
      record(value, options.now ?? T0),
      produced,
      (options.firstIndex ?? 0) + i,
      options.limits ?? ROOMY,
      options.urgent ?? false,
      options.lingerDeadline ?? (options.urgent === true ? Infinity : (options.now ?? T0) + 5),
      options.now ?? T0,
    );
  });
  return produced;
}

/** Takes every batch that is ready at `now`. */
function takeAll(log: PartitionLog, now = T0): SealedBatch[] {
  const taken: SealedBatch[] = [];
  for (let batch = log.takeNext(now); batch !== undefined; batch = log.takeNext(now)) taken.push(batch);
  return taken;
}

const error = (message: string): EkafError => new EkafError('ERR_KAFKA', message, { retriable: true });

describe('PartitionLog: an empty log', () => {
  it('has nothing to send, nothing buffered, and no linger', () => {
    const log = new PartitionLog('orders', 3);
    expect(log.topic).toBe('orders');
    expect(log.partition).toBe(3);
    expect(log.isEmpty).toBe(true);
    expect(log.hasPending).toBe(false);
    expect(log.bufferedRecords).toBe(0);
    expect(log.inFlight).toBe(0);
    expect(log.lingerDeadline).toBeNull();
    expect(log.nextSize(Infinity)).toBe(0);
    expect(log.takeNext(Infinity)).toBeUndefined();
    expect(log.expire(Infinity)).toEqual([]);
    expect(log.drainAll()).toEqual([]);
    log.markUrgent();
    expect(log.isEmpty).toBe(true);
    expect([log.recordsAcked, log.recordsFailed, log.batchesRetried]).toEqual([0, 0, 0]);
  });
});

describe('PartitionLog: linger and urgency', () => {
  it('keeps a batched open batch until its linger deadline', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c'], { lingerDeadline: T0 + 5 });
    expect(log.hasPending).toBe(true);
    expect(log.isEmpty).toBe(false);
    expect(log.bufferedRecords).toBe(3);
    expect(log.lingerDeadline).toBe(T0 + 5);
    expect(log.nextSize(T0 + 4)).toBe(0);
    expect(log.takeNext(T0 + 4)).toBeUndefined();
    expect(log.inFlight).toBe(0);

    const size = log.nextSize(T0 + 5);
    const batch = batchOf(log.takeNext(T0 + 5));
    expect(size).toBe(batch.bytes.length);
    expect(values(batch)).toEqual(['a', 'b', 'c']);
    expect(batch.recordCount).toBe(3);
    expect(log.inFlight).toBe(1);
    expect(log.hasPending).toBe(false);
    expect(log.lingerDeadline).toBeNull();
    expect(log.takeNext(Infinity)).toBeUndefined();
  });

  it('uses the earliest linger deadline of the records in the open batch', () => {
    const log = new PartitionLog('orders', 0);
    const produced = call(3);
    appendAll(log, ['a'], { call: produced, lingerDeadline: T0 + 50 });
    appendAll(log, ['b'], { call: produced, firstIndex: 1, lingerDeadline: T0 + 10 });
    appendAll(log, ['c'], { call: produced, firstIndex: 2, lingerDeadline: T0 + 30 });
    expect(log.lingerDeadline).toBe(T0 + 10);
    expect(log.takeNext(T0 + 9)).toBeUndefined();
    expect(values(log.takeNext(T0 + 10))).toEqual(['a', 'b', 'c']);
  });

  it('sends an urgent (unbatched) batch at once, with no linger deadline', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['now'], { urgent: true });
    expect(log.lingerDeadline).toBeNull();
    expect(log.nextSize(0)).toBeGreaterThan(0);
    expect(values(log.takeNext(0))).toEqual(['now']);
  });

  it('makes the whole open batch urgent when one urgent record joins it', () => {
    const log = new PartitionLog('orders', 0);
    const lingering = appendAll(log, ['l1', 'l2'], { lingerDeadline: T0 + 1000 });
    expect(log.lingerDeadline).toBe(T0 + 1000);
    appendAll(log, ['u'], { urgent: true });
    expect(log.lingerDeadline).toBeNull();
    const batch = batchOf(log.takeNext(T0));
    expect(values(batch)).toEqual(['l1', 'l2', 'u']);
    expect(batch.segments[0]?.call).toBe(lingering);
  });

  it('has no linger deadline while only unbatched records are open (Infinity)', () => {
    const log = new PartitionLog('orders', 0);
    log.append(record('x'), call(1), 0, ROOMY, false, Infinity, T0);
    // Not urgent and no finite deadline: it waits for markUrgent (flush).
    expect(log.lingerDeadline).toBeNull();
    expect(log.takeNext(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    log.markUrgent();
    expect(values(log.takeNext(T0))).toEqual(['x']);
  });

  it('markUrgent makes a lingering batch leave now (flush, close)', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b'], { lingerDeadline: T0 + 1000 });
    log.markUrgent();
    expect(log.lingerDeadline).toBeNull();
    expect(log.nextSize(T0)).toBeGreaterThan(0);
    expect(values(log.takeNext(T0))).toEqual(['a', 'b']);
    // Records appended later start a new, non-urgent batch.
    appendAll(log, ['c'], { lingerDeadline: T0 + 1000 });
    expect(log.takeNext(T0)).toBeUndefined();
  });

  it('stamps acceptedAt with the time the batch was opened', () => {
    const log = new PartitionLog('orders', 0);
    const produced = call(2);
    appendAll(log, ['a'], { call: produced, now: T0 + 1 });
    appendAll(log, ['b'], { call: produced, firstIndex: 1, now: T0 + 7 });
    log.markUrgent();
    expect(batchOf(log.takeNext(T0 + 8)).acceptedAt).toBe(T0 + 1);
  });
});

describe('PartitionLog: sealing', () => {
  it('seals by record count, and full batches leave without waiting for the linger', () => {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 1024 * 1024, batchRecords: 2 };
    appendAll(log, ['1', '2', '3', '4', '5'], { limits, lingerDeadline: T0 + 1000 });
    expect(log.bufferedRecords).toBe(5);
    // Two full batches are sealed; the fifth record lingers in the open batch.
    expect(values(log.takeNext(T0))).toEqual(['1', '2']);
    expect(values(log.takeNext(T0))).toEqual(['3', '4']);
    expect(log.takeNext(T0)).toBeUndefined();
    expect(log.lingerDeadline).toBe(T0 + 1000);
    expect(values(log.takeNext(T0 + 1000))).toEqual(['5']);
  });

  it('seals by bytes: a record that would not fit starts a new batch', () => {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 400, batchRecords: 10_000 };
    const items = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(100));
    appendAll(log, items, { limits, urgent: true });
    const batches = takeAll(log);
    // 61 bytes of header + ~107 per record: two records per 400-byte batch.
    expect(batches.map((batch) => batch.recordCount)).toEqual([2, 2, 1]);
    expect(batches.flatMap((batch) => values(batch))).toEqual(items);
    for (const batch of batches) {
      expect(batch.bytes.length).toBeLessThanOrEqual(400);
      expect(batch.payloadBytes).toBe(batch.recordCount * 100);
    }
  });

  it('seals a batch as soon as it reaches batchBytes', () => {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 100, batchRecords: 10_000 };
    // A record larger than a whole batch goes alone, sealed at once (it lingers for nobody).
    appendAll(log, ['x'.repeat(300)], { limits, lingerDeadline: T0 + 1000 });
    expect(log.lingerDeadline).toBeNull();
    const batch = batchOf(log.takeNext(T0));
    expect(batch.recordCount).toBe(1);
    expect(batch.bytes.length).toBeGreaterThan(300);
    expect(log.isEmpty).toBe(false);
    expect(log.hasPending).toBe(false);
  });

  it('encodes keys, values, headers and timestamps, and fills in the batch metadata', () => {
    const log = new PartitionLog('orders', 0);
    const produced = call(3);
    const inputs = [
      { key: 'k1', value: 'v1', headers: { h: 'x' }, timestamp: T0 },
      { key: null, value: null, timestamp: T0 + 20 },
      { key: 'k3', value: 'v3', headers: [['dup', '1'] as const, ['dup', null] as const], timestamp: T0 + 5 },
    ];
    inputs.forEach((input, i) => {
      log.append(record(input), produced, i, ROOMY, true, Infinity, T0 + 100);
    });
    const batch = batchOf(log.takeNext(T0 + 100));
    expect(batch.sequence).toBe(0);
    expect(batch.attempts).toBe(0);
    expect(batch.recordCount).toBe(3);
    expect(batch.timestamps.toArray()).toEqual([T0, T0 + 20, T0 + 5]);
    expect(batch.payloadBytes).toBe(2 + 2 + 1 + 1 + 0 + 2 + 2 + (3 + 1) + 3);
    expect(batch.acceptedAt).toBe(T0 + 100);
    const decoded = decodeRecordBatch(batch.bytes);
    expect(decoded.baseTimestamp).toBe(T0);
    expect(decoded.maxTimestamp).toBe(T0 + 20);
    expect(decoded.lastOffsetDelta).toBe(2);
    expect(decoded.producerId).toBe(-1);
    expect(decoded.baseSequence).toBe(-1);
    expect(
      decoded.records.map((r) => ({
        offsetDelta: r.offsetDelta,
        timestamp: r.timestamp,
        key: r.key?.toString() ?? null,
        value: r.value?.toString() ?? null,
        headers: r.headers.map(([k, v]) => [k, v?.toString() ?? null]),
      })),
    ).toEqual([
      { offsetDelta: 0, timestamp: T0, key: 'k1', value: 'v1', headers: [['h', 'x']] },
      { offsetDelta: 1, timestamp: T0 + 20, key: null, value: null, headers: [] },
      {
        offsetDelta: 2,
        timestamp: T0 + 5,
        key: 'k3',
        value: 'v3',
        headers: [
          ['dup', '1'],
          ['dup', null],
        ],
      },
    ]);
  });

  it('numbers batches in the order they are sealed, with offset deltas from 0 in each', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c', 'd', 'e'], {
      limits: { batchBytes: 1 << 20, batchRecords: 2 },
      urgent: true,
    });
    const batches = takeAll(log);
    expect(batches.map((batch) => batch.sequence)).toEqual([0, 1, 2]);
    for (const batch of batches) {
      expect(decodeRecordBatch(batch.bytes).records.map((r) => r.offsetDelta)).toEqual([
        ...Array(batch.recordCount).keys(),
      ]);
    }
  });
});

describe('PartitionLog: batch buffers', () => {
  it('gives small batches their own bytes while reusing its scratch buffer', () => {
    const log = new PartitionLog('orders', 0);
    // Three one-record batches, each sealed and taken before the next is written.
    const taken: SealedBatch[] = [];
    for (const value of ['first', 'second', 'third']) {
      appendAll(log, [value], { urgent: true });
      taken.push(batchOf(log.takeNext(T0)));
    }
    expect(taken.map(values)).toEqual([['first'], ['second'], ['third']]);
    // Copies, not views of the scratch buffer: no two share a byte (small copies may be slices
    // of Node's own pool, 8 KiB on Node 20, 64 KiB on Node 24, side by side).
    for (const [i, a] of taken.entries()) {
      for (const b of taken.slice(i + 1)) {
        const disjoint =
          a.bytes.buffer !== b.bytes.buffer ||
          a.bytes.byteOffset + a.bytes.length <= b.bytes.byteOffset ||
          b.bytes.byteOffset + b.bytes.length <= a.bytes.byteOffset;
        expect(disjoint).toBe(true);
      }
      expect(a.bytes.length).toBeLessThan(256);
    }
  });

  it('hands a nearly full buffer over to its batch without copying, and starts the next in the size the last needed', () => {
    const log = new PartitionLog('orders', 0);
    // 200 records of 60 bytes (~14 KB) fill a batch (batchRecords).
    const limits = { batchBytes: 16 * 1024, batchRecords: 200 };
    const fill = (tag: string): SealedBatch => {
      appendAll(
        log,
        Array.from({ length: 200 }, (_, i) => `${tag}-${i}-`.padEnd(60, '.')),
        { limits },
      );
      return batchOf(takeAll(log, T0 + 10)[0]);
    };
    // A partition's first batch starts small (it may stay small) and grows, doubling, as it
    // fills; it keeps the buffer it ends in.
    const first = fill('a');
    expect(first.bytes.length).toBeGreaterThan(8 * 1024);
    expect(first.bytes.buffer.byteLength).toBe(16 * 1024);
    expect(first.pooled?.buffer).toBe(first.bytes.buffer);
    // The next starts in a buffer the size the last one needed: no growth, no copy.
    const second = fill('b');
    expect(second.bytes.buffer.byteLength).toBe(16 * 1024);
    expect(second.pooled?.buffer).toBe(second.bytes.buffer);
    expect(values(second)).toHaveLength(second.recordCount);
  });
});

describe('PartitionLog: segments', () => {
  it('merges consecutive records of one call into one segment', () => {
    const log = new PartitionLog('orders', 0);
    const produced = appendAll(log, ['a', 'b', 'c'], { urgent: true });
    expect(batchOf(log.takeNext(T0)).segments).toEqual([
      { call: produced, start: 0, count: 3, indices: null },
    ]);
  });

  it('keeps interleaved calls apart, in append order', () => {
    const log = new PartitionLog('orders', 0);
    const a = call(2);
    const b = call(1);
    appendAll(log, ['a0'], { call: a, urgent: true });
    appendAll(log, ['b0'], { call: b, urgent: true });
    appendAll(log, ['a1'], { call: a, firstIndex: 1, urgent: true });
    const batch = batchOf(log.takeNext(T0));
    expect(values(batch)).toEqual(['a0', 'b0', 'a1']);
    expect(batch.segments).toEqual([
      { call: a, start: 0, count: 1, indices: null },
      { call: b, start: 0, count: 1, indices: null },
      { call: a, start: 1, count: 1, indices: null },
    ]);
  });

  it('lists the indexes of a call that skips some (its other records went to other partitions)', () => {
    const log = new PartitionLog('orders', 0);
    const produced = call(6);
    for (const index of [0, 1, 3, 4, 5])
      log.append(record(`r${index}`), produced, index, ROOMY, true, Infinity, T0);
    expect(batchOf(log.takeNext(T0)).segments).toEqual([
      { call: produced, start: 0, count: 5, indices: [0, 1, 3, 4, 5] },
    ]);
  });

  it('keeps one segment per call and batch however keyed records spread (not one per record)', () => {
    const log = new PartitionLog('orders', 0);
    const a = call(1000);
    const b = call(1000);
    for (let index = 0; index < 1000; index += 3)
      log.append(record('a'), a, index, ROOMY, true, Infinity, T0);
    for (let index = 1; index < 1000; index += 7)
      log.append(record('b'), b, index, ROOMY, true, Infinity, T0);
    const segments = batchOf(log.takeNext(T0)).segments;
    expect(segments.map((s) => [s.call, s.count])).toEqual([
      [a, 334],
      [b, 143],
    ]);
    expect(segments[0]?.indices?.slice(0, 3)).toEqual([0, 3, 6]);
    expect(segments[1]?.indices?.at(-1)).toBe(995);
  });

  it('splits a call over the batches it spans', () => {
    const log = new PartitionLog('orders', 0);
    const produced = appendAll(log, ['a', 'b', 'c', 'd', 'e'], {
      limits: { batchBytes: 1 << 20, batchRecords: 2 },
      urgent: true,
    });
    expect(takeAll(log).map((batch) => batch.segments)).toEqual([
      [{ call: produced, start: 0, count: 2, indices: null }],
      [{ call: produced, start: 2, count: 2, indices: null }],
      [{ call: produced, start: 4, count: 1, indices: null }],
    ]);
  });
});

describe('PartitionLog: in flight, acknowledged, failed', () => {
  it('tracks batches in flight until they are acknowledged or failed', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c', 'd', 'e'], {
      limits: { batchBytes: 1 << 20, batchRecords: 2 },
      urgent: true,
    });
    const [first, second, third] = takeAll(log);
    expect(log.inFlight).toBe(3);
    expect(log.bufferedRecords).toBe(5);
    expect(log.hasPending).toBe(false);
    expect(log.isEmpty).toBe(false);

    log.acknowledged(batchOf(second));
    expect(log.inFlight).toBe(2);
    expect(log.bufferedRecords).toBe(3);
    expect(log.recordsAcked).toBe(2);

    log.failed(batchOf(third));
    expect(log.inFlight).toBe(1);
    expect(log.bufferedRecords).toBe(2);
    expect(log.recordsFailed).toBe(1);

    log.acknowledged(batchOf(first));
    expect(log.recordsAcked).toBe(4);
    expect(log.isEmpty).toBe(true);
    expect(log.bufferedRecords).toBe(0);
  });

  it('counts open, sealed and in-flight records in bufferedRecords', () => {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 1 << 20, batchRecords: 3 };
    appendAll(log, ['1', '2', '3', '4', '5', '6', '7'], { limits, lingerDeadline: T0 + 100 });
    expect(log.bufferedRecords).toBe(7); // 3 + 3 sealed, 1 open
    log.takeNext(T0);
    expect(log.bufferedRecords).toBe(7); // 3 in flight, 3 sealed, 1 open
    expect(log.inFlight).toBe(1);
  });
});

describe('PartitionLog: requeue', () => {
  it('puts a batch back before every batch sealed after it, resent unchanged', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c'], { limits: { batchBytes: 1 << 20, batchRecords: 1 }, urgent: true });
    const first = batchOf(log.takeNext(T0));
    const bytes = Buffer.from(first.bytes);
    log.requeue(first);
    expect(first.attempts).toBe(1);
    expect(log.batchesRetried).toBe(1);
    expect(log.inFlight).toBe(0);
    expect(log.bufferedRecords).toBe(3);
    const again = log.takeNext(T0);
    expect(again).toBe(first);
    expect(again?.bytes).toEqual(bytes);
    expect(takeAll(log).map(values)).toEqual([['b'], ['c']]);
  });

  it('keeps the sealed order when several in-flight batches come back in any order', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c', 'd', 'e'], {
      limits: { batchBytes: 1 << 20, batchRecords: 1 },
      urgent: true,
    });
    const [a, b, c] = [log.takeNext(T0), log.takeNext(T0), log.takeNext(T0)].map(batchOf);
    // d and e are still waiting; c, then a, then b come back.
    log.requeue(batchOf(c));
    log.requeue(batchOf(a));
    log.requeue(batchOf(b));
    expect(log.batchesRetried).toBe(3);
    expect(takeAll(log).map(values)).toEqual([['a'], ['b'], ['c'], ['d'], ['e']]);
  });

  it('keeps the order across repeated retries of the same batches', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a', 'b', 'c'], { limits: { batchBytes: 1 << 20, batchRecords: 1 }, urgent: true });
    for (let round = 1; round <= 3; round++) {
      const taken = takeAll(log);
      expect(taken.map(values)).toEqual([['a'], ['b'], ['c']]);
      for (const batch of [...taken].reverse()) log.requeue(batch);
      expect(taken.map((batch) => batch.attempts)).toEqual([round, round, round]);
    }
    expect(log.batchesRetried).toBe(9);
    const last = takeAll(log);
    for (const batch of last) log.acknowledged(batch);
    expect(log.recordsAcked).toBe(3);
    expect(log.isEmpty).toBe(true);
  });

  it('sends a requeued batch before the open batch, even an urgent one', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['old'], { urgent: true });
    const old = batchOf(log.takeNext(T0));
    appendAll(log, ['new'], { urgent: true });
    log.requeue(old);
    expect(log.nextSize(T0)).toBe(old.bytes.length);
    expect(takeAll(log).map(values)).toEqual([['old'], ['new']]);
  });

  it('does not count a requeued batch as acknowledged or failed', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a'], { urgent: true });
    log.requeue(batchOf(log.takeNext(T0)));
    expect([log.recordsAcked, log.recordsFailed]).toEqual([0, 0]);
  });
});

describe('PartitionLog: expire (delivery timeout)', () => {
  /** Three batches accepted at T0, T0 + 1000 and T0 + 2000 (the last one still open). */
  function aged(): PartitionLog {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 1 << 20, batchRecords: 2 };
    appendAll(log, ['a1', 'a2'], { limits, now: T0, lingerDeadline: Infinity });
    appendAll(log, ['b1', 'b2'], { limits, now: T0 + 1000, lingerDeadline: Infinity });
    appendAll(log, ['c1'], { limits, now: T0 + 2000, lingerDeadline: Infinity });
    return log;
  }

  it('removes batches accepted at or before the deadline, oldest first, and counts them as failed', () => {
    const log = aged();
    expect(log.expire(T0 - 1)).toEqual([]);
    const first = log.expire(T0); // accepted exactly at the deadline: expired (as the runtime's sweep)
    expect(first.map(values)).toEqual([['a1', 'a2']]);
    expect(log.recordsFailed).toBe(2);
    expect(log.bufferedRecords).toBe(3);
    expect(log.expire(T0 + 1500).map(values)).toEqual([['b1', 'b2']]);
    expect(log.recordsFailed).toBe(4);
    // The open batch is sealed and expired too once it is old enough.
    expect(log.expire(T0 + 1999)).toEqual([]);
    expect(log.hasPending).toBe(true);
    expect(log.expire(T0 + 2000).map(values)).toEqual([['c1']]);
    expect(log.recordsFailed).toBe(5);
    expect(log.isEmpty).toBe(true);
  });

  it('expires everything old at once, open batch included', () => {
    const log = aged();
    expect(log.expire(T0 + 5000).map(values)).toEqual([['a1', 'a2'], ['b1', 'b2'], ['c1']]);
    expect(log.recordsFailed).toBe(5);
    expect(log.isEmpty).toBe(true);
  });

  it('never expires batches in flight', () => {
    const log = aged();
    const inFlight = batchOf(log.takeNext(T0));
    expect(log.expire(T0 + 5000).map(values)).toEqual([['b1', 'b2'], ['c1']]);
    expect(log.inFlight).toBe(1);
    expect(log.bufferedRecords).toBe(2);
    log.acknowledged(inFlight);
    expect(log.isEmpty).toBe(true);
  });

  it('expires a requeued batch by the time its oldest record was accepted', () => {
    const log = aged();
    const a = batchOf(log.takeNext(T0));
    log.requeue(a);
    expect(log.expire(T0 + 1)).toEqual([a]);
  });

  it('stops at the first batch that is young enough', () => {
    // The clock went backwards between the two batches: the front one is younger. Expiry only
    // looks at the front, so the older batch behind it stays.
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 1 << 20, batchRecords: 1 };
    appendAll(log, ['young'], { limits, now: T0 + 5000, lingerDeadline: Infinity });
    appendAll(log, ['old'], { limits, now: T0, lingerDeadline: Infinity });
    expect(log.expire(T0 + 1000)).toEqual([]);
    expect(log.bufferedRecords).toBe(2);
  });

  it('does not expire a young open batch while older sealed ones go', () => {
    const log = aged();
    expect(log.expire(T0 + 1001).map(values)).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    expect(log.hasPending).toBe(true);
    expect(log.bufferedRecords).toBe(1);
  });
});

describe('PartitionLog: drainAll', () => {
  it('removes everything not in flight, open batch included, and counts it as failed', () => {
    const log = new PartitionLog('orders', 0);
    const limits = { batchBytes: 1 << 20, batchRecords: 2 };
    appendAll(log, ['a', 'b', 'c', 'd', 'e'], { limits, lingerDeadline: T0 + 1000 });
    const inFlight = batchOf(log.takeNext(T0));
    const drained = log.drainAll();
    expect(drained.map(values)).toEqual([['c', 'd'], ['e']]);
    expect(log.recordsFailed).toBe(3);
    expect(log.hasPending).toBe(false);
    expect(log.inFlight).toBe(1);
    expect(log.bufferedRecords).toBe(2);
    expect(log.drainAll()).toEqual([]);
    log.failed(inFlight);
    expect(log.recordsFailed).toBe(5);
    expect(log.isEmpty).toBe(true);
  });
});

describe('failBatch', () => {
  it('fails each call for the records it has in the batch', () => {
    const log = new PartitionLog('orders', 0);
    const a = call(3);
    const b = call(1);
    appendAll(log, ['a0', 'a1'], { call: a, urgent: true });
    appendAll(log, ['b0'], { call: b, urgent: true });
    const batch = batchOf(log.takeNext(T0));
    const cause = error('gone');
    failBatch(batch, cause);
    expect(b.outcomes).toEqual([{ ok: false, error: cause, reports: [undefined], failed: 1 }]);
    // `a` has a third record elsewhere: not done yet.
    expect(a.done).toBe(false);
    a.fail(1, error('later'));
    expect(a.outcomes).toHaveLength(1);
    expect(a.outcomes[0]).toMatchObject({ ok: false, error: cause, failed: 3 });
  });
});

describe('PartitionLog: producer identity stamps (idempotence)', () => {
  const producer = { producerId: 77, producerEpoch: 0 };
  /**
   * Three batches of two records, in a partition where the broker has acknowledged a batch of
   * ours before (so it checks sequence numbers and batches may be pipelined).
   */
  const three = (needNewProducerId?: (stale: number) => void, first = producer): PartitionLog => {
    const log = new PartitionLog('orders', 0, undefined, needNewProducerId);
    const limits = { batchBytes: 1 << 20, batchRecords: 2 };
    appendAll(log, ['a1', 'a2', 'b1', 'b2', 'c1', 'c2'], { limits, urgent: true });
    log.sequence.adopt(first);
    log.sequence.acknowledged(first.producerId, first.producerEpoch);
    return log;
  };
  const header = (batch: SealedBatch | undefined) => {
    const decoded = decodeRecordBatch(batchOf(batch).bytes);
    return [decoded.producerId, decoded.producerEpoch, decoded.baseSequence];
  };

  it('stamps batches when first sent, sequences advancing by their record counts', () => {
    const log = three();
    const a = log.takeNext(T0, producer);
    const b = log.takeNext(T0, producer);
    expect(header(a)).toEqual([77, 0, 0]);
    expect(header(b)).toEqual([77, 0, 2]);
    expect(batchOf(b).baseSequence).toBe(2);
    expect(log.sequence.nextSequence).toBe(4);
  });

  it('resends a retried batch with the same bytes', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const bytes = Buffer.from(a.bytes);
    log.requeue(a);
    const again = log.takeNext(T0, producer);
    expect(again).toBe(a);
    expect(batchOf(again).bytes.equals(bytes)).toBe(true);
  });

  it('after a stamped batch fails for good, stamps nothing new until the partition bumps its epoch, then starts from 0', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    log.failed(a); // e.g. a non-retriable error: sequences 0-1 are a gap now
    const b = log.takeNext(T0, producer);
    expect(header(b)).toEqual([77, 1, 0]); // nothing was in doubt: bumped at once
    log.acknowledged(batchOf(b)); // the first batch of an epoch goes alone
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 2]);
    expect(log.sequence.epochBumps).toBe(1);
  });

  it('never restamps a batch the broker may hold: it is resent under its own stamp until its fate is known', () => {
    // Issue 13 (a): a batch whose request timed out was restamped after an identity renewal and
    // written twice. Here b times out (in doubt) and a fails for good, which asks for a new epoch.
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const b = batchOf(log.takeNext(T0, producer));
    log.requeue(b); // lost connection: b may have been written
    log.failed(a); // delivery timeout or a refusal: the sequence must start again
    const resent = log.takeNext(T0, producer);
    expect(resent).toBe(b);
    expect(header(resent)).toEqual([77, 0, 2]); // its own stamp, not a new one
    expect(log.takeNext(T0, producer)).toBeUndefined(); // c waits: b is still in doubt
    // The broker refuses b as out of order (a was never written): b is known unwritten now.
    log.requeue(b, true);
    const restamped = log.takeNext(T0, producer);
    expect(restamped).toBe(b);
    expect(header(restamped)).toEqual([77, 1, 0]);
    expect(values(restamped)).toEqual(['b1', 'b2']);
    log.acknowledged(batchOf(restamped));
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 2]);
  });

  it('a batch in doubt that is acknowledged ends the wait; the epoch is bumped before anything new', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const b = batchOf(log.takeNext(T0, producer));
    log.failed(a);
    log.requeue(b); // in doubt
    expect(log.takeNext(T0, producer)).toBe(b);
    log.acknowledged(b); // DUPLICATE_SEQUENCE_NUMBER or a success: b (and so a) was written
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 0]);
  });

  it('waits for batches still in flight before bumping', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const b = batchOf(log.takeNext(T0, producer));
    log.resetSequence(); // OUT_OF_ORDER_SEQUENCE_NUMBER on a with nothing before it
    log.requeue(a, true);
    expect(log.nextSize(T0, producer)).toBe(0);
    expect(log.takeNext(T0, producer)).toBeUndefined(); // b is still out
    log.requeue(b, true); // refused too
    const first = log.takeNext(T0, producer);
    expect(header(first)).toEqual([77, 1, 0]);
    log.acknowledged(batchOf(first));
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 2]);
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 4]);
    expect(log.sequence.epochBumps).toBe(1);
  });

  it('many failures of one partition make one bump, not one each', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const b = batchOf(log.takeNext(T0, producer));
    log.failed(a);
    log.failed(b);
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 0]);
    expect(log.sequence.epochBumps).toBe(1);
  });

  it('a stamped batch that expires starts the sequence again', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    log.requeue(a);
    expect(log.expire(T0).length).toBe(3);
    appendAll(log, ['d1'], { urgent: true });
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 0]);
  });

  it('asks for a new producer id when the epochs are used up, and waits for it', () => {
    const asked: number[] = [];
    const old = { producerId: 77, producerEpoch: 32767 };
    const log = three((stale) => asked.push(stale), old);
    const a = batchOf(log.takeNext(T0, old));
    log.failed(a);
    expect(log.takeNext(T0, old)).toBeUndefined();
    expect(asked).toEqual([77]);
    const next = { producerId: 78, producerEpoch: 0 };
    expect(header(log.takeNext(T0, next))).toEqual([78, 0, 0]);
  });

  it('sends the first batch under an id and epoch alone: a broker with no state for us takes any sequence', () => {
    // Seen on Kafka 4.4: the first four batches of a partition were refused (NOT_ENOUGH_REPLICAS)
    // while the fifth, pipelined behind them, was written as the producer's first; the four
    // were then written after it, out of order.
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['a1', 'a2', 'b1', 'b2'], {
      limits: { batchBytes: 1 << 20, batchRecords: 2 },
      urgent: true,
    });
    const a = batchOf(log.takeNext(T0, producer));
    expect(log.nextSize(T0, producer)).toBe(0);
    expect(log.takeNext(T0, producer)).toBeUndefined();
    log.requeue(a, true); // refused: still nothing acknowledged, still alone
    expect(log.takeNext(T0, producer)).toBe(a);
    expect(log.takeNext(T0, producer)).toBeUndefined();
    log.acknowledged(a, 0);
    expect(header(log.takeNext(T0, producer))).toEqual([77, 0, 2]);
  });

  it('after an epoch bump, the first batch goes alone again', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    log.failed(a);
    expect(header(log.takeNext(T0, producer))).toEqual([77, 1, 0]);
    expect(log.takeNext(T0, producer)).toBeUndefined();
  });

  it('reports whether an earlier batch is still unacknowledged', () => {
    const log = three();
    const a = batchOf(log.takeNext(T0, producer));
    const b = batchOf(log.takeNext(T0, producer));
    expect(log.hasEarlierUnacknowledged(b)).toBe(true);
    expect(log.hasEarlierUnacknowledged(a)).toBe(false);
    log.acknowledged(a);
    expect(log.hasEarlierUnacknowledged(b)).toBe(false);
  });

  it('split halves take over the refused batch’s sequence numbers, under the same epoch', () => {
    const log = new PartitionLog('orders', 0);
    log.sequence.adopt(producer);
    log.sequence.acknowledged(77, 0);
    appendAll(log, ['x0', 'x1', 'x2', 'x3', 'x4'], { urgent: true });
    const big = batchOf(log.takeNext(T0, producer));
    appendAll(log, ['y0'], { urgent: true });
    const after = batchOf(log.takeNext(T0, producer));
    expect(header(big)).toEqual([77, 0, 0]);
    expect(header(after)).toEqual([77, 0, 5]);
    expect(log.split(big)).toBe(true); // MESSAGE_TOO_LARGE
    const left = log.takeNext(T0, producer);
    const right = log.takeNext(T0, producer);
    expect(header(left)).toEqual([77, 0, 0]);
    expect(header(right)).toEqual([77, 0, 3]);
    expect(values(right)).toEqual(['x3', 'x4']);
    expect(log.sequence.epochBumps).toBe(0);
  });
});

describe('PartitionLog: batches a call encoded whole', () => {
  const encoded = (items: string[], timestamp = T0): EncodedBatch => {
    const builder = new RecordBatchBuilder();
    const timestamps = new TimestampRuns();
    for (const item of items) {
      builder.append({ key: null, value: item, headers: [], timestamp });
      timestamps.push(timestamp);
    }
    const bytes = builder.seal(NO_PRODUCER_IDENTITY, CompressionCodec.none, false);
    return { bytes, recordCount: items.length, payloadBytes: items.join('').length, timestamps };
  };

  it('go after the open batch, which is sealed first; stamped and given their CRC when sent', () => {
    const log = new PartitionLog('orders', 0);
    const before = appendAll(log, ['a', 'b']);
    const whole = call(2);
    log.appendEncoded(encoded(['x', 'y']), whole, T0);
    appendAll(log, ['c'], { urgent: true });
    const producer = { producerId: 9, producerEpoch: 1 };
    log.sequence.adopt(producer);
    log.sequence.acknowledged(producer.producerId, producer.producerEpoch);
    const [first, second, third] = [0, 1, 2].map(() => batchOf(log.takeNext(T0, producer)));
    expect([values(first), values(second), values(third)]).toEqual([['a', 'b'], ['x', 'y'], ['c']]);
    expect(first?.segments).toEqual([{ call: before, start: 0, count: 2, indices: null }]);
    expect(second?.segments).toEqual([{ call: whole, start: 0, count: 2, indices: null }]);
    // decodeRecordBatch checks the CRC of a sent batch (values() above); the stamp is in order.
    expect(decodeRecordBatch(batchOf(second).bytes).baseSequence).toBe(2);
    expect(log.bufferedRecords).toBe(5);
  });
});

describe('PartitionLog: splitting a batch refused as too large', () => {
  it('puts two halves in its place, in order, with the calls’ segments cut to match', () => {
    const log = new PartitionLog('orders', 0);
    const first = call(3);
    const second = call(2);
    appendAll(log, ['a0', 'a1', 'a2'], { call: first, urgent: true });
    appendAll(log, ['b0', 'b1'], { call: second, urgent: true });
    const batch = batchOf(log.takeNext(T0));
    expect(batch.recordCount).toBe(5);
    expect(log.split(batch)).toBe(true);
    expect(log.inFlight).toBe(0);
    const left = batchOf(log.takeNext(T0));
    const right = batchOf(log.takeNext(T0));
    expect(values(left)).toEqual(['a0', 'a1', 'a2']);
    expect(values(right)).toEqual(['b0', 'b1']);
    expect(left.segments.map((s) => [s.start, s.count])).toEqual([[0, 3]]);
    expect(right.segments.map((s) => [s.start, s.count])).toEqual([[0, 2]]);
    expect(left.sequence).toBeLessThan(right.sequence);
    expect(log.batchesSplit).toBe(1);
  });

  it('cuts the index list of a call whose records were not consecutive', () => {
    const log = new PartitionLog('orders', 0);
    const produced = call(10);
    for (const index of [1, 4, 5, 8])
      log.append(record(`r${index}`), produced, index, ROOMY, true, Infinity, T0);
    expect(log.split(batchOf(log.takeNext(T0)))).toBe(true);
    const left = batchOf(log.takeNext(T0));
    const right = batchOf(log.takeNext(T0));
    expect(values(left)).toEqual(['r1', 'r4']);
    expect(left.segments).toEqual([{ call: produced, start: 1, count: 2, indices: [1, 4] }]);
    expect(right.segments).toEqual([{ call: produced, start: 5, count: 2, indices: [5, 8] }]);
  });

  it('cuts a call in two when the middle falls inside it, and refuses to split one record', () => {
    const log = new PartitionLog('orders', 0);
    appendAll(log, ['x0', 'x1', 'x2', 'x3'], { urgent: true });
    const batch = batchOf(log.takeNext(T0));
    log.split(batch);
    const left = batchOf(log.takeNext(T0));
    const right = batchOf(log.takeNext(T0));
    expect(left.segments.map((s) => [s.start, s.count])).toEqual([[0, 2]]);
    expect(right.segments.map((s) => [s.start, s.count])).toEqual([[2, 2]]);
    log.split(left);
    const quarter = batchOf(log.takeNext(T0));
    expect(quarter.recordCount).toBe(1);
    expect(quarter.sequence).toBeLessThan(right.sequence);
    expect(log.split(quarter)).toBe(false);
  });
});

describe('openBufferSize', () => {
  it('is the power of two that held the last batch, from 4 KiB up to a full batch', () => {
    const MiB = 1024 * 1024;
    expect(openBufferSize(0, 1_000_000)).toBe(4096);
    expect(openBufferSize(4096, 1_000_000)).toBe(4096);
    expect(openBufferSize(4097, 1_000_000)).toBe(8192);
    expect(openBufferSize(300_000, 1_000_000)).toBe(512 * 1024);
    // A full batch and its last record's overshoot, at most 1 MiB.
    expect(openBufferSize(999_000, 1_000_000)).toBe(1_001_024);
    expect(openBufferSize(5 * MiB, 8 * MiB)).toBe(MiB);
    expect(openBufferSize(60_000, 64 * 1024)).toBe(64 * 1024);
    expect(openBufferSize(66_000, 64 * 1024)).toBe(64 * 1024 + 1024);
    // Never below 4 KiB, whatever batchBytes is.
    expect(openBufferSize(0, 100)).toBe(4096);
    expect(openBufferSize(3000, 100)).toBe(4096);
  });
});
