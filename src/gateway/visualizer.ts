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
 * - `GET /api/machines`: every machine's states and transitions, read from the machine
 *   definitions (machines/graph.ts), for drawing.
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
import { PAGE_HTML } from './visualizer/page.js';
import { APP_JS } from './visualizer/script.js';
import { APP_CSS } from './visualizer/style.js';

/** The gateway's `extraRoutes` hook: true when the request was answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** The kinds of actors `producer.inspect()` reports. */
export type VisualizedKind = 'registry' | 'metadata' | 'broker' | 'topic' | 'partition';

/** One machine, as `GET /api/machines` serves it. */
export interface VisualizedMachine extends MachineGraph {
  /** The kind of actor that runs it, as in `inspect()`. */
  kind: VisualizedKind;
  /** Its file, machines/<file>.machine.ts. */
  file: string;
}

/** The machine of each kind of actor, in the order of the actor tree. */
const MACHINES: readonly { kind: VisualizedKind; file: string; machine: MachineView }[] = [
  { kind: 'registry', file: 'registry', machine: registryMachine },
  { kind: 'metadata', file: 'metadata', machine: metadataMachine },
  { kind: 'broker', file: 'broker-connection', machine: brokerConnectionMachine },
  { kind: 'topic', file: 'topic', machine: topicMachine },
  { kind: 'partition', file: 'partition-worker', machine: partitionWorkerMachine },
];

/** Every machine's states and transitions (what `GET /api/machines` answers). */
export function visualizedMachines(): VisualizedMachine[] {
  return MACHINES.map(({ kind, file, machine }) => ({ kind, file, ...machineGraph(machine) }));
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
