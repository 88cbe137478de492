// Issue 17's findings 1 (a page on another site produced records through kafboy; through DNS
// rebinding it also changed topic settings and read /api/actors and /metrics), each reproduced
// as the browser would send it, and refused; what kafboy's own page and non-browser clients
// send still passes. src/gateway/request-guard.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopic } from '../broker/kcat.js';
import { hostName } from '../../src/gateway/request-guard.js';
import { raw as send, startStack, type Stack } from './helpers.js';

const codeOf = (answer: { body: string }): string =>
  (JSON.parse(answer.body) as { error: { code: string } }).error.code;

describe('kafboy refuses what a page on another site makes a browser send', () => {
  let stack: Stack;
  let base: string;
  let ownOrigin: string;
  beforeAll(async () => {
    stack = await startStack({
      topics: [
        { name: 'guarded', partitions: 1 },
        { name: 'named', partitions: 1 },
      ],
      gateway: { allowedHosts: ['Kafboy.Internal'] },
    });
    base = stack.gateway.url;
    ownOrigin = new URL(base).origin;
  }, 30_000);
  afterAll(async () => {
    await stack.stop();
  });

  it('finding 1: a no-cors fetch and a text/plain form POST from another site produce nothing', async () => {
    const fromPage = { 'Content-Type': 'text/plain', Origin: 'http://attacker.example' };
    const refused = [
      // fetch(url, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' } })
      { ...fromPage, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' },
      // <form method="post" enctype="text/plain"> submitted
      { ...fromPage, 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate' },
      // a browser without Sec-Fetch-*: Origin alone
      fromPage,
      // a page on another port of this machine is the same site, not the same origin
      { 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'same-site', Origin: 'http://127.0.0.1:1' },
      // a sandboxed frame or a file:// page: the opaque origin
      { 'Content-Type': 'text/plain', Origin: 'null' },
    ];
    for (const [i, headers] of refused.entries()) {
      const answer = await send(base, '/async/guarded', { headers, body: `from another site ${i}` });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
      expect(codeOf(answer)).toBe('ERR_CROSS_SITE');
    }
    const sync = await send(base, '/sync/guarded', {
      headers: { ...fromPage, 'Sec-Fetch-Site': 'cross-site' },
      body: 'sync from another site',
    });
    expect(sync.status).toBe(403);
    // The gateway's own page, and a client that is not a browser, still produce.
    const own = await send(base, '/sync/guarded', {
      headers: { 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'same-origin', Origin: ownOrigin },
      body: 'from the page itself',
    });
    expect(own.status).toBe(200);
    const curl = await send(base, '/sync/guarded', {
      headers: { 'Content-Type': 'text/plain' },
      body: 'from curl',
    });
    expect(curl.status).toBe(200);
    const records = await readTopic(stack.cluster.bootstrap, 'guarded', { timeoutMs: 20_000 });
    expect(records.map((r) => r.value?.toString()).sort()).toEqual(['from curl', 'from the page itself']);
  });

  it('finding 1: a cross-site PUT of topic settings changes nothing', async () => {
    const before = stack.producer.setTopicConfig('guarded', {}).lingerMs;
    const answer = await send(base, '/api/topics/guarded/config', {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/json',
        'Sec-Fetch-Site': 'cross-site',
        Origin: 'http://attacker.example',
      },
      body: JSON.stringify({ lingerMs: before + 17 }),
    });
    expect(answer.status).toBe(403);
    expect(stack.producer.setTopicConfig('guarded', {}).lingerMs).toBe(before);
  });

  it('finding 1: DNS rebinding (the attacker’s name, same origin to the browser) reads and writes nothing', async () => {
    const port = new URL(base).port;
    const rebound = `rebind.attacker.example:${port}`;
    const asPage = { Host: rebound, 'Sec-Fetch-Site': 'same-origin', Origin: `http://${rebound}` };
    for (const path of ['/api/actors', '/metrics', '/readyz', '/api/actors/stream', '/']) {
      const answer = await send(base, path, { headers: { Host: rebound, 'Sec-Fetch-Site': 'same-origin' } });
      expect(answer.status, path).toBe(403);
      expect(codeOf(answer), path).toBe('ERR_HOST_FORBIDDEN');
    }
    const before = stack.producer.setTopicConfig('guarded', {}).lingerMs;
    const put = await send(base, '/api/topics/guarded/config', {
      method: 'PUT',
      headers: { ...asPage, 'Content-Type': 'application/json' },
      body: JSON.stringify({ lingerMs: before + 3 }),
    });
    expect(put.status).toBe(403);
    expect(stack.producer.setTopicConfig('guarded', {}).lingerMs).toBe(before);
    const produced = await send(base, '/async/named', {
      headers: { ...asPage, 'Content-Type': 'text/plain' },
      body: 'rebound',
    });
    expect(produced.status).toBe(403);
    // Load balancers probe /healthz under any name: it tells nothing.
    expect((await send(base, '/healthz', { headers: { Host: rebound } })).status).toBe(200);
  });

  it('answers Host names no one can re-point, and the listed ones', async () => {
    const port = new URL(base).port;
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `app.localhost:${port}`,
      `[::1]:${port}`,
      `10.1.2.3:${port}`,
      `kafboy.internal:${port}`,
      'KAFBOY.INTERNAL',
    ]) {
      expect((await send(base, '/readyz', { headers: { Host: host } })).status, host).not.toBe(403);
    }
    const named = await send(base, '/sync/named', {
      headers: { Host: `kafboy.internal:${port}`, 'Content-Type': 'text/plain' },
      body: 'by its listed name',
    });
    expect(named.status).toBe(200);
  });
});

describe('kafboy with a token', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      topics: [{ name: 'tokened', partitions: 1 }],
      gateway: { authToken: 't0ken' },
    });
  }, 30_000);
  afterAll(async () => {
    await stack.stop();
  });

  it('accepts any Host name (a rebound page has no token), but still no cross-site write', async () => {
    const port = new URL(stack.gateway.url).port;
    const withToken = { Host: `kafka-gateway.example:${port}`, Authorization: 'Bearer t0ken' };
    expect((await send(stack.gateway.url, '/api/actors', { headers: withToken })).status).toBe(200);
    const crossSite = await send(stack.gateway.url, '/sync/tokened', {
      headers: { ...withToken, 'Content-Type': 'text/plain', 'Sec-Fetch-Site': 'cross-site' },
      body: 'x',
    });
    expect(crossSite.status).toBe(403);
    expect(codeOf(crossSite)).toBe('ERR_CROSS_SITE');
  });
});

describe('hostName', () => {
  it('drops the port and IPv6 brackets, lower case', () => {
    expect(hostName('Example.COM:8080')).toBe('example.com');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
    expect(hostName('localhost')).toBe('localhost');
  });
});
