import { DecodeError } from '../../errors.js';
import { ApiKey, isFlexible, type Api } from '../api.js';
import { ErrorCode } from '../error-codes.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/** ApiVersions (key 18), v0–v3. v3 is flexible and carries the client's software name and version. */
export interface ApiVersionsRequest {
  clientSoftwareName: string;
  clientSoftwareVersion: string;
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export interface ApiVersionsResponse {
  errorCode: number;
  apiKeys: ApiVersionRange[];
  throttleTimeMs: number;
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
    // v3's tagged fields carry supported/finalized features, which a producer does not need.
    reader.flexTaggedFields(flexible);
    return { errorCode, apiKeys, throttleTimeMs, decodedVersion: version };
  },
};

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
  try {
    const apiKeys = reader.array(readRange);
    reader.expectEnd('ApiVersions v0 fallback');
    return { errorCode, apiKeys, throttleTimeMs: 0, decodedVersion: 0 };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    reader.offset = start;
    reader.raw(reader.remaining); // the body is not v0: skip it
    return { errorCode, apiKeys: [], throttleTimeMs: 0, decodedVersion: 0 };
  }
}
