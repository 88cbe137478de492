/**
 * The live charts: the last minutes of each topic and broker, second by second, from
 * `GET /api/series` (the whole history once, then what is new every second), drawn as plain SVG:
 * records/s as an area, the acknowledgement latency p99 as a line on its own scale, and the
 * last second's numbers beside. Also the header's health (ok / degraded / down, and why).
 */
import { getJSON, type SeriesSample } from './api.js';
import { byId, h, s, setData, setText } from './dom.js';

/** What the page keeps: the server's 5 minutes. */
const KEEP = 300;
/** Samples across the chart at least (a minute), so that a page just opened is not a sliver. */
const MIN_SPAN = 60;
const WIDTH = 240;
const HEIGHT = 36;

const samples: SeriesSample[] = [];
let intervalMs = 1000;

/** A chart on the page, redrawn with each new sample: `series` picks its numbers from a sample. */
interface Chart {
  node: HTMLElement;
  series: (
    sample: SeriesSample,
  ) => { records: number; bytes: number; p50: number | null; p99: number | null } | undefined;
  area: SVGPathElement;
  line: SVGPathElement;
  numbers: HTMLElement;
  /** Only topics: buffered, retries and errors of the last second. */
  extra: HTMLElement | null;
}

const charts = new Map<string, Chart>();

/** The chart of topic `name` (made once; the topic's header holds it). */
export function topicChart(name: string): HTMLElement {
  return chart(`topic:${name}`, (sample) => sample.topics[name], true);
}

/** The chart of broker `id`'s acknowledgements (its card holds it). */
export function brokerChart(id: number): HTMLElement {
  return chart(`broker:${id}`, (sample) => sample.brokers[String(id)], false);
}

function chart(key: string, series: Chart['series'], withExtra: boolean): HTMLElement {
  const existing = charts.get(key);
  if (existing !== undefined) return existing.node;
  const area = s('path', { class: 'rate' });
  const line = s('path', { class: 'latency' });
  const svg = s(
    'svg',
    { class: 'spark', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' },
    area,
    line,
  );
  const numbers = h('span', { class: 'spark-numbers' });
  const extra = withExtra ? h('span', { class: 'spark-extra' }) : null;
  const node = h(
    'div',
    {
      class: 'spark-box',
      'data-chart': key,
      title: 'Up to the last 5 minutes: records/s (area), acknowledgement latency p99 (line)',
    },
    svg,
    h('span', { class: 'spark-text' }, numbers, extra),
  );
  const made: Chart = { node, series, area, line, numbers, extra };
  charts.set(key, made);
  draw(made);
  return node;
}

/** Fetches the samples after the last one, and redraws. */
export async function pollSeries(): Promise<void> {
  const since = samples.at(-1)?.t ?? 0;
  const body = (await getJSON(`/api/series?since=${since}`)) as {
    intervalMs: number;
    samples: SeriesSample[];
  };
  intervalMs = body.intervalMs;
  samples.push(...body.samples);
  if (samples.length > KEEP) samples.splice(0, samples.length - KEEP);
  for (const each of charts.values()) draw(each);
  paintHealth();
}

function draw(chart: Chart): void {
  const last = samples.at(-1);
  const points = samples.map((sample) => chart.series(sample));
  const rates = points.map((p) => (p?.records ?? 0) / (intervalMs / 1000));
  const latencies = points.map((p) => p?.p99 ?? null);
  const maxRate = Math.max(1, ...rates);
  const maxLatency = Math.max(1, ...latencies.map((l) => l ?? 0));
  // A page just opened shows its first minute across the chart, then up to 5 minutes.
  const span = Math.min(KEEP, Math.max(MIN_SPAN, samples.length));
  const x = (i: number): number => WIDTH - (samples.length - 1 - i) * (WIDTH / (span - 1));
  const y = (value: number, max: number): number => HEIGHT - 1 - (value / max) * (HEIGHT - 2);
  let area = '';
  rates.forEach((rate, i) => {
    area += `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(rate, maxRate).toFixed(1)}`;
  });
  if (rates.length > 0) area += `L${x(rates.length - 1).toFixed(1)},${HEIGHT}L${x(0).toFixed(1)},${HEIGHT}Z`;
  chart.area.setAttribute('d', area);
  let line = '';
  let pen = 'M';
  latencies.forEach((latency, i) => {
    if (latency === null) {
      pen = 'M'; // a second without acknowledgements: a gap, not a drop to zero
      return;
    }
    line += `${pen}${x(i).toFixed(1)},${y(latency, maxLatency).toFixed(1)}`;
    pen = 'L';
  });
  chart.line.setAttribute('d', line);
  const now = last === undefined ? undefined : chart.series(last);
  const perSecond = (n: number): string => Math.round(n / (intervalMs / 1000)).toLocaleString('en-US');
  setText(
    chart.numbers,
    now === undefined
      ? 'idle'
      : `${perSecond(now.records)} rec/s · ${bytesPerSecond(now.bytes / (intervalMs / 1000))} · p50 ${ms(now.p50)} · p99 ${ms(now.p99)}`,
  );
  if (chart.extra !== null) {
    const topic = last?.topics[chart.node.dataset.chart?.slice('topic:'.length) ?? ''];
    setText(
      chart.extra,
      topic === undefined
        ? ''
        : `buffered ${topic.buffered.toLocaleString('en-US')} · retries ${topic.retries} · errors ${topic.errors}`,
    );
    setData(
      chart.node,
      'alarm',
      topic !== undefined && (topic.errors > 0 || topic.retries > 0) ? 'true' : 'false',
    );
  }
}

/** The header's health: its state as the pill's colour, its first reason as its text. */
function paintHealth(): void {
  const last = samples.at(-1);
  if (last === undefined) return;
  const pill = byId('health');
  setData(pill, 'state', last.health.state);
  setText(byId('health-text'), last.health.state);
  const why = last.health.reasons.join(' · ');
  setText(byId('health-why'), why);
  pill.title = why === '' ? 'All brokers and partitions ready' : why;
}

function ms(value: number | null): string {
  if (value === null) return '—';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

function bytesPerSecond(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B/s`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB/s`;
  return `${(bytes / 1048576).toFixed(1)} MiB/s`;
}
