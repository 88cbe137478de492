/**
 * The visualizer's page script (bundled into `GET /assets/app.js`, see ../assets.ts): fills
 * the skeleton of index.html from the gateway's API.
 *
 * - `GET /api/machines` once: each kind of actor's states, their tones and its state chart.
 * - `GET /api/actors/stream` and `GET /api/actors` every second: the actors (./live.ts).
 * - `GET /api/series` every second: the charts and the header's health (./charts.ts);
 *   `GET /api/transitions` once, then the stream: the timeline (./timeline.ts).
 * - Topic summaries, the filter's count and the totals are recomputed once per frame, for what
 *   changed (./frame.ts).
 */
import { getJSON, type VisualizedMachine } from './api.js';
import { pollSeries } from './charts.js';
import { loadTimeline } from './timeline.js';
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

// A click anywhere on an actor's row or card selects it, but not one meant for a control in it
// (the topic's toggle, a settings field) or a selection of its text.
byId('tree').addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (target === null || target.closest('input, select, textarea, label, form, button:not(.name)') !== null)
    return;
  if (window.getSelection()?.isCollapsed === false) return;
  const row = target.closest<HTMLElement>('[data-actor]');
  if (row?.dataset.actor !== undefined) select(row.dataset.actor);
});
byId('timeline').addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-select]') : null;
  if (button?.dataset.select !== undefined) select(button.dataset.select);
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

/** The charts' next samples (every second, like the counters). */
async function pollCharts(): Promise<void> {
  try {
    await pollSeries();
  } catch {
    // The connection status says why (live.ts): the next second tries again.
  }
}

void loadMachines();
void poll();
void pollCharts();
void loadTimeline().catch(() => undefined);
openStream();
window.setInterval(() => {
  if (document.hidden) return;
  void poll();
  void pollCharts();
}, POLL_MS);
