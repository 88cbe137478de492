// Issue 17's finding 5, each reproduced and refused: a 10 000-deep JSON value (500), numbers a
// double cannot hold (1e400 stored as `null`, long integers cut), repeated X-Kafka-Key joined
// into one key, HEAD /healthz refused without a token, no nosniff, no cap on live streams, and
// errors logged as `{}`.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withErrors } from '../../src/cli/output.js';
import { MAX_JSON_DEPTH } from '../../src/gateway/records.js';
import { readTopic } from '../broker/kcat.js';
import { call, errorOf, postJson, raw, startStack, type Stack } from './helpers.js';

describe('kafboy hardening (finding 5)', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({
      topics: [{ name: 'hard', partitions: 1 }],
      gateway: { authToken: 'tok', maxStreams: 2, sseHeartbeatMs: 60_000 },
    });
    base = stack.gateway.url;
  }, 30_000);
  afterAll(async () => {
    await stack.stop();
  });
  const auth = { Authorization: 'Bearer tok' };

  it('refuses JSON nested deeper than the limit with 400, in a JSON body and in an NDJSON line', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const json = await call(base, '/sync/hard', {
      body: `{"value":${deep}}`,
      type: 'application/json',
      headers: auth,
    });
    expect(json.status).toBe(400);
    expect(errorOf(json).message).toContain(`at most ${MAX_JSON_DEPTH}`);
    const ndjson = await call(base, '/batch/sync/hard', {
      body: `{"value":"fine"}\n{"value":${deep}}\n`,
      type: 'application/x-ndjson',
      headers: auth,
    });
    expect(ndjson.status).toBe(400);
    expect(errorOf(ndjson).message).toMatch(/^line 2: JSON nested 10001 levels deep/);
    // Brackets inside strings are text, not nesting.
    const inString = await postJson(base, '/sync/hard', { value: { text: '['.repeat(500) } }, auth);
    expect(inString.status).toBe(200);
  });

  it('refuses numbers a double cannot hold; stores the others as JSON text, read back by kcat', async () => {
    for (const number of ['1e400', '-1e400', '12345678901234567890', '9007199254740993']) {
      const answer = await call(base, '/sync/hard', {
        body: `{"value":{"n":${number}}}`,
        type: 'application/json',
        headers: auth,
      });
      expect(answer.status, number).toBe(400);
      expect(errorOf(answer).message).toContain('cannot be represented exactly');
    }
    const kept = await call(base, '/sync/hard', {
      body: '{"value":{"max":9007199254740991,"half":0.5,"neg":-3}}',
      type: 'application/json',
      headers: auth,
    });
    expect(kept.status).toBe(200);
    const values = (await readTopic(stack.cluster.bootstrap, 'hard', { timeoutMs: 20_000 })).map((r) =>
      r.value?.toString(),
    );
    expect(values).toContain('{"max":9007199254740991,"half":0.5,"neg":-3}');
    expect(values.some((v) => v === 'null' || v?.includes('Infinity'))).toBe(false);
  });

  it('refuses a repeated X-Kafka-Key instead of joining the values into one key', async () => {
    const answer = await raw(base, '/sync/hard', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/plain', 'X-Kafka-Key': ['a', 'b'] },
      body: 'two keys',
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('X-Kafka-Key is sent 2 times');
  });

  it('answers HEAD like GET, without a body: /healthz without the token, the rest with it', async () => {
    const health = await raw(base, '/healthz', { method: 'HEAD' });
    expect(health.status).toBe(200);
    expect(health.body).toBe('');
    expect((await raw(base, '/api/actors', { method: 'HEAD' })).status).toBe(401);
    const actors = await raw(base, '/api/actors', { method: 'HEAD', headers: auth });
    expect(actors.status).toBe(200);
    expect(actors.body).toBe('');
    const stream = await raw(base, '/api/actors/stream', { method: 'HEAD', headers: auth });
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/text\/event-stream/);
  });

  it('sends X-Content-Type-Options: nosniff with every answer, errors included', async () => {
    for (const [path, headers, status] of [
      ['/healthz', {}, 200],
      ['/api/actors', auth, 200],
      ['/api/actors', {}, 401],
      ['/no/such/route', auth, 404],
    ] as const) {
      const answer = await raw(base, path, { headers });
      expect(answer.status, path).toBe(status);
      expect(answer.headers['x-content-type-options'], path).toBe('nosniff');
    }
  });

  it('serves at most maxStreams live streams; one more gets 503 until one closes', async () => {
    const open = (): Promise<http.IncomingMessage> =>
      new Promise((resolve, reject) => {
        http.get(new URL('/api/actors/stream', base), { headers: auth }, resolve).on('error', reject);
      });
    const first = await open();
    const second = await open();
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const third = await raw(base, '/api/actors/stream', { headers: auth });
    expect(third.status).toBe(503);
    expect(JSON.parse(third.body)).toMatchObject({ error: { code: 'ERR_TOO_MANY_STREAMS' } });
    const closed = new Promise((resolve) => first.once('close', resolve));
    first.destroy();
    await closed;
    // The server sees the hang-up a moment later: ask until it has.
    let again: http.IncomingMessage | undefined;
    for (let attempt = 0; attempt < 50 && again?.statusCode !== 200; attempt++) {
      again?.destroy();
      again = await open();
      if (again.statusCode !== 200) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(again?.statusCode).toBe(200);
    again?.destroy();
    second.destroy();
  });
});

describe('log fields', () => {
  it('print an error with its name, code, message, stack and cause (JSON.stringify alone gives {})', () => {
    const cause = new Error('refused');
    const error = Object.assign(new TypeError('bad thing', { cause }), { code: 'ERR_X' });
    expect(JSON.stringify({ error })).toBe('{"error":{"code":"ERR_X"}}'); // no name, message or stack
    const printed = JSON.parse(JSON.stringify({ error }, withErrors)) as {
      error: { name: string; code: string; message: string; stack: string; cause: { message: string } };
    };
    expect(printed.error).toMatchObject({ name: 'TypeError', code: 'ERR_X', message: 'bad thing' });
    expect(printed.error.stack).toContain('hardening.test.ts');
    expect(printed.error.cause.message).toBe('refused');
  });
});
