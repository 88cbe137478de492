import { HttpError } from './errors.js';

/** Kafka's rule for topic names, as the producer applies it (src/producer.ts). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** What is wrong with a topic name, or null for a valid one. */
export function topicNameProblem(topic: string): string | null {
  if (TOPIC_NAME.test(topic) && topic !== '.' && topic !== '..') return null;
  return `invalid topic name ${JSON.stringify(topic)}: 1-249 characters of a-z, A-Z, 0-9, '.', '_', '-', and not "." or ".."`;
}

/**
 * Checks the topic of a route: a valid name (400), and on the allow-list when there is one.
 * A topic off the list gets 403, not 404: the route exists and the name may exist in Kafka,
 * this gateway is just not allowed to write it, and saying so spares the client a hunt.
 */
export function createTopicCheck(allowTopics: readonly string[] | undefined): (topic: string) => void {
  const allowed = allowTopics === undefined ? undefined : new Set(allowTopics);
  return (topic) => {
    const problem = topicNameProblem(topic);
    if (problem !== null) throw new HttpError(400, 'ERR_INVALID_TOPIC', problem);
    if (allowed !== undefined && !allowed.has(topic)) {
      throw new HttpError(403, 'ERR_TOPIC_FORBIDDEN', `topic "${topic}" is not on this gateway's allow-list`);
    }
  };
}

/**
 * How many topics the gateway makes the producer hold. Each topic it is asked for gets a topic
 * actor and a worker per partition for the producer's life, so that any name in a URL would
 * grow the process for good (1 000 POSTs to made-up topics: RSS 99 → 478 MB, /metrics 2.8 MB).
 * Past `max` distinct topics, a new one gets 403 ERR_TOO_MANY_TOPICS; the ones already
 * admitted keep working. Only requests that passed every other check are admitted.
 */
export class TopicLimit {
  private readonly admitted = new Set<string>();

  constructor(private readonly max: number) {}

  /** Admits the topic (a no-op for one already admitted); true if it was new. */
  admit(topic: string): boolean {
    if (this.admitted.has(topic)) return false;
    if (this.admitted.size >= this.max) {
      throw new HttpError(
        403,
        'ERR_TOO_MANY_TOPICS',
        `this gateway already writes ${this.admitted.size} topics, its most (maxTopics, --max-topics): "${topic}" is refused`,
      );
    }
    this.admitted.add(topic);
    return true;
  }

  /** Takes back a topic admitted by a request that then failed before the topic was made. */
  forget(topic: string): void {
    this.admitted.delete(topic);
  }
}
