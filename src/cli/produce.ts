// `ekaf produce`: one record per input line, like kcat -P. This module reads the options and
// builds the producer; produce-run.ts streams the input, line-splitter.ts turns it into records.
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  MAX_DURATION_MS,
  PRODUCER_DEFAULTS,
  REQUEST_FRAMING_BYTES,
  TOPIC_DEFAULTS,
  type Acks,
} from '../config.js';
import { ConfigError } from '../errors.js';
import { createProducer, type Producer } from '../producer.js';
import { COMPRESSION_NAMES, type CompressionName } from '../protocol/compression.js';
import { FAILED, OK, UsageError } from './exit-codes.js';
import { LineSplitter, unescapeDelimiter } from './line-splitter.js';
import { err, stderrLogger } from './output.js';
import { ProduceRun, type LineEncoding } from './produce-run.js';
import { securityOptions, tlsSetting } from './security-settings.js';
import { brokers, integer, parseCommandLine, setting, type Setting } from './settings.js';

export const PRODUCE_HELP = `Usage: ekaf produce -b <brokers> -t <topic> [options] [file]

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
      --connect-timeout-ms <ms>   Give up (exit code 1) when no broker has answered within <ms>,
                                  naming each address and its error; also the limit of each
                                  connection attempt [EKAF_CONNECT_TIMEOUT_MS] (default: 10000).
                                  Once a broker has answered, records wait for their delivery
                                  timeout instead; when every address answers HTTP (not
                                  Kafka), it gives up at once
      --tls                       Connect to the brokers over TLS [KAFKA_TLS=1]
      --tls-ca <file>             Trust this CA (PEM) instead of the default roots; implies --tls
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

/** How long to wait for a first broker to answer before giving up (--connect-timeout-ms). */
const CONNECT_TIMEOUT_MS = 10_000;

/** The producer's buffer bounds for this command: enough to keep every partition busy. */
const PRODUCE_BUFFER = { maxBufferedRecords: 200_000, maxBufferedBytes: 64 * 1024 * 1024 };

export async function produceCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('produce', args, {
    brokers: { type: 'string', short: 'b' },
    topic: { type: 'string', short: 't' },
    'key-delimiter': { type: 'string', short: 'K' },
    partition: { type: 'string', short: 'p' },
    acks: { type: 'string' },
    compression: { type: 'string' },
    'client-id': { type: 'string' },
    'delivery-timeout-ms': { type: 'string' },
    'connect-timeout-ms': { type: 'string' },
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
  const keyDelimiter = delimiter === undefined ? undefined : parseKeyDelimiter(delimiter);
  const partition = integer(setting(values, 'partition'), 0, 0x7fffffff);
  const acks = parseAcks(setting(values, 'acks', 'EKAF_ACKS'));
  const compression = parseCompression(setting(values, 'compression', 'EKAF_COMPRESSION'));
  const clientId = setting(values, 'client-id', 'KAFKA_CLIENT_ID')?.value;
  const deliveryTimeoutMs = integer(setting(values, 'delivery-timeout-ms'), 1, MAX_DURATION_MS);
  const connectTimeoutMs =
    integer(setting(values, 'connect-timeout-ms', 'EKAF_CONNECT_TIMEOUT_MS'), 1, MAX_DURATION_MS) ??
    CONNECT_TIMEOUT_MS;
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

  // Repeated warnings (a reconnect every second during an outage) print once, then as counts.
  const logger = stderrLogger('warn');
  let producer: Producer;
  try {
    producer = createProducer({
      brokers: brokerList,
      ...(clientId === undefined ? {} : { clientId }),
      ...securityOptions(tlsSetting(values)),
      ...(deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs }),
      connectTimeoutMs,
      ...PRODUCE_BUFFER,
      idempotent: acks === 'all',
      defaults: { acks, compression },
      logger,
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      const option = /compression/.test(error.message) ? '--compression' : 'option';
      throw new UsageError(`${option}: ${error.message}`);
    }
    throw error;
  }

  // Asks for the topic's metadata now, while the input opens (it changes no setting).
  producer.setTopicConfig(topic, {});
  const lines = new LineSplitter({ keyDelimiter, partition });
  // The producer's defaults, which this command does not change: see line-batches.ts.
  const maxRecordBytes = PRODUCER_DEFAULTS.maxRequestBytes - REQUEST_FRAMING_BYTES;
  const encoding: LineEncoding = {
    keyDelimiter,
    partition,
    batchBytes: Math.min(TOPIC_DEFAULTS.batchBytes, maxRecordBytes),
    lingerMs: TOPIC_DEFAULTS.lingerMs,
    maxRecordBytes,
  };
  const run = new ProduceRun(producer, topic, lines, quiet, encoding, {
    connectTimeoutMs,
    afterClose: () => {
      logger.flush();
    },
  });
  return run.run(file === undefined ? process.stdin : fileChunks(file, () => run.lastChunkCopied));
}

/** How much of the file is read at a time. */
const CHUNK_BYTES = 256 * 1024;

/**
 * The file's bytes, a chunk at a time, the next one read while the caller splits this one. A
 * chunk nothing refers to any more once the one after is asked for (`reusable()`: its lines
 * were copied into batches) lends its buffer to a later read: a fresh buffer per chunk was
 * 100 MB of allocations for a 100 MB file, and V8 answers the growth of external memory with
 * full collections (five in `ekaf produce` of 1 M lines, Node 24; one since).
 */
async function* fileChunks(file: string, reusable: () => boolean): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  const readInto = async (buffer: Buffer): Promise<{ buffer: Buffer; bytes: number }> => {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
    return { buffer, bytes: bytesRead };
  };
  let next = readInto(Buffer.allocUnsafe(CHUNK_BYTES));
  try {
    let spare: Buffer | null = null;
    for (;;) {
      const { buffer, bytes } = await next;
      if (bytes === 0) return;
      next = readInto(spare ?? Buffer.allocUnsafe(CHUNK_BYTES));
      yield buffer.subarray(0, bytes);
      spare = reusable() ? buffer : null;
    }
  } finally {
    // A read still under way must end before the file closes (its error, if any, is moot).
    await next.catch(() => undefined);
    await handle.close();
  }
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

/** -K's bytes; empty would split every line before its first byte, so it is refused. */
function parseKeyDelimiter(s: Setting): Buffer {
  const bytes = unescapeDelimiter(s.value);
  if (bytes.length === 0) throw new UsageError(`${s.source} must not be empty`);
  return bytes;
}
