import type { ServerResponse } from 'node:http';
import type { ProducerEvents } from '../events.js';
import type { Producer } from '../producer.js';

/** A comment line every so often keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

/**
 * A client that does not read falls behind; past this many bytes queued for it, it is cut off
 * rather than letting its backlog grow without bound (the state events of a busy producer add
 * up). EventSource reconnects by itself and starts again from a fresh snapshot.
 */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * `GET /api/actors/stream`: Server-Sent Events. First `event: snapshot` with `inspect()`, then
 * `event: state` with `{ actor, from, to }` for each actor transition, and a comment line as a
 * heartbeat. Returns a function that ends the stream (the gateway's close() calls it).
 */
export function streamActors(
  producer: Producer,
  res: ServerResponse,
  heartbeatMs = HEARTBEAT_MS,
): () => void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    // nginx buffers responses by default, which would hold events back.
    'X-Accel-Buffering': 'no',
  });
  let ended = false;
  const send = (text: string): void => {
    if (ended) return;
    res.write(text);
    if (res.writableLength > MAX_BACKLOG_BYTES) end();
  };
  const onState: ProducerEvents['state'] = (event) => {
    send(`event: state\ndata: ${JSON.stringify(event)}\n\n`);
  };
  const heartbeat = setInterval(() => {
    send(`: heartbeat ${new Date().toISOString()}\n\n`);
  }, heartbeatMs);
  // The heartbeat alone must not keep a process alive that is otherwise done.
  heartbeat.unref();
  const end = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    producer.off('state', onState);
    res.end();
  };
  // The client went away. (Not `req`'s 'close': since Node 16 it fires as soon as the request
  // body is read, which for a GET is at once.)
  res.once('close', end);
  // Subscription and snapshot in one synchronous step: no transition falls between the two.
  producer.on('state', onState);
  send(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(producer.inspect())}\n\n`);
  return end;
}
