import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/gateway/auth.js';
import { HttpError, statusForCode, toHttpError } from '../../src/gateway/errors.js';
import { mediaTypeOf, parseRecords } from '../../src/gateway/records.js';
import { BufferFullError, ConfigError, type EkafErrorCode } from '../../src/errors.js';

/** Just what the parsers read of a request. */
function request(headers: Record<string, string | string[]>): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const distinct = Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  return { headers: lower, headersDistinct: distinct } as unknown as IncomingMessage;
}

function badRequest(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
    return (error as HttpError).message;
  }
  throw new Error('expected a 400');
}

const url = (query = '') => new URL(`http://x/sync/t${query}`);
const json = (doc: unknown) => Buffer.from(JSON.stringify(doc));

describe('gateway body parsing', () => {
  it('media types: parameters and case ignored; others are 415', () => {
    expect(mediaTypeOf(request({ 'content-type': 'Application/JSON; charset=utf-8' }))).toBe(
      'application/json',
    );
    for (const type of ['text/html', 'application/xml', '']) {
      expect(() => mediaTypeOf(request({ 'content-type': type }))).toThrow(
        expect.objectContaining({ status: 415 }) as Error,
      );
    }
    expect(() => mediaTypeOf(request({}))).toThrow(/no Content-Type/);
  });

  it('JSON records: values, keys, headers, partition, timestamp', () => {
    const records = parseRecords(
      'application/json',
      json([
        { value: 'v' },
        { key: 'k', value: [1, 2], headers: { a: 'b' }, partition: 2, timestamp: 1700000000000 },
        { value: null, key: null, headers: [['x', null]] },
        { value: false },
      ]),
      request({}),
      url(),
    );
    expect(records).toEqual([
      { key: null, value: 'v' },
      { key: 'k', value: '[1,2]', headers: [['a', 'b']], partition: 2, timestamp: 1700000000000 },
      { key: null, value: null, headers: [['x', null]] },
      { key: null, value: 'false' },
    ]);
  });

  it('JSON errors name the record', () => {
    const parse = (doc: unknown) => () => parseRecords('application/json', json(doc), request({}), url());
    expect(badRequest(parse('just a string'))).toBe(
      'record: must be an object { key, value, headers, partition } (got string)',
    );
    expect(badRequest(parse([{ value: 'a' }, { value: 'b', partition: 1.5 }]))).toBe(
      'records[1]: partition must be a non-negative integer (got 1.5)',
    );
    expect(badRequest(parse({ value: 'a', headers: { h: 1 } }))).toContain(
      'header "h" must be a string or null',
    );
    expect(badRequest(parse({ value: 'a', headers: [['h']] }))).toContain(
      'headers[0] must be a [name, value] pair',
    );
    expect(
      badRequest(() => parseRecords('application/json', Buffer.from([0xff, 0xfe]), request({}), url())),
    ).toBe('the body is not valid UTF-8');
  });

  it('NDJSON: line numbers count blank lines', () => {
    const body = Buffer.from('{"value":"1"}\n\n{"value":2,"key":3}\n');
    expect(badRequest(() => parseRecords('application/x-ndjson', body, request({}), url()))).toBe(
      'line 3: key must be a string or null (got number)',
    );
    expect(
      badRequest(() => parseRecords('application/x-ndjson', Buffer.from('\n \n'), request({}), url())),
    ).toContain('no records');
  });

  it('raw bodies: key and headers from query and X-Kafka-*, repeated headers kept, header bytes kept', () => {
    const utf8Latin1 = Buffer.from('é', 'utf8').toString('latin1');
    const [record] = parseRecords(
      'text/plain',
      Buffer.from('body'),
      request({ 'X-Kafka-Key': 'hk', 'X-Kafka-Header-Tag': ['a', 'b'], 'X-Kafka-Header-Name': utf8Latin1 }),
      url('?header.Q=1&partition=0'),
    );
    expect(record).toEqual({
      key: Buffer.from('hk'),
      value: Buffer.from('body'),
      headers: [
        ['tag', Buffer.from('a')],
        ['tag', Buffer.from('b')],
        ['name', Buffer.from('é')],
        ['Q', '1'],
      ],
      partition: 0,
    });
    expect(
      badRequest(() => parseRecords('text/plain', Buffer.from(''), request({}), url('?partition=-1'))),
    ).toBe('partition must be a non-negative integer (got "-1")');
  });
});

describe('gateway errors and auth', () => {
  it('maps every ekaf code to a status; 503s carry Retry-After; unknown errors are 500 without details', () => {
    expect(statusForCode('ERR_BUFFER_FULL')).toBe(503);
    const codes: EkafErrorCode[] = ['ERR_CONFIG', 'ERR_INVALID_RECORD', 'ERR_KAFKA', 'ERR_DELIVERY_TIMEOUT'];
    expect(codes.map(statusForCode)).toEqual([400, 400, 502, 504]);
    const full = toHttpError(new BufferFullError('1 of 1 records'));
    expect(full.error.headers).toEqual({ 'Retry-After': '1' });
    expect(toHttpError(new ConfigError('topics.t.lingerMs', 'must be >= 0')).error.message).toBe(
      'topics.t.lingerMs: must be >= 0',
    );
    const bug = toHttpError(new TypeError('secret internals'));
    expect(bug.internal).toBe(true);
    expect(bug.error.status).toBe(500);
    expect(bug.error.message).not.toContain('secret');
  });

  it('bearer tokens: right one passes, wrong lengths and schemes do not', () => {
    const { check } = createAuthenticator({ token: 'token-123', sessionMaxAgeMs: 60_000 });
    expect(() => {
      check(request({ authorization: 'Bearer token-123' }), url());
    }).not.toThrow();
    expect(() => {
      check(request({ authorization: 'bearer   token-123' }), url());
    }).not.toThrow();
    for (const header of ['Bearer token-12', 'Bearer token-1234', 'Basic token-123', 'Bearer']) {
      expect(() => {
        check(request({ authorization: header }), url());
      }).toThrow(expect.objectContaining({ status: 401 }) as Error);
    }
    expect(() => {
      check(request({}), url());
    }).toThrow(/missing credentials/);
  });
});
