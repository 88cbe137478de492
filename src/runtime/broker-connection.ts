import { fromCallback, fromPromise } from 'xstate';
import {
  brokerConnectionMachine,
  downReason,
  type BrokerConnectionEvent,
  type BrokerLink,
  type HandshakeOutput,
} from '../../machines/broker-connection.machine.js';
import { describeError } from '../../machines/describe-error.js';
import type { EkafError } from '../errors.js';
import { Connection, type ConnectionOptions } from '../network/connection.js';
import { openSession } from '../network/handshake.js';
import { ApiKey } from '../protocol/api.js';
import type { CredentialsSource } from '../security/sasl.js';

const API_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ApiKey).map(([name, key]) => [key, name]),
);

/** Who uses the connection while it is ready (the broker's sender). */
export interface LinkUser {
  /** The connection is ready, with the API versions negotiated on it. */
  up(connection: Connection, versions: Record<string, number>): void;
  /** It is gone (lost, or the actor left `ready`), with why (as its followers are told). */
  down(error: { code: string; message: string }): void;
}

/**
 * The broker-connection machine with its socket work: TCP (or TLS) connect, the handshake
 * (ApiVersions, then SASL when configured), a watcher that turns the socket's close into
 * `conn.down`, and the hand-over of the ready connection to its `user`. `sasl` is asked for
 * credentials on every connection (they may rotate).
 */
export function brokerConnectionLogic(
  options: Omit<ConnectionOptions, 'host' | 'port'>,
  user: LinkUser,
  sasl: CredentialsSource | null = null,
) {
  return brokerConnectionMachine.provide({
    actions: {
      linkUp: ({ context }) => {
        if (context.link !== null) user.up(asConnection(context.link), context.versions);
      },
      linkDown: ({ event }) => {
        user.down(downReason(event));
      },
    },
    actors: {
      connect: fromPromise<BrokerLink, { host: string; port: number }>(async ({ input, signal }) => {
        const connection = new Connection({ ...options, host: input.host, port: input.port });
        // If the machine leaves `connecting` first (closed), the socket must not outlive it.
        signal.addEventListener('abort', () => {
          connection.close();
        });
        await connection.connect();
        return connection;
      }),
      handshake: fromPromise<HandshakeOutput, { link: BrokerLink }>(async ({ input, signal }) => {
        const connection = asConnection(input.link);
        signal.addEventListener('abort', () => {
          connection.close();
        });
        // A broker that cannot authenticate this client (no SASL APIs) fails with
        // UnsupportedVersionError, which stops the machine in `failed`.
        const result = await openSession(connection, sasl);
        const versions: Record<string, number> = {};
        for (const [key, version] of result.versions) versions[API_NAMES[key] ?? `api${key}`] = version;
        return { versions };
      }),
      watch: fromCallback<BrokerConnectionEvent, { link: BrokerLink }>(({ input, sendBack }) => {
        const connection = asConnection(input.link);
        const onClose = (error: EkafError | undefined): void => {
          sendBack({
            type: 'conn.down',
            // describeError keeps the error itself (hidden), for a later delivery timeout's cause.
            error:
              error === undefined
                ? { code: 'ERR_CONNECTION_CLOSED', message: 'connection closed' }
                : describeError(error),
          });
        };
        if (!connection.isOpen) {
          onClose(undefined);
          return undefined;
        }
        connection.once('close', onClose);
        return () => {
          connection.off('close', onClose);
          connection.close(); // leaving `ready` ends this connection, whatever the reason
        };
      }),
    },
  });
}

/** The links this runtime hands to the machine are always its own connections. */
function asConnection(link: BrokerLink): Connection {
  if (!(link instanceof Connection)) throw new TypeError('broker link is not a Connection');
  return link;
}
