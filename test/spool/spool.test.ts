import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEntries, SEGMENT_HEADER_SIZE, type SpooledEntry } from '../../src/spool/spool-format.js';
import { Spool, type ResolvedSpoolOptions } from '../../src/spool/spool.js';

const dirs: string[] = [];
const spools: Spool[] = [];
afterEach(() => {
  for (const spool of spools.splice(0)) spool.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function options(extra: Partial<ResolvedSpoolOptions> = {}): ResolvedSpoolOptions {
  const dir = mkdtempSync(join(tmpdir(), 'ekaf-spool-unit-'));
  dirs.push(dir);
  return {
    dir,
    maxBytes: 1 << 20,
    segmentBytes: 64 * 1024,
    fsync: 'never',
    fsyncIntervalMs: 1000,
    mode: 'always',
    ...extra,
  };
}

function open(opts: ResolvedSpoolOptions): Spool {
  const spool = Spool.open(opts);
  spools.push(spool);
  return spool;
}

/** Appends records "<prefix>0" … as one write; returns the first id. */
function append(spool: Spool, prefix: string, count: number, resident: boolean): number {
  const records = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: Buffer.from(`${prefix}${i}`.padEnd(100, '.')),
    headers: [],
    partition: -1,
    timestamp: i,
  }));
  return spool.append(encodeEntries('t', records, 1000), count, 1000, resident);
}

function readAll(spool: Spool, limit = Infinity): { id: number; value: string }[] {
  const out: { id: number; value: string }[] = [];
  spool.readBacklog(
    (id: number, entry: SpooledEntry) => {
      if (out.length >= limit) return false;
      out.push({ id, value: entry.record.value?.toString().replace(/\.+$/, '') ?? '' });
      return true;
    },
    () => undefined,
  );
  return out;
}

describe('Spool', () => {
  it('reads its backlog back in order, skipping what is resident, and stops where asked', () => {
    const spool = open(options());
    expect(append(spool, 'a', 3, false)).toBe(0);
    expect(append(spool, 'r', 2, true)).toBe(3);
    expect(append(spool, 'b', 2, false)).toBe(5);
    expect(spool.backlogRecords).toBe(5);
    expect(readAll(spool, 2)).toEqual([
      { id: 0, value: 'a0' },
      { id: 1, value: 'a1' },
    ]);
    expect(readAll(spool)).toEqual([
      { id: 2, value: 'a2' },
      { id: 5, value: 'b0' },
      { id: 6, value: 'b1' },
    ]);
    expect(spool.backlogRecords).toBe(0);
    expect(spool.stats()).toMatchObject({ liveRecords: 7, backlogRecords: 0, segments: 1 });
  });

  it('deletes a segment once every entry in it is released, and reopens with only what is live', () => {
    const opts = options();
    const spool = open(opts);
    // ~108 bytes per entry: 64 KiB segments hold ~600 entries.
    for (let i = 0; i < 10; i++) append(spool, `s${i}-`, 200, true);
    const segments = spool.stats().segments;
    expect(segments).toBeGreaterThanOrEqual(3);
    spool.release(0, 1200);
    expect(spool.stats().segments).toBeLessThan(segments);
    expect(spool.stats().liveRecords).toBe(800);
    spool.close();
    spools.length = 0;

    const reopened = open(opts);
    expect(reopened.recovery).toMatchObject({ records: 800, damage: [] });
    const values = readAll(reopened).map((e) => e.value);
    expect(values[0]).toBe('s6-0');
    expect(values.length).toBe(800);
    expect(values.at(-1)).toBe('s9-199');
  });

  it('releases ranges across segments, and ids of deleted segments or released twice harmlessly', () => {
    const spool = open(options());
    for (let i = 0; i < 10; i++) append(spool, `r${i}-`, 200, true);
    const segments = spool.stats().segments;
    spool.release(0, 700); // the first segment whole, and part of the second
    spool.release(0, 700); // again: nothing changes
    spool.release(650, 10); // partly in a deleted range
    expect(spool.stats().liveRecords).toBe(1300);
    expect(spool.stats().segments).toBe(segments - 1);
    spool.release(700, 1300);
    expect(spool.stats()).toMatchObject({ liveRecords: 0, segments: 1 }); // the active one stays
    spool.release(5000, 3); // ids not written yet: ignored
    expect(spool.stats().liveRecords).toBe(0);
  });

  it('checkpoints what is released (leading entries and those after): a reopened spool replays the rest', () => {
    const opts = options({ segmentBytes: 1 << 20 });
    const spool = open(opts);
    append(spool, 'x', 100, true);
    spool.release(0, 60);
    spool.release(70, 5);
    spool.release(99);
    spool.close();
    spools.length = 0;
    const reopened = open(opts);
    const expected = Array.from({ length: 40 }, (_, i) => 60 + i).filter(
      (id) => (id < 70 || id >= 75) && id !== 99,
    );
    expect(reopened.recovery.records).toBe(expected.length);
    expect(readAll(reopened).map((e) => e.id)).toEqual(expected);
    reopened.close();
    spools.length = 0;

    // A checkpoint without bitmaps (the first format) still counts its leading entries; one
    // that is not JSON is ignored: everything is replayed (at least once, never less).
    writeFileSync(join(opts.dir, 'checkpoint.json'), JSON.stringify({ version: 1, released: [[0, 80]] }));
    expect(open(opts).recovery.records).toBe(20);
    spools[0]?.close();
    spools.length = 0;
    writeFileSync(join(opts.dir, 'checkpoint.json'), '{"vers');
    expect(open(opts).recovery.records).toBe(100);
  });

  it('refuses an append that would pass maxBytes with ERR_BUFFER_FULL, keeping what it has', () => {
    const spool = open(options({ maxBytes: 64 * 1024, segmentBytes: 64 * 1024 }));
    let appended = 0;
    let refusal: unknown = null;
    while (refusal === null) {
      try {
        append(spool, 'f', 10, false);
        appended += 10;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toMatchObject({
      code: 'ERR_BUFFER_FULL',
      message: expect.stringMatching(/spool full/) as string,
    });
    expect(spool.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    expect(readAll(spool).length).toBe(appended);
    // Released, the active segment is reclaimed for new entries.
    spool.release(0, appended);
    expect(() => append(spool, 'g', 10, true)).not.toThrow();
  });

  it('truncates a torn tail and drops a segment whose header is damaged, reporting both', () => {
    const opts = options();
    const spool = open(opts);
    append(spool, 'ok', 5, false);
    spool.close();
    spools.length = 0;
    const [name] = readdirSync(opts.dir).filter((n) => n.startsWith('segment-'));
    const path = join(opts.dir, name as string);
    const intact = statSync(path).size;
    appendFileSync(path, Buffer.from([0, 0, 0, 50, 1, 2, 3]));
    const bogus = join(opts.dir, 'segment-9999999999999999.log');
    writeFileSync(bogus, Buffer.alloc(SEGMENT_HEADER_SIZE + 10, 7));

    const reopened = open(opts);
    expect(reopened.recovery.damage).toEqual([
      { file: path, offset: intact, reason: 'torn tail (an entry cut short)', droppedBytes: 7 },
      {
        file: bogus,
        offset: 0,
        reason: 'not a spool segment (bad magic)',
        droppedBytes: SEGMENT_HEADER_SIZE + 10,
      },
    ]);
    expect(statSync(path).size).toBe(intact);
    expect(readdirSync(opts.dir)).not.toContain('segment-9999999999999999.log');
    expect(readAll(reopened).map((e) => e.value)).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4']);
  });

  it('one producer per directory: a live holder is refused, a dead one taken over', () => {
    const opts = options();
    open(opts);
    expect(() => Spool.open(opts)).toThrow(
      expect.objectContaining({ code: 'ERR_SPOOL_LOCKED', holderPid: process.pid }),
    );
    spools[0]?.close();
    spools.length = 0;
    // A pid that is not running (the kernel's pid_max is below 2^22).
    writeFileSync(join(opts.dir, 'lock'), '4194304\n');
    expect(() => open(opts)).not.toThrow();
  });

  it("fsync 'batch' and 'interval' write the same entries (the syncs themselves are the OS's)", () => {
    for (const fsync of ['batch', 'interval'] as const) {
      const opts = options({ fsync, fsyncIntervalMs: 5 });
      const spool = open(opts);
      append(spool, fsync, 3, false);
      expect(readAll(spool).map((e) => e.value)).toEqual([`${fsync}0`, `${fsync}1`, `${fsync}2`]);
    }
  });

  it('names the file system failure when the directory cannot be made', () => {
    const opts = options();
    const file = join(opts.dir, 'not-a-dir');
    writeFileSync(file, '');
    expect(() => Spool.open({ ...opts, dir: join(file, 'spool') })).toThrow(
      expect.objectContaining({
        code: 'ERR_SPOOL',
        message: expect.stringContaining('cannot create spool directory') as string,
      }),
    );
  });
});
