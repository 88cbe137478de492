/**
 * The structure of a machine definition, read from xstate's `StateNode` tree: its states and
 * the transitions between them. scripts/diagrams.ts draws it as Mermaid for the README; the
 * visualizer (src/gateway/visualizer.ts) serves it as JSON (`GET /api/machines`) and draws it
 * as SVG. Both read it here so that they cannot disagree.
 *
 * Each state's tone (how the visualizer colours it) is its `meta.tone`: `good` (working as it
 * should), `busy` (on its way, e.g. connecting), `warn` (degraded but recovering: buffering,
 * retrying), `bad` (failed, or cannot go on by itself) or `idle` (stopped, closed).
 *
 * Trigger names:
 * - `event [guard]`: a transition; an inline guard function shows as `[guarded]`, the fallback
 *   after guarded candidates as `[else]`.
 * - `after <delay>`: a delayed transition, named after its `delays` entry.
 * - `done <src>` / `error <src>`: the invoked actor `src` finished / failed.
 * - `(re-enter)`: the state is exited and entered again (its entry actions run); a targetless
 *   transition without it changes no state (actions only).
 */

// ------------------------------------------------------------------------------------------------
// The parts of xstate's StateNode this module reads. xstate's own types are generic over every
// machine's context and events; a structural view keeps the walk simple and machine-agnostic.

export interface TransitionView {
  readonly eventType: string;
  readonly target?: readonly NodeView[] | undefined;
  readonly guard?: unknown;
  readonly reenter?: boolean;
}

export interface DelayedTransitionView extends TransitionView {
  readonly delay: unknown;
}

export interface InvokeView {
  readonly id: string;
  readonly src: unknown;
}

export interface NodeView {
  readonly key: string;
  readonly id: string;
  readonly path: readonly string[];
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly states: Readonly<Record<string, NodeView>>;
  readonly initial?: { readonly target: readonly NodeView[] } | undefined;
  readonly transitions: ReadonlyMap<string, readonly TransitionView[]>;
  readonly after: readonly DelayedTransitionView[];
  readonly always?: readonly TransitionView[] | undefined;
  readonly invoke: readonly InvokeView[];
  /** The state's `meta` from its definition (see `toneOf`). */
  readonly meta?: unknown;
}

export interface MachineView {
  readonly id: string;
  readonly root: NodeView;
}

export function isMachine(value: unknown): value is MachineView {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { __xstatenode?: unknown; root?: unknown; id?: unknown };
  return (
    candidate.__xstatenode === true && typeof candidate.root === 'object' && typeof candidate.id === 'string'
  );
}

// ------------------------------------------------------------------------------------------------
// Tones

/** How a state looks on the visualizer, from the state's `meta: { tone }`. */
export type Tone = 'good' | 'busy' | 'warn' | 'bad' | 'idle';

export const TONES: readonly Tone[] = ['good', 'busy', 'warn', 'bad', 'idle'];

function isTone(value: unknown): value is Tone {
  return typeof value === 'string' && (TONES as readonly string[]).includes(value);
}

/** The tone in a state node's `meta`, or null when it has none (or not one of `TONES`). */
export function toneOf(node: Pick<NodeView, 'meta'>): Tone | null {
  const meta = node.meta;
  if (typeof meta !== 'object' || meta === null) return null;
  const tone = (meta as { tone?: unknown }).tone;
  return isTone(tone) ? tone : null;
}

// ------------------------------------------------------------------------------------------------
// Names

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof (guard as { type?: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'guarded';
}

function delayName(delay: unknown): string {
  if (typeof delay === 'number') return `${delay}ms`;
  if (typeof delay === 'string') return delay;
  return 'delay';
}

function srcName(src: unknown, fallback: string): string {
  if (typeof src === 'string') return src;
  if (typeof src === 'object' && src !== null && typeof (src as { id?: unknown }).id === 'string') {
    return (src as { id: string }).id;
  }
  return fallback;
}

// ------------------------------------------------------------------------------------------------
// The walk

export interface Edge {
  /** The event as drawn: `conn.up`, `after backoff`, `done connect`… */
  trigger: string;
  /** The candidates for this trigger, in the order xstate tries them. */
  candidates: readonly TransitionView[];
}

/**
 * A node's transitions grouped by trigger, in a fixed order: invoked actors (done, then error),
 * delays, eventless transitions, then events in definition order.
 */
export function edgesOf(node: NodeView): Edge[] {
  const remaining = new Map(node.transitions);
  const take = (eventType: string): readonly TransitionView[] => {
    const found = remaining.get(eventType) ?? [];
    remaining.delete(eventType);
    return found;
  };
  const edges: Edge[] = [];
  for (const invoke of node.invoke) {
    const src = srcName(invoke.src, invoke.id);
    const done = take(`xstate.done.actor.${invoke.id}`);
    if (done.length > 0) edges.push({ trigger: `done ${src}`, candidates: done });
    const error = take(`xstate.error.actor.${invoke.id}`);
    if (error.length > 0) edges.push({ trigger: `error ${src}`, candidates: error });
  }
  const delays = new Map<string, DelayedTransitionView[]>();
  for (const transition of node.after) {
    const list = delays.get(transition.eventType) ?? [];
    list.push(transition);
    delays.set(transition.eventType, list);
  }
  for (const [eventType, candidates] of delays) {
    remaining.delete(eventType);
    edges.push({ trigger: `after ${delayName(candidates[0]?.delay)}`, candidates });
  }
  const doneState = take(`xstate.done.state.${node.id}`);
  if (doneState.length > 0) edges.push({ trigger: 'done', candidates: doneState });
  if (node.always !== undefined && node.always.length > 0) {
    edges.push({ trigger: 'always', candidates: node.always });
  }
  for (const [eventType, candidates] of remaining) edges.push({ trigger: eventType, candidates });
  return edges;
}

export interface Branch {
  /** `trigger [guard]`, `trigger [else]`, with ` (re-enter)` when the state is re-entered. */
  text: string;
  trigger: string;
  /** The guard's name, `else` for the fallback after guarded candidates, or null. */
  guard: string | null;
  reenter: boolean;
  /** Empty for a targetless transition (it stays in the state it is defined on). */
  targets: readonly NodeView[];
}

/** The candidates of `edge`, each with its label, in the order xstate tries them. */
export function branchesOf(edge: Edge): Branch[] {
  let guardedBefore = false;
  return edge.candidates.map((candidate) => {
    const named = guardName(candidate.guard);
    const guard = named ?? (guardedBefore ? 'else' : null);
    if (named !== null) guardedBefore = true;
    const reenter = candidate.reenter === true;
    const parts = [edge.trigger];
    if (guard !== null) parts.push(`[${guard}]`);
    if (reenter) parts.push('(re-enter)');
    return { text: parts.join(' '), trigger: edge.trigger, guard, reenter, targets: candidate.target ?? [] };
  });
}

export function handlesUnconditionally(node: NodeView, eventType: string): boolean {
  return (node.transitions.get(eventType) ?? []).some((t) => t.guard === undefined || t.guard === null);
}

// ------------------------------------------------------------------------------------------------
// As data

export interface GraphState {
  /** The state's path joined with '.', e.g. `buffering.waiting`. */
  id: string;
  key: string;
  /** The enclosing state's id; null for top-level states. */
  parent: string | null;
  type: NodeView['type'];
  /** Whether it is its parent's (or the machine's) initial state. */
  initial: boolean;
  /** Its `meta.tone`; null when the definition gives none. */
  tone: Tone | null;
}

export interface GraphTransition {
  from: string;
  to: string;
  /** `conn.up`, `after backoff`, `done connect`… */
  trigger: string;
  guard: string | null;
  reenter: boolean;
  /** What the README's diagrams show: trigger, guard, re-entry. */
  label: string;
  /** Defined on the machine itself: taken from any top-level state that does not handle the event. */
  global: boolean;
}

export interface MachineGraph {
  id: string;
  /** Every state, parents before their children, in definition order. */
  states: GraphState[];
  transitions: GraphTransition[];
}

/** The state used for a machine without states (drawn as one state). */
export const STATELESS = 'running';

/**
 * A machine's states and transitions. Targetless transitions loop on the state they are defined
 * on; transitions of the machine itself are expanded to every top-level state that is not final
 * and does not handle the event unconditionally itself (as the README's diagrams draw them).
 */
export function machineGraph(machine: MachineView): MachineGraph {
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = [];
  const idOf = (node: NodeView): string => node.path.join('.');
  const add = (edge: Edge, from: string, global: boolean): void => {
    for (const branch of branchesOf(edge)) {
      const targets = branch.targets.length === 0 ? [from] : branch.targets.map(idOf);
      for (const to of targets) {
        transitions.push({
          from,
          to,
          trigger: branch.trigger,
          guard: branch.guard,
          reenter: branch.reenter,
          label: branch.text,
          global,
        });
      }
    }
  };
  const visit = (node: NodeView, parent: NodeView): void => {
    const initial = (parent.initial?.target ?? []).includes(node) || parent.type === 'parallel';
    const id = idOf(node);
    states.push({
      id,
      key: node.key,
      parent: parent.path.length === 0 ? null : idOf(parent),
      type: node.type,
      initial,
      tone: toneOf(node),
    });
    for (const edge of edgesOf(node)) add(edge, id, false);
    for (const child of Object.values(node.states)) visit(child, node);
  };

  const root = machine.root;
  const children = Object.values(root.states);
  if (children.length === 0) {
    // Its tone is the machine's own `meta.tone`.
    states.push({
      id: STATELESS,
      key: STATELESS,
      parent: null,
      type: 'atomic',
      initial: true,
      tone: toneOf(root),
    });
    for (const edge of edgesOf(root)) add(edge, STATELESS, true);
    return { id: machine.id, states, transitions };
  }
  for (const child of children) visit(child, root);
  for (const edge of edgesOf(root)) {
    for (const child of children) {
      if (child.type === 'final' || handlesUnconditionally(child, edge.candidates[0]?.eventType ?? '')) {
        continue;
      }
      add(edge, idOf(child), true);
    }
  }
  return { id: machine.id, states, transitions };
}
