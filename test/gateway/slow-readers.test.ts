// Issue 17's finding 2: clients that never read their answer pinned it in memory for good (80
// connections each POSTing 65 000 records to /sync and never reading the 5.4 MB answer: RSS 196
// MB → 1.86 GB), and nothing capped connections. Now a client that takes none of its answer for
// responseTimeoutMs is disconnected (one that reads is not), and maxConnections caps the rest.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startStack, waitFor, type Stack } from './helpers.js';

/** Records enough that their answer overflows the kernel's socket buffers on loopback. */
const RECORDS = 300_000;
const body = '{"value":"x"}\n'.repeat(RECORDS);

function connections(stack: Stack): Promise<number> {
  return new Promise((resolve, reject) => {
    stack.gateway.server.getConnections((error, count) => {
      if (error) reject(error);
      else resolve(count);
    });
  });
}

describe('clients that do not read', () => {
  let stack: Stack;
  // The reader below runs in this process, beside the gateway: making the other answers stalls
  // it for a few hundred ms, which must not count as not reading.
  beforeAll(async () => {
    stack = await startStack({
      topics: [{ name: 'unread', partitions: 3 }],
      producer: { maxBufferedRecords: 1_000_000 },
      gateway: { maxBodyBytes: 16 * 1024 * 1024, responseTimeoutMs: 2000, maxConnections: 4 },
    });
  }, 30_000);
  afterAll(async () => {
    await stack.stop();
  });

  it('are disconnected when they take none of their answer for responseTimeoutMs; readers get it whole', async () => {
    const { port } = stack.gateway;
    const request =
      `POST /batch/sync/unread HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Content-Type: application/x-ndjson\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    // The server's side of each connection, in the order they come.
    const serverSides: Socket[] = [];
    const onConnection = (socket: Socket): void => {
      serverSides.push(socket);
    };
    stack.gateway.server.on('connection', onConnection);
    const clients: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = connect(port, '127.0.0.1');
      // Reads the first bytes, then never again.
      socket.on('data', () => {
        socket.pause();
      });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(request);
      clients.push(socket);
    }
    await waitFor(() => serverSides.length === 2);
    let dropped = 0;
    for (const socket of serverSides) {
      socket.once('close', () => {
        dropped++;
      });
    }
    // A client that reads gets the whole answer, though writing it takes longer than the timeout.
    const reader = await call(stack.gateway.url, '/batch/sync/unread', {
      body,
      type: 'application/x-ndjson',
    });
    expect(reader.status).toBe(200);
    expect((reader.body as { reports: unknown[] }).reports).toHaveLength(RECORDS);
    // More than the kernel holds for a client that does not read (loopback: at most 4 MiB sent
    // ahead, a 128 KiB receive window): the rest waits in the gateway's memory.
    expect(Buffer.byteLength(reader.text)).toBeGreaterThan(8 * 1024 * 1024);
    // The two that do not read are cut off: their sockets close on the server's side.
    await waitFor(() => dropped === 2, 20_000);
    stack.gateway.server.off('connection', onConnection);
    for (const socket of clients) socket.destroy();
  }, 60_000);

  it('past maxConnections, a new connection is closed at once', async () => {
    const { port } = stack.gateway;
    const held: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      held.push(socket);
    }
    await waitFor(async () => (await connections(stack)) === 4);
    const extra = connect(port, '127.0.0.1');
    await new Promise((resolve) => extra.once('close', resolve));
    for (const socket of held) socket.destroy();
    await waitFor(async () => (await connections(stack)) === 0);
    expect((await call(stack.gateway.url, '/healthz')).status).toBe(200);
  });
});
