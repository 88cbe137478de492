import Long from 'long';
import { DecodeError } from '../../errors.js';
import { ApiKey, isFlexible, type Api } from '../api.js';
import { ErrorCode } from '../error-codes.js';
import { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * ApiVersions (key 18), v0–v3. v3 is flexible and carries the client's software name and version;
 * its answer tells the cluster's finalized features (KIP-584), such as `transaction.version`.
 */
export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** A feature the whole cluster has finalized (KIP-584), e.g. `transaction.version`. */
export interface FinalizedFeature {
  name: string;
  minVersionLevel: number;
  maxVersionLevel: number;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionRange[];
  throttleTimeMs: number;
  /**
   * v3+ (tag 1): the epoch of `finalizedFeatures`, which are valid only when it is >= 0; -1 when
   * the broker does not say (older brokers, v0–v2).
   */
  finalizedFeaturesEpoch: Long;
  /** v3+ (tag 2): the cluster-wide finalized features; empty when the broker does not say. */
  finalizedFeatures: FinalizedFeature[];
  /**
   * The version the body was actually decoded as. A broker that does not support the version we
   * sent answers in v0 with UNSUPPORTED_VERSION and its own ApiVersions range (KIP-511).
   */
  decodedVersion: number;
}

export const ApiVersions: Api<ApiVersionsRequest, ApiVersionsResponse> = {
  key: ApiKey.ApiVersions,
  name: 'ApiVersions',
  flexibleFrom: 3,
  responseHeaderAlwaysV0: true,

  encodeRequest(writer: Writer, version: number, request: ApiVersionsRequest): void {
    if (version < 3) return; // v0–v2 have an empty body
    writer
      .compactString(request.clientSoftwareName)
      .compactString(request.clientSoftwareVersion)
      .taggedFields();
  },

  decodeResponse(reader: Reader, version: number): ApiVersionsResponse {
    const errorCode = reader.int16();
    if (errorCode === ErrorCode.UNSUPPORTED_VERSION) return decodeFallback(reader, errorCode);
    const flexible = isFlexible(ApiVersions, version);
    const apiKeys = reader.flexArray(flexible, (r) => {
      const range = readRange(r);
      r.flexTaggedFields(flexible);
      return range;
    });
    const throttleTimeMs = version >= 1 ? reader.int32() : 0;
    // v3+ tagged fields: the features the broker supports (tag 0, not needed by a producer), the
    // cluster's finalized features and their epoch (tags 2 and 1), ZkMigrationReady (tag 3).
    const tagged = reader.flexTaggedFields(flexible);
    const epochBytes = tagged?.get(TAG_FINALIZED_FEATURES_EPOCH);
    const featureBytes = tagged?.get(TAG_FINALIZED_FEATURES);
    return {
      errorCode,
      apiKeys,
      throttleTimeMs,
      finalizedFeaturesEpoch: epochBytes === undefined ? Long.NEG_ONE : new Reader(epochBytes).int64(),
      finalizedFeatures: featureBytes === undefined ? [] : readFinalizedFeatures(new Reader(featureBytes)),
      decodedVersion: version,
    };
  },
};

const TAG_FINALIZED_FEATURES_EPOCH = 1;
const TAG_FINALIZED_FEATURES = 2;

function readFinalizedFeatures(reader: Reader): FinalizedFeature[] {
  return reader.compactArray((r) => {
    const feature = { name: r.compactString(), maxVersionLevel: r.int16(), minVersionLevel: r.int16() };
    r.taggedFields();
    return feature;
  });
}

function readRange(reader: Reader): ApiVersionRange {
  return { apiKey: reader.int16(), minVersion: reader.int16(), maxVersion: reader.int16() };
}

/**
 * The answer to a version the broker does not support. KIP-511 says it is in v0 format (error
 * code, then the ranges), so that the client learns which ApiVersions versions to use. Not every
 * peer gets this right: librdkafka's mock (2.0 to 2.12) answers a v3 request with a one-byte
 * count and a throttle time. Like the Java client, we accept what parses as v0 and otherwise
 * report no ranges, which makes the handshake fall back to v0, a version every broker has.
 */
function decodeFallback(reader: Reader, errorCode: number): ApiVersionsResponse {
  const start = reader.offset;
  let apiKeys: ApiVersionRange[];
  try {
    apiKeys = reader.array(readRange);
    reader.expectEnd('ApiVersions v0 fallback');
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    reader.offset = start;
    reader.raw(reader.remaining); // the body is not v0: skip it
    apiKeys = [];
  }
  return {
    errorCode,
    apiKeys,
    throttleTimeMs: 0,
    finalizedFeaturesEpoch: Long.NEG_ONE,
    finalizedFeatures: [],
    decodedVersion: 0,
  };
}
