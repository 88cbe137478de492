/**
 * The detail panel: the selected actor's name, kind and state, its machine's state chart with
 * the current state highlighted, the transitions out of that state, and all its details.
 */
import type { VisualizedMachine } from './api.js';
import { machineOf, titleOf, toneOf } from './catalog.js';
import { byId, h, setData, setText } from './dom.js';
import { ago, describe, errorText } from './format.js';
import { actors, detailsOf, type ActorView } from './model.js';
import { badge, shownState } from './rows.js';
import { drawChart, type DrawnChart } from './state-chart.js';

interface Shown {
  name: string;
  kind: string;
  machine: VisualizedMachine | undefined;
  state: HTMLElement;
  error: HTMLElement;
  transitions: HTMLElement;
  leaving: HTMLElement;
  kv: HTMLElement;
  /** The last events the actor received, and their section (hidden while there are none). */
  events: HTMLElement;
  recent: HTMLElement;
  eventsKey: string;
  chart: DrawnChart | null;
  /** The details last written, as JSON (unchanged: nothing to redo). */
  kvKey: string;
  current: string | null | undefined;
}

let shown: Shown | null = null;

/** The name of the selected actor, if any. */
export function selectedName(): string | null {
  return shown?.name ?? null;
}

/** Selects `name`: outlines its row and shows it in the panel. */
export function select(name: string): void {
  const actor = actors.get(name);
  if (actor === undefined) return;
  const previous = shown === null ? undefined : actors.get(shown.name);
  if (previous !== undefined) {
    previous.row.classList.remove('selected');
    previous.button.setAttribute('aria-pressed', 'false');
  }
  actor.row.classList.add('selected');
  actor.button.setAttribute('aria-pressed', 'true');
  render(actor);
}

/** The selected actor changed state (or its details tell more of it: `inTransaction.abortable`). */
export function showState(actor: ActorView): void {
  const state = shownState(actor);
  if (shown?.name !== actor.name || shown.current === state.id) return;
  const view = shown;
  view.current = state.id;
  const tone = toneOf(actor.kind, state.id);
  setData(view.state, 'tone', tone);
  view.error.classList.toggle('past', tone === 'good');
  setText(view.state, state.label);
  // The chart draws top-level states, their substates inside.
  view.chart?.setActive(actor.state);
  view.leaving.replaceChildren('Transitions out of ', h('em', { text: state.label }));
  const items: HTMLElement[] = [];
  for (const transition of view.machine?.transitions ?? []) {
    if (!leaves(transition.from, actor.state, state.id)) continue;
    const to = transition.to === transition.from && !transition.reenter ? 'stays' : `→ ${transition.to}`;
    items.push(
      h(
        'li',
        {},
        h('code', { text: transition.label }),
        ' ',
        h('span', { class: 'target', text: to }),
        transition.global ? h('span', { class: 'any', text: ' (any state)' }) : null,
      ),
    );
  }
  if (items.length === 0) items.push(h('li', { class: 'none', text: 'none: a final state' }));
  view.transitions.replaceChildren(...items);
}

/**
 * Whether a transition from `from` leaves the state `top` (a top-level state) when the actor is
 * known to be in `id`: the transitions of `top` and of its substates, but not those of a sibling
 * of the substate it is known to be in (`commit` leaves `inTransaction.open`, not
 * `inTransaction.abortable`).
 */
function leaves(from: string, top: string | null, id: string | null): boolean {
  if (from.split('.')[0] !== top) return false;
  if (id === top || id === null || from === top) return true;
  return from === id || from.startsWith(`${id}.`) || id.startsWith(`${from}.`);
}

/** The selected actor's data changed (or it is gone), or the machines arrived: show it again. */
export function refresh(): void {
  if (shown === null) return;
  const actor = actors.get(shown.name);
  if (actor === undefined) {
    setData(shown.state, 'tone', 'idle');
    setText(shown.state, 'gone');
    return;
  }
  if (shown.machine !== machineOf(actor.kind)) {
    render(actor);
    return;
  }
  showState(actor);
  showData(actor);
}

function render(actor: ActorView): void {
  const root = byId('detail');
  const machine = machineOf(actor.kind);
  const state = badge();
  const head = h(
    'div',
    { class: 'detail-head' },
    h('h3', { class: 'detail-name', text: actor.name }),
    h('span', { class: 'kind', text: titleOf(actor.kind) }),
    state,
  );
  const error = h('p', { class: 'detail-error', hidden: true });
  const figure = h('figure', { class: 'diagram' });
  const transitions = h('ul', { class: 'transitions' });
  const leaving = h('h4');
  const kv = h('dl', { class: 'kv' });
  const events = h('ol', { class: 'transitions events' });
  const recent = h('section', { hidden: true }, h('h4', { text: 'Last events received' }), events);
  let chart: DrawnChart | null = null;
  if (machine !== undefined && machine.chart !== null) {
    chart = drawChart(machine.chart, `State diagram of the ${machine.id} machine`);
    figure.append(
      h('div', { class: 'diagram-scroll' }, chart.svg),
      h('figcaption', {
        text: `machines/${machine.file ?? machine.id}.machine.ts · current state highlighted · dashed: handled in any state · hover an arrow for guards`,
      }),
    );
  } else {
    figure.append(h('p', { class: 'empty', text: 'No machine definition for this actor.' }));
  }
  root.replaceChildren(
    head,
    error,
    figure,
    // Without a machine, nothing to say of transitions.
    h('section', { class: 'leaving', hidden: chart === null }, leaving, transitions),
    recent,
    h('section', {}, h('h4', { text: 'Details' }), kv),
  );
  shown = {
    name: actor.name,
    kind: actor.kind,
    machine,
    state,
    error,
    transitions,
    leaving,
    kv,
    events,
    recent,
    eventsKey: '',
    chart,
    kvKey: '',
    current: undefined,
  };
  showState(actor);
  showData(actor);
}

function showData(actor: ActorView): void {
  if (shown === null) return;
  const text = errorText(actor.data?.lastError);
  shown.error.hidden = text === '';
  setText(shown.error, text === '' ? '' : `Last error: ${text}`);
  showEvents(actor);
  const details = detailsOf(actor.data);
  const key = JSON.stringify(details);
  if (key === shown.kvKey) return;
  shown.kvKey = key;
  shown.kv.replaceChildren(
    ...Object.entries(details).map(([name, value]) =>
      h(
        'div',
        {},
        h('dt', { text: name }),
        h('dd', { text: name.endsWith('At') && typeof value === 'number' ? ago(value) : describe(value) }),
      ),
    ),
  );
}

/** The last events the actor received (the runtime keeps a few), the newest first. */
function showEvents(actor: ActorView): void {
  if (shown === null) return;
  const events = actor.data?.recentEvents ?? [];
  const key = JSON.stringify(events);
  if (key === shown.eventsKey) return;
  shown.eventsKey = key;
  shown.recent.hidden = events.length === 0;
  shown.events.replaceChildren(
    ...[...events]
      .reverse()
      .map((event) =>
        h(
          'li',
          {},
          h('code', { text: event.type }),
          ' ',
          h('span', { class: 'target', text: new Date(event.at).toLocaleTimeString() }),
        ),
      ),
  );
}
