import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { BufferFullError, SpoolError } from '../errors.js';
import {
  decodeEntry,
  decodeSegmentHeader,
  encodeSegmentHeader,
  ENTRY_FRAMING_SIZE,
  scanEntries,
  SEGMENT_HEADER_SIZE,
  type SpooledEntry,
} from './spool-format.js';
import { lockSpool } from './spool-lock.js';

/** The `spool` option, resolved (see src/config.ts for each field's documentation). */
export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: 'batch' | 'interval' | 'never';
  fsyncIntervalMs: number;
  mode: 'downtime' | 'always';
}

/** Damage found in the spool: skipped, and reported as a `spool.damaged` event. */
export interface SpoolDamage {
  file: string;
  offset: number;
  reason: string;
  /** Bytes dropped from the file (from `offset` to its end, or the whole file). */
  droppedBytes: number;
}

/** What opening a spool found left by a previous producer. */
export interface SpoolRecovery {
  records: number;
  segments: number;
  bytes: number;
  damage: SpoolDamage[];
}

export interface SpoolStats {
  dir: string;
  mode: ResolvedSpoolOptions['mode'];
  fsync: ResolvedSpoolOptions['fsync'];
  segments: number;
  bytes: number;
  maxBytes: number;
  /** Entries not yet acknowledged or failed. */
  liveRecords: number;
  /** Of those, entries on disk only, waiting to be read back into memory. */
  backlogRecords: number;
  /** Age of the oldest live entry (to within 256 entries), 0 when there is none. */
  oldestEntryAgeMs: number;
  /** The last failure of a background fsync, null if none. */
  lastError: string | null;
}

/** An entry's state, one byte per entry. */
const BACKLOG = 0;
const RESIDENT = 1;
const RELEASED = 2;
/** acceptedAt is sampled every this many entries (for the oldest entry's age). */
const SAMPLE_EVERY = 256;
const CHECKPOINT_FILE = 'checkpoint.json';
/** Often enough that a crash replays little that was acknowledged; a checkpoint is one small write. */
const CHECKPOINT_INTERVAL_MS = 50;
/** How much a backlog read takes from a file at once. */
const READ_WINDOW = 1024 * 1024;

interface Segment {
  readonly baseId: number;
  readonly path: string;
  fd: number;
  /** Bytes in the file. */
  size: number;
  /** Entries in the file. */
  count: number;
  /** Entries not released. */
  live: number;
  /** Entries [0, prefix) are all released (what the checkpoint records). */
  prefix: number;
  states: Uint8Array;
  /** acceptedAt of entries 0, 256, 512… */
  samples: number[];
}

/** Where the next backlog read starts. */
interface Cursor {
  baseId: number;
  /** File offset of the next entry. */
  offset: number;
  /** Its index in the segment. */
  index: number;
}

/**
 * The durable spool: an append-only log of records in segment files, in acceptance order.
 *
 * Each entry is in one of three states: on disk only (backlog: memory was full, or it was left by
 * a previous producer), resident (also in memory, on its way to Kafka), or released (acknowledged
 * or failed for good). A segment whose entries are all released is deleted; which leading
 * entries are released is checkpointed each second, so that a restart does not replay them.
 *
 * Appends are written with a synchronous write() before the producer returns: once written they
 * survive the process (SIGKILL, a crash); `fsync` decides when they also survive the machine.
 */
export class Spool {
  private readonly segments: Segment[] = [];
  private active: Segment | null = null;
  private nextId = 0;
  private cursor: Cursor | null = null;
  private totalBytes = 0;
  private liveRecords = 0;
  private backlog = 0;
  private dirty = false;
  private checkpointDirty = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unlock: () => void;
  private closed = false;
  /** The bytes last read for the backlog (see payloadAt). */
  private window: { baseId: number; start: number; bytes: Buffer } | null = null;
  /** The last failure of a background fsync, if any. */
  private lastError: string | null = null;
  readonly recovery: SpoolRecovery;

  private constructor(readonly options: ResolvedSpoolOptions) {
    try {
      mkdirSync(options.dir, { recursive: true });
    } catch (error) {
      throw new SpoolError(
        `cannot create spool directory ${options.dir}: ${(error as Error).message}`,
        error,
      );
    }
    this.unlock = lockSpool(options.dir);
    try {
      this.recovery = this.recover();
    } catch (error) {
      this.closeFiles();
      this.unlock();
      throw error instanceof SpoolError
        ? error
        : new SpoolError(`cannot read spool directory ${options.dir}: ${(error as Error).message}`, error);
    }
    if (options.fsync === 'interval') {
      const syncNow = (): void => {
        try {
          this.sync();
        } catch (error) {
          // Reported by stats(); the next append's own sync (or close) raises it to a caller.
          this.lastError = (error as Error).message;
        }
      };
      this.timers.push(setInterval(syncNow, options.fsyncIntervalMs).unref());
    }
    this.timers.push(
      setInterval(() => {
        this.writeCheckpoint();
      }, CHECKPOINT_INTERVAL_MS).unref(),
    );
  }

  /** Locks `options.dir` and reads what a previous producer left in it. */
  static open(options: ResolvedSpoolOptions): Spool {
    return new Spool(options);
  }

  get mode(): ResolvedSpoolOptions['mode'] {
    return this.options.mode;
  }

  /** Entries on disk only, waiting to be read back. */
  get backlogRecords(): number {
    return this.backlog;
  }

  /**
   * Appends framed entries (spool-format's encodeEntries) for `count` records and returns the
   * first one's id (the others follow). `resident`: the records are also in memory; otherwise
   * they are backlog, read back later by readBacklog. Throws BufferFullError when `maxBytes`
   * would be exceeded and SpoolError when the file system fails; either way nothing is kept.
   */
  append(entries: Buffer, count: number, acceptedAt: number, resident: boolean): number {
    if (this.closed) throw new SpoolError('the spool is closed');
    if (entries.length > this.options.maxBytes - this.totalBytes) this.reclaimActive();
    if (entries.length > this.options.maxBytes - this.totalBytes) {
      throw new BufferFullError(
        `spool full: ${count} records / ${entries.length} bytes do not fit, ` +
          `${this.totalBytes} of ${this.options.maxBytes} bytes used in ${this.options.dir}`,
      );
    }
    let segment = this.active;
    if (
      segment === null ||
      (segment.count > 0 && segment.size + entries.length > this.options.segmentBytes)
    ) {
      segment = this.roll();
    }
    try {
      let written = 0;
      while (written < entries.length) {
        written += writeSync(segment.fd, entries, written, entries.length - written, segment.size + written);
      }
    } catch (error) {
      // A partial write (ENOSPC) would leave a torn entry for the next append to follow: cut it.
      try {
        ftruncateSync(segment.fd, segment.size);
      } catch {
        // Recovery truncates a torn tail in any case.
      }
      throw new SpoolError(`cannot write to spool ${segment.path}: ${(error as Error).message}`, error);
    }
    const firstId = segment.baseId + segment.count;
    this.grow(segment, count);
    const state = resident ? RESIDENT : BACKLOG;
    for (let i = 0; i < count; i++) {
      if ((segment.count + i) % SAMPLE_EVERY === 0) segment.samples.push(acceptedAt);
      segment.states[segment.count + i] = state;
    }
    segment.count += count;
    segment.live += count;
    segment.size += entries.length;
    this.totalBytes += entries.length;
    this.liveRecords += count;
    this.nextId = firstId + count;
    if (!resident) {
      this.backlog += count;
      this.cursor ??= {
        baseId: segment.baseId,
        offset: segment.size - entries.length,
        index: segment.count - count,
      };
    }
    this.dirty = true;
    if (this.options.fsync === 'batch') this.sync();
    return firstId;
  }

  /** Whether `bytes` more would fit (after reclaiming a fully released active segment). */
  hasRoom(bytes: number): boolean {
    return bytes <= this.options.maxBytes - this.totalBytes || this.active?.live === 0;
  }

  /**
   * Entries [id, id + count) are acknowledged or failed for good: they are not replayed again.
   * Ids may span segments; releasing an entry twice is harmless.
   */
  release(id: number, count = 1): void {
    const end = id + count;
    let index = this.segmentIndexOf(id);
    while (id < end && index < this.segments.length) {
      const segment = this.segments[index] as Segment;
      // Ids before this segment were in deleted ones: released already.
      id = Math.max(id, segment.baseId);
      const from = id - segment.baseId;
      const to = Math.min(segment.count, end - segment.baseId);
      if (from >= to) {
        index++;
        continue;
      }
      for (let i = from; i < to; i++) {
        const state = segment.states[i];
        if (state === RELEASED) continue;
        if (state === BACKLOG) this.backlog--;
        segment.states[i] = RELEASED;
        segment.live--;
        this.liveRecords--;
      }
      if (from <= segment.prefix) {
        while (segment.prefix < segment.count && segment.states[segment.prefix] === RELEASED)
          segment.prefix++;
      }
      this.checkpointDirty = true;
      id = segment.baseId + to;
      if (segment.live === 0 && segment !== this.active) {
        this.remove(segment);
      } else {
        index++;
      }
    }
  }

  /**
   * Reads backlog entries in order and offers each to `take`, which returns false to stop (no
   * room in memory): that entry stays in the backlog and is offered again next time. Taken
   * entries become resident. An entry whose CRC is right but whose content is not (a bug) is
   * released and reported through `damaged`.
   */
  readBacklog(
    take: (id: number, entry: SpooledEntry) => boolean,
    damaged: (damage: SpoolDamage) => void,
  ): void {
    while (this.backlog > 0 && this.cursor !== null) {
      const cursor = this.cursor;
      let index = this.segmentIndexOf(cursor.baseId);
      let segment = this.segments[index];
      if (segment === undefined || segment.baseId !== cursor.baseId) {
        // Its segment was deleted (all released): go on at the start of the next one.
        index = this.segments.findIndex((s) => s.baseId > cursor.baseId);
        segment = this.segments[index];
        if (segment === undefined) break;
        this.cursor = { baseId: segment.baseId, offset: SEGMENT_HEADER_SIZE, index: 0 };
        continue;
      }
      if (cursor.index >= segment.count) {
        const next = this.segments[index + 1];
        if (next === undefined) break;
        this.cursor = { baseId: next.baseId, offset: SEGMENT_HEADER_SIZE, index: 0 };
        continue;
      }
      const payload = this.payloadAt(segment, cursor.offset);
      const id = segment.baseId + cursor.index;
      if (segment.states[cursor.index] === BACKLOG) {
        let entry: SpooledEntry | null = null;
        try {
          entry = decodeEntry(payload);
        } catch (error) {
          damaged({
            file: segment.path,
            offset: cursor.offset,
            reason: (error as Error).message,
            droppedBytes: payload.length + ENTRY_FRAMING_SIZE,
          });
          this.release(id);
        }
        if (entry !== null) {
          if (!take(id, entry)) return;
          segment.states[cursor.index] = RESIDENT;
          this.backlog--;
        }
      }
      cursor.offset += ENTRY_FRAMING_SIZE + payload.length;
      cursor.index++;
    }
    if (this.backlog === 0) this.cursor = null;
  }

  stats(now = Date.now()): SpoolStats {
    let oldest = 0;
    for (const segment of this.segments) {
      if (segment.live === 0) continue;
      const sample = segment.samples[Math.floor(segment.prefix / SAMPLE_EVERY)];
      if (sample !== undefined) oldest = Math.max(0, now - sample);
      break;
    }
    return {
      dir: this.options.dir,
      mode: this.options.mode,
      fsync: this.options.fsync,
      segments: this.segments.length,
      bytes: this.totalBytes,
      maxBytes: this.options.maxBytes,
      liveRecords: this.liveRecords,
      backlogRecords: this.backlog,
      oldestEntryAgeMs: oldest,
      lastError: this.lastError,
    };
  }

  /** Writes what is pending to disk (fsync), checkpoints, closes the files and unlocks. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    try {
      this.sync();
    } catch (error) {
      // close() must release the files and the lock whatever the disk says; what was written
      // is in the OS's hands, and recovery checks every entry.
      this.lastError = (error as Error).message;
    }
    this.writeCheckpoint();
    // A fully released active segment is not worth keeping.
    if (this.active !== null && this.active.live === 0) this.remove(this.active);
    this.closeFiles();
    this.unlock();
  }

  // ---------------------------------------------------------------- recovery

  private recover(): SpoolRecovery {
    const damage: SpoolDamage[] = [];
    const files = readdirSync(this.options.dir)
      .filter((name) => /^segment-\d{16}\.log$/.test(name))
      .sort();
    const checkpoint = this.readCheckpoint();
    let records = 0;
    for (const name of files) {
      const path = join(this.options.dir, name);
      const bytes = readFileSync(path);
      const header = decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_SIZE));
      if ('damage' in header) {
        damage.push({ file: path, offset: 0, reason: header.damage, droppedBytes: bytes.length });
        unlinkSync(path);
        continue;
      }
      const scan = scanEntries(bytes.subarray(SEGMENT_HEADER_SIZE));
      let size = SEGMENT_HEADER_SIZE + scan.end;
      if (size < bytes.length) {
        damage.push({
          file: path,
          offset: size,
          reason: scan.damage?.reason ?? 'torn tail (an entry cut short)',
          droppedBytes: bytes.length - size,
        });
      }
      const fd = openSync(path, 'r+');
      if (size < bytes.length) ftruncateSync(fd, size);
      const count = scan.entries.length;
      const known = checkpoint.get(header.baseId);
      const prefix = Math.min(known?.prefix ?? 0, count);
      const segment: Segment = {
        baseId: header.baseId,
        path,
        fd,
        size,
        count,
        live: count - prefix,
        prefix,
        states: new Uint8Array(count),
        samples: [],
      };
      segment.states.fill(RELEASED, 0, prefix);
      const after = known?.after ?? Buffer.alloc(0);
      for (let bit = 0; bit < after.length * 8 && prefix + bit < count; bit++) {
        if (((after[bit >> 3] ?? 0) & (1 << (bit & 7))) !== 0) {
          segment.states[prefix + bit] = RELEASED;
          segment.live--;
        }
      }
      for (let i = 0; i < count; i += SAMPLE_EVERY) {
        // acceptedAt is the f64 after the kind byte.
        segment.samples.push(
          bytes.readDoubleBE(
            SEGMENT_HEADER_SIZE + (scan.entries[i] as { offset: number }).offset + ENTRY_FRAMING_SIZE + 1,
          ),
        );
      }
      if (segment.live === 0) {
        closeSync(fd);
        unlinkSync(path);
        size = 0;
      } else {
        this.segments.push(segment);
        this.totalBytes += size;
        this.liveRecords += segment.live;
        this.backlog += segment.live;
        records += segment.live;
        this.cursor ??= {
          baseId: segment.baseId,
          offset:
            SEGMENT_HEADER_SIZE +
            (prefix < count ? (scan.entries[prefix] as { offset: number }).offset : scan.end),
          index: prefix,
        };
      }
      this.nextId = Math.max(this.nextId, header.baseId + count);
    }
    return { records, segments: this.segments.length, bytes: this.totalBytes, damage };
  }

  /**
   * What the last checkpoint says was released, per segment base id: a count of leading entries,
   * and a bitmap of the released ones after them (bit i of byte i >> 3, lowest first: entry
   * prefix + i). Entries released after the checkpoint are replayed: at least once, never less.
   */
  private readCheckpoint(): Map<number, { prefix: number; after: Buffer }> {
    const released = new Map<number, { prefix: number; after: Buffer }>();
    try {
      const parsed = JSON.parse(readFileSync(join(this.options.dir, CHECKPOINT_FILE), 'utf8')) as {
        released?: unknown;
      };
      if (Array.isArray(parsed.released)) {
        for (const item of parsed.released as unknown[]) {
          if (!Array.isArray(item) || !Number.isSafeInteger(item[0]) || !Number.isSafeInteger(item[1]))
            continue;
          const after = typeof item[2] === 'string' ? Buffer.from(item[2], 'base64') : Buffer.alloc(0);
          released.set(item[0] as number, { prefix: item[1] as number, after });
        }
      }
    } catch {
      // None, or unreadable: everything not deleted is replayed (at least once, never less).
    }
    return released;
  }

  private writeCheckpoint(): void {
    if (!this.checkpointDirty) return;
    this.checkpointDirty = false;
    const released: [number, number, string][] = [];
    for (const segment of this.segments) {
      let end = segment.count;
      while (end > segment.prefix && segment.states[end - 1] !== RELEASED) end--;
      if (segment.prefix === 0 && end === 0) continue;
      const after = Buffer.alloc(Math.ceil((end - segment.prefix) / 8));
      for (let i = segment.prefix; i < end; i++) {
        const bit = i - segment.prefix;
        if (segment.states[i] === RELEASED) after[bit >> 3] = (after[bit >> 3] ?? 0) | (1 << (bit & 7));
      }
      released.push([segment.baseId, segment.prefix, after.toString('base64')]);
    }
    const path = join(this.options.dir, CHECKPOINT_FILE);
    try {
      // Replaced whole (rename is atomic): a crash leaves the old checkpoint or the new one.
      writeFileSync(`${path}.tmp`, JSON.stringify({ version: 2, released }));
      renameSync(`${path}.tmp`, path);
    } catch {
      // A lost checkpoint means more records replayed after a crash, never fewer.
      this.checkpointDirty = true;
    }
  }

  // ---------------------------------------------------------------- segments

  /** Starts a new segment after the active one (which stays until its entries are released). */
  private roll(): Segment {
    const previous = this.active;
    if (previous !== null) {
      if (this.dirty && this.options.fsync !== 'never') this.sync();
      if (previous.live === 0) this.remove(previous);
    }
    const baseId = this.nextId;
    const path = join(this.options.dir, `segment-${String(baseId).padStart(16, '0')}.log`);
    let fd: number;
    try {
      fd = openSync(path, 'w+');
      writeSync(fd, encodeSegmentHeader(baseId), 0, SEGMENT_HEADER_SIZE, 0);
    } catch (error) {
      throw new SpoolError(`cannot create spool segment ${path}: ${(error as Error).message}`, error);
    }
    if (this.options.fsync === 'batch') this.syncDirectory();
    const segment: Segment = {
      baseId,
      path,
      fd,
      size: SEGMENT_HEADER_SIZE,
      count: 0,
      live: 0,
      prefix: 0,
      states: new Uint8Array(1024),
      samples: [],
    };
    this.segments.push(segment);
    this.totalBytes += SEGMENT_HEADER_SIZE;
    this.active = segment;
    return segment;
  }

  /** Deletes the active segment when nothing in it is live, to make room. */
  private reclaimActive(): void {
    const active = this.active;
    if (active !== null && active.live === 0) {
      this.remove(active);
    }
  }

  private remove(segment: Segment): void {
    const index = this.segments.indexOf(segment);
    if (index !== -1) this.segments.splice(index, 1);
    if (segment === this.active) this.active = null;
    this.totalBytes -= segment.size;
    try {
      closeSync(segment.fd);
      unlinkSync(segment.path);
    } catch {
      // Already gone.
    }
    this.checkpointDirty = true;
  }

  private grow(segment: Segment, more: number): void {
    const needed = segment.count + more;
    if (needed <= segment.states.length) return;
    const states = new Uint8Array(Math.max(needed, segment.states.length * 2));
    states.set(segment.states.subarray(0, segment.count));
    segment.states = states;
  }

  /** The index of the segment holding `id` (or where it would be). */
  private segmentIndexOf(id: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid] as Segment).baseId <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The payload of the entry at `offset` of `segment`, CRC checked. Read through a window that is
   * kept between calls: a backlog is read a little at a time as memory frees up, and the bytes
   * of a segment never change once written (appends only add after them). Each refill reads into
   * a new buffer, never into one handed out: decoded records are views of it (no copy per record).
   */
  private payloadAt(segment: Segment, offset: number): Buffer {
    for (let attempt = 0; attempt < 2; attempt++) {
      const window = this.window;
      if (window !== null && window.baseId === segment.baseId && offset >= window.start) {
        const at = offset - window.start;
        const scan = scanEntries(window.bytes.subarray(at), 1);
        const position = scan.entries[0];
        if (position !== undefined) {
          const from = at + ENTRY_FRAMING_SIZE;
          return window.bytes.subarray(from, from + position.length);
        }
        if (scan.damage !== null) {
          throw new SpoolError(
            `spool ${segment.path} changed under the producer at byte ${offset}: ${scan.damage.reason}`,
          );
        }
      }
      // Not in the window (or cut short at its end): read from `offset`, at least the whole entry.
      const header = Buffer.allocUnsafe(ENTRY_FRAMING_SIZE);
      if (this.readAt(segment, header, ENTRY_FRAMING_SIZE, offset) < ENTRY_FRAMING_SIZE) break;
      const size = Math.max(READ_WINDOW, ENTRY_FRAMING_SIZE + header.readUInt32BE(0));
      const bytes = Buffer.allocUnsafe(Math.min(size, segment.size - offset));
      const read = this.readAt(segment, bytes, bytes.length, offset);
      this.window = { baseId: segment.baseId, start: offset, bytes: bytes.subarray(0, read) };
    }
    throw new SpoolError(`spool ${segment.path} ends before its entry at byte ${offset}`);
  }

  private readAt(segment: Segment, into: Buffer, length: number, position: number): number {
    let read = 0;
    try {
      while (read < length) {
        const n = readSync(segment.fd, into, read, length - read, position + read);
        if (n === 0) break;
        read += n;
      }
    } catch (error) {
      throw new SpoolError(`cannot read spool ${segment.path}: ${(error as Error).message}`, error);
    }
    return read;
  }

  private sync(): void {
    if (!this.dirty || this.active === null) return;
    this.dirty = false;
    try {
      fdatasyncSync(this.active.fd);
    } catch (error) {
      throw new SpoolError(`cannot sync spool ${this.active.path}: ${(error as Error).message}`, error);
    }
  }

  /** A new file's name is durable only once its directory is synced. */
  private syncDirectory(): void {
    try {
      const fd = openSync(this.options.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not supported on every file system; the data itself is synced.
    }
  }

  private closeFiles(): void {
    for (const segment of this.segments) {
      try {
        closeSync(segment.fd);
      } catch {
        // Already closed.
      }
    }
  }
}
