/**
 * The visualizer's page script (bundled into `GET /assets/app.js`, see ../assets.ts): fills
 * the skeleton of index.html from the gateway's API.
 *
 * - `GET /api/machines` once: each kind of actor's states, their tones and its state chart.
 * - `GET /api/actors/stream` and `GET /api/actors` every second: the actors (./live.ts).
 * - Topic summaries, the filter's count and the totals are recomputed once per frame, for what
 *   changed (./frame.ts).
 */
import { getJSON, type VisualizedMachine } from './api.js';
import { repaint } from './actors-tree.js';
import { setMachines } from './catalog.js';
import { refresh, select } from './detail.js';
import { byId } from './dom.js';
import { setFilter } from './filter.js';
import { onFrame } from './frame.js';
import { openStream, poll } from './live.js';
import { SETTINGS_APPLIED } from './topic-settings.js';
import { flushTopic } from './topics.js';
import { flushTotals } from './totals.js';

const POLL_MS = 1000;
const MACHINES_RETRY_MS = 3000;

onFrame({ topic: flushTopic, totals: flushTotals });

byId('tree').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.name') : null;
  const row = button?.closest<HTMLElement>('[data-actor]');
  if (row?.dataset.actor !== undefined) select(row.dataset.actor);
});

const filter = byId('filter') as HTMLInputElement;
let filterTimer: number | undefined;
filter.addEventListener('input', () => {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => {
    setFilter(filter.value);
  }, 80);
});

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void poll();
});
// A topic's settings were changed: show them (and their effect) at once.
document.addEventListener(SETTINGS_APPLIED, () => {
  void poll();
});

async function loadMachines(): Promise<void> {
  try {
    const list = await getJSON('/api/machines');
    setMachines(Array.isArray(list) ? (list as VisualizedMachine[]) : []);
    repaint();
    refresh();
  } catch {
    window.setTimeout(() => void loadMachines(), MACHINES_RETRY_MS);
  }
}

void loadMachines();
void poll();
openStream();
window.setInterval(() => {
  if (!document.hidden) void poll();
}, POLL_MS);
