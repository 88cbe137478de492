import type { BrokerAddress } from '../config.js';
import { ProducerClosedError } from '../errors.js';
import { Connection, type ConnectionOptions } from '../network/connection.js';
import { openSession } from '../network/handshake.js';
import { ApiKey } from '../protocol/api.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { Metadata, type MetadataResponse } from '../protocol/apis/metadata.js';
import type { CredentialsSource } from '../security/sasl.js';

/**
 * Fetches cluster metadata over a connection of its own, so that metadata keeps flowing while
 * the brokers' produce connections are busy or down. It connects to the known brokers first,
 * then to the bootstrap addresses, moving on to the next address after each failure.
 */
export class MetadataClient {
  private connection: Connection | null = null;
  private version = 1;
  /** InitProducerId version of the current connection's broker; undefined if it lacks the API. */
  private initProducerIdVersion: number | undefined;
  /** The connection is connected and its versions negotiated. */
  private ready = false;
  private closed = false;
  private connecting: Promise<Connection> | null = null;
  private next = 0;

  constructor(
    private readonly bootstrap: readonly BrokerAddress[],
    private readonly knownBrokers: () => BrokerAddress[],
    private readonly options: Omit<ConnectionOptions, 'host' | 'port'>,
    private readonly sasl: CredentialsSource | null = null,
  ) {}

  async fetch(topics: string[]): Promise<MetadataResponse> {
    const connection = await this.connect();
    try {
      return await connection.send(Metadata, this.version, { topics, allowAutoTopicCreation: true });
    } catch (error) {
      this.drop();
      throw error;
    }
  }

  /**
   * Asks for a new producer id (idempotence). Without a transactional id the broker hands out a
   * new id at epoch 0 whatever id and epoch the request names, so none is named (epoch bumps
   * are the partitions' own, see PartitionSequence). Resolves null when the broker has no
   * InitProducerId at all.
   */
  async initProducerId(): Promise<{ producerId: number; producerEpoch: number; errorCode: number } | null> {
    const connection = await this.connect();
    const version = this.initProducerIdVersion;
    if (version === undefined) return null;
    try {
      const response = await connection.send(InitProducerId, version, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1,
        producerEpoch: -1,
      });
      return {
        producerId: response.producerId.toNumber(),
        producerEpoch: response.producerEpoch,
        errorCode: response.errorCode,
      };
    } catch (error) {
      this.drop();
      throw error;
    }
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  /** The connection once it is connected and its versions negotiated; one attempt at a time. */
  private connect(): Promise<Connection> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<Connection> {
    if (this.closed) throw new ProducerClosedError();
    if (this.connection?.isOpen === true && this.ready) return this.connection;
    this.drop();
    const candidates = [...this.knownBrokers(), ...this.bootstrap];
    const address = candidates[this.next % candidates.length] as BrokerAddress;
    this.next++;
    const connection = new Connection({ ...this.options, host: address.host, port: address.port });
    this.connection = connection;
    try {
      await connection.connect();
      const { versions } = await openSession(connection, this.sasl);
      this.version = versions.get(ApiKey.Metadata) ?? 1;
      this.initProducerIdVersion = versions.get(ApiKey.InitProducerId);
      // close() may have run while we were connecting (TypeScript cannot see that across await).
      if (this.isClosed()) throw new ProducerClosedError();
      this.ready = true;
      return connection;
    } catch (error) {
      this.drop();
      throw error;
    }
  }

  private isClosed(): boolean {
    return this.closed;
  }

  private drop(): void {
    this.connection?.close();
    this.connection = null;
    this.ready = false;
  }
}
