import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Null is allowed by the protocol; ekaf always sends one. */
  clientId: string | null;
}

/**
 * Request header v1 (int16 api key, int16 version, int32 correlation id, nullable string client id)
 * and v2 (v1 plus a tagged-field section). The client id stays a non-compact string in v2.
 */
export function writeRequestHeader(writer: Writer, headerVersion: 1 | 2, header: RequestHeader): void {
  writer
    .int16(header.apiKey)
    .int16(header.apiVersion)
    .int32(header.correlationId)
    .nullableString(header.clientId);
  if (headerVersion === 2) writer.taggedFields();
}

export function readRequestHeader(reader: Reader, headerVersion: 1 | 2): RequestHeader {
  const header = {
    apiKey: reader.int16(),
    apiVersion: reader.int16(),
    correlationId: reader.int32(),
    clientId: reader.nullableString(),
  };
  if (headerVersion === 2) reader.taggedFields();
  return header;
}

/** Response header v0 (int32 correlation id) and v1 (plus tagged fields). Returns the correlation id. */
export function readResponseHeader(reader: Reader, headerVersion: 0 | 1): number {
  const correlationId = reader.int32();
  if (headerVersion === 1) reader.taggedFields();
  return correlationId;
}
