/**
 * A machine's state chart as SVG, from the chart the server laid out (`GET /api/machines`,
 * ../layout.ts): boxes coloured by each state's tone, edges as smooth curves through the
 * server's points, labels where the server put them. Nothing is placed here, only drawn.
 */
import type { Chart, ChartEdge, Point } from '../layout.js';
import { s } from './dom.js';

export interface DrawnChart {
  svg: SVGSVGElement;
  /** Highlights `state` and the edges that leave it. */
  setActive(state: string | null): void;
}

const LABEL_LINE_HEIGHT = 14;
let charts = 0;

export function drawChart(chart: Chart, title: string): DrawnChart {
  const id = `chart-${++charts}`;
  const svg = s('svg', {
    class: 'machine',
    role: 'img',
    'aria-labelledby': `${id}-title`,
    viewBox: `0 0 ${chart.width} ${chart.height}`,
    width: chart.width,
    height: chart.height,
  });
  svg.append(s('title', { id: `${id}-title`, text: title }));
  const arrow = (kind: 'plain' | 'out'): string => `url(#${id}-arrow-${kind})`;
  const defs = s('defs');
  for (const kind of ['plain', 'out'] as const) {
    defs.append(
      s(
        'marker',
        {
          id: `${id}-arrow-${kind}`,
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow arrow-${kind}` }),
      ),
    );
  }
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  const labelLayer = s('g', { class: 'labels' });
  svg.append(defs, edgeLayer, nodeLayer, labelLayer);

  const drawnEdges: {
    edge: ChartEdge;
    group: SVGGElement;
    line: SVGPathElement;
    label: SVGGElement | null;
  }[] = [];
  for (const edge of chart.edges) {
    const line = s('path', { d: curve(edge.points), class: 'edge-line', 'marker-end': arrow('plain') });
    const group = s('g', { class: `edge edge-${edge.kind}${edge.kind === 'any' ? ' global' : ''}` });
    if (edge.transitions.length > 0) group.append(s('title', { text: edgeTitle(edge) }));
    group.append(line);
    edgeLayer.append(group);
    let label: SVGGElement | null = null;
    if (edge.label !== null) {
      const box = edge.label;
      label = s('g', { class: 'edge-label' });
      label.append(s('rect', { x: box.x, y: box.y, width: box.width, height: box.height, rx: 4 }));
      box.lines.forEach((text, index) => {
        label?.append(
          s('text', {
            x: box.x + box.width / 2,
            y: box.y + 2 + index * LABEL_LINE_HEIGHT + 10.5,
            'text-anchor': 'middle',
            'data-fit': box.width - 6,
            text,
          }),
        );
      });
      labelLayer.append(label);
    }
    drawnEdges.push({ edge, group, line, label });
  }

  nodeLayer.append(s('circle', { cx: chart.start.x, cy: chart.start.y, r: chart.start.r, class: 'initial' }));
  if (chart.any !== null) {
    const box = chart.any;
    nodeLayer.append(
      s(
        'g',
        { class: 'any-state' },
        s('title', {
          text: 'Transitions of the machine itself: taken in any state that does not handle the event',
        }),
        s('rect', { x: box.x, y: box.y, width: box.width, height: box.height, rx: box.height / 2 }),
        s('text', {
          x: box.x + box.width / 2,
          y: box.y + box.height / 2 + 4,
          'text-anchor': 'middle',
          text: box.text,
        }),
      ),
    );
  }
  const drawnStates = new Map<string, SVGGElement>();
  for (const state of chart.states) {
    const centreX = state.x + state.width / 2;
    const centreY = state.y + state.height / 2;
    const group = s(
      'g',
      {
        class: `state${state.final ? ' final' : ''}`,
        'data-state-node': state.id,
        'data-tone': state.tone ?? 'busy',
      },
      s('title', {
        text: state.children.length > 0 ? `${state.id} (${state.children.join(', ')})` : state.id,
      }),
      s('rect', { x: state.x, y: state.y, width: state.width, height: state.height, rx: 10, class: 'box' }),
    );
    if (state.final) {
      group.append(
        s('rect', {
          x: state.x + 3,
          y: state.y + 3,
          width: state.width - 6,
          height: state.height - 6,
          rx: 7,
          class: 'inner',
        }),
      );
    }
    const nested = state.children.length > 0;
    group.append(
      s('text', {
        x: centreX,
        y: nested ? centreY - 3 : centreY + 4.5,
        'text-anchor': 'middle',
        class: 'state-name',
        'data-fit': state.width - 12,
        text: state.key,
      }),
    );
    if (nested) {
      group.append(
        s('text', {
          x: centreX,
          y: centreY + 13,
          'text-anchor': 'middle',
          class: 'state-sub',
          'data-fit': state.width - 12,
          text: state.children.join(' · '),
        }),
      );
    }
    nodeLayer.append(group);
    drawnStates.set(state.id, group);
  }
  // Text is measured once drawn: the server's estimate of its width may fall short.
  requestAnimationFrame(() => {
    fitTexts(svg);
  });

  const setActive = (state: string | null): void => {
    for (const [stateId, group] of drawnStates) group.classList.toggle('active', stateId === state);
    for (const drawn of drawnEdges) {
      const out = state !== null && drawn.edge.sources.includes(state);
      drawn.group.classList.toggle('out', out);
      drawn.label?.classList.toggle('out', out);
      drawn.line.setAttribute('marker-end', arrow(out ? 'out' : 'plain'));
    }
  };
  return { svg, setActive };
}

function edgeTitle(edge: ChartEdge): string {
  const lines = [...edge.transitions];
  if (edge.kind === 'any') lines.push(`(in any state that does not handle it: ${edge.sources.join(', ')})`);
  return lines.join('\n');
}

/** A smooth path through `points`: straight to the first, then curving past each corner. */
function curve(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (first === undefined) return '';
  const parts = [`M${first.x},${first.y}`];
  rest.forEach((point, index) => {
    const next = rest[index + 1];
    if (next === undefined) {
      if (index === 0) parts.push(`L${point.x},${point.y}`);
      return;
    }
    const end = index === rest.length - 2 ? next : { x: (point.x + next.x) / 2, y: (point.y + next.y) / 2 };
    parts.push(`Q${point.x},${point.y} ${end.x},${end.y}`);
  });
  return parts.join(' ');
}

/** Squeezes each text wider than its `data-fit` into it. */
function fitTexts(svg: SVGSVGElement): void {
  if (!svg.isConnected) return;
  for (const text of svg.querySelectorAll<SVGTextElement>('text[data-fit]')) {
    const room = Number(text.dataset.fit);
    if (text.getComputedTextLength() > room) {
      text.setAttribute('textLength', String(room));
      text.setAttribute('lengthAdjust', 'spacingAndGlyphs');
    }
  }
}
