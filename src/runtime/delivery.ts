import type { EkafError } from '../errors.js';

/** The outcome of one acknowledged record. */
export interface DeliveryReport {
  topic: string;
  partition: number;
  /** -1 with acks=0: the broker does not say. */
  offset: number;
  /** The record's create time, or the broker's append time when the topic uses LogAppendTime. */
  timestamp: number;
  /** False with acks=0: the record was sent, not acknowledged. */
  acknowledged: boolean;
}

/** How a finished call is reported: reports in input order, or the first error with every failure. */
export type CallOutcome =
  | { ok: true; reports: DeliveryReport[] }
  | { ok: false; error: EkafError; reports: (DeliveryReport | undefined)[]; failed: number };

/**
 * Acknowledged records of a call, kept until the call completes: [start, start + count), or the
 * records `indices` names (see Segment).
 */
interface AckedRange {
  start: number;
  count: number;
  indices: readonly number[] | null;
  partition: number;
  firstOffset: number;
  timestamp: (index: number) => number;
  acknowledged: boolean;
}

/**
 * One `produce*()` call: its records may land in several batches of several partitions, and it
 * completes once every one of them is acknowledged or failed. One object per call, never per
 * record: batches refer to a call with (start, count) segments.
 *
 * Delivery reports are built when the call completes, from one entry per acknowledged segment:
 * built earlier, a large call's reports would outlive several young-generation collections and
 * be copied into the old generation, only to be dropped by a callback that reads the error alone.
 */
export class ProduceCall {
  private settled = 0;
  private failedCount = 0;
  private firstError: EkafError | null = null;
  private acked: AckedRange[] | null = null;
  /** Notified once when the call is done (flush() waits on these). */
  private watchers: (() => void)[] | null = null;

  /**
   * @param wantReports asked when the call completes, with whether it succeeded: false when
   *   nobody will read the reports (no callback that takes them, no listener for the outcome's
   *   event), and then none are built.
   */
  constructor(
    readonly topic: string,
    readonly count: number,
    private readonly onDone: (call: ProduceCall, outcome: CallOutcome) => void,
    private readonly wantReports: (ok: boolean) => boolean = () => true,
  ) {}

  get done(): boolean {
    return this.settled === this.count;
  }

  /** Resolves when every record of the call is settled. */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => {
      (this.watchers ??= []).push(resolve);
    });
  }

  /**
   * Records [start, start + count), or those `indices` names, are acknowledged at offsets
   * firstOffset, firstOffset + 1, …; `timestamp(i)` gives the timestamp of the segment's i-th
   * record (asked when the call completes).
   */
  succeed(
    start: number,
    count: number,
    partition: number,
    firstOffset: number,
    timestamp: (index: number) => number,
    acknowledged: boolean,
    indices: readonly number[] | null = null,
  ): void {
    // One entry per segment, cheap; the reports themselves are built (or not) at completion.
    (this.acked ??= []).push({ start, count, indices, partition, firstOffset, timestamp, acknowledged });
    this.settle(count);
  }

  fail(count: number, error: EkafError): void {
    this.failedCount += count;
    this.firstError ??= error;
    this.settle(count);
  }

  private settle(count: number): void {
    this.settled += count;
    if (this.settled !== this.count) return;
    for (const watcher of this.watchers ?? []) watcher();
    this.watchers = null;
    const reports = this.buildReports(this.firstError === null);
    if (this.firstError === null) {
      this.onDone(this, { ok: true, reports: reports as DeliveryReport[] });
    } else {
      this.onDone(this, { ok: false, error: this.firstError, reports, failed: this.failedCount });
    }
  }

  /** Reports in input order; undefined where a record failed (or when nobody reads them). */
  private buildReports(ok: boolean): (DeliveryReport | undefined)[] {
    if (!this.wantReports(ok)) {
      this.acked = null;
      return [];
    }
    const reports = new Array<DeliveryReport | undefined>(this.count);
    for (const range of this.acked ?? []) {
      const { start, count, indices, partition, firstOffset, timestamp, acknowledged } = range;
      // -1 when the broker does not say: acks=0, or a duplicate it had already stored.
      const known = acknowledged && firstOffset >= 0;
      for (let i = 0; i < count; i++) {
        reports[indices === null ? start + i : (indices[i] as number)] = {
          topic: this.topic,
          partition,
          offset: known ? firstOffset + i : -1,
          timestamp: timestamp(i),
          acknowledged,
        };
      }
    }
    this.acked = null;
    return reports;
  }
}
