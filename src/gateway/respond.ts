import type { ServerResponse } from 'node:http';
import type { HttpError } from './errors.js';

/** Sends a JSON body with its length; `headers` are added to the response's. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    // Produce answers and actor snapshots are never the same twice.
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** `{ "error": { "code", "message" } }`, the one error shape of every route. */
export function sendError(res: ServerResponse, error: HttpError): void {
  // A response already under way (an SSE stream) cannot change its status: end it instead.
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, error.headers);
}
