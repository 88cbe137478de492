import type { InspectionEvent, Observer } from 'xstate';
import { ConfigError } from './errors.js';
import { assertCodecAvailable, COMPRESSION_NAMES, type CompressionName } from './protocol/compression.js';
import type { TlsOptions } from './network/connection.js';
import type { ResolvedSpoolOptions } from './spool/spool.js';
import { PARTITIONER_NAMES, type PartitionerFunction, type PartitionerName } from './runtime/partitioners.js';
import {
  credentialsProblem,
  credentialsSource,
  type CredentialsSource,
  type SaslOption,
} from './security/sasl.js';

/**
 * Every option of ekaf, its default and its validation. Each option's doc comment gives its
 * ekaf (Erlang) and Java client equivalents where there is one. Every duration (`*Ms`) is an
 * integer number of ms, at most MAX_DURATION_MS.
 */

/**
 * The longest duration any `*Ms` option takes: 2 147 483 647 ms (2^31 - 1, about 24.8 days).
 * `produceTimeoutMs` goes on the wire as a Kafka int32, which cannot hold more: a larger value
 * made the Produce request unencodable. Every other duration drives a local setTimeout or
 * setInterval, which Node caps at the same value: past it Node warns and fires after 1 ms, so a
 * huge timeout would become an immediate one.
 */
export const MAX_DURATION_MS = 2_147_483_647;

/** Anything with these four methods: console, pino, winston… ekaf is silent without one. */
export interface Logger {
  debug(message: string, fields?: object): void;
  info(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error(message: string, fields?: object): void;
}

/** acks as the broker sees it: 'all' (= -1, every in-sync replica), 1 (leader only), 0 (no answer). */
export type Acks = 'all' | -1 | 0 | 1;

/** Settings that can differ per topic and change at runtime with `setTopicConfig`. */
export interface TopicSettings {
  /** Acknowledgements required. Default 'all'. Java `acks`; ekaf had none (always 1). */
  acks: Acks;
  /**
   * How long a batched produce (`produceSyncBatched`/`produceAsyncBatched`) waits for more
   * records before its batch is sent, in ms. Default 5. ekaf `buffer_ttl`; Java `linger.ms`.
   * Unbatched calls do not wait: their records leave as soon as a request slot is free.
   */
  lingerMs: number;
  /** Largest batch, in bytes of encoded records. Default 65536. Java `batch.size`. */
  batchBytes: number;
  /** Largest batch, in records. Default 10000. ekaf `max_buffer_size`. */
  batchRecords: number;
  /**
   * Produce requests in flight per partition. Default 5 (the most idempotence allows). Java
   * `max.in.flight.requests.per.connection`. Until idempotence is on (a later release), a
   * retried batch can land after a later batch of the same partition when this is above 1:
   * use 1 where strict order across retries matters.
   */
  maxInFlight: number;
  /** How records are spread over partitions. Default 'default' (murmur2 for keys, sticky otherwise). */
  partitioner: PartitionerName | PartitionerFunction;
  /**
   * How long the broker may wait for replicas before answering a Produce, in ms. Default 30000.
   * Sent as the request's int32 timeout field: at most MAX_DURATION_MS.
   */
  produceTimeoutMs: number;
  /**
   * Batch compression: 'none', 'gzip', 'snappy', 'lz4' or 'zstd'. Default 'none'. Java
   * `compression.type`; ekaf had none. snappy, lz4 and zstd need their optional npm packages.
   */
  compression: CompressionName;
}

export interface ProducerOptions {
  /** Bootstrap brokers, "host:port" or a list of them (or one comma-separated string). Required. */
  brokers: string | readonly string[];
  /** Sent to brokers with every request. Default 'ekaf'. Java `client.id`. */
  clientId?: string;
  /** Settings for every topic not listed in `topics`. */
  defaults?: Partial<TopicSettings>;
  /** Per-topic overrides, merged over `defaults`. */
  topics?: Record<string, Partial<TopicSettings>>;
  /** Records accepted and not yet acknowledged, at most. Default 1 000 000. */
  maxBufferedRecords?: number;
  /** Bytes (keys + values + headers) accepted and not yet acknowledged, at most. Default 256 MiB. */
  maxBufferedBytes?: number;
  /**
   * How long `produceSync` waits for room when the buffer is full before it rejects with
   * ERR_BUFFER_FULL, in ms. Default 10000. Java `max.block.ms`. `produceAsync` never waits.
   */
  bufferTimeoutMs?: number;
  /**
   * How long a record may take in total, from `produce*()` to its acknowledgement, retries and
   * downtime included, in ms. Default 120000. Java `delivery.timeout.ms`.
   */
  deliveryTimeoutMs?: number;
  /** How long one request may wait for its response, in ms. Default 30000. Java `request.timeout.ms`. */
  requestTimeoutMs?: number;
  /** How long a TCP connect may take, in ms. Default 10000. Java `socket.connection.setup.timeout.ms`. */
  connectTimeoutMs?: number;
  /** First delay before a retry, doubling up to `retryBackoffMaxMs`. Default 100. Java `retry.backoff.ms`. */
  retryBackoffMs?: number;
  /** Cap of the retry delay, in ms. Default 1000. Java `retry.backoff.max.ms`. */
  retryBackoffMaxMs?: number;
  /** Metadata is refreshed at least this often, in ms. Default 300000. Java `metadata.max.age.ms`. */
  metadataMaxAgeMs?: number;
  /**
   * A topic nothing was produced to for this long, in ms, with nothing buffered or in flight, is
   * evicted: its partition workers and topic actor are stopped, and the next produce to it
   * starts them again. Bounds the actors of a producer that sees many topic names (a gateway).
   * Default 300000, between 1000 and 86400000. Java `metadata.max.idle.ms`.
   */
  topicIdleEvictionMs?: number;
  /** Largest Produce request, in bytes; also the largest record accepted. Default 1 MiB. Java `max.request.size`. */
  maxRequestBytes?: number;
  /** Largest response accepted from a broker, in bytes. Default 64 MiB. */
  maxResponseBytes?: number;
  /**
   * Idempotent delivery: retries never duplicate or reorder a partition's records (the broker
   * checks each batch's producer id and sequence number). Default true. Requires acks 'all' and
   * maxInFlight <= 5 on every topic. Java `enable.idempotence`.
   */
  idempotent?: boolean;
  /**
   * TLS to every broker: `true` (Node's trusted roots) or node:tls options
   * `{ ca, cert, key, servername, rejectUnauthorized }`. Off by default. Java
   * `security.protocol=SSL` and the `ssl.*` settings.
   */
  tls?: boolean | TlsOptions;
  /**
   * SASL authentication on every broker connection: `{ mechanism: 'PLAIN' | 'SCRAM-SHA-256' |
   * 'SCRAM-SHA-512', username, password }`, or a function returning it (or a promise of it),
   * called before each connection authenticates (rotated credentials). Off by default. Java
   * `sasl.mechanism` and `sasl.jaas.config`. Use with `tls` unless the network is trusted: PLAIN
   * sends the password as is.
   */
  sasl?: SaslOption;
  /**
   * A durable spool on local disk, so that records survive a process crash or restart during a
   * Kafka outage (Fluent Bit's filesystem buffering, Vector's disk buffers). Off by default.
   * See SpoolOption and the README's "Durable spool" section.
   */
  spool?: SpoolOption;
  /** Where ekaf logs; silent by default. */
  logger?: Logger;
  /**
   * An xstate inspector for the producer's actor system: a function or an observer receiving
   * every inspection event (actor created, event sent, snapshot). The Stately inspector
   * (`@statelyai/inspect`) plugs in here: `inspect: createBrowserInspector().inspect`.
   */
  inspect?: InspectionObserver;
}

/** The `spool` option. Only `dir` is required. */
export interface SpoolOption {
  /** The directory (created if missing). One producer at a time: a second one gets ERR_SPOOL_LOCKED. */
  dir: string;
  /**
   * Disk the spool may use, in bytes. Default 1 GiB. When full, calls are refused with
   * ERR_BUFFER_FULL, as when memory is full; nothing already spooled is dropped.
   */
  maxBytes?: number;
  /** Size at which a segment file is closed and a new one started, in bytes. Default 16 MiB. */
  segmentBytes?: number;
  /**
   * When written entries are forced to the disk itself. Every entry is written (write(2)) before
   * the produce call returns, so it survives the process whatever this says; fsync decides what
   * survives the machine (power loss, kernel crash). 'batch': after every write, before the call
   * returns (slowest, safest); 'interval' (default): every `fsyncIntervalMs`; 'never': when the
   * operating system decides.
   */
  fsync?: 'batch' | 'interval' | 'never';
  /** For fsync 'interval', in ms. Default 1000. */
  fsyncIntervalMs?: number;
  /**
   * What goes to disk. 'downtime' (default): records a topic holds while it cannot send (no
   * metadata yet, a partition without a ready leader), and records that do not fit in memory.
   * 'always': every accepted record, written ahead before produceAsync returns.
   */
  mode?: 'downtime' | 'always';
}

export const SPOOL_DEFAULTS = Object.freeze({
  maxBytes: 1024 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  fsync: 'interval',
  fsyncIntervalMs: 1000,
  mode: 'downtime',
} as const);

/** What xstate's `createActor(..., { inspect })` accepts. */
export type InspectionObserver = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export const TOPIC_DEFAULTS: Readonly<TopicSettings> = Object.freeze({
  acks: 'all',
  lingerMs: 5,
  batchBytes: 64 * 1024,
  batchRecords: 10_000,
  maxInFlight: 5,
  partitioner: 'default',
  produceTimeoutMs: 30_000,
  compression: 'none',
});

/**
 * Bounds of `topicIdleEvictionMs`. Below a second a topic produced to now and then would be torn
 * down and rebuilt between calls; above a day an abandoned topic's actors are as good as leaked.
 */
export const TOPIC_IDLE_EVICTION_MIN_MS = 1000;
export const TOPIC_IDLE_EVICTION_MAX_MS = 86_400_000;

export const PRODUCER_DEFAULTS = Object.freeze({
  clientId: 'ekaf',
  idempotent: true,
  maxBufferedRecords: 1_000_000,
  maxBufferedBytes: 256 * 1024 * 1024,
  bufferTimeoutMs: 10_000,
  deliveryTimeoutMs: 120_000,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 1_000,
  metadataMaxAgeMs: 300_000,
  topicIdleEvictionMs: 300_000,
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 64 * 1024 * 1024,
});

export interface BrokerAddress {
  host: string;
  port: number;
}

/** Options after validation, with every default applied. */
export interface ResolvedOptions extends Required<
  Omit<ProducerOptions, 'brokers' | 'defaults' | 'topics' | 'logger' | 'inspect' | 'tls' | 'sasl' | 'spool'>
> {
  spool: ResolvedSpoolOptions | null;
  inspect: InspectionObserver | undefined;
  tls: TlsOptions | null;
  /** Credentials for each connection, or null without SASL (a function: never serialised). */
  sasl: CredentialsSource | null;
  brokers: BrokerAddress[];
  defaults: TopicSettings;
  topics: Record<string, TopicSettings>;
  logger: Logger;
}

const SILENT: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Validates every option and applies defaults; throws a ConfigError naming the first bad field. */
export function resolveOptions(options: ProducerOptions): ResolvedOptions {
  // JavaScript callers can pass anything: check what arrived, not what the type says.
  if (!isObject(options)) throw new ConfigError('options', 'must be an object');
  const known = new Set([
    ...Object.keys(PRODUCER_DEFAULTS),
    'brokers',
    'defaults',
    'topics',
    'logger',
    'inspect',
    'tls',
    'sasl',
    'spool',
  ]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ConfigError(key, 'is not an ekaf option');
  }
  const resolved = {
    ...PRODUCER_DEFAULTS,
    brokers: parseBrokers(options.brokers),
    logger: validateLogger(options.logger),
    inspect: validateInspect(options.inspect),
    tls: validateTls(options.tls),
    sasl: validateSasl(options.sasl),
    spool: validateSpool(options.spool),
  } as ResolvedOptions;
  for (const [key, fallback] of Object.entries(PRODUCER_DEFAULTS)) {
    const value = (options as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof fallback === 'string') {
      if (typeof value !== 'string' || value.length === 0)
        throw new ConfigError(key, 'must be a non-empty string');
    } else if (typeof fallback === 'boolean') {
      if (typeof value !== 'boolean')
        throw new ConfigError(key, `must be true or false (got ${show(value)})`);
    } else {
      requireInteger(
        key,
        value,
        key === 'topicIdleEvictionMs'
          ? TOPIC_IDLE_EVICTION_MIN_MS
          : key === 'deliveryTimeoutMs' || key.endsWith('Bytes') || key.endsWith('Records')
            ? 1
            : 0,
        key === 'topicIdleEvictionMs'
          ? TOPIC_IDLE_EVICTION_MAX_MS
          : key.endsWith('Ms')
            ? MAX_DURATION_MS
            : Number.MAX_SAFE_INTEGER,
      );
    }
    (resolved as unknown as Record<string, unknown>)[key] = value;
  }
  resolved.defaults = resolveTopicSettings('defaults', TOPIC_DEFAULTS, options.defaults ?? {});
  resolved.topics = {};
  const topics: unknown = options.topics ?? {};
  if (typeof topics !== 'object' || topics === null || Array.isArray(topics)) {
    throw new ConfigError('topics', `must be an object of topic name to settings (got ${show(topics)})`);
  }
  for (const [topic, settings] of Object.entries(topics as Record<string, Partial<TopicSettings>>)) {
    resolved.topics[topic] = resolveTopicSettings(`topics.${topic}`, resolved.defaults, settings);
  }
  checkIdempotence('defaults', resolved.defaults, resolved.idempotent);
  for (const [topic, settings] of Object.entries(resolved.topics)) {
    checkIdempotence(`topics.${topic}`, settings, resolved.idempotent);
  }
  if (resolved.retryBackoffMaxMs < resolved.retryBackoffMs) {
    throw new ConfigError('retryBackoffMaxMs', `must be >= retryBackoffMs (${resolved.retryBackoffMs})`);
  }
  return resolved;
}

/** Merges `partial` over `base`, validating each field; `where` prefixes error field names. */
export function resolveTopicSettings(
  where: string,
  base: Readonly<TopicSettings>,
  partial: Partial<TopicSettings>,
): TopicSettings {
  if (!isObject(partial)) throw new ConfigError(where, `must be an object (got ${show(partial)})`);
  const settings: TopicSettings = { ...base };
  for (const [key, value] of Object.entries(partial) as [keyof TopicSettings, unknown][]) {
    if (value === undefined) continue;
    const field = `${where}.${key}`;
    switch (key) {
      case 'acks':
        if (value !== 'all' && value !== -1 && value !== 0 && value !== 1) {
          throw new ConfigError(field, `must be 'all', -1, 0 or 1 (got ${show(value)})`);
        }
        settings.acks = value;
        break;
      case 'lingerMs':
        settings.lingerMs = requireInteger(field, value, 0, MAX_DURATION_MS);
        break;
      case 'batchBytes':
        settings.batchBytes = requireInteger(field, value, 1);
        break;
      case 'batchRecords':
        settings.batchRecords = requireInteger(field, value, 1);
        break;
      case 'maxInFlight':
        settings.maxInFlight = requireInteger(field, value, 1);
        break;
      case 'produceTimeoutMs':
        settings.produceTimeoutMs = requireInteger(field, value, 1, MAX_DURATION_MS);
        break;
      case 'compression':
        if (!COMPRESSION_NAMES.includes(value as CompressionName)) {
          throw new ConfigError(field, `must be one of ${COMPRESSION_NAMES.join(', ')} (got ${show(value)})`);
        }
        try {
          assertCodecAvailable(value as CompressionName);
        } catch (error) {
          throw new ConfigError(field, (error as Error).message);
        }
        settings.compression = value as CompressionName;
        break;
      case 'partitioner':
        if (typeof value === 'function') {
          settings.partitioner = value as PartitionerFunction;
        } else if (PARTITIONER_NAMES.includes(value as PartitionerName)) {
          settings.partitioner = value as PartitionerName;
        } else {
          throw new ConfigError(field, `must be a function or one of ${PARTITIONER_NAMES.join(', ')}`);
        }
        break;
      default:
        throw new ConfigError(field, 'is not a topic setting');
    }
  }
  return settings;
}

/** Most batches in flight per partition that the broker's idempotence state tracks. */
export const MAX_IDEMPOTENT_IN_FLIGHT = 5;

/**
 * Idempotence needs every in-sync replica's acknowledgement and at most 5 batches in flight per
 * partition. A conflicting setting is an error, not silently overridden.
 */
export function checkIdempotence(where: string, settings: TopicSettings, idempotent: boolean): void {
  if (!idempotent) return;
  if (settings.acks !== 'all' && settings.acks !== -1) {
    throw new ConfigError(
      `${where}.acks`,
      `must be 'all' when idempotent is true (set idempotent: false to use acks ${settings.acks})`,
    );
  }
  if (settings.maxInFlight > MAX_IDEMPOTENT_IN_FLIGHT) {
    throw new ConfigError(
      `${where}.maxInFlight`,
      `must be <= ${MAX_IDEMPOTENT_IN_FLIGHT} when idempotent is true (got ${settings.maxInFlight})`,
    );
  }
}

/** The acks value sent on the wire. */
export function wireAcks(acks: Acks): -1 | 0 | 1 {
  return acks === 'all' ? -1 : acks;
}

/** `value` as an integer in [min, max]; the message names the bound when there is one below 2^53. */
function requireInteger(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(field, `must be ${integerRange(min, max)} (got ${show(value)})`);
  }
  return value;
}

function integerRange(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer >= ${min} and <= ${max}`;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** A value as an error message shows it: JSON where that is faithful, String() otherwise. */
function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'function' || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function parseBrokers(brokers: unknown): BrokerAddress[] {
  const list =
    typeof brokers === 'string' ? brokers.split(',') : Array.isArray(brokers) ? (brokers as unknown[]) : null;
  if (list === null || list.length === 0) {
    throw new ConfigError('brokers', 'must be "host:port" or a non-empty list of them');
  }
  return list.map((entry) => {
    const match = typeof entry === 'string' ? /^\s*(\[[^\]]+\]|[^:\s]+):(\d{1,5})\s*$/.exec(entry) : null;
    const port = match ? Number(match[2]) : 0;
    if (match === null || port < 1 || port > 65535) {
      throw new ConfigError('brokers', `"${String(entry)}" is not "host:port"`);
    }
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
  });
}

function validateInspect(inspect: unknown): InspectionObserver | undefined {
  if (inspect === undefined) return undefined;
  if (
    typeof inspect === 'function' ||
    (isObject(inspect) && typeof Reflect.get(inspect, 'next') === 'function')
  ) {
    return inspect;
  }
  throw new ConfigError('inspect', 'must be a function or an observer with a next() method');
}

function validateLogger(logger: unknown): Logger {
  if (logger === undefined) return SILENT;
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof (logger as Record<string, unknown> | null)?.[method] !== 'function') {
      throw new ConfigError('logger', `must have a ${method}() method`);
    }
  }
  return logger as Logger;
}

const TLS_KEYS = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized'];

function validateTls(value: unknown): TlsOptions | null {
  if (value === undefined || value === false) return null;
  if (value === true) return {};
  if (!isObject(value))
    throw new ConfigError('tls', `must be true, false or node:tls options (got ${show(value)})`);
  for (const [key, option] of Object.entries(value)) {
    if (!TLS_KEYS.includes(key))
      throw new ConfigError(`tls.${key}`, `is not a TLS option (${TLS_KEYS.join(', ')})`);
    if (option === undefined) continue;
    const pem = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);
    if (key === 'rejectUnauthorized' && typeof option !== 'boolean') {
      throw new ConfigError('tls.rejectUnauthorized', `must be true or false (got ${show(option)})`);
    }
    if (key === 'servername' && (typeof option !== 'string' || option.length === 0)) {
      throw new ConfigError('tls.servername', 'must be a non-empty string');
    }
    if ((key === 'cert' || key === 'key') && !pem(option)) {
      throw new ConfigError(`tls.${key}`, 'must be a PEM string or Buffer');
    }
    if (key === 'ca' && !pem(option) && !(Array.isArray(option) && option.every(pem))) {
      throw new ConfigError('tls.ca', 'must be a PEM string or Buffer, or a list of them');
    }
  }
  return { ...(value as TlsOptions) };
}

function validateSasl(value: unknown): CredentialsSource | null {
  if (value === undefined) return null;
  if (typeof value === 'function') return credentialsSource(value as SaslOption);
  const problem = credentialsProblem(value);
  if (problem !== null) throw new ConfigError('sasl', problem);
  return credentialsSource(value as SaslOption);
}

function validateSpool(value: unknown): ResolvedSpoolOptions | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new ConfigError('spool', `must be an object with a dir (got ${show(value)})`);
  const known = ['dir', ...Object.keys(SPOOL_DEFAULTS)];
  for (const key of Object.keys(value)) {
    if (!known.includes(key))
      throw new ConfigError(`spool.${key}`, `is not a spool option (${known.join(', ')})`);
  }
  const option = value as Record<string, unknown>;
  if (typeof option.dir !== 'string' || option.dir.length === 0) {
    throw new ConfigError('spool.dir', `must be a non-empty path (got ${show(option.dir)})`);
  }
  const integer = (
    key: 'maxBytes' | 'segmentBytes' | 'fsyncIntervalMs',
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    const given = option[key];
    if (given === undefined) return SPOOL_DEFAULTS[key];
    return requireInteger(`spool.${key}`, given, min, max);
  };
  const oneOf = <T extends string>(key: 'fsync' | 'mode', choices: readonly T[]): T => {
    const given = option[key] ?? SPOOL_DEFAULTS[key];
    if (!choices.includes(given as T)) {
      throw new ConfigError(
        `spool.${key}`,
        `must be one of ${choices.map((c) => `'${c}'`).join(', ')} (got ${show(given)})`,
      );
    }
    return given as T;
  };
  const segmentBytes = integer('segmentBytes', 64 * 1024);
  const maxBytes = integer('maxBytes', 64 * 1024);
  if (maxBytes < segmentBytes) {
    throw new ConfigError('spool.maxBytes', `must be at least spool.segmentBytes (${segmentBytes})`);
  }
  return {
    dir: option.dir,
    maxBytes,
    segmentBytes,
    fsync: oneOf('fsync', ['batch', 'interval', 'never'] as const),
    fsyncIntervalMs: integer('fsyncIntervalMs', 1, MAX_DURATION_MS),
    mode: oneOf('mode', ['downtime', 'always'] as const),
  };
}
