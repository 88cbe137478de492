// kcat (librdkafka 2.0.2's command-line client) as the independent producer
// and consumer in integration tests: what our client writes is read back by a
// client that shares no code with it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch, as stored in the batch (create or log-append time). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
}

/** kcat -J's line, with strings decoded as latin1 (see readTopic). Also parsed by test/kafka/read-back.ts. */
export interface KcatJson {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  /** Flat name/value pairs: ["name1", "value1", "name2", null, ...]. */
  headers?: (string | null)[];
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Reads a topic from the beginning to the end of every partition (also empty
 * ones), with CRC checks on, sorted by partition then offset.
 *
 * Binary-safe: kcat -J writes keys, values and headers as JSON strings with its
 * JSON library's escaping, which escapes control bytes as \u00XX, `"` and `\`,
 * and passes every other byte through unchanged, even invalid UTF-8. Decoding
 * the output as latin1 (one char per byte) before JSON.parse therefore gives
 * strings whose char codes are the original bytes. harness.test.ts checks this
 * with all 256 byte values. JSON also keeps null apart from empty, for keys,
 * values and header values alike.
 */
export async function readTopic(
  bootstrap: string,
  topic: string,
  opts: { partitions?: number[]; timeoutMs?: number } = {},
): Promise<ConsumedRecord[]> {
  const base = ['-C', '-q', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-J'];
  base.push('-X', 'check.crcs=true');
  // kcat takes one -p at most: one run per partition asked for.
  const runs = opts.partitions ? opts.partitions.map((p) => [...base, '-p', String(p)]) : [base];
  const outputs = await Promise.all(runs.map((args) => runKcat(args, undefined, opts.timeoutMs)));

  const records = outputs.flatMap((out) =>
    out
      .toString('latin1')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => toRecord(JSON.parse(line) as KcatJson)),
  );
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export function toRecord(j: KcatJson): ConsumedRecord {
  const bytes = (s: string | null | undefined) =>
    s === null || s === undefined ? null : Buffer.from(s, 'latin1');
  const headers: [string, Buffer | null][] = [];
  const h = j.headers ?? [];
  for (let i = 0; i + 1 < h.length; i += 2) {
    headers.push([bytes(h[i])?.toString('utf8') ?? '', bytes(h[i + 1])]);
  }
  return {
    topic: j.topic,
    partition: j.partition,
    offset: j.offset,
    timestamp: j.ts,
    key: bytes(j.key),
    value: bytes(j.payload),
    headers,
  };
}

/**
 * Records in a topic from its end offsets, read with kcat (the last record of each partition:
 * its offset + 1; no records are transferred): a count for runs too large to read back whole.
 */
export async function countRecords(bootstrap: string, topic: string, timeoutMs?: number): Promise<number> {
  const args = ['-C', '-b', bootstrap, '-t', topic, '-o', '-1', '-e', '-q', '-f', '%o\n'];
  const out = (await runKcat(args, undefined, timeoutMs)).toString();
  return out
    .split('\n')
    .filter((line) => line !== '')
    .reduce((sum, line) => sum + Number(line) + 1, 0);
}

export interface KcatProduceOptions {
  /** Default: kcat's partitioner (by key, random without a key). */
  partition?: number;
  /** Split each line into key and value at the first occurrence of this (kcat -K). */
  keyDelimiter?: string;
  /**
   * Send empty keys and values as null (kcat -Z). Without it, a line without
   * the key delimiter has a null key and empty parts stay empty.
   */
  nullEmpty?: boolean;
  /** Added to every message; a null value is sent as a null header value. Names must not contain '='. */
  headers?: [string, string | null][];
  timeoutMs?: number;
}

/**
 * Produces one message per line with kcat -P and waits until kcat has flushed
 * them. kcat skips empty lines (with or without -Z), so an empty line sends
 * nothing.
 */
export async function produceWithKcat(
  bootstrap: string,
  topic: string,
  lines: string[],
  opts: KcatProduceOptions = {},
): Promise<void> {
  if (lines.some((l) => l.includes('\n'))) throw new Error('produceWithKcat: a line must not contain \\n');
  const args = ['-P', '-b', bootstrap, '-t', topic];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  if (opts.keyDelimiter !== undefined) args.push('-K', opts.keyDelimiter);
  if (opts.nullEmpty) args.push('-Z');
  for (const [name, value] of opts.headers ?? []) {
    if (name.includes('=')) throw new Error(`produceWithKcat: header name "${name}" contains '='`);
    args.push('-H', value === null ? name : `${name}=${value}`);
  }
  await runKcat(args, Buffer.from(lines.map((l) => `${l}\n`).join('')), opts.timeoutMs);
}

export interface BinaryProduceOptions {
  partition?: number;
  /** librdkafka properties passed with -X, e.g. { 'topic.partitioner': 'murmur2' }. */
  config?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Produces arbitrary binary keys and values with kcat -P, in order.
 *
 * kcat splits stdin at a delimiter (-D) and each message at a key delimiter
 * (-K); both are random byte strings checked to split this input exactly. kcat
 * can only send nulls through -Z, which also turns every empty key or value
 * into null, so consecutive records are grouped into kcat runs with and
 * without -Z. Not expressible, so rejected: a null key with an empty value
 * (kcat skips an empty message), and an empty key with a null value.
 */
export async function produceRecordsWithKcat(
  bootstrap: string,
  topic: string,
  records: { key: Buffer | null; value: Buffer | null }[],
  opts: BinaryProduceOptions = {},
): Promise<void> {
  // Which -Z setting each record needs: true, false, or either (undefined).
  const needsZ = records.map(({ key, value }, i) => {
    const empty = (b: Buffer | null) => b !== null && b.length === 0;
    if ((key === null && empty(value)) || (empty(key) && value === null)) {
      throw new Error(`record ${i}: kcat cannot produce key ${key === null ? 'null' : '""'} with that value`);
    }
    if (value === null) return true;
    if (empty(key) || empty(value)) return false;
    return undefined;
  });

  let start = 0;
  while (start < records.length) {
    // The longest run of records that agree on -Z.
    let z: boolean | undefined;
    let end = start;
    for (; end < records.length; end++) {
      const need = needsZ[end];
      if (need !== undefined && z !== undefined && need !== z) break;
      z ??= need;
    }
    await produceBinaryRun(bootstrap, topic, records.slice(start, end), z ?? false, opts);
    start = end;
  }
}

async function produceBinaryRun(
  bootstrap: string,
  topic: string,
  records: { key: Buffer | null; value: Buffer | null }[],
  nullEmpty: boolean,
  opts: BinaryProduceOptions,
): Promise<void> {
  // What goes on stdin for each record. With -Z a null key is written as an
  // empty key, since kcat skips a message that is empty altogether.
  const parts = records.map(({ key, value }) => ({
    key: key ?? (nullEmpty ? Buffer.alloc(0) : null),
    value: value ?? Buffer.alloc(0),
  }));
  for (let attempt = 0; attempt < 100; attempt++) {
    const msgDelim = delimiter();
    const keyDelim = delimiter();
    const input = Buffer.concat(
      parts.flatMap(({ key, value }) => [...(key === null ? [] : [key, keyDelim]), value, msgDelim]),
    );
    if (!splitsExactly(input, msgDelim, keyDelim, parts)) continue;
    const args = ['-P', '-b', bootstrap, '-t', topic, '-D', escape(msgDelim), '-K', escape(keyDelim)];
    if (opts.partition !== undefined) args.push('-p', String(opts.partition));
    if (nullEmpty) args.push('-Z');
    for (const [name, value] of Object.entries(opts.config ?? {})) args.push('-X', `${name}=${value}`);
    await runKcat(args, input, opts.timeoutMs);
    return;
  }
  throw new Error('produceRecordsWithKcat: found no delimiters that split the input');
}

/** Splits like kcat: at each first message delimiter, then at the first key delimiter inside. */
function splitsExactly(
  input: Buffer,
  msgDelim: Buffer,
  keyDelim: Buffer,
  parts: { key: Buffer | null; value: Buffer }[],
): boolean {
  let pos = 0;
  for (const { key, value } of parts) {
    const end = input.indexOf(msgDelim, pos);
    if (end < 0) return false;
    const msg = input.subarray(pos, end);
    const k = msg.indexOf(keyDelim);
    if (k < 0 ? key !== null : !key?.equals(msg.subarray(0, k))) return false;
    if (!value.equals(k < 0 ? msg : msg.subarray(k + keyDelim.length))) return false;
    pos = end + msgDelim.length;
  }
  return pos === input.length;
}

/** Six random bytes, none 0: kcat keeps its delimiter in a C string. */
function delimiter(): Buffer {
  return Buffer.from(randomBytes(6).map((b) => b || 1));
}

/** kcat's delimiter syntax: \xNN per byte. */
function escape(bytes: Buffer): string {
  return [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

/** Runs kcat, resolves with its stdout; rejects with its stderr on failure or timeout. */
function runKcat(args: string[], input: Buffer | undefined, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined); // EPIPE if kcat fails early; reported below
    child.once('error', (err) => {
      clearTimeout(timer);
      const hint =
        (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run `bash scripts/build-harness.sh`)' : '';
      reject(new Error(`cannot run kcat${hint}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(Buffer.concat(stdout));
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `failed (${signal ?? `exit code ${code}`})`;
      reject(new Error(`kcat ${args.join(' ')} ${why}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`));
    });
    child.stdin.end(input);
  });
}

export interface KcatMetadata {
  brokers: { id: number; name: string }[];
  topics: {
    topic: string;
    error?: string;
    partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[];
  }[];
}

/** kcat -L -J: the cluster's Metadata as librdkafka 2.0.2 sees it. Broker names are "host:port". */
export async function listMetadata(
  bootstrap: string,
  opts: { topic?: string; timeoutMs?: number } = {},
): Promise<KcatMetadata> {
  const args = ['-L', '-J', '-b', bootstrap];
  if (opts.topic !== undefined) args.push('-t', opts.topic);
  return JSON.parse((await runKcat(args, undefined, opts.timeoutMs)).toString()) as KcatMetadata;
}
