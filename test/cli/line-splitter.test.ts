// `ekaf produce`'s line splitter alone: chunks in, records out, without a process or a broker.
// The CLI test (cli.test.ts) covers the same format end to end through kcat.
import { describe, expect, it } from 'vitest';
import { LineSplitter, unescapeDelimiter, type LineRecordOptions } from '../../src/cli/line-splitter.js';
import type { ProduceRecord } from '../../src/producer.js';

/** A record as the tests compare it: key and value as strings, key null when absent. */
interface Line {
  key: string | null;
  value: string;
  partition?: number;
}

/** A key or value of the splitter: a view of bytes (never a string), as text. */
function text(bytes: unknown): string {
  if (!(bytes instanceof Uint8Array)) throw new Error('not from the splitter');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString();
}

function asLine(record: ProduceRecord): Line {
  if (record instanceof Uint8Array) return { key: null, value: text(record) };
  if (typeof record === 'string') throw new Error('not from the splitter');
  const line: Line = { key: record.key == null ? null : text(record.key), value: text(record.value) };
  if (record.partition !== undefined) line.partition = record.partition;
  return line;
}

/** Every record of `chunks`, in order, the last line (without newline) included. */
function split(chunks: (Buffer | string)[], options?: LineRecordOptions): ProduceRecord[] {
  const lines = new LineSplitter(options);
  const records: ProduceRecord[] = [];
  for (const chunk of chunks) {
    lines.push(chunk);
    for (let record = lines.next(); record !== undefined; record = lines.next()) records.push(record);
  }
  const last = lines.finish();
  if (last !== undefined) records.push(last);
  return records;
}

const values = (chunks: (Buffer | string)[], options?: LineRecordOptions): string[] =>
  split(chunks, options).map((r) => asLine(r).value);

const keyed = (chunks: (Buffer | string)[], delimiter: string): [string | null, string][] =>
  split(chunks, { keyDelimiter: Buffer.from(delimiter) }).map((r) => {
    const { key, value } = asLine(r);
    return [key, value];
  });

/** `input` cut at every pair of positions into three chunks (empty chunks included). */
function* everyCut(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) {
      yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
    }
  }
}

describe('LineSplitter: lines', () => {
  it('gives one record per line, a bare value when there is no key delimiter nor partition', () => {
    const records = split(['one\ntwo\nthree\n']);
    expect(records.map((r) => asLine(r).value)).toEqual(['one', 'two', 'three']);
    // A bare value is the producer's cheapest form.
    expect(records.every((r) => r instanceof Uint8Array)).toBe(true);
  });

  it('skips empty lines: first, repeated, last, and those a chunk boundary separates', () => {
    expect(values(['\n\na\n\n\nb\n\n'])).toEqual(['a', 'b']);
    expect(values(['a\n', '\n', '\nb\n', '\n'])).toEqual(['a', 'b']);
    expect(values(['\n', '\n'])).toEqual([]);
  });

  it('gives nothing for an empty input or empty chunks', () => {
    expect(split([])).toEqual([]);
    expect(split([''])).toEqual([]);
    expect(values(['', 'a', '', '\n', ''])).toEqual(['a']);
  });

  it('gives the last line without a newline at finish(), and nothing more when it has one', () => {
    const lines = new LineSplitter();
    lines.push('a\nlast');
    expect(asLine(lines.next() as ProduceRecord).value).toBe('a');
    expect(lines.next()).toBeUndefined();
    expect(asLine(lines.finish() as ProduceRecord).value).toBe('last');
    expect(lines.finish()).toBeUndefined();

    const ended = new LineSplitter();
    ended.push('a\n');
    expect(ended.next()).toBeDefined();
    expect(ended.next()).toBeUndefined();
    expect(ended.finish()).toBeUndefined();
  });

  it('ends a line at "\\n" only: a "\\r" of CRLF stays in the value', () => {
    expect(values(['a\r\nb\r\n', '\r\n'])).toEqual(['a\r', 'b\r', '\r']);
    expect(values(['a\rb\n'])).toEqual(['a\rb']);
  });

  it('joins a line cut by a chunk boundary', () => {
    expect(values(['hel', 'lo\nwor', 'ld\n'])).toEqual(['hello', 'world']);
    // The cut falls just before the newline, and just after it.
    expect(values(['abc', '\ndef\n'])).toEqual(['abc', 'def']);
    expect(values(['abc\n', 'def'])).toEqual(['abc', 'def']);
  });

  it('joins a UTF-8 character cut by a chunk boundary, byte for byte', () => {
    const text = 'é€😀\n';
    const bytes = Buffer.from(text);
    // Cut inside 'é' (2 bytes), '€' (3 bytes) and '😀' (4 bytes).
    for (const at of [1, 3, 4, 6, 7, 8]) {
      const records = split([bytes.subarray(0, at), bytes.subarray(at)]);
      expect(records).toHaveLength(1);
      expect(Buffer.from(records[0] as Uint8Array)).toEqual(Buffer.from('é€😀'));
    }
  });

  it('passes bytes that are not UTF-8 through unchanged', () => {
    const input = Buffer.from([0xff, 0x00, 0xc3, 0x0a, 0x80, 0xfe]);
    const records = split([input.subarray(0, 3), input.subarray(3)]);
    expect(records.map((r) => Buffer.from(r as Uint8Array))).toEqual([
      Buffer.from([0xff, 0x00, 0xc3]),
      Buffer.from([0x80, 0xfe]),
    ]);
  });

  it('has no length limit: a line spanning many chunks is one record', () => {
    const piece = 'x'.repeat(1024);
    const chunks = [...Array.from({ length: 1000 }, () => piece), '\nafter\n'];
    const records = values(chunks);
    expect(records).toHaveLength(2);
    expect(records[0]).toHaveLength(1024 * 1000);
    expect(records[1]).toBe('after');
    // Without a final newline too.
    expect(values(Array.from({ length: 100 }, () => piece))).toEqual([piece.repeat(100)]);
  });

  it('takes strings as UTF-8', () => {
    expect(split(['ü\n']).map((r) => Buffer.from(r as Uint8Array))).toEqual([Buffer.from('ü')]);
  });

  it('gives views of the chunk, not copies, for lines within one chunk', () => {
    const chunk = Buffer.from('first\nsecond\n');
    const lines = new LineSplitter();
    lines.push(chunk);
    const first = lines.next() as Uint8Array;
    expect(first.buffer).toBe(chunk.buffer);
    expect(first.byteOffset).toBe(chunk.byteOffset);
    expect((lines.next() as Uint8Array).byteOffset).toBe(chunk.byteOffset + 6);
  });

  it('holds nothing of a chunk once its lines are taken: the buffer may be read into again', () => {
    // As ekaf produce's file reader does once a chunk's lines were copied into batches.
    const buffer = Buffer.alloc(8);
    const lines = new LineSplitter({ keyDelimiter: Buffer.from(':') });
    const got: string[] = [];
    const take = (): void => {
      while (lines.nextLine()) got.push(lines.line.subarray(lines.lineStart, lines.lineEnd).toString());
    };
    for (const piece of ['a:1\nb:2', '22222222', '2\nc:3\nd', ':4']) {
      buffer.write(piece);
      lines.push(buffer.subarray(0, piece.length));
      take();
      buffer.fill('#');
    }
    if (lines.finishLine()) got.push(lines.line.subarray(lines.lineStart, lines.lineEnd).toString());
    expect(got).toEqual(['a:1', 'b:2222222222', 'c:3', 'd:4']);
  });

  it('refuses a chunk while the previous one still has lines (they would be lost)', () => {
    const lines = new LineSplitter();
    lines.push('a\nb\n');
    lines.next();
    expect(() => {
      lines.push('c\n');
    }).toThrow(/previous chunk still has lines/);
  });

  it('gives the same records however the input is cut into chunks', () => {
    const input = Buffer.from('k1:v1\r\n\nnö key\n:empty key\nk:\n€::😀\nlast:line');
    const delimiters = [':', '::'];
    for (const delimiter of [undefined, ...delimiters]) {
      const options = delimiter === undefined ? {} : { keyDelimiter: Buffer.from(delimiter) };
      const whole = split([input], options).map(asLine);
      expect(whole).toHaveLength(6);
      for (const chunks of everyCut(input)) {
        expect(split(chunks, options).map(asLine)).toEqual(whole);
      }
    }
  });
});

describe('LineSplitter: byte count', () => {
  /** Key and value bytes of the records, as the producer counts them. */
  const payload = (records: ProduceRecord[]): number =>
    records.reduce((sum, r) => {
      if (r instanceof Uint8Array) return sum + r.length;
      if (typeof r === 'string') throw new Error('not from the splitter');
      return sum + (r.key == null ? 0 : (r.key as Uint8Array).length) + (r.value as Uint8Array).length;
    }, 0);

  it('counts the key and value bytes of the records given, however the input is cut', () => {
    const input = Buffer.from('k1:v1\r\n\nnö key\n:empty key\nk:\n€::😀\nlast:line');
    for (const delimiter of [undefined, ':', '::']) {
      const options = delimiter === undefined ? {} : { keyDelimiter: Buffer.from(delimiter) };
      for (const chunks of everyCut(input)) {
        const lines = new LineSplitter(options);
        const records: ProduceRecord[] = [];
        let bytes = 0;
        for (const chunk of chunks) {
          lines.push(chunk);
          for (let r = lines.next(); r !== undefined; r = lines.next()) records.push(r);
          bytes += lines.takeBytes();
        }
        const last = lines.finish();
        if (last !== undefined) records.push(last);
        bytes += lines.takeBytes();
        expect(bytes).toBe(payload(records));
        // Taken: counted once only.
        expect(lines.takeBytes()).toBe(0);
      }
    }
  });
});

describe('LineSplitter: keys', () => {
  it('splits a line at the first delimiter: key before, value after', () => {
    expect(keyed(['k1:v1\nk2:v:2\n'], ':')).toEqual([
      ['k1', 'v1'],
      ['k2', 'v:2'],
    ]);
  });

  it('gives an empty key or value when the delimiter starts or ends the line', () => {
    expect(keyed([':value\nkey:\n:\n'], ':')).toEqual([
      ['', 'value'],
      ['key', ''],
      ['', ''],
    ]);
  });

  it('gives a line without the delimiter no key, as a bare value', () => {
    const records = split(['no key here\nk:v\n'], { keyDelimiter: Buffer.from(':') });
    expect(records[0]).toBeInstanceOf(Uint8Array);
    expect(asLine(records[0] as ProduceRecord)).toEqual({ key: null, value: 'no key here' });
    expect(asLine(records[1] as ProduceRecord)).toEqual({ key: 'k', value: 'v' });
  });

  it('looks for the delimiter within the line only, not in the lines after it', () => {
    expect(keyed(['a\nb:c\n'], ':')).toEqual([
      [null, 'a'],
      ['b', 'c'],
    ]);
    expect(keyed(['a\nb::c\n'], '::')).toEqual([
      [null, 'a'],
      ['b', 'c'],
    ]);
    // A delimiter cut by the line's end is no delimiter.
    expect(keyed(['a:\n:b\n'], '::')).toEqual([
      [null, 'a:'],
      [null, ':b'],
    ]);
  });

  it('finds a multi-byte delimiter cut by a chunk boundary', () => {
    expect(keyed(['key:', ':value\n'], '::')).toEqual([['key', 'value']]);
    expect(keyed(['ké', 'y→va', 'lue\n'], '→')).toEqual([['kéy', 'value']]);
  });

  it('takes a delimiter of any bytes, a tab or a NUL', () => {
    expect(keyed(['k\tv\n'], '\t')).toEqual([['k', 'v']]);
    expect(keyed(['k\0v\n'], '\0')).toEqual([['k', 'v']]);
  });

  it('refuses an empty delimiter', () => {
    expect(() => new LineSplitter({ keyDelimiter: Buffer.alloc(0) })).toThrow(/empty key delimiter/);
  });
});

describe('LineSplitter: partition', () => {
  it('puts the partition on every record, with or without a key', () => {
    const records = split(['k:v\nno key\n'], { keyDelimiter: Buffer.from(':'), partition: 3 });
    expect(records.map(asLine)).toEqual([
      { key: 'k', value: 'v', partition: 3 },
      { key: null, value: 'no key', partition: 3 },
    ]);
    expect(split(['v\n'], { partition: 0 }).map(asLine)).toEqual([{ key: null, value: 'v', partition: 0 }]);
  });
});

describe('unescapeDelimiter', () => {
  it.each([
    [':', [0x3a]],
    ['::', [0x3a, 0x3a]],
    ['\\t', [0x09]],
    ['\\n', [0x0a]],
    ['\\r', [0x0d]],
    ['\\0', [0x00]],
    ['\\\\', [0x5c]],
    ['\\x3a', [0x3a]],
    ['\\x3A|', [0x3a, 0x7c]],
    ['é', [0xc3, 0xa9]],
    ['😀', [0xf0, 0x9f, 0x98, 0x80]],
    // Not escapes: kept as written.
    ['\\q', [0x5c, 0x71]],
    ['\\😀', [0x5c, 0xf0, 0x9f, 0x98, 0x80]],
    ['\\xZZ', [0x5c, 0x78, 0x5a, 0x5a]],
    ['\\x3', [0x5c, 0x78, 0x33]],
    ['a\\', [0x61, 0x5c]],
    ['', []],
  ])('%j is the bytes %j', (text, bytes) => {
    expect([...unescapeDelimiter(text)]).toEqual(bytes);
  });
});
