// A paced producer for Node clients, by the rule the Java and C drivers follow
// (test/kafka/java/ProducerBench.java, bench/c/rdkafka-bench.c): record i is due at
// start + i / rate; about every millisecond (a timer) every record whose time has come is handed
// to the client. A record's latency runs from its due time to its acknowledgement, so a client
// (or an event loop) that falls behind the rate shows it as latency instead of hiding it.
import { nowMs, percentile } from './stats.js';

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class PacedRun {
  /** Per record: due time to acknowledgement, in ms (NaN until acknowledged). */
  private readonly latencies: Float64Array;
  private readonly msPerRecord: number;
  private startMs = 0;
  private ackedCount = 0;
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly count: number,
    rate: number,
  ) {
    this.latencies = new Float64Array(count).fill(Number.NaN);
    this.msPerRecord = 1000 / rate;
  }

  /**
   * Hands the records to `send` as they fall due: send(from, to) gets records [from, to) and
   * must call acked() for each (or a range) and failed() on an error. Resolves when every record
   * was acknowledged; rejects on the first failure.
   */
  run(send: (from: number, to: number) => void): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.startMs = nowMs();
    let next = 0;
    const tick = (): void => {
      if (this.failure !== undefined) return;
      const due = Math.min(this.count, Math.floor((nowMs() - this.startMs) / this.msPerRecord) + 1);
      if (due > next) {
        try {
          send(next, due);
        } catch (error) {
          this.failed(error as Error);
          return;
        }
        next = due;
      }
      if (next < this.count) setTimeout(tick, 1);
    };
    tick();
    return done;
  }

  /** Records [from, to) are acknowledged now. */
  acked(from: number, to = from + 1): void {
    const now = nowMs();
    for (let i = from; i < to; i++) this.latencies[i] = now - (this.startMs + i * this.msPerRecord);
    this.ackedCount += to - from;
    if (this.ackedCount === this.count) this.settle?.resolve();
  }

  failed(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.settle?.reject(error);
  }

  summary(): LatencySummary {
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      p999Ms: percentile(sorted, 99.9),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    };
  }
}
