// `ekaf serve`: the HTTP gateway (kafboy) and its live visualizer, in one process or in N
// workers sharing the port (serve-workers.ts). Without brokers it starts the bundled dev
// cluster, so that `ekaf serve` alone gives something to click on.
import { MAX_DURATION_MS } from '../config.js';
import { DevClusterUnavailableError, startDevCluster, type DevCluster } from '../dev-cluster.js';
import { DEV_CLUSTER_PORT, portsTakenNote, TIMESTAMP_NOTE } from './dev-cluster-notes.js';
import { FAILED, OK, UsageError } from './exit-codes.js';
import { err, out } from './output.js';
import { saslFromEnv, tlsSetting } from './security-settings.js';
import { startGateway, type ServeConfig } from './serve-gateway.js';
import { runPrimary } from './serve-workers.js';
import { GATEWAY_DEFAULTS } from '../gateway/server.js';
import { topicNameProblem } from '../gateway/topics.js';
import {
  brokers,
  integer,
  nameList,
  noPositionals,
  parseCommandLine,
  setting,
  type Values,
} from './settings.js';
import { spoolSetting } from './spool-settings.js';

export const SERVE_HELP = `Usage: ekaf serve [options]

Runs the HTTP gateway (kafboy) and the live visualizer at the same URL. Without brokers (no
--brokers, no KAFKA_BROKERS) it starts the bundled dev cluster (3 brokers) with a topic "demo"
of 6 partitions, and prints its bootstrap address. SIGTERM or SIGINT drains and exits 0.

Options (environment variable in brackets):
  -b, --brokers <host:port,...>   Kafka bootstrap brokers [KAFKA_BROKERS]
                                  (default: start the bundled dev cluster)
      --dev-port <n>              Without --brokers: the dev cluster's broker n listens on
                                  n + dev-port - 1 when all are free; 0: ports the kernel picks
                                  [EKAF_DEV_PORT] (default: 9092)
      --client-id <id>            Client id sent to brokers [KAFKA_CLIENT_ID] (default: ekaf)
  -p, --port <port>               Port to listen on, 0 for any free port [EKAF_PORT] (default: 8080)
      --host <address>            Address to listen on [EKAF_HOST] (default: 127.0.0.1)
      --auth-token <token>        Require "Authorization: Bearer <token>" [EKAF_AUTH_TOKEN]
                                  (default: no authentication)
      --allowed-hosts <names>     Host names the gateway answers to without a token, besides
                                  IP addresses and localhost (comma-separated) [EKAF_ALLOWED_HOSTS]
                                  (default: none: a page on another site could re-point its
                                  own name at this machine)
      --allow-topics <topics>     The only topics that may be written or configured
                                  (comma-separated; others get 403) [EKAF_ALLOW_TOPICS]
                                  (default: any topic, at most --max-topics of them)
      --max-topics <n>            Most distinct topics written or configured; one more gets 403
                                  (each holds actors for good) [EKAF_MAX_TOPICS] (default: 100)
      --warm-topics <topics>      Topics resolved at start, so that the brokers are connected
                                  before the first request and /readyz answers 200 (ekaf
                                  connects lazily: without any, /readyz is 503 until a topic is
                                  first used) (comma-separated) [EKAF_WARM_TOPICS] (default: the
                                  --allow-topics; with the dev cluster, "demo")
  -w, --workers <n>               Worker processes sharing the port (node:cluster) [EKAF_WORKERS]
                                  (default: 1, no separate worker process)
      --max-body-bytes <n>        Largest request body accepted [EKAF_MAX_BODY_BYTES]
      --request-timeout-ms <ms>   How long a request may take [EKAF_REQUEST_TIMEOUT_MS]
      --response-timeout-ms <ms>  How long a client may read none of its answer before it is
                                  disconnected [EKAF_RESPONSE_TIMEOUT_MS] (default: 10000)
      --max-connections <n>       Connections open at once [EKAF_MAX_CONNECTIONS] (default: 1024)
      --drain-timeout-ms <ms>     How long shutdown waits for deliveries [EKAF_DRAIN_TIMEOUT_MS]
      --tls                       Connect to the brokers over TLS [KAFKA_TLS=1]
      --tls-ca <file>             Trust this CA (PEM) instead of the default roots; implies --tls
                                  [KAFKA_TLS_CA]
      --spool-dir <dir>           Durable spool: accepted records survive a crash or restart
                                  during a Kafka outage [EKAF_SPOOL_DIR] (default: none); with
                                  --workers, each worker uses <dir>/worker-<n>
      --spool-mode <mode>         downtime or always [EKAF_SPOOL_MODE] (default: downtime)
      --spool-max-bytes <n>       Disk the spool may use [EKAF_SPOOL_MAX_BYTES] (default: 1 GiB)
      --spool-fsync <when>        batch, interval or never [EKAF_SPOOL_FSYNC] (default: interval)
      --transactional-id <prefix> Turns on POST /tx/batch with a transactional producer whose
                                  id is <prefix>-<worker index> (<prefix>-0 without --workers)
                                  [EKAF_TRANSACTIONAL_ID] (default: off). One id per process:
                                  give every gateway host its own prefix
  SASL (environment only, so that the password is not in the process list):
    [KAFKA_SASL_MECHANISM]  PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    [KAFKA_SASL_USERNAME]   [KAFKA_SASL_PASSWORD]
  -h, --help                      Show this help

Examples:
  ekaf serve                                  # dev cluster + gateway on http://127.0.0.1:8080
  KAFKA_BROKERS=kafka:9092 ekaf serve --host 0.0.0.0 --workers 4 --auth-token s3cret
`;

/** The topic the bundled dev cluster starts with, so that the visualizer has partitions to draw. */
const DEMO_TOPIC = { name: 'demo', partitions: 6 };

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('serve', args, {
    brokers: { type: 'string', short: 'b' },
    'dev-port': { type: 'string' },
    'client-id': { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'auth-token': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    'allow-topics': { type: 'string' },
    'max-topics': { type: 'string' },
    'warm-topics': { type: 'string' },
    workers: { type: 'string', short: 'w' },
    'max-body-bytes': { type: 'string' },
    'request-timeout-ms': { type: 'string' },
    'response-timeout-ms': { type: 'string' },
    'max-connections': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    tls: { type: 'boolean' },
    'tls-ca': { type: 'string' },
    'spool-dir': { type: 'string' },
    'spool-mode': { type: 'string' },
    'spool-max-bytes': { type: 'string' },
    'spool-fsync': { type: 'string' },
    'transactional-id': { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(SERVE_HELP);
    return OK;
  }
  noPositionals('serve', positionals);
  const brokerSetting = setting(values, 'brokers', 'KAFKA_BROKERS');
  const clientId = setting(values, 'client-id', 'KAFKA_CLIENT_ID')?.value;
  const host = setting(values, 'host', 'EKAF_HOST')?.value ?? '127.0.0.1';
  const authToken = setting(values, 'auth-token', 'EKAF_AUTH_TOKEN')?.value;
  const transactionalIdPrefix = transactionalIdSetting(values);
  const allowedHosts = nameList(setting(values, 'allowed-hosts', 'EKAF_ALLOWED_HOSTS'), (name) =>
    /^[a-z0-9.-]+$/i.test(name) ? null : `${JSON.stringify(name)} is not a host name (no port, no scheme)`,
  );
  const allowTopics = nameList(setting(values, 'allow-topics', 'EKAF_ALLOW_TOPICS'), topicNameProblem);
  const maxTopics = integer(setting(values, 'max-topics', 'EKAF_MAX_TOPICS'), 1, 1_000_000);
  const warmTopicsSetting = warmTopicsChecked(values, allowTopics, maxTopics);
  const config: Omit<ServeConfig, 'brokers'> = {
    port: integer(setting(values, 'port', 'EKAF_PORT'), 0, 65535) ?? 8080,
    host,
    ...(clientId === undefined ? {} : { clientId }),
    ...(authToken === undefined ? {} : { authToken }),
    ...(allowedHosts === undefined ? {} : { allowedHosts }),
    ...(allowTopics === undefined ? {} : { allowTopics }),
    ...(maxTopics === undefined ? {} : { maxTopics }),
    ...(transactionalIdPrefix === undefined ? {} : { transactionalIdPrefix }),
    maxBodyBytes: integer(
      setting(values, 'max-body-bytes', 'EKAF_MAX_BODY_BYTES'),
      1,
      Number.MAX_SAFE_INTEGER,
    ),
    requestTimeoutMs: integer(
      setting(values, 'request-timeout-ms', 'EKAF_REQUEST_TIMEOUT_MS'),
      1,
      MAX_DURATION_MS,
    ),
    responseTimeoutMs: integer(
      setting(values, 'response-timeout-ms', 'EKAF_RESPONSE_TIMEOUT_MS'),
      1,
      MAX_DURATION_MS,
    ),
    maxConnections: integer(setting(values, 'max-connections', 'EKAF_MAX_CONNECTIONS'), 1, 1_000_000),
    drainTimeoutMs: integer(setting(values, 'drain-timeout-ms', 'EKAF_DRAIN_TIMEOUT_MS'), 0, MAX_DURATION_MS),
    tls: tlsSetting(values),
    ...spoolSetting(values),
  };
  // Checked now, so that a bad SASL setting is a usage error before anything starts.
  saslFromEnv();
  const workers = integer(setting(values, 'workers', 'EKAF_WORKERS'), 1, 1024);
  const brokerList = brokerSetting === undefined ? undefined : brokers(brokerSetting);
  const devPort = integer(setting(values, 'dev-port', 'EKAF_DEV_PORT'), 0, 65533) ?? DEV_CLUSTER_PORT;

  let devCluster: DevCluster | undefined;
  let bootstrap = brokerList;
  if (bootstrap === undefined) {
    devCluster = await startDevCluster({
      brokers: 3,
      topics: [DEMO_TOPIC],
      firstPort: devPort,
    }).catch((error: unknown) => {
      // No brokers given and none bundled (the npm package): say what to give.
      throw error instanceof DevClusterUnavailableError
        ? new UsageError(`no brokers: ${error.message}`)
        : error;
    });
    bootstrap = devCluster.bootstrap;
    watchDevCluster(devCluster);
  }
  const full: ServeConfig = { ...config, brokers: bootstrap };
  // Given, or the allowed ones (which the gateway would warm too); else only the dev cluster's
  // demo topic is known to exist: other brokers' topics are not guessed.
  const warmTopics = warmTopicsSetting ?? allowTopics ?? (devCluster === undefined ? [] : [DEMO_TOPIC.name]);
  const announce = (url: string): void => {
    out(`gateway:    ${url}`);
    // The token is the operator's own; printing it would put it in logs.
    const entry =
      full.authToken === undefined ? '' : '?access_token=<token>  (once: it sets a session cookie)';
    out(`visualizer: ${new URL('/', url).href}${entry}`);
    if (devCluster === undefined) {
      out(`brokers:    ${full.brokers}`);
    } else {
      out(`bootstrap:  ${full.brokers} (bundled dev cluster, 3 brokers, topic "demo" with 6 partitions)`);
      const taken = portsTakenNote(devCluster, devPort);
      if (taken !== undefined) out(taken);
      out(TIMESTAMP_NOTE);
    }
  };

  if (workers === undefined || workers === 1) {
    const running = await startGateway(full, warmTopics);
    announce(running.gateway.url);
    return new Promise<number>(() => undefined); // serve() exits on SIGTERM/SIGINT
  }
  return runPrimary(full, workers, warmTopics, devCluster, announce);
}

/**
 * --warm-topics, checked against the limits a request would meet: each topic must be one it
 * may write, and they count towards --max-topics (the gateway admits them first).
 */
function warmTopicsChecked(
  values: Values,
  allowTopics: string[] | undefined,
  maxTopics: number | undefined,
): string[] | undefined {
  const warm = setting(values, 'warm-topics', 'EKAF_WARM_TOPICS');
  const topics = nameList(warm, topicNameProblem);
  if (warm === undefined || topics === undefined) return undefined;
  const unique = [...new Set(topics)];
  if (allowTopics !== undefined) {
    const refused = unique.filter((topic) => !allowTopics.includes(topic));
    if (refused.length > 0) {
      throw new UsageError(
        `${warm.source}: ${refused.map((topic) => JSON.stringify(topic)).join(', ')} not in --allow-topics`,
      );
    }
  } else {
    const most = maxTopics ?? GATEWAY_DEFAULTS.maxTopics;
    if (unique.length > most) {
      throw new UsageError(`${warm.source}: ${unique.length} topics, more than --max-topics (${most})`);
    }
  }
  return unique;
}

/** The prefix of the workers' transactional ids, checked as the producer will check `<prefix>-<n>`. */
function transactionalIdSetting(values: Values): string | undefined {
  const prefix = setting(values, 'transactional-id', 'EKAF_TRANSACTIONAL_ID');
  if (prefix === undefined) return undefined;
  // Kafka's limit is that of a string field (int16 length), worker index included.
  if (prefix.value === '' || Buffer.byteLength(prefix.value) > 32_000) {
    throw new UsageError(`${prefix.source} must be a non-empty prefix of at most 32000 bytes`);
  }
  return prefix.value;
}

/** A dev cluster that dies under a running gateway ends ekaf with an error. */
function watchDevCluster(dev: DevCluster): void {
  let stopping = false;
  process.once('exit', () => (stopping = true));
  const stop = dev.stop.bind(dev);
  dev.stop = () => {
    stopping = true;
    return stop();
  };
  void dev.exited.then(() => {
    if (stopping) return;
    err('ekaf: the bundled dev cluster exited unexpectedly');
    process.exit(FAILED);
  });
}
