/**
 * Topics: one group per topic, its header the topic's actor (with a state summary of its
 * partitions), then its settings form and its table of partition workers. Topics with many
 * partitions start collapsed.
 */
import { TONE_ORDER, toneOf } from './catalog.js';
import { byId, h, setText } from './dom.js';
import { topicChart } from './charts.js';
import { filtering, matches } from './filter.js';
import { fmt } from './format.js';
import { markTopic } from './frame.js';
import type { ActorSnapshotOf } from './api.js';
import type { ActorView } from './model.js';
import { badge, insertSorted, nameButton, statList, statsOf } from './rows.js';
import { settingsForm, type SettingsForm } from './topic-settings.js';

/** Topics with more partitions than this start collapsed. */
const COLLAPSE_ABOVE = 24;

const TOPIC_STATS = statsOf('topic', [
  ['partitions', (d) => fmt(d.partitions)],
  ['waiting', (d) => fmt(d.waitingRecords)],
]);

/** The partition table's columns after name and state (all numbers, right-aligned). */
const PARTITION_COLUMNS = statsOf('partition', [
  ['Leader', (d) => (d.leaderId >= 0 ? String(d.leaderId) : '—')],
  ['Buffered', (d) => fmt(d.bufferedRecords)],
  ['In flight', (d) => `${fmt(d.inFlightBatches)} / ${fmt(d.maxInFlight)}`],
  ['Acked', (d) => fmt(d.recordsAcked)],
  ['Failed', (d) => fmt(d.recordsFailed)],
  ['Retries', (d) => fmt(d.batchesRetried)],
]);

export interface TopicView {
  name: string;
  section: HTMLElement;
  head: HTMLElement;
  body: HTMLElement;
  toggle: HTMLButtonElement;
  summary: HTMLElement;
  summaryKey: string;
  /** Acked, failed, buffered, in flight and retries over its partitions. */
  totals: HTMLElement;
  tbody: HTMLElement;
  /** "No partition of this topic matches the filter." */
  nothing: HTMLElement;
  form: SettingsForm;
  partitions: Map<string, ActorView>;
  expanded: boolean;
  /** Once the user opened or closed it, the partition count no longer decides. */
  userToggled: boolean;
  /** The topic's actor (its state is null until the actor is known). */
  actor: ActorView;
}

export const topics = new Map<string, TopicView>();
let topicIds = 0;

/** The group of topic `name`, created (empty) on first use. */
export function ensureTopic(name: string): TopicView {
  const existing = topics.get(name);
  if (existing !== undefined) return existing;
  const id = `topic-${++topicIds}`;
  const actorName = `topic:${name}`;
  const toggle = h(
    'button',
    { class: 'toggle', type: 'button', 'aria-expanded': 'true', 'aria-controls': `${id}-body` },
    h('span', { class: 'chevron', 'aria-hidden': 'true' }),
    h('span', { class: 'visually-hidden', text: `Partitions of ${name}` }),
  );
  const button = nameButton(actorName, actorName);
  const state = badge();
  const summary = h('span', { class: 'summary', 'aria-label': 'Partition states' });
  const stats = statList(TOPIC_STATS);
  const error = h('p', { class: 'error', hidden: true });
  // Totals over its partitions: shown collapsed too (a topic of 120 partitions starts so).
  const totals = h('p', { class: 'topic-totals' });
  const head = h(
    'div',
    { class: 'node topic-head', 'data-actor': actorName, 'data-kind': 'topic', 'data-state': 'unknown' },
    h('div', { class: 'node-head' }, toggle, button, state, summary),
    stats.list,
    totals,
    topicChart(name),
    error,
  );
  const tbody = h('tbody');
  const headers = h(
    'tr',
    {},
    h('th', { scope: 'col', text: 'Partition' }),
    h('th', { scope: 'col', text: 'State' }),
  );
  for (const [label] of PARTITION_COLUMNS)
    headers.append(h('th', { scope: 'col', class: 'num', text: label }));
  headers.append(h('th', { scope: 'col', text: 'Last error' }));
  const table = h(
    'table',
    { class: 'partitions' },
    h('caption', { class: 'visually-hidden', text: `Partition workers of topic ${name}` }),
    h('thead', {}, headers),
    tbody,
  );
  const form = settingsForm(name);
  const nothing = h('p', {
    class: 'empty',
    hidden: true,
    text: 'No partition of this topic matches the filter.',
  });
  const body = h(
    'div',
    { class: 'topic-body', id: `${id}-body` },
    h('div', { class: 'table-wrap' }, table),
    nothing,
  );
  // The settings form stays out of the collapsible part: tuning a large topic needs no scrolling
  // through its partitions.
  const section = h(
    'section',
    { class: 'topic', 'data-topic': name, 'aria-label': `Topic ${name}` },
    head,
    h('div', { class: 'topic-settings' }, form.node),
    body,
  );
  const topic: TopicView = {
    name,
    section,
    head,
    body,
    toggle,
    summary,
    summaryKey: '',
    totals,
    tbody,
    nothing,
    form,
    partitions: new Map(),
    expanded: true,
    userToggled: false,
    actor: {
      name: actorName,
      kind: 'topic',
      state: null,
      data: null,
      row: head,
      badge: state,
      button,
      cells: stats.cells,
      error,
      topic: name,
    },
  };
  toggle.addEventListener('click', () => {
    topic.userToggled = true;
    topic.expanded = !topic.expanded;
    flushTopic(name);
  });
  topics.set(name, topic);
  const list = byId('topics');
  const after = [...list.children].find(
    (child) => child instanceof HTMLElement && (child.dataset.topic ?? '') > name,
  );
  list.insertBefore(section, after ?? null);
  byId('topics-empty').hidden = true;
  markTopic(name);
  return topic;
}

/** A partition worker's row in its topic's table. */
export function createPartition(data: ActorSnapshotOf<'partition'>): ActorView {
  const { topic: topicName, partition } = data.details;
  const topic = ensureTopic(topicName);
  const button = nameButton(data.name, String(partition));
  const state = badge();
  const row = h(
    'tr',
    { 'data-actor': data.name, 'data-kind': 'partition', 'data-state': data.state },
    h('th', { scope: 'row' }, button),
    h('td', {}, state),
  );
  const actor: ActorView = {
    name: data.name,
    kind: 'partition',
    state: null,
    data: null,
    row,
    badge: state,
    button,
    cells: [],
    error: h('td', { class: 'error-cell' }),
    topic: topicName,
  };
  for (const [, value] of PARTITION_COLUMNS) {
    const td = h('td', { class: 'num' });
    row.append(td);
    actor.cells.push([td, value]);
  }
  row.append(actor.error);
  insertSorted(topic.tbody, row, partition);
  topic.partitions.set(data.name, actor);
  return actor;
}

/** The topic actor's details: its settings in the form, and collapsed if it has many partitions. */
export function showTopicDetails(name: string, details: ActorSnapshotOf<'topic'>['details']): void {
  const topic = topics.get(name);
  if (topic === undefined) return;
  topic.form.show(details.settings);
  if (!topic.userToggled && details.partitions > 0) {
    const expanded = details.partitions <= COLLAPSE_ABOVE;
    if (expanded !== topic.expanded) {
      topic.expanded = expanded;
      markTopic(name);
    }
  }
}

export function removePartition(actor: ActorView): void {
  if (actor.topic === null) return;
  topics.get(actor.topic)?.partitions.delete(actor.name);
  actor.row.remove();
  markTopic(actor.topic);
}

/**
 * Redraws topic `name`: its state summary, whether it shows (filter), whether its partitions
 * show; removes it once neither its actor nor any partition is left.
 */
export function flushTopic(name: string): void {
  const topic = topics.get(name);
  if (topic === undefined) return;
  if (topic.actor.state === null && topic.partitions.size === 0) {
    topic.section.remove();
    topics.delete(name);
    byId('topics-empty').hidden = topics.size > 0;
    return;
  }
  const counts = new Map<string, number>();
  let shown = 0;
  const sums = { acked: 0, failed: 0, buffered: 0, inFlight: 0, retries: 0 };
  for (const partition of topic.partitions.values()) {
    const state = partition.state ?? 'unknown';
    counts.set(state, (counts.get(state) ?? 0) + 1);
    if (!partition.row.hidden) shown += 1;
    const data = partition.data;
    if (data?.kind === 'partition') {
      sums.acked += data.details.recordsAcked;
      sums.failed += data.details.recordsFailed;
      sums.buffered += data.details.bufferedRecords;
      sums.inFlight += data.details.inFlightBatches;
      sums.retries += data.details.batchesRetried;
    }
  }
  setText(
    topic.totals,
    `acked ${fmt(sums.acked)} · failed ${fmt(sums.failed)} · buffered ${fmt(sums.buffered)} · ` +
      `in flight ${fmt(sums.inFlight)} batches · retries ${fmt(sums.retries)}`,
  );
  const tone = (state: string): number => TONE_ORDER[toneOf('partition', state)];
  const ordered = [...counts].sort(
    ([a, countA], [b, countB]) => tone(a) - tone(b) || countB - countA || a.localeCompare(b),
  );
  const key = ordered.map(([state, count]) => `${count} ${state}`).join(', ');
  if (key !== topic.summaryKey) {
    topic.summaryKey = key;
    topic.summary.replaceChildren(
      ...ordered.map(([state, count]) =>
        h('span', {
          class: 'chip',
          'data-tone': toneOf('partition', state),
          text: `${count.toLocaleString('en-US')} ${state}`,
        }),
      ),
    );
    topic.summary.title = key;
  }
  const filtered = filtering();
  const topicMatch = matches(topic.actor);
  topic.head.classList.toggle('unmatched', filtered && !topicMatch);
  const hidden = filtered && !topicMatch && shown === 0;
  if (topic.section.hidden !== hidden) topic.section.hidden = hidden;
  const expanded = filtered && shown > 0 ? true : topic.expanded;
  if (topic.body.hidden === expanded) topic.body.hidden = !expanded;
  topic.toggle.setAttribute('aria-expanded', String(expanded));
  topic.nothing.hidden = !(filtered && shown === 0 && topic.partitions.size > 0);
}

/** Repaints every topic's summary (the tones are known now). */
export function markAllTopics(): void {
  for (const topic of topics.values()) {
    topic.summaryKey = '';
    markTopic(topic.name);
  }
}
