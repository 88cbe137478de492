import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/**
 * Reads a request body of at most `limit` bytes. Past the limit it stops reading at once (a
 * client could otherwise make us receive gigabytes just to refuse them) and rejects with 413;
 * a `Content-Length` above the limit is refused before a byte is read. The caller answers the
 * 413 with `Connection: close` (see `server.ts`), which ends the connection after the answer
 * instead of draining the rest of the upload.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop the flow: what the client keeps sending is left in the socket, not buffered here.
        req.pause();
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new HttpError(400, 'ERR_BAD_REQUEST', `could not read the body: ${error.message}`));
    };
    // The client went away mid-body: nobody is left to answer.
    const onClose = (): void => {
      if (req.complete) return;
      cleanup();
      reject(new HttpError(400, 'ERR_BAD_REQUEST', 'the client closed the connection before the body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'ERR_BODY_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`, {
    Connection: 'close',
  });
}
