import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELEASED, type Segment } from './spool-segment.js';

/**
 * The spool's checkpoint file: which entries of each segment are released, so that a restart
 * does not replay them. Apart from spool.ts because its format is read once, by recovery, and
 * written on a timer: neither touches the append or release paths.
 */

const CHECKPOINT_FILE = 'checkpoint.json';

/** What the checkpoint says was released in one segment (see readCheckpoint). */
export interface CheckpointedSegment {
  prefix: number;
  after: Buffer;
}

/**
 * What the last checkpoint says was released, per segment base id: a count of leading entries,
 * and a bitmap of the released ones after them (bit i of byte i >> 3, lowest first: entry
 * prefix + i). Entries released after the checkpoint are replayed: at least once, never less.
 */
export function readCheckpoint(dir: string): Map<number, CheckpointedSegment> {
  const released = new Map<number, CheckpointedSegment>();
  try {
    const parsed = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8')) as {
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

/** Writes what `segments` say is released; false when the write failed (to be tried again). */
export function writeCheckpoint(dir: string, segments: readonly Segment[]): boolean {
  const released: [number, number, string][] = [];
  for (const segment of segments) {
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
  const path = join(dir, CHECKPOINT_FILE);
  try {
    // Replaced whole (rename is atomic): a crash leaves the old checkpoint or the new one.
    writeFileSync(`${path}.tmp`, JSON.stringify({ version: 2, released }));
    renameSync(`${path}.tmp`, path);
    return true;
  } catch {
    // A lost checkpoint means more records replayed after a crash, never fewer.
    return false;
  }
}
