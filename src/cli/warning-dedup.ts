// A warning that repeats is printed once, then as a count. An outage makes the producer warn on
// every reconnect and metadata retry (about four lines a second against three brokers), which
// buries everything else on the terminal; what an operator needs is the first line, how often it
// goes on, and when it stops.
//
// Two warnings are the same when their text is: the numbers in it name things (broker ids,
// ports, partitions, timeouts), so they are part of the key, while what counts (attempts, how
// long) travels in the fields, which are not. Errors are never held back: each may carry a
// different stack under the same text.
import type { Logger } from '../config.js';

/** Time and timers; xstate's SimulatedClock is one (the tests advance it by hand). */
export interface DedupClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock; its timers do not keep the process alive. */
export const SYSTEM_CLOCK: DedupClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export interface DedupOptions {
  /** Least time between two lines about one warning, in ms (default 10 000). */
  intervalMs?: number;
  clock?: DedupClock;
}

export const DEDUP_INTERVAL_MS = 10_000;
/**
 * Most distinct warnings held at once; past it, new ones print as they come. Bounds memory and
 * timers when warnings name something unbounded (a topic name per request, say).
 */
export const DEDUP_MAX_KEYS = 1000;

/** How a line is printed: the wrapped logger's `warn`. */
type Print = (message: string, fields?: object) => void;

/** A warning printed in the last interval, and what came of it since. */
interface Seen {
  /** The latest fields it came with (the counters they hold are the latest ones). */
  fields: object | undefined;
  /** Repeats since the last line about it. */
  count: number;
  /** Repeats since it was first printed. */
  total: number;
  /** When the last line about it was printed (ms). */
  lineAt: number;
  timer: unknown;
}

/**
 * Prints a warning the first time, then holds its repeats back: at most one line per interval
 * says how many there were ("… (repeated 37 times in the last 10 s)"), and, once a whole
 * interval passes without one, a last line says that it stopped ("… (not seen for 10 s; 124
 * times in all)"). A warning seen once and not again is simply forgotten after an interval.
 */
export class WarningDedup {
  private readonly seen = new Map<string, Seen>();
  private readonly intervalMs: number;
  private readonly clock: DedupClock;

  constructor(
    private readonly print: Print,
    options: DedupOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEDUP_INTERVAL_MS;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be > 0 (got ${this.intervalMs})`);
  }

  readonly warn = (message: string, fields?: object): void => {
    const seen = this.seen.get(message);
    if (seen !== undefined) {
      seen.count++;
      seen.total++;
      seen.fields = fields;
      return;
    }
    this.print(message, fields);
    if (this.seen.size >= DEDUP_MAX_KEYS) return;
    const now = this.clock.now();
    const entry: Seen = { fields, count: 0, total: 0, lineAt: now, timer: undefined };
    this.seen.set(message, entry);
    this.schedule(message, entry);
  };

  /** Warnings being held back (for tests and metrics). */
  get size(): number {
    return this.seen.size;
  }

  /** Prints the repeats not reported yet, and forgets every warning: at exit, say. */
  flush(): void {
    const now = this.clock.now();
    for (const [message, entry] of this.seen) {
      this.clock.clearTimeout(entry.timer);
      if (entry.count > 0) this.printRepeats(message, entry, now);
    }
    this.seen.clear();
  }

  private schedule(message: string, entry: Seen): void {
    entry.timer = this.clock.setTimeout(() => {
      this.due(message, entry);
    }, this.intervalMs);
  }

  /** An interval since the last line about `message`: its count, or that it stopped. */
  private due(message: string, entry: Seen): void {
    const now = this.clock.now();
    if (entry.count > 0) {
      this.printRepeats(message, entry, now);
      entry.count = 0;
      entry.lineAt = now;
      this.schedule(message, entry);
      return;
    }
    this.seen.delete(message);
    if (entry.total > 0) {
      this.print(
        `${message} (not seen for ${seconds(now - entry.lineAt)}; ${entry.total + 1} times in all)`,
        entry.fields,
      );
    }
  }

  private printRepeats(message: string, entry: Seen, now: number): void {
    const times = entry.count === 1 ? 'once' : `${entry.count} times`;
    this.print(`${message} (repeated ${times} in the last ${seconds(now - entry.lineAt)})`, entry.fields);
  }
}

/** A logger whose warnings go through a WarningDedup; `flush()` prints what it holds back. */
export function dedupWarnings(logger: Logger, options: DedupOptions = {}): Logger & { flush(): void } {
  const dedup = new WarningDedup(logger.warn.bind(logger), options);
  return {
    debug: logger.debug.bind(logger),
    info: logger.info.bind(logger),
    warn: dedup.warn,
    error: logger.error.bind(logger),
    flush: () => {
      dedup.flush();
    },
  };
}

/** "10 s", "2.5 s": tenths below ten seconds, where they still say something. */
function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? String(Math.round(s * 10) / 10) : String(Math.round(s))} s`;
}
