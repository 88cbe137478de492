/** The parts every actor's row is made of: its name button, state badge and counters. */
import { toneOf } from './catalog.js';
import { h, setData, setText } from './dom.js';
import type { ActorSnapshot, ActorSnapshotOf } from './api.js';
import type { ActorView, Cell, Kind } from './model.js';

/** A counter: its label, and its text from the actor's snapshot. */
export type Stat = readonly [label: string, value: (data: ActorSnapshot) => string];

/** A counter of actors of kind K, read from the details the server types for that kind. */
export type KindStat<K extends Kind> = readonly [
  label: string,
  value: (details: ActorSnapshotOf<K>['details']) => string,
];

/** The counters of actors of `kind` (an actor of another kind shows `—`). */
export function statsOf<K extends Kind>(kind: K, stats: readonly KindStat<K>[]): Stat[] {
  return stats.map(([label, value]): Stat => [
    label,
    // TypeScript does not narrow the union by a generic kind: the check makes the cast true.
    (data) => (data.kind === kind ? value(data.details as ActorSnapshotOf<K>['details']) : '—'),
  ]);
}

export function badge(): HTMLElement {
  return h('span', { class: 'badge', 'data-tone': 'busy', text: '…' });
}

/** The actor's name, as the button that selects it. */
export function nameButton(name: string, label: string): HTMLButtonElement {
  return h('button', {
    class: 'name',
    type: 'button',
    'aria-pressed': 'false',
    'aria-label': label === name ? null : name,
    title: `Show the machine of ${name}`,
    text: label,
  });
}

/** A `<dl>` of counters, and its cells to fill in. */
export function statList(stats: readonly Stat[]): { list: HTMLElement; cells: Cell[] } {
  const list = h('dl', { class: 'stats' });
  const cells: Cell[] = [];
  for (const [label, value] of stats) {
    const dd = h('dd');
    list.append(h('div', {}, h('dt', { text: label }), dd));
    cells.push([dd, value]);
  }
  return { list, cells };
}

/** Inserts `row` among rows ordered by `data-sort` (appends in the common, ordered case). */
export function insertSorted(parent: HTMLElement, row: HTMLElement, key: number): void {
  row.dataset.sort = String(key);
  const last = parent.lastElementChild;
  if (!(last instanceof HTMLElement) || Number(last.dataset.sort) <= key) {
    parent.append(row);
    return;
  }
  for (const child of parent.children) {
    if (child instanceof HTMLElement && Number(child.dataset.sort) > key) {
      parent.insertBefore(row, child);
      return;
    }
  }
  parent.append(row);
}

/**
 * What an actor's details say of its state that `inspect()` does not: `inspect()` names the
 * top-level state only, so a transaction that must be aborted is `inTransaction`, like one that
 * may commit; its `abortableReason` tells them apart.
 */
const SUBSTATES: Readonly<Partial<Record<Kind, (data: ActorSnapshot) => string | null>>> = {
  transaction: (data) =>
    data.kind === 'transaction' && data.state === 'inTransaction' && data.details.abortableReason !== null
      ? 'inTransaction.abortable'
      : null,
};

/** The state an actor is shown in: its state's id (for its tone) and the badge's text. */
export interface ShownState {
  /** The state's id in its machine (`ready`, `inTransaction.abortable`); null while unknown. */
  id: string | null;
  label: string;
}

/** The actor's state, or the substate of it its details give away (while they are current). */
export function shownState(actor: ActorView): ShownState {
  const { state, data } = actor;
  if (state === null) return { id: null, label: '…' };
  const refine = SUBSTATES[actor.kind as Kind];
  const substate =
    refine !== undefined && data !== null && data.state === state && actor.detailsBehind !== true
      ? refine(data)
      : null;
  return substate === null ? { id: state, label: state } : { id: substate, label: substate };
}

/** Shows the actor's state and its tone on its row and badge. */
export function paintState(actor: ActorView): void {
  const shown = shownState(actor);
  const tone = toneOf(actor.kind, shown.id);
  setData(actor.row, 'state', actor.state ?? 'unknown');
  setData(actor.row, 'tone', tone);
  setData(actor.badge, 'tone', tone);
  setText(actor.badge, shown.label);
}
