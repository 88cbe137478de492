/**
 * The actor tree: the registry at its root; under it the metadata actor, the durable spool,
 * the broker connections, any other kind of actor, and the topics (./topics.ts). Each actor
 * has a row with its name, its state (coloured by the state's tone) and its counters.
 */
import type { ActorSnapshot } from './api.js';
import { titleOf } from './catalog.js';
import { showState } from './detail.js';
import { byId, h, setText } from './dom.js';
import { ago, duration, errorText, fmt, mib } from './format.js';
import { brokerChart } from './charts.js';
import { applyFilter } from './filter.js';
import { markTopic, markTotals } from './frame.js';
import { actors, detailsOf, isKind, topicOf, type ActorView, type Cell } from './model.js';
import { badge, insertSorted, nameButton, paintState, statList, statsOf, type Stat } from './rows.js';
import { createPartition, ensureTopic, markAllTopics, removePartition, showTopicDetails } from './topics.js';

const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

/** The counters shown in an actor's card, by kind (a kind not here shows its first details). */
const STATS: Readonly<Partial<Record<string, readonly Stat[]>>> = {
  registry: statsOf('registry', [
    ['children', (d) => fmt(d.children)],
    ['restarts', (d) => fmt(d.restarts)],
  ]),
  metadata: statsOf('metadata', [
    ['brokers', (d) => fmt(d.brokers)],
    ['topics', (d) => fmt(d.topics)],
    ['refreshed', (d) => ago(d.lastRefreshAt)],
  ]),
  broker: statsOf('broker', [
    ['address', (d) => fmt(d.address)],
    ['in flight', (d) => fmt(d.inFlightRequests)],
    ['leads', (d) => fmt(d.partitionsLed)],
    ['attempts', (d) => fmt(d.attempts)],
  ]),
  transaction: statsOf('transaction', [
    ['transactional id', (d) => d.transactionalId],
    // Ids and epochs as the broker's logs write them (no thousands separators).
    ['producer id', (d) => (d.producerId === null ? '—' : String(d.producerId))],
    ['epoch', (d) => (d.producerEpoch === null ? '—' : String(d.producerEpoch))],
    ['protocol', (d) => fmt(d.protocol)],
    ['transaction', (d) => (d.transaction > 0 ? `#${d.transaction}` : '—')],
    ['partitions', (d) => fmt(d.partitions)],
    ['open for', (d) => duration(d.openForMs)],
    ['committed', (d) => fmt(d.committed)],
    ['aborted', (d) => fmt(d.aborted)],
  ]),
  spool: statsOf('spool', [
    ['records', (d) => fmt(d.liveRecords)],
    ['on disk only', (d) => fmt(d.backlogRecords)],
    ['segments', (d) => fmt(d.segments)],
    ['used', (d) => `${mib(d.bytes)} / ${mib(d.maxBytes)}`],
    ['oldest', (d) => (d.oldestEntryAgeMs > 0 ? `${fmt(Math.round(d.oldestEntryAgeMs / 1000))} s` : '—')],
  ]),
};

/** The line under a card's counters, by kind: shown when it has something to say. */
const NOTES: Readonly<Partial<Record<string, (data: ActorSnapshot) => string>>> = {
  // The reason is a TransactionAbortableError's message: its "must be aborted" is said once.
  transaction: (data) =>
    isKind(data, 'transaction') && data.details.abortableReason !== null
      ? `must abort: ${data.details.abortableReason.replace(/^the transaction must be aborted: /, '')}`
      : '',
};

/** For a kind of actor the page does not know: its first few details that are plain values. */
function genericStats(data: ActorSnapshot): Stat[] {
  return Object.entries(detailsOf(data))
    .filter(([, value]) => typeof value !== 'object' || value === null)
    .slice(0, 4)
    .map(([key]): Stat => [key, (current) => fmt(detailsOf(current)[key])]);
}

/** A card: for the registry, the metadata actor, the spool, a broker, another kind of actor. */
function createCard(data: ActorSnapshot, tag: 'div' | 'li', extraClass: string): ActorView {
  const stats = statList(STATS[data.kind] ?? genericStats(data));
  const button = nameButton(data.name, data.name);
  const state = badge();
  const error = h('p', { class: 'error', hidden: true });
  const noteText = NOTES[data.kind];
  const note: Cell | undefined =
    noteText === undefined ? undefined : [h('p', { class: 'note', hidden: true }), noteText];
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
    note?.[0],
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
    note,
  };
}

/**
 * The list of the cards of a kind of actor that has no place of its own in the page (the
 * producer identity, a transactional producer's transaction, any new kind), in a group titled
 * with its title from GET /api/machines; created before the topics on first use.
 */
function groupOf(kind: string): HTMLElement {
  const existing = byId('children').querySelector<HTMLElement>(
    `[data-kind-group="${CSS.escape(kind)}"] .cards`,
  );
  if (existing !== null) return existing;
  const list = h('ul', { class: 'cards' });
  const group = h(
    'li',
    { class: 'branch', 'data-kind-group': kind },
    h(
      'section',
      { 'aria-label': titleOf(kind) },
      h('h3', { class: 'group-title', text: titleOf(kind) }),
      list,
    ),
  );
  byId('children').insertBefore(group, byId('topics-branch'));
  return list;
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
      // Before the error line: what it acknowledged, the last minutes.
      actor.row.insertBefore(brokerChart(data.details.brokerId), actor.error);
      insertSorted(byId('brokers'), actor.row, data.details.brokerId);
      break;
    case 'topic':
      actor = ensureTopic(data.details.topic).actor;
      break;
    case 'partition':
      actor = createPartition(data);
      break;
    default:
      actor = createCard(data, 'li', 'card');
      groupOf(data.kind).append(actor.row);
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

/**
 * Writes the actor's counters, its note and last error (only the cells whose text changed), and
 * its state again: its details may tell more of it (a transaction that must be aborted).
 */
export function updateCounters(actor: ActorView): void {
  const data = actor.data;
  if (data !== null) for (const [node, value] of actor.cells) setText(node, value(data));
  if (data !== null && actor.note !== undefined) {
    const [node, value] = actor.note;
    const text = value(data);
    setText(node, text);
    if (node.title !== text) node.title = text;
    node.hidden = text === '';
  }
  paintState(actor);
  const text = errorText(actor.data?.lastError);
  setText(actor.error, text);
  if (actor.error.title !== text) actor.error.title = text;
  if (actor.error.tagName === 'P') actor.error.hidden = text === '';
  if (data !== null && isKind(data, 'topic')) showTopicDetails(data.details.topic, data.details);
  // The topic's totals sum its partitions' counters.
  if (actor.kind === 'partition' && actor.topic !== null) markTopic(actor.topic);
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
    const list = actor.row.parentElement;
    actor.row.remove();
    // The last of a kind the page has no place of its own for: its group goes too.
    if (list?.childElementCount === 0) list.closest('[data-kind-group]')?.remove();
  }
}

/** Repaints what comes from the machines (they just arrived): tones, and the groups' titles. */
export function repaint(): void {
  for (const actor of actors.values()) paintState(actor);
  markAllTopics();
  for (const group of byId('children').querySelectorAll<HTMLElement>('[data-kind-group]')) {
    const title = titleOf(group.dataset.kindGroup ?? '');
    group.querySelector('section')?.setAttribute('aria-label', title);
    const heading = group.querySelector('h3');
    if (heading !== null) setText(heading, title);
  }
}
