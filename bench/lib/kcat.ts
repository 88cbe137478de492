// kcat (librdkafka 2.0.2, C) as the reference producer: `kcat -P -l -K:` of a "key:value" file.
// Timed from spawn to exit, so its startup, metadata fetch and connects are inside the time
// (a few ms against seconds of producing); it exits once librdkafka flushed every message.
// Its CPU (user + system, every thread, spawn to exit) comes from /usr/bin/time.
import { statSync } from 'node:fs';
import { countRecords } from '../../test/broker/kcat.js';
import { cpuMetric } from './cpu.js';
import { timeCommand, type Metrics } from './proc.js';
import { rates } from './scenario.js';

/** Payload bytes of a "key:value\n" file: everything but the ':' and '\n' of each line. */
export function payloadBytes(file: string, records: number): number {
  return statSync(file).size - 2 * records;
}

export async function kcatProduce(
  bootstrap: string,
  topic: string,
  file: string,
  records: number,
  extra: string[] = [],
): Promise<Metrics> {
  // acks=all as every client here; librdkafka's other defaults (linger 5 ms, batches of up to
  // 10 000 messages / 1 MB, idempotence off), as kafkajs is also run with its defaults.
  const args = ['-P', '-b', bootstrap, '-t', topic, '-K', ':', '-l', '-X', 'acks=all', ...extra, file];
  const r = await timeCommand('kcat', args, { cpu: true });
  // librdkafka logs what it retries as warnings (e.g. "Failed to acquire idempotence PID …:
  // Coordinator load in progress: retrying"): those are not failures, the count check decides.
  const complaints = r.stderr.split('\n').filter((line) => !/retrying\W*$/i.test(line));
  if (r.code !== 0 || complaints.some((line) => /fail|error/i.test(line))) {
    throw new Error(`kcat ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  }
  await checkDelivered(bootstrap, topic, records);
  return { ...rates(records, payloadBytes(file, records), r.ms), ...cpuMetric(r.cpuSeconds ?? NaN, records) };
}

/** Throws unless `topic` holds `expected` records (plus `warmUp`, for the library runs). */
export async function checkDelivered(
  bootstrap: string,
  topic: string,
  expected: number,
  warmUp = 0,
): Promise<void> {
  const n = await countRecords(bootstrap, topic);
  if (n !== expected + warmUp) throw new Error(`${topic} holds ${n} records, expected ${expected + warmUp}`);
}
