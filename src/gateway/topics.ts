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
