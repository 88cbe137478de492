import { readSync } from 'node:fs';
import { SpoolError } from '../errors.js';
import { ENTRY_FRAMING_SIZE, scanEntries } from './spool-format.js';
import type { Segment } from './spool-segment.js';

/**
 * Reads entries back from segment files for the backlog, through a window of bytes kept between
 * calls. Apart from spool.ts because it is the only code that reads a segment after it is
 * written, and the window's rules (never refilled into a buffer handed out) are its own.
 */

/** How much a backlog read takes from a file at once. */
const READ_WINDOW = 1024 * 1024;

export class SpoolReader {
  /** The bytes last read for the backlog (see payloadAt). */
  private window: { baseId: number; start: number; bytes: Buffer } | null = null;

  /**
   * The payload of the entry at `offset` of `segment`, CRC checked. Read through a window that is
   * kept between calls: a backlog is read a little at a time as memory frees up, and the bytes
   * of a segment never change once written (appends only add after them). Each refill reads into
   * a new buffer, never into one handed out: decoded records are views of it (no copy per record).
   */
  payloadAt(segment: Segment, offset: number): Buffer {
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
      if (readAt(segment, header, ENTRY_FRAMING_SIZE, offset) < ENTRY_FRAMING_SIZE) break;
      const size = Math.max(READ_WINDOW, ENTRY_FRAMING_SIZE + header.readUInt32BE(0));
      const bytes = Buffer.allocUnsafe(Math.min(size, segment.size - offset));
      const read = readAt(segment, bytes, bytes.length, offset);
      this.window = { baseId: segment.baseId, start: offset, bytes: bytes.subarray(0, read) };
    }
    throw new SpoolError(`spool ${segment.path} ends before its entry at byte ${offset}`);
  }
}

function readAt(segment: Segment, into: Buffer, length: number, position: number): number {
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
