import { actorNamed } from '../runtime/introspection.js';
import type { Producer } from '../producer.js';

export type Readiness = { ready: true; brokersReady: number } | { ready: false; reason: string };

/**
 * Ready means the producer can send now: metadata has been fetched at least once and at least
 * one broker connection has finished its handshake. Derived from `inspect()`, the same view
 * the visualizer shows, so that the two never disagree.
 *
 * ekaf's metadata is lazy: nothing connects until a topic is first used. The gateway warms
 * the producer up at start by resolving its `warmTopics` (see server.ts); without any, the
 * reason below says that the first produce is what connects.
 */
export function readiness(producer: Producer): Readiness {
  const actors = producer.inspect();
  const metadata = actorNamed(actors, 'metadata');
  const refreshedAt = metadata?.details.lastRefreshAt;
  if (typeof refreshedAt !== 'number' || refreshedAt <= 0) {
    const topics = actors.filter((a) => a.kind === 'topic').length;
    const why = metadata?.lastError?.message;
    return {
      ready: false,
      reason:
        topics === 0
          ? 'no metadata yet: ekaf connects on the first use of a topic (produce to one, or start the gateway with warmTopics)'
          : `no metadata yet${why === undefined ? ' (fetching)' : `: ${why}`}`,
    };
  }
  const brokersReady = actors.filter((a) => a.kind === 'broker' && a.state === 'ready').length;
  if (brokersReady === 0) return { ready: false, reason: 'no broker connection is ready' };
  return { ready: true, brokersReady };
}
