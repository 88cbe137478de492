import { ApiKey, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * SaslHandshake (key 17), v0–v1, never flexible: the client names its mechanism, the broker
 * answers with the mechanisms it enables. v1 means the exchange then goes through
 * SaslAuthenticate requests (KIP-152); after v0 it would be raw tokens, outside Kafka framing.
 */
export interface SaslHandshakeRequest {
  mechanism: string;
}

export interface SaslHandshakeResponse {
  errorCode: number;
  mechanisms: string[];
}

export const SaslHandshake: Api<SaslHandshakeRequest, SaslHandshakeResponse> = {
  key: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  flexibleFrom: Number.POSITIVE_INFINITY,

  encodeRequest(writer: Writer, _version: number, request: SaslHandshakeRequest): void {
    writer.string(request.mechanism);
  },

  decodeResponse(reader: Reader): SaslHandshakeResponse {
    return { errorCode: reader.int16(), mechanisms: reader.array((r) => r.string()) };
  },
};
