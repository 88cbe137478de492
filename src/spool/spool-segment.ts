import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SpoolError } from '../errors.js';
import { encodeSegmentHeader, SEGMENT_HEADER_SIZE } from './spool-format.js';

/**
 * One segment file of the spool as memory keeps it: its descriptor, its size, and one state byte
 * per entry. Apart from spool.ts so that recovery, the checkpoint and the backlog reader, which
 * all read segments, need not import the Spool class; the bytes inside a file are spool-format's.
 */

/** An entry's state, one byte per entry. */
export const BACKLOG = 0;
export const RESIDENT = 1;
export const RELEASED = 2;
/** acceptedAt is sampled every this many entries (for the oldest entry's age). */
export const SAMPLE_EVERY = 256;

export interface Segment {
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
export interface Cursor {
  baseId: number;
  /** File offset of the next entry. */
  offset: number;
  /** Its index in the segment. */
  index: number;
}

/** Creates an empty segment file (its header only) whose first entry will be `baseId`. */
export function createSegment(dir: string, baseId: number): Segment {
  const path = join(dir, `segment-${String(baseId).padStart(16, '0')}.log`);
  let fd: number;
  try {
    fd = openSync(path, 'w+');
    writeSync(fd, encodeSegmentHeader(baseId), 0, SEGMENT_HEADER_SIZE, 0);
  } catch (error) {
    throw new SpoolError(`cannot create spool segment ${path}: ${(error as Error).message}`, error);
  }
  return {
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
}

/** Makes room in `segment.states` for `more` entries. */
export function growStates(segment: Segment, more: number): void {
  const needed = segment.count + more;
  if (needed <= segment.states.length) return;
  const states = new Uint8Array(Math.max(needed, segment.states.length * 2));
  states.set(segment.states.subarray(0, segment.count));
  segment.states = states;
}

/** The index in `segments` (sorted by base id) of the segment holding `id` (or where it would be). */
export function segmentIndexOf(segments: readonly Segment[], id: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((segments[mid] as Segment).baseId <= id) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Closes and deletes a segment's file. */
export function deleteSegmentFile(segment: Segment): void {
  try {
    closeSync(segment.fd);
    unlinkSync(segment.path);
  } catch {
    // Already gone.
  }
}

export function closeSegmentFiles(segments: readonly Segment[]): void {
  for (const segment of segments) {
    try {
      closeSync(segment.fd);
    } catch {
      // Already closed.
    }
  }
}

/** A new file's name is durable only once its directory is synced. */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not supported on every file system; the data itself is synced.
  }
}
