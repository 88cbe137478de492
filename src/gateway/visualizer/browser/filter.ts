/** The filter: actors whose name or state contains every word typed. */
import { markTopic, markTotals } from './frame.js';
import { actors, topicOf, type ActorView } from './model.js';

let terms: string[] = [];

export function filtering(): boolean {
  return terms.length > 0;
}

export function matches(actor: Pick<ActorView, 'name' | 'state'>): boolean {
  if (terms.length === 0) return true;
  const text = `${actor.name} ${actor.state ?? ''}`.toLowerCase();
  return terms.every((term) => text.includes(term));
}

/**
 * Shows or hides `actor`. The registry's row is only dimmed (the tree hangs from it); a topic's
 * and its partitions' visibility is its topic's to decide, at the next frame.
 */
export function applyFilter(actor: ActorView): void {
  const match = matches(actor);
  if (actor.kind === 'registry') actor.row.classList.toggle('unmatched', !match);
  else if (actor.kind !== 'topic' && actor.row.hidden === match) actor.row.hidden = !match;
  markTopic(topicOf(actor));
  markTotals();
}

export function setFilter(text: string): void {
  terms = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const actor of actors.values()) applyFilter(actor);
}
