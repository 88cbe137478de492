import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './errors.js';

/**
 * What a web page on another site can make a browser send to kafboy, refused before any route
 * runs. kafboy listens on loopback by default, but a browser on the same machine reaches it too.
 *
 * Cross-site requests: a page's `fetch(url, { method: 'POST', mode: 'no-cors' })` or a
 * `<form enctype="text/plain">` POST needs no CORS permission to be sent, only to be read: the
 * records would be produced. Browsers label what they send: `Sec-Fetch-Site` (every current
 * browser) and `Origin` (on every POST, PUT and DELETE). A request that changes something
 * (any method but GET, HEAD and OPTIONS) is refused with 403 ERR_CROSS_SITE when
 * Sec-Fetch-Site is anything but `same-origin` or `none` (typed by the user), or when Origin
 * names another origin than the Host it was sent to. `same-site` is refused too: a page on
 * another port of localhost is the same site. Clients that are not browsers (curl, services)
 * send neither header and pass.
 *
 * DNS rebinding: a page's own host name re-pointed at 127.0.0.1 makes kafboy the page's own
 * origin, so every request, reads included, passes the checks above; but the Host header still
 * carries that name. Without a token, kafboy answers only Host names that no one can re-point:
 * IP literals, `localhost` and `*.localhost` (RFC 6761: loopback only), and the names the
 * operator lists (`allowedHosts`). With a token, a rebound page has no token to send (nor the
 * session cookie, kept by the browser for kafboy's own name), so any Host is accepted.
 */
export interface RequestGuardOptions {
  /** Host names (without port) accepted besides IP literals and localhost; case-insensitive. */
  allowedHosts?: readonly string[];
  /** Whether every route needs the token: then the Host is not checked (see above). */
  tokenRequired: boolean;
}

/** Methods that only read: a cross-site page can send them but cannot read the answer. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Sec-Fetch-Site values of requests a page on another origin did not make. */
const OWN_FETCH_SITES = new Set(['same-origin', 'none']);

export function createRequestGuard(options: RequestGuardOptions): (req: IncomingMessage) => void {
  const allowedHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
  return (req) => {
    const host = req.headers.host ?? '';
    if (!options.tokenRequired && !rebindingProof(hostName(host), allowedHosts)) {
      throw new HttpError(
        403,
        'ERR_HOST_FORBIDDEN',
        `Host "${host}" is not accepted without a token: use an IP address or localhost, or list the name ` +
          'with --allowed-hosts (EKAF_ALLOWED_HOSTS), or set --auth-token',
      );
    }
    if (SAFE_METHODS.has(req.method ?? 'GET')) return;
    const site = header(req, 'sec-fetch-site');
    if (site !== undefined && !OWN_FETCH_SITES.has(site.toLowerCase())) {
      throw crossSite(`Sec-Fetch-Site: ${site}`);
    }
    const origin = header(req, 'origin');
    if (origin !== undefined && originHost(origin) !== host.toLowerCase()) {
      throw crossSite(`Origin: ${origin}`);
    }
  };
}

function crossSite(what: string): HttpError {
  return new HttpError(
    403,
    'ERR_CROSS_SITE',
    `refused a request from a page of another origin (${what}): kafboy does not take writes from other sites`,
  );
}

/** A header sent once, else undefined (a repeated one counts as absent only if never sent). */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The host name of a Host header, lower case, without port or IPv6 brackets. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end === -1 ? lower : lower.slice(1, end);
  }
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** Whether the name cannot be made to resolve elsewhere by whoever controls a DNS zone. */
function rebindingProof(name: string, allowedHosts: ReadonlySet<string>): boolean {
  if (name === '') return false;
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return isIP(bare) !== 0 || bare === 'localhost' || bare.endsWith('.localhost') || allowedHosts.has(bare);
}

/** `host[:port]` of an Origin header, lower case; null for an opaque origin ("null"). */
function originHost(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.host === '' ? null : url.host.toLowerCase();
  } catch {
    return null;
  }
}
