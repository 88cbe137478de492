/**
 * The live visualizer: one page (`GET /`) that shows every actor of the producer, its state
 * and counters, updated live from the gateway's API, and draws the machine of the selected
 * actor. Served through the gateway's `extraRoutes` hook:
 *
 *   startGateway({ producer, port, extraRoutes: visualizerRoutes() })
 *
 * Routes:
 * - `GET /`: the page.
 * - `GET /assets/app.js`, `GET /assets/app.css`: its script and style sheet, bundled from the
 *   browser modules under ./visualizer/browser/ (see ./visualizer/assets.ts); nothing is loaded
 *   from a CDN.
 * - `GET /api/machines`: for each kind of actor, its machine's states (with their tones),
 *   transitions and state chart, laid out here (./visualizer/layout.ts): the page only draws.
 *
 * The page reads the gateway's own routes: `GET /api/actors` (polled for counters),
 * `GET /api/actors/stream` (Server-Sent Events: state changes as they happen), `GET /api/series`
 * (the charts and the health, every second), `GET /api/transitions` (the timeline, once) and
 * `PUT /api/topics/:topic/config` (the per-topic settings form).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brokerConnectionMachine } from '../../machines/broker-connection.machine.js';
import { machineGraph, type GraphState, type MachineGraph, type MachineView } from '../../machines/graph.js';
import { metadataMachine } from '../../machines/metadata.machine.js';
import { partitionWorkerMachine } from '../../machines/partition-worker.machine.js';
import { producerIdentityMachine } from '../../machines/producer-identity.machine.js';
import { registryMachine } from '../../machines/registry.machine.js';
import { topicMachine } from '../../machines/topic.machine.js';
import type { ActorSnapshot } from '../runtime/runtime.js';
import { transactionMachine } from '../../machines/transaction.machine.js';
import { loadAssets, type VisualizerAssets } from './visualizer/assets.js';
import { layoutChart, type Chart } from './visualizer/layout.js';

/** The gateway's `extraRoutes` hook: true when the request was answered. */
export type ExtraRoutes = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

/** One kind of actor, as `GET /api/machines` serves it. */
export interface VisualizedMachine extends MachineGraph {
  /** The kind of actor, as in `inspect()`. */
  kind: ActorSnapshot['kind'];
  /** What the page calls it: `Broker connection`. */
  title: string;
  /** Its machine's file, machines/<file>.machine.ts; null for what is not a machine (the spool). */
  file: string | null;
  /** Its state chart, laid out; null for what is not a machine. */
  chart: Chart | null;
}

/** The machine each kind of actor runs: a new kind of actor does not compile until it is here. */
const MACHINES: Readonly<Record<Exclude<ActorSnapshot['kind'], 'spool'>, MachineView>> = {
  registry: registryMachine,
  metadata: metadataMachine,
  identity: producerIdentityMachine,
  transaction: transactionMachine,
  broker: brokerConnectionMachine,
  topic: topicMachine,
  partition: partitionWorkerMachine,
};

/**
 * The spool is files the runtime drives, not an actor, and has no machine: its states (as
 * `inspect()` names them) and their tones only.
 */
const SPOOL_STATES: readonly (Pick<GraphState, 'key'> & { tone: GraphState['tone'] })[] = [
  { key: 'idle', tone: 'good' },
  { key: 'holding', tone: 'good' },
  { key: 'replaying', tone: 'warn' },
];

/** `broker-connection` → `Broker connection`. */
function titleOf(id: string): string {
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * `graph` with a tone for every state: a compound state whose definition gives none is shown in
 * the tone of the substate it starts in (the transaction's `inTransaction`, as `open`: good).
 */
function withTones(graph: MachineGraph): MachineGraph {
  const states = graph.states.map((state): GraphState => {
    if (state.tone !== null) return state;
    const initial = graph.states.find((child) => child.parent === state.id && child.initial);
    return { ...state, tone: initial?.tone ?? null };
  });
  return { ...graph, states };
}

/** Every kind of actor with its machine, its chart laid out (what `GET /api/machines` answers). */
export function visualizedMachines(): VisualizedMachine[] {
  const machines = Object.entries(MACHINES).map(([kind, machine]): VisualizedMachine => {
    const graph = withTones(machineGraph(machine));
    // Each machine's id is its file's name.
    return {
      kind: kind as VisualizedMachine['kind'],
      title: titleOf(machine.id),
      file: machine.id,
      chart: layoutChart(graph),
      ...graph,
    };
  });
  const spool: VisualizedMachine = {
    kind: 'spool',
    id: 'spool',
    title: 'Durable spool (files, not an actor)',
    file: null,
    chart: null,
    states: SPOOL_STATES.map(({ key, tone }) => ({
      id: key,
      key,
      parent: null,
      type: 'atomic',
      initial: key === 'idle',
      tone,
    })),
    transitions: [],
  };
  return [...machines, spool];
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
  // Read (or, from source, bundled) on first use, once; a failure is tried again next time.
  let served: Promise<Map<string, Asset>> | null = null;
  const assets = (): Promise<Map<string, Asset>> => {
    served ??= loadAssets().then(pages, (error: unknown) => {
      served = null;
      throw error;
    });
    return served;
  };
  let machines: Asset | null = null;

  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = url.pathname;
    if (path === '/api/machines') {
      machines ??= asset(`${JSON.stringify(visualizedMachines())}\n`, 'application/json; charset=utf-8');
      send(req, res, machines, {});
      return true;
    }
    if (path !== '/' && path !== '/index.html' && !path.startsWith('/assets/')) return false;
    const found = (await assets()).get(path === '/index.html' ? '/' : path);
    if (found === undefined) return false;
    send(
      req,
      res,
      found,
      path.startsWith('/assets/') ? {} : { 'Content-Security-Policy': CONTENT_SECURITY_POLICY },
    );
    return true;
  };
}

function pages(assets: VisualizerAssets): Map<string, Asset> {
  return new Map([
    ['/', asset(assets.html, 'text/html; charset=utf-8')],
    ['/assets/app.js', asset(assets.js, 'text/javascript; charset=utf-8')],
    ['/assets/app.css', asset(assets.css, 'text/css; charset=utf-8')],
  ]);
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
