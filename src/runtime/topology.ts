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
 * How many consecutive metadata answers a broker must be missing from before its actor is
 * stopped and it is no longer dialled. One missing answer is not enough: a broker that restarts
 * is absent while it is down and comes back under the same id (and is then dialled again). The
 * Java client forgets a node as soon as metadata stops naming it; librdkafka decommissions it.
 * Metadata is fetched at least every `metadataMaxAgeMs`, and sooner whenever a connection is
 * lost, so a broker that left is let go within a few refreshes.
 */
export const BROKER_ABSENCE_LIMIT = 3;
