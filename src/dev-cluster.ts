// The bundled local dev cluster: librdkafka's mock Kafka cluster (test/broker/mock-cluster.c,
// built by scripts/build-harness.sh into test/broker/build/) run as a child process and driven
// through its line protocol. Real Kafka-protocol brokers on 127.0.0.1, with fault injection.
// `ekaf dev-cluster` and `ekaf serve` without brokers use it; so does the test harness
// (test/broker/cluster.ts).
//
// The protocol: the process prints "ready <bootstrap servers>" once, then answers each command
// line on stdin with "ok[ <data>]" or "error <message>". EOF on stdin ends it, so a cluster
// never outlives the process that started it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { relayOnPorts, type PortRelays } from './dev-cluster-ports.js';

/** The librdkafka version the mock brokers come from. */
export type DevClusterPeer = '2.0' | '2.12';
export const DEV_CLUSTER_PEERS: DevClusterPeer[] = ['2.0', '2.12'];

export interface DevClusterBroker {
  id: number;
  host: string;
  port: number;
}

export interface DevCluster {
  peer: DevClusterPeer;
  /** bootstrap.servers: "host:port,host:port,..." */
  bootstrap: string;
  /** Broker ids are 1..N. As started: a raw set_host_port command does not update it. */
  brokers: DevClusterBroker[];
  /** replicationFactor defaults to min(3, brokers), like the mock's auto-created topics. */
  createTopic(name: string, partitions: number, replicationFactor?: number): Promise<void>;
  /** Closes the broker's connections and refuses new ones; leaders do not move. -1 = all brokers. */
  brokerDown(id: number): Promise<void>;
  brokerUp(id: number): Promise<void>;
  /** Delays every response of the broker by ms. -1 = all brokers. */
  setRtt(id: number, ms: number): Promise<void>;
  /** brokerId -1 makes the partition leaderless. */
  setLeader(topic: string, partition: number, brokerId: number): Promise<void>;
  /** The next requests of apiKey, to any broker, fail with these error codes, in order. */
  pushRequestErrors(apiKey: number, errors: number[]): Promise<void>;
  /** The next requests of apiKey to one broker fail with these codes (0 = no error) after rttMs. */
  pushBrokerRequestErrors(
    brokerId: number,
    apiKey: number,
    errors: { code: number; rttMs: number }[],
  ): Promise<void>;
  /** Clears what pushRequestErrors pushed (not the per-broker errors). */
  clearRequestErrors(apiKey: number): Promise<void>;
  /** Versions the mock advertises in ApiVersions and accepts; min = max = -1 disables the API. */
  setApiVersion(apiKey: number, min: number, max: number): Promise<void>;
  /** Error code the mock returns for the topic in Metadata (and AddPartitionsToTxn) responses. */
  setTopicError(topic: string, errorCode: number): Promise<void>;
  /** Sends one raw command line; resolves with the text after "ok", rejects on "error ...". */
  command(line: string): Promise<string>;
  /** Resolves when the process has exited, whoever ended it. */
  readonly exited: Promise<void>;
  /** Sends quit, and SIGKILLs the process if it has not exited within 2 s. */
  stop(): Promise<void>;
}

export interface DevClusterOptions {
  /** Default '2.12'. */
  peer?: DevClusterPeer;
  /** Default 3. */
  brokers?: number;
  topics?: { name: string; partitions: number; replicationFactor?: number }[];
  /** Pass --debug and copy the mock's librdkafka debug log to this process's stderr. */
  debug?: boolean;
  /** How long to wait for each answer. Default 10 s. */
  commandTimeoutMs?: number;
  /** The mock-cluster executable. Default: devClusterBinary(peer). */
  binary?: string;
  /**
   * Serve broker n on 127.0.0.1:firstPort + n - 1 (`ekaf dev-cluster` and `ekaf serve`: 9092),
   * through a relay (dev-cluster-ports.ts), when every one of those ports is free; else, and by
   * default, on the ports the kernel picks.
   */
  firstPort?: number;
}

/**
 * The repository root: the first directory above this module with a package.json (src/ when
 * run from source with tsx, dist/src/ when built).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/**
 * The dev cluster's binary was never built: in a checkout, scripts/build-harness.sh builds it
 * (npm start and npm test run it); the npm package does not ship it (a native program, built
 * against librdkafka, for one platform), so there the user needs brokers of their own.
 */
export class DevClusterUnavailableError extends Error {
  readonly code = 'ERR_DEV_CLUSTER_UNAVAILABLE';
  constructor(readonly binary: string) {
    super(
      existsSync(join(packageRoot(), 'scripts', 'build-harness.sh'))
        ? `the bundled dev cluster is not built (${binary} is missing): run \`bash scripts/build-harness.sh\` (npm start does)`
        : 'the bundled dev cluster is not part of the npm package (it is built from a checkout of ekaf, ' +
            'where `npm start` runs it): give the bootstrap brokers of a Kafka cluster instead, ' +
            'with -b host:9092 or KAFKA_BROKERS',
    );
    this.name = 'DevClusterUnavailableError';
  }
}

/** Where scripts/build-harness.sh puts the mock cluster built against librdkafka `peer`. */
export function devClusterBinary(peer: DevClusterPeer): string {
  return join(packageRoot(), 'test', 'broker', 'build', `mock-cluster-${peer}`);
}

// The only global state: clusters still running, killed if this process exits without stopping
// them. (They also exit on their own when their stdin closes, which happens when this process
// dies.)
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;
function track(child: ChildProcessWithoutNullStreams): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Starts a cluster, waits for its "ready" line, and creates `topics`. */
export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const peer = opts.peer ?? '2.12';
  const brokerCount = opts.brokers ?? 3;
  const binary = opts.binary ?? devClusterBinary(peer);
  if (!existsSync(binary)) throw new DevClusterUnavailableError(binary);
  const args = ['--brokers', int(brokerCount, 'brokers')];
  if (opts.debug) args.push('--debug');
  // Its own process group: a terminal's Ctrl-C goes to the process that started it, which
  // decides when the cluster stops (after draining into it). It still never outlives that
  // process: it quits on EOF on stdin, and the exit hook below kills it.
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  track(child);
  const cluster = new Cluster(peer, child, opts.commandTimeoutMs ?? 10_000, opts.debug ?? false);
  try {
    const ready = await cluster.nextLine('the "ready" line');
    if (!ready.startsWith('ready ')) throw cluster.fail(`expected "ready <bootstraps>", got "${ready}"`);
    cluster.bootstrap = ready.slice('ready '.length);
    cluster.brokers = parseBrokers(await cluster.command('brokers'));
    if (opts.firstPort !== undefined && opts.firstPort > 0) await cluster.relayOnPorts(opts.firstPort);
    for (const t of opts.topics ?? []) await cluster.createTopic(t.name, t.partitions, t.replicationFactor);
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Parses "1=host:port 2=host:port ...". */
function parseBrokers(text: string): DevClusterBroker[] {
  return text.split(' ').map((entry) => {
    const m = /^(\d+)=(.+):(\d+)$/.exec(entry);
    if (!m?.[1] || !m[2] || !m[3]) throw new Error(`cannot parse broker "${entry}" in "${text}"`);
    return { id: Number(m[1]), host: m[2], port: Number(m[3]) };
  });
}

/** Formats an integer argument, refusing what would send "NaN" or "1.5" to the mock. */
function int(n: number, what: string): string {
  if (!Number.isSafeInteger(n)) throw new Error(`${what} must be an integer, got ${n}`);
  return String(n);
}

/** A topic name or host as one protocol token. */
function word(s: string, what: string): string {
  if (!/^\S+$/.test(s)) throw new Error(`${what} must be non-empty and without whitespace: "${s}"`);
  return s;
}

class Cluster implements DevCluster {
  bootstrap = '';
  brokers: DevClusterBroker[] = [];
  private relays: PortRelays | undefined;
  readonly exited: Promise<void>;

  private stderr = '';
  /** Lines read but not yet asked for. */
  private readonly lines: string[] = [];
  private waiter: { resolve: (line: string) => void; reject: (err: Error) => void } | undefined;
  /** Set once the process is gone or out of sync; every later command rejects with it. */
  private dead: Error | undefined;
  /** Commands run one at a time: each waits for the previous one's answer. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly peer: DevClusterPeer,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly timeoutMs: number,
    debug: boolean,
  ) {
    child.stderr.on('data', (chunk: Buffer) => {
      if (debug) process.stderr.write(chunk);
      // Keep the tail only: it goes into error messages.
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    // Writing to a dead child gives EPIPE; the exit handler reports it better.
    child.stdin.on('error', () => undefined);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (this.waiter) this.waiter.resolve(line);
      else this.lines.push(line);
    });
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': it comes after the last stdout line was read.
      child.once('close', (code, signal) => {
        this.dead ??= this.error(`exited (${signal ?? `code ${code}`})`);
        this.waiter?.reject(this.dead);
        resolve();
      });
      child.once('error', (err) => {
        this.dead ??= this.error(`could not run: ${err.message}`);
        this.waiter?.reject(this.dead);
        resolve();
      });
    });
  }

  /** An Error that names the process and carries its recent stderr. */
  private error(message: string): Error {
    const stderr = this.stderr.trim();
    return new Error(`mock-cluster-${this.peer}: ${message}${stderr ? `\nstderr:\n${stderr}` : ''}`);
  }

  /** Marks the process unusable (its answers can no longer be matched to commands) and kills it. */
  fail(message: string): Error {
    this.dead ??= this.error(message);
    this.child.kill('SIGKILL');
    return this.dead;
  }

  nextLine(what: string): Promise<string> {
    const queued = this.lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(this.fail(`no ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiter = undefined;
      };
      this.waiter = {
        resolve: (line) => {
          done();
          resolve(line);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
    });
  }

  command(line: string): Promise<string> {
    const run = this.tail.then(() => this.exchange(line));
    this.tail = run.catch(() => undefined); // one failed command does not block the next
    return run;
  }

  private async exchange(line: string): Promise<string> {
    if (this.dead) throw this.dead;
    if (/[\r\n]/.test(line)) throw new Error(`a command is one line: ${JSON.stringify(line)}`);
    this.child.stdin.write(`${line}\n`);
    const answer = await this.nextLine(`answer to "${line}"`);
    if (answer === 'ok') return '';
    if (answer.startsWith('ok ')) return answer.slice('ok '.length);
    if (answer.startsWith('error '))
      throw new Error(`mock-cluster-${this.peer}: ${line}: ${answer.slice(6)}`);
    throw this.fail(`unexpected answer to "${line}": "${answer}"`);
  }

  async createTopic(name: string, partitions: number, replicationFactor?: number): Promise<void> {
    const rf = replicationFactor ?? Math.min(3, this.brokers.length);
    await this.command(
      `create_topic ${word(name, 'topic')} ${int(partitions, 'partitions')} ${int(rf, 'rf')}`,
    );
  }

  async brokerDown(id: number): Promise<void> {
    await this.command(`broker_down ${int(id, 'broker id')}`);
  }

  async brokerUp(id: number): Promise<void> {
    await this.command(`broker_up ${int(id, 'broker id')}`);
  }

  async setRtt(id: number, ms: number): Promise<void> {
    await this.command(`set_rtt ${int(id, 'broker id')} ${int(ms, 'rtt')}`);
  }

  async setLeader(topic: string, partition: number, brokerId: number): Promise<void> {
    await this.command(
      `set_leader ${word(topic, 'topic')} ${int(partition, 'partition')} ${int(brokerId, 'broker id')}`,
    );
  }

  async pushRequestErrors(apiKey: number, errors: number[]): Promise<void> {
    if (errors.length === 0) throw new Error('pushRequestErrors: no errors given');
    const codes = errors.map((e) => int(e, 'error code')).join(' ');
    await this.command(`push_errors ${int(apiKey, 'api key')} ${codes}`);
  }

  async pushBrokerRequestErrors(
    brokerId: number,
    apiKey: number,
    errors: { code: number; rttMs: number }[],
  ): Promise<void> {
    if (errors.length === 0) throw new Error('pushBrokerRequestErrors: no errors given');
    const tuples = errors.map((e) => `${int(e.code, 'error code')}:${int(e.rttMs, 'rtt')}`).join(' ');
    await this.command(
      `push_broker_errors ${int(brokerId, 'broker id')} ${int(apiKey, 'api key')} ${tuples}`,
    );
  }

  async clearRequestErrors(apiKey: number): Promise<void> {
    await this.command(`clear_errors ${int(apiKey, 'api key')}`);
  }

  async setApiVersion(apiKey: number, min: number, max: number): Promise<void> {
    await this.command(`set_apiversion ${int(apiKey, 'api key')} ${int(min, 'min')} ${int(max, 'max')}`);
  }

  async setTopicError(topic: string, errorCode: number): Promise<void> {
    await this.command(`topic_error ${word(topic, 'topic')} ${int(errorCode, 'error code')}`);
  }

  /** Moves every broker behind a relay on firstPort.. when those ports are free. */
  async relayOnPorts(firstPort: number): Promise<void> {
    const relays = await relayOnPorts(this.brokers, firstPort);
    if (relays === undefined) return;
    this.relays = relays;
    for (const broker of relays.brokers) {
      await this.command(`set_host_port ${broker.id} ${broker.host} ${broker.port}`);
    }
    this.brokers = relays.brokers;
    this.bootstrap = relays.brokers.map((b) => `${b.host}:${b.port}`).join(',');
  }

  async stop(): Promise<void> {
    await this.relays?.close();
    if (!this.dead) {
      this.dead = this.error('stopped');
      // Answer-less: the "ok" to quit is not waited for, EOF alone also ends it.
      this.child.stdin.end('quit\n');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
