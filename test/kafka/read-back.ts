// Independent read-back of what ekaf wrote to a real Kafka cluster, by two consumers that share
// no code with ekaf nor with each other: kcat (librdkafka, C) and Kafka's own console consumer
// (the Java client). Both give the same record shape, sorted by partition then offset.
//
// Output of either is parsed as it streams in, so that a million records never become one
// giant string.
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toRecord, type ConsumedRecord, type KcatJson } from '../broker/kcat.js';
import { kafkaClasses, runKafkaToolStreaming, type KafkaVersion } from './kafka-jvm.js';

/** One record as read back: what Kafka stored, bytes as bytes, null kept apart from empty. */
export type ReadBackRecord = Omit<ConsumedRecord, 'topic'>;

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ReadBackOptions {
  /**
   * Default 'read_uncommitted' for both readers (the Java consumer's default; librdkafka's own
   * default is read_committed, so it is always passed explicitly).
   */
  isolationLevel?: IsolationLevel;
  /** Stop after this many records. */
  maxMessages?: number;
  /** Only this partition. */
  partition?: number;
  /** The whole run may take this long before the reader is killed. Default 120 s. */
  timeoutMs?: number;
}

/** Splits a byte stream at a one-byte separator, calling onPart for each complete part. */
class ByteSplitter {
  private rest: Buffer = Buffer.alloc(0);
  constructor(
    private readonly separator: number,
    private readonly onPart: (part: Buffer) => void,
  ) {}
  push(chunk: Buffer): void {
    const data = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let start = 0;
    for (let end = data.indexOf(this.separator, start); end >= 0; end = data.indexOf(this.separator, start)) {
      this.onPart(data.subarray(start, end));
      start = end + 1;
    }
    // Copied: a subarray would pin the whole chunk until the next separator.
    this.rest = Buffer.from(data.subarray(start));
  }
  end(): Buffer {
    return this.rest;
  }
}

const byPartitionThenOffset = (a: ReadBackRecord, b: ReadBackRecord): number =>
  a.partition - b.partition || a.offset - b.offset;

// ---------------------------------------------------------------------------------------------
// kcat

/**
 * Reads a topic with kcat from the beginning to the current end of every partition (-e), CRCs
 * checked. Binary-safe, null apart from empty (kcat -J; see test/broker/kcat.ts's readTopic).
 */
export function readWithKcat(
  bootstrap: string,
  topic: string,
  opts: ReadBackOptions = {},
): Promise<ReadBackRecord[]> {
  const args = ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-J'];
  args.push('-X', 'check.crcs=true', '-X', `isolation.level=${opts.isolationLevel ?? 'read_uncommitted'}`);
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.maxMessages !== undefined) args.push('-c', String(opts.maxMessages));
  const timeoutMs = opts.timeoutMs ?? 120_000;

  return new Promise((resolve, reject) => {
    const records: ReadBackRecord[] = [];
    let parseError: Error | undefined;
    // JSON escapes newlines inside strings: every raw \n ends a record.
    const lines = new ByteSplitter(0x0a, (line) => {
      if (line.length === 0 || parseError !== undefined) return;
      try {
        const { partition, offset, timestamp, key, value, headers } = toRecord(
          JSON.parse(line.toString('latin1')) as KcatJson,
        );
        records.push({ partition, offset, timestamp, key, value, headers });
      } catch (err) {
        parseError = err instanceof Error ? err : new Error(String(err));
      }
    });
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      lines.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run kcat (run \`bash scripts/build-harness.sh\`): ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = timedOut
          ? `timed out after ${timeoutMs} ms`
          : `failed (${signal ?? `exit code ${code}`})`;
        reject(new Error(`kcat ${args.join(' ')} ${why}: ${stderr.trim()}`));
      } else if (parseError !== undefined) {
        reject(new Error(`kcat printed a line that is not JSON: ${parseError.message}`));
      } else {
        resolve(records.sort(byPartitionThenOffset));
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The Java console consumer

/**
 * The console consumer prints each field's raw bytes (no deserializer configured), separated by
 * strings we choose: control bytes 0x1d–0x1f separate fields, records and headers. A header's
 * name and value are always joined by ':' (not configurable). So the limits are: keys, values
 * and headers must not contain bytes 0x1d–0x1f, header names must not contain ':', and none may
 * be the nullLiteral itself (it reads back as null). Any other bytes, invalid UTF-8 included,
 * come back as written. Kafka's tools have no base64 or hex formatter to lift this; for
 * arbitrary binary payloads read with kcat.
 */
export const JAVA_READ_BACK_LIMITS = {
  fieldSeparator: 0x1f,
  recordSeparator: 0x1e,
  headerSeparator: 0x1d,
  /** Fixed by DefaultMessageFormatter. */
  headerKeySeparator: 0x3a,
  nullLiteral: '\u001anull\u001a',
} as const;

export interface JavaReadBackOptions extends ReadBackOptions {
  /** The console consumer ends when no record came for this long (--timeout-ms). Default 5 s. */
  idleTimeoutMs?: number;
}

/**
 * Reads a topic from the beginning with Kafka's console consumer (the Java client of
 * `version`), until maxMessages records or idleTimeoutMs without one. Starts a JVM (~2 s) and
 * joins a fresh consumer group.
 */
export async function readWithJavaConsumer(
  version: KafkaVersion,
  bootstrap: string,
  topic: string,
  opts: JavaReadBackOptions = {},
): Promise<ReadBackRecord[]> {
  const L = JAVA_READ_BACK_LIMITS;
  const ch = (byte: number) => String.fromCharCode(byte);
  const formatter: Record<string, string> = {
    'print.timestamp': 'true',
    'print.partition': 'true',
    'print.offset': 'true',
    'print.headers': 'true',
    'print.key': 'true',
    'print.value': 'true',
    'key.separator': ch(L.fieldSeparator),
    'line.separator': ch(L.recordSeparator),
    'headers.separator': ch(L.headerSeparator),
    'null.literal': L.nullLiteral,
  };
  // 4.x renamed --property to --formatter-property (the old name still works, with a warning).
  const propertyFlag = version.startsWith('4.') ? '--formatter-property' : '--property';
  const args = [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
    '--from-beginning',
    '--timeout-ms',
    String(opts.idleTimeoutMs ?? 5_000),
    '--isolation-level',
    opts.isolationLevel ?? 'read_uncommitted',
    ...Object.entries(formatter).flatMap(([k, v]) => [propertyFlag, `${k}=${v}`]),
  ];
  if (opts.maxMessages !== undefined) args.push('--max-messages', String(opts.maxMessages));
  if (opts.partition !== undefined) args.push('--partition', String(opts.partition));

  const dir = mkdtempSync(join(tmpdir(), 'ekaf-read-back-'));
  try {
    const file = join(dir, 'records');
    await runKafkaToolStreaming(version, kafkaClasses(version).consoleConsumer, args, {
      timeoutMs: opts.timeoutMs ?? 120_000,
      stdoutFile: file,
    });
    return await parseJavaOutputFile(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The console consumer's output, as written with JAVA_READ_BACK_LIMITS's separators, parsed.
 * Worked on as latin1 strings (one char per byte): V8's string search and slicing are several
 * times faster than Buffer views per field; only keys, values and headers become Buffers.
 */
export async function parseJavaOutputFile(file: string): Promise<ReadBackRecord[]> {
  const records: ReadBackRecord[] = [];
  const recordSeparator = String.fromCharCode(JAVA_READ_BACK_LIMITS.recordSeparator);
  let rest = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const data = rest + (chunk as Buffer).toString('latin1');
    let start = 0;
    for (let end = data.indexOf(recordSeparator); end >= 0; end = data.indexOf(recordSeparator, start)) {
      records.push(parseJavaRecord(data.slice(start, end)));
      start = end + 1;
    }
    rest = data.slice(start);
  }
  if (rest.length > 0) throw new Error('the console consumer ended in the middle of a record');
  return records.sort(byPartitionThenOffset);
}

/** "CreateTime:ts␟Partition:p␟Offset:o␟headers␟key␟value" (latin1) → a record. */
function parseJavaRecord(line: string): ReadBackRecord {
  const L = JAVA_READ_BACK_LIMITS;
  const sep = String.fromCharCode(L.fieldSeparator);
  const fields: string[] = [];
  let start = 0;
  // The first five fields cannot contain the separator; the value is the rest.
  for (let i = 0; i < 5; i++) {
    const end = line.indexOf(sep, start);
    if (end < 0) throw new Error(`console consumer record with ${i + 1} fields: ${line}`);
    fields.push(line.slice(start, end));
    start = end + 1;
  }
  fields.push(line.slice(start));
  const [ts = '', partition = '', offset = '', headers = '', key = '', value = ''] = fields;
  return {
    // "CreateTime:…" or "LogAppendTime:…"; NO_TIMESTAMP only for pre-0.10 message formats.
    timestamp: ts === 'NO_TIMESTAMP' ? -1 : Number(ts.slice(ts.indexOf(':') + 1)),
    partition: prefixedNumber(partition, 'Partition:'),
    offset: prefixedNumber(offset, 'Offset:'),
    headers: headers === 'NO_HEADERS' ? [] : parseJavaHeaders(headers),
    key: latin1Bytes(key),
    value: latin1Bytes(value),
  };
}

// Module-level rather than closures in parseJavaRecord: a million calls each.
function latin1Bytes(text: string): Buffer | null {
  return text === JAVA_READ_BACK_LIMITS.nullLiteral ? null : Buffer.from(text, 'latin1');
}

function prefixedNumber(text: string, prefix: string): number {
  if (!text.startsWith(prefix)) throw new Error(`expected ${prefix}…, got ${text}`);
  return Number(text.slice(prefix.length));
}

function parseJavaHeaders(text: string): [string, Buffer | null][] {
  const L = JAVA_READ_BACK_LIMITS;
  return text.split(String.fromCharCode(L.headerSeparator)).map((header): [string, Buffer | null] => {
    const colon = header.indexOf(String.fromCharCode(L.headerKeySeparator));
    const name = Buffer.from(colon < 0 ? header : header.slice(0, colon), 'latin1').toString('utf8');
    const value = colon < 0 ? L.nullLiteral : header.slice(colon + 1);
    return [name, latin1Bytes(value)];
  });
}
