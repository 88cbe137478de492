/**
 * The create times of a batch's records, kept for delivery reports as runs of equal values.
 * Records accepted in the same millisecond (every record of one call, unless the application gave
 * timestamps) share one entry, so a typical batch holds a handful of numbers instead of one per
 * record. Lookups are a binary search over the runs.
 */
export class TimestampRuns {
  /** Index of each run's first record, ascending. */
  private readonly starts: number[] = [];
  private readonly values: number[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(timestamp: number): void {
    const last = this.values.length - 1;
    if (last < 0 || this.values[last] !== timestamp) {
      this.starts.push(this.count);
      this.values.push(timestamp);
    }
    this.count++;
  }

  /** The timestamp of record `index` (0 ≤ index < length). */
  at(index: number): number {
    const starts = this.starts;
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((starts[middle] as number) <= index) low = middle;
      else high = middle - 1;
    }
    return this.values[low] as number;
  }

  /** Records [from, to) as their own runs (a batch split in two). */
  slice(from: number, to: number): TimestampRuns {
    const part = new TimestampRuns();
    for (let i = from; i < to; i++) part.push(this.at(i));
    return part;
  }

  toArray(): number[] {
    return Array.from({ length: this.count }, (_, i) => this.at(i));
  }
}
