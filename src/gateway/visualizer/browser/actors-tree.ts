/**
 * The actor tree: the registry at its root; under it the metadata actor, the durable spool,
 * the broker connections, any other kind of actor, and the topics (./topics.ts). Each actor
 * has a row with its name, its state (coloured by the state's tone) and its counters.
 */
import type { ActorSnapshot } from './api.js';
import { titleOf } from './catalog.js';
import { showState } from './detail.js';
import { byId, h, setText } from './dom.js';
import { ago, errorText, fmt, mib, sum } from './format.js';
import { applyFilter } from './filter.js';
import { markTopic, markTotals } from './frame.js';
import { actors, parseName, topicOf, type ActorView, type Details } from './model.js';
import { badge, insertSorted, nameButton, paintState, statList, type Stat } from './rows.js';
import { createPartition, ensureTopic, markAllTopics, removePartition, showTopicDetails } from './topics.js';

const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

/** The counters shown in an actor's card, by kind (a kind not here shows its first details). */
const STATS: Readonly<Record<string, readonly Stat[]>> = {
  registry: [
    ['children', (d) => fmt(d.children)],
    ['restarts', (d) => fmt(sum(d.restarts))],
  ],
  metadata: [
    ['brokers', (d) => fmt(d.brokers)],
    ['topics', (d) => fmt(d.topics)],
    ['refreshed', (d) => ago(d.lastRefreshAt)],
  ],
  broker: [
    ['address', (d) => fmt(d.address)],
    ['in flight', (d) => fmt(d.inFlightRequests)],
    ['leads', (d) => fmt(d.partitionsLed)],
    ['attempts', (d) => fmt(d.attempts)],
  ],
  spool: [
    ['records', (d) => fmt(d.liveRecords)],
    ['on disk only', (d) => fmt(d.backlogRecords)],
    ['segments', (d) => fmt(d.segments)],
    ['used', (d) => `${mib(d.bytes)} / ${mib(d.maxBytes)}`],
    [
      'oldest',
      (d) =>
        typeof d.oldestEntryAgeMs === 'number' && d.oldestEntryAgeMs > 0
          ? `${fmt(Math.round(d.oldestEntryAgeMs / 1000))} s`
          : '—',
    ],
  ],
};

/** For a kind of actor the page does not know: its first few details that are plain values. */
function genericStats(details: Details): Stat[] {
  return Object.entries(details)
    .filter(([, value]) => typeof value !== 'object' || value === null)
    .slice(0, 4)
    .map(([key]): Stat => [key, (d) => fmt(d[key])]);
}

/** A card: for the registry, the metadata actor, the spool, a broker, another kind of actor. */
function createCard(data: ActorSnapshot, tag: 'div' | 'li', extraClass: string): ActorView {
  const stats = statList(STATS[data.kind] ?? genericStats(data.details));
  const button = nameButton(data.name, data.name);
  const state = badge();
  const error = h('p', { class: 'error', hidden: true });
  const row = h(
    tag,
    {
      class: `node ${extraClass}`,
      'data-actor': data.name,
      'data-kind': data.kind,
      'data-state': data.state,
    },
    h('div', { class: 'node-head' }, button, state),
    stats.list,
    error,
  );
  return {
    name: data.name,
    kind: data.kind,
    state: null,
    data,
    row,
    badge: state,
    button,
    cells: stats.cells,
    error,
    topic: null,
  };
}

/** A titled slot of the tree holding one card (the metadata actor, the spool). */
function placeInSlot(slot: string, title: string, actor: ActorView): void {
  const node = byId(slot);
  node.hidden = false;
  node.replaceChildren(h('h3', { class: 'group-title', text: title }), actor.row);
}

export function createActor(data: ActorSnapshot): ActorView {
  let actor: ActorView;
  switch (data.kind) {
    case 'registry':
      actor = createCard(data, 'div', 'node-root');
      byId('root-slot').replaceChildren(actor.row);
      byId('tree-empty').hidden = true;
      byId('children').hidden = false;
      break;
    case 'metadata':
      actor = createCard(data, 'div', 'card');
      placeInSlot('metadata-slot', 'Metadata', actor);
      break;
    case 'spool':
      actor = createCard(data, 'div', 'card');
      placeInSlot('spool-slot', 'Durable spool', actor);
      break;
    case 'broker':
      actor = createCard(data, 'li', 'card');
      insertSorted(byId('brokers'), actor.row, parseName(data.name).broker ?? 0);
      break;
    case 'topic':
      actor = ensureTopic(parseName(data.name).topic ?? '').actor;
      break;
    case 'partition':
      actor = createPartition(data);
      break;
    default: {
      actor = createCard(data, 'li', 'card');
      actor.row.prepend(h('p', { class: 'kind-title', text: titleOf(data.kind) }));
      byId('others').append(actor.row);
      byId('others-slot').hidden = false;
    }
  }
  actor.data = data;
  actors.set(data.name, actor);
  markTotals();
  return actor;
}

/** `actor` is now in `state`; `live`: it just happened (the row flashes). */
export function setState(actor: ActorView, state: string, live: boolean): void {
  if (actor.state === state) return;
  actor.state = state;
  paintState(actor);
  if (live && !reducedMotion && actor.row.isConnected) {
    actor.row.animate(
      [{ backgroundColor: 'rgba(250, 204, 21, 0.45)' }, { backgroundColor: 'rgba(250, 204, 21, 0)' }],
      { duration: 1400, easing: 'ease-out' },
    );
  }
  applyFilter(actor);
  showState(actor);
}

/** Writes the actor's counters and last error (only the cells whose text changed). */
export function updateCounters(actor: ActorView): void {
  const details = actor.data?.details ?? {};
  for (const [node, value] of actor.cells) setText(node, value(details));
  const text = errorText(actor.data?.lastError);
  setText(actor.error, text);
  if (actor.error.title !== text) actor.error.title = text;
  if (actor.error.tagName === 'P') actor.error.hidden = text === '';
  if (actor.kind === 'topic') showTopicDetails(parseName(actor.name).topic ?? '', details);
}

export function removeActor(actor: ActorView): void {
  actors.delete(actor.name);
  markTotals();
  if (actor.kind === 'partition') {
    removePartition(actor);
  } else if (actor.kind === 'topic') {
    // Its group stays while partitions remain.
    actor.state = null;
    markTopic(topicOf(actor));
  } else {
    actor.row.remove();
    const others = byId('others');
    if (others.childElementCount === 0) byId('others-slot').hidden = true;
  }
}

/** Repaints every actor's tone (the machines, which carry the tones, just arrived). */
export function repaintTones(): void {
  for (const actor of actors.values()) paintState(actor);
  markAllTopics();
}
