// A real Apache Kafka cluster for integration tests, run from the jars in .cache/kafka (see
// scripts/kafka-jars.sh): KRaft clusters of 1 or 3 combined broker+controller nodes (4.4.0 by
// default, 3.9.2 selectable), or Kafka 2.8.2 in ZooKeeper mode with one broker, the oldest
// peer ekaf negotiates versions down to (Produce v9).
//
// Each node is a JVM on free 127.0.0.1 ports, its output appended to <dir>/n<id>/node.log.
// Nodes can be killed (SIGKILL), stopped (SIGTERM: controlled shutdown), paused (SIGSTOP),
// resumed and restarted on the same ports and data. Formatting storage costs a JVM start per
// node, so formatted data directories are kept as templates in .cache/kafka/templates and copied
// per run. Every JVM is stopped by stop(), by a process 'exit' handler, and, after a crash, by
// the next run (pid-registry.ts).
//
// Only one cluster should run on a 2-core machine at a time: run the tests that use this under
// `flock /tmp/ekaf-kafka.lock`.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataResponse } from '../../src/protocol/apis/metadata.js';
import { createTopics, fetchMetadata, type TopicSpec } from './kafka-admin.js';
import {
  kafkaClasses,
  runKafkaTool,
  spawnServerJvm,
  type KafkaVersion,
  type ToolResult,
} from './kafka-jvm.js';
import { KAFKA_CACHE } from './kafka-paths.js';
import { makeSecurityMaterial, type SecurityMaterial } from './kafka-security.js';
import { reapOrphans, registerPid, unregisterPid } from './pid-registry.js';

export type { TopicSpec } from './kafka-admin.js';
export type { KafkaVersion } from './kafka-jvm.js';

/** The client listeners a node can have. PLAINTEXT is always there (the harness uses it). */
export type ListenerName = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export type SecureListenerName = Exclude<ListenerName, 'PLAINTEXT'>;

export interface KafkaClusterOptions {
  /** Default '4.4.0'. '2.8.2' runs in ZooKeeper mode. */
  version?: KafkaVersion;
  /** KRaft: 1 or 3 combined nodes (default 1). ZooKeeper mode: 1 broker. */
  nodes?: 1 | 3;
  /** Created after the brokers are up; start() resolves when each has leaders. */
  topics?: TopicSpec[];
  /** Extra listeners for TLS/SASL tests (PLAIN and SCRAM-SHA-256/512 on the SASL ones). */
  listeners?: SecureListenerName[];
  /** SCRAM users created at format time (KRaft only); default alice/alice-secret. */
  scramUsers?: { name: string; password: string }[];
  /** PLAIN users (JAAS user_<name>); default alice/alice-secret. */
  plainUsers?: { name: string; password: string }[];
  /** Added to (or overriding) every node's server.properties. */
  brokerConfig?: Record<string, string>;
  /**
   * Feature levels set when storage is formatted (KRaft only: `kafka-storage format --feature
   * name=level`), e.g. { 'transaction.version': 1 }. Unset features get the release's defaults:
   * 4.4.0 finalizes transaction.version 2 (KIP-890 transactions v2); 3.9.2 leaves it at 0, and
   * its formatter refuses 1 and 2 (they need metadata.version 4.0, not stable in 3.9).
   */
  features?: Record<string, number>;
  /**
   * Shorthand for features['transaction.version']: 2 = transactions v2 (KIP-890: partitions
   * added by Produce, the epoch bumped on every commit; 4.4.0's default), 0 or 1 = v1.
   */
  transactionVersion?: 0 | 1 | 2;
  /** Copy formatted storage from a cached template (default true). */
  useTemplate?: boolean;
  /** How long start() may take until every broker is listed. Default 120 s. */
  startTimeoutMs?: number;
  /** Keep the run directory (configs, data, logs) after stop(). Default: env EKAF_KAFKA_KEEP=1. */
  keepDir?: boolean;
}

export type NodeState = 'running' | 'paused' | 'stopped';

export interface KafkaNode {
  /** node.id (KRaft) or broker.id (ZooKeeper mode), 1..n. */
  readonly id: number;
  /** "127.0.0.1:port" per client listener. */
  readonly listeners: Readonly<Partial<Record<ListenerName, string>>>;
  readonly dir: string;
  readonly logFile: string;
  readonly state: NodeState;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
}

export interface KafkaCluster {
  readonly version: KafkaVersion;
  readonly mode: 'kraft' | 'zookeeper';
  /** PLAINTEXT bootstrap servers, "host:port,host:port". */
  readonly bootstrap: string;
  /** Bootstrap servers per listener that the cluster has. */
  readonly bootstraps: Readonly<Partial<Record<ListenerName, string>>>;
  readonly nodes: readonly KafkaNode[];
  /** Certificates and users for the secure listeners (when asked for). */
  readonly security: SecurityMaterial | undefined;
  /** The run directory: configs, data, node logs. */
  readonly dir: string;
  /** How long start() took, and whether it formatted storage or copied a template. */
  readonly startup: { ms: number; formatted: boolean };

  createTopics(topics: TopicSpec[]): Promise<void>;
  /** Resolves when every partition of the topics has a leader and (default) a full ISR. */
  waitForLeaders(topics: string[], opts?: { fullIsr?: boolean; timeoutMs?: number }): Promise<void>;
  /** Metadata as a running broker answers it (topics: null = all). */
  metadata(topics?: string[] | null): Promise<MetadataResponse>;
  /** The leader's node id; -1 while the partition has none. */
  leaderOf(topic: string, partition: number): Promise<number>;
  /** Polls until fn(metadata) is true. */
  waitForMetadata(
    what: string,
    fn: (m: MetadataResponse) => boolean,
    opts?: { topics?: string[] | null; timeoutMs?: number; failFast?: () => void },
  ): Promise<MetadataResponse>;
  /**
   * Moves leadership back to the preferred (first) replicas of a topic's partitions, or of
   * every partition: kafka-leader-election, a JVM tool start (~2 s).
   */
  electPreferredLeaders(topic?: string): Promise<void>;
  /**
   * The finalized feature levels, as `kafka-features describe` prints them (a JVM start, ~2 s):
   * e.g. { 'metadata.version': '4.4-IV2', 'transaction.version': '2' }. A feature at level 0 may
   * be missing (3.9.2 lists no transaction.version).
   */
  finalizedFeatures(): Promise<Record<string, string>>;
  /** features['transaction.version'] as a number; 0 when the cluster lists none. */
  transactionVersion(): Promise<number>;
  /** Runs a tool of this version (main class, args) against the cluster's jars. */
  runTool(
    mainClass: string,
    args: readonly string[],
    opts?: { input?: Buffer | string; timeoutMs?: number },
  ): Promise<ToolResult>;

  /**
   * SIGKILL: no controlled shutdown, no flush. Resolves when the process is gone. Without a
   * node: every JVM of the cluster, the quick end for a test that needs no clean shutdown.
   */
  kill(node?: number): Promise<void>;
  /** Without a node: every node (and ZooKeeper). SIGTERM, SIGKILL after 15 s. */
  stop(node?: number): Promise<void>;
  /** SIGSTOP: the JVM hangs with its sockets open. */
  pause(node: number): void;
  resume(node: number): void;
  /** Starts a stopped or killed node again (same ports and data); resolves when it is in Metadata. */
  restart(node: number, opts?: { timeoutMs?: number }): Promise<void>;
}

const STOP_ESCALATION_MS = 15_000;
const POLL_MS = 200;

/** Every JVM of this process, killed if the process exits with them still running. */
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;
function track(child: ChildProcess, what: string): void {
  if (child.pid === undefined) return;
  running.add(child);
  registerPid(child.pid, what);
  const pid = child.pid;
  child.once('exit', () => {
    running.delete(child);
    unregisterPid(pid);
  });
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    // 'exit' handlers must be synchronous: process.kill is. SIGKILL also ends a paused JVM.
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
}

class NodeProcess implements KafkaNode {
  state: NodeState = 'stopped';
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly id: number,
    readonly listeners: Partial<Record<ListenerName, string>>,
    readonly dir: string,
    readonly logFile: string,
    private readonly launch: () => ChildProcess,
    readonly what: string,
  ) {}

  get pid(): number | undefined {
    return this.state === 'stopped' ? undefined : this.child?.pid;
  }

  start(): void {
    if (this.state !== 'stopped') throw new Error(`${this.what} is already running`);
    const child = this.launch();
    this.child = child;
    this.state = 'running';
    track(child, this.what);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', () => {
        if (this.child === child) this.state = 'stopped';
        resolve();
      });
    });
  }

  async kill(): Promise<void> {
    if (this.state === 'stopped') return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(escalateAfterMs = STOP_ESCALATION_MS): Promise<void> {
    if (this.state === 'stopped') return;
    const child = this.child;
    child?.kill('SIGTERM');
    if (this.state === 'paused') child?.kill('SIGCONT'); // a stopped JVM handles SIGTERM once continued
    const timer = setTimeout(() => child?.kill('SIGKILL'), escalateAfterMs);
    await this.exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (this.state !== 'running') throw new Error(`${this.what} is ${this.state}, cannot pause it`);
    this.child?.kill('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') throw new Error(`${this.what} is ${this.state}, cannot resume it`);
    this.child?.kill('SIGCONT');
    this.state = 'running';
  }

  /** The last lines of its log, for error messages. */
  tail(lines = 25): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Reserves distinct free ports by binding port 0, all at once so none is handed out twice. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function properties(entries: Record<string, string>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

/** Settings every node gets: small thread pools and fast failure detection for a 2-core machine. */
function commonBrokerConfig(nodes: number): Record<string, string> {
  const rf = String(nodes);
  const minIsr = String(Math.min(2, nodes));
  return {
    'num.network.threads': '2',
    'num.io.threads': '2',
    'background.threads': '2',
    'num.replica.fetchers': '1',
    'log.cleaner.dedupe.buffer.size': '16777216',
    'default.replication.factor': rf,
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': rf,
    'offsets.topic.num.partitions': '3',
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': minIsr,
    'transaction.state.log.num.partitions': '3',
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'false',
  };
}

export async function startKafkaCluster(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const started = Date.now();
  const version = opts.version ?? '4.4.0';
  const mode = version === '2.8.2' ? 'zookeeper' : 'kraft';
  const nodeCount = opts.nodes ?? 1;
  if (mode === 'zookeeper' && nodeCount !== 1) throw new Error('ZooKeeper mode (2.8.2) runs 1 broker');
  const secure = opts.listeners ?? [];
  if (mode === 'zookeeper' && secure.length > 0) throw new Error('secure listeners are KRaft-only here');
  const features = { ...opts.features };
  if (opts.transactionVersion !== undefined) features['transaction.version'] = opts.transactionVersion;
  if (mode === 'zookeeper' && Object.keys(features).length > 0) throw new Error('features are KRaft-only');
  if (version.startsWith('3.') && (features['transaction.version'] ?? 0) > 0) {
    throw new Error(`Kafka ${version} has no stable transaction.version above 0 (transactions v1 only)`);
  }

  for (const orphan of reapOrphans()) console.warn(`[kafka-cluster] killed a JVM left behind: ${orphan}`);

  const dir = mkdtempSync(join(tmpdir(), `ekaf-kafka-${version}-`));
  const scramUsers = opts.scramUsers ?? [{ name: 'alice', password: 'alice-secret' }];
  const plainUsers = opts.plainUsers ?? [{ name: 'alice', password: 'alice-secret' }];
  const security = secure.length > 0 ? await makeSecurityMaterial(join(dir, 'tls'), scramUsers) : undefined;

  // Ports: per node PLAINTEXT, CONTROLLER (KRaft) and one per secure listener; ZooKeeper's.
  const perNode = 1 + (mode === 'kraft' ? 1 : 0) + secure.length;
  const ports = await freePorts(perNode * nodeCount + (mode === 'zookeeper' ? 1 : 0));
  const portAt = (node: number, slot: number): number => ports[(node - 1) * perNode + slot] ?? -1;
  const ids = Array.from({ length: nodeCount }, (_, i) => i + 1);
  const voters = ids.map((id) => `${id}@127.0.0.1:${portAt(id, 1)}`).join(',');

  const nodeConfig = (id: number): Record<string, string> => {
    const client: [string, number][] = [['PLAINTEXT', portAt(id, 0)]];
    secure.forEach((name, i) => client.push([name, portAt(id, (mode === 'kraft' ? 2 : 1) + i)]));
    const listeners = client.map(([name, port]) => `${name}://127.0.0.1:${port}`);
    const config: Record<string, string> = {
      'log.dirs': join(dir, `n${id}`, 'data'),
      // An empty host would advertise the machine's name; clients connect to 127.0.0.1.
      'advertised.listeners': listeners.join(','),
      'inter.broker.listener.name': 'PLAINTEXT',
      ...commonBrokerConfig(nodeCount),
    };
    if (mode === 'kraft') {
      Object.assign(config, {
        'process.roles': 'broker,controller',
        'node.id': String(id),
        'controller.quorum.voters': voters,
        listeners: [...listeners, `CONTROLLER://127.0.0.1:${portAt(id, 1)}`].join(','),
        'controller.listener.names': 'CONTROLLER',
        'listener.security.protocol.map':
          'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
        // A killed node is fenced after 6 s instead of 9 s, so leaders move sooner.
        'broker.heartbeat.interval.ms': '1000',
        'broker.session.timeout.ms': '6000',
      });
      if (version.startsWith('4.')) {
        Object.assign(config, {
          'share.coordinator.state.topic.replication.factor': String(nodeCount),
          'share.coordinator.state.topic.min.isr': String(Math.min(2, nodeCount)),
        });
      }
    } else {
      Object.assign(config, {
        'broker.id': String(id),
        listeners: listeners.join(','),
        'zookeeper.connect': `127.0.0.1:${ports[ports.length - 1] ?? -1}`,
        'zookeeper.connection.timeout.ms': '30000',
      });
    }
    if (security !== undefined) Object.assign(config, security.brokerConfig(secure, plainUsers));
    return { ...config, ...opts.brokerConfig };
  };

  // Storage: KRaft nodes need `StorageTool format` (a JVM start each), cached as a template.
  let formatted = false;
  if (mode === 'kraft') {
    for (const id of ids) {
      mkdirSync(join(dir, `n${id}`), { recursive: true });
      writeFileSync(join(dir, `n${id}`, 'server.properties'), properties(nodeConfig(id)));
    }
    formatted = await prepareStorage(version, dir, ids, scramUsers, features, opts.useTemplate ?? true);
  } else {
    const id = 1;
    mkdirSync(join(dir, `n${id}`, 'data'), { recursive: true });
    writeFileSync(join(dir, `n${id}`, 'server.properties'), properties(nodeConfig(id)));
  }

  let zookeeper: NodeProcess | undefined;
  if (mode === 'zookeeper') {
    const zkDir = join(dir, 'zookeeper');
    mkdirSync(join(zkDir, 'data'), { recursive: true });
    const zkConfig = join(zkDir, 'zk.properties');
    writeFileSync(
      zkConfig,
      properties({
        dataDir: join(zkDir, 'data'),
        clientPort: String(ports[ports.length - 1] ?? -1),
        clientPortAddress: '127.0.0.1',
        maxClientCnxns: '0',
        'admin.enableServer': 'false', // its Jetty would take port 8080
      }),
    );
    const logFile = join(zkDir, 'zookeeper.log');
    zookeeper = new NodeProcess(
      0,
      {},
      zkDir,
      logFile,
      () =>
        spawnServerJvm({
          version,
          mainClass: 'org.apache.zookeeper.server.quorum.QuorumPeerMain',
          args: [zkConfig],
          logFile,
          weight: 'light',
        }),
      `zookeeper (kafka ${version})`,
    );
  }

  const nodes = ids.map((id) => {
    const nodeDir = join(dir, `n${id}`);
    const logFile = join(nodeDir, 'node.log');
    const listeners: Partial<Record<ListenerName, string>> = { PLAINTEXT: `127.0.0.1:${portAt(id, 0)}` };
    secure.forEach(
      (name, i) => (listeners[name] = `127.0.0.1:${portAt(id, (mode === 'kraft' ? 2 : 1) + i)}`),
    );
    return new NodeProcess(
      id,
      listeners,
      nodeDir,
      logFile,
      () =>
        spawnServerJvm({
          version,
          mainClass: 'kafka.Kafka',
          args: [join(nodeDir, 'server.properties')],
          logFile,
        }),
      `kafka ${version} node ${id}`,
    );
  });

  const byId = (id: number): NodeProcess => {
    const node = nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`no node ${id} (nodes are 1..${nodes.length})`);
    return node;
  };
  const liveAddresses = (): string[] =>
    nodes.filter((n) => n.state === 'running').map((n) => n.listeners.PLAINTEXT ?? '');
  const bootstraps: Partial<Record<ListenerName, string>> = {};
  for (const name of ['PLAINTEXT', ...secure] as ListenerName[]) {
    bootstraps[name] = nodes.map((n) => n.listeners[name]).join(',');
  }

  const waitForMetadata = async (
    what: string,
    fn: (m: MetadataResponse) => boolean,
    o: { topics?: string[] | null; timeoutMs?: number; failFast?: () => void; askOnly?: string[] } = {},
  ): Promise<MetadataResponse> => {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    let last: unknown;
    for (;;) {
      o.failFast?.();
      try {
        const m = await fetchMetadata(o.askOnly ?? liveAddresses(), o.topics ?? null);
        if (fn(m)) return m;
        last = `last Metadata: brokers ${m.brokers.map((b) => b.nodeId).join(',')}; ${JSON.stringify(
          m.topics.map((t) => ({
            t: t.name,
            e: t.errorCode,
            p: t.partitions.map((p) => [p.partition, p.leaderId, p.isrNodes.length]),
          })),
        )}`;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        const why = last instanceof Error ? last.message : String(last);
        throw new Error(`timed out waiting for ${what} (${why}); node logs in ${dir}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };
  /**
   * Every wanted node answers Metadata on its own listener and lists all of them. Asking the
   * node itself matters for a restart: the others keep listing a killed broker until its
   * session times out (6 s), and a broker serves requests only once it is unfenced.
   */
  const waitForBrokers = async (want: number[], timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (const id of want) {
      const node = byId(id);
      await waitForMetadata(
        `broker ${id} up, listing ${want.join(', ')}`,
        (m) => want.every((w) => m.brokers.some((b) => b.nodeId === w)),
        {
          timeoutMs: Math.max(0, deadline - Date.now()),
          askOnly: [node.listeners.PLAINTEXT ?? ''],
          // A JVM that exits while starting (bad config, port taken) fails the wait at once.
          failFast: () => {
            for (const n of [...want.map(byId), ...(zookeeper ? [zookeeper] : [])]) {
              if (n.state === 'stopped') throw new Error(`${n.what} exited while starting:\n${n.tail()}`);
            }
          },
        },
      );
    }
  };

  const waitForLeaders = async (
    topics: string[],
    o: { fullIsr?: boolean; timeoutMs?: number } = {},
  ): Promise<void> => {
    await waitForMetadata(
      `leaders of ${topics.join(', ')}`,
      (m) =>
        topics.every((name) => {
          const t = m.topics.find((x) => x.name === name);
          return (
            t !== undefined &&
            t.errorCode === 0 &&
            t.partitions.length > 0 &&
            t.partitions.every(
              (p) =>
                p.errorCode === 0 &&
                p.leaderId >= 0 &&
                (o.fullIsr === false || p.isrNodes.length === p.replicaNodes.length),
            )
          );
        }),
      { topics, timeoutMs: o.timeoutMs ?? 60_000 },
    );
  };

  const keepDir = opts.keepDir ?? process.env.EKAF_KAFKA_KEEP === '1';
  const stopAll = async (): Promise<void> => {
    // Brokers first: their controlled shutdown needs the controllers (or ZooKeeper).
    await Promise.all(nodes.map((n) => n.stop()));
    await zookeeper?.stop();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };

  const cluster: KafkaCluster = {
    version,
    mode,
    get bootstrap() {
      return bootstraps.PLAINTEXT ?? '';
    },
    bootstraps,
    nodes,
    security,
    dir,
    startup: { ms: 0, formatted },
    createTopics: async (topics) => {
      await createTopics(liveAddresses(), topics);
      await waitForLeaders(topics.map((t) => t.name));
    },
    waitForLeaders,
    metadata: (topics = null) => fetchMetadata(liveAddresses(), topics),
    leaderOf: async (topic, partition) => {
      const m = await fetchMetadata(liveAddresses(), [topic]);
      return (
        m.topics.find((t) => t.name === topic)?.partitions.find((p) => p.partition === partition)?.leaderId ??
        -1
      );
    },
    waitForMetadata,
    electPreferredLeaders: async (topic) => {
      let target = ['--all-topic-partitions'];
      if (topic !== undefined) {
        // --topic needs --partition; a whole topic goes in as a JSON file of its partitions.
        const m = await fetchMetadata(liveAddresses(), [topic]);
        const partitions = (m.topics[0]?.partitions ?? []).map((p) => ({ topic, partition: p.partition }));
        const file = join(dir, `elect-${topic}.json`);
        writeFileSync(file, JSON.stringify({ partitions }));
        target = ['--path-to-json-file', file];
      }
      await runKafkaTool(version, kafkaClasses(version).leaderElection, [
        '--bootstrap-server',
        liveAddresses().join(','),
        '--election-type',
        'preferred',
        ...target,
      ]).catch((err: unknown) => {
        // Partitions already led by their preferred replica are not a failure here.
        if (err instanceof Error && /ElectionNotNeeded|already elected/i.test(err.message)) return;
        throw err;
      });
    },
    finalizedFeatures: async () => {
      // 4.x pads the columns with spaces, 3.9 separates them with tabs.
      const { stdout } = await runKafkaTool(version, 'org.apache.kafka.tools.FeatureCommand', [
        '--bootstrap-server',
        liveAddresses().join(','),
        'describe',
      ]);
      const levels: Record<string, string> = {};
      for (const m of stdout.toString().matchAll(/Feature:\s*(\S+).*?FinalizedVersionLevel:\s*(\S+)/g)) {
        if (m[1] !== undefined && m[2] !== undefined) levels[m[1]] = m[2];
      }
      return levels;
    },
    transactionVersion: async () => {
      const level = Number((await cluster.finalizedFeatures())['transaction.version'] ?? 0);
      return Number.isInteger(level) ? level : 0;
    },
    runTool: (mainClass, args, o) => runKafkaTool(version, mainClass, args, o),
    kill: async (id) => {
      if (id !== undefined) return byId(id).kill();
      await Promise.all([...nodes, ...(zookeeper ? [zookeeper] : [])].map((n) => n.kill()));
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    stop: (id) => (id === undefined ? stopAll() : byId(id).stop()),
    pause: (id) => {
      byId(id).pause();
    },
    resume: (id) => {
      byId(id).resume();
    },
    restart: async (id, o = {}) => {
      const node = byId(id);
      await node.stop();
      node.start();
      await waitForBrokers([id], o.timeoutMs ?? 60_000);
    },
  };

  try {
    zookeeper?.start();
    for (const node of nodes) node.start();
    await waitForBrokers(ids, opts.startTimeoutMs ?? 120_000);
    if (opts.topics && opts.topics.length > 0) await cluster.createTopics(opts.topics);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    await zookeeper?.kill();
    const logs = nodes.map((n) => `--- ${n.what} (${n.logFile}):\n${n.tail(15)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
  cluster.startup.ms = Date.now() - started;
  return cluster;
}

/**
 * Puts formatted KRaft storage into <dir>/n<id>/data: copied from a template when one exists
 * for this version, node count, SCRAM users and features, else formatted (and kept as the template).
 * Ports and paths are not in the formatted files (the quorum is static: controller.quorum.voters),
 * so one template serves every run. Returns whether it formatted.
 */
async function prepareStorage(
  version: KafkaVersion,
  dir: string,
  ids: number[],
  scramUsers: { name: string; password: string }[],
  features: Record<string, number>,
  useTemplate: boolean,
): Promise<boolean> {
  // Without features the key is what it was before they could be chosen: existing templates serve.
  const sorted = Object.entries(features).sort(([a], [b]) => a.localeCompare(b));
  const keyed = sorted.length === 0 ? { ids, scramUsers } : { ids, scramUsers, features: sorted };
  const key = createHash('sha256').update(JSON.stringify(keyed)).digest('hex').slice(0, 10);
  const template = join(KAFKA_CACHE, 'templates', `${version}-kraft-${ids.length}n-${key}`);
  if (useTemplate && existsSync(join(template, '.complete'))) {
    for (const id of ids) cpSync(join(template, `n${id}`), join(dir, `n${id}`, 'data'), { recursive: true });
    return false;
  }
  // A cluster id is 16 bytes in URL-safe base64 without padding (what `random-uuid` prints).
  // One in 64 starts with '-', which StorageTool's argument parser takes for an option (a
  // fresh-clone CI run failed so): draw again until it does not.
  let clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-')) clusterId = randomBytes(16).toString('base64url');
  const scram = scramUsers.flatMap((u) =>
    ['SCRAM-SHA-256', 'SCRAM-SHA-512'].flatMap((mech) => [
      '--add-scram',
      `${mech}=[name=${u.name},password=${u.password}]`,
    ]),
  );
  // Static quorum (controller.quorum.voters): no --standalone / --initial-controllers.
  await Promise.all(
    ids.map((id) =>
      runKafkaTool(version, 'kafka.tools.StorageTool', [
        'format',
        '-t',
        clusterId,
        '-c',
        join(dir, `n${id}`, 'server.properties'),
        '--ignore-formatted',
        ...scram,
        ...sorted.flatMap(([name, level]) => ['--feature', `${name}=${level}`]),
      ]),
    ),
  );
  if (useTemplate) {
    const tmp = `${template}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    for (const id of ids) cpSync(join(dir, `n${id}`, 'data'), join(tmp, `n${id}`), { recursive: true });
    writeFileSync(join(tmp, '.complete'), clusterId);
    try {
      renameSync(tmp, template); // a concurrent run may have made the same template meanwhile
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return true;
}
