import {
  ConnectionError,
  DecodeError,
  NotKafkaError,
  ResponseTooLargeError,
  type EkafError,
} from '../errors.js';

/**
 * The bytes a broker sends, cut into frames: a 4-byte size, then that many bytes. Apart from
 * connection.ts because framing knows nothing of requests, correlation ids or the socket's
 * lifecycle, and its buffering rules (one copy per frame) are its own.
 */

export interface FrameReaderOptions {
  /** `host:port`, named in every error. */
  address: string;
  /** Largest frame accepted; a bigger one is an error (a lying or hostile peer). */
  maxResponseBytes: number;
  /** Whether the connection is plaintext: a TLS record then means the listener expects TLS. */
  plaintext: boolean;
  /** Whether the next frame answers a raw exchange, which may be shorter than a correlation id. */
  rawFrameNext: () => boolean;
  /** Each whole frame, without its size, in order. */
  onFrame: (frame: Buffer) => void;
}

export class FrameReader {
  // Incoming bytes not yet forming a complete frame, and that frame's size once known (-1 before).
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize = -1;
  private stopped = false;

  constructor(private readonly options: FrameReaderOptions) {}

  /**
   * Splits the byte stream into frames. The 4-byte size is read once per frame and chunks are
   * joined only when the whole frame has arrived, so a large response costs one copy, not one
   * per chunk. Returns the error that leaves the stream unreadable (the connection must close).
   */
  push(chunk: Buffer): EkafError | undefined {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped) {
      if (this.frameSize === -1) {
        if (this.buffered < 4) return undefined;
        if ((this.chunks[0] as Buffer).length < 4) this.joinChunks();
        const head = this.chunks[0] as Buffer;
        const size = head.readInt32BE(0);
        // A web server answers the request with "HTTP/1.1 400 …": "HTTP" read as a size is
        // 1 213 486 160 bytes, above any sane limit; whatever the limit, the peer is not Kafka.
        if (size === HTTP_AS_SIZE) return new NotKafkaError(this.options.address, 'HTTP');
        if (size > this.options.maxResponseBytes) {
          // A TLS listener answers a plaintext client's request with a TLS alert record
          // (15 03 03 …), which read as a frame size is ~352 MB: say what is really wrong.
          // Only on this path, which fails anyway: a real frame is never mistaken for it.
          if (this.options.plaintext && looksLikeTlsRecord(head)) {
            return new ConnectionError(
              'the broker answered with a TLS record, not a Kafka response: this listener expects TLS (set the `tls` option)',
              this.options.address,
            );
          }
          return new ResponseTooLargeError(this.options.address, size, this.options.maxResponseBytes);
        }
        if (size < 4 && !this.options.rawFrameNext()) {
          // Every response starts with an int32 correlation id (a raw token may be empty).
          return new DecodeError(`${this.options.address}: response frame of ${size} bytes is too small`, 0);
        }
        this.frameSize = size;
      }
      const frameEnd = 4 + this.frameSize;
      if (this.buffered < frameEnd) return undefined;
      const buffer = this.joinChunks();
      const frame = buffer.subarray(4, frameEnd);
      const rest = buffer.subarray(frameEnd);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.frameSize = -1;
      this.options.onFrame(frame);
    }
    return undefined;
  }

  /** Drops what is buffered and reads no more: the connection closed. */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  private joinChunks(): Buffer {
    if (this.chunks.length === 1) return this.chunks[0] as Buffer;
    const whole = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [whole];
    return whole;
  }
}

/** The bytes "HTTP" (the start of any HTTP/1.x response) read as a big-endian int32 frame size. */
const HTTP_AS_SIZE = Buffer.from('HTTP', 'latin1').readInt32BE(0);

/** A TLS record header: content type 20–23 (alert is 21), then protocol version 3.0–3.4. */
function looksLikeTlsRecord(head: Buffer): boolean {
  const type = head[0] as number;
  return type >= 0x14 && type <= 0x17 && head[1] === 0x03 && (head[2] as number) <= 0x04;
}
