import net from 'node:net';
import { readRequestHeader, type RequestHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/reader.js';

/**
 * A scripted TCP peer for connection tests: it parses request frames and lets the test answer
 * with arbitrary bytes (well-formed, truncated, oversized, split, or nothing at all). The real
 * Kafka peer is librdkafka's mock cluster (test/broker); this exists to produce the malformed
 * traffic a real broker never sends.
 */
export interface FakeBroker {
  port: number;
  /** Requests received so far, in order. */
  requests: { header: RequestHeader; socket: net.Socket }[];
  /** Resolves when `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeBroker(
  onRequest: (header: RequestHeader, socket: net.Socket) => void = () => undefined,
): Promise<FakeBroker> {
  const requests: FakeBroker['requests'] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const reader = new Reader(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        // Header v1 and v2 share their first fields; v2's tagged fields are not needed here.
        const header = readRequestHeader(reader, 1);
        requests.push({ header, socket });
        onRequest(header, socket);
        for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    requests,
    waitForRequests: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A response frame: size, correlation id (header v0), body. */
export function responseFrame(correlationId: number, body: Buffer): Buffer {
  const frame = Buffer.alloc(8 + body.length);
  frame.writeInt32BE(4 + body.length, 0);
  frame.writeInt32BE(correlationId, 4);
  body.copy(frame, 8);
  return frame;
}

/** An ApiVersions v0 response body advertising the given ranges. */
export function apiVersionsV0Body(
  errorCode: number,
  ranges: [key: number, min: number, max: number][],
): Buffer {
  const body = Buffer.alloc(6 + ranges.length * 6);
  body.writeInt16BE(errorCode, 0);
  body.writeInt32BE(ranges.length, 2);
  ranges.forEach(([key, min, max], i) => {
    body.writeInt16BE(key, 6 + i * 6);
    body.writeInt16BE(min, 8 + i * 6);
    body.writeInt16BE(max, 10 + i * 6);
  });
  return body;
}
