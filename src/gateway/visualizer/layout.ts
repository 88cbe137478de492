/**
 * State charts for the visualizer, laid out on the server with dagre (a layered graph layout:
 * states in ranks, and each edge label a node of its own, so that no state or label covers
 * another); the page only draws what `GET /api/machines` returns.
 *
 * What a chart shows, from a machine's graph (machines/graph.ts):
 * - one box per top-level state, with the names of its child states under its own;
 * - one edge per pair of top-level states with transitions between them (self-loops included),
 *   labelled with their triggers;
 * - the machine's own transitions (taken in any state that does not handle the event itself)
 *   as edges from one `any state` box, rather than one edge from every state that takes them;
 * - a dot with an arrow into the initial state.
 *
 * Text is measured without a browser, from rough per-character widths of a wide sans-serif
 * (DejaVu Sans, what Chromium uses on Debian), so boxes err on the roomy side; the page shrinks a
 * text that would still overflow its box.
 */
import dagre from '@dagrejs/dagre';
import type { GraphTransition, MachineGraph, Tone } from '../../../machines/graph.js';

export interface Point {
  x: number;
  y: number;
}

/** A rectangle: its top-left corner and its size. */
export interface Box extends Point {
  width: number;
  height: number;
}

export interface ChartState extends Box {
  /** The state's id (for a top-level state, its key). */
  id: string;
  key: string;
  tone: Tone | null;
  final: boolean;
  /** Its child states' keys, drawn under its name. */
  children: string[];
}

export interface ChartLabel extends Box {
  /** One trigger per line. */
  lines: string[];
}

export interface ChartEdge {
  /** Between two states, from the `any state` box, or the arrow into the initial state. */
  kind: 'state' | 'any' | 'start';
  /** A state's id, or `ANY` or `START`. */
  from: string;
  to: string;
  /** The states it leaves: `[from]`, every state that takes it for an `ANY` edge, none for `START`. */
  sources: string[];
  /** Where the line goes, ending on the target's box; drawn as a smooth curve through them. */
  points: Point[];
  label: ChartLabel | null;
  /** The transitions it stands for, each labelled as in the README's diagrams. */
  transitions: string[];
}

export interface Chart {
  width: number;
  height: number;
  states: ChartState[];
  edges: ChartEdge[];
  /** The `any state` box, when the machine has transitions of its own. */
  any: (Box & { text: string }) | null;
  /** The dot the initial arrow starts from. */
  start: Point & { r: number };
}

/** The `from` of edges drawn from the `any state` box. */
export const ANY = '(any state)';
/** The `from` of the initial arrow. */
export const START = '(start)';
/** What the `any state` box says. */
const ANY_TEXT = 'any state';

// ------------------------------------------------------------------------------------------------
// Sizes (pixels; the page's style sheet uses the same fonts)

const STATE_FONT = { size: 13, bold: true };
const CHILDREN_FONT = { size: 10.5, bold: false };
const LABEL_FONT = { size: 11, bold: false };
const ANY_FONT = { size: 12, bold: false };
const LABEL_LINE_HEIGHT = 14;
/** A label lists at most this many triggers: past it, the first ones and `+N more`. */
const LABEL_MAX_LINES = 3;
const START_RADIUS = 5;
const MARGIN = 12;

/** Widths in em of a wide sans-serif, by character class (a rough, generous estimate). */
function charWidth(char: string): number {
  if ("ijl.,:;'!| ".includes(char)) return 0.32;
  if ('frtI()[]{}-/'.includes(char)) return 0.42;
  if ('mwMW@%'.includes(char)) return 0.98;
  if (char >= 'A' && char <= 'Z') return 0.74;
  return 0.64;
}

/** The estimated width of `text` in a font of `size` px. */
export function textWidth(text: string, font: { size: number; bold: boolean }): number {
  let ems = 0;
  for (const char of text) ems += charWidth(char);
  return ems * font.size * (font.bold ? 1.1 : 1);
}

// ------------------------------------------------------------------------------------------------
// From the machine's graph to what is drawn

interface Pair {
  from: string;
  to: string;
  sources: string[];
  triggers: string[];
  transitions: string[];
}

const topOf = (id: string): string => id.split('.')[0] ?? id;

/**
 * The edges to draw: transitions grouped by their top-level states, the machine's own ones
 * from `ANY` (when there is more than one state to take them) unless they change no state.
 */
function pairsOf(graph: MachineGraph, topLevel: number): Pair[] {
  const pairs = new Map<string, Pair>();
  const add = (from: string, to: string, source: string, transition: GraphTransition): void => {
    const key = `${from}\u0000${to}`;
    let pair = pairs.get(key);
    if (pair === undefined) {
      pair = { from, to, sources: [], triggers: [], transitions: [] };
      pairs.set(key, pair);
    }
    if (!pair.sources.includes(source)) pair.sources.push(source);
    if (!pair.triggers.includes(transition.trigger)) pair.triggers.push(transition.trigger);
    if (!pair.transitions.includes(transition.label)) pair.transitions.push(transition.label);
  };
  for (const transition of graph.transitions) {
    const from = topOf(transition.from);
    const to = topOf(transition.to);
    const staying = from === to && !transition.reenter;
    add(transition.global && topLevel > 1 && !staying ? ANY : from, to, from, transition);
  }
  return [...pairs.values()];
}

function labelOf(triggers: readonly string[]): ChartLabel {
  const lines =
    triggers.length <= LABEL_MAX_LINES
      ? [...triggers]
      : [...triggers.slice(0, LABEL_MAX_LINES - 1), `+${triggers.length - (LABEL_MAX_LINES - 1)} more`];
  const width = Math.max(...lines.map((line) => textWidth(line, LABEL_FONT))) + 10;
  return { x: 0, y: 0, width, height: lines.length * LABEL_LINE_HEIGHT + 4, lines };
}

// ------------------------------------------------------------------------------------------------
// dagre

/**
 * The part of dagre used here. Its own type declarations do not resolve under NodeNext (their
 * relative imports have no extensions), so they would type it as an error.
 */
interface LayoutGraph {
  setGraph(label: { rankdir: 'TB'; nodesep: number; edgesep: number; ranksep: number }): unknown;
  setDefaultEdgeLabel(label: () => object): unknown;
  setNode(id: string, label: { width: number; height: number }): unknown;
  /** `labelpos: 'c'`: the edge runs through its label, which dagre places like a node. */
  setEdge(from: string, to: string, label: { width?: number; height?: number; labelpos?: 'c' }): unknown;
  /** After layout: the centre of the node. */
  node(id: string): { x?: number; y?: number; width: number; height: number };
  /** After layout: the centre of the label, and the points the edge goes through. */
  edge(from: string, to: string): { x?: number; y?: number; points?: Point[] };
}

const { graphlib, layout } = dagre as unknown as {
  graphlib: { Graph: new () => LayoutGraph };
  layout: (graph: LayoutGraph) => void;
};

// ------------------------------------------------------------------------------------------------
// The chart

/** Lays out the chart of `graph`. */
export function layoutChart(graph: MachineGraph): Chart {
  const topLevel = graph.states.filter((state) => state.parent === null);
  const pairs = pairsOf(graph, topLevel.length);
  const initial = topLevel.find((state) => state.initial) ?? topLevel[0];
  if (initial === undefined) throw new Error(`machine ${graph.id} has no state to draw`);

  const g = new graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 36, edgesep: 16, ranksep: 40 });
  g.setDefaultEdgeLabel(() => ({}));

  const states = topLevel.map((state): ChartState => {
    const children = graph.states.filter((child) => child.parent === state.id).map((child) => child.key);
    const width = Math.max(
      96,
      textWidth(state.key, STATE_FONT) + 32,
      textWidth(children.join(' · '), CHILDREN_FONT) + 24,
    );
    const height = children.length > 0 ? 48 : 36;
    return {
      id: state.id,
      key: state.key,
      tone: state.tone,
      final: state.type === 'final',
      children,
      x: 0,
      y: 0,
      width,
      height,
    };
  });
  // dagre breaks cycles by reversing the edges that lead back to a node its depth-first walk
  // (in the order nodes and edges were added) is still in: nodes and edges are added outwards
  // from the initial state, so that it is the one on top and the arrows mostly point down.
  const order = distances(initial.id, pairs);
  const rank = (id: string): number => order.get(id) ?? order.size;
  g.setNode(START, { width: START_RADIUS * 2, height: START_RADIUS * 2 });
  for (const state of [...states].sort((a, b) => rank(a.id) - rank(b.id))) {
    g.setNode(state.id, { width: state.width, height: state.height });
  }
  const hasAny = pairs.some((pair) => pair.from === ANY);
  if (hasAny) g.setNode(ANY, { width: textWidth(ANY_TEXT, ANY_FONT) + 28, height: 30 });
  g.setEdge(START, initial.id, {});
  const labelled = pairs
    .map((pair) => ({ pair, size: labelOf(pair.triggers) }))
    .sort((a, b) => rank(a.pair.from) - rank(b.pair.from) || rank(a.pair.to) - rank(b.pair.to));
  for (const { pair, size } of labelled) {
    g.setEdge(pair.from, pair.to, { width: size.width, height: size.height, labelpos: 'c' });
  }

  layout(g);

  const node = (id: string): Box => {
    const laid = g.node(id);
    const { x = 0, y = 0, width, height } = laid;
    return { x: x - width / 2, y: y - height / 2, width, height };
  };
  for (const state of states) Object.assign(state, node(state.id));

  const edges: ChartEdge[] = [];
  const startBox = node(START);
  edges.push({
    kind: 'start',
    from: START,
    to: initial.id,
    sources: [],
    points: g.edge(START, initial.id).points ?? [],
    label: null,
    transitions: [],
  });
  for (const { pair, size } of labelled) {
    const laid = g.edge(pair.from, pair.to);
    const label: ChartLabel = {
      ...size,
      x: (laid.x ?? 0) - size.width / 2,
      y: (laid.y ?? 0) - size.height / 2,
    };
    const points = pair.from === pair.to ? loop(node(pair.from), label) : (laid.points ?? []);
    edges.push({
      kind: pair.from === ANY ? 'any' : 'state',
      from: pair.from,
      to: pair.to,
      sources: pair.sources,
      points,
      label,
      transitions: pair.transitions,
    });
  }
  const chart: Chart = {
    width: 0,
    height: 0,
    states,
    edges,
    any: hasAny ? { ...node(ANY), text: ANY_TEXT } : null,
    start: { x: startBox.x + START_RADIUS, y: startBox.y + START_RADIUS, r: START_RADIUS },
  };
  return framed(chart);
}

/** Each state's distance from the initial state, following the edges (breadth-first). */
function distances(initial: string, pairs: readonly Pair[]): Map<string, number> {
  const found = new Map([[initial, 0]]);
  const queue = [initial];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const distance = (found.get(next) ?? 0) + 1;
    for (const pair of pairs) {
      if (pair.from !== next || found.has(pair.to)) continue;
      found.set(pair.to, distance);
      queue.push(pair.to);
    }
  }
  return found;
}

/**
 * A self-loop: out of the state's right side and back, in the room dagre keeps between the
 * state and the loop's label (which it places to the state's right).
 */
function loop(state: Box, label: Box): Point[] {
  const right = state.x + state.width;
  const reach = Math.max(16, label.x - right - 6);
  const middle = state.y + state.height / 2;
  return [
    { x: right, y: middle - 8 },
    { x: right + reach, y: middle - 16 },
    { x: right + reach, y: middle + 16 },
    { x: right, y: middle + 8 },
  ];
}

function round(point: Point): Point {
  return { x: Math.round(point.x * 10) / 10, y: Math.round(point.y * 10) / 10 };
}

function roundBox<T extends Box>(box: T): T {
  return {
    ...box,
    ...round(box),
    width: Math.round(box.width * 10) / 10,
    height: Math.round(box.height * 10) / 10,
  };
}

/** The chart moved to start at (MARGIN, MARGIN), its size everything drawn plus margins. */
function framed(chart: Chart): Chart {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const grow = (x: number, y: number): void => {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  };
  const growBox = (box: Box): void => {
    grow(box.x, box.y);
    grow(box.x + box.width, box.y + box.height);
  };
  chart.states.forEach(growBox);
  if (chart.any !== null) growBox(chart.any);
  grow(chart.start.x - chart.start.r, chart.start.y - chart.start.r);
  for (const edge of chart.edges) {
    edge.points.forEach((point) => {
      grow(point.x, point.y);
    });
    if (edge.label !== null) growBox(edge.label);
  }
  const dx = MARGIN - minX;
  const dy = MARGIN - minY;
  const move = <T extends Point>(item: T): T => ({ ...item, x: item.x + dx, y: item.y + dy });
  return {
    width: Math.ceil(maxX - minX + 2 * MARGIN),
    height: Math.ceil(maxY - minY + 2 * MARGIN),
    states: chart.states.map((state) => roundBox(move(state))),
    edges: chart.edges.map((edge) => ({
      ...edge,
      points: edge.points.map((point) => round(move(point))),
      label: edge.label === null ? null : roundBox(move(edge.label)),
    })),
    any: chart.any === null ? null : roundBox(move(chart.any)),
    start: { ...round(move(chart.start)), r: chart.start.r },
  };
}
