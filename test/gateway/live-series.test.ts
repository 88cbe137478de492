// Issue 17, finding 6: the operator's live view. The series behind the visualizer's charts
// (records, bytes, latency, buffered, retries, errors per topic and broker, second by second)
// and the one health state of the header, /readyz and /metrics, from a real producer on a mock
// cluster; the clock is the test's (sample() is called by hand, no waiting for seconds).
import { describe, expect, it } from 'vitest';
import { LiveSeries } from '../../src/gateway/live-series.js';
import { health, type Health } from '../../src/gateway/health.js';
import { createProducer } from '../../src/producer.js';
import { useMockCluster, useProducer } from '../support/cluster-fixture.js';
import { call, startStack } from './helpers.js';

describe('LiveSeries on a real producer', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: 'charted', partitions: 3 }] });
  const producer = useProducer(cluster, { clientId: 'live-series', deliveryTimeoutMs: 2000 });

  it('counts each second what was acknowledged, per topic and per broker, with latency quantiles', async () => {
    let clock = 1_000_000;
    const series = new LiveSeries(producer(), { now: () => clock });
    try {
      const values = Array.from({ length: 900 }, (_, i) => ({ value: `v${i}`, partition: i % 3 }));
      await producer().produceSync('charted', values);
      clock += 1000;
      const first = series.sample();
      expect(first.t).toBe(1_001_000);
      const topic = first.topics.charted;
      expect(topic?.records).toBe(900);
      expect(topic?.bytes).toBeGreaterThan(900 * 4);
      expect(topic?.p50).toBeGreaterThan(0);
      expect(topic?.p99).toBeGreaterThanOrEqual(topic?.p50 ?? Infinity);
      expect(topic).toMatchObject({ buffered: 0, retries: 0, errors: 0 });
      // Every record was acknowledged by some broker: the brokers' counts add up.
      const byBroker = Object.values(first.brokers).reduce((sum, b) => sum + b.records, 0);
      expect(byBroker).toBe(900);
      expect(first.health).toEqual({ state: 'ok', reasons: [] });

      // A quiet second: the topic is left out; the history keeps both, and since() slices it.
      clock += 1000;
      const quiet = series.sample();
      expect(quiet.topics).toEqual({});
      expect(series.since(0).map((s) => s.t)).toEqual([1_001_000, 1_002_000]);
      expect(series.since(1_001_000).map((s) => s.t)).toEqual([1_002_000]);
    } finally {
      series.stop();
    }
  });

  it('keeps `keep` samples at most', () => {
    let clock = 0;
    const series = new LiveSeries(producer(), { now: () => (clock += 1000), keep: 3 });
    try {
      for (let i = 0; i < 5; i++) series.sample();
      expect(series.since(0).map((s) => s.t)).toEqual([3000, 4000, 5000]);
    } finally {
      series.stop();
    }
  });
});

describe('health', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: 'healthy', partitions: 3 }], per: 'test' });

  it('ok before anything is used (lazy), down when no bootstrap broker answers', async () => {
    const idle = createProducer({ brokers: '127.0.0.1:9', clientId: 'health-idle' });
    try {
      expect(health(idle.inspect())).toEqual({
        state: 'ok',
        reasons: ['idle: nothing produced yet (ekaf connects on first use)'],
      });
      const failed = idle.produceSync('healthy', 'x').catch(() => undefined);
      await expect.poll(() => health(idle.inspect()).state, { timeout: 10_000, interval: 50 }).toBe('down');
      expect(health(idle.inspect()).reasons[0]).toMatch(
        /^no broker reached yet: 127\.0\.0\.1:9: .*ECONNREFUSED/,
      );
      await idle.close({ timeoutMs: 0 });
      await failed;
    } finally {
      await idle.close({ timeoutMs: 0 });
    }
  });

  it('degraded with a broker down and partitions buffering; down with all of them down; ok again', async () => {
    const producer = createProducer({
      brokers: cluster().bootstrap,
      clientId: 'health',
      deliveryTimeoutMs: 60_000,
    });
    try {
      await producer.produceSync(
        'healthy',
        [0, 1, 2].map((partition) => ({ value: 'x', partition })),
      );
      expect(health(producer.inspect())).toEqual({ state: 'ok', reasons: [] });
      await cluster().brokerDown(2);
      const held = producer.produceSync(
        'healthy',
        [0, 1, 2].map((partition) => ({ value: 'y', partition })),
      );
      await expect
        .poll(() => health(producer.inspect()).state, { timeout: 10_000, interval: 50 })
        .toBe('degraded');
      expect(health(producer.inspect()).reasons.join(' | ')).toMatch(
        /1 of 3 broker connections down: broker:2/,
      );
      for (const id of [1, 3]) await cluster().brokerDown(id);
      await expect
        .poll(() => health(producer.inspect()).state, { timeout: 10_000, interval: 50 })
        .toBe('down');
      expect(health(producer.inspect()).reasons).toEqual(['every broker connection is down (3)']);
      for (const id of [1, 2, 3]) await cluster().brokerUp(id);
      await held;
      await expect.poll(() => health(producer.inspect()).state, { timeout: 20_000, interval: 50 }).toBe('ok');
      expect(health(producer.inspect(), 4).reasons).toEqual(['4 records failed in the last minute']);
    } finally {
      await producer.close({ timeoutMs: 2000 });
    }
  });
});

describe('health of a broker connection', () => {
  const cluster = useMockCluster({ brokers: 3, topics: [{ name: 'first', partitions: 3 }] });
  const producer = useProducer(cluster, { clientId: 'health-first' });

  it('a broker being connected for the first time is not down; one whose attempts failed is', async () => {
    await producer().produceSync(
      'first',
      [0, 1, 2].map((partition) => ({ value: 'x', partition })),
    );
    const actors = producer().inspect();
    const broker = actors.find((a) => a.kind === 'broker');
    if (broker?.kind !== 'broker') throw new Error('no broker actor');
    // Each state of that one broker, as the snapshots show it (ekaf connects lazily: a broker
    // is first reached when a partition it leads is used).
    const as = (state: string, attempts: number): Health =>
      health(
        actors.map((a) =>
          a === broker ? { ...broker, state, details: { ...broker.details, attempts } } : a,
        ),
      );
    expect(as('connecting', 0)).toEqual({ state: 'ok', reasons: [] });
    expect(as('handshaking', 0)).toEqual({ state: 'ok', reasons: [] });
    for (const [state, attempts] of [
      ['connecting', 1],
      ['handshaking', 2],
      ['retrying', 1],
      ['failed', 1],
    ] as const) {
      expect(as(state, attempts), `${state} after ${attempts} failed attempts`).toEqual({
        state: 'degraded',
        reasons: [`1 of 3 broker connections down: ${broker.name}`],
      });
    }
  });
});

describe('the gateway serves them', () => {
  it('/api/series, /api/transitions, /readyz with the health, kafboy_health in /metrics', async () => {
    const stack = await startStack({ topics: [{ name: 'served', partitions: 2 }] });
    try {
      const base = stack.gateway.url;
      const notReady = await call(base, '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body).toMatchObject({ error: { code: 'ERR_NOT_READY' }, health: { state: 'ok' } });
      expect((await call(base, '/sync/served', { body: 'x', type: 'text/plain' })).status).toBe(200);
      const ready = await call(base, '/readyz');
      expect(ready.body).toMatchObject({ status: 'ready', health: { state: expect.any(String) as unknown } });

      // The series is sampled every second: the record shows in one of the next samples.
      await expect
        .poll(
          async () => {
            const body = (await call(base, '/api/series')).body as {
              intervalMs: number;
              samples: { t: number; topics: Record<string, { records: number }> }[];
            };
            return body.samples.reduce((sum, s) => sum + (s.topics.served?.records ?? 0), 0);
          },
          { timeout: 5000, interval: 200 },
        )
        .toBe(1);
      const all = (await call(base, '/api/series')).body as { intervalMs: number; samples: { t: number }[] };
      expect(all.intervalMs).toBe(1000);
      const last = all.samples.at(-1)?.t ?? 0;
      const after = (await call(base, `/api/series?since=${last}`)).body as { samples: unknown[] };
      expect(after.samples.length).toBeLessThanOrEqual(1);
      expect((await call(base, '/api/series?since=soon')).status).toBe(400);

      const transitions = (await call(base, '/api/transitions')).body as { actor: string; to: string }[];
      expect(transitions.some((t) => t.actor === 'partition:served:0' && t.to === 'ready')).toBe(true);

      const metrics = (await call(base, '/metrics')).text;
      expect(metrics).toMatch(/^kafboy_health\{state="ok"\} 1$/m);
      expect(metrics).toMatch(/^kafboy_health\{state="down"\} 0$/m);
    } finally {
      await stack.stop();
    }
  });
});
