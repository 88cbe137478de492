import { describeError } from '../../machines/describe-error.js';
import type { BrokerAddress } from '../config.js';
import { ProducerClosedError } from '../errors.js';
import { Connection, type ConnectionOptions } from '../network/connection.js';
import { openSession } from '../network/handshake.js';
import { ApiKey } from '../protocol/api.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { Metadata, type MetadataResponse } from '../protocol/apis/metadata.js';
import type { CredentialsSource } from '../security/sasl.js';

/** What the metadata connection last saw at one broker address (`inspect()`, metadata's details). */
export interface AddressOutcome {
  /** `host:port`. */
  address: string;
  /**
   * `untried`; `connecting` (an attempt under way); `answered` (a Kafka session opened there:
   * it is a broker we can speak to); `failed` (the last attempt or request there failed).
   */
  state: 'untried' | 'connecting' | 'answered' | 'failed';
  /**
   * Why the last attempt failed: refused, timed out, not Kafka (NotKafkaError), a refused
   * login… Kept while the next attempt is `connecting`; null once one answered.
   */
  lastError: { code: string; message: string } | null;
  /** When a Kafka session last opened there (ms since epoch); 0 if one never did. */
  answeredAt: number;
}

/**
 * Fetches cluster metadata over a connection of its own, so that metadata keeps flowing while
 * the brokers' produce connections are busy or down. It connects to the known brokers first,
 * then to the bootstrap addresses, moving on to the next address after each failure. What it
 * saw at each address is kept (`addresses()`), so that a producer that never reached a broker
 * can say why, address by address.
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
  /** By `host:port`: the bootstrap addresses first, then the brokers as they are tried. */
  private readonly outcomes = new Map<string, AddressOutcome>();

  constructor(
    private readonly bootstrap: readonly BrokerAddress[],
    private readonly knownBrokers: () => BrokerAddress[],
    private readonly options: Omit<ConnectionOptions, 'host' | 'port'>,
    private readonly sasl: CredentialsSource | null = null,
  ) {
    for (const address of bootstrap) this.outcome(`${address.host}:${address.port}`);
  }

  async fetch(topics: string[]): Promise<MetadataResponse> {
    const connection = await this.connect();
    try {
      return await connection.send(Metadata, this.version, { topics, allowAutoTopicCreation: true });
    } catch (error) {
      if (!this.closed) this.failedAt(connection.address, error);
      this.drop();
      throw error;
    }
  }

  /** What was last seen at each address tried, and at each bootstrap address. */
  addresses(): AddressOutcome[] {
    return [...this.outcomes.values()].map((outcome) => ({ ...outcome }));
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
      if (!this.closed) this.failedAt(connection.address, error);
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
    const outcome = this.outcome(connection.address);
    outcome.state = 'connecting';
    try {
      await connection.connect();
      const { versions } = await openSession(connection, this.sasl);
      this.version = versions.get(ApiKey.Metadata) ?? 1;
      this.initProducerIdVersion = versions.get(ApiKey.InitProducerId);
      // close() may have run while we were connecting (TypeScript cannot see that across await).
      if (this.isClosed()) throw new ProducerClosedError();
      this.ready = true;
      outcome.state = 'answered';
      outcome.lastError = null;
      outcome.answeredAt = Date.now();
      return connection;
    } catch (error) {
      if (!this.isClosed()) this.failedAt(connection.address, error);
      this.drop();
      throw error;
    }
  }

  private outcome(address: string): AddressOutcome {
    let outcome = this.outcomes.get(address);
    if (outcome === undefined) {
      outcome = { address, state: 'untried', lastError: null, answeredAt: 0 };
      this.outcomes.set(address, outcome);
    }
    return outcome;
  }

  private failedAt(address: string, error: unknown): void {
    const outcome = this.outcome(address);
    outcome.state = 'failed';
    outcome.lastError = describeError(error);
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
