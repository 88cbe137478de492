import { describe, expect, it } from 'vitest';
import {
  MAX_DURATION_MS,
  PRODUCER_DEFAULTS,
  SPOOL_DEFAULTS,
  TOPIC_DEFAULTS,
  type Logger,
  type ProducerOptions,
  type TopicSettings,
} from '../src/config.js';
import { resolveTopicSettings, wireAcks } from '../src/config-topic-settings.js';
import { resolveOptions } from '../src/config-validation.js';
import { ConfigError } from '../src/errors.js';
import { PARTITIONER_NAMES, type PartitionerFunction } from '../src/runtime/partitioners.js';

/** Per-topic integer settings, their least and greatest values (durations: 2^31 - 1 ms). */
const integerSettings: [key: keyof TopicSettings, min: number, max: number][] = [
  ['lingerMs', 0, 2_147_483_647],
  ['batchBytes', 1, Number.MAX_SAFE_INTEGER],
  ['batchRecords', 1, Number.MAX_SAFE_INTEGER],
  ['maxInFlight', 1, Number.MAX_SAFE_INTEGER],
  ['produceTimeoutMs', 1, 2_147_483_647],
];

/** Options typed loosely: most tests feed values a TypeScript caller could not write. */
const resolve = (options: Record<string, unknown>) => resolveOptions(options as unknown as ProducerOptions);
const withBrokers = (options: Record<string, unknown>) => resolve({ brokers: 'localhost:9092', ...options });

/** Runs `fn`, expects a ConfigError, and returns it for closer checks. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Expects `fn` to throw a ConfigError for `field` with exactly `message`. */
function expectConfigError(fn: () => unknown, field: string, message: string): void {
  const error = configError(fn);
  expect(error.field).toBe(field);
  expect(error.message).toBe(message);
}

const logger = (): Logger => ({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});

describe('resolveOptions: defaults', () => {
  it('applies every producer and topic default', () => {
    const resolved = resolveOptions({ brokers: 'localhost:9092' });
    const {
      brokers,
      defaults,
      topics,
      logger: silent,
      tls,
      sasl,
      spool,
      transactionalId,
      ...rest
    } = resolved;
    expect(brokers).toEqual([{ host: 'localhost', port: 9092 }]);
    expect(rest).toEqual(PRODUCER_DEFAULTS);
    expect([tls, sasl, spool, transactionalId]).toEqual([null, null, null, null]);
    expect(defaults).toEqual(TOPIC_DEFAULTS);
    expect(topics).toEqual({});
    // The silent logger takes any call and does nothing.
    for (const method of ['debug', 'info', 'warn', 'error'] as const) {
      expect(() => {
        silent[method]('message', { a: 1 });
      }).not.toThrow();
    }
  });

  it('documents the default values', () => {
    expect(PRODUCER_DEFAULTS).toEqual({
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
      transactionTimeoutMs: 60_000,
      transactionCoordinatorTimeoutMs: 60_000,
    });
    expect(TOPIC_DEFAULTS).toEqual({
      acks: 'all',
      lingerMs: 5,
      batchBytes: 1_000_000,
      batchRecords: 10_000,
      maxInFlight: 5,
      partitioner: 'default',
      produceTimeoutMs: 30_000,
      compression: 'none',
    });
    expect(Object.isFrozen(PRODUCER_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(TOPIC_DEFAULTS)).toBe(true);
  });

  it('keeps every valid value given', () => {
    const custom = logger();
    const options: ProducerOptions = {
      brokers: ['a:1', 'b:2'],
      clientId: 'my-app',
      idempotent: false,
      maxBufferedRecords: 10,
      maxBufferedBytes: 2048,
      bufferTimeoutMs: 0,
      deliveryTimeoutMs: 1,
      requestTimeoutMs: 500,
      connectTimeoutMs: 250,
      retryBackoffMs: 0,
      retryBackoffMaxMs: 0,
      metadataMaxAgeMs: 60_000,
      topicIdleEvictionMs: 60_000,
      maxRequestBytes: 4096,
      maxResponseBytes: 8192,
      transactionTimeoutMs: 5_000,
      transactionCoordinatorTimeoutMs: 7_000,
      logger: custom,
    };
    const resolved = resolveOptions(options);
    const { brokers, logger: kept, defaults, topics, tls, sasl, spool, transactionalId, ...rest } = resolved;
    expect([tls, sasl, spool, transactionalId]).toEqual([null, null, null, null]);
    expect(brokers).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
    ]);
    expect(kept).toBe(custom);
    expect(defaults).toEqual(TOPIC_DEFAULTS);
    expect(topics).toEqual({});
    expect(rest).toEqual({
      clientId: 'my-app',
      idempotent: false,
      maxBufferedRecords: 10,
      maxBufferedBytes: 2048,
      bufferTimeoutMs: 0,
      deliveryTimeoutMs: 1,
      requestTimeoutMs: 500,
      connectTimeoutMs: 250,
      retryBackoffMs: 0,
      retryBackoffMaxMs: 0,
      metadataMaxAgeMs: 60_000,
      topicIdleEvictionMs: 60_000,
      maxRequestBytes: 4096,
      maxResponseBytes: 8192,
      transactionTimeoutMs: 5_000,
      transactionCoordinatorTimeoutMs: 7_000,
    });
  });

  it('treats an option set to undefined as absent', () => {
    const resolved = withBrokers({
      clientId: undefined,
      retryBackoffMs: undefined,
      logger: undefined,
      defaults: undefined,
      topics: undefined,
    });
    expect(resolved.clientId).toBe('ekaf');
    expect(resolved.retryBackoffMs).toBe(100);
    expect(resolved.defaults).toEqual(TOPIC_DEFAULTS);
    expect(typeof resolved.logger.info).toBe('function');
  });

  it('merges `defaults` over the built-in defaults and `topics` over `defaults`', () => {
    const partitioner: PartitionerFunction = () => 0;
    const resolved = resolveOptions({
      brokers: 'k:9092',
      idempotent: false,
      defaults: { lingerMs: 20, acks: 1 },
      topics: {
        orders: { maxInFlight: 1, partitioner },
        audit: { acks: 'all', lingerMs: 0 },
        plain: {},
      },
    });
    expect(resolved.defaults).toEqual({ ...TOPIC_DEFAULTS, lingerMs: 20, acks: 1 });
    expect(resolved.topics.orders).toEqual({
      ...TOPIC_DEFAULTS,
      lingerMs: 20,
      acks: 1,
      maxInFlight: 1,
      partitioner,
    });
    expect(resolved.topics.orders?.partitioner).toBe(partitioner);
    expect(resolved.topics.audit).toEqual({ ...TOPIC_DEFAULTS, lingerMs: 0, acks: 'all' });
    expect(resolved.topics.plain).toEqual(resolved.defaults);
    // Each topic gets its own object: changing one changes no other.
    expect(resolved.topics.plain).not.toBe(resolved.defaults);
    expect(resolved.defaults).not.toBe(TOPIC_DEFAULTS);
  });

  it('ignores topic settings set to undefined', () => {
    const resolved = withBrokers({ defaults: { lingerMs: undefined }, topics: { t: { acks: undefined } } });
    expect(resolved.defaults.lingerMs).toBe(5);
    expect(resolved.topics.t?.acks).toBe('all');
  });
});

describe('resolveOptions: rejections', () => {
  it('rejects options that are not an object', () => {
    for (const options of [undefined, 'localhost:9092', 9092, true]) {
      expectConfigError(
        () => resolve(options as unknown as Record<string, unknown>),
        'options',
        'options: must be an object',
      );
    }
  });

  it('rejects null options with a ConfigError', () => {
    expectConfigError(
      () => resolve(null as unknown as Record<string, unknown>),
      'options',
      'options: must be an object',
    );
  });

  it('rejects unknown options, naming them', () => {
    expectConfigError(() => withBrokers({ lingerMs: 5 }), 'lingerMs', 'lingerMs: is not an ekaf option');
    expectConfigError(() => withBrokers({ acks: 'all' }), 'acks', 'acks: is not an ekaf option');
    expectConfigError(() => withBrokers({ clientID: 'x' }), 'clientID', 'clientID: is not an ekaf option');
    // The check is on keys: an unknown option is rejected even when undefined.
    expectConfigError(
      () => withBrokers({ batchSize: undefined }),
      'batchSize',
      'batchSize: is not an ekaf option',
    );
  });

  it('is a ConfigError with code ERR_CONFIG, not retriable', () => {
    const error = configError(() => withBrokers({ maxBufferedRecords: 0 }));
    expect(error.code).toBe('ERR_CONFIG');
    expect(error.retriable).toBe(false);
    expect(error.name).toBe('ConfigError');
  });

  /** Sizes have no bound below 2^53; every duration is at most 2^31 - 1 ms (timers, int32 fields). */
  const NO_MAX = Number.MAX_SAFE_INTEGER;
  const integerOptions: [key: string, min: number, max: number][] = [
    ['maxBufferedRecords', 1, NO_MAX],
    ['maxBufferedBytes', 1, NO_MAX],
    ['bufferTimeoutMs', 0, 2_147_483_647],
    ['deliveryTimeoutMs', 1, 2_147_483_647],
    ['requestTimeoutMs', 0, 2_147_483_647],
    ['connectTimeoutMs', 0, 2_147_483_647],
    ['retryBackoffMs', 0, 2_147_483_647],
    ['retryBackoffMaxMs', 0, 2_147_483_647],
    ['metadataMaxAgeMs', 0, 2_147_483_647],
    ['topicIdleEvictionMs', 1000, 86_400_000],
    ['maxRequestBytes', 1, NO_MAX],
    ['maxResponseBytes', 1, NO_MAX],
    ['transactionTimeoutMs', 1, 2_147_483_647],
    ['transactionCoordinatorTimeoutMs', 1, 2_147_483_647],
  ];
  const rule = (min: number, max: number): string =>
    max === NO_MAX ? `an integer >= ${min}` : `an integer >= ${min} and <= ${max}`;

  it('lists every integer option in this test', () => {
    const numeric = Object.entries(PRODUCER_DEFAULTS)
      .filter(([, value]) => typeof value === 'number')
      .map(([key]) => key);
    expect(integerOptions.map(([key]) => key).sort()).toEqual(numeric.sort());
  });

  it.each(integerOptions)('%s must be an integer >= %i and <= %i', (key, min, max) => {
    // The smallest and largest valid values are accepted (retryBackoffMaxMs must also be >= retryBackoffMs).
    const extra = key === 'retryBackoffMaxMs' ? { retryBackoffMs: 0 } : {};
    expect((withBrokers({ [key]: min, ...extra }) as unknown as Record<string, unknown>)[key]).toBe(min);
    const top = key === 'retryBackoffMs' ? { retryBackoffMaxMs: max } : {};
    expect((withBrokers({ [key]: max, ...top }) as unknown as Record<string, unknown>)[key]).toBe(max);
    const tooLarge = max === NO_MAX ? [] : [max + 1, 3_000_000_000];
    for (const bad of [min - 1, -5, 1.5, '100', null, true, [], {}, 2 ** 53, ...tooLarge]) {
      expectConfigError(
        () => withBrokers({ [key]: bad }),
        key,
        `${key}: must be ${rule(min, max)} (got ${JSON.stringify(bad)})`,
      );
    }
    // NaN and ±Infinity are rejected too (their message is checked in a test of its own below).
    for (const bad of [NaN, Infinity, -Infinity])
      expect(configError(() => withBrokers({ [key]: bad })).field).toBe(key);
  });

  it('clientId must be a non-empty string', () => {
    for (const bad of ['', 5, null, ['ekaf'], {}]) {
      expectConfigError(
        () => withBrokers({ clientId: bad }),
        'clientId',
        'clientId: must be a non-empty string',
      );
    }
  });

  it('retryBackoffMaxMs must not be below retryBackoffMs', () => {
    expectConfigError(
      () => withBrokers({ retryBackoffMs: 500, retryBackoffMaxMs: 100 }),
      'retryBackoffMaxMs',
      'retryBackoffMaxMs: must be >= retryBackoffMs (500)',
    );
    // The comparison uses the defaults for the one that is not given (max 1000, base 100).
    expectConfigError(
      () => withBrokers({ retryBackoffMs: 1001 }),
      'retryBackoffMaxMs',
      'retryBackoffMaxMs: must be >= retryBackoffMs (1001)',
    );
    expectConfigError(
      () => withBrokers({ retryBackoffMaxMs: 99 }),
      'retryBackoffMaxMs',
      'retryBackoffMaxMs: must be >= retryBackoffMs (100)',
    );
    expect(withBrokers({ retryBackoffMs: 300, retryBackoffMaxMs: 300 }).retryBackoffMaxMs).toBe(300);
    expect(withBrokers({ retryBackoffMs: 1000 }).retryBackoffMs).toBe(1000);
  });

  it('rejects bad topic settings in `defaults` and in `topics`, naming the field', () => {
    expectConfigError(
      () => withBrokers({ topics: { orders: { maxInFlight: 0 } } }),
      'topics.orders.maxInFlight',
      'topics.orders.maxInFlight: must be an integer >= 1 (got 0)',
    );
    expectConfigError(
      () => withBrokers({ defaults: { lingerMs: -1 } }),
      'defaults.lingerMs',
      'defaults.lingerMs: must be an integer >= 0 and <= 2147483647 (got -1)',
    );
    expectConfigError(
      () => withBrokers({ topics: { 'a.b': { color: 'red' } } }),
      'topics.a.b.color',
      'topics.a.b.color: is not a topic setting',
    );
    expectConfigError(
      () => withBrokers({ defaults: 'fast' }),
      'defaults',
      'defaults: must be an object (got "fast")',
    );
    expectConfigError(
      () => withBrokers({ topics: { orders: 5 } }),
      'topics.orders',
      'topics.orders: must be an object (got 5)',
    );
  });

  it('falls back to defaults for `defaults: null` and `topics: null`', () => {
    const resolved = withBrokers({ defaults: null, topics: null });
    expect(resolved.defaults).toEqual(TOPIC_DEFAULTS);
    expect(resolved.topics).toEqual({});
  });

  it('rejects a topic whose settings are null with a ConfigError', () => {
    expectConfigError(
      () => withBrokers({ topics: { orders: null } }),
      'topics.orders',
      'topics.orders: must be an object (got null)',
    );
  });

  it('rejects `topics` that is not an object, naming `topics`', () => {
    for (const bad of [5, true, 'orders']) {
      expect(configError(() => withBrokers({ topics: bad })).field).toBe('topics');
    }
  });

  it('rejects a BigInt with a ConfigError', () => {
    expect(configError(() => withBrokers({ maxBufferedRecords: 5n })).field).toBe('maxBufferedRecords');
    expect(configError(() => withBrokers({ defaults: { acks: 1n } })).field).toBe('defaults.acks');
  });

  it('names NaN and Infinity as such in the message', () => {
    expect(configError(() => withBrokers({ requestTimeoutMs: NaN })).message).toBe(
      'requestTimeoutMs: must be an integer >= 0 and <= 2147483647 (got NaN)',
    );
    expect(configError(() => withBrokers({ defaults: { lingerMs: Infinity } })).message).toBe(
      'defaults.lingerMs: must be an integer >= 0 and <= 2147483647 (got Infinity)',
    );
  });

  it('bounds every duration at 2^31 - 1 ms, the int32 of the wire and the limit of Node timers', () => {
    expect(MAX_DURATION_MS).toBe(2 ** 31 - 1);
    // Every *Ms option, producer-wide, per topic and of the spool, is in a table of this file.
    const durations = [
      ...Object.keys(PRODUCER_DEFAULTS),
      ...Object.keys(TOPIC_DEFAULTS),
      ...Object.keys(SPOOL_DEFAULTS),
    ].filter((key) => key.endsWith('Ms'));
    expect(durations.sort()).toEqual(
      [
        // topicIdleEvictionMs has a bound of its own, below this one (one day).
        ...integerOptions.filter(([, , max]) => max <= MAX_DURATION_MS).map(([key]) => key),
        ...integerSettings.filter(([, , max]) => max === MAX_DURATION_MS).map(([key]) => key),
        'fsyncIntervalMs',
      ].sort(),
    );
  });
});

describe('resolveOptions: transactions', () => {
  it('takes a transactionalId, and refuses what cannot be transactional', () => {
    expect(withBrokers({ transactionalId: 'orders-1' }).transactionalId).toBe('orders-1');
    expectConfigError(
      () => withBrokers({ transactionalId: '' }),
      'transactionalId',
      'transactionalId: must be a non-empty string of at most 32767 bytes (got "")',
    );
    expectConfigError(
      () => withBrokers({ transactionalId: 'a', idempotent: false }),
      'idempotent',
      'idempotent: must be true with transactionalId (transactions are idempotent)',
    );
    expect(configError(() => withBrokers({ transactionalId: 'a', defaults: { acks: 1 } })).field).toBe(
      'defaults.acks',
    );
    expect(configError(() => withBrokers({ transactionalId: 'a', spool: { dir: '/tmp/x' } })).field).toBe(
      'spool',
    );
  });
});

describe('resolveOptions: brokers', () => {
  const brokers = (value: unknown) => resolve({ brokers: value }).brokers;

  it('parses one "host:port"', () => {
    expect(brokers('localhost:9092')).toEqual([{ host: 'localhost', port: 9092 }]);
    expect(brokers('10.0.0.1:1')).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(brokers('kafka-1.example.com:65535')).toEqual([{ host: 'kafka-1.example.com', port: 65535 }]);
  });

  it('parses a comma-separated list, trimming spaces', () => {
    expect(brokers('a:1,b:2, c:3 ,  d:4')).toEqual([
      { host: 'a', port: 1 },
      { host: 'b', port: 2 },
      { host: 'c', port: 3 },
      { host: 'd', port: 4 },
    ]);
  });

  it('parses an array, in order', () => {
    expect(brokers(['b:2', ' a:1 '])).toEqual([
      { host: 'b', port: 2 },
      { host: 'a', port: 1 },
    ]);
  });

  it('parses bracketed IPv6 addresses, without the brackets', () => {
    expect(brokers('[::1]:9092')).toEqual([{ host: '::1', port: 9092 }]);
    expect(brokers(['[fe80::1:2]:19092', 'h:1'])).toEqual([
      { host: 'fe80::1:2', port: 19092 },
      { host: 'h', port: 1 },
    ]);
    expect(brokers('[::1]:1,[2001:db8::7]:2')).toEqual([
      { host: '::1', port: 1 },
      { host: '2001:db8::7', port: 2 },
    ]);
  });

  it('requires brokers, as a string or a non-empty list', () => {
    const message = 'brokers: must be "host:port" or a non-empty list of them';
    for (const bad of [undefined, null, [], 9092, { host: 'a', port: 1 }]) {
      expectConfigError(() => brokers(bad), 'brokers', message);
    }
    expectConfigError(() => resolve({}), 'brokers', message);
  });

  it('rejects entries that are not "host:port", quoting them', () => {
    const bad = [
      '',
      'localhost',
      'localhost:',
      ':9092',
      'localhost:0',
      'localhost:65536',
      'localhost:123456',
      'localhost:port',
      'localhost:-1',
      'local host:9092',
      '::1:9092',
      '[::1]',
      '[::1]9092',
      'a:1:2',
      'kafka://a:1',
    ];
    for (const entry of bad) {
      expectConfigError(() => brokers(entry), 'brokers', `brokers: "${entry}" is not "host:port"`);
      expectConfigError(() => brokers(['ok:1', entry]), 'brokers', `brokers: "${entry}" is not "host:port"`);
    }
    // Empty entries of a comma list, non-string array entries.
    expectConfigError(() => brokers('a:1,,b:2'), 'brokers', 'brokers: "" is not "host:port"');
    expectConfigError(() => brokers('a:1,'), 'brokers', 'brokers: "" is not "host:port"');
    expectConfigError(() => brokers(['a:1', 9092]), 'brokers', 'brokers: "9092" is not "host:port"');
    expectConfigError(() => brokers([null]), 'brokers', 'brokers: "null" is not "host:port"');
  });
});

describe('resolveOptions: logger', () => {
  it('keeps a logger with the four methods (console included)', () => {
    const custom = logger();
    expect(withBrokers({ logger: custom }).logger).toBe(custom);
    expect(withBrokers({ logger: console }).logger).toBe(console);
    // Extra members and class instances are fine.
    class Pino {
      level = 'info';
      debug(): void {}
      info(): void {}
      warn(): void {}
      error(): void {}
    }
    const pino = new Pino();
    expect(withBrokers({ logger: pino }).logger).toBe(pino);
  });

  it('names the first missing method', () => {
    for (const method of ['debug', 'info', 'warn', 'error'] as const) {
      const partial: Record<string, unknown> = Object.fromEntries(
        Object.entries(logger()).filter(([name]) => name !== method),
      );
      expectConfigError(
        () => withBrokers({ logger: partial }),
        'logger',
        `logger: must have a ${method}() method`,
      );
      partial[method] = 'not a function';
      expectConfigError(
        () => withBrokers({ logger: partial }),
        'logger',
        `logger: must have a ${method}() method`,
      );
    }
  });

  it('rejects loggers that are not objects', () => {
    for (const bad of [null, 'console', 5, true, () => undefined]) {
      expectConfigError(() => withBrokers({ logger: bad }), 'logger', 'logger: must have a debug() method');
    }
  });
});

describe('inspect option', () => {
  it('takes a function or an observer, and names the field otherwise', () => {
    const fn = (): void => undefined;
    expect(resolveOptions({ brokers: 'k:1', inspect: fn }).inspect).toBe(fn);
    const observer = { next: fn };
    expect(resolveOptions({ brokers: 'k:1', inspect: observer }).inspect).toBe(observer);
    expect(resolveOptions({ brokers: 'k:1' }).inspect).toBeUndefined();
    expectConfigError(
      () => resolveOptions({ brokers: 'k:1', inspect: 42 as never }),
      'inspect',
      'inspect: must be a function or an observer with a next() method',
    );
  });
});

describe('idempotence settings', () => {
  it('requires acks all and at most 5 in flight unless idempotent is false', () => {
    expectConfigError(
      () => resolveOptions({ brokers: 'k:1', defaults: { acks: 1 } }),
      'defaults.acks',
      "defaults.acks: must be 'all' when idempotent is true (set idempotent: false to use acks 1)",
    );
    expectConfigError(
      () => resolveOptions({ brokers: 'k:1', topics: { t: { maxInFlight: 6 } } }),
      'topics.t.maxInFlight',
      'topics.t.maxInFlight: must be <= 5 when idempotent is true (got 6)',
    );
    expect(
      resolveOptions({ brokers: 'k:1', idempotent: false, topics: { t: { acks: 0, maxInFlight: 20 } } })
        .topics.t,
    ).toMatchObject({ acks: 0, maxInFlight: 20 });
    expectConfigError(
      () => resolveOptions({ brokers: 'k:1', idempotent: 'yes' as never }),
      'idempotent',
      'idempotent: must be true or false (got "yes")',
    );
  });
});

describe('resolveTopicSettings', () => {
  const base: TopicSettings = { ...TOPIC_DEFAULTS };
  const settings = (partial: unknown, where = 'topics.orders') =>
    resolveTopicSettings(where, base, partial as Partial<TopicSettings>);

  it('merges over the base without changing it', () => {
    const before = { ...base };
    const merged = settings({ lingerMs: 50, batchRecords: 7 });
    expect(merged).toEqual({ ...before, lingerMs: 50, batchRecords: 7 });
    expect(base).toEqual(before);
    expect(settings({})).toEqual(base);
    expect(settings({})).not.toBe(base);
  });

  it.each(integerSettings)('%s must be an integer >= %i and <= %i', (key, min, max) => {
    expect(settings({ [key]: min })[key]).toBe(min);
    expect(settings({ [key]: 123_456 })[key]).toBe(123_456);
    expect(settings({ [key]: max })[key]).toBe(max);
    // 3 000 000 000 ms as produceTimeoutMs once reached the wire and crashed the process.
    const tooLarge = max === Number.MAX_SAFE_INTEGER ? [] : [max + 1, 3_000_000_000];
    const rule =
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer >= ${min} and <= ${max}`;
    for (const bad of [min - 1, 2.5, '10', null, false, 2 ** 53, [1], ...tooLarge]) {
      expectConfigError(
        () => settings({ [key]: bad }),
        `topics.orders.${key}`,
        `topics.orders.${key}: must be ${rule} (got ${JSON.stringify(bad)})`,
      );
    }
    for (const bad of [NaN, Infinity])
      expect(configError(() => settings({ [key]: bad })).field).toBe(`topics.orders.${key}`);
  });

  it('acks must be "all", -1, 0 or 1', () => {
    for (const acks of ['all', -1, 0, 1] as const) expect(settings({ acks }).acks).toBe(acks);
    for (const bad of ['1', 'ALL', 'none', 2, -2, null, true]) {
      expectConfigError(
        () => settings({ acks: bad }, 'defaults'),
        'defaults.acks',
        `defaults.acks: must be 'all', -1, 0 or 1 (got ${JSON.stringify(bad)})`,
      );
    }
  });

  it('partitioner must be a function or a built-in name', () => {
    for (const name of PARTITIONER_NAMES) expect(settings({ partitioner: name }).partitioner).toBe(name);
    const custom: PartitionerFunction = () => 1;
    expect(settings({ partitioner: custom }).partitioner).toBe(custom);
    for (const bad of ['murmur', 'DEFAULT', '', 3, null, {}]) {
      expectConfigError(
        () => settings({ partitioner: bad }),
        'topics.orders.partitioner',
        `topics.orders.partitioner: must be a function or one of ${PARTITIONER_NAMES.join(', ')}`,
      );
    }
  });

  it('rejects unknown settings, and names them with `where`', () => {
    expectConfigError(
      () => settings({ linger: 5 }),
      'topics.orders.linger',
      'topics.orders.linger: is not a topic setting',
    );
    expectConfigError(
      () => settings({ clientId: 'x' }, 'defaults'),
      'defaults.clientId',
      'defaults.clientId: is not a topic setting',
    );
  });

  it('rejects a partial that is not an object', () => {
    for (const [bad, shown] of [
      ['x', '"x"'],
      [5, '5'],
      [undefined, 'undefined'],
      [true, 'true'],
    ] as const) {
      expectConfigError(
        () => settings(bad, 'topics.t'),
        'topics.t',
        `topics.t: must be an object (got ${shown})`,
      );
    }
  });

  it('stops at the first bad field, leaving the base untouched', () => {
    const before = { ...base };
    expect(configError(() => settings({ lingerMs: 1, maxInFlight: 0, acks: 7 })).field).toBe(
      'topics.orders.maxInFlight',
    );
    expect(base).toEqual(before);
  });
});

describe('wireAcks', () => {
  it("sends 'all' as -1 and the numbers as they are", () => {
    expect(wireAcks('all')).toBe(-1);
    expect(wireAcks(-1)).toBe(-1);
    expect(wireAcks(0)).toBe(0);
    expect(wireAcks(1)).toBe(1);
  });
});

describe('resolveOptions: tls and sasl', () => {
  it('takes tls as true, false or node:tls options, naming what is wrong', () => {
    expect(withBrokers({ tls: true }).tls).toEqual({});
    expect(withBrokers({ tls: false }).tls).toBeNull();
    const ca = '-----BEGIN CERTIFICATE-----\n...';
    expect(withBrokers({ tls: { ca, servername: 'kafka.example', rejectUnauthorized: true } }).tls).toEqual({
      ca,
      servername: 'kafka.example',
      rejectUnauthorized: true,
    });
    expectConfigError(
      () => withBrokers({ tls: 'yes' }),
      'tls',
      'tls: must be true, false or node:tls options (got "yes")',
    );
    expectConfigError(
      () => withBrokers({ tls: { ciphers: 'x' } }),
      'tls.ciphers',
      'tls.ciphers: is not a TLS option (ca, cert, key, servername, rejectUnauthorized)',
    );
    expectConfigError(
      () => withBrokers({ tls: { rejectUnauthorized: 'no' } }),
      'tls.rejectUnauthorized',
      'tls.rejectUnauthorized: must be true or false (got "no")',
    );
    expectConfigError(
      () => withBrokers({ tls: { ca: 5 } }),
      'tls.ca',
      'tls.ca: must be a PEM string or Buffer, or a list of them',
    );
  });

  it('takes sasl credentials or a function, naming what is wrong without echoing the password', async () => {
    const password = 'p4ss-w0rd-secret';
    const resolved = withBrokers({ sasl: { mechanism: 'scram-sha-512', username: 'app', password } });
    expect(await resolved.sasl?.()).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'app', password });
    // Kept in a function: not in JSON, not in util.inspect.
    expect(JSON.stringify(resolved)).not.toContain(password);
    const { inspect } = await import('node:util');
    expect(inspect(resolved, { depth: 10 })).not.toContain(password);

    expectConfigError(
      () => withBrokers({ sasl: { mechanism: 'GSSAPI', username: 'app', password } }),
      'sasl',
      'sasl: mechanism must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512',
    );
    expectConfigError(
      () => withBrokers({ sasl: { mechanism: 'PLAIN', username: '', password } }),
      'sasl',
      'sasl: username must be a non-empty string',
    );
    expectConfigError(
      () => withBrokers({ sasl: { mechanism: 'PLAIN', username: 'app', password: 5 } }),
      'sasl',
      'sasl: password must be a string',
    );
    // A function is called for each connection; what it gives is checked then.
    let calls = 0;
    const rotating = withBrokers({
      sasl: () => ({ mechanism: 'PLAIN', username: `app-${++calls}`, password }),
    });
    expect((await rotating.sasl?.())?.username).toBe('app-1');
    expect((await rotating.sasl?.())?.username).toBe('app-2');
    const broken = withBrokers({ sasl: () => ({ mechanism: 'PLAIN', username: 'app' }) as never });
    await expect(broken.sasl?.()).rejects.toThrow(
      "SASL authentication failed: the sasl function's credentials: password must be a string",
    );
  });
});

describe('resolveOptions: spool', () => {
  it('applies the defaults around a dir, and keeps every valid value given', () => {
    expect(withBrokers({ spool: { dir: '/var/spool/ekaf' } }).spool).toEqual({
      dir: '/var/spool/ekaf',
      ...SPOOL_DEFAULTS,
    });
    expect(SPOOL_DEFAULTS).toEqual({
      maxBytes: 1024 ** 3,
      segmentBytes: 16 * 1024 ** 2,
      fsync: 'interval',
      fsyncIntervalMs: 1000,
      mode: 'downtime',
    });
    const given = {
      dir: 'd',
      maxBytes: 1 << 20,
      segmentBytes: 1 << 16,
      fsync: 'batch',
      fsyncIntervalMs: 5,
      mode: 'always',
    };
    expect(withBrokers({ spool: given }).spool).toEqual(given);
    expect(withBrokers({ spool: undefined }).spool).toBeNull();
  });

  it('names the field and the rule for each wrong value', () => {
    const cases: [unknown, string, string][] = [
      ['/tmp/x', 'spool', 'spool: must be an object with a dir (got "/tmp/x")'],
      [{}, 'spool.dir', 'spool.dir: must be a non-empty path (got undefined)'],
      [{ dir: '' }, 'spool.dir', 'spool.dir: must be a non-empty path (got "")'],
      [
        { dir: 'd', size: 1 },
        'spool.size',
        'spool.size: is not a spool option (dir, maxBytes, segmentBytes, fsync, fsyncIntervalMs, mode)',
      ],
      [{ dir: 'd', maxBytes: -1 }, 'spool.maxBytes', 'spool.maxBytes: must be an integer >= 65536 (got -1)'],
      [
        { dir: 'd', maxBytes: 1.5e6 + 0.5 },
        'spool.maxBytes',
        'spool.maxBytes: must be an integer >= 65536 (got 1500000.5)',
      ],
      [
        { dir: 'd', segmentBytes: '16m' },
        'spool.segmentBytes',
        'spool.segmentBytes: must be an integer >= 65536 (got "16m")',
      ],
      [
        { dir: 'd', maxBytes: 1 << 17, segmentBytes: 1 << 18 },
        'spool.maxBytes',
        'spool.maxBytes: must be at least spool.segmentBytes (262144)',
      ],
      [
        { dir: 'd', fsync: 'always' },
        'spool.fsync',
        "spool.fsync: must be one of 'batch', 'interval', 'never' (got \"always\")",
      ],
      [
        { dir: 'd', fsyncIntervalMs: 0 },
        'spool.fsyncIntervalMs',
        'spool.fsyncIntervalMs: must be an integer >= 1 and <= 2147483647 (got 0)',
      ],
      [
        { dir: 'd', fsyncIntervalMs: 2 ** 31 },
        'spool.fsyncIntervalMs',
        'spool.fsyncIntervalMs: must be an integer >= 1 and <= 2147483647 (got 2147483648)',
      ],
      [
        { dir: 'd', mode: 'disk' },
        'spool.mode',
        "spool.mode: must be one of 'downtime', 'always' (got \"disk\")",
      ],
    ];
    for (const [spool, field, message] of cases)
      expectConfigError(() => withBrokers({ spool }), field, message);
  });
});
