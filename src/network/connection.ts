import net from 'node:net';
import type * as Tls from 'node:tls';
import { EventEmitter } from 'eventemitter3';
import {
  ConnectionError,
  DecodeError,
  EkafError,
  EncodeError,
  RequestTimeoutError,
  TlsError,
} from '../errors.js';
import { responseHeaderVersion, type Api } from '../protocol/api.js';
import { readResponseHeader } from '../protocol/headers.js';
import { Reader } from '../protocol/reader.js';
import { FrameReader } from './frame-reader.js';
import { encodeRequestChunks, writeChunks } from './request-frame.js';
import { lazyBuiltin } from '../lazy-builtin.js';

const tls = lazyBuiltin('node:tls') as () => typeof Tls;

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Sent in every request header; brokers log it and use it for quotas. */
  clientId: string;
  /** Requests sent and not yet answered, at most. `send()` beyond it rejects (no hidden queue). */
  maxInFlightRequests?: number;
  /** How long a request may wait for its response before the connection is declared dead. */
  requestTimeoutMs?: number;
  /** How long the TCP connect may take. */
  connectTimeoutMs?: number;
  /** Largest response frame accepted; a bigger one closes the connection (a lying or hostile peer). */
  maxResponseBytes?: number;
  /** TLS (node:tls options); null or absent for plaintext. */
  tls?: TlsOptions | null;
}

/**
 * TLS settings, with node:tls's names. `servername` (SNI) defaults to the broker's host name
 * (not to an IP address, which SNI does not allow); certificates are verified unless
 * `rejectUnauthorized` is false.
 */
export interface TlsOptions {
  /** Trusted CA certificates (PEM); Node's bundled roots when absent. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** Client certificate and key (PEM), for brokers that authenticate clients by certificate. */
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

export const CONNECTION_DEFAULTS = {
  maxInFlightRequests: 32,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  tls: null,
} as const;

/** Bound of the set of acks=0 correlation ids remembered in case a broker answers them anyway. */
const MAX_UNANSWERED_TRACKED = 1024;

interface PendingRequest {
  correlationId: number;
  api: Api<unknown, unknown>;
  version: number;
  resolve: (response: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  /** A raw exchange (sendRaw): the answer is the next frame as it is, with no header. */
  raw?: true;
}

export interface ConnectionEvents {
  /** The socket is gone; `error` says why (undefined after a local `close()`). */
  close: (error: EkafError | undefined) => void;
}

/**
 * One TCP connection to one broker: 4-byte size framing, correlation ids, pipelined requests.
 *
 * Kafka answers the requests of a connection in order, so pending requests form a FIFO queue;
 * a response whose correlation id is not the oldest pending one means the stream is out of sync
 * and the connection is closed. Any failure (socket error, timeout, bad frame) closes the
 * connection and rejects every pending request with a typed error: callers retry on a new one.
 */
export class Connection extends EventEmitter<ConnectionEvents> {
  readonly host: string;
  readonly port: number;
  /** `host:port`, used in every error message. */
  readonly address: string;
  private readonly options: Required<ConnectionOptions>;
  private socket: net.Socket | null = null;
  private readonly pending: PendingRequest[] = [];
  private nextCorrelationId = 1;
  /**
   * Correlation ids of requests sent without expecting a response (Produce with acks=0). Real
   * brokers never answer them, but librdkafka's mock does; such answers are recognised and
   * dropped. Pruned as later responses arrive (responses come in order) and capped.
   */
  private readonly unanswered = new Set<number>();
  private closed = false;
  /** Why the connection closed; undefined while open or after a local `close()`. */
  private closeReason: EkafError | undefined;

  /** Cuts the bytes the broker sends into frames. */
  private readonly frames: FrameReader;
  /** acks=0 requests not yet handed to the kernel; they count as in flight. */
  private unflushedWrites = 0;

  constructor(options: ConnectionOptions) {
    super();
    this.options = { ...CONNECTION_DEFAULTS, ...options };
    this.host = options.host;
    this.port = options.port;
    this.address = `${options.host}:${options.port}`;
    this.frames = new FrameReader({
      address: this.address,
      maxResponseBytes: this.options.maxResponseBytes,
      plaintext: this.options.tls === null,
      rawFrameNext: () => this.pending[0]?.raw === true,
      onFrame: (frame) => {
        this.onFrame(frame);
      },
    });
  }

  get inFlight(): number {
    return this.pending.length + this.unflushedWrites;
  }

  /** Whether another request may be sent now without exceeding `maxInFlightRequests`. */
  get hasCapacity(): boolean {
    return this.inFlight < this.options.maxInFlightRequests;
  }

  get isOpen(): boolean {
    return this.socket !== null && !this.closed;
  }

  /** Opens the TCP connection. Rejects with a ConnectionError on refusal, timeout or close(). */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.socket !== null) {
      return Promise.reject(new ConnectionError('connect() called twice', this.address));
    }
    return new Promise<void>((resolve, reject) => {
      const secure = this.options.tls;
      const socket =
        secure === null
          ? net.connect({ host: this.host, port: this.port, noDelay: true })
          : tls().connect({
              host: this.host,
              port: this.port,
              ...secure,
              ca: secure.ca as Tls.ConnectionOptions['ca'],
              servername: secure.servername ?? (net.isIP(this.host) === 0 ? this.host : undefined),
            });
      this.socket = socket;
      socket.setNoDelay(true);
      // An open connection alone does not keep Node running: its requests' timers do, while
      // they wait for answers (runtime/keep-alive.ts).
      socket.unref();
      // With TLS, a failure after the TCP connect and before the handshake completes is the
      // handshake's: untrusted or misnamed certificate, or a broker that does not speak TLS.
      let tcpConnected = false;
      let established = false;
      socket.once('connect', () => {
        tcpConnected = true;
      });
      const timer = setTimeout(() => {
        this.fail(
          new ConnectionError(`connect timed out after ${this.options.connectTimeoutMs} ms`, this.address),
        );
      }, this.options.connectTimeoutMs);
      // Whatever ends the connection first (error, timeout, close() or the broker) also settles
      // the connect promise with the reason it ended; once connected, that rejection is a no-op.
      this.once('close', () => {
        clearTimeout(timer);
        reject(this.closedError());
      });
      socket.once(secure === null ? 'connect' : 'secureConnect', () => {
        established = true;
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', (cause: NodeJS.ErrnoException) => {
        if (secure !== null && tcpConnected && !established) {
          this.fail(new TlsError(this.address, cause.code ?? 'TLS', cause.message, cause));
          return;
        }
        this.fail(new ConnectionError(`socket error: ${cause.message}`, this.address, { cause }));
      });
      socket.on('close', () => {
        if (secure !== null && tcpConnected && !established) {
          this.fail(
            new TlsError(this.address, 'ECONNRESET', 'the broker closed the connection during the handshake'),
          );
          return;
        }
        this.fail(
          new ConnectionError(
            this.pending.length > 0
              ? `connection closed by the broker with ${this.pending.length} requests pending`
              : 'connection closed by the broker',
            this.address,
            { code: 'ERR_CONNECTION_CLOSED' },
          ),
        );
      });
      socket.on('data', (chunk: Buffer) => {
        this.onData(chunk);
      });
    });
  }

  /** Sends a request and resolves with the decoded response. */
  send<Request, Response>(api: Api<Request, Response>, version: number, request: Request): Promise<Response> {
    const prepared = this.prepare(api, version, request);
    if (prepared instanceof Error) return Promise.reject(prepared);
    const { socket, correlationId, frame } = prepared;
    return new Promise<Response>((resolve, reject) => {
      const pending: PendingRequest = {
        correlationId,
        api,
        version,
        resolve: resolve as (response: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.timeOut(pending);
        }, this.options.requestTimeoutMs),
      };
      this.pending.push(pending);
      writeChunks(socket, frame);
    });
  }

  /**
   * Sends a request the broker does not answer (Produce with acks=0). Resolves once the bytes
   * are handed to the kernel; until then the request counts against `maxInFlightRequests`, so a
   * caller that keeps sending cannot grow the socket's write buffer without bound.
   */
  sendWithoutResponse<Request>(api: Api<Request, unknown>, version: number, request: Request): Promise<void> {
    const prepared = this.prepare(api, version, request);
    if (prepared instanceof Error) return Promise.reject(prepared);
    const { socket, correlationId, frame } = prepared;
    this.unanswered.add(correlationId);
    if (this.unanswered.size > MAX_UNANSWERED_TRACKED) {
      this.unanswered.delete(this.unanswered.values().next().value as number);
    }
    this.unflushedWrites++;
    return new Promise<void>((resolve, reject) => {
      // A peer that stops reading never lets the write finish: give up as for a lost response.
      const timer = setTimeout(() => {
        this.fail(new RequestTimeoutError(this.address, api.name, this.options.requestTimeoutMs));
      }, this.options.requestTimeoutMs);
      writeChunks(socket, frame, (error) => {
        clearTimeout(timer);
        this.unflushedWrites--;
        if (error)
          reject(
            this.closed
              ? this.closedError()
              : new ConnectionError(`write failed: ${error.message}`, this.address, { cause: error }),
          );
        else resolve();
      });
    });
  }

  /**
   * Sends bytes framed by their size alone and resolves with the next frame as it comes: the
   * SASL tokens that follow a SaslHandshake v0 (brokers before Kafka 1.0), outside Kafka's
   * request framing. Only with nothing else in flight. `api` names the exchange in a timeout.
   */
  sendRaw(api: Api<unknown, unknown>, bytes: Uint8Array): Promise<Buffer> {
    const socket = this.socket;
    if (socket === null || this.closed) return Promise.reject(this.closedError());
    if (this.inFlight > 0) {
      return Promise.reject(
        new EkafError('ERR_TOO_MANY_IN_FLIGHT', `${this.address}: a raw exchange needs an idle connection`),
      );
    }
    return new Promise<Buffer>((resolve, reject) => {
      const pending: PendingRequest = {
        correlationId: -1,
        api,
        version: 0,
        resolve: resolve as (response: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.timeOut(pending);
        }, this.options.requestTimeoutMs),
        raw: true,
      };
      this.pending.push(pending);
      const size = Buffer.alloc(4);
      size.writeInt32BE(bytes.length, 0);
      writeChunks(socket, [size, bytes]);
    });
  }

  /** Closes the connection; pending requests are rejected. Idempotent. */
  close(): void {
    this.fail(undefined);
  }

  /** Keeps snapshots and logs that include a connection serialisable. */
  toJSON(): { address: string; open: boolean; inFlight: number } {
    return { address: this.address, open: this.isOpen, inFlight: this.inFlight };
  }

  /**
   * Checks that a request may be sent now and encodes it; returns the error otherwise, never
   * throws. A value the encoder cannot write (Buffer's RangeError for an int32 out of range, a
   * string too long for its length field) is an EncodeError: the request is not sent, nothing
   * is written, and the connection stays usable, since the failure is the request's, not the
   * stream's. Rethrown, it escaped the senders' promise chains and ended the process.
   */
  private prepare<Request>(
    api: Api<Request, unknown>,
    version: number,
    request: Request,
  ): { socket: net.Socket; correlationId: number; frame: Uint8Array[] } | EkafError {
    const socket = this.socket;
    if (socket === null || this.closed) return this.closedError();
    if (!this.hasCapacity) {
      return new EkafError(
        'ERR_TOO_MANY_IN_FLIGHT',
        `${this.address}: ${this.inFlight} requests already in flight (maxInFlightRequests)`,
      );
    }
    const correlationId = this.nextCorrelationId;
    try {
      const frame = encodeRequestChunks(api, version, correlationId, this.options.clientId, request);
      this.nextCorrelationId = (correlationId + 1) & 0x7fffffff;
      return { socket, correlationId, frame };
    } catch (error) {
      if (error instanceof EkafError) return error;
      return new EncodeError(
        `${this.address}: cannot encode ${api.name} v${version} request: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }

  /** The timed-out request gets the timeout; the others a connection error caused by it. */
  private timeOut(request: PendingRequest): void {
    const index = this.pending.indexOf(request);
    if (index === -1) return;
    this.pending.splice(index, 1);
    const timeout = new RequestTimeoutError(this.address, request.api.name, this.options.requestTimeoutMs);
    request.reject(timeout);
    this.fail(
      new ConnectionError(`closed after a ${request.api.name} request timed out`, this.address, {
        cause: timeout,
      }),
    );
  }

  /** Why requests cannot be sent: the reason the connection closed, or that it is not open. */
  private closedError(): EkafError {
    return (
      this.closeReason ??
      new ConnectionError(this.closed ? 'connection closed by the client' : 'not connected', this.address, {
        code: 'ERR_CONNECTION_CLOSED',
      })
    );
  }

  /** Bytes from the socket: each whole frame goes to onFrame; a broken stream closes the connection. */
  private onData(chunk: Buffer): void {
    const error = this.frames.push(chunk);
    if (error !== undefined) this.fail(error);
  }

  private onFrame(frame: Buffer): void {
    if (this.unanswered.size > 0 && frame.length >= 4 && this.unanswered.delete(frame.readInt32BE(0))) {
      return; // an answer to a request sent with acks=0
    }
    const request = this.pending.shift();
    if (request === undefined) {
      this.fail(new DecodeError(`${this.address}: response received with no request pending`, 0));
      return;
    }
    clearTimeout(request.timer);
    if (request.raw === true) {
      request.resolve(Buffer.from(frame));
      return;
    }
    let response: unknown;
    try {
      const reader = new Reader(frame);
      const correlationId = readResponseHeader(reader, responseHeaderVersion(request.api, request.version));
      if (correlationId !== request.correlationId) {
        throw new DecodeError(
          `${this.address}: response correlation id ${correlationId}, expected ${request.correlationId}`,
          0,
        );
      }
      // Bytes left after the body are ignored, as the Java client and librdkafka do: brokers
      // (and librdkafka's mock, which adds an empty tag section to Metadata v12) may send more.
      response = request.api.decodeResponse(reader, request.version);
      this.pruneUnanswered(request.correlationId);
    } catch (error) {
      // A frame we cannot decode leaves the stream in an unknown state: this request fails with
      // the decode error, the others with a connection error naming it.
      const decodeError =
        error instanceof EkafError ? error : new DecodeError(`${this.address}: ${String(error)}`, 0);
      request.reject(decodeError);
      this.fail(
        new ConnectionError(`closed after an undecodable ${request.api.name} response`, this.address, {
          cause: decodeError,
        }),
      );
      return;
    }
    request.resolve(response);
  }

  /** Requests sent before `correlationId` have been answered or never will be. */
  private pruneUnanswered(correlationId: number): void {
    for (const id of this.unanswered) {
      if (id > correlationId) break;
      this.unanswered.delete(id);
    }
  }

  /** Tears down the socket once, rejecting every pending request with `error`. */
  private fail(error: EkafError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = error;
    this.socket?.destroy();
    this.frames.stop();
    const reason = this.closedError();
    for (const request of this.pending.splice(0)) {
      clearTimeout(request.timer);
      request.reject(reason);
    }
    this.emit('close', error);
  }
}
