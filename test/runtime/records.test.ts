import { describe, expect, it } from 'vitest';
import { InvalidRecordError, RecordTooLargeError } from '../../src/errors.js';
import { normalizeRecord, type NormalizedRecord } from '../../src/runtime/records.js';

const NOW = 1_700_000_000_000;
const LIMIT = 1024 * 1024;

const normalize = (input: unknown, field = 'records[0]', limit = LIMIT): NormalizedRecord =>
  normalizeRecord(input, field, NOW, limit);

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Runs `fn`, expects an InvalidRecordError, and returns it. */
function invalid(fn: () => unknown): InvalidRecordError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRecordError);
    return error as InvalidRecordError;
  }
  throw new Error('expected an InvalidRecordError, nothing was thrown');
}

/** Expects normalizing `input` to fail on `field`, with a message containing `text`. */
function expectInvalid(input: unknown, field: string, text?: string): void {
  const error = invalid(() => normalize(input));
  expect(error.field).toBe(field);
  expect(error.code).toBe('ERR_INVALID_RECORD');
  expect(error.message.startsWith(`${field}: `)).toBe(true);
  if (text !== undefined) expect(error.message).toContain(text);
}

describe('normalizeRecord: bare values', () => {
  it('takes a Buffer as the value', () => {
    const value = b('hello');
    expect(normalize(value)).toEqual({
      key: null,
      value: b('hello'),
      keySize: 0,
      valueSize: 5,
      headers: [],
      partition: -1,
      timestamp: NOW,
      size: 5,
    });
  });

  it('keeps a string, sized as UTF-8 (it is written as such into its batch)', () => {
    const record = normalize('héllo €');
    expect(record.value).toBe('héllo €');
    // h é(2) l l o space €(3)
    expect(record.valueSize).toBe(10);
    expect(record.size).toBe(10);
    expect(record.key).toBeNull();
    expect(record.partition).toBe(-1);
    expect(record.timestamp).toBe(NOW);
  });

  it('takes an empty string or buffer as an empty (not null) value', () => {
    for (const empty of ['', Buffer.alloc(0), new Uint8Array(0)]) {
      const record = normalize(empty);
      expect(record.value).toBe(empty);
      expect(record.valueSize).toBe(0);
      expect(record.size).toBe(0);
    }
  });

  it('takes a Uint8Array, respecting its offset and length within a larger ArrayBuffer', () => {
    const whole = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    const view = whole.subarray(2, 5);
    const record = normalize(view);
    expect(record.value).toBe(view);
    expect(record.size).toBe(3);
  });
});

describe('normalizeRecord: record objects', () => {
  it('takes key, value, headers, partition and timestamp', () => {
    const record = normalize({
      key: 'user-1',
      value: b('{"n":1}'),
      headers: { trace: 'abc', bin: Buffer.from([1, 2]) },
      partition: 3,
      timestamp: 1234,
    });
    expect(record).toEqual({
      key: 'user-1',
      value: b('{"n":1}'),
      keySize: 6,
      valueSize: 7,
      headers: [
        ['trace', b('abc')],
        ['bin', Buffer.from([1, 2])],
      ],
      partition: 3,
      timestamp: 1234,
      size: 6 + 7 + (5 + 3) + (3 + 2),
    });
  });

  it('applies defaults for what is absent: no key, no headers, partitioner, now', () => {
    expect(normalize({ value: 'v' })).toEqual({
      key: null,
      value: 'v',
      keySize: 0,
      valueSize: 1,
      headers: [],
      partition: -1,
      timestamp: NOW,
      size: 1,
    });
  });

  it('takes a key or value given as a Uint8Array', () => {
    const key = new Uint8Array([9, 8, 7]).subarray(1);
    const record = normalize({ key, value: new Uint8Array([1]) });
    expect(record.key).toBe(key);
    expect(record.value).toEqual(new Uint8Array([1]));
    expect(record.size).toBe(3);
  });

  it('treats a null or undefined key as no key', () => {
    expect(normalize({ key: null, value: 'v' }).key).toBeNull();
    expect(normalize({ key: undefined, value: 'v' }).key).toBeNull();
  });

  it('takes value: null as a tombstone, counted by its key only', () => {
    const record = normalize({ key: 'gone', value: null });
    expect(record.value).toBeNull();
    expect(record.key).toBe('gone');
    expect(record.size).toBe(4);
    expect(normalize({ value: null })).toMatchObject({ key: null, value: null, size: 0 });
  });

  it('rejects a record object without a value (null is needed for a tombstone)', () => {
    expectInvalid({ key: 'k' }, 'records[0]', 'a record object needs a value (null for a tombstone)');
    expectInvalid({}, 'records[0]', 'needs a value');
    // A value present but undefined is a bad value, not a tombstone.
    expectInvalid({ value: undefined }, 'records[0].value', 'got undefined');
  });

  it('takes headers as an object, in key order, with null values', () => {
    const record = normalize({ value: 'v', headers: { a: '1', b: null, c: new Uint8Array([3]) } });
    expect(record.headers).toEqual([
      ['a', b('1')],
      ['b', null],
      ['c', Buffer.from([3])],
    ]);
    expect(record.size).toBe(1 + (1 + 1) + 1 + (1 + 1));
  });

  it('takes headers as an array of pairs, keeping repeated keys and their order', () => {
    const record = normalize({
      value: 'v',
      headers: [
        ['x', 'first'],
        ['y', null],
        ['x', b('second')],
        ['x', ''],
      ],
    });
    expect(record.headers).toEqual([
      ['x', b('first')],
      ['y', null],
      ['x', b('second')],
      ['x', Buffer.alloc(0)],
    ]);
    expect(record.size).toBe(1 + (1 + 5) + 1 + (1 + 6) + (1 + 0));
  });

  it('takes empty headers, as an object or an array', () => {
    expect(normalize({ value: 'v', headers: {} }).headers).toEqual([]);
    expect(normalize({ value: 'v', headers: [] }).headers).toEqual([]);
  });

  it('counts key, value, header names and header values in bytes, UTF-8', () => {
    const record = normalize({ key: 'ключ', value: '値', headers: [['h', 'ü']] });
    expect(record.size).toBe(8 + 3 + 1 + 2);
  });

  // Header names were once counted in UTF-16 code units (`name.length`), undercounting non-ASCII
  // names against maxRequestBytes and the buffer bounds.
  it('counts non-ASCII header names in UTF-8 bytes', () => {
    // 'é' is 2 bytes, '😀' is 4 bytes (2 UTF-16 code units).
    expect(normalize({ value: null, headers: { é: null } }).size).toBe(2);
    expect(normalize({ value: null, headers: [['😀', 'x']] }).size).toBe(5);
  });

  it('takes explicit partitions from 0 to 2^31 - 1', () => {
    expect(normalize({ value: 'v', partition: 0 }).partition).toBe(0);
    expect(normalize({ value: 'v', partition: 17 }).partition).toBe(17);
    expect(normalize({ value: 'v', partition: 0x7fffffff }).partition).toBe(0x7fffffff);
  });

  it('takes timestamps from 0 to the largest safe integer', () => {
    expect(normalize({ value: 'v', timestamp: 0 }).timestamp).toBe(0);
    expect(normalize({ value: 'v', timestamp: 1 }).timestamp).toBe(1);
    expect(normalize({ value: 'v', timestamp: Number.MAX_SAFE_INTEGER }).timestamp).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('ignores members it does not know', () => {
    expect(normalize({ value: 'v', topic: 'elsewhere', offset: 3 })).toEqual(normalize({ value: 'v' }));
  });
});

describe('normalizeRecord: invalid records', () => {
  it('rejects what is neither bytes, a string nor a record object, naming the record', () => {
    const cases: [unknown, string][] = [
      [null, 'got null'],
      [undefined, 'got undefined'],
      [42, 'got 42'],
      [true, 'got boolean'],
      [['a', 'b'], 'got an array'],
      [Symbol('s'), 'got symbol'],
      [() => 'v', 'got function'],
      [1n, 'got bigint'],
    ];
    for (const [input, text] of cases) {
      const error = invalid(() => normalize(input, 'record'));
      expect(error.field).toBe('record');
      expect(error.message).toBe(
        `record: must be a Buffer, a string or { key, value, headers, partition, timestamp } (${text})`,
      );
    }
  });

  it('rejects typed arrays other than Uint8Array, and ArrayBuffers', () => {
    expectInvalid(new Uint16Array(2), 'records[0]');
    expectInvalid(new ArrayBuffer(2), 'records[0]');
    expectInvalid(
      { value: new Float32Array(1) },
      'records[0].value',
      'must be a Buffer, Uint8Array or string',
    );
  });

  it('rejects a key of the wrong type, naming the key', () => {
    expectInvalid({ key: 5, value: 'v' }, 'records[0].key', 'must be a Buffer, Uint8Array or string (got 5)');
    expectInvalid({ key: {}, value: 'v' }, 'records[0].key', 'got object');
    expectInvalid({ key: [1], value: 'v' }, 'records[0].key', 'got an array');
    expectInvalid({ key: false, value: 'v' }, 'records[0].key', 'got boolean');
  });

  it('rejects a value of the wrong type, naming the value', () => {
    expectInvalid({ value: 5 }, 'records[0].value', 'must be a Buffer, Uint8Array or string (got 5)');
    expectInvalid({ value: { a: 1 } }, 'records[0].value', 'got object');
    expectInvalid({ value: [1, 2] }, 'records[0].value', 'got an array');
  });

  it('rejects bad partitions, naming the partition', () => {
    for (const [partition, text] of [
      [-1, 'got -1'],
      [1.5, 'got 1.5'],
      [NaN, 'got NaN'],
      [Infinity, 'got Infinity'],
      [2 ** 31, `got ${2 ** 31}`],
      ['1', 'got string'],
      [null, 'got null'],
    ] as const) {
      expectInvalid({ value: 'v', partition }, 'records[0].partition', `must be an integer >= 0 (${text})`);
    }
  });

  it('rejects bad timestamps, naming the timestamp', () => {
    for (const [timestamp, text] of [
      [-1, 'got -1'],
      [1.5, 'got 1.5'],
      [NaN, 'got NaN'],
      [Infinity, 'got Infinity'],
      [2 ** 53, `got ${2 ** 53}`],
      ['1700000000000', 'got string'],
      [new Date(0), 'got object'],
      [null, 'got null'],
    ] as const) {
      expectInvalid(
        { value: 'v', timestamp },
        'records[0].timestamp',
        `must be an integer number of ms >= 0 (${text})`,
      );
    }
  });

  it('rejects headers that are neither an object nor an array', () => {
    for (const [headers, text] of [
      [null, 'got null'],
      ['a=1', 'got string'],
      [5, 'got 5'],
      [true, 'got boolean'],
    ] as const) {
      expectInvalid(
        { value: 'v', headers },
        'records[0].headers',
        `must be an object or an array of [key, value] pairs (${text})`,
      );
    }
  });

  it('rejects header entries that are not [string, value] pairs, naming the entry', () => {
    const pairError = (headers: unknown, field: string) => {
      expectInvalid({ value: 'v', headers }, field, 'must be a [string, value] pair');
    };
    pairError(['a'], 'records[0].headers[0]');
    pairError([['a']], 'records[0].headers[0]');
    pairError([['a', 'b', 'c']], 'records[0].headers[0]');
    pairError([[5, 'v']], 'records[0].headers[0]');
    pairError([['ok', 'v'], 'bad'], 'records[0].headers[1]');
    pairError([['ok', 'v'], { key: 'k', value: 'v' }], 'records[0].headers[1]');
  });

  it('rejects header values of the wrong type, naming the header', () => {
    expectInvalid({ value: 'v', headers: { trace: 5 } }, 'records[0].headers.trace', 'got 5');
    expectInvalid({ value: 'v', headers: { trace: undefined } }, 'records[0].headers.trace', 'got undefined');
    expectInvalid(
      {
        value: 'v',
        headers: [
          ['a', 'ok'],
          ['b', {}],
        ],
      },
      'records[0].headers.b',
      'got object',
    );
  });

  it('uses the field name it is given', () => {
    const error = invalid(() => normalizeRecord({ value: 1 }, 'record', NOW, LIMIT));
    expect(error.field).toBe('record.value');
    expect(
      invalid(() => normalizeRecord({ value: 'v', partition: -2 }, 'records[41]', NOW, LIMIT)).field,
    ).toBe('records[41].partition');
  });
});

describe('normalizeRecord: size limit', () => {
  it('accepts a record of exactly the limit', () => {
    expect(normalize(Buffer.alloc(100), 'record', 100).size).toBe(100);
    expect(normalize({ key: 'k', value: Buffer.alloc(98), headers: [['h', null]] }, 'record', 100).size).toBe(
      100,
    );
  });

  it('rejects a record above the limit with RecordTooLargeError (size and limit)', () => {
    const check = (input: unknown, size: number): void => {
      try {
        normalize(input, 'record', 100);
      } catch (error) {
        expect(error).toBeInstanceOf(RecordTooLargeError);
        const tooLarge = error as RecordTooLargeError;
        expect(tooLarge.size).toBe(size);
        expect(tooLarge.limit).toBe(100);
        expect(tooLarge.code).toBe('ERR_RECORD_TOO_LARGE');
        expect(tooLarge.retriable).toBe(false);
        expect(tooLarge.message).toMatch(new RegExp(`^record of ${size} bytes exceeds .*\\b100\\b`));
        return;
      }
      throw new Error('expected a RecordTooLargeError');
    };
    check(Buffer.alloc(101), 101);
    check('x'.repeat(150), 150);
    // Key and headers count too.
    check({ key: Buffer.alloc(60), value: Buffer.alloc(41) }, 101);
    check({ value: null, headers: { name: Buffer.alloc(97) } }, 101);
  });

  it('checks the record is valid before its size', () => {
    expect(invalid(() => normalize({ value: Buffer.alloc(500), timestamp: -1 }, 'record', 100)).field).toBe(
      'record.timestamp',
    );
  });
});
