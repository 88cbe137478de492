import net from 'node:net';
import { ApiKey, isFlexible } from '../../src/protocol/api.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { FindCoordinator } from '../../src/protocol/apis/find-coordinator.js';
import { Reader } from '../../src/protocol/reader.js';
import { frames, lengthPrefixed, listenPerBroker, type BrokerProxies } from './framing.js';
import type { ProxiedBroker } from './sequence-proxy.js';

/**
 * Transparent TCP proxies in front of the brokers of a librdkafka mock cluster that write down
 * every request a client sends (which broker, which API and version), so that a test can see what
 * the mock does not tell: how often a request was retried, whether the coordinator was looked up
 * again, which producer id and epoch an InitProducerId carried. Point the mock's `set_host_port`
 * at the proxies (librdkafka 2.12), so that Metadata and FindCoordinator send every client
 * through them. Bytes pass unchanged in both directions.
 */
export interface RequestLogProxies extends BrokerProxies {
  /** Every request seen so far, in the order the proxies read them. */
  readonly requests: readonly LoggedRequest[];
  /** The requests of one API. */
  of(apiKey: number): LoggedRequest[];
}

export interface LoggedRequest {
  brokerId: number;
  apiKey: number;
  apiVersion: number;
  /** FindCoordinator: the key type (0 group, 1 transaction). */
  keyType?: number;
  /** InitProducerId: the transactional id and the producer id and epoch it carried (-1: a new one). */
  transactionalId?: string | null;
  producerId?: bigint;
  producerEpoch?: number;
}

/** Reads what the log keeps of one request frame (header v1/v2, then the body's first fields). */
function summarize(brokerId: number, frame: Buffer): LoggedRequest {
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const logged: LoggedRequest = { brokerId, apiKey, apiVersion };
  try {
    readFields(r, logged);
  } catch {
    // A body it cannot read: the API and version are logged all the same.
  }
  return logged;
}

function readFields(r: Reader, logged: LoggedRequest): void {
  const { apiKey, apiVersion } = logged;
  r.int32(); // correlation id
  r.nullableString(); // client id
  if (apiKey === ApiKey.InitProducerId) {
    const flexible = isFlexible(InitProducerId, apiVersion);
    if (flexible) r.taggedFields(); // request header v2
    logged.transactionalId = flexible ? r.compactNullableString() : r.nullableString();
    r.int32(); // transaction timeout
    if (apiVersion >= 3) {
      logged.producerId = BigInt(r.int64().toString());
      logged.producerEpoch = r.int16();
    }
  } else if (apiKey === ApiKey.FindCoordinator && apiVersion >= 1) {
    const flexible = isFlexible(FindCoordinator, apiVersion);
    if (flexible) r.taggedFields();
    if (apiVersion < 4) {
      if (flexible) r.compactString();
      else r.string();
    }
    logged.keyType = r.int8();
  }
}

export async function startRequestLogProxies(brokers: readonly ProxiedBroker[]): Promise<RequestLogProxies> {
  const requests: LoggedRequest[] = [];
  const proxies = await listenPerBroker(brokers, (broker) =>
    net.createServer((client) => {
      const upstream = net.connect(broker.port, broker.host);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.pipe(client);
      frames(client, (frame) => {
        requests.push(summarize(broker.id, frame));
        upstream.write(lengthPrefixed(frame));
      });
    }),
  );
  return {
    ...proxies,
    requests,
    of: (apiKey) => requests.filter((r) => r.apiKey === apiKey),
  };
}
