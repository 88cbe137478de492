// The Java transactional producer as the reference for ekaf's transactions (test/kafka/java/
// TxnProducer.java, compiled against the version's kafka-clients on first use): timed runs of
// whole transactions for the bench, and a transaction left open on purpose for the tests of
// SIGKILLed producers and zombies. acks=all and idempotence are always on.
//
// Every record it writes can be recomputed: javaTxnValue() "<label>:<transaction>:<record>"
// padded with '.', javaTxnKey() "k" and the record's 7-digit number within the process.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { javaProgramsClasspath } from './java-programs.js';
import { CLIENT_BENCH_JVM_FLAGS, runKafkaTool, spawnToolJvm, type KafkaVersion } from './kafka-jvm.js';

const MAIN_CLASS = 'TxnProducer';

export interface JavaTxnCommonOptions {
  /** The Java client's version (default '4.4.0'). */
  version?: KafkaVersion;
  transactionalId: string;
  /** Record r of a transaction goes to topics[r % topics.length]. */
  topics: readonly string[];
  /** Value size in bytes (default 100); longer when the "<label>:<t>:<r>" head does not fit. */
  recordSize?: number;
  /** The values' prefix (default: the transactional id). */
  label?: string;
  /** Extra producer configs (e.g. { 'transaction.timeout.ms': '10000', 'linger.ms': '0' }). */
  producerConfig?: Record<string, string>;
}

export interface JavaTxnRunOptions extends JavaTxnCommonOptions {
  transactions: number;
  recordsPerTransaction: number;
  /** Transactions of the same shape run first, unmeasured, to the same topics (default 0). */
  warmupTransactions?: number;
  /**
   * 'bench': both JIT tiers and G1, as Kafka runs its tools (default); 'quick': the harness's
   * quick-starting tool flags (C1 only), for tests.
   */
  jvm?: 'bench' | 'quick';
  timeoutMs?: number;
}

/** What `TxnProducer run` prints. */
export interface JavaTxnResult {
  /** Measured transactions (warm-up excluded), all committed. */
  transactions: number;
  records: number;
  /** From the first beginTransaction() to the last commitTransaction()'s return. */
  seconds: number;
  recordsPerSecond: number;
  /** initTransactions(), producer construction included. */
  initSeconds: number;
  warmupTransactions: number;
  recordSize: number;
}

/** The value of record `record` (from 0) of transaction `transaction` (from 0, warm-up included). */
export function javaTxnValue(label: string, transaction: number, record: number, recordSize = 100): string {
  const head = `${label}:${transaction}:${record}`;
  return Buffer.byteLength(head) >= recordSize ? head : head.padEnd(recordSize, '.');
}

/** The key of the process's n-th record (from 0, over all its transactions). */
export function javaTxnKey(recordInProcess: number): string {
  return `k${String(recordInProcess % 10_000_000).padStart(7, '0')}`;
}

function commonArgs(bootstrap: string, o: JavaTxnCommonOptions, records: number): string[] {
  if (o.topics.length === 0) throw new Error('TxnProducer: no topic');
  const args = [
    '--bootstrap',
    bootstrap,
    '--transactional-id',
    o.transactionalId,
    '--topics',
    o.topics.join(','),
    '--records',
    String(records),
    '--record-size',
    String(o.recordSize ?? 100),
  ];
  if (o.label !== undefined) args.push('--label', o.label);
  for (const [k, v] of Object.entries(o.producerConfig ?? {})) args.push('--config', `${k}=${v}`);
  return args;
}

/**
 * Runs `transactions` transactions of `recordsPerTransaction` records in a fresh JVM and
 * resolves with what it measured. Rejects when any transaction fails (the JVM's stderr).
 */
export async function runJavaTransactions(
  bootstrap: string,
  opts: JavaTxnRunOptions,
): Promise<JavaTxnResult> {
  const version = opts.version ?? '4.4.0';
  const classes = await javaProgramsClasspath(version);
  const args = [
    'run',
    ...commonArgs(bootstrap, opts, opts.recordsPerTransaction),
    '--transactions',
    String(opts.transactions),
    '--warmup-transactions',
    String(opts.warmupTransactions ?? 0),
  ];
  const { stdout } = await runKafkaTool(version, MAIN_CLASS, args, {
    classpathPrefix: [classes],
    ...((opts.jvm ?? 'bench') === 'bench' ? { jvmFlags: CLIENT_BENCH_JVM_FLAGS } : {}),
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
  const line = stdout.toString().trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as JavaTxnResult;
  } catch {
    throw new Error(`TxnProducer printed no result: ${JSON.stringify(stdout.toString())}`);
  }
}

export interface JavaOpenTransactionOptions extends JavaTxnCommonOptions {
  /** Records sent (spread over the topics) and flushed before "SENT". */
  records: number;
  /**
   * 'hang': blocks forever after "SENT", deaf to stdin (kill it, or fence it with another
   * instance). 'interactive' (default): takes commands (commit, abort, begin, send).
   */
  mode?: 'hang' | 'interactive';
  /** sendOffsetsToTransaction() of these offsets ("topic:partition" → offset) before "SENT". */
  sendOffsets?: { groupId: string; offsets: Record<string, number> };
  /** How long until "SENT" (default 60 s). */
  timeoutMs?: number;
}

/** The answer to one command: ok, or the exception's class (and its root cause's). */
export interface JavaTxnReply {
  command: string;
  ok: boolean;
  /** e.g. 'org.apache.kafka.common.errors.ProducerFencedException' */
  error?: string;
  rootCause?: string;
  message?: string;
}

/** A Java producer with a transaction open: its records sent and flushed, not committed. */
export interface JavaOpenTransaction {
  readonly pid: number;
  /** Resolves with the exit code or signal once the JVM has exited. */
  readonly exited: Promise<string>;
  /** Commits the open transaction (interactive mode); ok false with the exception's class. */
  commit(): Promise<JavaTxnReply>;
  abort(): Promise<JavaTxnReply>;
  /** Begins a new transaction (after a commit or abort). */
  begin(): Promise<JavaTxnReply>;
  /** Sends n more records (numbered on from the transaction's) and flushes them. */
  send(n: number): Promise<JavaTxnReply>;
  /** SIGKILL; resolves when the JVM is gone. */
  kill(): Promise<void>;
  /** Closes stdin: an interactive JVM halts at once, nothing more reaches the brokers. */
  hangUp(): Promise<void>;
}

/**
 * Starts a JVM that initializes (fencing any earlier instance of the transactional id),
 * begins a transaction, sends and flushes `records` records (and the offsets), and resolves once
 * it printed "SENT". The caller must end it: kill(), hangUp(), or let the test process exit.
 */
export async function startJavaOpenTransaction(
  bootstrap: string,
  opts: JavaOpenTransactionOptions,
): Promise<JavaOpenTransaction> {
  const version = opts.version ?? '4.4.0';
  const classes = await javaProgramsClasspath(version);
  const args = [opts.mode ?? 'interactive', ...commonArgs(bootstrap, opts, opts.records)];
  if (opts.sendOffsets !== undefined) {
    const entries = Object.entries(opts.sendOffsets.offsets).map(([tp, offset]) => `${tp}=${offset}`);
    args.push('--send-offsets', `group=${opts.sendOffsets.groupId};${entries.join(',')}`);
  }
  const child = spawnToolJvm(version, MAIN_CLASS, args, { classpathPrefix: [classes] });
  const pid = child.pid;
  if (pid === undefined) throw new Error('TxnProducer: java did not start');
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
  });
  child.stdin?.on('error', () => undefined); // EPIPE after it exited; reported by the reply wait
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(signal ?? `exit code ${code}`);
    });
  });
  const lines = createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> });
  const queue: string[] = [];
  const waiters: ((line: string | undefined) => void)[] = [];
  let closed = false;
  lines.on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queue.push(line);
  });
  lines.once('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w(undefined);
  });
  const nextLine = (what: string, timeoutMs: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        reject(
          new Error(`TxnProducer (${opts.transactionalId}) ${why} waiting for ${what}:\n${stderr.trim()}`),
        );
      };
      const queued = queue.shift();
      if (queued !== undefined) {
        resolve(queued);
        return;
      }
      if (closed) {
        fail('had exited');
        return;
      }
      const timer = setTimeout(() => {
        const i = waiters.indexOf(waiter);
        if (i >= 0) waiters.splice(i, 1);
        fail(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      const waiter = (line: string | undefined): void => {
        clearTimeout(timer);
        if (line === undefined) fail('exited');
        else resolve(line);
      };
      waiters.push(waiter);
    });

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    const first = await nextLine('"SENT"', opts.timeoutMs ?? 60_000);
    if (first !== 'SENT') throw new Error(`TxnProducer printed ${JSON.stringify(first)} instead of SENT`);
  } catch (err) {
    await kill();
    throw err;
  }

  const command = async (line: string, timeoutMs = 60_000): Promise<JavaTxnReply> => {
    if ((opts.mode ?? 'interactive') !== 'interactive')
      throw new Error('a hang-mode TxnProducer takes no commands');
    child.stdin?.write(`${line}\n`);
    const reply = await nextLine(`the answer to ${line}`, timeoutMs);
    return JSON.parse(reply) as JavaTxnReply;
  };
  return {
    pid,
    exited,
    commit: () => command('commit'),
    abort: () => command('abort'),
    begin: () => command('begin'),
    send: (n) => command(`send ${n}`),
    kill,
    hangUp: async () => {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
