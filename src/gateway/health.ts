import { actorNamed, ofKind } from '../runtime/introspection.js';
import type { ActorSnapshot } from '../runtime/runtime.js';
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

/**
 * One word for how the producer is doing, with the reasons behind it: what the visualizer's
 * header, `/readyz` and `/metrics` (`kafboy_health`) all say.
 *
 * - `down`: nothing can be delivered now: no broker was ever reached (and one was tried), or
 *   every known broker's connection is down.
 * - `degraded`: records may wait or fail: some broker connections are down, some partitions
 *   have no usable leader or are retrying, or records failed in the last minute.
 * - `ok`: otherwise, including a gateway that has not connected yet because nothing was
 *   produced (ekaf is lazy): its reason says so.
 */
export type HealthState = 'ok' | 'degraded' | 'down';

export interface Health {
  state: HealthState;
  /** Why, most important first; empty when all is well. */
  reasons: string[];
}

export const HEALTH_STATES: readonly HealthState[] = ['ok', 'degraded', 'down'];

/**
 * A broker connection is down when it is not ready, but for its first connection, under way:
 * ekaf connects to a broker when a partition it leads is first used, so a broker being reached
 * for the first time (no failed attempt yet) is not a problem to report.
 */
function isDown(broker: ActorSnapshot): boolean {
  if (broker.state === 'ready' || broker.kind !== 'broker') return false;
  const firstConnection = broker.state === 'connecting' || broker.state === 'handshaking';
  return !(firstConnection && broker.details.attempts === 0);
}

/** `recentFailures`: records that failed for good in the last minute (the caller counts them). */
export function health(actors: ActorSnapshot[], recentFailures = 0): Health {
  const metadata = actorNamed(actors, 'metadata');
  const brokers = ofKind(actors, 'broker');
  const brokersDown = brokers.filter(isDown);
  if (metadata !== undefined && metadata.details.lastRefreshAt <= 0) {
    const tried = metadata.details.addresses.filter((a) => a.lastError !== null);
    if (tried.length > 0) {
      return {
        state: 'down',
        reasons: [
          `no broker reached yet: ${tried.map((a) => `${a.address}: ${a.lastError?.message ?? ''}`).join('; ')}`,
        ],
      };
    }
    const used = actors.some((a) => a.kind === 'topic');
    return {
      state: 'ok',
      reasons: [
        used
          ? 'connecting to the bootstrap brokers'
          : 'idle: nothing produced yet (ekaf connects on first use)',
      ],
    };
  }
  if (brokers.length > 0 && brokersDown.length === brokers.length) {
    return { state: 'down', reasons: [`every broker connection is down (${brokers.length})`] };
  }
  const reasons: string[] = [];
  if (brokersDown.length > 0) {
    reasons.push(
      `${brokersDown.length} of ${brokers.length} broker connections down: ${brokersDown.map((b) => b.name).join(', ')}`,
    );
  }
  const partitions = ofKind(actors, 'partition');
  const waiting = partitions.filter((p) => p.state === 'buffering' || p.state === 'retrying');
  if (waiting.length > 0) {
    const states = new Map<string, number>();
    for (const p of waiting) states.set(p.state, (states.get(p.state) ?? 0) + 1);
    reasons.push(
      `${waiting.length} of ${partitions.length} partitions waiting (${[...states].map(([s, n]) => `${n} ${s}`).join(', ')})`,
    );
  }
  if (recentFailures > 0) reasons.push(`${recentFailures} records failed in the last minute`);
  return { state: reasons.length > 0 ? 'degraded' : 'ok', reasons };
}
