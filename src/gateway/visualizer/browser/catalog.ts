/**
 * What the page knows of each kind of actor, from `GET /api/machines`: its title, its machine's
 * states with their tones (each state's `meta.tone` in machines/*.machine.ts) and its state
 * chart, laid out by the server.
 */
import type { Tone } from '../../../../machines/graph.js';
import type { VisualizedMachine } from './api.js';

const byKind = new Map<string, VisualizedMachine>();

/** Tones from the most to the least alarming (the order of a topic's state summary). */
export const TONE_ORDER: Readonly<Record<Tone, number>> = { bad: 0, warn: 1, busy: 2, good: 3, idle: 4 };

/** The tone of a state no machine names (or before the machines are loaded). */
const UNKNOWN_TONE: Tone = 'busy';

export function setMachines(list: readonly VisualizedMachine[]): void {
  byKind.clear();
  for (const machine of list) byKind.set(machine.kind, machine);
}

export function machineOf(kind: string): VisualizedMachine | undefined {
  return byKind.get(kind);
}

export function hasMachines(): boolean {
  return byKind.size > 0;
}

/** What the page calls a kind of actor: `Broker connection`. */
export function titleOf(kind: string): string {
  return byKind.get(kind)?.title ?? kind;
}

/** The tone of `state` (a state's id: `ready`, `inTransaction.abortable`) for an actor of `kind`. */
export function toneOf(kind: string, state: string | null): Tone {
  if (state === null) return UNKNOWN_TONE;
  return byKind.get(kind)?.states.find((candidate) => candidate.id === state)?.tone ?? UNKNOWN_TONE;
}
