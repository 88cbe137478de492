import type net from 'node:net';
import { requestHeaderVersion, type Api } from '../protocol/api.js';
import { writeRequestHeader } from '../protocol/headers.js';
import { Writer } from '../protocol/writer.js';

/**
 * A request as it goes on the wire: size, header, body, and the write that hands it to the
 * socket. Apart from connection.ts because encoding is pure (tests and tools build frames
 * without a connection) and the connection only decides when a frame may be sent.
 */

/** Encodes a complete request frame: size, header (v1 or v2), body. */
export function encodeRequestFrame<Request>(
  api: Api<Request, unknown>,
  version: number,
  correlationId: number,
  clientId: string,
  request: Request,
): Buffer {
  return frameWriter(api, version, correlationId, clientId, request).contiguous();
}

/**
 * The same frame as the chunks to write: record batches are not copied into the request but
 * written after its framing from their own buffers (one writev through cork/uncork).
 */
export function encodeRequestChunks<Request>(
  api: Api<Request, unknown>,
  version: number,
  correlationId: number,
  clientId: string,
  request: Request,
): Uint8Array[] {
  return frameWriter(api, version, correlationId, clientId, request).chunks();
}

function frameWriter<Request>(
  api: Api<Request, unknown>,
  version: number,
  correlationId: number,
  clientId: string,
  request: Request,
): Writer {
  const writer = new Writer();
  const sizeAt = writer.reserveInt32();
  writeRequestHeader(writer, requestHeaderVersion(api, version), {
    apiKey: api.key,
    apiVersion: version,
    correlationId,
    clientId,
  });
  api.encodeRequest(writer, version, request);
  writer.int32At(sizeAt, writer.length - 4);
  return writer;
}

/** Writes a frame's chunks as one write (writev), calling `done` when all are flushed. */
export function writeChunks(
  socket: net.Socket,
  chunks: Uint8Array[],
  done?: (error?: Error | null) => void,
): void {
  const last = chunks.length - 1;
  if (last === 0) {
    socket.write(chunks[0] as Uint8Array, done);
    return;
  }
  socket.cork();
  for (let i = 0; i < last; i++) socket.write(chunks[i] as Uint8Array);
  socket.write(chunks[last] as Uint8Array, done);
  socket.uncork();
}
