import { KafkaProtocolError, UnsupportedVersionError } from '../errors.js';
import { ApiKey, type Api } from '../protocol/api.js';
import { AddOffsetsToTxn } from '../protocol/apis/add-offsets-to-txn.js';
import { AddPartitionsToTxn } from '../protocol/apis/add-partitions-to-txn.js';
import {
  ApiVersions,
  type ApiVersionRange,
  type ApiVersionsResponse,
} from '../protocol/apis/api-versions.js';
import { EndTxn } from '../protocol/apis/end-txn.js';
import { FindCoordinator } from '../protocol/apis/find-coordinator.js';
import { InitProducerId } from '../protocol/apis/init-producer-id.js';
import { Metadata } from '../protocol/apis/metadata.js';
import { Produce } from '../protocol/apis/produce.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import { SaslAuthenticate } from '../protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../protocol/apis/sasl-handshake.js';
import { TxnOffsetCommit } from '../protocol/apis/txn-offset-commit.js';
import { pickVersion, SUPPORTED_VERSIONS } from '../protocol/versions.js';
import { authenticate, type CredentialsSource } from '../security/sasl.js';
import { EKAF_SOFTWARE_NAME, EKAF_VERSION } from '../version.js';
import type { Connection } from './connection.js';

/** The APIs a producer cannot work without; the handshake fails unless each has a common version. */
const REQUIRED_APIS: readonly Api<unknown, unknown>[] = [Metadata, Produce] as Api<unknown, unknown>[];
/**
 * APIs used when the broker has them (idempotence needs InitProducerId, transactions the rest);
 * absent otherwise.
 */
const OPTIONAL_APIS: readonly Api<unknown, unknown>[] = [
  InitProducerId,
  FindCoordinator,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  TxnOffsetCommit,
] as Api<unknown, unknown>[];

export interface HandshakeResult {
  /** The broker's advertised ranges, as received. */
  brokerRanges: ApiVersionRange[];
  /** The version ekaf will use for each API, by key. */
  versions: ReadonlyMap<number, number>;
  /** The ApiVersions version that succeeded (lower than ours after a KIP-511 fallback). */
  apiVersionsVersion: number;
  /**
   * The cluster's finalized features as this broker knows them (KIP-584), name to max version
   * level: `transaction.version` >= 2 means transactions v2 (KIP-890). Empty when the broker says
   * nothing (ApiVersions below v3, older brokers) or gives no valid epoch.
   */
  finalizedFeatures: ReadonlyMap<string, number>;
}

/**
 * Negotiates API versions on a fresh connection.
 *
 * It first asks with our highest ApiVersions version. A broker that does not know that version
 * answers in v0 format with UNSUPPORTED_VERSION and its own ApiVersions range (KIP-511); we then
 * ask again with the highest version it supports. Older brokers and librdkafka's mock do this.
 */
export async function negotiateVersions(connection: Connection): Promise<HandshakeResult> {
  const ours = SUPPORTED_VERSIONS[ApiKey.ApiVersions];
  const request = { clientSoftwareName: EKAF_SOFTWARE_NAME, clientSoftwareVersion: EKAF_VERSION };
  let version = ours.max;
  let response = await connection.send(ApiVersions, version, request);
  if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
    const theirs = response.apiKeys.find((range) => range.apiKey === ApiKey.ApiVersions);
    const fallback = theirs === undefined ? 0 : Math.min(theirs.maxVersion, ours.max);
    if (theirs !== undefined && (fallback < ours.min || fallback >= version)) {
      throw new UnsupportedVersionError(ApiVersions.name, ours, {
        min: theirs.minVersion,
        max: theirs.maxVersion,
      });
    }
    version = fallback;
    response = await connection.send(ApiVersions, version, request);
  }
  if (response.errorCode !== ErrorCode.NONE) {
    const info = kafkaError(response.errorCode);
    throw new KafkaProtocolError(info.code, info.name, `ApiVersions v${version} failed`, info.retriable);
  }
  const versions = new Map<number, number>();
  versions.set(ApiKey.ApiVersions, version);
  for (const api of REQUIRED_APIS) versions.set(api.key, pickVersion(api, response.apiKeys));
  for (const api of OPTIONAL_APIS) {
    try {
      versions.set(api.key, pickVersion(api, response.apiKeys));
    } catch (error) {
      if (!(error instanceof UnsupportedVersionError)) throw error;
    }
  }
  return {
    brokerRanges: response.apiKeys,
    versions,
    apiVersionsVersion: version,
    finalizedFeatures: finalizedFeatures(response),
  };
}

/** Finalized features are valid only with an epoch >= 0 (ApiVersionsResponse.json). */
function finalizedFeatures(response: ApiVersionsResponse): ReadonlyMap<string, number> {
  if (response.finalizedFeaturesEpoch.isNegative()) return new Map();
  return new Map(response.finalizedFeatures.map((feature) => [feature.name, feature.maxVersionLevel]));
}

/**
 * Everything a fresh connection goes through before it carries requests: ApiVersions, then SASL
 * authentication when `sasl` gives credentials (asked anew for every connection, as they may
 * rotate). A broker without SaslHandshake (or with v1 but no SaslAuthenticate) fails with
 * UnsupportedVersionError.
 */
export async function openSession(
  connection: Connection,
  sasl: CredentialsSource | null,
): Promise<HandshakeResult> {
  const result = await negotiateVersions(connection);
  if (sasl !== null) {
    const handshake = pickVersion(SaslHandshake, result.brokerRanges);
    // SaslAuthenticate only after a v1 handshake; v0 (before Kafka 1.0) exchanges raw tokens.
    const version = handshake >= 1 ? pickVersion(SaslAuthenticate, result.brokerRanges) : null;
    await authenticate(connection, { handshake, authenticate: version }, await sasl());
  }
  return result;
}
