import type Long from 'long';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * SaslAuthenticate (key 36), v0–v2; flexible from v2. One step of a SASL exchange: the client's
 * bytes go in `authBytes`, the broker's come back in the answer's.
 */
export interface SaslAuthenticateRequest {
  authBytes: Uint8Array;
}

export interface SaslAuthenticateResponse {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  /** v1+: how long the session may last before re-authenticating (KIP-368); 0 for no limit. */
  sessionLifetimeMs: Long | null;
}

export const SaslAuthenticate: Api<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  key: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  flexibleFrom: 2,

  encodeRequest(writer: Writer, version: number, request: SaslAuthenticateRequest): void {
    const flexible = isFlexible(SaslAuthenticate, version);
    (flexible ? writer.compactBytes(request.authBytes) : writer.bytes(request.authBytes)).flexTaggedFields(
      flexible,
    );
  },

  decodeResponse(reader: Reader, version: number): SaslAuthenticateResponse {
    const flexible = isFlexible(SaslAuthenticate, version);
    const errorCode = reader.int16();
    const errorMessage = reader.flexNullableString(flexible);
    const authBytes = Buffer.from(flexible ? reader.compactBytes() : reader.bytes());
    const sessionLifetimeMs = version >= 1 ? reader.int64() : null;
    reader.flexTaggedFields(flexible);
    return { errorCode, errorMessage, authBytes, sessionLifetimeMs };
  },
};
