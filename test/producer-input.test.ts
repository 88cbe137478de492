import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../src/errors.js';
import { prepareRecords } from '../src/producer-input.js';
import { emptyRecord, normalizeRecord } from '../src/runtime/records.js';

const MAX_REQUEST = 1024 * 1024;

describe('prepareRecords', () => {
  const input = [
    'bare string',
    Buffer.from('bare buffer'),
    { key: 'clé', value: '{"v":"€"}' },
    { key: Buffer.from('k'), value: null, partition: 2, timestamp: 1234 },
    { value: new Uint8Array([1, 2, 3]), headers: { h: 'x', n: null } },
    { key: null, value: '' },
  ];

  it('reads each record as normalizeRecord converts it, into the scratch it is given', () => {
    const { records, bytes } = prepareRecords('t', input, MAX_REQUEST, 6);
    expect(records.length).toBe(input.length);
    const scratch = emptyRecord();
    let sum = 0;
    input.forEach((raw, i) => {
      const record = records.at(i, scratch);
      expect(record).toBe(scratch);
      const expected = normalizeRecord(raw, i, 0, MAX_REQUEST);
      expect({ ...record, timestamp: 0 }).toEqual({ ...expected, timestamp: 0 });
      if (i === 3) expect(record.timestamp).toBe(1234);
      sum += expected.size;
    });
    expect(bytes).toBe(sum);
  });

  it('gives every record an object of its own when asked for all (spool, waiting topics)', () => {
    const { records } = prepareRecords('t', input, MAX_REQUEST, 6);
    const all = records.all();
    expect(new Set(all).size).toBe(input.length);
    expect(all.map((r) => r.value)).toEqual(
      input.map((raw) => (typeof raw === 'object' && !(raw instanceof Uint8Array) ? raw.value : raw)),
    );
    expect(all[2]).toMatchObject({ key: 'clé', keySize: 4, valueSize: 11 });
  });

  it('takes one record as a call of one, named "record" in errors', () => {
    const { records, bytes } = prepareRecords('t', 'one', MAX_REQUEST, -1);
    expect(records.length).toBe(1);
    expect(records.at(0, emptyRecord()).value).toBe('one');
    expect(bytes).toBe(3);
    expect(() => prepareRecords('t', 42 as never, MAX_REQUEST, -1)).toThrow(/^record: /);
  });

  it('names the first bad record and accepts nothing of the call', () => {
    const error = (() => {
      try {
        prepareRecords('t', ['ok', { value: 'v', partition: 9 }, 7] as never, MAX_REQUEST, 6);
      } catch (e) {
        return e as InvalidRecordError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error).toBeInstanceOf(InvalidRecordError);
    expect(error.field).toBe('records[1].partition');
  });
});
