// `ekaf dev-cluster`: the bundled local Kafka cluster (src/dev-cluster.ts) in the foreground,
// for trying ekaf, kcat or any client without installing Kafka.
import { DEV_CLUSTER_PORT, portsTakenNote, TIMESTAMP_NOTE } from './dev-cluster-notes.js';
import { startDevCluster, type DevClusterOptions } from '../dev-cluster.js';
import { FAILED, OK, UsageError } from './exit-codes.js';
import { err, out } from './output.js';
import { integer, noPositionals, parseCommandLine, setting, type Values } from './settings.js';

export const DEV_CLUSTER_HELP = `Usage: ekaf dev-cluster [options]

Starts the bundled local Kafka cluster (librdkafka's mock brokers on 127.0.0.1, built by
scripts/build-harness.sh), prints its bootstrap address, and runs until SIGINT or SIGTERM.
Data lives in memory only. Topics not created here are auto-created on first use.

Options (environment variable in brackets):
      --brokers <n>                   Number of brokers, 1-64 [EKAF_DEV_BROKERS] (default: 3)
      --port <n>                      Broker n listens on port + n - 1, when all are free; 0: ports
                                      the kernel picks [EKAF_DEV_PORT] (default: 9092)
  -t, --topic <name:partitions[:rf]>  Create a topic; repeat for more (rf: replication factor,
                                      default min(3, brokers))
      --peer <2.12|2.0>               librdkafka version of the mock brokers (default: 2.12)
  -h, --help                          Show this help

Example:
  ekaf dev-cluster --topic demo:6 --topic logs:1
`;

/** A topic to create, from one --topic name:partitions[:rf]. */
type TopicSpec = NonNullable<DevClusterOptions['topics']>[number];

export async function devClusterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('dev-cluster', args, {
    brokers: { type: 'string' },
    port: { type: 'string' },
    topic: { type: 'string', short: 't', multiple: true },
    peer: { type: 'string' },
  });
  if (values.help === true) {
    process.stdout.write(DEV_CLUSTER_HELP);
    return OK;
  }
  noPositionals('dev-cluster', positionals);
  const brokerCount = integer(setting(values, 'brokers', 'EKAF_DEV_BROKERS'), 1, 64) ?? 3;
  const peerSetting = setting(values, 'peer');
  const peer = peerSetting?.value ?? '2.12';
  if (peer !== '2.12' && peer !== '2.0') {
    throw new UsageError(`--peer must be 2.12 or 2.0 (got ${JSON.stringify(peer)})`);
  }
  const topics = topicSpecs(values, brokerCount);
  const firstPort =
    integer(setting(values, 'port', 'EKAF_DEV_PORT'), 0, 65536 - brokerCount) ?? DEV_CLUSTER_PORT;

  const dev = await startDevCluster({ peer, brokers: brokerCount, topics, firstPort });
  out(`bootstrap: ${dev.bootstrap}`);
  const taken = portsTakenNote(dev, firstPort);
  if (taken !== undefined) out(taken);
  out(
    `brokers:   ${dev.brokers.map((b) => `${b.id}=${b.host}:${b.port}`).join(' ')} (librdkafka ${peer} mock cluster)`,
  );
  for (const t of topics) out(`topic:     ${t.name} (${t.partitions} partitions)`);
  out(TIMESTAMP_NOTE);
  out(`Try: ekaf produce -b ${dev.bootstrap} -t demo file.txt   (stop with Ctrl-C or SIGTERM)`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void dev.stop().then(() => {
        resolve(OK);
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    void dev.exited.then(() => {
      if (stopping) return;
      err('ekaf dev-cluster: the cluster exited unexpectedly');
      resolve(FAILED);
    });
  });
}

/** Every --topic, checked here so that a typo is a usage error, not a cluster failure. */
function topicSpecs(values: Values, brokerCount: number): TopicSpec[] {
  const topicValues = values.topic;
  return (Array.isArray(topicValues) ? topicValues : []).map((raw) => {
    const m = /^([a-zA-Z0-9._-]{1,249}):(\d+)(?::(\d+))?$/.exec(String(raw));
    const partitions = Number(m?.[2]);
    const replicationFactor = m?.[3] === undefined ? undefined : Number(m[3]);
    if (m === null || partitions < 1 || partitions > 100_000) {
      throw new UsageError(
        `--topic must be name:partitions[:replication-factor], partitions >= 1 (got ${JSON.stringify(raw)})`,
      );
    }
    if (replicationFactor !== undefined && (replicationFactor < 1 || replicationFactor > brokerCount)) {
      throw new UsageError(
        `--topic ${String(raw)}: the replication factor must be from 1 to the number of brokers (${brokerCount})`,
      );
    }
    return {
      name: m[1] as string,
      partitions,
      ...(replicationFactor === undefined ? {} : { replicationFactor }),
    };
  });
}
