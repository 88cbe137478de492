// Well-known ports for the dev cluster. librdkafka's mock brokers listen on ports the kernel
// picks, different every run, so "localhost:9092" in a README or an app's config would never
// reach them. A relay per broker listens on firstPort + (id - 1) and passes bytes both ways to
// the broker's own port; the broker then advertises the relay's port in Metadata
// (set_host_port), so clients that bootstrap on 9092 follow the leaders to 9093 and 9094 too.
import net from 'node:net';

export interface BrokerAddress {
  id: number;
  host: string;
  port: number;
}

/** The relays of a cluster's brokers; close() stops them and cuts every relayed connection. */
export interface PortRelays {
  /** The brokers as clients see them: the relays' addresses. */
  brokers: BrokerAddress[];
  close(): Promise<void>;
}

/**
 * Relays broker `id` on 127.0.0.1:firstPort + id - 1, for every broker, or none: when one of
 * the ports is taken (another Kafka, another dev cluster), undefined, and the brokers keep their
 * own ports (a cluster half on well-known ports would be more confusing than one on none).
 */
export async function relayOnPorts(
  brokers: BrokerAddress[],
  firstPort: number,
): Promise<PortRelays | undefined> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) =>
            server.close(() => {
              resolve();
            }),
          ),
      ),
    );
  };
  try {
    for (const broker of brokers) {
      const server = net.createServer((client) => {
        relay(client, broker, sockets);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(firstPort + broker.id - 1, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
  } catch {
    await close();
    return undefined;
  }
  return {
    brokers: brokers.map((b) => ({ id: b.id, host: '127.0.0.1', port: firstPort + b.id - 1 })),
    close,
  };
}

/** One client connection to a broker: bytes both ways until either side ends or fails. */
function relay(client: net.Socket, broker: BrokerAddress, sockets: Set<net.Socket>): void {
  const upstream = net.connect(broker.port, broker.host);
  // Kafka's requests are small and waited for: no Nagle delay on either leg.
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  sockets.add(client);
  sockets.add(upstream);
  const end = (): void => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  for (const socket of [client, upstream]) {
    socket.on('error', end);
    socket.on('close', end);
  }
  client.pipe(upstream);
  upstream.pipe(client);
}
