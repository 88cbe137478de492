/** The actors on the page: one view per actor of `GET /api/actors`, by name. */
import type { ActorSnapshot, ActorSnapshotOf } from './api.js';

/** An actor's details as the page reads them: shown, whatever their kind (see `detailsOf`). */
export type Details = Readonly<Record<string, unknown>>;

/** The details of `data` (typed by kind in ActorSnapshot) as plain values by name. */
export function detailsOf(data: ActorSnapshot | null): Details {
  return { ...data?.details };
}

export type Kind = ActorSnapshot['kind'];

/** Whether `data` is of `kind` (and so has that kind's details). */
export function isKind<K extends Kind>(data: ActorSnapshot, kind: K): data is ActorSnapshotOf<K> {
  return data.kind === kind;
}

/** A counter shown with an actor: where it is written, and how from the actor's snapshot. */
export type Cell = readonly [node: HTMLElement, value: (data: ActorSnapshot) => string];

export interface ActorView {
  name: string;
  /** As in `inspect()`: `registry`, `metadata`, `broker`, `topic`, `partition`, `spool`… */
  kind: string;
  /** Null until known (and once a topic's actor is gone while its partitions remain). */
  state: string | null;
  data: ActorSnapshot | null;
  /** What the filter hides and the selection outlines; carries `data-actor` and `data-state`. */
  row: HTMLElement;
  badge: HTMLElement;
  button: HTMLButtonElement;
  cells: Cell[];
  error: HTMLElement;
  /** A topic's or a partition's topic (from its snapshot's details), else null. */
  topic: string | null;
  /**
   * A line under the counters, shown only when it has something to say (why a transaction must
   * be aborted).
   */
  note?: Cell;
  /** A state event came after `data` was taken: what `data` says of the state is out of date. */
  detailsBehind?: boolean;
}

export const actors = new Map<string, ActorView>();

/** The topic an actor belongs to (a topic's or a partition's), if any. */
export function topicOf(actor: Pick<ActorView, 'topic'>): string | undefined {
  return actor.topic ?? undefined;
}
