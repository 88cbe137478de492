import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, TopicSettings } from '../config.js';
import type { Producer } from '../producer.js';
import { createAuthenticator } from './auth.js';
import { readBody } from './body.js';
import { createRequestGuard } from './request-guard.js';
import { HttpError, toHttpError } from './errors.js';
import { readiness } from './health.js';
import { LiveSeries } from './live-series.js';
import { TransitionLog } from './transition-log.js';
import { GatewayMetrics } from './metrics.js';
import { produce, type ProduceRoute } from './produce.js';
import {
  mediaTypeOf,
  parseJsonBody,
  parseRecords,
  parseTopicRecords,
  topicRecordsMediaTypeOf,
} from './records.js';
import { sendError, sendJson } from './respond.js';
import { matchRoute, type Route } from './routes.js';
import { HEARTBEAT_MS, streamActors } from './sse.js';
import { createTopicCheck, TopicLimit } from './topics.js';
import { TransactionLane, type GatewayTransactions } from './transactions.js';

/**
 * kafboy, ekaf's HTTP gateway (named after the Erlang ekaf's companion): produce to Kafka over
 * HTTP, plus health, readiness, Prometheus metrics and a live view of the producer's actors.
 * node:http only; each concern lives in its own module of src/gateway/.
 */

export interface GatewayOptions {
  producer: Producer;
  /** Default 8080; 0 picks a free port (see `Gateway.port`). */
  port?: number;
  /** Default '127.0.0.1': listening on every interface is a deliberate choice ('0.0.0.0'). */
  host?: string;
  /**
   * When set, every route but `GET /healthz` needs `Authorization: Bearer <token>`; a browser
   * opens `/?access_token=<token>` once and gets a session cookie for the visualizer (auth.ts).
   */
  authToken?: string;
  /** How long the visualizer's session cookie lasts, in ms. Default 12 hours. */
  sessionMaxAgeMs?: number;
  /**
   * Host names (no port) the gateway answers to without a token, besides IP addresses and
   * localhost: a name not listed may be an attacker's re-pointed at this machine (DNS
   * rebinding; see request-guard.ts). Ignored with `authToken`. Default: none.
   */
  allowedHosts?: string[];
  /** Largest request body, in bytes. Default 1 MiB; larger ones get 413. */
  maxBodyBytes?: number;
  /**
   * How long a sync produce may wait for its acknowledgements before the gateway answers 504
   * (the records stay accepted), in ms; also the time a client has to send a whole request
   * (node's `server.requestTimeout`). Default 30 000.
   */
  requestTimeoutMs?: number;
  /** How long a client has to send the request headers, in ms. Default 10 000. */
  headersTimeoutMs?: number;
  /**
   * How long a client may take none of its answer once it is written, in ms; then it is
   * disconnected, and the memory its answer held is freed (80 clients that never read 5.4 MB
   * answers held 1.6 GB). A client that reads, however slowly, is not. Default 10 000.
   */
  responseTimeoutMs?: number;
  /** Connections open at once; more are closed as they arrive. Default 1 024. */
  maxConnections?: number;
  /** Topics this gateway may write to (and configure); others get 403. Default: any topic. */
  allowTopics?: string[];
  /**
   * Most distinct topics the gateway writes or configures (each costs the producer actors for
   * good); a new one past it gets 403 ERR_TOO_MANY_TOPICS. Default 100 (ignored with
   * allowTopics, which bounds them already).
   */
  maxTopics?: number;
  /**
   * Topics resolved at start, so that the producer fetches metadata and connects before the
   * first produce and `/readyz` can turn ready (ekaf's metadata is lazy). Default `allowTopics`.
   * Brokers that auto-create topics create these.
   */
  warmTopics?: string[];
  /**
   * Turns on `POST /tx/batch` (without it the route answers 501 ERR_TRANSACTIONS_DISABLED): the
   * gateway makes a transactional producer with `createProducer(transactionalId)` and runs each
   * request's records as one transaction. One transactional id per process.
   */
  transactions?: GatewayTransactions;
  /** Where the gateway logs; silent by default. */
  logger?: Logger;
  /** Heartbeat period of `/api/actors/stream`, in ms. Default 15 000. */
  sseHeartbeatMs?: number;
  /**
   * Live streams (`/api/actors/stream`) open at once; one more gets 503 ERR_TOO_MANY_STREAMS.
   * Each holds a connection and a listener on the producer. Default 32.
   */
  maxStreams?: number;
  /**
   * More routes (the visualizer's page and assets): called for a request no gateway route
   * matches, after the token check; returns true if it answered the request.
   */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
}

export interface Gateway {
  /** `http://host:port`, without a trailing slash. */
  url: string;
  port: number;
  server: http.Server;
  /** Stops accepting connections, lets requests in flight finish, ends live streams. */
  close(): Promise<void>;
}

export const GATEWAY_DEFAULTS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  maxBodyBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  maxStreams: 32,
  maxTopics: 100,
  responseTimeoutMs: 10_000,
  maxConnections: 1024,
  sessionMaxAgeMs: 12 * 60 * 60 * 1000,
});

const SILENT: Logger = { debug: noop, info: noop, warn: noop, error: noop };

const TOPIC = '([^/]+)';

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { producer } = options;
  const logger = options.logger ?? SILENT;
  const maxBodyBytes = options.maxBodyBytes ?? GATEWAY_DEFAULTS.maxBodyBytes;
  const requestTimeoutMs = options.requestTimeoutMs ?? GATEWAY_DEFAULTS.requestTimeoutMs;
  const headersTimeoutMs = options.headersTimeoutMs ?? GATEWAY_DEFAULTS.headersTimeoutMs;
  const responseTimeoutMs = options.responseTimeoutMs ?? GATEWAY_DEFAULTS.responseTimeoutMs;
  const auth =
    options.authToken === undefined
      ? undefined
      : createAuthenticator({
          token: options.authToken,
          sessionMaxAgeMs: options.sessionMaxAgeMs ?? GATEWAY_DEFAULTS.sessionMaxAgeMs,
        });
  const guard = createRequestGuard({
    tokenRequired: options.authToken !== undefined,
    ...(options.allowedHosts === undefined ? {} : { allowedHosts: options.allowedHosts }),
  });
  const checkTopic = createTopicCheck(options.allowTopics);
  const topicLimit = new TopicLimit(
    options.allowTopics === undefined ? (options.maxTopics ?? GATEWAY_DEFAULTS.maxTopics) : Infinity,
  );
  // Made at start: counted first (more of them than maxTopics is a configuration error).
  const warmTopics = options.warmTopics ?? options.allowTopics ?? [];
  for (const topic of warmTopics) topicLimit.admit(topic);
  const metrics = new GatewayMetrics(producer);
  // The visualizer's charts and timeline; the health of /readyz and /metrics.
  const series = new LiveSeries(producer);
  series.start();
  metrics.healthOf(() => series.health());
  const transitions = new TransitionLog(producer);
  const deps = { producer, metrics, logger, requestTimeoutMs };
  const transactions =
    options.transactions === undefined
      ? undefined
      : new TransactionLane(options.transactions, { metrics, logger, requestTimeoutMs });
  /** Live SSE streams, ended by close(). */
  const streams = new Set<() => void>();
  /** Responses not finished yet: close() marks them `Connection: close`. */
  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;

  const produceRoute = (route: ProduceRoute): Route['handle'] => {
    return async ({ req, res, url, params }) => {
      const topic = params[0] ?? '';
      checkTopic(topic);
      // Refuse what we cannot parse before reading a byte of it.
      const type = mediaTypeOf(req);
      const records = parseRecords(type, await readBody(req, maxBodyBytes), req, url);
      topicLimit.admit(topic);
      await produce(deps, route, topic, records, res);
    };
  };

  const routes: Route[] = [
    { method: 'POST', pattern: re(`/sync/${TOPIC}`), name: 'sync', handle: produceRoute('sync') },
    { method: 'POST', pattern: re(`/async/${TOPIC}`), name: 'async', handle: produceRoute('async') },
    {
      method: 'POST',
      pattern: re(`/batch/sync/${TOPIC}`),
      name: 'batch/sync',
      handle: produceRoute('batch/sync'),
    },
    {
      method: 'POST',
      pattern: re(`/batch/async/${TOPIC}`),
      name: 'batch/async',
      handle: produceRoute('batch/async'),
    },
    {
      method: 'POST',
      pattern: re('/tx/batch'),
      name: 'tx/batch',
      handle: async ({ req, res }) => {
        if (transactions === undefined) {
          throw new HttpError(
            501,
            'ERR_TRANSACTIONS_DISABLED',
            'POST /tx/batch needs a transactional producer: start kafboy with --transactional-id <prefix> ' +
              '(EKAF_TRANSACTIONAL_ID), or give serve() / startGateway() the transactions option',
          );
        }
        const type = topicRecordsMediaTypeOf(req);
        const records = parseTopicRecords(type, await readBody(req, maxBodyBytes));
        const topics = new Set(records.map((r) => r.topic));
        for (const topic of topics) checkTopic(topic);
        for (const topic of topics) topicLimit.admit(topic);
        const reports = await transactions.run(records, res);
        sendJson(res, 200, { reports });
      },
    },
    {
      method: 'GET',
      pattern: re('/healthz'),
      name: 'healthz',
      handle: ({ res }) => {
        sendJson(res, 200, { status: 'ok' });
      },
    },
    {
      method: 'GET',
      pattern: re('/readyz'),
      name: 'readyz',
      handle: ({ res }) => {
        const state = readiness(producer);
        // The error's usual shape, and the health (ok / degraded / down, and why) beside it.
        if (!state.ready) {
          sendJson(res, 503, {
            error: { code: 'ERR_NOT_READY', message: state.reason },
            health: series.health(),
          });
          return;
        }
        sendJson(res, 200, { status: 'ready', brokersReady: state.brokersReady, health: series.health() });
      },
    },
    {
      method: 'GET',
      pattern: re('/api/series'),
      name: 'series',
      handle: ({ res, url }) => {
        const since = Number(url.searchParams.get('since') ?? 0);
        if (!Number.isFinite(since))
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'since must be a number (ms since the epoch)');
        sendJson(res, 200, { intervalMs: series.intervalMs, samples: series.since(since) });
      },
    },
    {
      method: 'GET',
      pattern: re('/api/transitions'),
      name: 'transitions',
      handle: ({ res }) => {
        sendJson(res, 200, transitions.list());
      },
    },
    {
      method: 'GET',
      pattern: re('/metrics'),
      name: 'metrics',
      handle: async ({ res }) => {
        const text = await metrics.render();
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(text);
      },
    },
    {
      method: 'GET',
      pattern: re('/api/actors'),
      name: 'api/actors',
      handle: ({ res }) => {
        sendJson(res, 200, producer.inspect());
      },
    },
    {
      method: 'GET',
      pattern: re('/api/actors/stream'),
      name: 'api/actors/stream',
      handle: ({ req, res }) => {
        if (req.method === 'HEAD') {
          res.writeHead(200, {
            'Content-Type': 'text/event-stream; charset=utf-8',
            'Cache-Control': 'no-store',
          });
          res.end();
          return;
        }
        const maxStreams = options.maxStreams ?? GATEWAY_DEFAULTS.maxStreams;
        if (streams.size >= maxStreams) {
          throw new HttpError(
            503,
            'ERR_TOO_MANY_STREAMS',
            `${streams.size} live streams are open, the most this gateway serves (maxStreams)`,
            { 'Retry-After': '5' },
          );
        }
        const end = streamActors(producer, res, options.sseHeartbeatMs ?? HEARTBEAT_MS);
        streams.add(end);
        res.once('close', () => streams.delete(end));
      },
    },
    {
      method: 'PUT',
      pattern: re(`/api/topics/${TOPIC}/config`),
      name: 'api/topics/config',
      handle: async ({ req, res, params }) => {
        const topic = params[0] ?? '';
        checkTopic(topic);
        if (mediaTypeOf(req) !== 'application/json') {
          throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'send the settings as application/json');
        }
        const settings = parseJsonBody(await readBody(req, maxBodyBytes));
        if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) {
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body must be a JSON object of topic settings');
        }
        // A bad value throws ConfigError, which the error table answers with 400 and its message;
        // the producer checks before it makes the topic, and so does the limit.
        const isNew = topicLimit.admit(topic);
        let result: TopicSettings;
        try {
          result = producer.setTopicConfig(topic, settings);
        } catch (error) {
          if (isNew) topicLimit.forget(topic);
          throw error;
        }
        sendJson(res, 200, publicSettings(result));
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // The Host header is the client's to choose: only the path and query are used.
    const url = new URL(req.url ?? '/', 'http://kafboy.invalid');
    const method = req.method ?? 'GET';
    let routeName = 'none';
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      metrics.countRequest(routeName, res.statusCode);
      // Once closing, a connection whose last response is done is not kept alive.
      if (closing !== undefined) server.closeIdleConnections();
    });
    if (closing !== undefined) res.setHeader('Connection', 'close');
    // Every answer is what its Content-Type says: a browser must not guess (an error's JSON, a
    // produced value echoed back, read as HTML).
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // HEAD is GET without the body (node's response drops what a HEAD answer writes).
    const asMethod = method === 'HEAD' ? 'GET' : method;
    try {
      // Load balancers probe /healthz without credentials and under any name; everything else
      // must come from no other site's page (request-guard.ts) and carry the token.
      if (!(asMethod === 'GET' && url.pathname === '/healthz')) {
        guard(req);
        if (auth !== undefined) {
          if (auth.enterPage(req, res, url)) {
            routeName = 'page-entry';
            return;
          }
          auth.check(req, url);
        }
      }
      const match = matchRoute(routes, asMethod, url.pathname);
      if (match.kind === 'route') {
        routeName = match.route.name;
        await match.route.handle({ req, res, url, params: match.params });
      } else if (match.kind === 'wrong-method') {
        routeName = 'wrong-method';
        throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`, {
          Allow: match.allow.join(', '),
        });
      } else if (options.extraRoutes !== undefined && (await options.extraRoutes(req, res, url))) {
        routeName = 'extra';
      } else {
        throw new HttpError(404, 'ERR_NOT_FOUND', `no route for ${method} ${url.pathname}`);
      }
    } catch (thrown) {
      const { error, internal } = toHttpError(thrown);
      if (internal) logger.error(`kafboy: ${method} ${url.pathname} failed`, { error: thrown });
      // The client may be gone (it hung up mid-request): nobody to answer.
      if (!res.destroyed && !res.writableEnded) sendError(res, error);
    }
    dropIfUnread(res, responseTimeoutMs);
  };

  const server = http.createServer(
    {
      requestTimeout: requestTimeoutMs,
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(headersTimeoutMs, requestTimeoutMs),
      // How often node looks for connections past those timeouts; its default (30 s) would
      // let a slow client keep a connection far longer than headersTimeoutMs.
      connectionsCheckingInterval: Math.min(1000, headersTimeoutMs),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.maxConnections = options.maxConnections ?? GATEWAY_DEFAULTS.maxConnections;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? GATEWAY_DEFAULTS.port, options.host ?? GATEWAY_DEFAULTS.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    metrics.close();
    series.stop();
    transitions.stop();
    await transactions?.close();
    throw error;
  }
  // Errors after start (EMFILE on accept, …) are logged, not thrown into the void. Malformed or
  // too slow requests ('clientError') keep node's own answers: 400, 408, 431.
  server.on('error', (error) => {
    logger.error(`kafboy: server error: ${error.message}`, { error });
  });
  warmUp(producer, warmTopics, logger);
  transactions?.start();

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.info(`kafboy: listening on http://${host}:${address.port}`);

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => {
        metrics.close();
        series.stop();
        transitions.stop();
        // The transactional producer is the gateway's own; every request has its answer by now.
        void (transactions?.close() ?? Promise.resolve()).then(resolve);
      });
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      for (const end of streams) end();
      server.closeIdleConnections();
    });
    return closing;
  };

  return { url: `http://${host}:${address.port}`, port: address.port, server, close };
}

/**
 * Disconnects a client that takes none of its answer for `timeoutMs` once it is written: no
 * byte of it went to the kernel in a whole period (a client that reads slowly keeps going). A
 * stream, never ended, is bounded by its backlog limit instead (sse.ts).
 */
function dropIfUnread(res: ServerResponse, timeoutMs: number): void {
  const socket = res.socket;
  if (socket === null || !res.writableEnded || res.writableFinished || res.destroyed) return;
  let written = socket.bytesWritten;
  const timer = setInterval(() => {
    if (socket.bytesWritten === written) res.destroy();
    written = socket.bytesWritten;
  }, timeoutMs);
  timer.unref();
  const done = (): void => {
    clearInterval(timer);
  };
  res.once('finish', done);
  res.once('close', done);
}

/**
 * Resolves topics ahead of the first produce (`setTopicConfig(topic, {})` changes nothing but
 * creates the topic's actor, which fetches metadata and so connects the brokers).
 */
function warmUp(producer: Producer, topics: readonly string[], logger: Logger): void {
  for (const topic of topics) {
    try {
      producer.setTopicConfig(topic, {});
    } catch (error) {
      logger.warn(`kafboy: cannot warm up topic "${topic}": ${(error as Error).message}`);
    }
  }
}

/** Settings as JSON: a partitioner function (set in code) shows as 'custom'. */
function publicSettings(settings: TopicSettings): Record<string, unknown> {
  return {
    ...settings,
    partitioner: typeof settings.partitioner === 'function' ? 'custom' : settings.partitioner,
  };
}

function re(path: string): RegExp {
  return new RegExp(`^${path}$`);
}

function noop(): void {
  // silent logger
}
