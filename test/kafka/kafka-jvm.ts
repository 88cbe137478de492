// Starting Apache Kafka's JVMs from the jars scripts/kafka-jars.sh caches: the classpath per
// version, the logging configuration each version understands, long-running processes (brokers,
// ZooKeeper) whose output goes straight to a log file, and short tool runs whose stdout is data.
//
// Every JVM carries -Dekaf.kafka.harness=<owner pid> on its command line, and each long-running
// one has a file in .cache/kafka/pids/ (see pid-registry.ts), so that a JVM left behind by a
// crashed test run can be recognised as ours and killed by the next run.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HARNESS_MARK, KAFKA_CACHE } from './kafka-paths.js';
import { registerPid, unregisterPid } from './pid-registry.js';

/** The pinned versions (test/kafka/maven/<version>/pom.xml). */
export type KafkaVersion = '4.4.0' | '3.9.2' | '2.8.2';
export const KAFKA_VERSIONS: readonly KafkaVersion[] = ['4.4.0', '3.9.2', '2.8.2'];

/** Brokers: a fixed heap (no resizing pauses), G1 with short pauses, as Kafka's own scripts do. */
const BROKER_JVM_FLAGS = ['-Xms512m', '-Xmx512m', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20'];
/** Tools and ZooKeeper: C1 only and the serial collector start in about half the time. */
const TOOL_JVM_FLAGS = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];
/**
 * A Java client measured for speed: both JIT tiers and G1, as Kafka's kafka-run-class.sh runs its
 * tools (KAFKA_HEAP_OPTS -Xmx256m, KAFKA_JVM_PERFORMANCE_OPTS), the heap raised to 512 MB.
 */
export const CLIENT_BENCH_JVM_FLAGS: readonly string[] = [
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
];

/** The fully qualified main classes that moved between versions. */
export interface KafkaClasses {
  topicCommand: string;
  leaderElection: string;
  consoleConsumer: string;
  consoleProducer: string;
}

export function kafkaClasses(version: KafkaVersion): KafkaClasses {
  switch (version) {
    case '4.4.0':
      return {
        topicCommand: 'org.apache.kafka.tools.TopicCommand',
        leaderElection: 'org.apache.kafka.tools.LeaderElectionCommand',
        consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
        consoleProducer: 'org.apache.kafka.tools.ConsoleProducer',
      };
    case '3.9.2':
      return {
        topicCommand: 'org.apache.kafka.tools.TopicCommand',
        leaderElection: 'org.apache.kafka.tools.LeaderElectionCommand',
        consoleConsumer: 'org.apache.kafka.tools.consumer.ConsoleConsumer',
        consoleProducer: 'kafka.tools.ConsoleProducer',
      };
    case '2.8.2':
      return {
        topicCommand: 'kafka.admin.TopicCommand',
        leaderElection: 'kafka.admin.LeaderElectionCommand',
        consoleConsumer: 'kafka.tools.ConsoleConsumer',
        consoleProducer: 'kafka.tools.ConsoleProducer',
      };
  }
}

/** The cached jars of a version, as one quoted-free classpath wildcard for -cp. */
export function kafkaClasspath(version: KafkaVersion): string {
  const libs = join(KAFKA_CACHE, version, 'libs');
  if (!existsSync(join(KAFKA_CACHE, version, '.complete'))) {
    throw new Error(`Kafka ${version}'s jars are not in ${libs}: run \`bash scripts/kafka-jars.sh\``);
  }
  return join(libs, '*');
}

/**
 * The JVM flags that select and configure the version's logging backend. Brokers log INFO to
 * stdout (their log file); tools log WARN to stderr, since their stdout is data.
 */
function loggingFlags(version: KafkaVersion, role: 'server' | 'tool'): string[] {
  const dir = join(KAFKA_CACHE, 'logging');
  mkdirSync(dir, { recursive: true });
  const level = role === 'server' ? 'INFO' : 'WARN';
  if (version.startsWith('4.')) {
    const file = join(dir, `log4j2-${role}.properties`);
    writeIfChanged(
      file,
      [
        'status = warn',
        'appender.out.type = Console',
        'appender.out.name = out',
        `appender.out.target = ${role === 'server' ? 'SYSTEM_OUT' : 'SYSTEM_ERR'}`,
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        `rootLogger.level = ${level}`,
        'rootLogger.appenderRef.out.ref = out',
        '',
      ].join('\n'),
    );
    return [`-Dlog4j2.configurationFile=${file}`];
  }
  const file = join(dir, `log4j1-${role}.properties`);
  writeIfChanged(
    file,
    [
      `log4j.rootLogger=${level}, out`,
      'log4j.appender.out=org.apache.log4j.ConsoleAppender',
      `log4j.appender.out.Target=${role === 'server' ? 'System.out' : 'System.err'}`,
      'log4j.appender.out.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.out.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  return [`-Dlog4j.configuration=file:${file}`];
}

/**
 * Writes a logging configuration unless it already has this content. Concurrent test files
 * write the same content: rename is atomic, so a JVM reads the old file or the new one whole.
 */
function writeIfChanged(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function javaArgs(
  version: KafkaVersion,
  role: 'server' | 'tool',
  mainClass: string,
  args: readonly string[],
  jvmFlags: readonly string[] = role === 'server' ? BROKER_JVM_FLAGS : TOOL_JVM_FLAGS,
  /** Directories or jars searched before the version's jars (our own compiled programs). */
  classpathPrefix: readonly string[] = [],
): string[] {
  return [
    ...jvmFlags,
    '-Djava.awt.headless=true',
    `${HARNESS_MARK}${process.pid}`,
    ...loggingFlags(version, role),
    '-cp',
    [...classpathPrefix, kafkaClasspath(version)].join(':'),
    mainClass,
    ...args,
  ];
}

/**
 * Starts a long-running JVM (broker, ZooKeeper) with stdout and stderr appended to logFile by
 * the kernel: no pipe that a slow reader could fill and block the JVM on.
 */
export function spawnServerJvm(opts: {
  version: KafkaVersion;
  mainClass: string;
  args: readonly string[];
  logFile: string;
  /** 'server' (default): the broker heap; 'light': the tools' flags (ZooKeeper). INFO logs either way. */
  weight?: 'server' | 'light';
}): ChildProcess {
  const fd = openSync(opts.logFile, 'a');
  try {
    const flags = opts.weight === 'light' ? TOOL_JVM_FLAGS : BROKER_JVM_FLAGS;
    const argv = javaArgs(opts.version, 'server', opts.mainClass, opts.args, flags);
    return spawn('java', argv, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

export interface ToolResult {
  stdout: Buffer;
  stderr: string;
  ms: number;
}

/**
 * Runs a Kafka command-line tool to completion; rejects with its stderr when it exits non-zero
 * or outlives timeoutMs (then it is SIGKILLed). stdout is collected as bytes.
 */
export async function runKafkaTool(
  version: KafkaVersion,
  mainClass: string,
  args: readonly string[],
  opts: {
    input?: Buffer | string;
    timeoutMs?: number;
    classpathPrefix?: readonly string[];
    jvmFlags?: readonly string[];
  } = {},
): Promise<ToolResult> {
  const stdout: Buffer[] = [];
  const { stderr, ms } = await runKafkaToolStreaming(version, mainClass, args, {
    ...opts,
    onStdout: (chunk) => stdout.push(chunk),
  });
  return { stdout: Buffer.concat(stdout), stderr, ms };
}

/**
 * runKafkaTool, with stdout handed over chunk by chunk, or written to a file by the kernel.
 * The file is for the console consumer: it flushes after every record, and a million small
 * pipe reads cost Node ~40 s where the file costs nothing.
 */
export function runKafkaToolStreaming(
  version: KafkaVersion,
  mainClass: string,
  args: readonly string[],
  opts: {
    input?: Buffer | string;
    timeoutMs?: number;
    onStdout?: (chunk: Buffer) => void;
    stdoutFile?: string;
    /** Searched before the version's jars: a directory of our own compiled programs. */
    classpathPrefix?: readonly string[];
    /** Default: the quick-starting tool flags (C1 only, serial GC). */
    jvmFlags?: readonly string[];
  },
): Promise<{ stderr: string; ms: number }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const outFd = opts.stdoutFile === undefined ? undefined : openSync(opts.stdoutFile, 'w');
    const flags = opts.jvmFlags ?? TOOL_JVM_FLAGS;
    const argv = javaArgs(version, 'tool', mainClass, args, flags, opts.classpathPrefix);
    const child = spawn('java', argv, {
      stdio: ['pipe', outFd ?? 'pipe', 'pipe'],
    });
    if (outFd !== undefined) closeSync(outFd); // the child has its own copy
    if (child.pid !== undefined) registerPid(child.pid, `${mainClass} (kafka ${version})`);
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    if (opts.onStdout) child.stdout?.on('data', opts.onStdout);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin?.on('error', () => undefined); // EPIPE when the tool fails early; reported below
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run java (run \`bash scripts/kafka-jars.sh\`): ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid !== undefined) unregisterPid(child.pid);
      const ms = Date.now() - started;
      if (code === 0) {
        resolve({ stderr, ms });
        return;
      }
      const why = timedOut ? `timed out after ${timeoutMs} ms` : `failed (${signal ?? `exit code ${code}`})`;
      reject(new Error(`${mainClass} ${args.join(' ')} ${why}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`));
    });
    child.stdin?.end(opts.input);
  });
}

/**
 * Starts a tool-weight JVM that the caller talks to over its stdin and stdout (stderr: WARN
 * logs), registered in the pid registry until it exits. The caller ends it (kill or stdin).
 */
export function spawnToolJvm(
  version: KafkaVersion,
  mainClass: string,
  args: readonly string[],
  opts: { classpathPrefix?: readonly string[]; jvmFlags?: readonly string[] } = {},
): ChildProcess {
  const argv = javaArgs(
    version,
    'tool',
    mainClass,
    args,
    opts.jvmFlags ?? TOOL_JVM_FLAGS,
    opts.classpathPrefix,
  );
  const child = spawn('java', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid !== undefined) {
    registerPid(pid, `${mainClass} (kafka ${version})`);
    liveToolJvms.add(child);
    child.once('exit', () => {
      liveToolJvms.delete(child);
      unregisterPid(pid);
    });
    if (!toolExitHandlerInstalled) {
      toolExitHandlerInstalled = true;
      // Synchronous, as 'exit' handlers must be: a JVM the test left running dies with it.
      process.once('exit', () => {
        for (const c of liveToolJvms) c.kill('SIGKILL');
      });
    }
  }
  return child;
}

const liveToolJvms = new Set<ChildProcess>();
let toolExitHandlerInstalled = false;
