import { AbortedError, BufferFullError, type EkafError } from '../errors.js';

interface Waiter {
  records: number;
  bytes: number;
  resolve: () => void;
  reject: (error: EkafError) => void;
  cleanup: () => void;
}

/**
 * The producer's global bound on what it holds: records accepted and not yet acknowledged or
 * failed, counted in records and in payload bytes. Every accepted record is reserved here first;
 * it is released when its batch is acknowledged or failed.
 *
 * When full, `tryReserve` says no (produceAsync throws BufferFullError at once) and `reserve`
 * waits, first come first served, up to a timeout or an AbortSignal (produceSync).
 */
export class BufferBudget {
  records = 0;
  bytes = 0;
  private readonly waiters: Waiter[] = [];
  /** Told whenever room is given back (the spool reads its backlog into it). */
  onRoom: (() => void) | null = null;
  /** Told when the first record is held (true) and when the last is let go (false). */
  onBusy: ((busy: boolean) => void) | null = null;

  constructor(
    readonly maxRecords: number,
    readonly maxBytes: number,
  ) {}

  /** Reserves room if there is some and nobody is queued before us. */
  tryReserve(records: number, bytes: number): boolean {
    if (this.waiters.length > 0 || !this.fits(records, bytes)) return false;
    const wasIdle = this.records === 0;
    this.records += records;
    this.bytes += bytes;
    if (wasIdle && this.records > 0) this.onBusy?.(true);
    return true;
  }

  /** Reserves room, waiting up to `timeoutMs` or until `signal` aborts. */
  reserve(records: number, bytes: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (records > this.maxRecords || bytes > this.maxBytes) {
      return Promise.reject(
        new BufferFullError(this.describeNeed(records, bytes) + ', more than the whole buffer'),
      );
    }
    if (this.tryReserve(records, bytes)) return Promise.resolve();
    if (signal?.aborted === true) return Promise.reject(new AbortedError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.remove(waiter);
        reject(
          new BufferFullError(`${this.describeNeed(records, bytes)} did not fit within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onAbort = (): void => {
        this.remove(waiter);
        reject(new AbortedError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        records,
        bytes,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.waiters.push(waiter);
    });
  }

  release(records: number, bytes: number): void {
    this.records -= records;
    this.bytes -= bytes;
    // Wake waiters in order while the first one fits.
    while (this.waiters.length > 0) {
      const first = this.waiters[0] as Waiter;
      if (!this.fits(first.records, first.bytes)) break;
      this.waiters.shift();
      first.cleanup();
      this.records += first.records;
      this.bytes += first.bytes;
      first.resolve();
    }
    if (this.records === 0 && records > 0) this.onBusy?.(false);
    this.onRoom?.();
  }

  /** Fails every waiter (close()). */
  rejectWaiters(error: EkafError): void {
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  get isFull(): boolean {
    return this.records >= this.maxRecords || this.bytes >= this.maxBytes;
  }

  describeNeed(records: number, bytes: number): string {
    return (
      `${records} records / ${bytes} bytes requested, ${this.records}/${this.maxRecords} records and ` +
      `${this.bytes}/${this.maxBytes} bytes buffered`
    );
  }

  private fits(records: number, bytes: number): boolean {
    return this.records + records <= this.maxRecords && this.bytes + bytes <= this.maxBytes;
  }

  private remove(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
    waiter.cleanup();
    // The queue head may have been the one blocking the others.
    this.release(0, 0);
  }
}
