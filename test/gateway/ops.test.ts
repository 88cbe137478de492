import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/server.js';
import type { ActorSnapshot } from '../../src/runtime/runtime.js';
import { call, errorOf, postJson, startStack, waitFor, type Stack } from './helpers.js';
import { actorNamed } from '../../src/runtime/introspection.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the Prometheus text format (0.0.4): every line is a comment (# HELP /
 * # TYPE), blank, or `name{label="value",...} number`. Anything else fails the test.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type?.[1] !== undefined && type[2] !== undefined) types.set(type[1], type[2]);
      else if (!/^# HELP \S+ /.test(line)) throw new Error(`bad comment line: ${line}`);
      continue;
    }
    const m = sample.exec(line);
    if (m?.[1] === undefined || m[3] === undefined) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    label.lastIndex = 0;
    while (label.lastIndex < body.length) {
      const l = label.exec(body);
      if (l?.[1] === undefined || l[2] === undefined) throw new Error(`bad labels in: ${line}`);
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

/** Reads server-sent events from a fetch body until `until` says stop. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  until: (events: { event: string; data: string }[]) => boolean,
): Promise<{ event: string; data: string }[]> {
  const events: { event: string; data: string }[] = [];
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  while (!until(events)) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
        else if (line.startsWith(':')) event = 'comment';
      }
      events.push({ event, data: data.join('\n') });
    }
  }
  await reader.cancel();
  return events;
}

describe('kafboy health, metrics, actors, live stream, topic config', () => {
  let stack: Stack;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({
      topics: [
        { name: 'ops', partitions: 3 },
        { name: 'cfg', partitions: 1 },
        { name: 'warm', partitions: 2 },
      ],
      gateway: { sseHeartbeatMs: 200 },
    });
    base = stack.gateway.url;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('GET /healthz answers 200 at once', async () => {
    const answer = await call(base, '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz: 503 with the reason until metadata and a broker are ready, then 200', async () => {
    // Nothing has used a topic yet: ekaf's metadata is lazy, nothing is connected.
    const cold = await call(base, '/readyz');
    expect(cold.status).toBe(503);
    expect(errorOf(cold)).toEqual({
      code: 'ERR_NOT_READY',
      message: expect.stringContaining('first use of a topic') as string,
    });
    // A gateway with warmTopics resolves them at start: ready without any produce.
    const warm = await startGateway({ producer: stack.producer, port: 0, warmTopics: ['warm'] });
    try {
      await waitFor(async () => (await call(warm.url, '/readyz')).status === 200);
      const ready = await call(warm.url, '/readyz');
      expect(ready.body).toMatchObject({ status: 'ready', brokersReady: expect.any(Number) as number });
      expect((await call(base, '/readyz')).status).toBe(200);
    } finally {
      await warm.close();
    }
  });

  it('GET /metrics is Prometheus text; the produced-records counter matches what was produced', async () => {
    const before = parsePrometheus((await call(base, '/metrics')).text);
    const already = valueOf(before.samples, 'ekaf_records_produced_total', { topic: 'ops' }) ?? 0;
    const sync = await postJson(
      base,
      '/sync/ops',
      Array.from({ length: 7 }, (_, i) => ({ value: `m${i}` })),
    );
    expect(sync.status).toBe(200);
    expect(
      (await postJson(base, '/async/ops', [{ value: 'a' }, { value: 'b' }, { value: 'c' }])).status,
    ).toBe(202);
    await stack.producer.flush();

    const answer = await call(base, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const { types, samples } = parsePrometheus(answer.text);
    expect(valueOf(samples, 'ekaf_records_produced_total', { topic: 'ops' })).toBe(already + 10);
    expect(types.get('ekaf_records_produced_total')).toBe('counter');
    expect(types.get('ekaf_delivery_failures_total')).toBe('counter');
    expect(types.get('kafboy_produce_latency_seconds')).toBe('histogram');
    expect(types.get('kafboy_produce_request_records')).toBe('histogram');
    expect(valueOf(samples, 'kafboy_produce_request_records_count', { topic: 'ops', route: 'sync' })).toBe(1);
    expect(valueOf(samples, 'kafboy_produce_request_records_sum', { topic: 'ops', route: 'sync' })).toBe(7);
    expect(valueOf(samples, 'kafboy_produce_latency_seconds_count', { topic: 'ops', route: 'async' })).toBe(
      1,
    );
    expect(valueOf(samples, 'ekaf_bytes_produced_total', { topic: 'ops' })).toBeGreaterThan(0);
    expect(valueOf(samples, 'ekaf_batch_retries_total', { topic: 'ops' })).toBe(0);
    expect(valueOf(samples, 'ekaf_buffered_records')).toBe(0);
    expect(valueOf(samples, 'ekaf_buffer_max_records')).toBe(1_000_000);
    expect(valueOf(samples, 'ekaf_in_flight_batches', { topic: 'ops' })).toBe(0);
    expect(valueOf(samples, 'ekaf_actors', { kind: 'partition', state: 'ready' })).toBeGreaterThanOrEqual(3);
    expect(valueOf(samples, 'ekaf_actors', { kind: 'broker', state: 'ready' })).toBe(3);
    expect(
      valueOf(samples, 'ekaf_actor_transitions_total', { kind: 'partition', to: 'ready' }),
    ).toBeGreaterThan(0);
    expect(valueOf(samples, 'kafboy_http_requests_total', { route: 'sync', status: '200' })).toBeGreaterThan(
      0,
    );
  });

  it('counts delivery failures by topic and code; a broker refusal is a 502', async () => {
    // The next Produce request fails with TOPIC_AUTHORIZATION_FAILED (29), not retriable.
    await stack.cluster.pushRequestErrors(0, [29]);
    const answer = await postJson(base, '/sync/ops', [{ value: 'refused-1' }, { value: 'refused-2' }]);
    expect(answer.status).toBe(502);
    expect(errorOf(answer)).toEqual({
      code: 'ERR_KAFKA',
      message: expect.stringContaining('TOPIC_AUTHORIZATION_FAILED') as string,
    });
    const { samples } = parsePrometheus((await call(base, '/metrics')).text);
    expect(valueOf(samples, 'ekaf_delivery_failures_total', { topic: 'ops', code: 'ERR_KAFKA' })).toBe(2);
  });

  it('GET /api/actors is producer.inspect()', async () => {
    const answer = await call(base, '/api/actors');
    expect(answer.status).toBe(200);
    const names = (answer.body as ActorSnapshot[]).map((a) => a.name);
    expect(names).toEqual(
      expect.arrayContaining(['registry', 'metadata', 'broker:1', 'topic:ops', 'partition:ops:2']),
    );
  });

  it('GET /api/actors/stream: a snapshot, then state events, heartbeats; listeners removed on disconnect', async () => {
    const listeners = stack.producer.listenerCount('state');
    const controller = new AbortController();
    const res = await fetch(`${base}/api/actors/stream`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(stack.producer.listenerCount('state')).toBe(listeners + 1);
    // A topic used for the first time goes resolving → active, and its partitions → ready. The
    // stream listens already (counted above); what it is sent waits in the body until read.
    void postJson(base, '/sync/cfg', { value: 'wake' });
    const events = await readEvents(
      res.body as ReadableStream<Uint8Array>,
      (seen) =>
        seen.some((e) => e.event === 'state' && e.data.includes('partition:cfg:0')) &&
        seen.some((e) => e.event === 'comment'),
    );
    expect(events[0]?.event).toBe('snapshot');
    const snapshot = JSON.parse(events[0]?.data ?? '[]') as ActorSnapshot[];
    expect(snapshot.map((a) => a.name)).toContain('metadata');
    const states = events.filter((e) => e.event === 'state').map((e) => JSON.parse(e.data) as object);
    expect(states).toContainEqual({ actor: 'topic:cfg', kind: 'topic', from: 'resolving', to: 'active' });
    expect(states).toContainEqual(expect.objectContaining({ actor: 'partition:cfg:0', to: 'ready' }));
    controller.abort();
    await waitFor(() => stack.producer.listenerCount('state') === listeners);
  });

  it('PUT /api/topics/:topic/config changes settings; a bad value is a 400 with the ConfigError message', async () => {
    const put = (body: string, type = 'application/json') =>
      call(base, '/api/topics/cfg/config', { method: 'PUT', body, type });
    const ok = await put(JSON.stringify({ lingerMs: 25, batchRecords: 500, partitioner: 'random' }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ lingerMs: 25, batchRecords: 500, partitioner: 'random', acks: 'all' });
    const actors = stack.producer.inspect();
    const topic = actorNamed(actors, 'topic:cfg');
    expect(topic?.details.settings).toMatchObject({ lingerMs: 25, batchRecords: 500 });

    const bad = await put(JSON.stringify({ lingerMs: -1 }));
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toEqual({
      code: 'ERR_CONFIG',
      message: expect.stringMatching(/^topics\.cfg\.lingerMs: /) as string,
    });
    // Past the int32 of the Produce request's timeout field: refused here, not at the next produce.
    const huge = await put(JSON.stringify({ produceTimeoutMs: 3_000_000_000 }));
    expect(huge.status).toBe(400);
    expect(errorOf(huge)).toEqual({
      code: 'ERR_CONFIG',
      message: 'topics.cfg.produceTimeoutMs: must be an integer >= 1 and <= 2147483647 (got 3000000000)',
    });
    const unknown = await put(JSON.stringify({ linger: 5 }));
    expect(errorOf(unknown).message).toBe('topics.cfg.linger: is not a topic setting');
    expect((await put('[1]')).status).toBe(400);
    expect((await put('{')).status).toBe(400);
    expect((await put('lingerMs=1', 'text/plain')).status).toBe(415);
    expect((await call(base, '/api/topics/cfg/config')).headers.get('allow')).toBe('PUT');
  });

  it('close() lets a request in flight finish, then stops accepting', async () => {
    const gateway = await startGateway({ producer: stack.producer, port: 0 });
    await stack.cluster.setRtt(-1, 400);
    try {
      const calls = stack.producer.metrics().pendingCalls;
      const pending = postJson(gateway.url, '/sync/ops', { value: 'in flight' });
      // In flight: the gateway handed it to the producer, which waits on the slow broker.
      await expect.poll(() => stack.producer.metrics().pendingCalls).toBe(calls + 1);
      const closed = gateway.close();
      const answer = await pending;
      expect(answer.status).toBe(200);
      await closed;
      await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow();
    } finally {
      await stack.cluster.setRtt(-1, 0);
    }
  });
});
