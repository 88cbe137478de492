import { describe, expect, it } from 'vitest';
import { RecordBatchBuilder, type RecordHeader } from '../../src/protocol/record-batch.js';
import { encodeBatchEntries } from '../../src/spool/spool-batch.js';
import { encodeEntries, type SpoolRecord } from '../../src/spool/spool-format.js';
import { seeded } from '../support/seeded.js';

const SEED = Number(process.env.EKAF_SEED ?? 20261202);

/** A record of every shape a batch holds: null or empty keys and values, strings, headers, timestamps apart. */
function randomRecord(random: () => number, base: number): SpoolRecord {
  const bytes = (max: number): Buffer | string | null => {
    const pick = random();
    if (pick < 0.1) return null;
    const length = Math.floor(random() * max);
    if (pick < 0.4) return 'é€'.repeat(length % 7) + 'x'.repeat(length);
    return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
  };
  const headers: RecordHeader[] = [];
  if (random() < 0.3) {
    for (let h = Math.floor(random() * 3); h >= 0; h--)
      headers.push([
        `h${h}-ü`,
        random() < 0.2 ? null : Buffer.from(`v${h}`.repeat(Math.floor(random() * 9))),
      ]);
  }
  // Deltas beyond 30 bits and negative ones take writeRecord's path rather than appendPlain's.
  const spread = random() < 0.1 ? 2 ** 40 : 1000;
  return {
    key: bytes(30),
    value: bytes(random() < 0.05 ? 70_000 : 200),
    headers,
    partition: 4,
    timestamp: base + Math.floor((random() - 0.3) * spread),
  };
}

describe('spool entries from a record batch (catch-up of downtime mode)', () => {
  it(`are the bytes encodeEntries writes for the same records, seed ${SEED}`, () => {
    const random = seeded(SEED);
    for (let round = 0; round < 50; round++) {
      const count = 1 + Math.floor(random() * 300);
      const records = Array.from({ length: count }, () => randomRecord(random, 1_700_000_000_000));
      const builder = new RecordBatchBuilder(64);
      for (const record of records) builder.append(record);
      const batch = builder.seal();
      // Some records already in the spool (written ahead): only the others are written.
      const skipped = new Set(records.map((_, i) => i).filter(() => random() < 0.2));
      const include = (i: number): boolean => !skipped.has(i);
      const acceptedAt = 1_700_000_000_123 + round;
      const expected = encodeEntries(
        'topic-ñ',
        records.filter((_, i) => include(i)),
        acceptedAt,
      );
      const actual = encodeBatchEntries('topic-ñ', 4, batch, count, acceptedAt, include);
      expect(actual.equals(expected), `round ${round}`).toBe(true);
    }
  });

  it('writes nothing when every record is in the spool already', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ key: null, value: Buffer.from('v'), headers: [], timestamp: 5 });
    expect(encodeBatchEntries('t', 0, builder.seal(), 1, 0, () => false).length).toBe(0);
  });
});
