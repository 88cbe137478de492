import { EkafError, type EkafErrorCode } from '../errors.js';

/**
 * Errors as the gateway answers them: an HTTP status, a stable `code` for clients to switch on
 * and a human message, sent as `{ "error": { "code", "message" } }`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. `Allow` for 405 or `Retry-After` for 503. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Every ekaf error code and the status it is answered with, in one place. A `Record` over the
 * union, so that a new code in src/errors.ts does not compile until it is given a status here.
 *
 * - 4xx: the request itself is wrong and retrying it unchanged will fail again.
 * - 503: the producer cannot take the records now (buffer full, shutting down); nothing of the
 *   request was accepted, so retrying is safe. Sent with `Retry-After`.
 * - 502 / 504: the records were accepted but Kafka refused them or did not answer in time.
 * - 500: a fault of ours.
 */
const STATUS_BY_CODE: Record<EkafErrorCode, number> = {
  ERR_CONFIG: 400,
  ERR_INVALID_RECORD: 400,
  ERR_RECORD_TOO_LARGE: 413,
  ERR_BUFFER_FULL: 503,
  ERR_ABORTED: 503,
  ERR_PRODUCER_CLOSED: 503,
  ERR_DELIVERY_TIMEOUT: 504,
  ERR_REQUEST_TIMEOUT: 504,
  ERR_KAFKA: 502,
  ERR_CONNECTION: 502,
  ERR_CONNECTION_CLOSED: 502,
  ERR_TLS: 502,
  ERR_SASL_AUTHENTICATION: 502,
  ERR_UNSUPPORTED_VERSION: 502,
  ERR_RESPONSE_TOO_LARGE: 502,
  ERR_DECODE: 502,
  ERR_ENCODE: 500,
  ERR_TOO_MANY_IN_FLIGHT: 500,
  // The spool's disk failed (ENOSPC, EIO): nothing of the request was stored.
  ERR_SPOOL: 507,
  // Only at startup (a second producer on one spool directory); never from a request.
  ERR_SPOOL_LOCKED: 500,
  // Transactions (POST /tx/batch): the request's transaction did not commit, nothing of it is
  // visible to read_committed readers. A fenced or broken producer is the gateway's fault (a
  // second process with the same transactional id), the others are Kafka's answer.
  ERR_PRODUCER_FENCED: 500,
  ERR_TRANSACTION_FATAL: 500,
  ERR_TRANSACTION_ABORTABLE: 502,
  ERR_TRANSACTION_ABORTED: 502,
  ERR_INVALID_TXN_STATE: 409,
  ERR_TRANSACTION_TIMEOUT: 504,
};

/** How long a client should wait before retrying a 503: the buffer drains in well under a second. */
export const RETRY_AFTER_SECONDS = '1';

export function statusForCode(code: EkafErrorCode): number {
  return STATUS_BY_CODE[code];
}

/**
 * Turns anything thrown by a handler into an HttpError. Errors that are neither ours nor
 * ekaf's are bugs: their message may expose internals, so the client gets a generic one and
 * `internal` is set for the caller to log.
 */
export function toHttpError(error: unknown): { error: HttpError; internal: boolean } {
  if (error instanceof HttpError) return { error, internal: false };
  if (error instanceof EkafError) {
    const status = statusForCode(error.code);
    const headers: Record<string, string> = status === 503 ? { 'Retry-After': RETRY_AFTER_SECONDS } : {};
    return { error: new HttpError(status, error.code, error.message, headers), internal: status === 500 };
  }
  return {
    error: new HttpError(500, 'ERR_INTERNAL', 'internal error (see the gateway log)'),
    internal: true,
  };
}
