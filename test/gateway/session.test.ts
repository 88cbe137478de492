// Issue 17, finding 4: with a token, the visualizer was unusable (its style sheet, script, API
// calls and live stream answered 401: a browser cannot send the header) and `access_token` was
// accepted on every route (a token in a produce URL lands in proxy logs). Now the token is traded
// once, on the page's entry, for a session cookie that serves the page's routes only.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/gateway/auth.js';
import { HttpError } from '../../src/gateway/errors.js';
import { visualizerRoutes } from '../../src/gateway/visualizer.js';
import { call, errorOf, raw, startStack, type Stack } from './helpers.js';

const TOKEN = 'sesame-7f3a';
const TOPIC = 'session';

describe('kafboy with a token: the page trades it for a session cookie', () => {
  let stack: Stack;
  let base: string;
  let origin: string;
  /** The `name=value` of the session cookie the page entry set. */
  let cookie: string;

  beforeAll(async () => {
    stack = await startStack({
      topics: [{ name: TOPIC, partitions: 2 }],
      gateway: { authToken: TOKEN, extraRoutes: visualizerRoutes() },
    });
    base = stack.gateway.url;
    origin = new URL(base).origin;
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('without credentials the page, its assets and its API answer 401 saying how to sign in', async () => {
    for (const path of ['/', '/assets/app.css', '/assets/app.js', '/api/actors', '/api/machines']) {
      const answer = await call(base, path);
      expect(answer.status, path).toBe(401);
      expect(errorOf(answer).message, path).toContain('/?access_token=<token>');
    }
  });

  it('refuses access_token anywhere but the page entry, even when it is right', async () => {
    for (const path of [`/sync/${TOPIC}`, `/async/${TOPIC}`, '/api/actors', '/metrics', '/assets/app.js']) {
      const method =
        path.startsWith('/api') || path.startsWith('/assets') || path === '/metrics' ? 'GET' : 'POST';
      const answer = await call(base, `${path}?access_token=${TOKEN}`, {
        method,
        ...(method === 'POST' ? { body: 'x', type: 'text/plain' } : {}),
      });
      expect(answer.status, path).toBe(401);
      expect(errorOf(answer).message, path).toMatch(/access_token is accepted on the page's entry only/);
    }
  });

  it('a wrong access_token on the entry: 401 and no cookie', async () => {
    const answer = await raw(base, '/?access_token=wrong');
    expect(answer.status).toBe(401);
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  it('the right one: a redirect to the page without the token, and an HttpOnly SameSite=Strict cookie', async () => {
    const answer = await raw(base, `/?select=topic%3Asession&access_token=${TOKEN}`);
    expect(answer.status).toBe(303);
    // The token leaves the address bar, the history and any Referer; other parameters stay.
    expect(answer.headers.location).toBe('/?select=topic%3Asession');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(answer.headers['cache-control']).toBe('no-store');
    const set = answer.headers['set-cookie'] ?? [];
    expect(set).toHaveLength(1);
    const attributes = (set[0] ?? '').split('; ');
    expect(attributes).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${12 * 60 * 60}`]),
    );
    // Plain HTTP: Secure would make the browser drop it (TLS sets it: see the unit tests below).
    expect(attributes).not.toContain('Secure');
    expect(attributes[0]).not.toContain(TOKEN);
    cookie = attributes[0] ?? '';
    expect(cookie).toMatch(/^kafboy_session_[0-9a-f]{12}=\d+\.[\w-]+$/);
  });

  it('the cookie opens the page, its assets, its API and its live stream', async () => {
    const headers = { cookie };
    for (const path of ['/', '/assets/app.css', '/assets/app.js', '/api/actors', '/api/machines']) {
      expect((await call(base, path, { headers })).status, path).toBe(200);
    }
    // The page's settings form: a same-origin PUT with the cookie.
    const put = await call(base, `/api/topics/${TOPIC}/config`, {
      method: 'PUT',
      body: JSON.stringify({ lingerMs: 7 }),
      type: 'application/json',
      headers: { ...headers, 'sec-fetch-site': 'same-origin', origin },
    });
    expect(put.status, put.text).toBe(200);
    // The stream: its first event (the snapshot) arrives.
    const controller = new AbortController();
    const stream = await fetch(`${base}/api/actors/stream`, { headers, signal: controller.signal });
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('event: snapshot')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    expect(text).toContain('event: snapshot');
    controller.abort();
  });

  it('the cookie does not produce or read /metrics: those take the bearer token only', async () => {
    const headers = { cookie, 'sec-fetch-site': 'same-origin', origin };
    const produce = await call(base, `/sync/${TOPIC}`, { body: 'x', type: 'text/plain', headers });
    expect(produce.status).toBe(401);
    expect((await call(base, '/metrics', { headers })).status).toBe(401);
    // Nothing was produced: the first record the token produces is at offset 0.
    const first = await call(base, `/sync/${TOPIC}?partition=1`, {
      body: 'first',
      type: 'text/plain',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ reports: [{ partition: 1, offset: 0 }] });
  });

  it("another token's cookie is not this gateway's", async () => {
    const other = createAuthenticator({ token: 'another-token', sessionMaxAgeMs: 60_000 });
    const forged = sessionCookieOf(other, 'another-token');
    // Same name, the other token's MAC: what a changed token leaves in browsers.
    const renamed = `${cookie.slice(0, cookie.indexOf('='))}${forged.slice(forged.indexOf('='))}`;
    const answer = await call(base, '/api/actors', { headers: { cookie: renamed } });
    expect(answer.status).toBe(401);
    expect(errorOf(answer).message).toMatch(/not this gateway’s/);
  });
});

describe('createAuthenticator (its clock moved by hand)', () => {
  let clock = 1_800_000_000_000;
  const auth = createAuthenticator({ token: 't', sessionMaxAgeMs: 60_000, now: () => clock });
  const check = (headers: Record<string, string>, path = '/api/actors'): string => {
    try {
      auth.check({ headers } as unknown as IncomingMessage, new URL(path, 'http://x'));
      return 'ok';
    } catch (error) {
      return (error as HttpError).message;
    }
  };

  it('a session lasts sessionMaxAgeMs, then says it expired', () => {
    const cookie = sessionCookieOf(auth, 't');
    clock += 59_000;
    expect(check({ cookie })).toBe('ok');
    clock += 1_000;
    expect(check({ cookie })).toMatch(/^the session has expired: open \/\?access_token=<token> again$/);
  });

  it('a cookie whose expiry was edited is refused', () => {
    const cookie = sessionCookieOf(auth, 't');
    const [name, value] = cookie.split('=') as [string, string];
    const later = `${name}=${Number(value.split('.')[0]) + 3600}.${value.split('.')[1]}`;
    expect(check({ cookie: later })).toMatch(/not this gateway’s/);
    expect(check({ cookie: `${name}=garbage` })).toMatch(/not this gateway’s/);
    expect(check({ cookie: `other=1; ${cookie}; more=2` })).toBe('ok');
  });

  it('the bearer token works everywhere; a wrong one is refused even with a session', () => {
    expect(check({ authorization: 'Bearer t' }, '/sync/x')).toBe('ok');
    expect(check({ authorization: 'Bearer u', cookie: sessionCookieOf(auth, 't') })).toBe('wrong token');
  });

  it('over TLS the cookie is Secure', () => {
    expect(sessionCookieOf(auth, 't', { encrypted: true, whole: true })).toContain('; Secure');
  });
});

/** The Set-Cookie of a page entry through `auth` with `token` (its `name=value` unless `whole`). */
function sessionCookieOf(
  auth: ReturnType<typeof createAuthenticator>,
  token: string,
  options: { encrypted?: boolean; whole?: boolean } = {},
): string {
  let header = '';
  const res = {
    writeHead(_status: number, headers: Record<string, string>) {
      header = headers['Set-Cookie'] ?? '';
    },
    end() {},
  } as unknown as ServerResponse;
  const req = {
    method: 'GET',
    headers: {},
    socket: { encrypted: options.encrypted ?? false },
  } as unknown as IncomingMessage;
  if (!auth.enterPage(req, res, new URL(`/?access_token=${token}`, 'http://x')))
    throw new Error('not a page entry');
  return options.whole === true ? header : (header.split('; ')[0] ?? '');
}
