/** The header's totals, the group counts and the filter's count. */
import { toneOf } from './catalog.js';
import { byId, setText } from './dom.js';
import { filtering, matches } from './filter.js';
import { actors } from './model.js';
import { topics } from './topics.js';

export function flushTotals(): void {
  let brokers = 0;
  let brokersUp = 0;
  let partitions = 0;
  let shown = 0;
  const partitionStates = new Map<string, number>();
  for (const actor of actors.values()) {
    if (matches(actor)) shown += 1;
    if (actor.kind === 'broker') {
      brokers += 1;
      if (toneOf(actor.kind, actor.state) === 'good') brokersUp += 1;
    } else if (actor.kind === 'partition') {
      partitions += 1;
      const state = actor.state ?? 'unknown';
      partitionStates.set(state, (partitionStates.get(state) ?? 0) + 1);
    }
  }
  const states = [...partitionStates]
    .sort((a, b) => b[1] - a[1])
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  // The spool is shown among the actors but is files, not an actor.
  const actorCount = actors.size - (actors.has('spool') ? 1 : 0);
  const parts = [
    `${actorCount} actors`,
    // Before metadata names any broker, "0 of 0 ready" would read as a cluster of none.
    brokers === 0 ? 'no broker known yet' : `${brokersUp} of ${brokers} brokers ready`,
    `${topics.size} ${topics.size === 1 ? 'topic' : 'topics'}`,
    `${partitions} partitions${states ? ` (${states})` : ''}`,
  ];
  setText(byId('totals'), parts.join(' · '));
  setText(byId('brokers-count'), String(brokers));
  setText(byId('topics-count'), String(topics.size));
  setText(byId('filter-count'), filtering() ? `${shown} of ${actors.size} match` : '');
}
