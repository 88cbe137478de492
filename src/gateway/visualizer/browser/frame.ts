/**
 * Work batched to once per animation frame: a topic's state summary and visibility, and the
 * totals, recomputed only for what changed since the last frame. main.ts says how to flush.
 */

export interface Flushers {
  topic(name: string): void;
  totals(): void;
}

const dirtyTopics = new Set<string>();
let totalsDirty = true;
let queued = false;
let flushers: Flushers | null = null;

export function onFrame(handlers: Flushers): void {
  flushers = handlers;
  queue();
}

/** The summary of topic `name` is to be redrawn (nothing for undefined). */
export function markTopic(name: string | undefined): void {
  if (name === undefined) return;
  dirtyTopics.add(name);
  totalsDirty = true;
  queue();
}

export function markTotals(): void {
  totalsDirty = true;
  queue();
}

function queue(): void {
  if (queued) return;
  queued = true;
  requestAnimationFrame(flush);
}

function flush(): void {
  queued = false;
  if (flushers === null) return;
  const names = [...dirtyTopics];
  dirtyTopics.clear();
  for (const name of names) flushers.topic(name);
  if (totalsDirty) {
    totalsDirty = false;
    flushers.totals();
  }
}
