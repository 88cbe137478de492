import { Connection } from '../../src/network/connection.js';
import { negotiateVersions, type HandshakeResult } from '../../src/network/handshake.js';
import { ApiKey } from '../../src/protocol/api.js';
import { Metadata, type MetadataResponse } from '../../src/protocol/apis/metadata.js';
import type { MockCluster } from '../broker/cluster.js';

/**
 * The protocol layer wired by hand, for integration tests that come before the producer
 * runtime: one negotiated connection per broker, and a metadata fetch.
 */
export interface RawClient {
  connection(brokerId: number): Promise<{ connection: Connection; handshake: HandshakeResult }>;
  metadata(topics: string[] | null): Promise<MetadataResponse>;
  close(): void;
}

export function rawClient(cluster: MockCluster, clientId = 'ekaf-test'): RawClient {
  const open = new Map<number, Promise<{ connection: Connection; handshake: HandshakeResult }>>();
  const connection = (brokerId: number): Promise<{ connection: Connection; handshake: HandshakeResult }> => {
    let entry = open.get(brokerId);
    if (entry === undefined) {
      const broker = cluster.brokers.find((b) => b.id === brokerId);
      if (broker === undefined) throw new Error(`no broker ${brokerId}`);
      const conn = new Connection({ host: broker.host, port: broker.port, clientId, maxInFlightRequests: 5 });
      entry = conn
        .connect()
        .then(async () => ({ connection: conn, handshake: await negotiateVersions(conn) }));
      open.set(brokerId, entry);
    }
    return entry;
  };
  return {
    connection,
    async metadata(topics) {
      const first = cluster.brokers[0];
      if (first === undefined) throw new Error('cluster has no brokers');
      const { connection: conn, handshake } = await connection(first.id);
      const version = handshake.versions.get(ApiKey.Metadata) ?? 1;
      return conn.send(Metadata, version, { topics, allowAutoTopicCreation: false });
    },
    close() {
      for (const entry of open.values()) {
        void entry.then(({ connection: conn }) => {
          conn.close();
        });
      }
    },
  };
}
