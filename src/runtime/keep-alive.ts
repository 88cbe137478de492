// When a producer keeps Node running. A daemon has its own reasons to live (a server, a
// consumer); a script that made a producer and produced nothing, or whose records are all
// acknowledged, must be free to exit without calling close() — as a JVM exits past the Java
// producer's daemon I/O thread. A script whose records are still on their way must not: Node
// would exit with them accepted and undelivered.
//
// So everything the producer holds for itself is unreferenced (sockets, the machines' timers:
// retry backoffs, metadata refreshes, idle hibernation), and one referenced handle is held while
// records are accepted and not yet settled (buffer-budget.ts counts them) and while a caller
// awaits an operation (a flush, a transaction's commit) that may be waiting on those timers.
import type { ActorOptions, AnyActorLogic } from 'xstate';

/** xstate's clock interface (not exported by name). */
type Clock = NonNullable<ActorOptions<AnyActorLogic>['clock']>;

/** xstate's clock for the producer's actors: their delays do not keep Node running. */
export const UNREFERENCED_CLOCK: Clock = {
  setTimeout(fn: (...args: unknown[]) => void, ms: number) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(id: unknown) {
    clearTimeout(id as NodeJS.Timeout);
  },
};

/**
 * One referenced handle, held while anything holds it: the records in the buffer (one hold
 * while there are any) and each operation a caller awaits that may wait on the machines' timers
 * alone (flush, close, a transaction's begin, commit, abort, offsets).
 */
export class KeepAlive {
  private holders = 0;
  private handle: NodeJS.Timeout | undefined;

  /** Takes a hold; the function returned lets it go (once, however often it is called). */
  hold(): () => void {
    if (this.holders++ === 0) {
      // Never fires (the longest delay Node allows); it only holds the event loop open.
      this.handle = setInterval(noop, 2 ** 31 - 1);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) {
        clearInterval(this.handle);
        this.handle = undefined;
      }
    };
  }

  /** `work`, with a hold until it settles. */
  during<T>(work: Promise<T>): Promise<T> {
    const release = this.hold();
    return work.finally(release);
  }
}

function noop(): void {}
