import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * Bearer-token check. The token is compared in constant time so that response timing does not
 * reveal how much of a guess was right. timingSafeEqual needs buffers of equal length and
 * comparing lengths first would leak the token's length, so both sides are hashed to SHA-256
 * first: equal-length digests, equal exactly when the tokens are.
 */
export function createAuthCheck(token: string): (req: IncomingMessage, url: URL) => void {
  const expected = digest(token);
  return (req, url) => {
    const given = bearerToken(req, url);
    if (given === undefined) {
      throw new HttpError(
        401,
        'ERR_UNAUTHORIZED',
        'missing credentials: send "Authorization: Bearer <token>"',
        {
          'WWW-Authenticate': 'Bearer realm="kafboy"',
        },
      );
    }
    if (!timingSafeEqual(digest(given), expected)) {
      throw new HttpError(401, 'ERR_UNAUTHORIZED', 'wrong token', {
        'WWW-Authenticate': 'Bearer realm="kafboy", error="invalid_token"',
      });
    }
  };
}

/**
 * The token from `Authorization: Bearer <token>`, or else from `?access_token=` (RFC 6750
 * §2.3): browsers' EventSource cannot set headers, so the visualizer's live stream needs it.
 */
function bearerToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? '';
  }
  return url.searchParams.get('access_token') ?? undefined;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
