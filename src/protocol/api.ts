import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/** Kafka API keys used by ekaf. */
export const ApiKey = {
  Produce: 0,
  Metadata: 3,
  FindCoordinator: 10,
  SaslHandshake: 17,
  ApiVersions: 18,
  InitProducerId: 22,
  AddPartitionsToTxn: 24,
  AddOffsetsToTxn: 25,
  EndTxn: 26,
  TxnOffsetCommit: 28,
  SaslAuthenticate: 36,
} as const;
export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

/**
 * One Kafka API: how to encode its request body and decode its response body at a given version.
 * The versions ekaf supports live in one table, `versions.ts`; an API module only knows the wire
 * format of each version.
 */
export interface Api<Request, Response> {
  readonly key: ApiKey;
  readonly name: string;
  /** First version that uses flexible encoding (compact types, tagged fields, header v2/v1). */
  readonly flexibleFrom: number;
  /**
   * ApiVersions answers with response header v0 even in its flexible versions, so that a client
   * can always read the error code (KIP-511). Every other API follows `flexibleFrom`.
   */
  readonly responseHeaderAlwaysV0?: boolean;
  encodeRequest(writer: Writer, version: number, request: Request): void;
  decodeResponse(reader: Reader, version: number): Response;
}

export function isFlexible(api: Api<unknown, unknown>, version: number): boolean {
  return version >= api.flexibleFrom;
}

/** Request header v2 for flexible versions, v1 otherwise. */
export function requestHeaderVersion(api: Api<unknown, unknown>, version: number): 1 | 2 {
  return isFlexible(api, version) ? 2 : 1;
}

/** Response header v1 (with tagged fields) for flexible versions, v0 otherwise. */
export function responseHeaderVersion(api: Api<unknown, unknown>, version: number): 0 | 1 {
  return isFlexible(api, version) && api.responseHeaderAlwaysV0 !== true ? 1 : 0;
}
