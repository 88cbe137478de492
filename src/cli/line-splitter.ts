// `ekaf produce`'s input format, one record per line as with kcat -P: bytes in, records out, no
// I/O, so that what chunk boundaries do can be tested without a process or a broker.
//
// - A line ends at "\n" (0x0A) only: a "\r" before it stays in the record.
// - Lines are bytes and are never decoded: a UTF-8 character cut by a chunk boundary is joined
//   back like any other bytes, and invalid UTF-8 passes through unchanged.
// - Empty lines are skipped; the last line needs no newline.
// - With a key delimiter, a line is split at its first occurrence: key before, value after (both
//   possibly empty); a line without it is a value with no key.
// - There is no length limit here: a line longer than a chunk is joined from its pieces, and a
//   record too large for the producer fails alone when it is sent.
//
// Records are views of the input chunks, not copies: at a few hundred MB/s, copying each line
// would cost more than splitting it. Only a line cut by a chunk boundary is copied. The
// views are plain Uint8Arrays, which the producer takes as they are: a Buffer view (subarray)
// costs more to make, and two views a line are most of what splitting costs.
import type { ProduceRecord } from '../producer.js';

const NEWLINE = 0x0a;
const NO_BYTES = Buffer.alloc(0);

/** How lines become records. */
export interface LineRecordOptions {
  /** Splits each line at the first occurrence: key before, value after. */
  keyDelimiter?: Buffer | undefined;
  /** Sends every record to this partition (default: the topic's partitioner). */
  partition?: number | undefined;
}

/**
 * Splits a stream of chunks into records, one per non-empty line. Pull-based, so that the caller
 * can stop between records (a full buffer, a signal) without the splitter holding them:
 *
 *     lines.push(chunk);
 *     for (let r = lines.next(); r !== undefined; r = lines.next()) send(r);
 *     …
 *     const last = lines.finish(); // the last line, when the input does not end with "\n"
 */
export class LineSplitter {
  private readonly keyDelimiter: Buffer | undefined;
  private readonly partition: number | undefined;
  /** The chunk being split, from `start`; NO_BYTES once next() has taken all its lines. */
  private chunk: Buffer = NO_BYTES;
  private start = 0;
  /** The chunk's first line, joined with its start from earlier chunks: next() returns it first. */
  private joined: Buffer | undefined;
  /**
   * The start of a line cut by the end of a chunk, in pieces copied out of their chunks (see
   * next()), joined once when its end arrives.
   */
  private cut: Buffer[] = [];
  /**
   * Key and value bytes of the records given out since takeBytes(): the caller's byte count
   * without a pass over the records (the delimiter is not payload).
   */
  private bytes = 0;

  constructor(options: LineRecordOptions = {}) {
    if (options.keyDelimiter?.length === 0) throw new Error('LineSplitter: an empty key delimiter');
    this.keyDelimiter = options.keyDelimiter;
    this.partition = options.partition;
  }

  /** The next chunk of input; next() must have returned undefined for the previous one. */
  push(data: Buffer | string): void {
    if (this.chunk.length > 0 || this.joined !== undefined) {
      // Taking a chunk now would drop the previous chunk's lines: a bug in the caller.
      throw new Error('LineSplitter.push: the previous chunk still has lines (call next() until undefined)');
    }
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.cut.length === 0) {
      this.chunk = chunk;
      this.start = 0;
      return;
    }
    const end = chunk.indexOf(NEWLINE);
    if (end === -1) {
      this.cut.push(Buffer.from(chunk));
      return;
    }
    // Only the cut line is joined, not the whole chunk copied.
    this.cut.push(chunk.subarray(0, end));
    this.joined = Buffer.concat(this.cut);
    this.cut = [];
    this.chunk = chunk;
    this.start = end + 1;
  }

  /** The record of the next complete line of the chunk, or undefined when it has no more. */
  next(): ProduceRecord | undefined {
    return this.nextLine() ? this.record(this.line, this.lineStart, this.lineEnd) : undefined;
  }

  /**
   * Finds the next complete line of the chunk, without making a record of it: true with the
   * line in `line` from `lineStart` to `lineEnd` (not including "\n"), valid until the next
   * call; false when the chunk has no more. For encoding lines where they lie (line-batches.ts).
   */
  nextLine(): boolean {
    const joined = this.joined;
    if (joined !== undefined) {
      this.joined = undefined;
      if (joined.length > 0) return this.found(joined, 0, joined.length);
    }
    const chunk = this.chunk;
    let start = this.start;
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) {
        // A copy, not a view: once a chunk's lines are taken, the splitter holds nothing of it,
        // so that a caller that copied its lines may read the next chunk into the same buffer.
        if (start < chunk.length) this.cut.push(Buffer.from(chunk.subarray(start)));
        this.chunk = NO_BYTES;
        this.start = 0;
        return false;
      }
      if (end > start) {
        this.start = end + 1;
        return this.found(chunk, start, end);
      }
      start = end + 1;
    }
  }

  /** The line nextLine() or finishLine() found last. */
  line: Buffer = NO_BYTES;
  lineStart = 0;
  lineEnd = 0;

  private found(line: Buffer, start: number, end: number): true {
    this.line = line;
    this.lineStart = start;
    this.lineEnd = end;
    return true;
  }

  /** Key and value bytes of the records next() and finish() gave since the last call. */
  takeBytes(): number {
    const bytes = this.bytes;
    this.bytes = 0;
    return bytes;
  }

  /** At the end of the input: the record of the last line if it has no newline, else undefined. */
  finish(): ProduceRecord | undefined {
    return this.finishLine() ? this.record(this.line, this.lineStart, this.lineEnd) : undefined;
  }

  /** At the end of the input: finish() as nextLine() finds a line (in `line`), false if none. */
  finishLine(): boolean {
    if (this.cut.length === 0) return false;
    const line = Buffer.concat(this.cut);
    this.cut = [];
    return line.length === 0 ? false : this.found(line, 0, line.length);
  }

  /** The record of the line chunk[start, end): views of the chunk, no copies. */
  private record(chunk: Buffer, start: number, end: number): ProduceRecord {
    let key: Uint8Array | null = null;
    let valueStart = start;
    const delimiter = this.keyDelimiter;
    if (delimiter !== undefined) {
      const at = findDelimiter(chunk, start, end, delimiter);
      if (at !== -1) {
        key = view(chunk, start, at);
        valueStart = at + delimiter.length;
      }
    }
    const value = view(chunk, valueStart, end);
    this.bytes += key === null ? value.length : key.length + value.length;
    // A bare value when there is nothing else to say: the producer's fastest path.
    if (key === null && this.partition === undefined) return value;
    return this.partition === undefined ? { key, value } : { key, value, partition: this.partition };
  }
}

/** buf[start, end) as a Uint8Array sharing buf's memory. */
function view(buf: Buffer, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + start, end - start);
}

/** Where `delimiter` first occurs in the line buf[start, end), or -1. */
export function findDelimiter(buf: Buffer, start: number, end: number, delimiter: Buffer): number {
  if (delimiter.length === 1) {
    const byte = delimiter[0] as number;
    for (let i = start; i < end; i++) if (buf[i] === byte) return i;
    return -1;
  }
  // Searched within the line only: Buffer#indexOf has no end, and would scan on through every
  // later line when this one has no delimiter.
  const found = buf.subarray(start, end).indexOf(delimiter);
  return found === -1 ? -1 : start + found;
}

const SIMPLE_ESCAPES: Partial<Record<string, number>> = { t: 9, n: 10, r: 13, '0': 0, '\\': 0x5c };

/** The bytes of a delimiter written with kcat-style escapes: \t, \n, \r, \0, \\ and \xNN. */
export function unescapeDelimiter(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    // By code point, not UTF-16 unit: half of an emoji's surrogate pair would encode as U+FFFD.
    const c = codePointAt(text, i);
    if (c !== '\\' || i + 1 === text.length) {
      bytes.push(...Buffer.from(c));
      i += c.length - 1;
      continue;
    }
    const next = codePointAt(text, ++i);
    i += next.length - 1;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      bytes.push(simple);
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      // Not an escape: kept as written, backslash included.
      bytes.push(0x5c, ...Buffer.from(next));
    }
  }
  return Buffer.from(bytes);
}

/** The character at `i`: two UTF-16 units for a code point above U+FFFF. */
function codePointAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i) as number);
}
