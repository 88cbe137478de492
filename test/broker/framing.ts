import type net from 'node:net';

/** Calls `onFrame` with each complete Kafka frame (without its int32 size) read from `socket`. */
export function frames(socket: net.Socket, onFrame: (frame: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      onFrame(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  });
}

/** The frame with its int32 size in front. */
export function lengthPrefixed(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length, 0);
  return Buffer.concat([size, frame]);
}

/** Proxies listening on free ports of 127.0.0.1, one per broker. */
export interface BrokerProxies {
  /** Port of the proxy in front of each broker id. */
  ports: Map<number, number>;
  /** "host:port,…" of the proxies. */
  bootstrap: string;
  /** Closes the listeners and every client connection (proxies close their broker side with it). */
  close(): Promise<void>;
}

/** Starts `createServer(broker)` for each broker on a free port. */
export async function listenPerBroker<B extends { id: number }>(
  brokers: readonly B[],
  createServer: (broker: B) => net.Server,
): Promise<BrokerProxies> {
  const servers: net.Server[] = [];
  const clients = new Set<net.Socket>();
  const ports = new Map<number, number>();
  for (const broker of brokers) {
    const server = createServer(broker);
    server.on('connection', (socket: net.Socket) => {
      clients.add(socket);
      socket.on('close', () => clients.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.set(broker.id, (server.address() as net.AddressInfo).port);
  }
  return {
    ports,
    bootstrap: [...ports.values()].map((port) => `127.0.0.1:${port}`).join(','),
    close: async () => {
      for (const socket of clients) socket.destroy();
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => {
                resolve();
              });
            }),
        ),
      );
    },
  };
}
