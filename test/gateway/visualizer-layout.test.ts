// The visualizer's state charts as GET /api/machines serves them: laid out on the server
// (src/gateway/visualizer/layout.ts) so that nothing drawn covers anything else, every
// transition drawn, every state coloured by the tone its definition gives it.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { visualizedMachines } from '../../src/gateway/visualizer.js';
import type { Box, Chart } from '../../src/gateway/visualizer/layout.js';

const machines = visualizedMachines();
const charted = machines.flatMap((machine) =>
  machine.chart === null ? [] : [{ machine, chart: machine.chart }],
);

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Every box drawn for a state, the `any state` box and the initial dot, by name. */
function nodeBoxes(chart: Chart): [string, Box][] {
  const boxes: [string, Box][] = chart.states.map((state) => [state.id, state]);
  if (chart.any !== null) boxes.push(['any state', chart.any]);
  const { x, y, r } = chart.start;
  boxes.push(['start', { x: x - r, y: y - r, width: 2 * r, height: 2 * r }]);
  return boxes;
}

function labelBoxes(chart: Chart): [string, Box][] {
  return chart.edges.flatMap((edge) =>
    edge.label === null ? [] : [[`${edge.from} -> ${edge.to}`, edge.label]],
  );
}

/** The names of every pair of boxes that overlap. */
function collisions(a: [string, Box][], b: [string, Box][]): string[] {
  const found: string[] = [];
  a.forEach(([nameA, boxA], i) => {
    b.forEach(([nameB, boxB], j) => {
      if (a === b && j <= i) return;
      if (overlaps(boxA, boxB)) found.push(`${nameA} / ${nameB}`);
    });
  });
  return found;
}

describe('state charts (GET /api/machines)', () => {
  it('describes every kind of actor inspect() reports, the spool without a chart', () => {
    expect(machines.map((m) => m.kind)).toEqual([
      'registry',
      'metadata',
      'identity',
      'transaction',
      'broker',
      'topic',
      'partition',
      'spool',
    ]);
    expect(machines.find((m) => m.kind === 'spool')?.chart).toBeNull();
    expect(charted).toHaveLength(7);
  });

  it.each(charted.map(({ machine, chart }) => [machine.kind, chart] as const))(
    '%s: no two state boxes overlap, and no edge label covers a state or another label',
    (_kind, chart) => {
      const nodes = nodeBoxes(chart);
      const labels = labelBoxes(chart);
      expect(collisions(nodes, nodes), 'boxes that overlap').toEqual([]);
      expect(collisions(labels, nodes), 'labels over boxes').toEqual([]);
      expect(collisions(labels, labels), 'labels over labels').toEqual([]);
      // Everything lies inside the drawing.
      const frame = { x: 0, y: 0, width: chart.width, height: chart.height };
      for (const [name, box] of [...nodes, ...labels]) {
        expect(box.x >= frame.x && box.y >= frame.y, name).toBe(true);
        expect(box.x + box.width <= frame.width && box.y + box.height <= frame.height, name).toBe(true);
      }
      for (const edge of chart.edges)
        expect(edge.points.length, `${edge.from} -> ${edge.to}`).toBeGreaterThan(1);
    },
  );

  it.each(charted.map(({ machine, chart }) => [machine.kind, machine, chart] as const))(
    '%s: draws every transition, from the state it leaves',
    (_kind, machine, chart) => {
      for (const transition of machine.transitions) {
        const from = transition.from.split('.')[0] ?? '';
        const drawn = chart.edges.some(
          (edge) => edge.transitions.includes(transition.label) && edge.sources.includes(from),
        );
        expect(drawn, `${transition.from} -> ${transition.to}: ${transition.label}`).toBe(true);
      }
    },
  );

  it.each(machines.map((machine) => [machine.kind, machine] as const))(
    '%s: every state has a tone (its `meta.tone`; a compound state without one, its initial substate’s)',
    (_kind, machine) => {
      const untoned = machine.states.filter((state) => state.tone === null).map((state) => state.id);
      expect(untoned, `states of ${machine.id} without meta: { tone }`).toEqual([]);
    },
  );

  it('shows a compound state without a tone of its own in its initial substate’s', () => {
    const states = machines.find((m) => m.kind === 'transaction')?.states ?? [];
    const tone = (id: string) => states.find((state) => state.id === id)?.tone;
    expect(tone('inTransaction.open')).toBe('good');
    expect(tone('inTransaction')).toBe(tone('inTransaction.open'));
    expect(tone('inTransaction.abortable')).toBe('warn');
  });

  it('names each machine’s file', () => {
    for (const { machine } of charted) {
      expect(
        existsSync(new URL(`../../machines/${machine.file}.machine.ts`, import.meta.url)),
        machine.id,
      ).toBe(true);
    }
  });
});
