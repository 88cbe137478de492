import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSegmentHeader, ENTRY_FRAMING_SIZE, scanEntries, SEGMENT_HEADER_SIZE } from './spool-format.js';
import { readCheckpoint } from './spool-checkpoint.js';
import { closeSegmentFiles, RELEASED, SAMPLE_EVERY, type Cursor, type Segment } from './spool-segment.js';

/**
 * Opening a spool: the scan of what a previous producer left in the directory. Apart from
 * spool.ts because it runs once, before the first append, and is the one place that meets
 * damaged files; the Spool takes over the segments it returns.
 */

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

/** The segments found, open, with their live entries all backlog. */
export interface RecoveredSpool {
  recovery: SpoolRecovery;
  /** In id order; every one holds live entries (files with none are deleted). */
  segments: Segment[];
  /** The first live entry, null when there is none. */
  cursor: Cursor | null;
  /** The id the next appended entry takes. */
  nextId: number;
}

/**
 * Reads every segment file of `dir`: a file whose header is damaged is deleted, a torn or damaged
 * tail is cut off, and the entries the checkpoint says were released are marked so. Files left
 * with no live entry are deleted. Throws what the file system throws, with nothing left open.
 */
export function recoverSpool(dir: string): RecoveredSpool {
  const segments: Segment[] = [];
  try {
    return scanDirectory(dir, segments);
  } catch (error) {
    closeSegmentFiles(segments);
    throw error;
  }
}

function scanDirectory(dir: string, segments: Segment[]): RecoveredSpool {
  const damage: SpoolDamage[] = [];
  const files = readdirSync(dir)
    .filter((name) => /^segment-\d{16}\.log$/.test(name))
    .sort();
  const checkpoint = readCheckpoint(dir);
  let records = 0;
  let totalBytes = 0;
  let cursor: Cursor | null = null;
  let nextId = 0;
  for (const name of files) {
    const path = join(dir, name);
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
      segments.push(segment);
      totalBytes += size;
      records += segment.live;
      cursor ??= {
        baseId: segment.baseId,
        offset:
          SEGMENT_HEADER_SIZE +
          (prefix < count ? (scan.entries[prefix] as { offset: number }).offset : scan.end),
        index: prefix,
      };
    }
    nextId = Math.max(nextId, header.baseId + count);
  }
  return {
    recovery: { records, segments: segments.length, bytes: totalBytes, damage },
    segments,
    cursor,
    nextId,
  };
}
