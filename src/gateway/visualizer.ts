/**
 * The live visualizer: one page (`GET /`) that shows every actor of the producer, its state
 * and counters, updated live from the gateway's API, and draws the machine of the selected
 * actor. Served through the gateway's `extraRoutes` hook:
 *
 *   startGateway({ producer, port, extraRoutes: visualizerRoutes() })
 *
 * Routes:
 * - `GET /`: the page.
 * - `GET /assets/app.js`, `GET /assets/app.css`: its script and style sheet (hand-written,
 *   kept as TypeScript string modules under ./visualizer/ so that `tsc` builds them into
 *   dist/ with no copy step; nothing is loaded from a CDN).
 * - `GET /api/machines`: for each kind of actor, its machine's states (with their tones),
 *   transitions and state chart, laid out here (./visualizer/layout.ts): the page only draws.
 *
 * The page reads the gateway's own routes: `GET /api/actors` (polled for counters),
 * `GET /api/actors/stream` (Server-Sent Events: state changes as they happen) and
 * `PUT /api/topics/:topic/config` (the per-topic settings form).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brokerConnectionMachine } from '../../machines/broker-connection.machine.js';
import { machineGraph, type MachineGraph, type MachineView } from '../../machines/graph.js';
import { metadataMachine } from '../../machines/metadata.machine.js';
import { partitionWorkerMachine } from '../../machines/partition-worker.machine.js';
import { registryMachine } from '../../machines/registry.machine.js';
import { topicMachine } from '../../machines/topic.machine.js';
import type { ActorSnapshot } from '../runtime/runtime.js';
import { layoutChart, type Chart } from './visualizer/layout.js';
import { PAGE_HTML } from './visualizer/page.js';
import { APP_JS } from './visualizer/script.js';
import { APP_CSS } from './visualizer/style.js';

/** The gateway's `extraRoutes` hook: true when the request was answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** One kind of actor, as `GET /api/machines` serves it. */
export interface VisualizedMachine extends MachineGraph {
  /** The kind of actor, as in `inspect()` (the spool is files, not an actor: it has no machine). */
  kind: Exclude<ActorSnapshot['kind'], 'spool'>;
  /** What the page calls it: `Broker connection`. */
  title: string;
  /** Its machine's file, machines/<file>.machine.ts. */
  file: string;
  /** Its state chart, laid out. */
  chart: Chart;
}

/** The machine each kind of actor runs: a new kind of actor does not compile until it is here. */
const MACHINES: Readonly<Record<VisualizedMachine['kind'], MachineView>> = {
  registry: registryMachine,
  metadata: metadataMachine,
  broker: brokerConnectionMachine,
  topic: topicMachine,
  partition: partitionWorkerMachine,
};

/** `broker-connection` → `Broker connection`. */
function titleOf(id: string): string {
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Every kind of actor's machine, its chart laid out (what `GET /api/machines` answers). */
export function visualizedMachines(): VisualizedMachine[] {
  return Object.entries(MACHINES).map(([kind, machine]): VisualizedMachine => {
    const graph = machineGraph(machine);
    // Each machine's id is its file's name.
    return {
      kind: kind as VisualizedMachine['kind'],
      title: titleOf(machine.id),
      file: machine.id,
      chart: layoutChart(graph),
      ...graph,
    };
  });
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(text: string, type: string): Asset {
  const body = Buffer.from(text, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body, type, etag };
}

/** Nothing but this origin: no CDN, no inline script or style. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The routes of the visualizer, for `startGateway({ extraRoutes })`. */
export function visualizerRoutes(): ExtraRoutes {
  const page = asset(PAGE_HTML, 'text/html; charset=utf-8');
  const assets = new Map<string, Asset>([
    ['/assets/app.js', asset(APP_JS, 'text/javascript; charset=utf-8')],
    ['/assets/app.css', asset(APP_CSS, 'text/css; charset=utf-8')],
  ]);
  let machines: Asset | null = null;

  return (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      send(req, res, page, { 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
      return true;
    }
    if (path === '/api/machines') {
      machines ??= asset(`${JSON.stringify(visualizedMachines())}\n`, 'application/json; charset=utf-8');
      send(req, res, machines, {});
      return true;
    }
    const found = assets.get(path);
    if (found !== undefined) {
      send(req, res, found, {});
      return true;
    }
    return false;
  };
}

/** Answers with `asset`, or 304 when the browser's copy is current (revalidated every time). */
function send(
  req: IncomingMessage,
  res: ServerResponse,
  found: Asset,
  headers: Record<string, string>,
): void {
  const common = {
    ETag: found.etag,
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  };
  if (req.headers['if-none-match'] === found.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, 'Content-Type': found.type, 'Content-Length': found.body.length });
  res.end(req.method === 'HEAD' ? undefined : found.body);
}
