import { fdatasyncSync, ftruncateSync, mkdirSync, writeSync } from 'node:fs';
import { BufferFullError, SpoolError } from '../errors.js';
import { writeCheckpoint } from './spool-checkpoint.js';
import { decodeEntry, ENTRY_FRAMING_SIZE, SEGMENT_HEADER_SIZE, type SpooledEntry } from './spool-format.js';
import { lockSpool } from './spool-lock.js';
import { SpoolReader } from './spool-reader.js';
import { recoverSpool, type SpoolDamage, type SpoolRecovery } from './spool-recovery.js';
import {
  BACKLOG,
  closeSegmentFiles,
  createSegment,
  deleteSegmentFile,
  growStates,
  RELEASED,
  RESIDENT,
  SAMPLE_EVERY,
  segmentIndexOf,
  syncDirectory,
  type Cursor,
  type Segment,
} from './spool-segment.js';

export type { SpoolDamage, SpoolRecovery } from './spool-recovery.js';

/** The `spool` option, resolved (see src/config.ts for each field's documentation). */
export interface ResolvedSpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
  fsync: 'batch' | 'interval' | 'never';
  fsyncIntervalMs: number;
  mode: 'downtime' | 'always';
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

/** Often enough that a crash replays little that was acknowledged; a checkpoint is one small write. */
const CHECKPOINT_INTERVAL_MS = 50;

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
  /** In id order; the active one, when there is one, is last. */
  private readonly segments: Segment[];
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
  private readonly reader = new SpoolReader();
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
      const found = recoverSpool(options.dir);
      this.segments = found.segments;
      this.totalBytes = found.recovery.bytes;
      // Everything a previous producer left live is backlog: on disk only, to be read back.
      this.liveRecords = found.recovery.records;
      this.backlog = found.recovery.records;
      this.cursor = found.cursor;
      this.nextId = found.nextId;
      this.recovery = found.recovery;
    } catch (error) {
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
    growStates(segment, count);
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
    let index = segmentIndexOf(this.segments, id);
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
      let index = segmentIndexOf(this.segments, cursor.baseId);
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
      const payload = this.reader.payloadAt(segment, cursor.offset);
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
    closeSegmentFiles(this.segments);
    this.unlock();
  }

  /** Records which entries are released, unless nothing changed since the last checkpoint. */
  private writeCheckpoint(): void {
    if (!this.checkpointDirty) return;
    this.checkpointDirty = false;
    // A lost checkpoint means more records replayed after a crash, never fewer: tried again.
    if (!writeCheckpoint(this.options.dir, this.segments)) this.checkpointDirty = true;
  }

  // ---------------------------------------------------------------- segments

  /** Starts a new segment after the active one (which stays until its entries are released). */
  private roll(): Segment {
    const previous = this.active;
    if (previous !== null) {
      if (this.dirty && this.options.fsync !== 'never') this.sync();
      if (previous.live === 0) this.remove(previous);
    }
    const segment = createSegment(this.options.dir, this.nextId);
    if (this.options.fsync === 'batch') syncDirectory(this.options.dir);
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
    deleteSegmentFile(segment);
    this.checkpointDirty = true;
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
}
