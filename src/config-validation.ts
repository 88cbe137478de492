import type { TlsOptions } from './network/connection.js';
import type { ResolvedSpoolOptions } from './spool/spool.js';
import {
  MAX_DURATION_MS,
  PRODUCER_DEFAULTS,
  SPOOL_DEFAULTS,
  TOPIC_DEFAULTS,
  TOPIC_IDLE_EVICTION_MAX_MS,
  TOPIC_IDLE_EVICTION_MIN_MS,
  type BrokerAddress,
  type InspectionObserver,
  type Logger,
  type ProducerOptions,
  type ResolvedOptions,
  type TopicSettings,
} from './config.js';
import { isObject, requireInteger, show } from './config-checks.js';
import { checkIdempotence, resolveTopicSettings } from './config-topic-settings.js';
import { ConfigError } from './errors.js';
import {
  credentialsProblem,
  credentialsSource,
  type CredentialsSource,
  type SaslOption,
} from './security/sasl.js';

/**
 * The one validator of a producer's options: every field checked, every default applied, the
 * rules between options enforced. Apart from config.ts, which says what each option is, so that
 * reading an option's meaning does not mean reading how it is checked.
 */

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
    'transactionalId',
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
    transactionalId: validateTransactionalId(options.transactionalId),
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
          : key === 'deliveryTimeoutMs' ||
              key.startsWith('transaction') ||
              key.endsWith('Bytes') ||
              key.endsWith('Records')
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
  checkTransactional(resolved, options);
  return resolved;
}

function validateTransactionalId(id: unknown): string | null {
  if (id === undefined) return null;
  // Kafka's limit for a transactional id is that of a string field (int16 length).
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > 32_767) {
    throw new ConfigError(
      'transactionalId',
      `must be a non-empty string of at most 32767 bytes (got ${show(id)})`,
    );
  }
  return id;
}

/**
 * A transactional producer is idempotent (the coordinator fences by producer id and epoch, and
 * the markers close sequences the broker checks), as Java enforces; the spool is refused: a
 * record read back after a restart belongs to no open transaction.
 */
function checkTransactional(resolved: ResolvedOptions, options: ProducerOptions): void {
  if (resolved.transactionalId === null) return;
  if (options.idempotent === false) {
    throw new ConfigError('idempotent', 'must be true with transactionalId (transactions are idempotent)');
  }
  if (resolved.spool !== null) {
    throw new ConfigError(
      'spool',
      'cannot be used with transactionalId: a spooled record belongs to no open transaction',
    );
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
