import type { IncomingMessage } from 'node:http';
import type { ProduceRecord } from '../producer.js';
import { HttpError } from './errors.js';

/**
 * Request bodies → ekaf records. Three shapes:
 *
 * - `application/json`: one record object or an array of them;
 * - `application/x-ndjson`: one record object per line, blank lines skipped;
 * - `text/plain`, `application/octet-stream`: the whole body is one value, the rest of the
 *   record comes from the query string and `X-Kafka-*` headers.
 *
 * A record object is `{ key, value, headers, partition, timestamp }`: `value` is required, a
 * string is sent as is, `null` is a tombstone, any other JSON value is sent JSON-encoded.
 * `POST /tx/batch` takes the JSON shapes only, each record naming its `topic`.
 * Everything is validated here, before anything reaches the producer, so that errors can
 * name the record the client wrote (`records[2]`, `line 3`).
 */

export type MediaType =
  'application/json' | 'application/x-ndjson' | 'text/plain' | 'application/octet-stream';

type JsonMediaType = 'application/json' | 'application/x-ndjson';

export const MEDIA_TYPES: readonly MediaType[] = [
  'application/json',
  'application/x-ndjson',
  'text/plain',
  'application/octet-stream',
];

const RECORD_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp']);
const TOPIC_RECORD_FIELDS = new Set(['topic', ...RECORD_FIELDS]);

/** A record object of a JSON body, as the producer takes it. */
export interface JsonRecord {
  key: string | null;
  value: string | null;
  headers?: [string, string | null][];
  partition?: number;
  timestamp?: number;
}

/** A record of `POST /tx/batch`: the topic is the record's own. */
export interface TopicRecord {
  topic: string;
  record: JsonRecord;
}

/** The media type of a request (`text/plain; charset=utf-8` → `text/plain`), or 415. */
export function mediaTypeOf(req: IncomingMessage): MediaType {
  const header = req.headers['content-type'];
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  const known = MEDIA_TYPES.find((media) => media === type);
  if (known !== undefined) return known;
  throw new HttpError(
    415,
    'ERR_UNSUPPORTED_MEDIA_TYPE',
    `${header === undefined ? 'no Content-Type' : `Content-Type "${header}" is not supported`}: ` +
      `send one of ${MEDIA_TYPES.join(', ')}`,
  );
}

/** Parses a produce request's body into records (at least one), or throws a 400. */
export function parseRecords(type: MediaType, body: Buffer, req: IncomingMessage, url: URL): ProduceRecord[] {
  switch (type) {
    case 'application/json':
      return parseJson(body, toRecord);
    case 'application/x-ndjson':
      return parseNdjson(body, toRecord);
    case 'text/plain':
    case 'application/octet-stream':
      return [rawRecord(body, req, url)];
  }
}

/** The media type of a `POST /tx/batch` request: JSON or NDJSON (a raw body names no topic), or 415. */
export function topicRecordsMediaTypeOf(req: IncomingMessage): JsonMediaType {
  const type = mediaTypeOf(req);
  if (type === 'application/json' || type === 'application/x-ndjson') return type;
  throw new HttpError(
    415,
    'ERR_UNSUPPORTED_MEDIA_TYPE',
    `Content-Type "${type}" is not supported here: send application/json or application/x-ndjson ` +
      'records, each with its topic',
  );
}

/**
 * Parses a `POST /tx/batch` body: JSON (one record or an array) or NDJSON, each record with
 * its `topic`; at least one record, or a 400.
 */
export function parseTopicRecords(type: JsonMediaType, body: Buffer): TopicRecord[] {
  return type === 'application/json' ? parseJson(body, toTopicRecord) : parseNdjson(body, toTopicRecord);
}

/** A JSON document (one record or an array), as `PUT .../config` also needs. */
export function parseJsonBody(body: Buffer): unknown {
  return parseJsonText(utf8(body), '');
}

/**
 * Deepest nesting of arrays and objects a JSON document may have. A record's value is stored as
 * JSON.stringify writes it, which recurses: a 10 000-deep value overflowed the stack (500).
 */
export const MAX_JSON_DEPTH = 64;

/**
 * JSON.parse, refusing with 400 what it cannot give back faithfully: nesting deeper than
 * MAX_JSON_DEPTH, and numbers a double cannot hold (1e400 became Infinity, stored as the text
 * `null`; 12345678901234567890 lost its last digits). `where` prefixes the messages.
 */
function parseJsonText(text: string, where: string): unknown {
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw badRequest(`${where}JSON nested ${depth} levels deep: at most ${MAX_JSON_DEPTH}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`${where}invalid JSON: ${(error as Error).message}`);
  }
  const lost = unrepresentableNumber(doc);
  if (lost !== undefined) {
    throw badRequest(
      `${where}the number ${lost} cannot be represented exactly (a double holds integers up to 2^53 ` +
        'and finite values): send it as a string',
    );
  }
  return doc;
}

/** Deepest nesting of `[` and `{` outside strings (the text may be invalid: JSON.parse says so). */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}

/** The first number of the document that is not finite or not a safe integer, as text. */
function unrepresentableNumber(doc: unknown): string | undefined {
  if (typeof doc === 'number') {
    const exact = Number.isFinite(doc) && (!Number.isInteger(doc) || Number.isSafeInteger(doc));
    return exact ? undefined : String(doc);
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  for (const item of Array.isArray(doc) ? doc : Object.values(doc)) {
    const lost = unrepresentableNumber(item);
    if (lost !== undefined) return lost;
  }
  return undefined;
}

/** Turns one record object of a body into what the route needs; `where` names it in errors. */
type Convert<T> = (doc: unknown, where: string) => T;

function parseJson<T>(body: Buffer, convert: Convert<T>): T[] {
  const doc = parseJsonBody(body);
  if (!Array.isArray(doc)) return [convert(doc, 'record')];
  if (doc.length === 0) throw badRequest('the array holds no records');
  return doc.map((item, i) => convert(item, `records[${i}]`));
}

function parseNdjson<T>(body: Buffer, convert: Convert<T>): T[] {
  const records: T[] = [];
  const lines = utf8(body).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    records.push(convert(parseJsonText(line, `${where}: `), where));
  });
  if (records.length === 0) throw badRequest('the body holds no records (every line is blank)');
  return records;
}

function toTopicRecord(doc: unknown, where: string): TopicRecord {
  const record = toRecord(doc, where, TOPIC_RECORD_FIELDS);
  const { topic } = doc as Record<string, unknown>;
  if (typeof topic !== 'string') {
    throw badRequest(
      `${where}: topic is required, a string naming the record's topic (got ${topic === undefined ? 'none' : kind(topic)})`,
    );
  }
  return { topic, record };
}

function toRecord(doc: unknown, where: string, known: ReadonlySet<string> = RECORD_FIELDS): JsonRecord {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    const shape = known.has('topic')
      ? '{ topic, key, value, headers, partition }'
      : '{ key, value, headers, partition }';
    throw badRequest(`${where}: must be an object ${shape} (got ${kind(doc)})`);
  }
  const fields = doc as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) {
      throw badRequest(`${where}: unknown field "${name}" (expected ${[...known].join(', ')})`);
    }
  }
  if (!('value' in fields)) throw badRequest(`${where}: value is required (null for a tombstone)`);
  const { key, value, headers, partition, timestamp } = fields;
  if (key !== undefined && key !== null && typeof key !== 'string') {
    throw badRequest(`${where}: key must be a string or null (got ${kind(key)})`);
  }
  return {
    key: key ?? null,
    value: typeof value === 'string' || value === null ? value : JSON.stringify(value),
    ...(headers === undefined ? {} : { headers: toHeaders(headers, where) }),
    ...(partition === undefined ? {} : { partition: toIndex(partition, `${where}: partition`) }),
    ...(timestamp === undefined ? {} : { timestamp: toIndex(timestamp, `${where}: timestamp`) }),
  };
}

function toHeaders(headers: unknown, where: string): [string, string | null][] {
  const isValue = (v: unknown): v is string | null => typeof v === 'string' || v === null;
  if (Array.isArray(headers)) {
    return headers.map((pair: unknown, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isValue(pair[1])) {
        throw badRequest(
          `${where}: headers[${i}] must be a [name, value] pair of strings (value may be null)`,
        );
      }
      return [pair[0], pair[1]];
    });
  }
  if (typeof headers !== 'object' || headers === null) {
    throw badRequest(
      `${where}: headers must be an object { name: value } or an array of [name, value] pairs`,
    );
  }
  return Object.entries(headers).map(([name, value]) => {
    if (!isValue(value))
      throw badRequest(`${where}: header "${name}" must be a string or null (got ${kind(value)})`);
    return [name, value];
  });
}

/**
 * A raw body as one value. The key comes from `?key=` or else `X-Kafka-Key`; headers from
 * `X-Kafka-Header-<name>` (HTTP lowercases the name) and `?header.<name>=` (case kept), both
 * repeatable; the partition from `?partition=`.
 */
function rawRecord(body: Buffer, req: IncomingMessage, url: URL): ProduceRecord {
  const headers: [string, Buffer | string][] = [];
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (!name.startsWith('x-kafka-header-') || values === undefined) continue;
    const kafkaName = name.slice('x-kafka-header-'.length);
    // Node decodes header bytes as latin1: back to the bytes the client sent (UTF-8 or not).
    for (const value of values) headers.push([kafkaName, Buffer.from(value, 'latin1')]);
  }
  for (const [name, value] of url.searchParams) {
    if (!name.startsWith('header.')) continue;
    const kafkaName = name.slice('header.'.length);
    if (kafkaName === '') throw badRequest('?header.<name>=: the header name is empty');
    headers.push([kafkaName, value]);
  }
  const queryKey = url.searchParams.get('key');
  // Node joins a repeated header's values with ", ": which would be the key is the client's to say.
  const headerKeys = req.headersDistinct['x-kafka-key'] ?? [];
  if (headerKeys.length > 1) {
    throw badRequest(`X-Kafka-Key is sent ${headerKeys.length} times: a record has one key`);
  }
  const headerKey = headerKeys[0];
  const key = queryKey ?? (headerKey === undefined ? null : Buffer.from(headerKey, 'latin1'));
  const partition = url.searchParams.get('partition');
  return {
    key,
    value: body,
    ...(headers.length === 0 ? {} : { headers }),
    ...(partition === null ? {} : { partition: queryPartition(partition) }),
  };
}

function queryPartition(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw badRequest(`partition must be a non-negative integer (got "${text}")`);
  return Number(text);
}

/** A non-negative integer (partition, timestamp). */
function toIndex(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(
      `${what} must be a non-negative integer (got ${typeof value === 'number' ? value : kind(value)})`,
    );
  }
  return value;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(body: Buffer): string {
  try {
    return decoder.decode(body);
  } catch {
    throw badRequest('the body is not valid UTF-8');
  }
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function badRequest(message: string): HttpError {
  return new HttpError(400, 'ERR_BAD_REQUEST', message);
}
