/**
 * The visualizer's browser script (`GET /assets/app.js`), hand-written plain JavaScript kept
 * as a TypeScript string so that `tsc` carries it into dist/ (no bundler, no copy step).
 *
 * It is not type-checked or linted (it is a string): keep it simple. No template literals in
 * it (the string is one), no `${`.
 *
 * How it works:
 * - `GET /api/machines` once: every machine's states and transitions, for the diagrams.
 * - `GET /api/actors/stream` (Server-Sent Events): a `snapshot` to start with, then one `state`
 *   event per transition; each updates only the row of the actor that changed.
 * - `GET /api/actors` every second: counters and new or removed actors; only the cells whose
 *   text changed are written. A poll started before a `state` event does not undo it.
 * - Topic summaries, the filter's count and the totals are recomputed once per frame, for the
 *   topics that changed.
 */
export const APP_JS = String.raw`'use strict';

const POLL_MS = 1000;
/** Topics with more partitions than this start collapsed. */
const COLLAPSE_ABOVE = 24;
const SVG_NS = 'http://www.w3.org/2000/svg';
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

const actors = new Map(); // name -> actor view
const topics = new Map(); // topic name -> topic view
const machines = new Map(); // kind -> machine graph
let selected = null; // the selected actor's name
let seq = 0; // state events received
const stateStamp = new Map(); // actor name -> seq of its last state event
let filterTerms = [];
let flushQueued = false;
let totalsDirty = true;
const dirtyTopics = new Set();
let topicIds = 0;

// ---------------------------------------------------------------------------------------------
// Small helpers

function $(id) {
  return document.getElementById(id);
}

/** An element: attributes (null/false are skipped) and children (strings or nodes). */
function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function s(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  return node;
}

/** Writes text only when it changed (no layout work for unchanged cells). */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function fmt(value) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'number') return Number.isFinite(value) ? value.toLocaleString('en-US') : String(value);
  return String(value);
}

function ago(ms) {
  if (typeof ms !== 'number' || ms <= 0) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (seconds < 60) return seconds + ' s ago';
  if (seconds < 3600) return Math.round(seconds / 60) + ' min ago';
  return new Date(ms).toLocaleTimeString();
}

function errorText(lastError) {
  if (!lastError) return '';
  return (lastError.code ? lastError.code + ': ' : '') + (lastError.message || '');
}

const TONES = {
  ready: 'ok',
  active: 'ok',
  running: 'ok',
  idle: 'ok',
  connecting: 'busy',
  handshaking: 'busy',
  resolving: 'busy',
  cooldown: 'busy',
  fetching: 'busy',
  buffering: 'warn',
  retrying: 'warn',
  backoff: 'warn',
  failed: 'bad',
  unavailable: 'bad',
  closed: 'off',
  stopped: 'off',
  holding: 'ok',
  replaying: 'warn',
};
const TONE_ORDER = { bad: 0, warn: 1, busy: 2, ok: 3, off: 4 };

function tone(state) {
  return TONES[state] || 'busy';
}

const KIND_LABELS = {
  registry: 'Registry',
  metadata: 'Metadata',
  broker: 'Broker connection',
  topic: 'Topic',
  partition: 'Partition worker',
  spool: 'Durable spool (files, not an actor)',
};

function parseName(name) {
  if (name.startsWith('partition:')) {
    const rest = name.slice('partition:'.length);
    const colon = rest.lastIndexOf(':');
    return { topic: rest.slice(0, colon), partition: Number(rest.slice(colon + 1)) };
  }
  if (name.startsWith('topic:')) return { topic: name.slice('topic:'.length) };
  if (name.startsWith('broker:')) return { broker: Number(name.slice('broker:'.length)) };
  return {};
}

function kindOf(data) {
  if (data.kind) return data.kind;
  if (data.name === 'registry' || data.name === 'metadata' || data.name === 'spool') return data.name;
  return data.name.split(':')[0];
}

function sum(record) {
  let total = 0;
  for (const value of Object.values(record || {})) if (typeof value === 'number') total += value;
  return total;
}

// ---------------------------------------------------------------------------------------------
// Counters shown in the tree, per kind: [label, value]

const STATS = {
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
  topic: [
    ['partitions', (d) => fmt(d.partitions)],
    ['waiting', (d) => fmt(d.waitingRecords)],
  ],
  spool: [
    ['records', (d) => fmt(d.liveRecords)],
    ['on disk only', (d) => fmt(d.backlogRecords)],
    ['segments', (d) => fmt(d.segments)],
    ['used', (d) => mib(d.bytes) + ' / ' + mib(d.maxBytes)],
    ['oldest', (d) => (d.oldestEntryAgeMs > 0 ? fmt(Math.round(d.oldestEntryAgeMs / 1000)) + ' s' : '—')],
  ],
};

function mib(bytes) {
  return typeof bytes === 'number' ? (bytes / 1048576).toFixed(1) + ' MiB' : '—';
}

/** The partition table's columns after name and state: [header, value, numeric]. */
const PARTITION_COLUMNS = [
  ['Leader', (d) => (typeof d.leaderId === 'number' && d.leaderId >= 0 ? String(d.leaderId) : '—'), true],
  ['Buffered', (d) => fmt(d.bufferedRecords), true],
  ['In flight', (d) => fmt(d.inFlightBatches) + (d.maxInFlight ? ' / ' + d.maxInFlight : ''), true],
  ['Acked', (d) => fmt(d.recordsAcked), true],
  ['Failed', (d) => fmt(d.recordsFailed), true],
  ['Retries', (d) => fmt(d.batchesRetried), true],
];

function statList(kind) {
  const list = h('dl', { class: 'stats' });
  const cells = [];
  for (const [label, value] of STATS[kind] || []) {
    const dd = h('dd');
    list.append(h('div', {}, h('dt', { text: label }), dd));
    cells.push([dd, value]);
  }
  return { list, cells };
}

// ---------------------------------------------------------------------------------------------
// Actor views

function badge() {
  return h('span', { class: 'badge', 'data-tone': 'busy', text: '…' });
}

function nameButton(name, label) {
  return h('button', {
    class: 'name',
    type: 'button',
    'aria-pressed': 'false',
    'aria-label': label === name ? null : name,
    title: 'Show the machine of ' + name,
    text: label,
  });
}

/** A row for the registry, the metadata actor or a broker connection. */
function createNode(data, kind, tag, extraClass) {
  const stats = statList(kind);
  const button = nameButton(data.name, data.name);
  const state = badge();
  const error = h('p', { class: 'error', hidden: true });
  const row = h(
    tag,
    { class: 'node ' + extraClass, 'data-actor': data.name, 'data-kind': kind, 'data-state': data.state },
    h('div', { class: 'node-head' }, button, state),
    stats.list,
    error,
  );
  return { name: data.name, kind, state: null, data, row, badge: state, button, cells: stats.cells, error };
}

function createActor(data) {
  const kind = kindOf(data);
  let actor;
  if (kind === 'registry') {
    actor = createNode(data, kind, 'div', 'node-root');
    $('root-slot').replaceChildren(actor.row);
    $('tree-empty').hidden = true;
    $('children').hidden = false;
  } else if (kind === 'metadata') {
    actor = createNode(data, kind, 'div', 'card');
    $('metadata-slot').replaceChildren(h('h3', { class: 'group-title', text: 'Metadata' }), actor.row);
  } else if (kind === 'spool') {
    actor = createNode(data, kind, 'div', 'card');
    $('spool-slot').hidden = false;
    $('spool-slot').replaceChildren(h('h3', { class: 'group-title', text: 'Durable spool' }), actor.row);
  } else if (kind === 'broker') {
    actor = createNode(data, kind, 'li', 'card');
    actor.sortKey = parseName(data.name).broker;
    insertSorted($('brokers'), actor.row, actor.sortKey);
  } else if (kind === 'topic') {
    const topic = ensureTopic(parseName(data.name).topic);
    actor = topic.actor;
    actor.data = data;
  } else if (kind === 'partition') {
    actor = createPartition(data);
  } else {
    actor = createNode(data, kind, 'div', 'card');
    $('root-slot').append(actor.row);
  }
  actors.set(data.name, actor);
  totalsDirty = true;
  return actor;
}

/** Inserts row among rows ordered by data-sort (appends in the common, ordered case). */
function insertSorted(parent, row, key) {
  row.dataset.sort = String(key);
  const last = parent.lastElementChild;
  if (last === null || Number(last.dataset.sort) <= key) {
    parent.append(row);
    return;
  }
  for (const child of parent.children) {
    if (Number(child.dataset.sort) > key) {
      parent.insertBefore(row, child);
      return;
    }
  }
  parent.append(row);
}

function createPartition(data) {
  const { topic: topicName, partition } = parseName(data.name);
  const topic = ensureTopic(topicName);
  const button = nameButton(data.name, String(partition));
  const state = badge();
  const cells = [];
  const row = h(
    'tr',
    { 'data-actor': data.name, 'data-kind': 'partition', 'data-state': data.state },
    h('th', { scope: 'row' }, button),
    h('td', {}, state),
  );
  for (const [, value, numeric] of PARTITION_COLUMNS) {
    const td = h('td', { class: numeric ? 'num' : null });
    row.append(td);
    cells.push([td, value]);
  }
  const error = h('td', { class: 'error-cell' });
  row.append(error);
  insertSorted(topic.tbody, row, partition);
  const actor = { name: data.name, kind: 'partition', state: null, data, row, badge: state, button, cells, error };
  actor.topic = topicName;
  topic.partitions.set(data.name, actor);
  return actor;
}

/** The group of a topic: its header (the topic actor), settings form and partition table. */
function ensureTopic(name) {
  let topic = topics.get(name);
  if (topic) return topic;
  const id = 'topic-' + ++topicIds;
  const actorName = 'topic:' + name;
  const toggle = h(
    'button',
    { class: 'toggle', type: 'button', 'aria-expanded': 'true', 'aria-controls': id + '-body' },
    h('span', { class: 'chevron', 'aria-hidden': 'true' }),
    h('span', { class: 'visually-hidden', text: 'Partitions of ' + name }),
  );
  const button = nameButton(actorName, actorName);
  const state = badge();
  const summary = h('span', { class: 'summary', 'aria-label': 'Partition states' });
  const stats = statList('topic');
  const error = h('p', { class: 'error', hidden: true });
  const head = h(
    'div',
    { class: 'node topic-head', 'data-actor': actorName, 'data-kind': 'topic', 'data-state': 'unknown' },
    h('div', { class: 'node-head' }, toggle, button, state, summary),
    stats.list,
    error,
  );
  const tbody = h('tbody');
  const headers = h('tr', {}, h('th', { scope: 'col', text: 'Partition' }), h('th', { scope: 'col', text: 'State' }));
  for (const [label, , numeric] of PARTITION_COLUMNS) {
    headers.append(h('th', { scope: 'col', class: numeric ? 'num' : null, text: label }));
  }
  headers.append(h('th', { scope: 'col', text: 'Last error' }));
  const table = h(
    'table',
    { class: 'partitions' },
    h('caption', { class: 'visually-hidden', text: 'Partition workers of topic ' + name }),
    h('thead', {}, headers),
    tbody,
  );
  const form = settingsForm(name);
  const nothing = h('p', { class: 'empty', hidden: true, text: 'No partition of this topic matches the filter.' });
  const body = h('div', { class: 'topic-body', id: id + '-body' }, form.node, h('div', { class: 'table-wrap' }, table), nothing);
  const section = h('section', { class: 'topic', 'data-topic': name, 'aria-label': 'Topic ' + name }, head, body);
  topic = {
    name,
    section,
    head,
    body,
    toggle,
    summary,
    summaryKey: '',
    tbody,
    nothing,
    form,
    partitions: new Map(),
    expanded: true,
    userToggled: false,
    settings: null,
    actor: { name: actorName, kind: 'topic', state: null, data: null, row: head, badge: state, button, cells: stats.cells, error },
  };
  toggle.addEventListener('click', () => {
    topic.userToggled = true;
    topic.expanded = !topic.expanded;
    flushTopic(name);
  });
  topics.set(name, topic);
  const list = $('topics');
  const after = [...list.children].find((child) => child.dataset.topic > name);
  list.insertBefore(section, after || null);
  $('topics-empty').hidden = true;
  markTopic(name);
  return topic;
}

function setState(actor, state, live) {
  if (actor.state === state) return;
  actor.state = state;
  actor.row.dataset.state = state;
  actor.badge.dataset.tone = tone(state);
  setText(actor.badge, state);
  if (live && !reducedMotion && actor.row.isConnected) {
    actor.row.animate(
      [{ backgroundColor: 'rgba(250, 204, 21, 0.45)' }, { backgroundColor: 'rgba(250, 204, 21, 0)' }],
      { duration: 1400, easing: 'ease-out' },
    );
  }
  applyFilter(actor);
  if (actor.kind === 'partition') markTopic(actor.topic);
  if (actor.kind === 'topic') markTopic(parseName(actor.name).topic);
  totalsDirty = true;
  if (selected === actor.name) detail.state(actor);
  queueFlush();
}

function updateCounters(actor) {
  const details = (actor.data && actor.data.details) || {};
  for (const [node, value] of actor.cells) setText(node, value(details));
  const text = errorText(actor.data && actor.data.lastError);
  setText(actor.error, text);
  if (actor.error.title !== text) actor.error.title = text;
  if (actor.error.tagName === 'P') actor.error.hidden = text === '';
  if (actor.kind === 'topic') {
    const topic = topics.get(parseName(actor.name).topic);
    if (!topic) return;
    topic.settings = details.settings || null;
    topic.form.show(topic.settings);
    if (!topic.userToggled && typeof details.partitions === 'number' && details.partitions > 0) {
      const expanded = details.partitions <= COLLAPSE_ABOVE;
      if (expanded !== topic.expanded) {
        topic.expanded = expanded;
        markTopic(topic.name);
      }
    }
  }
}

function removeActor(actor) {
  actors.delete(actor.name);
  stateStamp.delete(actor.name);
  totalsDirty = true;
  if (actor.kind === 'partition') {
    const topic = topics.get(actor.topic);
    if (topic) topic.partitions.delete(actor.name);
    actor.row.remove();
    markTopic(actor.topic);
  } else if (actor.kind === 'topic') {
    actor.state = null;
    markTopic(parseName(actor.name).topic);
  } else {
    actor.row.remove();
  }
  queueFlush();
}

// ---------------------------------------------------------------------------------------------
// Per-topic settings (PUT /api/topics/:topic/config)

const SETTINGS = [
  ['batchBytes', 'Batch bytes'],
  ['lingerMs', 'Linger (ms)'],
  ['maxInFlight', 'Max in flight'],
];

function settingsForm(topicName) {
  const inputs = [];
  const button = h('button', { type: 'submit', class: 'apply', text: 'Apply' });
  const status = h('output', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const others = h('p', { class: 'other-settings' });
  const node = h(
    'form',
    { class: 'settings', 'data-topic-config': topicName, novalidate: true, 'aria-label': 'Settings of topic ' + topicName },
  );
  const fields = h('div', { class: 'fields' });
  for (const [key, label] of SETTINGS) {
    const input = h('input', { name: key, type: 'number', inputmode: 'numeric', step: '1', min: '0', required: true });
    input.addEventListener('input', () => {
      input.dataset.dirty = 'true';
    });
    inputs.push(input);
    fields.append(h('label', { class: 'field' }, h('span', { text: label }), input));
  }
  fields.append(button);
  node.append(fields, others, status);
  let current = null;

  function say(text, kind) {
    status.dataset.kind = kind;
    setText(status, text);
  }

  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    const change = {};
    for (const input of inputs) {
      const label = SETTINGS.find(([key]) => key === input.name)[1];
      if (input.value.trim() === '' || !Number.isFinite(Number(input.value))) {
        say(label + ': enter a number.', 'error');
        input.focus();
        return;
      }
      const value = Number(input.value);
      if (!current || current[input.name] !== value) change[input.name] = value;
    }
    if (Object.keys(change).length === 0) {
      say('Nothing to change.', 'info');
      return;
    }
    button.disabled = true;
    say('Applying…', 'info');
    try {
      const response = await fetch('/api/topics/' + encodeURIComponent(topicName) + '/config', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(change),
      });
      let payload = null;
      try {
        payload = await response.json();
      } catch {
        payload = null;
      }
      if (!response.ok || (payload && payload.error)) {
        const error = payload && payload.error;
        const message = (error && error.message) || 'HTTP ' + response.status + ' ' + response.statusText;
        say('Refused: ' + message + (error && error.code ? ' (' + error.code + ')' : ''), 'error');
        return;
      }
      const settings = payload && typeof payload.settings === 'object' ? payload.settings : payload;
      const before = current;
      for (const input of inputs) delete input.dataset.dirty;
      if (settings && typeof settings === 'object') show(settings);
      say(
        'Applied: ' +
          Object.keys(change)
            .map((key) => key + ' ' + (before ? fmt(before[key]) + ' → ' : '') + fmt(change[key]))
            .join(', '),
        'ok',
      );
      poll();
    } catch (error) {
      say('Could not reach the gateway: ' + (error && error.message ? error.message : String(error)), 'error');
    } finally {
      button.disabled = false;
    }
  });

  /** Shows the topic's current settings (inputs being edited are left alone). */
  function show(settings) {
    if (!settings) return;
    current = settings;
    for (const input of inputs) {
      const value = settings[input.name];
      if (value === undefined || input.dataset.dirty || document.activeElement === input) continue;
      if (input.value !== String(value)) input.value = String(value);
    }
    const rest = ['acks', 'batchRecords', 'compression', 'partitioner']
      .filter((key) => settings[key] !== undefined)
      .map((key) => key + ' ' + fmt(settings[key]));
    setText(others, rest.join(' · '));
  }

  return { node, show };
}

// ---------------------------------------------------------------------------------------------
// Filter

function matches(actor) {
  if (filterTerms.length === 0) return true;
  const text = (actor.name + ' ' + (actor.state || '')).toLowerCase();
  return filterTerms.every((term) => text.includes(term));
}

function applyFilter(actor) {
  const match = matches(actor);
  if (actor.kind === 'registry') actor.row.classList.toggle('unmatched', !match);
  else if (actor.kind === 'topic') markTopic(parseName(actor.name).topic);
  else if (actor.row.hidden === match) actor.row.hidden = !match;
  if (actor.kind === 'partition') markTopic(actor.topic);
  totalsDirty = true;
}

function onFilter() {
  filterTerms = $('filter').value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const actor of actors.values()) applyFilter(actor);
  for (const name of topics.keys()) markTopic(name);
  queueFlush();
}

// ---------------------------------------------------------------------------------------------
// Batched work: topic summaries, topic visibility, totals

function markTopic(name) {
  if (name === undefined) return;
  dirtyTopics.add(name);
  queueFlush();
}

function queueFlush() {
  if (flushQueued) return;
  flushQueued = true;
  requestAnimationFrame(flush);
}

function flush() {
  flushQueued = false;
  for (const name of dirtyTopics) flushTopic(name);
  dirtyTopics.clear();
  if (totalsDirty) flushTotals();
  totalsDirty = false;
}

function flushTopic(name) {
  const topic = topics.get(name);
  if (!topic) return;
  if (topic.actor.state === null && topic.partitions.size === 0) {
    topic.section.remove();
    topics.delete(name);
    $('topics-empty').hidden = topics.size > 0;
    return;
  }
  const counts = new Map();
  let shown = 0;
  for (const partition of topic.partitions.values()) {
    const state = partition.state || 'unknown';
    counts.set(state, (counts.get(state) || 0) + 1);
    if (!partition.row.hidden) shown += 1;
  }
  const ordered = [...counts].sort(
    (a, b) => TONE_ORDER[tone(a[0])] - TONE_ORDER[tone(b[0])] || b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  const key = ordered.map(([state, count]) => count + ' ' + state).join(', ');
  if (key !== topic.summaryKey) {
    topic.summaryKey = key;
    topic.summary.replaceChildren(
      ...ordered.map(([state, count]) =>
        h('span', { class: 'chip', 'data-tone': tone(state), text: count.toLocaleString('en-US') + ' ' + state }),
      ),
    );
    topic.summary.title = key;
  }
  const filtering = filterTerms.length > 0;
  const topicMatch = matches(topic.actor);
  topic.head.classList.toggle('unmatched', filtering && !topicMatch);
  const hidden = filtering && !topicMatch && shown === 0;
  if (topic.section.hidden !== hidden) topic.section.hidden = hidden;
  const expanded = filtering && shown > 0 ? true : topic.expanded;
  if (topic.body.hidden === expanded) topic.body.hidden = !expanded;
  topic.toggle.setAttribute('aria-expanded', String(expanded));
  topic.nothing.hidden = !(filtering && shown === 0 && topic.partitions.size > 0);
}

function flushTotals() {
  let brokers = 0;
  let brokersReady = 0;
  let partitions = 0;
  let shown = 0;
  const partitionStates = new Map();
  for (const actor of actors.values()) {
    if (matches(actor)) shown += 1;
    if (actor.kind === 'broker') {
      brokers += 1;
      if (actor.state === 'ready') brokersReady += 1;
    } else if (actor.kind === 'partition') {
      partitions += 1;
      partitionStates.set(actor.state, (partitionStates.get(actor.state) || 0) + 1);
    }
  }
  const states = [...partitionStates]
    .sort((a, b) => b[1] - a[1])
    .map(([state, count]) => count + ' ' + state)
    .join(', ');
  // The spool is shown among the actors but is files, not an actor.
  const actorCount = actors.size - (actors.has('spool') ? 1 : 0);
  const parts = [
    actorCount + ' actors',
    brokersReady + ' of ' + brokers + ' brokers ready',
    topics.size + (topics.size === 1 ? ' topic' : ' topics'),
    partitions + ' partitions' + (states ? ' (' + states + ')' : ''),
  ];
  setText($('totals'), parts.join(' · '));
  setText($('brokers-count'), String(brokers));
  setText($('topics-count'), String(topics.size));
  setText($('filter-count'), filterTerms.length > 0 ? shown + ' of ' + actors.size + ' match' : '');
}

// ---------------------------------------------------------------------------------------------
// Data: snapshot, state events, polling

function actorList(body) {
  if (Array.isArray(body)) return body;
  if (body && Array.isArray(body.actors)) return body.actors;
  return [];
}

/** Applies a full list of actors; "started" is the state-event count when it was taken. */
function reconcile(list, started) {
  const seen = new Set();
  for (const data of list) {
    if (!data || typeof data.name !== 'string') continue;
    seen.add(data.name);
    let actor = actors.get(data.name);
    if (!actor) actor = createActor(data);
    actor.data = data;
    // A state event newer than this list wins over the list's state.
    if (actor.state === null || (stateStamp.get(data.name) || 0) <= started) setState(actor, data.state, false);
    updateCounters(actor);
  }
  for (const actor of [...actors.values()]) if (!seen.has(actor.name)) removeActor(actor);
  if (selected !== null) detail.update(actors.get(selected) || null);
  totalsDirty = true;
  queueFlush();
}

function onStateEvent(event) {
  if (!event || typeof event.actor !== 'string') return;
  seq += 1;
  stateStamp.set(event.actor, seq);
  const actor = actors.get(event.actor);
  if (actor) setState(actor, event.to, true);
  else poll(); // a new actor: fetch its details
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
  return response.json();
}

let polling = false;
let pollAgain = false;

async function poll() {
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  const started = seq;
  try {
    reconcile(actorList(await getJSON('/api/actors')), started);
    connection.api(true);
  } catch (error) {
    connection.api(false, error);
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
    }
  }
}

const connection = (() => {
  let streamUp = false;
  let apiUp = true;
  function render() {
    const status = !apiUp ? 'down' : streamUp ? 'live' : 'polling';
    const text = {
      down: 'gateway unreachable',
      live: 'live',
      polling: 'reconnecting… (polling)',
    }[status];
    $('conn').dataset.status = status;
    setText($('conn-text'), text);
  }
  return {
    stream(up) {
      streamUp = up;
      render();
    },
    api(up) {
      apiUp = up;
      render();
    },
  };
})();

function openStream() {
  const source = new EventSource('/api/actors/stream');
  source.addEventListener('open', () => connection.stream(true));
  source.addEventListener('snapshot', (event) => {
    connection.stream(true);
    reconcile(actorList(JSON.parse(event.data)), seq);
  });
  source.addEventListener('state', (event) => onStateEvent(JSON.parse(event.data)));
  source.addEventListener('error', () => {
    connection.stream(false);
    // EventSource retries by itself unless the server refused the stream for good.
    if (source.readyState === EventSource.CLOSED) setTimeout(openStream, 3000);
  });
}

// ---------------------------------------------------------------------------------------------
// State diagrams

let measureContext = null;

function textWidth(text, font) {
  measureContext = measureContext || document.createElement('canvas').getContext('2d');
  measureContext.font = font;
  return measureContext.measureText(text).width;
}

const NODE_FONT = '600 13px system-ui, -apple-system, "Segoe UI", sans-serif';
const LABEL_FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

function shortLabel(triggers) {
  return triggers.length <= 2 ? triggers.join(', ') : triggers.slice(0, 2).join(', ') + ' +' + (triggers.length - 2);
}

/** Lays out a machine's top-level states in layers (breadth-first from the initial state). */
function layout(graph) {
  const top = (id) => id.split('.')[0];
  const states = graph.states.filter((state) => state.parent === null);
  const children = new Map();
  for (const state of graph.states) {
    if (state.parent === null) continue;
    const key = top(state.id);
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(state.key);
  }
  const pairs = new Map();
  for (const transition of graph.transitions) {
    const from = top(transition.from);
    const to = top(transition.to);
    const key = from + ' > ' + to;
    let pair = pairs.get(key);
    if (!pair) {
      pair = { from, to, triggers: [], labels: [], global: true };
      pairs.set(key, pair);
    }
    if (!pair.triggers.includes(transition.trigger)) pair.triggers.push(transition.trigger);
    pair.labels.push(transition.label);
    if (!transition.global) pair.global = false;
  }
  const edges = [...pairs.values()];

  // Layers: breadth-first over the states' own transitions; what only "any state" transitions
  // reach (or nothing) goes last.
  const initial = states.find((state) => state.initial) || states[0];
  const layerOf = new Map([[initial.id, 0]]);
  const queue = [initial.id];
  while (queue.length > 0) {
    const from = queue.shift();
    for (const edge of edges) {
      if (edge.from === from && !edge.global && !layerOf.has(edge.to)) {
        layerOf.set(edge.to, layerOf.get(from) + 1);
        queue.push(edge.to);
      }
    }
  }
  const deepest = Math.max(...layerOf.values());
  for (const state of states) if (!layerOf.has(state.id)) layerOf.set(state.id, deepest + 1);

  const nodes = new Map();
  for (const state of states) {
    const sub = children.get(state.id) || [];
    const width = Math.max(96, textWidth(state.key, NODE_FONT) + 32);
    const loop = edges.some((edge) => edge.from === state.id && edge.to === state.id);
    const loopWidth = loop ? 34 : 0;
    nodes.set(state.id, {
      id: state.id,
      state,
      sub,
      layer: layerOf.get(state.id),
      w: width,
      h: sub.length > 0 ? 48 : 36,
      loopWidth,
      x: 0,
      y: 0,
    });
  }
  const layers = [];
  for (const node of nodes.values()) (layers[node.layer] = layers[node.layer] || []).push(node);

  const GAP_X = 110;
  const GAP_Y = 118;
  layers.forEach((layer, index) => {
    if (!layer) return;
    // Each state under the states it comes from (their barycentre), in definition order
    // otherwise; then pushed apart where they would overlap, keeping the layer's centre.
    const desired = new Map();
    for (const node of layer) {
      const from = edges
        .filter((edge) => edge.to === node.id && edge.from !== node.id && nodes.get(edge.from).layer < index)
        .map((edge) => nodes.get(edge.from).x);
      desired.set(node, from.length > 0 ? from.reduce((a, b) => a + b, 0) / from.length : 0);
    }
    const order = new Map(layer.map((node, i) => [node, i]));
    layer.sort((a, b) => desired.get(a) - desired.get(b) || order.get(a) - order.get(b));
    let previous = null;
    for (const node of layer) {
      node.x = desired.get(node);
      if (previous !== null) {
        const least = previous.x + previous.w / 2 + previous.loopWidth + GAP_X + node.w / 2;
        if (node.x < least) node.x = least;
      }
      node.y = index * GAP_Y;
      previous = node;
    }
    const shift =
      layer.reduce((total, node) => total + desired.get(node) - node.x, 0) / layer.length;
    for (const node of layer) node.x += shift;
  });
  return { nodes, edges, initial: nodes.get(initial.id) };
}

function inside(point, node, margin) {
  return Math.abs(point.x - node.x) <= node.w / 2 + margin && Math.abs(point.y - node.y) <= node.h / 2 + margin;
}

function quad(a, c, b, t) {
  const u = 1 - t;
  return { x: u * u * a.x + 2 * u * t * c.x + t * t * b.x, y: u * u * a.y + 2 * u * t * c.y + t * t * b.y };
}

/** Where the line from a node's centre towards "toward" leaves its box. */
function clip(node, toward) {
  const dx = toward.x - node.x;
  const dy = toward.y - node.y;
  if (dx === 0 && dy === 0) return { x: node.x, y: node.y };
  const scale = Math.min(
    dx === 0 ? Infinity : (node.w / 2 + 2) / Math.abs(dx),
    dy === 0 ? Infinity : (node.h / 2 + 2) / Math.abs(dy),
  );
  return { x: node.x + dx * scale, y: node.y + dy * scale };
}

/** A curve from a to b that avoids the other states' boxes when it can. */
function route(a, b, nodes, reverseExists) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const length = Math.hypot(dx, dy) || 1;
  const normal = { x: -dy / length, y: dx / length };
  const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  const offsets = reverseExists ? [30, 64, 100, 140] : [0, 44, -44, 88, -88, 132, -132];
  let best = null;
  for (const offset of offsets) {
    const control = { x: mid.x + normal.x * offset * 2, y: mid.y + normal.y * offset * 2 };
    let hits = 0;
    for (let t = 0.08; t <= 0.92; t += 0.04) {
      const point = quad(a, control, b, t);
      for (const node of nodes.values()) if (node !== a && node !== b && inside(point, node, 6)) hits += 1;
    }
    if (best === null || hits < best.hits) best = { control, hits };
    if (hits === 0) break;
  }
  return best.control;
}

/** Draws a machine; returns the SVG and a function that highlights the active state. */
function drawMachine(graph, title) {
  const { nodes, edges, initial } = layout(graph);
  const bounds = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  const grow = (x, y) => {
    bounds.minX = Math.min(bounds.minX, x);
    bounds.maxX = Math.max(bounds.maxX, x);
    bounds.minY = Math.min(bounds.minY, y);
    bounds.maxY = Math.max(bounds.maxY, y);
  };
  const titleId = 'diagram-title-' + Math.random().toString(36).slice(2);
  const svg = s('svg', { class: 'machine', role: 'img', 'aria-labelledby': titleId });
  svg.append(s('title', { id: titleId, text: title }));
  const defs = s('defs');
  for (const kind of ['plain', 'out']) {
    const marker = s('marker', {
      id: 'arrow-' + kind + '-' + titleId,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow arrow-' + kind }));
    defs.append(marker);
  }
  svg.append(defs);
  const edgeLayer = s('g', { class: 'edges' });
  const labelLayer = s('g', { class: 'labels' });
  const nodeLayer = s('g', { class: 'nodes' });
  svg.append(edgeLayer, nodeLayer, labelLayer);
  const drawnEdges = [];

  const label = (text, x, y, anchor) => {
    const width = textWidth(text, LABEL_FONT) + 8;
    const left = anchor === 'start' ? x : x - width / 2;
    const group = s('g', { class: 'edge-label' });
    group.append(s('rect', { x: left, y: y - 8, width, height: 16, rx: 4 }));
    group.append(s('text', { x: left + width / 2, y: y + 4, 'text-anchor': 'middle', text }));
    grow(left, y - 8);
    grow(left + width, y + 8);
    return group;
  };

  // Boxes taken so far (states, then labels), so that labels do not cover each other.
  const taken = [...nodes.values()].map((node) => ({ x: node.x - node.w / 2, y: node.y - node.h / 2, w: node.w, h: node.h }));
  const overlap = (box) => {
    let total = 0;
    for (const other of taken) {
      const dx = Math.min(box.x + box.w, other.x + other.w) - Math.max(box.x, other.x);
      const dy = Math.min(box.y + box.h, other.y + other.h) - Math.max(box.y, other.y);
      if (dx > 0 && dy > 0) total += dx * dy;
    }
    return total;
  };
  // An "any state" transition is labelled once per target, not on each of its arrows.
  const labelledGlobal = new Set();

  for (const edge of edges) {
    const a = nodes.get(edge.from);
    const b = nodes.get(edge.to);
    const group = s('g', { class: 'edge' + (edge.global ? ' global' : '') });
    group.append(s('title', { text: edge.labels.join('\n') + (edge.global ? '\n(handled in any state)' : '') }));
    let path;
    let labelNode;
    if (a === b) {
      const right = a.x + a.w / 2;
      path = 'M' + right + ',' + (a.y - 7) + ' C' + (right + 30) + ',' + (a.y - 30) + ' ' + (right + 30) + ',' + (a.y + 30) + ' ' + right + ',' + (a.y + 7);
      grow(right + 30, a.y - 24);
      grow(right + 30, a.y + 24);
      // Loops are not labelled (they would crowd the picture): their <title> and the list of
      // transitions under the diagram name them.
      labelNode = null;
    } else {
      const reverse = edges.some((other) => other.from === edge.to && other.to === edge.from);
      const control = route(a, b, nodes, reverse);
      const start = clip(a, control);
      const end = clip(b, control);
      path = 'M' + start.x + ',' + start.y + ' Q' + control.x + ',' + control.y + ' ' + end.x + ',' + end.y;
      grow(quad(start, control, end, 0.5).x, quad(start, control, end, 0.5).y);
      const text = shortLabel(edge.triggers);
      const globalKey = text + ' > ' + edge.to;
      if (edge.global && labelledGlobal.has(globalKey)) {
        labelNode = null;
      } else {
        if (edge.global) labelledGlobal.add(globalKey);
        // Along the arrow where it covers least; opposite arrows nearer their sources first.
        const width = textWidth(text, LABEL_FONT) + 8;
        let best = null;
        for (const t of reverse ? [0.3, 0.22, 0.4, 0.5] : [0.5, 0.38, 0.62, 0.28, 0.72]) {
          const point = quad(start, control, end, t);
          const box = { x: point.x - width / 2, y: point.y - 8, w: width, h: 16 };
          const score = overlap(box);
          if (best === null || score < best.score) best = { point, box, score };
          if (score === 0) break;
        }
        taken.push(best.box);
        labelNode = label(text, best.point.x, best.point.y, 'middle');
      }
    }
    const line = s('path', { d: path, class: 'edge-line', 'marker-end': 'url(#arrow-plain-' + titleId + ')' });
    group.append(line);
    edgeLayer.append(group);
    if (labelNode) labelLayer.append(labelNode);
    drawnEdges.push({ edge, group, line, labelNode });
  }

  const drawnNodes = new Map();
  for (const node of nodes.values()) {
    const group = s('g', { class: 'state' + (node.state.type === 'final' ? ' final' : ''), 'data-state-node': node.id });
    const left = node.x - node.w / 2;
    const topY = node.y - node.h / 2;
    group.append(s('title', { text: node.id + (node.sub.length > 0 ? ' (' + node.sub.join(', ') + ')' : '') }));
    group.append(s('rect', { x: left, y: topY, width: node.w, height: node.h, rx: 10, class: 'box' }));
    if (node.state.type === 'final') {
      group.append(s('rect', { x: left + 3, y: topY + 3, width: node.w - 6, height: node.h - 6, rx: 7, class: 'inner' }));
    }
    const nameY = node.sub.length > 0 ? node.y - 3 : node.y + 4.5;
    group.append(s('text', { x: node.x, y: nameY, 'text-anchor': 'middle', class: 'state-name', text: node.state.key }));
    if (node.sub.length > 0) {
      group.append(s('text', { x: node.x, y: node.y + 13, 'text-anchor': 'middle', class: 'state-sub', text: node.sub.join(' · ') }));
    }
    nodeLayer.append(group);
    drawnNodes.set(node.id, group);
    grow(left, topY);
    grow(left + node.w, topY + node.h);
  }

  // The initial state's marker.
  const dotY = initial.y - initial.h / 2 - 26;
  nodeLayer.append(s('circle', { cx: initial.x, cy: dotY, r: 5, class: 'initial' }));
  edgeLayer.append(
    s('path', {
      d: 'M' + initial.x + ',' + (dotY + 5) + ' L' + initial.x + ',' + (initial.y - initial.h / 2 - 2),
      class: 'edge-line',
      'marker-end': 'url(#arrow-plain-' + titleId + ')',
    }),
  );
  grow(initial.x, dotY - 6);

  const pad = 14;
  const width = bounds.maxX - bounds.minX + pad * 2;
  const height = bounds.maxY - bounds.minY + pad * 2;
  svg.setAttribute('viewBox', [bounds.minX - pad, bounds.minY - pad, width, height].map((n) => n.toFixed(1)).join(' '));
  svg.setAttribute('width', width.toFixed(0));
  svg.setAttribute('height', height.toFixed(0));

  function setActive(state) {
    for (const [id, group] of drawnNodes) group.classList.toggle('active', id === state);
    for (const drawn of drawnEdges) {
      const out = drawn.edge.from === state;
      drawn.group.classList.toggle('out', out);
      if (drawn.labelNode) drawn.labelNode.classList.toggle('out', out);
      drawn.line.setAttribute('marker-end', 'url(#arrow-' + (out ? 'out' : 'plain') + '-' + titleId + ')');
    }
  }
  return { svg, setActive };
}

// ---------------------------------------------------------------------------------------------
// The detail panel

const detail = (() => {
  const root = $('detail');
  let view = null; // what is drawn: { name, kind, ... }

  function describe(value) {
    if (value === null || value === undefined) return '—';
    if (typeof value === 'object') {
      const entries = Object.entries(value);
      if (entries.length === 0) return '—';
      return entries.map(([key, inner]) => key + ' ' + (typeof inner === 'object' && inner !== null ? JSON.stringify(inner) : fmt(inner))).join(' · ');
    }
    return fmt(value);
  }

  function render(actor) {
    const machine = machines.get(actor.kind);
    const name = h('h3', { class: 'detail-name', text: actor.name });
    const state = badge();
    const head = h('div', { class: 'detail-head' }, name, h('span', { class: 'kind', text: KIND_LABELS[actor.kind] || actor.kind }), state);
    const error = h('p', { class: 'detail-error', hidden: true });
    const figure = h('figure', { class: 'diagram' });
    const transitions = h('ul', { class: 'transitions' });
    const leaving = h('h4', {});
    const kv = h('dl', { class: 'kv' });
    let diagram = null;
    if (machine) {
      diagram = drawMachine(machine, 'State diagram of the ' + machine.id + ' machine');
      figure.append(
        h('div', { class: 'diagram-scroll' }, diagram.svg),
        h('figcaption', {
          text: 'machines/' + machine.file + '.machine.ts · current state highlighted · dashed: handled in any state · hover an arrow for guards',
        }),
      );
    } else {
      figure.append(h('p', { class: 'empty', text: 'No machine definition for this actor.' }));
    }
    root.replaceChildren(
      head,
      error,
      figure,
      h('section', { class: 'leaving' }, leaving, transitions),
      h('section', {}, h('h4', { text: 'Details' }), kv),
    );
    view = { name: actor.name, kind: actor.kind, machine, state, error, transitions, leaving, kv, diagram, kvKey: '', current: null };
    showState(actor);
    showData(actor);
  }

  function showState(actor) {
    if (!view || view.current === actor.state) return;
    view.current = actor.state;
    view.state.dataset.tone = tone(actor.state);
    view.error.classList.toggle('past', tone(actor.state) === 'ok');
    setText(view.state, actor.state || '…');
    if (view.diagram) view.diagram.setActive(actor.state);
    view.leaving.replaceChildren('Transitions out of ', h('em', { text: actor.state || '…' }));
    const items = [];
    if (view.machine) {
      for (const transition of view.machine.transitions) {
        const from = transition.from.split('.')[0];
        if (from !== actor.state) continue;
        const to = transition.to === transition.from && !transition.reenter ? 'stays' : '→ ' + transition.to;
        items.push(
          h('li', {}, h('code', { text: transition.label }), ' ', h('span', { class: 'target', text: to }), transition.global ? h('span', { class: 'any', text: ' (any state)' }) : null),
        );
      }
    }
    if (items.length === 0) items.push(h('li', { class: 'none', text: 'none: a final state' }));
    view.transitions.replaceChildren(...items);
  }

  function showData(actor) {
    const data = actor.data || {};
    const text = errorText(data.lastError);
    view.error.hidden = text === '';
    setText(view.error, text === '' ? '' : 'Last error: ' + text);
    const key = JSON.stringify(data.details || {});
    if (key === view.kvKey) return;
    view.kvKey = key;
    const rows = Object.entries(data.details || {}).map(([name, value]) =>
      h('div', {}, h('dt', { text: name }), h('dd', { text: name.endsWith('At') && typeof value === 'number' ? ago(value) : describe(value) })),
    );
    view.kv.replaceChildren(...rows);
  }

  return {
    select(actor) {
      render(actor);
    },
    state(actor) {
      showState(actor);
    },
    update(actor) {
      if (!view) return;
      if (actor === null) {
        view.state.dataset.tone = 'off';
        setText(view.state, 'gone');
        return;
      }
      if (!view.machine && machines.has(actor.kind)) {
        render(actor);
        return;
      }
      showState(actor);
      showData(actor);
    },
    redraw() {
      if (selected !== null && actors.has(selected)) render(actors.get(selected));
    },
  };
})();

function select(name) {
  const actor = actors.get(name);
  if (!actor) return;
  const previous = selected === null ? null : actors.get(selected);
  if (previous) {
    previous.row.classList.remove('selected');
    previous.button.setAttribute('aria-pressed', 'false');
  }
  selected = name;
  actor.row.classList.add('selected');
  actor.button.setAttribute('aria-pressed', 'true');
  detail.select(actor);
}

// ---------------------------------------------------------------------------------------------
// Start

$('tree').addEventListener('click', (event) => {
  const button = event.target.closest('button.name');
  if (!button) return;
  const row = button.closest('[data-actor]');
  if (row) select(row.dataset.actor);
});

let filterTimer = null;
$('filter').addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(onFilter, 80);
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) poll();
});

async function loadMachines() {
  try {
    const list = await getJSON('/api/machines');
    for (const machine of Array.isArray(list) ? list : []) machines.set(machine.kind, machine);
    detail.redraw();
  } catch {
    setTimeout(loadMachines, 3000);
  }
}

loadMachines();
poll();
openStream();
setInterval(() => {
  if (!document.hidden) poll();
}, POLL_MS);
`;
