import type { EventEmitter } from 'eventemitter3';
import type { EkafError } from './errors.js';
import type { ProducerEvents } from './events.js';
import { ProduceCall, type CallOutcome, type DeliveryReport } from './runtime/delivery.js';

/**
 * The ProduceCalls the producer makes: how each settles whoever waits on it (a promise, a
 * callback, or nobody) and reports its outcome as `delivery` / `delivery.failed` events. Apart
 * from producer.ts so that the facade reads as the API it offers; what happens when a call
 * completes is here.
 */

/**
 * Called once per produceAsync call: with the error and what was delivered, or with the reports.
 * Declared with one parameter (`(error) => …`), it is given no reports (none are built).
 */
export type DeliveryCallback = (
  error: EkafError | null,
  reports: readonly (DeliveryReport | undefined)[],
) => void;

export class ProducerCalls {
  constructor(
    /** The producer, whose listeners hear every call's outcome. */
    private readonly events: EventEmitter<ProducerEvents>,
    /** The runtime's calls not yet settled; a call leaves it when it completes. */
    private readonly pendingCalls: Set<ProduceCall>,
  ) {}

  // The call makers are methods so that their closures hold what a call needs and nothing else
  // (a closure made inside produceAsync would keep the call's records alive while it waits on disk).

  syncCallMaker(
    topic: string,
    count: number,
    single: boolean,
    resolve: (reports: DeliveryReport | DeliveryReport[]) => void,
    reject: (error: EkafError) => void,
  ): () => ProduceCall {
    return () =>
      new ProduceCall(topic, count, (done, outcome) => {
        if (outcome.ok) resolve(single ? (outcome.reports[0] as DeliveryReport) : outcome.reports);
        else reject(outcome.error);
        this.finish(done, outcome);
      });
  }

  asyncCallMaker(
    topic: string,
    count: number,
    callback: DeliveryCallback | undefined,
    wantReports: (ok: boolean) => boolean,
  ): () => ProduceCall {
    return () =>
      new ProduceCall(
        topic,
        count,
        (done, outcome) => {
          this.finish(done, outcome);
          if (callback !== undefined) {
            // Never inside produceAsync itself, and never inside the runtime's loops.
            queueMicrotask(() => {
              isolated(() => {
                callback(outcome.ok ? null : outcome.error, outcome.reports);
              });
            });
          }
        },
        wantReports,
      );
  }

  /**
   * A call nobody waits on: records read back from the spool (a previous producer's, or calls
   * without a callback that went to disk); its outcome reaches the `delivery` events only.
   */
  anonymousCall(topic: string, count: number): ProduceCall {
    return new ProduceCall(
      topic,
      count,
      (call, outcome) => {
        this.finish(call, outcome);
      },
      (ok) => this.events.listenerCount(ok ? 'delivery' : 'delivery.failed') > 0,
    );
  }

  private finish(call: ProduceCall, outcome: CallOutcome): void {
    this.pendingCalls.delete(call);
    if (outcome.ok) {
      isolated(() => this.events.emit('delivery', { topic: call.topic, reports: outcome.reports }));
      return;
    }
    isolated(() =>
      this.events.emit('delivery.failed', {
        topic: call.topic,
        error: outcome.error,
        failed: outcome.failed,
        reports: outcome.reports,
      }),
    );
  }
}

/** Runs application code (a listener, a callback); if it throws, rethrows on a later tick. */
export function isolated<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
    return undefined;
  }
}
