#!/usr/bin/env node
// ekaf's command line: `ekaf serve` (the HTTP gateway and its visualizer), `ekaf produce`
// (lines to records, like `kcat -P`) and `ekaf dev-cluster` (the bundled local cluster).
// Options come from the command line, then from environment variables, then from defaults.
// Exit codes: 0 done, 1 failed (records not delivered, cluster or gateway failure), 2 usage.
import cluster from 'node:cluster';
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  MAX_DURATION_MS,
  resolveOptions,
  type Acks,
  type Logger,
  type ProducerOptions,
  type SpoolOption,
} from './config.js';
import { startDevCluster, type DevCluster } from './dev-cluster.js';
import { BufferFullError, ConfigError, EkafError } from './errors.js';
import { serve, type ServeOptions, type Served } from './gateway/serve.js';
import { visualizerRoutes } from './gateway/visualizer.js';
import { createProducer, type DeliveryCallback, type Producer, type ProduceRecord } from './producer.js';
import { COMPRESSION_NAMES, type CompressionName } from './protocol/compression.js';
import { SASL_MECHANISMS, type SaslCredentials, type SaslMechanism } from './security/sasl.js';
import { EKAF_VERSION } from './version.js';

/** A mistake in how ekaf was called: exit code 2, with a pointer to --help. */
class UsageError extends Error {}

/** Exit codes. */
const OK = 0;
const FAILED = 1;
const USAGE = 2;

// ---------------------------------------------------------------------------------------------
// Help

const MAIN_HELP = `Usage: ekaf <command> [options]

An actor-model Kafka producer runtime: HTTP gateway, line producer, local dev cluster.

Commands:
  serve         Run the HTTP gateway and its live visualizer (a local dev cluster if no brokers)
  produce       Produce one record per input line, like kcat -P
  dev-cluster   Run the bundled local Kafka cluster (librdkafka's mock brokers) until stopped

Options:
  -h, --help      Show help (also: ekaf <command> --help, ekaf help <command>)
  -V, --version   Print ekaf's version

Exit codes: 0 success, 1 failure, 2 usage error.
`;

const SERVE_HELP = `Usage: ekaf serve [options]

Runs the HTTP gateway (kafboy) and the live visualizer at the same URL. Without brokers (no
--brokers, no KAFKA_BROKERS) it starts the bundled dev cluster (3 brokers) with a topic "demo"
of 6 partitions, and prints its bootstrap address. SIGTERM or SIGINT drains and exits 0.

Options (environment variable in brackets):
  -b, --brokers <host:port,...>   Kafka bootstrap brokers [KAFKA_BROKERS]
                                  (default: start the bundled dev cluster)
      --client-id <id>            Client id sent to brokers [KAFKA_CLIENT_ID] (default: ekaf)
  -p, --port <port>               Port to listen on, 0 for any free port [EKAF_PORT] (default: 8080)
      --host <address>            Address to listen on [EKAF_HOST] (default: 127.0.0.1)
      --auth-token <token>        Require "Authorization: Bearer <token>" [EKAF_AUTH_TOKEN]
                                  (default: no authentication)
  -w, --workers <n>               Worker processes sharing the port (node:cluster) [EKAF_WORKERS]
                                  (default: 1, no separate worker process)
      --max-body-bytes <n>        Largest request body accepted [EKAF_MAX_BODY_BYTES]
      --request-timeout-ms <ms>   How long a request may take [EKAF_REQUEST_TIMEOUT_MS]
      --drain-timeout-ms <ms>     How long shutdown waits for deliveries [EKAF_DRAIN_TIMEOUT_MS]
      --tls                       Connect to the brokers over TLS [KAFKA_TLS=1]
"      --tls-ca <file>             Trust this CA (PEM) instead of Node's roots; implies --tls
                                  [KAFKA_TLS_CA]
      --spool-dir <dir>           Durable spool: accepted records survive a crash or restart
                                  during a Kafka outage [EKAF_SPOOL_DIR] (default: none); with
                                  --workers, each worker uses <dir>/worker-<n>
      --spool-mode <mode>         downtime or always [EKAF_SPOOL_MODE] (default: downtime)
      --spool-max-bytes <n>       Disk the spool may use [EKAF_SPOOL_MAX_BYTES] (default: 1 GiB)
      --spool-fsync <when>        batch, interval or never [EKAF_SPOOL_FSYNC] (default: interval)
  SASL (environment only, so that the password is not in the process list):
    [KAFKA_SASL_MECHANISM]  PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    [KAFKA_SASL_USERNAME]   [KAFKA_SASL_PASSWORD]
  -h, --help                      Show this help

Examples:
  ekaf serve                                  # dev cluster + gateway on http://127.0.0.1:8080
  KAFKA_BROKERS=kafka:9092 ekaf serve --host 0.0.0.0 --workers 4 --auth-token s3cret
`;

const PRODUCE_HELP = `Usage: ekaf produce -b <brokers> -t <topic> [options] [file]

Produces one record per line of <file>, or of stdin when there is no file or it is "-", like
kcat -P. Empty lines are skipped. The input is streamed: when the producer's buffer is full,
reading waits for deliveries. A progress line is shown on a terminal (stderr); a summary
(records, bytes, rate, failures) ends the run. Exit code 1 if any record failed.

Options (environment variable in brackets):
  -b, --brokers <host:port,...>   Kafka bootstrap brokers [KAFKA_BROKERS] (required)
  -t, --topic <topic>             Topic to produce to [KAFKA_TOPIC] (required)
  -K, --key-delimiter <delim>     Split each line at the first <delim>: key before, value after
                                  (a line without it has no key). Escapes: \\t \\n \\\\ \\xNN
  -p, --partition <n>             Send every record to this partition (default: the partitioner)
      --acks <all|0|1>            Acknowledgements to wait for [EKAF_ACKS] (default: all);
                                  0 and 1 turn idempotence off
      --compression <codec>       none, gzip, snappy, lz4 or zstd [EKAF_COMPRESSION] (default: none)
      --client-id <id>            Client id sent to brokers [KAFKA_CLIENT_ID] (default: ekaf)
      --delivery-timeout-ms <ms>  How long a record may take to be delivered (default: 120000)
      --tls                       Connect to the brokers over TLS [KAFKA_TLS=1]
      --tls-ca <file>             Trust this CA (PEM) instead of Node's roots; implies --tls
                                  [KAFKA_TLS_CA]
  SASL (environment only, so that the password is not in the process list):
    [KAFKA_SASL_MECHANISM]  PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    [KAFKA_SASL_USERNAME]   [KAFKA_SASL_PASSWORD]
  -q, --quiet                     No progress line and no summary
  -h, --help                      Show this help

Examples:
  ekaf produce -b 127.0.0.1:9092 -t events events.txt
  printf 'user-1:hello\\nuser-2:world\\n' | ekaf produce -b 127.0.0.1:9092 -t greetings -K :
`;

const DEV_CLUSTER_HELP = `Usage: ekaf dev-cluster [options]

Starts the bundled local Kafka cluster (librdkafka's mock brokers on 127.0.0.1, built by
scripts/build-harness.sh), prints its bootstrap address, and runs until SIGINT or SIGTERM.
Data lives in memory only. Topics not created here are auto-created on first use.

Options (environment variable in brackets):
      --brokers <n>                   Number of brokers, 1-64 [EKAF_DEV_BROKERS] (default: 3)
  -t, --topic <name:partitions[:rf]>  Create a topic; repeat for more (rf: replication factor,
                                      default min(3, brokers))
      --peer <2.12|2.0>               librdkafka version of the mock brokers (default: 2.12)
  -h, --help                          Show this help

Example:
  ekaf dev-cluster --topic demo:6 --topic logs:1
`;

// ---------------------------------------------------------------------------------------------
// Options: command line, then environment, then default

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** An option's value and where it came from, so that errors name the right thing. */
interface Setting {
  value: string;
  source: string;
}

function parse(
  command: string,
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = /'([^']+)'/.exec(message)?.[1] ?? message;
      throw new UsageError(`unknown option ${name} for "ekaf ${command}"`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      // "Option '--port <value>' argument missing" or "Option '-h, --help' does not take an argument"
      throw new UsageError(message.replace(/^Option '([^']+)'/, 'option $1:'));
    }
    throw error;
  }
}

/** The option's value, else the environment variable's (empty means unset), else undefined. */
function setting(values: Values, name: string, envName?: string): Setting | undefined {
  const value = values[name];
  if (typeof value === 'string') return { value, source: `--${name}` };
  if (envName !== undefined) {
    const fromEnv = process.env[envName]?.trim();
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, source: envName };
  }
  return undefined;
}

function integer(s: Setting | undefined, min: number, max: number): number | undefined {
  if (s === undefined) return undefined;
  const n = /^\d+$/.test(s.value) ? Number(s.value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${s.source} must be an integer ${range} (got ${JSON.stringify(s.value)})`);
  }
  return n;
}

/** Validates a broker list the way createProducer will, naming the option or variable. */
function brokers(s: Setting): string {
  try {
    resolveOptions({ brokers: s.value });
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(`${s.source}: ${error.message.replace(/^brokers:?\s*/, '')}`);
    }
    throw error;
  }
  return s.value;
}

function noPositionals(command: string, positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UsageError(`"ekaf ${command}" takes no arguments (got ${JSON.stringify(positionals[0])})`);
  }
}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

// ---------------------------------------------------------------------------------------------
// TLS and SASL settings, shared by serve and produce

/** --tls / --tls-ca (KAFKA_TLS, KAFKA_TLS_CA): whether to use TLS, and the CA file to trust. */
interface TlsSetting {
  enabled: boolean;
  caFile?: string;
}

function tlsSetting(values: Values): TlsSetting {
  const caFile = setting(values, 'tls-ca', 'KAFKA_TLS_CA')?.value;
  const flag = values.tls === true || /^(1|true|yes)$/i.test(process.env.KAFKA_TLS?.trim() ?? '');
  return { enabled: flag || caFile !== undefined, ...(caFile === undefined ? {} : { caFile }) };
}

/** SASL from KAFKA_SASL_MECHANISM / _USERNAME / _PASSWORD; all three or none. */
function saslFromEnv(): SaslCredentials | undefined {
  const read = (name: string): string | undefined => {
    const value = process.env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const mechanism = read('KAFKA_SASL_MECHANISM');
  const username = read('KAFKA_SASL_USERNAME');
  const password = read('KAFKA_SASL_PASSWORD');
  if (mechanism === undefined && username === undefined && password === undefined) return undefined;
  if (mechanism === undefined || username === undefined || password === undefined) {
    throw new UsageError('KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD go together');
  }
  const upper = mechanism.toUpperCase();
  if (!(SASL_MECHANISMS as readonly string[]).includes(upper)) {
    throw new UsageError(
      `KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')} (got "${mechanism}")`,
    );
  }
  return { mechanism: upper as SaslMechanism, username, password };
}

function securityOptions(tls: TlsSetting): Pick<ProducerOptions, 'tls' | 'sasl'> {
  const options: Pick<ProducerOptions, 'tls' | 'sasl'> = {};
  if (tls.enabled) {
    let ca: string | undefined;
    if (tls.caFile !== undefined) {
      try {
        ca = readFileSync(tls.caFile, 'utf8');
      } catch (error) {
        throw new UsageError(`--tls-ca: cannot read ${tls.caFile}: ${(error as Error).message}`);
      }
    }
    options.tls = ca === undefined ? true : { ca };
  }
  const sasl = saslFromEnv();
  if (sasl !== undefined) options.sasl = sasl;
  return options;
}

// ---------------------------------------------------------------------------------------------
// ekaf serve

/** What a serve worker needs; the primary passes it to workers as JSON in EKAF_SERVE_CONFIG. */
interface ServeConfig {
  brokers: string;
  clientId?: string;
  port: number;
  host: string;
  authToken?: string;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  drainTimeoutMs?: number;
  /** TLS settings (the CA file is read by each worker); SASL comes from each worker's env. */
  tls: TlsSetting;
  /** The durable spool; with workers, each uses a directory of its own under `dir`. */
  spool?: SpoolOption;
}

const SERVE_CONFIG_ENV = 'EKAF_SERVE_CONFIG';
const DEMO_TOPIC = { name: 'demo', partitions: 6 };

async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('serve', args, {
    brokers: { type: 'string', short: 'b' },
    'client-id': { type: 'string' },
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    'auth-token': { type: 'string' },
    workers: { type: 'string', short: 'w' },
    'max-body-bytes': { type: 'string' },
    'request-timeout-ms': { type: 'string' },
    'drain-timeout-ms': { type: 'string' },
    tls: { type: 'boolean' },
    'tls-ca': { type: 'string' },
    'spool-dir': { type: 'string' },
    'spool-mode': { type: 'string' },
    'spool-max-bytes': { type: 'string' },
    'spool-fsync': { type: 'string' },
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
  const config: Omit<ServeConfig, 'brokers'> = {
    port: integer(setting(values, 'port', 'EKAF_PORT'), 0, 65535) ?? 8080,
    host,
    ...(clientId === undefined ? {} : { clientId }),
    ...(authToken === undefined ? {} : { authToken }),
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
    drainTimeoutMs: integer(setting(values, 'drain-timeout-ms', 'EKAF_DRAIN_TIMEOUT_MS'), 0, MAX_DURATION_MS),
    tls: tlsSetting(values),
    ...spoolSetting(values),
  };
  // Checked now, so that a bad SASL setting is a usage error before anything starts.
  saslFromEnv();
  const workers = integer(setting(values, 'workers', 'EKAF_WORKERS'), 1, 1024);
  const brokerList = brokerSetting === undefined ? undefined : brokers(brokerSetting);

  let devCluster: DevCluster | undefined;
  let bootstrap = brokerList;
  if (bootstrap === undefined) {
    devCluster = await startDevCluster({ brokers: 3, topics: [DEMO_TOPIC] });
    bootstrap = devCluster.bootstrap;
    watchDevCluster(devCluster);
  }
  const full: ServeConfig = { ...config, brokers: bootstrap };
  const announce = (url: string): void => {
    out(`gateway:    ${url}`);
    out(`visualizer: ${new URL('/', url).href}`);
    if (devCluster === undefined) {
      out(`brokers:    ${full.brokers}`);
    } else {
      out(`bootstrap:  ${full.brokers} (bundled dev cluster, 3 brokers, topic "demo" with 6 partitions)`);
    }
  };

  if (workers === undefined || workers === 1) {
    const running = await startGateway(full, devCluster === undefined ? [] : [DEMO_TOPIC.name]);
    announce(running.gateway.url);
    return new Promise<number>(() => undefined); // serve() exits on SIGTERM/SIGINT
  }
  return runPrimary(full, workers, devCluster, announce);
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

/**
 * --spool-dir, --spool-mode, --spool-max-bytes, --spool-fsync (EKAF_SPOOL_*). The values are
 * checked by the producer's own validation (a usage error names the option).
 */
function spoolSetting(values: Values): { spool?: SpoolOption } {
  const dir = setting(values, 'spool-dir', 'EKAF_SPOOL_DIR')?.value;
  const mode = setting(values, 'spool-mode', 'EKAF_SPOOL_MODE')?.value;
  const fsync = setting(values, 'spool-fsync', 'EKAF_SPOOL_FSYNC')?.value;
  const maxBytes = integer(
    setting(values, 'spool-max-bytes', 'EKAF_SPOOL_MAX_BYTES'),
    1,
    Number.MAX_SAFE_INTEGER,
  );
  if (dir === undefined) {
    if (mode !== undefined || fsync !== undefined || maxBytes !== undefined) {
      throw new UsageError('--spool-mode, --spool-fsync and --spool-max-bytes need --spool-dir');
    }
    return {};
  }
  const spool: SpoolOption = {
    dir,
    ...(mode === undefined ? {} : { mode: mode as SpoolOption['mode'] }),
    ...(fsync === undefined ? {} : { fsync: fsync as SpoolOption['fsync'] }),
    ...(maxBytes === undefined ? {} : { maxBytes }),
  };
  try {
    resolveOptions({ brokers: 'localhost:9092', spool });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // "spool.maxBytes: must be …" → "--spool-max-bytes: must be …"
    const flag = `--${error.field.replace('spool.', 'spool-').replace('maxBytes', 'max-bytes')}`;
    throw new UsageError(`${flag}: ${error.message.slice(error.field.length + 2)}`);
  }
  return { spool };
}

/** Starts the gateway with its visualizer; `warmTopics` are resolved at once (readiness). */
function startGateway(config: ServeConfig, warmTopics: string[], slot?: number): Promise<Served> {
  const spool =
    config.spool === undefined
      ? {}
      : // A worker's spool survives it: its replacement (same slot) recovers what it left.
        {
          spool:
            slot === undefined
              ? config.spool
              : { ...config.spool, dir: join(config.spool.dir, `worker-${slot}`) },
        };
  const producerOptions: ProducerOptions = {
    brokers: config.brokers,
    ...(config.clientId === undefined ? {} : { clientId: config.clientId }),
    ...securityOptions(config.tls),
    ...spool,
    logger: stderrLogger('warn'),
  };
  const options: ServeOptions = {
    producerOptions,
    port: config.port,
    host: config.host,
    logger: stderrLogger('info'),
    extraRoutes: visualizerRoutes(),
  };
  if (warmTopics.length > 0) options.warmTopics = warmTopics;
  if (config.authToken !== undefined) options.authToken = config.authToken;
  if (config.maxBodyBytes !== undefined) options.maxBodyBytes = config.maxBodyBytes;
  if (config.requestTimeoutMs !== undefined) options.requestTimeoutMs = config.requestTimeoutMs;
  if (config.drainTimeoutMs !== undefined) options.drainTimeoutMs = config.drainTimeoutMs;
  return serve(options);
}

/**
 * A worker of `ekaf serve --workers N`: one gateway; it tells the primary its URL. The primary
 * owns shutdown: it turns SIGINT/SIGTERM into one SIGTERM per worker. A worker therefore
 * ignores SIGINT, which a terminal's Ctrl-C sends to the whole process group: taken together
 * with the primary's SIGTERM, serve() would count it as a second signal and exit 1.
 */
async function serveWorker(): Promise<number> {
  const config = JSON.parse(process.env[SERVE_CONFIG_ENV] ?? '{}') as ServeConfig & {
    warmTopics: string[];
    slot: number;
  };
  const before = new Set(process.listeners('SIGINT'));
  const running = await startGateway(config, config.warmTopics, config.slot);
  for (const listener of process.listeners('SIGINT')) {
    if (!before.has(listener)) process.off('SIGINT', listener);
  }
  process.on('SIGINT', () => undefined);
  process.send?.({ ekaf: 'listening', url: running.gateway.url });
  return new Promise<number>(() => undefined); // serve() exits on SIGTERM
}

/**
 * The primary of `ekaf serve --workers N`: forks N workers that share the port, forwards
 * SIGTERM/SIGINT to them as SIGTERM, and exits 0 when every worker exited 0. A worker that
 * crashes after it started listening is replaced; one that fails before ends everything.
 */
function runPrimary(
  config: ServeConfig,
  count: number,
  devCluster: DevCluster | undefined,
  announce: (url: string) => void,
): Promise<number> {
  return new Promise<number>((resolve) => {
    const listening = new Set<number>();
    let announced = false;
    let shuttingDown = false;
    let failed = false;

    /** Each worker's slot (0..count-1): a replacement takes the slot, and spool, of the one it replaces. */
    const slots = new Map<number, number>();
    const fork = (slot: number): void => {
      const worker = cluster.fork({
        [SERVE_CONFIG_ENV]: JSON.stringify({
          ...config,
          warmTopics: devCluster === undefined ? [] : [DEMO_TOPIC.name],
          slot,
        }),
      });
      slots.set(worker.id, slot);
      worker.on('message', (message: { ekaf?: string; url?: string }) => {
        if (message.ekaf !== 'listening' || message.url === undefined) return;
        listening.add(worker.id);
        if (!announced && listening.size === count) {
          announced = true;
          announce(message.url);
          out(
            `workers:    ${count} (pids ${Object.values(cluster.workers ?? {})
              .map((w) => w?.process.pid)
              .join(', ')})`,
          );
        }
      });
    };

    const shutdown = (): void => {
      const workers = Object.values(cluster.workers ?? {});
      if (shuttingDown) {
        // A second signal: the operator insists.
        err('ekaf: signal again during shutdown: killing the workers');
        for (const worker of workers) worker?.process.kill('SIGKILL');
        process.exit(FAILED);
      }
      shuttingDown = true;
      for (const worker of workers) worker?.process.kill('SIGTERM');
    };
    process.on('SIGTERM', shutdown);
    process.on('SIGINT', shutdown);

    cluster.on('exit', (worker, code: number | null, exitSignal: string) => {
      // @types/node says string, but it is null when the worker exited by itself.
      const signal = exitSignal as string | null;
      const clean = code === 0 && signal === null;
      const started = listening.delete(worker.id);
      if (!clean) failed = true;
      if (!shuttingDown) {
        const why = signal ?? `exit code ${code}`;
        if (started) {
          err(`ekaf: worker ${worker.process.pid} exited (${why}); starting a new one`);
          failed = false;
          fork(slots.get(worker.id) ?? 0);
        } else {
          err(`ekaf: worker ${worker.process.pid} failed to start (${why}); stopping`);
          failed = true;
          shutdown();
        }
      }
      if (shuttingDown && Object.keys(cluster.workers ?? {}).length === 0) {
        void (devCluster?.stop() ?? Promise.resolve()).then(() => {
          resolve(failed ? FAILED : OK);
        });
      }
    });

    for (let slot = 0; slot < count; slot++) fork(slot);
  });
}

// ---------------------------------------------------------------------------------------------
// ekaf produce

/** Records per produce call; a call is accepted or refused whole. */
const CALL_RECORDS = 2048;
/** The producer's buffer bounds for this command: enough to keep every partition busy. */
const PRODUCE_BUFFER = { maxBufferedRecords: 200_000, maxBufferedBytes: 64 * 1024 * 1024 };
/** Longest wait for room in a full buffer before trying again without a delivery event. */
const ROOM_POLL_MS = 50;

async function produceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('produce', args, {
    brokers: { type: 'string', short: 'b' },
    topic: { type: 'string', short: 't' },
    'key-delimiter': { type: 'string', short: 'K' },
    partition: { type: 'string', short: 'p' },
    acks: { type: 'string' },
    compression: { type: 'string' },
    'client-id': { type: 'string' },
    'delivery-timeout-ms': { type: 'string' },
    tls: { type: 'boolean' },
    'tls-ca': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help === true) {
    process.stdout.write(PRODUCE_HELP);
    return OK;
  }
  if (positionals.length > 1) {
    throw new UsageError(`"ekaf produce" reads one file at most (got ${positionals.length})`);
  }
  const brokerSetting = setting(values, 'brokers', 'KAFKA_BROKERS');
  if (brokerSetting === undefined) throw new UsageError('missing --brokers (-b) or KAFKA_BROKERS');
  const brokerList = brokers(brokerSetting);
  const topicSetting = setting(values, 'topic', 'KAFKA_TOPIC');
  if (topicSetting === undefined) throw new UsageError('missing --topic (-t) or KAFKA_TOPIC');
  const topic = topicSetting.value;
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic) || topic === '.' || topic === '..') {
    throw new UsageError(
      `${topicSetting.source} must be 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-' (got ${JSON.stringify(topic)})`,
    );
  }
  const delimiter = setting(values, 'key-delimiter');
  const keyDelimiter = delimiter === undefined ? undefined : unescapeDelimiter(delimiter);
  const partition = integer(setting(values, 'partition'), 0, 0x7fffffff);
  const acks = parseAcks(setting(values, 'acks', 'EKAF_ACKS'));
  const compression = parseCompression(setting(values, 'compression', 'EKAF_COMPRESSION'));
  const clientId = setting(values, 'client-id', 'KAFKA_CLIENT_ID')?.value;
  const deliveryTimeoutMs = integer(setting(values, 'delivery-timeout-ms'), 1, MAX_DURATION_MS);
  const quiet = values.quiet === true;

  const file = positionals[0] === undefined || positionals[0] === '-' ? undefined : positionals[0];
  if (file !== undefined) {
    try {
      if (statSync(file).isDirectory()) throw new Error('is a directory');
    } catch (error) {
      err(`ekaf produce: cannot read ${file}: ${(error as Error).message}`);
      return FAILED;
    }
  }

  let producer: Producer;
  try {
    producer = createProducer({
      brokers: brokerList,
      ...(clientId === undefined ? {} : { clientId }),
      ...securityOptions(tlsSetting(values)),
      ...(deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs }),
      ...PRODUCE_BUFFER,
      idempotent: acks === 'all',
      defaults: { acks, compression },
      logger: stderrLogger('warn'),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      const option = /compression/.test(error.message) ? '--compression' : 'option';
      throw new UsageError(`${option}: ${error.message}`);
    }
    throw error;
  }

  const input = file === undefined ? process.stdin : createReadStream(file, { highWaterMark: 256 * 1024 });
  const run = new ProduceRun(producer, topic, keyDelimiter, partition, quiet);
  return run.run(input);
}

function parseAcks(s: Setting | undefined): Acks {
  if (s === undefined) return 'all';
  if (s.value === 'all' || s.value === '-1') return 'all';
  if (s.value === '0') return 0;
  if (s.value === '1') return 1;
  throw new UsageError(`${s.source} must be all, 0 or 1 (got ${JSON.stringify(s.value)})`);
}

function parseCompression(s: Setting | undefined): CompressionName {
  if (s === undefined) return 'none';
  if (!COMPRESSION_NAMES.includes(s.value as CompressionName)) {
    throw new UsageError(
      `${s.source} must be one of ${COMPRESSION_NAMES.join(', ')} (got ${JSON.stringify(s.value)})`,
    );
  }
  return s.value as CompressionName;
}

/** kcat-style delimiter escapes: \t, \n, \r, \0, \\ and \xNN. */
function unescapeDelimiter(s: Setting): Buffer {
  const bytes: number[] = [];
  const text = s.value;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== '\\' || i + 1 === text.length) {
      bytes.push(...Buffer.from(c));
      continue;
    }
    const next = text[++i] as string;
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, '0': 0, '\\': 92 };
    if (next in simple) {
      bytes.push(simple[next] as number);
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(92, ...Buffer.from(next));
    }
  }
  if (bytes.length === 0) throw new UsageError(`${s.source} must not be empty`);
  return Buffer.from(bytes);
}

/** Position of `byte` in buf[start, end), or -1. */
function indexOfByte(buf: Buffer, byte: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/**
 * One `ekaf produce` run: splits the input into lines, hands them to produceAsyncBatched in
 * calls of up to CALL_RECORDS, and stops reading while the producer's buffer is full.
 */
class ProduceRun {
  private sent = 0;
  private delivered = 0;
  private failed = 0;
  private bytes = 0;
  private firstError: EkafError | undefined;
  private readonly started = Date.now();
  /** Resolvers of whoever waits for room in the buffer. */
  private roomWaiters: (() => void)[] = [];
  private readonly errorsSeen = new Set<string>();
  private interrupted = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly keyDelimiter: Buffer | undefined,
    private readonly partition: number | undefined,
    private readonly quiet: boolean,
  ) {
    // Failed calls are counted from their event: the callbacks take the error alone, so that
    // no report object is built for the records that were delivered (see send()).
    producer.on('delivery.failed', ({ error, failed, reports }) => {
      this.firstError ??= error;
      this.failed += failed;
      this.delivered += reports.length - failed;
    });
    producer.on('error', (error) => {
      // Problems outside any call (metadata, connections): once each, they may repeat a lot.
      const line = `${error.code}: ${error.message}`;
      if (this.errorsSeen.has(line)) return;
      this.errorsSeen.add(line);
      this.clearProgress();
      err(`ekaf produce: ${line}`);
    });
  }

  async run(input: NodeJS.ReadableStream): Promise<number> {
    const progress =
      !this.quiet && process.stderr.isTTY
        ? setInterval(() => {
            this.showProgress();
          }, 250)
        : undefined;
    const onSignal = (): void => {
      if (this.interrupted) process.exit(130);
      this.interrupted = true;
      this.clearProgress();
      err('ekaf produce: interrupted; delivering what was read (again to quit at once)');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let readError: Error | undefined;
    try {
      await this.readLines(input);
    } catch (error) {
      readError = error as Error;
    }
    await this.producer.flush();
    await this.producer.close();
    if (progress !== undefined) clearInterval(progress);
    this.clearProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);

    if (readError !== undefined) err(`ekaf produce: reading the input failed: ${readError.message}`);
    if (!this.quiet) err(this.summary());
    if (this.failed > 0 && this.firstError !== undefined) {
      err(
        `ekaf produce: ${this.failed} records failed, first: ${this.firstError.code}: ${this.firstError.message}`,
      );
    }
    if (this.interrupted) return 130;
    return this.failed > 0 || readError !== undefined ? FAILED : OK;
  }

  private async readLines(input: NodeJS.ReadableStream): Promise<void> {
    // The start of a line cut by the end of the previous chunk.
    let rest: Buffer | undefined;
    let records: ProduceRecord[] = [];
    for await (const data of input) {
      if (this.interrupted) break;
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      let start = 0;
      if (rest !== undefined) {
        // Only the cut line is joined, not the whole chunk copied.
        const end = chunk.indexOf(10);
        if (end === -1) {
          rest = Buffer.concat([rest, chunk]);
          continue;
        }
        const line = Buffer.concat([rest, chunk.subarray(0, end)]);
        if (line.length > 0) records.push(this.record(line, 0, line.length));
        rest = undefined;
        start = end + 1;
      }
      for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
        if (end > start) records.push(this.record(chunk, start, end));
        start = end + 1;
        if (records.length === CALL_RECORDS) {
          await this.send(records);
          records = [];
        }
      }
      rest = start < chunk.length ? chunk.subarray(start) : undefined;
      if (records.length > 0) {
        await this.send(records);
        records = [];
      }
    }
    // The last line needs no newline.
    if (rest !== undefined && !this.interrupted) await this.send([this.record(rest, 0, rest.length)]);
  }

  /** The record of the line chunk[start, end): views of the chunk, no copies. */
  private record(chunk: Buffer, start: number, end: number): ProduceRecord {
    let key: Buffer | null = null;
    let valueStart = start;
    const delimiter = this.keyDelimiter;
    if (delimiter !== undefined) {
      // Searched within the line only: Buffer#indexOf has no end, and would scan on through
      // every later line when this one has no delimiter.
      let at: number;
      if (delimiter.length === 1) {
        at = indexOfByte(chunk, delimiter[0] as number, start, end);
      } else {
        const found = chunk.subarray(start, end).indexOf(delimiter);
        at = found === -1 ? -1 : start + found;
      }
      if (at !== -1) {
        key = chunk.subarray(start, at);
        valueStart = at + delimiter.length;
      }
    }
    const value = chunk.subarray(valueStart, end);
    if (key === null && this.partition === undefined) return value;
    return this.partition === undefined ? { key, value } : { key, value, partition: this.partition };
  }

  /** Produces the records, waiting for room while the buffer is full. */
  private async send(records: ProduceRecord[]): Promise<void> {
    let bytes = 0;
    for (const r of records) {
      bytes += Buffer.isBuffer(r) ? r.length : recordBytes(r);
    }
    const count = records.length;
    // Declared with the error alone: no delivery reports are built (a failed call is counted
    // by the delivery.failed listener, with its reports).
    const callback: DeliveryCallback = (error) => {
      if (error === null) this.delivered += count;
      this.wake();
    };
    for (;;) {
      try {
        this.producer.produceAsyncBatched(this.topic, records, callback);
        break;
      } catch (error) {
        if (!(error instanceof BufferFullError)) {
          // The whole call was refused (a record too large, an invalid partition): try each
          // record alone, so that only the bad ones fail.
          if (records.length > 1) {
            for (const record of records) await this.send([record]);
            return;
          }
          this.firstError ??=
            error instanceof EkafError ? error : new EkafError('ERR_INVALID_RECORD', String(error));
          this.failed++;
          this.sent++;
          return;
        }
        await this.roomOrTimeout();
      }
    }
    this.sent += records.length;
    this.bytes += bytes;
  }

  /** A call completed: room in the buffer, for whoever waits for it. */
  private wake(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private roomOrTimeout(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ROOM_POLL_MS);
      this.roomWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private rates(): { seconds: number; perSecond: number; mbPerSecond: number } {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    return {
      seconds,
      perSecond: Math.round(this.delivered / seconds),
      mbPerSecond: this.bytes / 1e6 / seconds,
    };
  }

  private showProgress(): void {
    const { perSecond } = this.rates();
    process.stderr.write(
      `\r\x1b[K${this.sent} read, ${this.delivered} delivered, ${this.failed} failed, ${perSecond} records/s`,
    );
  }

  private clearProgress(): void {
    if (!this.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  }

  private summary(): string {
    const { seconds, mbPerSecond } = this.rates();
    const total = this.delivered + this.failed;
    return (
      `ekaf produce: ${total} records, ${this.bytes} bytes in ${seconds.toFixed(2)} s ` +
      `(${Math.round(total / seconds)} records/s, ${mbPerSecond.toFixed(1)} MB/s); ` +
      `${this.delivered} delivered, ${this.failed} failed`
    );
  }
}

function recordBytes(record: ProduceRecord): number {
  if (typeof record === 'string') return Buffer.byteLength(record);
  if (record instanceof Uint8Array) return record.length;
  const size = (b: Buffer | Uint8Array | string | null | undefined): number =>
    b == null ? 0 : typeof b === 'string' ? Buffer.byteLength(b) : b.length;
  return size(record.key) + size(record.value);
}

/** A logger printing `level` and above to stderr. */
function stderrLogger(level: 'warn' | 'info'): Logger {
  const print =
    (name: string) =>
    (message: string, fields?: object): void => {
      err(`ekaf ${name}: ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
    };
  const quiet = (): void => undefined;
  return {
    debug: quiet,
    info: level === 'info' ? print('info') : quiet,
    warn: print('warn'),
    error: print('error'),
  };
}

// ---------------------------------------------------------------------------------------------
// ekaf dev-cluster

async function devClusterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('dev-cluster', args, {
    brokers: { type: 'string' },
    topic: { type: 'string', short: 't', multiple: true },
    peer: { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(DEV_CLUSTER_HELP);
    return OK;
  }
  noPositionals('dev-cluster', positionals);
  const brokerCount = integer(setting(values, 'brokers', 'EKAF_DEV_BROKERS'), 1, 64) ?? 3;
  const peerSetting = setting(values, 'peer');
  const peer = peerSetting?.value ?? '2.12';
  if (peer !== '2.12' && peer !== '2.0') {
    throw new UsageError(`--peer must be 2.12 or 2.0 (got ${JSON.stringify(peer)})`);
  }
  const topicValues = values.topic;
  const topics = (Array.isArray(topicValues) ? topicValues : []).map((raw) => {
    const m = /^([a-zA-Z0-9._-]{1,249}):(\d+)(?::(\d+))?$/.exec(String(raw));
    const partitions = Number(m?.[2]);
    const replicationFactor = m?.[3] === undefined ? undefined : Number(m[3]);
    if (m === null || partitions < 1 || partitions > 100_000) {
      throw new UsageError(
        `--topic must be name:partitions[:replication-factor], partitions >= 1 (got ${JSON.stringify(raw)})`,
      );
    }
    if (replicationFactor !== undefined && (replicationFactor < 1 || replicationFactor > brokerCount)) {
      throw new UsageError(
        `--topic ${String(raw)}: the replication factor must be from 1 to the number of brokers (${brokerCount})`,
      );
    }
    return {
      name: m[1] as string,
      partitions,
      ...(replicationFactor === undefined ? {} : { replicationFactor }),
    };
  });

  const dev = await startDevCluster({ peer, brokers: brokerCount, topics });
  out(`bootstrap: ${dev.bootstrap}`);
  out(
    `brokers:   ${dev.brokers.map((b) => `${b.id}=${b.host}:${b.port}`).join(' ')} (librdkafka ${peer} mock cluster)`,
  );
  for (const t of topics) out(`topic:     ${t.name} (${t.partitions} partitions)`);
  out(`Try: ekaf produce -b ${dev.bootstrap} -t demo file.txt   (stop with Ctrl-C or SIGTERM)`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void dev.stop().then(() => {
        resolve(OK);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void dev.exited.then(() => {
      if (stopping) return;
      err('ekaf dev-cluster: the cluster exited unexpectedly');
      resolve(FAILED);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Entry point

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
  serve: { run: serveCommand, help: SERVE_HELP },
  produce: { run: produceCommand, help: PRODUCE_HELP },
  'dev-cluster': { run: devClusterCommand, help: DEV_CLUSTER_HELP },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  let command = name === undefined ? undefined : COMMANDS[name];
  try {
    if (cluster.isWorker && process.env[SERVE_CONFIG_ENV] !== undefined) return await serveWorker();
    if (name === undefined) {
      process.stderr.write(MAIN_HELP);
      return USAGE;
    }
    if (name === '-h' || name === '--help') {
      process.stdout.write(MAIN_HELP);
      return OK;
    }
    if (name === '-V' || name === '--version') {
      out(EKAF_VERSION);
      return OK;
    }
    if (name === 'help') {
      const topic = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      if (rest[0] !== undefined && topic === undefined) throw new UsageError(`unknown command "${rest[0]}"`);
      process.stdout.write(topic?.help ?? MAIN_HELP);
      return OK;
    }
    if (command === undefined) {
      throw new UsageError(
        name.startsWith('-') ? `unknown option ${name} (a command comes first)` : `unknown command "${name}"`,
      );
    }
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      const where = command === undefined ? 'ekaf' : `ekaf ${name ?? ''}`;
      err(`${where}: ${error.message}`);
      err(`Run "${where} --help" for usage.`);
      return USAGE;
    }
    command = undefined;
    err(
      `ekaf${name === undefined ? '' : ` ${name}`}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return FAILED;
  }
}

// Run when executed (bin, `tsx src/cli.ts`, a cluster worker), not when imported.
const invoked = process.argv[1] === undefined ? undefined : realpathOrSelf(process.argv[1]);
if (invoked === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((code) => {
    process.exit(code);
  });
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
