/**
 * The live data: `GET /api/actors/stream` (Server-Sent Events) sends a `snapshot` to start with,
 * then one `state` event per transition, each updating only the row of the actor that changed;
 * `GET /api/actors`, polled, brings the counters and new or removed actors. A poll started
 * before a state event does not undo it.
 */
import { actorList, ApiError, getJSON, isStateEvent, type ActorSnapshot } from './api.js';
import { addTransition } from './timeline.js';
import { createActor, removeActor, setState, updateCounters } from './actors-tree.js';
import { refresh } from './detail.js';
import { byId, setData, setText } from './dom.js';
import { markTotals } from './frame.js';
import { actors } from './model.js';

/** State events received so far. */
let seq = 0;
/** Actor name → `seq` of its last state event. */
const stateStamp = new Map<string, number>();

/** Applies a full list of actors; `started` is `seq` when it was taken. */
function reconcile(list: readonly ActorSnapshot[], started: number): void {
  const seen = new Set<string>();
  for (const data of list) {
    seen.add(data.name);
    const actor = actors.get(data.name) ?? createActor(data);
    actor.data = data;
    // A state event newer than this list wins over the list's state (and its details lag).
    const behind = (stateStamp.get(data.name) ?? 0) > started;
    actor.detailsBehind = behind;
    if (actor.state === null || !behind) setState(actor, data.state, false);
    updateCounters(actor);
  }
  for (const actor of [...actors.values()]) {
    if (seen.has(actor.name)) continue;
    stateStamp.delete(actor.name);
    removeActor(actor);
  }
  refresh();
  markTotals();
}

function onStateEvent(body: unknown): void {
  if (!isStateEvent(body)) return;
  addTransition({ at: Date.now(), ...body });
  seq += 1;
  stateStamp.set(body.actor, seq);
  const actor = actors.get(body.actor);
  if (actor === undefined) {
    void poll(); // a new actor: fetch its details
    return;
  }
  actor.detailsBehind = true;
  setState(actor, body.to, true);
}

let polling = false;
let pollAgain = false;

/** Fetches `GET /api/actors` (once at a time: a poll asked for meanwhile runs after). */
export async function poll(): Promise<void> {
  if (polling) {
    pollAgain = true;
    return;
  }
  polling = true;
  const started = seq;
  try {
    reconcile(actorList(await getJSON('/api/actors')), started);
    connection.api('up');
  } catch (error) {
    // A session that expired (or a token that changed) is not an outage: say what to do.
    connection.api(error instanceof ApiError && error.status === 401 ? 'signed-out' : 'down');
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      void poll();
    }
  }
}

/** The header's connection status: live (stream up), polling, or the gateway unreachable. */
const connection = (() => {
  let streamUp = false;
  let api: 'up' | 'down' | 'signed-out' = 'up';
  const TEXT = {
    down: 'gateway unreachable',
    'signed-out': 'signed out: open /?access_token=<token> again',
    live: 'live',
    polling: 'reconnecting… (polling)',
  } as const;
  const render = (): void => {
    const status = api !== 'up' ? api : streamUp ? 'live' : 'polling';
    setData(byId('conn'), 'status', status);
    setText(byId('conn-text'), TEXT[status]);
  };
  return {
    stream(up: boolean): void {
      streamUp = up;
      render();
    },
    api(state: 'up' | 'down' | 'signed-out'): void {
      api = state;
      render();
    },
  };
})();

export function openStream(): void {
  const source = new EventSource('/api/actors/stream');
  const data = (event: Event): unknown => JSON.parse((event as MessageEvent<string>).data) as unknown;
  source.addEventListener('open', () => {
    connection.stream(true);
  });
  source.addEventListener('snapshot', (event) => {
    connection.stream(true);
    reconcile(actorList(data(event)), seq);
  });
  source.addEventListener('state', (event) => {
    onStateEvent(data(event));
  });
  source.addEventListener('error', () => {
    connection.stream(false);
    // EventSource retries by itself unless the server refused the stream for good.
    if (source.readyState === EventSource.CLOSED) window.setTimeout(openStream, 3000);
  });
}
