import type { Api } from '../../src/protocol/api.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

// Helpers for golden-byte tests of the protocol: expected bytes are written as commented hex.

/** Hex with spaces and `|` separators for readability; `#` starts a comment to the end of the line. */
export const h = (s: string): string => s.replace(/#[^\n]*/g, '').replace(/[\s|]/g, '');

/** The bytes of a commented hex string. */
export const bytes = (s: string): Buffer => Buffer.from(h(s), 'hex');

/** What `encode` writes, as plain hex. */
export const body = (encode: (w: Writer) => void): string => {
  const w = new Writer();
  encode(w);
  return w.view().toString('hex');
};

/** The body of `api`'s request at `version`, as plain hex. */
export const encoded = <Request>(api: Api<Request, unknown>, version: number, request: Request): string =>
  body((w) => {
    api.encodeRequest(w, version, request);
  });

/** Decodes a commented hex body, which must be consumed exactly. */
export const decode = <T>(decodeFn: (r: Reader) => T, hex: string): T => {
  const r = new Reader(bytes(hex));
  const value = decodeFn(r);
  r.expectEnd('test response');
  return value;
};
