import { ApiKey, type Api } from '../api.js';
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
    // KIP-511: the fallback answer is always in v0 format, whatever version we asked for.
    const decodedVersion = errorCode === ErrorCode.UNSUPPORTED_VERSION ? 0 : version;
    const flexible = decodedVersion >= 3;
    const apiKeys = reader.flexArray(flexible, (r) => {
      const range = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() };
      r.flexTaggedFields(flexible);
      return range;
    });
    const throttleTimeMs = decodedVersion >= 1 ? reader.int32() : 0;
    // v3's tagged fields carry supported/finalized features, which a producer does not need.
    reader.flexTaggedFields(flexible);
    return { errorCode, apiKeys, throttleTimeMs, decodedVersion };
  },
};
