// How a client batched its records, as the brokers stored them: Kafka's DumpLogSegments over a
// replica of each partition (node 1 holds one of every partition at replication factor 3). The
// brokers' work is per request and per batch more than per record, so records per batch says
// much of what a client's run cost them.
import { join } from 'node:path';
import type { KafkaCluster } from '../../test/kafka/kafka-cluster.js';

export interface BatchStats {
  batches: number;
  records: number;
  recordsPerBatch: number;
}

/** Batches and records of `topic` in the first log segment of each of its partitions on node 1. */
export async function logBatches(
  cluster: KafkaCluster,
  topic: string,
  partitions: number,
): Promise<BatchStats> {
  const node = cluster.nodes[0];
  if (node === undefined) throw new Error('the cluster has no node');
  const files = Array.from({ length: partitions }, (_, p) =>
    join(node.dir, 'data', `${topic}-${p}`, '00000000000000000000.log'),
  );
  const { stdout } = await cluster.runTool(
    'org.apache.kafka.tools.DumpLogSegments',
    ['--files', files.join(',')],
    {
      timeoutMs: 120_000,
    },
  );
  // One line per batch: "baseOffset: 0 lastOffset: 161 count: 162 ...".
  let batches = 0;
  let records = 0;
  for (const m of stdout.toString().matchAll(/^baseOffset: \d+ lastOffset: \d+ count: (\d+)/gm)) {
    batches++;
    records += Number(m[1]);
  }
  return { batches, records, recordsPerBatch: batches === 0 ? NaN : records / batches };
}
