import type { BrokerAddress } from '../config.js';
import { ProducerClosedError } from '../errors.js';
import { Connection, type ConnectionOptions } from '../network/connection.js';
import { openSession } from '../network/handshake.js';
import type { CredentialsSource } from '../security/sasl.js';

/** A connection with its API versions negotiated: what a coordinator request goes over. */
export interface BrokerSession {
  readonly address: BrokerAddress;
  readonly connection: Connection;
  /** The version to use per API key; an API missing here is one the broker lacks. */
  readonly versions: ReadonlyMap<number, number>;
  /** The broker's finalized features (`transaction.version` → level); empty when it says none. */
  readonly features: ReadonlyMap<string, number>;
}

/**
 * Connections to brokers by address, each opened and negotiated once and kept while it lives:
 * the transaction and group coordinators' links. The produce path has its own connections (the
 * broker actors'), and a coordinator request must not queue behind a full Produce pipeline.
 * A connection that fails is forgotten; the next request opens a new one.
 */
export class BrokerSessions {
  private readonly sessions = new Map<string, Promise<BrokerSession>>();
  private closed = false;

  constructor(
    private readonly options: Omit<ConnectionOptions, 'host' | 'port'>,
    private readonly sasl: CredentialsSource | null,
  ) {}

  /** The session to `address`, opened if there is none. */
  get(address: BrokerAddress): Promise<BrokerSession> {
    const key = keyOf(address);
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = this.open(address);
      this.sessions.set(key, session);
      // A failed attempt is not kept: the next request tries again.
      session.catch(() => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      });
    }
    return session;
  }

  /** Forgets (and closes) the session to `address`: after a lost connection or a timeout. */
  drop(address: BrokerAddress): void {
    const key = keyOf(address);
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    session?.then(
      (s) => {
        s.connection.close();
      },
      () => undefined,
    );
  }

  close(): void {
    this.closed = true;
    for (const session of this.sessions.values()) {
      session.then(
        (s) => {
          s.connection.close();
        },
        () => undefined,
      );
    }
    this.sessions.clear();
  }

  private async open(address: BrokerAddress): Promise<BrokerSession> {
    if (this.closed) throw new ProducerClosedError();
    const connection = new Connection({ ...this.options, host: address.host, port: address.port });
    try {
      await connection.connect();
      const result = await openSession(connection, this.sasl);
      connection.once('close', () => {
        const key = keyOf(address);
        // Only if it is still this connection's session (a newer one may have replaced it).
        void this.sessions.get(key)?.then((s) => {
          if (s.connection === connection) this.sessions.delete(key);
        });
      });
      if (this.isClosed()) throw new ProducerClosedError();
      return { address, connection, versions: result.versions, features: result.finalizedFeatures };
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  private isClosed(): boolean {
    return this.closed;
  }
}

function keyOf(address: BrokerAddress): string {
  return `${address.host}:${address.port}`;
}
