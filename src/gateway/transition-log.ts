import type { Producer } from '../producer.js';
import type { ProducerEvents } from '../events.js';

/** One actor's change of state, as the visualizer's timeline lists it. */
export interface Transition {
  /** ms since the epoch. */
  at: number;
  actor: string;
  kind: string;
  from: string;
  to: string;
}

/**
 * The producer's last state changes (`keep`, default 200), newest last: the visualizer's
 * timeline on a page just opened (the live stream brings the ones after). A ring: a flapping
 * broker pushes older changes out, it does not grow the log.
 */
export class TransitionLog {
  private readonly entries: Transition[] = [];
  private readonly detach: () => void;

  constructor(
    producer: Producer,
    private readonly keep = 200,
    private readonly now: () => number = Date.now,
  ) {
    const onState: ProducerEvents['state'] = ({ actor, kind, from, to }) => {
      this.entries.push({ at: this.now(), actor, kind, from, to });
      if (this.entries.length > this.keep) this.entries.shift();
    };
    producer.on('state', onState);
    this.detach = () => producer.off('state', onState);
  }

  list(): Transition[] {
    return [...this.entries];
  }

  stop(): void {
    this.detach();
  }
}
