// A consumer group's committed offsets as the Java clients see them, independent of ekaf
// (test/kafka/java/GroupOffsets.java, compiled on first use): for the tests of offsets committed
// inside a transaction (sendOffsets / TxnOffsetCommit), which must reach the group only with the
// commit.
//
// How "pending" shows (checked on 4.4.0 and 3.9.2 by test/kafka/txn-infra.test.ts): an OffsetFetch
// with requireStable is answered UNSTABLE_OFFSET_COMMIT for a partition whose offsets are in an
// open transaction. The Java Admin client's requireStable(true) then silently leaves that
// partition out of its map (it looks like "no offset"), so the stable read goes through a
// read_committed KafkaConsumer's committed(), which retries the error until its timeout: a
// pending answer takes `timeoutMs`. Without requireStable the broker answers the last committed
// offsets, the pending ones not among them.
import { javaProgramsClasspath } from './java-programs.js';
import { runKafkaTool, type KafkaVersion } from './kafka-jvm.js';

export interface GroupOffsetsOptions {
  /** The Java client's version (default '4.4.0'). */
  version?: KafkaVersion;
  /**
   * OffsetFetch's requireStable (what a read_committed consumer sends). With it, offsets of an
   * open transaction make the answer 'pending'. Default false.
   */
  requireStable?: boolean;
  /**
   * With requireStable: the topics whose partitions are asked about (with those the group has
   * offsets for). Default: every topic of the cluster.
   */
  topics?: string[];
  /**
   * How long the Java calls may retry (default.api.timeout.ms). With requireStable, an answer
   * still unstable after this is 'pending'. Default 5 s.
   */
  timeoutMs?: number;
}

export type GroupOffsetsResult =
  /** "topic:partition" → committed offset; a group that never committed has none. */
  | { status: 'ok'; offsets: Map<string, number> }
  /** requireStable, and the group has offsets in a transaction not yet committed or aborted. */
  | { status: 'pending'; error: string; message: string };

/**
 * Reads the group's committed offsets with the Java clients (a JVM start, ~2 s; plus timeoutMs
 * when pending). Rejects on any other failure.
 */
export async function readGroupOffsets(
  bootstrap: string,
  groupId: string,
  opts: GroupOffsetsOptions = {},
): Promise<GroupOffsetsResult> {
  const version = opts.version ?? '4.4.0';
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const args = ['read', '--bootstrap', bootstrap, '--group', groupId, '--timeout-ms', String(timeoutMs)];
  args.push('--require-stable', String(opts.requireStable ?? false));
  if (opts.topics !== undefined && opts.topics.length > 0) args.push('--topics', opts.topics.join(','));
  const { stdout } = await runKafkaTool(version, 'GroupOffsets', args, {
    classpathPrefix: [await javaProgramsClasspath(version)],
    timeoutMs: timeoutMs + 60_000,
  });
  const answer = JSON.parse(stdout.toString().trim().split('\n').pop() ?? '') as
    { status: 'ok'; offsets: Record<string, number> } | { status: 'pending'; error: string; message: string };
  if (answer.status === 'ok') return { status: 'ok', offsets: new Map(Object.entries(answer.offsets)) };
  return answer;
}

/**
 * Commits offsets ("topic:partition" → offset) for the group with a Java consumer's
 * commitSync (no subscription: the group has no members). For tests that need a group with
 * committed offsets made by the Java client.
 */
export async function commitGroupOffsetsWithJava(
  bootstrap: string,
  groupId: string,
  offsets: Record<string, number>,
  opts: { version?: KafkaVersion; timeoutMs?: number } = {},
): Promise<void> {
  const version = opts.version ?? '4.4.0';
  const spec = Object.entries(offsets).map(([tp, offset]) => `${tp}=${offset}`);
  if (spec.length === 0) throw new Error('commitGroupOffsetsWithJava: no offsets');
  const args = ['commit', '--bootstrap', bootstrap, '--group', groupId, '--offsets', spec.join(',')];
  args.push('--timeout-ms', String(opts.timeoutMs ?? 30_000));
  await runKafkaTool(version, 'GroupOffsets', args, {
    classpathPrefix: [await javaProgramsClasspath(version)],
    timeoutMs: (opts.timeoutMs ?? 30_000) + 60_000,
  });
}
