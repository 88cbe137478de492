import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/server.js';
import { readTopic } from '../broker/kcat.js';
import { call, errorOf, postJson, startStack, type Answer, type Stack } from './helpers.js';

/** Writes raw bytes on a fresh connection and resolves with whatever comes back until close. */
function rawExchange(port: number, chunks: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (data) => (answer += data.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(answer);
    });
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      // Deliberately never end the request: the server must answer without the rest.
    });
  });
}

function expectError(answer: Answer, status: number, code: string): { code: string; message: string } {
  expect(answer.status, answer.text).toBe(status);
  const error = errorOf(answer);
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  return error;
}

describe('kafboy error answers', () => {
  let stack: Stack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({
      topics: [
        { name: 'errors', partitions: 2 },
        { name: 'other', partitions: 1 },
      ],
      gateway: { maxBodyBytes: 1024, authToken: 's3cret', allowTopics: ['errors'] },
    });
    base = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  const auth = { authorization: 'Bearer s3cret' };

  it('401 without a token or with a wrong one; /healthz needs none; the right token passes', async () => {
    expectError(await call(base, '/api/actors'), 401, 'ERR_UNAUTHORIZED');
    const wrong = await postJson(base, '/sync/errors', { value: 'x' }, { authorization: 'Bearer s3cre' });
    expectError(wrong, 401, 'ERR_UNAUTHORIZED');
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expectError(
      await call(base, '/api/actors', { headers: { authorization: 'Basic czNjcmV0' } }),
      401,
      'ERR_UNAUTHORIZED',
    );
    // Unknown routes too: no probing for routes without credentials.
    expectError(await call(base, '/nope'), 401, 'ERR_UNAUTHORIZED');
    expect((await call(base, '/healthz')).status).toBe(200);
    expect((await call(base, '/api/actors', { headers: auth })).status).toBe(200);
    // access_token is for the visualizer's entry only (session.test.ts).
    expect((await call(base, '/api/actors?access_token=s3cret')).status).toBe(401);
  });

  it('400: bad JSON, bad records, invalid topic names, NDJSON errors by line, a partition that does not exist', async () => {
    const badJson = await call(base, '/sync/errors', {
      body: '{"value": ',
      type: 'application/json',
      headers: auth,
    });
    expect(expectError(badJson, 400, 'ERR_BAD_REQUEST').message).toMatch(/^invalid JSON/);

    const badKey = await postJson(base, '/sync/errors', [{ value: 'ok' }, { key: 7, value: 'x' }], auth);
    expect(expectError(badKey, 400, 'ERR_BAD_REQUEST').message).toBe(
      'records[1]: key must be a string or null (got number)',
    );
    const noValue = await postJson(base, '/sync/errors', { key: 'k' }, auth);
    expect(expectError(noValue, 400, 'ERR_BAD_REQUEST').message).toContain('value is required');
    const typo = await postJson(base, '/sync/errors', { vaule: 'x' }, auth);
    expect(expectError(typo, 400, 'ERR_BAD_REQUEST').message).toContain('unknown field "vaule"');
    expectError(await postJson(base, '/sync/errors', [], auth), 400, 'ERR_BAD_REQUEST');
    expectError(
      await postJson(base, '/sync/errors', { value: 'x', partition: -1 }, auth),
      400,
      'ERR_BAD_REQUEST',
    );

    const ndjson = '{"value":"1"}\n{"value":"2"}\n{"value": oops}\n{"value":"4"}\n';
    const line3 = await call(base, '/sync/errors', {
      body: ndjson,
      type: 'application/x-ndjson',
      headers: auth,
    });
    expect(expectError(line3, 400, 'ERR_BAD_REQUEST').message).toMatch(/^line 3: invalid JSON/);
    const line2 = await call(base, '/sync/errors', {
      body: '{"value":"1"}\n[1,2]\n',
      type: 'application/x-ndjson',
      headers: auth,
    });
    expect(expectError(line2, 400, 'ERR_BAD_REQUEST').message).toMatch(/^line 2: must be an object/);

    const badTopic = await postJson(base, '/sync/bad%20topic', { value: 'x' }, auth);
    expect(expectError(badTopic, 400, 'ERR_INVALID_TOPIC').message).toContain('"bad topic"');
    expectError(await postJson(base, '/sync/a%2Fb', { value: 'x' }, auth), 400, 'ERR_INVALID_TOPIC');
    expectError(
      await postJson(base, `/sync/${'t'.repeat(250)}`, { value: 'x' }, auth),
      400,
      'ERR_INVALID_TOPIC',
    );
    expectError(
      await call(base, '/sync/errors?partition=two', { body: 'x', type: 'text/plain', headers: auth }),
      400,
      'ERR_BAD_REQUEST',
    );

    // The producer's own validation (partition 5 of a 2-partition topic) maps through the table.
    await postJson(base, '/sync/errors', { value: 'warm-up' }, auth);
    const noSuchPartition = await postJson(base, '/sync/errors', { value: 'x', partition: 5 }, auth);
    expect(expectError(noSuchPartition, 400, 'ERR_INVALID_RECORD').message).toContain('has 2 partitions');
    // Nothing of the refused requests reached Kafka.
    const read = await readTopic(stack.cluster.bootstrap, 'errors');
    expect(read.map((r) => r.value?.toString())).toEqual(['warm-up']);
  });

  it('403 for a topic off the allow-list', async () => {
    const answer = await postJson(base, '/sync/other', { value: 'x' }, auth);
    expect(expectError(answer, 403, 'ERR_TOPIC_FORBIDDEN').message).toContain('"other"');
  });

  it('404 for an unknown route, 405 with Allow for a wrong method', async () => {
    expectError(await call(base, '/produce/errors', { headers: auth }), 404, 'ERR_NOT_FOUND');
    expectError(await call(base, '/sync', { headers: auth }), 404, 'ERR_NOT_FOUND');
    const wrong = await call(base, '/sync/errors', { headers: auth });
    expectError(wrong, 405, 'ERR_METHOD_NOT_ALLOWED');
    expect(wrong.headers.get('allow')).toBe('POST');
    const put = await call(base, '/metrics', { method: 'POST', body: '', type: 'text/plain', headers: auth });
    expect(put.headers.get('allow')).toBe('GET');
  });

  it('413 for a body over maxBodyBytes, announced by Content-Length or found while reading', async () => {
    const big = JSON.stringify({ value: 'x'.repeat(2000) });
    const answer = await call(base, '/sync/errors', { body: big, type: 'application/json', headers: auth });
    expect(expectError(answer, 413, 'ERR_BODY_TOO_LARGE').message).toContain('1024 bytes');

    const head = (length: string) =>
      `POST /sync/errors HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n` +
      `Content-Type: text/plain\r\n${length}\r\n\r\n`;
    // Announces 10 MB and sends 2 KiB: answered at once, without waiting for the rest.
    const declared = await rawExchange(stack.gateway.port, [
      head('Content-Length: 10000000'),
      'y'.repeat(2048),
    ]);
    expect(declared).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.toLowerCase()).toContain('connection: close');
    // Chunked, no length: the gateway counts and stops at the limit.
    const chunk = 'z'.repeat(800);
    const chunked = await rawExchange(stack.gateway.port, [
      head('Transfer-Encoding: chunked'),
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    ]);
    expect(chunked).toMatch(/^HTTP\/1\.1 413 /);
    expect(chunked).toContain('"ERR_BODY_TOO_LARGE"');
  });

  it('cuts off a client that is too slow to send its headers (408)', async () => {
    const slow = await startGateway({ producer: stack.producer, port: 0, headersTimeoutMs: 300 });
    try {
      const started = Date.now();
      const answer = await rawExchange(slow.port, ['POST /sync/errors HTTP/1.1\r\nHost: x\r\n']);
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await slow.close();
    }
  });

  it('415 for an unsupported or missing Content-Type', async () => {
    const png = await call(base, '/sync/errors', { body: 'x', type: 'image/png', headers: auth });
    expect(expectError(png, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE').message).toContain('application/x-ndjson');
    const none = await fetch(`${base}/sync/errors`, {
      method: 'POST',
      headers: auth,
      body: new Uint8Array([1]),
    });
    expect(none.status).toBe(415);
    await none.text();
  });
});

describe('kafboy when Kafka is slow or gone', () => {
  let stack: Stack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({
      topics: [{ name: 'slow', partitions: 1 }],
      producer: { maxBufferedRecords: 3, bufferTimeoutMs: 300, requestTimeoutMs: 20_000 },
      gateway: { requestTimeoutMs: 800 },
    });
    base = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('504 when a sync produce outlives requestTimeoutMs; the records stay accepted and arrive', async () => {
    expect((await postJson(base, '/sync/slow', { value: 'fast' })).status).toBe(200);
    await stack.cluster.setRtt(-1, 3000);
    const started = Date.now();
    const answer = await postJson(base, '/sync/slow', { value: 'late' });
    expect(Date.now() - started).toBeLessThan(2500);
    const error = expectError(answer, 504, 'ERR_GATEWAY_TIMEOUT');
    expect(error.message).toContain('stay accepted');
    await stack.cluster.setRtt(-1, 0);
    await stack.producer.flush();
    const read = await readTopic(stack.cluster.bootstrap, 'slow');
    expect(read.map((r) => r.value?.toString())).toEqual(['fast', 'late']);
  });

  it('503 with Retry-After: 1 when the producer buffer is full (every broker down)', async () => {
    for (const { id } of stack.cluster.brokers) await stack.cluster.brokerDown(id);
    // 3 records fill the buffer: they wait for the brokers.
    expect(
      (await postJson(base, '/async/slow', [{ value: 'w1' }, { value: 'w2' }, { value: 'w3' }])).status,
    ).toBe(202);
    const refused = await postJson(base, '/async/slow', { value: 'w4' });
    expectError(refused, 503, 'ERR_BUFFER_FULL');
    expect(refused.headers.get('retry-after')).toBe('1');
    // produceSync waits bufferTimeoutMs (300 ms) for room, then gives up: 503 too.
    const sync = await postJson(base, '/sync/slow', { value: 'w5' });
    expectError(sync, 503, 'ERR_BUFFER_FULL');
    expect(sync.headers.get('retry-after')).toBe('1');
    // A gateway whose requestTimeoutMs ends before bufferTimeoutMs: the wait is cancelled, and
    // the answer says that nothing was accepted (a 503, not a 504).
    const impatient = await startGateway({ producer: stack.producer, port: 0, requestTimeoutMs: 100 });
    try {
      const cancelled = await postJson(impatient.url, '/sync/slow', { value: 'w6' });
      expect(expectError(cancelled, 503, 'ERR_BUFFER_FULL').message).toContain('nothing was accepted');
    } finally {
      await impatient.close();
    }
    for (const { id } of stack.cluster.brokers) await stack.cluster.brokerUp(id);
    await stack.producer.flush();
    const read = await readTopic(stack.cluster.bootstrap, 'slow');
    expect(read.map((r) => r.value?.toString())).toEqual(['fast', 'late', 'w1', 'w2', 'w3']);
  });
});
