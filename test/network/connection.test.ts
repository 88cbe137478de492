import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionError,
  DecodeError,
  EkafError,
  EncodeError,
  NotKafkaError,
  RequestTimeoutError,
  ResponseTooLargeError,
} from '../../src/errors.js';
import { Connection } from '../../src/network/connection.js';
import { negotiateVersions } from '../../src/network/handshake.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { Produce, type ProduceRequest } from '../../src/protocol/apis/produce.js';
import type { RequestHeader } from '../../src/protocol/headers.js';
import { Writer } from '../../src/protocol/writer.js';
import {
  apiVersionsV0Body,
  responseFrame,
  startFakeBroker,
  type FakeBroker,
} from '../support/fake-broker.js';

const REQUEST = { clientSoftwareName: 'ekaf', clientSoftwareVersion: '0' };
const OK_BODY = apiVersionsV0Body(0, [
  [0, 3, 9],
  [3, 1, 12],
  [18, 0, 3],
]);

let broker: FakeBroker | undefined;
let connection: Connection | undefined;

afterEach(async () => {
  connection?.close();
  await broker?.close();
  broker = undefined;
  connection = undefined;
});

async function connectTo(
  onRequest: (header: RequestHeader, socket: net.Socket) => void,
  options: Partial<ConstructorParameters<typeof Connection>[0]> = {},
): Promise<Connection> {
  broker = await startFakeBroker(onRequest);
  connection = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test', ...options });
  await connection.connect();
  return connection;
}

describe('Connection framing', () => {
  it('reassembles a response delivered one byte at a time', async () => {
    const conn = await connectTo((header, socket) => {
      const frame = responseFrame(header.correlationId, OK_BODY);
      for (let i = 0; i < frame.length; i++) socket.write(frame.subarray(i, i + 1));
    });
    const response = await conn.send(ApiVersions, 0, REQUEST);
    expect(response.apiKeys).toHaveLength(3);
  });

  it('splits coalesced responses to pipelined requests, in order', async () => {
    const held: Buffer[] = [];
    const conn = await connectTo((header, socket) => {
      held.push(responseFrame(header.correlationId, apiVersionsV0Body(0, [[18, 0, header.correlationId]])));
      if (held.length === 3) socket.write(Buffer.concat(held)); // three frames in one write
    });
    const responses = await Promise.all([1, 2, 3].map(() => conn.send(ApiVersions, 0, REQUEST)));
    expect(responses.map((r) => r.apiKeys[0]?.maxVersion)).toEqual([1, 2, 3]);
    expect(conn.inFlight).toBe(0);
  });

  it('resolves acks=0 style requests without waiting for a response', async () => {
    const conn = await connectTo(() => undefined);
    await expect(conn.sendWithoutResponse(ApiVersions, 0, REQUEST)).resolves.toBeUndefined();
    expect(conn.inFlight).toBe(0);
    await broker?.waitForRequests(1);
  });

  it('drops an answer to an acks=0 request (librdkafka mock sends one) and stays in sync', async () => {
    const conn = await connectTo((header, socket) => {
      socket.write(responseFrame(header.correlationId, OK_BODY));
    });
    await conn.sendWithoutResponse(ApiVersions, 0, REQUEST);
    const response = await conn.send(ApiVersions, 0, REQUEST);
    expect(response.apiKeys).toHaveLength(3);
    expect(conn.isOpen).toBe(true);
  });
  it('reassembles a large response arriving in many small chunks', async () => {
    // 4 MiB of ranges: ApiVersions v0 with 699 050 entries, written 1 KiB at a time.
    const ranges: [number, number, number][] = Array.from({ length: 699_050 }, (_, i) => [i % 100, 0, 1]);
    const body = apiVersionsV0Body(0, ranges);
    const conn = await connectTo((header, socket) => {
      const frame = responseFrame(header.correlationId, body);
      for (let i = 0; i < frame.length; i += 1024) socket.write(frame.subarray(i, i + 1024));
    });
    const response = await conn.send(ApiVersions, 0, REQUEST);
    expect(response.apiKeys.length).toBe(699_050);
  });

  it('counts acks=0 writes as in flight until they are flushed', async () => {
    const conn = await connectTo(() => undefined, { maxInFlightRequests: 1 });
    const write = conn.sendWithoutResponse(ApiVersions, 0, REQUEST);
    expect(conn.inFlight).toBe(1);
    await expect(conn.send(ApiVersions, 0, REQUEST)).rejects.toMatchObject({
      code: 'ERR_TOO_MANY_IN_FLIGHT',
    });
    await write;
    expect(conn.inFlight).toBe(0);
  });
});

describe('Connection failures', () => {
  it('a truncated frame fails the request with a DecodeError and closes the connection', async () => {
    const conn = await connectTo((header, socket) => {
      // The frame is complete per its size, but the body stops in the middle of the api key array.
      socket.write(responseFrame(header.correlationId, OK_BODY.subarray(0, 9)));
    });
    const closed = new Promise((resolve) => conn.once('close', resolve));
    const error = await conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).message).toMatch(/frame truncated/);
    expect(await closed).toBeInstanceOf(ConnectionError);
    expect(conn.isOpen).toBe(false);
  });

  it('a response larger than maxResponseBytes closes the connection before reading it', async () => {
    const conn = await connectTo(
      (_header, socket) => {
        const size = Buffer.alloc(4);
        size.writeInt32BE(1_000_000, 0);
        socket.write(size); // the announced body never needs to arrive
      },
      { maxResponseBytes: 1024 },
    );
    const error = await conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseTooLargeError);
    expect((error as EkafError).message).toContain('1000000 bytes exceeds the limit of 1024');
  });

  it.each([
    ['the default maxResponseBytes', {}],
    ['a maxResponseBytes above what "HTTP" reads as', { maxResponseBytes: 2 ** 31 - 1 }],
  ])(
    'a web server (node:http) answering the first request is named as not Kafka, with %s',
    async (_name, options) => {
      // What a broker address pointing at kafboy or any web server meets: Node's HTTP parser
      // refuses the Kafka request and answers "HTTP/1.1 400 Bad Request" before closing.
      const server = http.createServer((_request, response) => {
        response.end('not kafka');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        connection = new Connection({ host: '127.0.0.1', port, clientId: 'test', ...options });
        await connection.connect();
        const closed = new Promise((resolve) => connection?.once('close', resolve));
        const error = await connection.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NotKafkaError);
        expect(error).toBeInstanceOf(ConnectionError);
        expect(error).toMatchObject({
          code: 'ERR_CONNECTION',
          protocol: 'HTTP',
          broker: `127.0.0.1:${port}`,
        });
        expect((error as Error).message).toBe(
          `127.0.0.1:${port}: the peer answered with HTTP: it is not a Kafka broker ` +
            '(do the brokers point at kafboy or a web server?)',
        );
        expect((error as Error).message).not.toMatch(/exceeds the limit/);
        expect(await closed).toBe(error);
        expect(connection.isOpen).toBe(false);
      } finally {
        connection?.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it('a socket closed mid-response rejects every pending request with a connection error', async () => {
    const conn = await connectTo((header, socket) => {
      if (header.correlationId === 2) {
        socket.end(responseFrame(header.correlationId, OK_BODY).subarray(0, 10));
      }
    });
    const results = await Promise.allSettled([
      conn.send(ApiVersions, 0, REQUEST),
      conn.send(ApiVersions, 0, REQUEST),
    ]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as EkafError;
      expect(reason).toBeInstanceOf(ConnectionError);
      expect(reason.code).toBe('ERR_CONNECTION_CLOSED');
      expect(reason.retriable).toBe(true);
    }
    await expect(conn.send(ApiVersions, 0, REQUEST)).rejects.toBeInstanceOf(ConnectionError);
  });

  it('a request with no answer times out and closes the connection', async () => {
    const conn = await connectTo(() => undefined, { requestTimeoutMs: 50 });
    const error = await conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(conn.isOpen).toBe(false);
  });

  it('a response with the wrong correlation id is a protocol error', async () => {
    const conn = await connectTo((header, socket) => {
      socket.write(responseFrame(header.correlationId + 100, OK_BODY));
    });
    const error = await conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as Error).message).toMatch(/correlation id/);
  });

  it('refuses more than maxInFlightRequests instead of queueing', async () => {
    const conn = await connectTo(() => undefined, { maxInFlightRequests: 2 });
    const first = conn.send(ApiVersions, 0, REQUEST).catch(() => undefined);
    const second = conn.send(ApiVersions, 0, REQUEST).catch(() => undefined);
    expect(conn.hasCapacity).toBe(false);
    await expect(conn.send(ApiVersions, 0, REQUEST)).rejects.toMatchObject({
      code: 'ERR_TOO_MANY_IN_FLIGHT',
    });
    conn.close();
    await Promise.all([first, second]);
  });

  it('a refused connection is a typed connection error', async () => {
    broker = await startFakeBroker();
    const port = broker.port;
    await broker.close();
    broker = undefined;
    const conn = new Connection({ host: '127.0.0.1', port, clientId: 'test' });
    await expect(conn.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION', retriable: true });
  });
  it('rejects (never throws) when a request cannot be encoded', async () => {
    const conn = await connectTo(() => undefined);
    const result = conn.send(ApiVersions, 3, {
      clientSoftwareName: 'x'.repeat(40_000),
      clientSoftwareVersion: '1',
    });
    await expect(result).rejects.toMatchObject({ code: 'ERR_ENCODE' });
    expect(conn.isOpen).toBe(true);
  });

  it('rejects (never throws) a request with a number out of its field range: ERR_ENCODE, nothing sent', async () => {
    const conn = await connectTo((header, socket) => {
      socket.write(responseFrame(header.correlationId, OK_BODY));
    });
    // Produce's timeout is an int32: Buffer's writeInt32BE throws a RangeError for 3e9, which
    // prepare() used to rethrow out of send(), and from there out of the sender's drain.
    const request: ProduceRequest = { transactionalId: null, acks: -1, timeoutMs: 3_000_000_000, topics: [] };
    let sent: Promise<unknown> | undefined;
    let sentWithoutResponse: Promise<unknown> | undefined;
    expect(() => {
      sent = conn.send(Produce, 3, request);
      sentWithoutResponse = conn.sendWithoutResponse(Produce, 3, { ...request, acks: 0 });
    }).not.toThrow();
    for (const result of [sent, sentWithoutResponse]) {
      const error = await (result as Promise<unknown>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EncodeError);
      expect(error).toMatchObject({ code: 'ERR_ENCODE', retriable: false });
      expect((error as Error).message).toMatch(/cannot encode Produce v3 request: .*out of range/);
      expect((error as Error).cause).toBeInstanceOf(RangeError);
    }
    expect(conn.inFlight).toBe(0);
    // The failure was the request's, not the stream's: the connection goes on, in sync.
    const response = await conn.send(ApiVersions, 0, REQUEST);
    expect(response.apiKeys).toHaveLength(3);
    expect(broker?.requests.map((r) => r.header.apiKey)).toEqual([18]);
  });

  it('a timeout fails the timed-out request with the timeout and the others with a connection error', async () => {
    const conn = await connectTo(() => undefined, { requestTimeoutMs: 50 });
    // Request timers on a fake clock (the socket stays real): the second request is sent 20 ms
    // after the first, so the first's 50 ms run out while the second still has 20 ms to go.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const first = conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
      vi.advanceTimersByTime(20);
      const second = conn.send(ApiVersions, 0, REQUEST).catch((e: unknown) => e);
      vi.advanceTimersByTime(30);
      expect(await first).toBeInstanceOf(RequestTimeoutError);
      const other = (await second) as ConnectionError;
      expect(other).toBeInstanceOf(ConnectionError);
      expect(other.cause).toBeInstanceOf(RequestTimeoutError);
    } finally {
      vi.useRealTimers();
    }
  });

  it('connect() after close() rejects instead of opening a socket', async () => {
    broker = await startFakeBroker();
    const conn = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
    conn.close();
    await expect(conn.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(broker.requests).toHaveLength(0);
  });

  it('close() during connect rejects connect() with "closed by the client"', async () => {
    broker = await startFakeBroker();
    const conn = new Connection({ host: '127.0.0.1', port: broker.port, clientId: 'test' });
    const connecting = conn.connect();
    conn.close();
    await expect(connecting).rejects.toMatchObject({
      code: 'ERR_CONNECTION_CLOSED',
      message: expect.stringContaining('closed by the client') as string,
    });
  });
});

describe('version negotiation', () => {
  it('falls back to the broker’s highest ApiVersions version on UNSUPPORTED_VERSION (KIP-511)', async () => {
    const conn = await connectTo((header, socket) => {
      if (header.apiVersion > 2) {
        socket.write(responseFrame(header.correlationId, apiVersionsV0Body(35, [[18, 0, 2]])));
      } else {
        // v1/v2 body: v0 body plus throttle time
        socket.write(responseFrame(header.correlationId, Buffer.concat([OK_BODY, Buffer.alloc(4)])));
      }
    });
    const result = await negotiateVersions(conn);
    expect(broker?.requests.map((r) => r.header.apiVersion)).toEqual([3, 2]);
    expect(result.apiVersionsVersion).toBe(2);
    expect(result.versions.get(0)).toBe(9);
    expect(result.versions.get(3)).toBe(12);
    expect(result.finalizedFeatures.size).toBe(0);
  });

  /** An ApiVersions v3 body: the ranges, then the finalized features (tags 1 and 2) when given. */
  const apiVersionsV3Body = (
    ranges: [key: number, min: number, max: number][],
    features?: { epoch: number; levels: [name: string, max: number][] },
  ): Buffer => {
    const w = new Writer().int16(0);
    w.compactArray(ranges, (rw, [key, min, max]) => rw.int16(key).int16(min).int16(max).taggedFields());
    w.int32(0);
    if (features === undefined) return w.taggedFields().toBuffer();
    const levels = new Writer().compactArray(features.levels, (fw, [name, max]) => {
      fw.compactString(name).int16(max).int16(1).taggedFields();
    });
    const epoch = new Writer().int64(features.epoch).toBuffer();
    return w
      .taggedFields([
        [1, epoch],
        [2, levels.toBuffer()],
      ])
      .toBuffer();
  };
  const V3_RANGES: [number, number, number][] = [
    [0, 3, 12],
    [3, 1, 12],
    [10, 0, 6],
    [18, 0, 3],
    [22, 0, 5],
    [24, 0, 5],
    [25, 0, 4],
    [26, 0, 5],
    [28, 0, 5],
  ];

  it('negotiates the transaction APIs and reports the finalized features (ApiVersions v3)', async () => {
    const conn = await connectTo((header, socket) => {
      const features = { epoch: 7, levels: [['transaction.version', 2] as [string, number]] };
      socket.write(responseFrame(header.correlationId, apiVersionsV3Body(V3_RANGES, features)));
    });
    const result = await negotiateVersions(conn);
    expect(result.apiVersionsVersion).toBe(3);
    expect(result.finalizedFeatures).toEqual(new Map([['transaction.version', 2]]));
    // FindCoordinator, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit: ours are 1-6, 0-3, 0-4, 0-5, 0-5.
    expect([10, 24, 25, 26, 28].map((key) => result.versions.get(key))).toEqual([6, 3, 4, 5, 5]);
  });

  it('reports no finalized features without a valid epoch (ApiVersionsResponse.json)', async () => {
    const conn = await connectTo((header, socket) => {
      const features = { epoch: -1, levels: [['transaction.version', 2] as [string, number]] };
      socket.write(responseFrame(header.correlationId, apiVersionsV3Body(V3_RANGES, features)));
    });
    expect((await negotiateVersions(conn)).finalizedFeatures.size).toBe(0);
  });

  it('leaves out the transaction APIs, and reports no features, when the broker has neither', async () => {
    const conn = await connectTo((header, socket) => {
      const ranges: [number, number, number][] = [
        [0, 3, 9],
        [3, 1, 12],
        [18, 0, 3],
      ];
      socket.write(responseFrame(header.correlationId, apiVersionsV3Body(ranges)));
    });
    const result = await negotiateVersions(conn);
    expect(result.finalizedFeatures.size).toBe(0);
    expect([...result.versions.keys()].sort((a, b) => a - b)).toEqual([0, 3, 18]);
  });

  it('fails with a clear error when Produce has no common version', async () => {
    const conn = await connectTo((header, socket) => {
      const body = apiVersionsV0Body(header.apiVersion > 0 ? 35 : 0, [
        [0, 0, 2],
        [3, 0, 12],
        [18, 0, 0],
      ]);
      socket.write(responseFrame(header.correlationId, body));
    });
    await expect(negotiateVersions(conn)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_VERSION',
      apiName: 'Produce',
      ours: { min: 3, max: 12 },
      broker: { min: 0, max: 2 },
    });
  });
});
