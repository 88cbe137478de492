/**
 * Recycles the buffers record batches are written into. A full batch takes over its partition's
 * scratch buffer and holds it until the batch is settled; the buffer then comes back here for the
 * next batch of any partition instead of a fresh allocation of a batch's size (whose growth of
 * external memory also makes V8 collect garbage sooner).
 *
 * A buffer is given back only once nothing can still read it: its batch was acknowledged (the
 * broker had the whole request), or failed for good (its connection, if any, is destroyed).
 * Bounded: idle buffers beyond `maxIdleBytes` are left to the garbage collector.
 */
export class BatchBufferPool {
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;

  constructor(readonly maxIdleBytes = 4 * 1024 * 1024) {}

  /** A buffer of exactly `size` bytes, recycled when one is idle. Contents are arbitrary. */
  take(size: number): Buffer {
    const recycled = this.idle.get(size)?.pop();
    if (recycled === undefined) return Buffer.allocUnsafe(size);
    this.idleBytes -= size;
    return recycled;
  }

  /** Takes back a buffer from `take` that nothing refers to any more. */
  give(buffer: Buffer): void {
    if (this.idleBytes + buffer.length > this.maxIdleBytes) return;
    let list = this.idle.get(buffer.length);
    if (list === undefined) {
      list = [];
      this.idle.set(buffer.length, list);
    }
    list.push(buffer);
    this.idleBytes += buffer.length;
  }

  /** Bytes held idle (for tests and inspect). */
  get idleSize(): number {
    return this.idleBytes;
  }
}
