import type { BufferAllocator } from '../protocol/writer.js';

/** Idle bytes a pool always may keep (a few batches: what a steady trickle recycles). */
export const POOL_FLOOR_BYTES = 4 * 1024 * 1024;
/** From this size a batch buffer is allocated on its own (Node 20's pool does the same: poolSize / 2). */
const OWN_MEMORY_FROM = 4096;
/** Without a batch made for this long, idle buffers beyond the floor are let go. */
export const POOL_DECAY_MS = 5000;

/**
 * Recycles the buffers record batches are written into. A full batch takes over its partition's
 * scratch buffer and holds it until the batch is settled; the buffer then comes back here for the
 * next batch of any partition instead of a fresh allocation of a batch's size.
 *
 * Fresh allocations are what a busy producer must avoid: each grows external memory, and V8
 * answers growth with collections of the whole heap, which in a process holding many records
 * cost more than the producer's own work (200 000 × 1 KiB records, 100 000 buffered, Node 24:
 * 1.14-1.29 CPU s when 4 MiB were kept idle, 0.69-0.90 with 64 MiB: a callback that frees room
 * for 10 000 records returns 10 MB of buffers at once, and the next call needs them back).
 * So while batches are being made it keeps up to `maxIdleBytes` idle (the runtime: a quarter of
 * maxBufferedBytes, at most 64 MiB), and once none was made for POOL_DECAY_MS, `decay` lets go
 * of all but POOL_FLOOR_BYTES.
 *
 * A buffer is given back only once nothing can still read it: its batch was acknowledged (the
 * broker had the whole request), or failed for good (its connection, if any, is destroyed).
 */
export class BatchBufferPool {
  private readonly idle = new Map<number, Buffer[]>();
  private idleBytes = 0;
  /** When a buffer was last asked for (Date.now()); decay() looks at it. */
  private lastTakenAt = 0;

  constructor(readonly maxIdleBytes = POOL_FLOOR_BYTES) {}

  /** A buffer of exactly `size` bytes, recycled when one is idle. Contents are arbitrary. */
  take(size: number, now = Date.now()): Buffer {
    this.lastTakenAt = now;
    const recycled = this.idle.get(size)?.pop();
    if (recycled === undefined) {
      // A batch buffer is kept and recycled: it gets memory of its own, not a slice of Node's
      // shared pool (8 KiB on Node 20 and 22, 64 KiB on Node 24, where a 16 KiB buffer would
      // keep the whole 64 KiB alive). Under OWN_MEMORY_FROM, a slice costs less than the call.
      return size >= OWN_MEMORY_FROM ? Buffer.allocUnsafeSlow(size) : Buffer.allocUnsafe(size);
    }
    this.idleBytes -= size;
    return recycled;
  }

  /**
   * Called now and then (the runtime's sweep, every second): when no batch was made for
   * POOL_DECAY_MS, idle buffers beyond POOL_FLOOR_BYTES are left to the garbage collector.
   */
  decay(now = Date.now()): void {
    if (this.idleBytes <= POOL_FLOOR_BYTES || now - this.lastTakenAt < POOL_DECAY_MS) return;
    for (const [size, list] of this.idle) {
      while (list.length > 0 && this.idleBytes > POOL_FLOOR_BYTES) {
        list.pop();
        this.idleBytes -= size;
      }
      if (list.length === 0) this.idle.delete(size);
    }
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

  /**
   * This pool as the allocator of a batch that grows in a downtime: it takes from the pool but
   * gives nothing back. Every batch of a partition in a downtime starts small and doubles (see
   * PartitionLog.downtime), so each leaves a chain of outgrown buffers (4 KiB, 8 KiB, … half
   * its size); kept idle here, where nothing asks for them while nothing is sent, they were
   * more than half the memory of the records held (1 M × 100 B records over 1 000 partitions
   * with every broker down: 186 B a record, against 100 B of payload). Dropped, they are
   * young-generation garbage.
   */
  readonly keepingNone: BufferAllocator = {
    take: (size) => this.take(size),
    give: () => undefined,
  };

  /** Bytes held idle (for tests and inspect). */
  get idleSize(): number {
    return this.idleBytes;
  }
}
