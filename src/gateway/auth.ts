import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { HttpError } from './errors.js';

/**
 * Who may use a gateway that has a token.
 *
 * Programs send `Authorization: Bearer <token>`, on every route. A browser cannot: its page
 * loads style sheets and scripts and opens an EventSource, none of which carry a header. So the
 * visualizer's user opens `/?access_token=<token>` once; the gateway answers with a redirect to
 * `/` (the token leaves the address bar, the history and any Referer) and a session cookie that
 * is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and scoped
 * to the page's own routes (`/`, `/assets/…`, `/api/…`): the produce routes and `/metrics` take
 * the bearer token only. `access_token` is refused everywhere but on that entry: a token in a
 * produce URL ends up in every proxy's log.
 *
 * The session is not stored: the cookie is its expiry time and an HMAC of it keyed by the
 * token, so it survives a restart of the gateway, dies with a change of token, and a gateway
 * holds nothing per browser.
 */
export interface Authenticator {
  /**
   * Answers `GET /?access_token=…` (a valid token: a redirect that sets the session; a wrong
   * one: 401). Returns true when it answered; false for every other request.
   */
  enterPage: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean;
  /** Throws HttpError 401 unless the request carries the token, or a session where one serves. */
  check: (req: IncomingMessage, url: URL) => void;
}

export interface AuthOptions {
  token: string;
  /** How long a session cookie is valid, in ms. */
  sessionMaxAgeMs: number;
  /** The clock, in ms since the epoch; tests move it. */
  now?: () => number;
}

const ENTRY_PARAMETER = 'access_token';

export function createAuthenticator(options: AuthOptions): Authenticator {
  const expected = digest(options.token);
  const now = options.now ?? Date.now;
  // A cookie is not scoped by port: two gateways on one host with different tokens must not
  // overwrite each other's session, so its name depends on the token (one-way).
  const cookieName = `kafboy_session_${createHash('sha256').update(`kafboy cookie name\0${options.token}`).digest('hex').slice(0, 12)}`;
  const mac = (expires: string): Buffer =>
    createHmac('sha256', options.token).update(`kafboy-session\0${expires}`).digest();

  const tokenMatches = (given: string): boolean => timingSafeEqual(digest(given), expected);

  /** undefined: no session cookie; else why it is not valid, or null when it is. */
  const sessionProblem = (req: IncomingMessage): string | null | undefined => {
    const value = cookieValue(req.headers.cookie, cookieName);
    if (value === undefined) return undefined;
    const dot = value.indexOf('.');
    const expires = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const wanted = mac(expires);
    if (dot < 0 || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return 'the session cookie is not this gateway’s (its token changed?)';
    }
    if (Number(expires) * 1000 <= now()) return 'the session has expired';
    return null;
  };

  return {
    enterPage(req, res, url) {
      const token = url.searchParams.get(ENTRY_PARAMETER);
      if (token === null || url.pathname !== '/' || !(req.method === 'GET' || req.method === 'HEAD'))
        return false;
      if (!tokenMatches(token)) throw unauthorized('wrong access_token', 'invalid_token');
      const expires = String(Math.floor((now() + options.sessionMaxAgeMs) / 1000));
      const attributes = [
        `${cookieName}=${expires}.${mac(expires).toString('base64url')}`,
        'Path=/',
        `Max-Age=${Math.floor(options.sessionMaxAgeMs / 1000)}`,
        'HttpOnly',
        'SameSite=Strict',
      ];
      // Over TLS the cookie must never travel in clear; over plain HTTP a Secure cookie would
      // not be kept at all (except on localhost), so it is set only where it can be honoured.
      if ((req.socket as Partial<TLSSocket>).encrypted === true) attributes.push('Secure');
      url.searchParams.delete(ENTRY_PARAMETER);
      res.writeHead(303, {
        Location: `/${url.search}`,
        'Set-Cookie': attributes.join('; '),
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'Content-Length': '0',
      });
      res.end();
      return true;
    },

    check(req, url) {
      const header = req.headers.authorization;
      if (header !== undefined) {
        const given = /^Bearer[ ]+(\S+)\s*$/i.exec(header)?.[1] ?? '';
        if (!tokenMatches(given)) throw unauthorized('wrong token', 'invalid_token');
        return;
      }
      if (url.searchParams.has(ENTRY_PARAMETER)) {
        throw unauthorized(
          `${ENTRY_PARAMETER} is accepted on the page's entry only (GET /?${ENTRY_PARAMETER}=…): ` +
            'send "Authorization: Bearer <token>"',
          'invalid_request',
        );
      }
      if (servesSession(url.pathname)) {
        const problem = sessionProblem(req);
        if (problem === null) return;
        if (problem !== undefined) {
          throw unauthorized(`${problem}: open /?${ENTRY_PARAMETER}=<token> again`, 'invalid_token');
        }
        throw unauthorized(
          `missing credentials: send "Authorization: Bearer <token>", or open /?${ENTRY_PARAMETER}=<token> in a browser`,
        );
      }
      throw unauthorized('missing credentials: send "Authorization: Bearer <token>"');
    },
  };
}

/** The page's own routes, which a browser's session may use. */
function servesSession(path: string): boolean {
  return path === '/' || path.startsWith('/assets/') || path.startsWith('/api/');
}

function unauthorized(message: string, error?: 'invalid_token' | 'invalid_request'): HttpError {
  const challenge = error === undefined ? 'Bearer realm="kafboy"' : `Bearer realm="kafboy", error="${error}"`;
  return new HttpError(401, 'ERR_UNAUTHORIZED', message, { 'WWW-Authenticate': challenge });
}

/** The value of cookie `name` in a Cookie header (`a=1; b=2`), or undefined. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The token is compared in constant time so that response timing does not reveal how much of a
 * guess was right. timingSafeEqual needs buffers of equal length and comparing lengths first
 * would leak the token's length, so both sides are hashed to SHA-256 first: equal-length
 * digests, equal exactly when the tokens are.
 */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
