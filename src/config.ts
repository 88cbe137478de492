import type { InspectionEvent, Observer } from 'xstate';
import type { CompressionName } from './protocol/compression.js';
import type { TlsOptions } from './network/connection.js';
import type { ResolvedSpoolOptions } from './spool/spool.js';
import type { PartitionerFunction, PartitionerName } from './runtime/partitioners.js';
import type { CredentialsSource, SaslOption } from './security/sasl.js';

/**
 * Every option of ekaf and its default. Each option's doc comment gives its ekaf (Erlang) and
 * Java client equivalents where there is one. Every duration (`*Ms`) is an integer number of
 * ms, at most MAX_DURATION_MS. Validation: config-validation.ts (resolveOptions) and
 * config-topic-settings.ts (the per-topic settings, also changed at runtime).
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
   * Unbatched calls do not wait for it: their records leave at once when nothing is in flight
   * to their broker, else with the next request, when the one in flight is answered
   * (BrokerSender.collect).
   */
  lingerMs: number;
  /**
   * Largest batch, in bytes of encoded records. Default 1000000, librdkafka's `batch.size` and
   * franz-go's (Java's is 16384): large batches cost the brokers far less per record, and a
   * batch starts in a buffer the size its partition's last batch needed, so that partitions
   * sending little hold little. Java `batch.size`.
   */
  batchBytes: number;
  /** Largest batch, in records. Default 10000. ekaf `max_buffer_size`. */
  batchRecords: number;
  /**
   * Produce requests in flight per partition. Default 5 (the most idempotence allows). Java
   * `max.in.flight.requests.per.connection`. Only full batches go while one is in flight (see
   * lingerMs). Without idempotence, a retried batch can land after a later batch of the same
   * partition when this is above 1: use 1 where strict order across retries matters.
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
   * `compression.type`; ekaf had none. No native addon is needed: see README, Compression.
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
   * Makes the producer transactional: records are produced inside transactions
   * (`beginTransaction()`, `transaction(fn)`) that commit or abort as a whole, and a new producer
   * with the same id fences the old one and aborts what it left open. Unique per producer
   * instance that must not run twice at once (one per gateway worker, say), stable across its
   * restarts. Requires idempotence (acks 'all', maxInFlight <= 5); not with `spool`. None by
   * default. Java `transactional.id`.
   */
  transactionalId?: string;
  /**
   * How long a transaction may stay open before the transaction coordinator aborts it, in ms.
   * Default 60000; the broker refuses values above its `transaction.max.timeout.ms` (15 min by
   * default). Java `transaction.timeout.ms`.
   */
  transactionTimeoutMs?: number;
  /**
   * How long a transaction operation (initialization, adding partitions, sendOffsets, commit,
   * abort) may wait for the transaction coordinator, retries and coordinator moves included,
   * before it fails with ERR_TRANSACTION_TIMEOUT. Default 60000. Java `max.block.ms` (for
   * `initTransactions`, `commitTransaction`, `abortTransaction`).
   */
  transactionCoordinatorTimeoutMs?: number;
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

/**
 * Room kept in a request for the batch header, record framing and request header: a record may
 * be at most maxRequestBytes less this, and so may a batch.
 */
export const REQUEST_FRAMING_BYTES = 512;

export const TOPIC_DEFAULTS: Readonly<TopicSettings> = Object.freeze({
  acks: 'all',
  lingerMs: 5,
  batchBytes: 1_000_000,
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
  transactionTimeoutMs: 60_000,
  transactionCoordinatorTimeoutMs: 60_000,
});

export interface BrokerAddress {
  host: string;
  port: number;
}

/** Options after validation, with every default applied. */
export interface ResolvedOptions extends Required<
  Omit<
    ProducerOptions,
    'brokers' | 'defaults' | 'topics' | 'logger' | 'inspect' | 'tls' | 'sasl' | 'spool' | 'transactionalId'
  >
> {
  /** Null for a producer that is not transactional. */
  transactionalId: string | null;
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
