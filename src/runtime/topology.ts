/**
 * The rules by which the runtime follows the cluster's shape: which leader to believe (leader
 * epochs, KIP-320 / KIP-951), when a topic has really lost partitions, when a broker has really
 * left. Pure functions and constants, so that the rules read in one place; the runtime applies
 * them (src/runtime/runtime.ts, applyMetadata).
 */

/**
 * Whether a leader named with `incoming` epoch is older than the one we follow (`current`).
 * -1 on either side means the epoch is unknown (Metadata < v7, or nothing known yet): there is
 * nothing to order by, and the answer is followed as before epochs existed. An equal epoch is
 * not stale: the same leadership, possibly with a leader we had not heard of.
 */
export function isStaleEpoch(current: number, incoming: number): boolean {
  return current >= 0 && incoming >= 0 && incoming < current;
}

/**
 * Whether a current-leader hint (Produce v10+, KIP-951) names a leadership newer than ours. A
 * hint must be strictly newer: one with our own epoch names the leader that just refused us.
 */
export function isNewerEpoch(current: number, hinted: number): boolean {
  return hinted >= 0 && (current < 0 || hinted > current);
}

/** A topic id is known when present (Metadata v10+) and not all zero. */
export function knownTopicId(id: Buffer | null): Buffer | null {
  return id !== null && id.some((byte) => byte !== 0) ? id : null;
}

/**
 * Whether the topic named by an answer is another topic than the one we knew under that name
 * (deleted and recreated): both ids known and different. Its partitions' epochs start again,
 * and it may have fewer partitions.
 */
export function isRecreated(known: Buffer | null, answered: Buffer | null): boolean {
  return known !== null && answered !== null && !known.equals(answered);
}

/**
 * How many consecutive metadata answers must agree that a topic has fewer partitions before
 * the vanished ones are given up, when topic ids cannot tell (brokers before Kafka 2.8). A
 * broker that has not yet heard of partitions just added answers with the old, smaller count
 * once or twice; a recreated topic keeps answering with the new one. With topic ids a shrink
 * is followed at once if the id changed, and never with the same id (Kafka cannot remove
 * partitions from a topic: a smaller count under the same id is a stale answer).
 */
export const SHRINK_CONFIRMATIONS = 2;

/**
 * When a broker missing from metadata is taken to have left the cluster: missing from at least
 * BROKER_ABSENCE_LIMIT consecutive answers, over at least BROKER_ABSENCE_MS. Its actor is then
 * stopped and it is no longer dialled. A broker that restarts is missing while it is down (Kafka
 * lists live brokers only) and comes back under the same id; while it is still dialled its
 * partitions resume as soon as it accepts connections, whereas once forgotten they wait for a
 * metadata refresh to name it again (at most a few seconds while they are down). A minute
 * covers most restarts; the count guards against a clock jump. The Java client forgets a node
 * as soon as metadata stops naming it.
 */
export const BROKER_ABSENCE_LIMIT = 3;
export const BROKER_ABSENCE_MS = 60_000;

/** Whether a broker missing from `absences` consecutive answers since `absentSince` has left. */
export function hasLeft(absences: number, absentSince: number, now: number): boolean {
  return absences >= BROKER_ABSENCE_LIMIT && now - absentSince >= BROKER_ABSENCE_MS;
}
