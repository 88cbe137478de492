import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ActorIndex } from '../../machines/actor-index.js';
import type { PartitionWorkerEvent } from '../../machines/partition-worker.machine.js';
import type { RegistryEvent } from '../../machines/registry.machine.js';
import type { ActorMonitor } from './actor-monitor.js';

/** The one state a partition worker rests in: no timers, no invoked actors, nothing to say. */
const RESTING_STATE = 'ready';

/**
 * Partition workers at rest, as an Erlang process hibernates: a worker that is `ready` has
 * nothing to do until something goes wrong (the success path sends it no events), yet an xstate
 * actor holds ~3 KB and takes tens of microseconds to create. So once a worker is `ready` and
 * the turn of the event loop is over, its actor is stopped and the registry keeps its state
 * (ActorRest: `ready` and its context, ~200 B); the next event that concerns it (a lost
 * connection, a retriable batch, a new leader) starts it again in that state, through the
 * registry's `wake`, before it is given the event. A worker born when its leader's connection is
 * up starts at rest at once (src/runtime/topology-follower.ts): a new topic of 1 000 partitions
 * makes no actor at all.
 *
 * What stays true while it rests:
 * - The data path sees it `ready` (PartitionNode.isReady), as it would the actor.
 * - Its broker hears of it: a resting worker does not follow its broker's actor (a stopped
 *   actor cannot be told); the broker's connection going down wakes the workers it leads
 *   (connectionLost), and a woken worker follows its broker again (`resumed`).
 * - It hears what it would have heard in the order it would have: a `conn.down` owed to it is
 *   given before any later event that wakes it (see connectionLost).
 * - The visualizer and inspect() list it, in state `ready` (introspection.ts); `state` events
 *   and logs go on from `ready` when it wakes (the monitor is told its state).
 * - It holds no timer: `ready` has none.
 */
export class Hibernation {
  /** Workers seen `ready` in this turn of the event loop. */
  private readonly drowsy = new Set<string>();
  /** Resting workers whose leader's connection was lost, with the news they are owed. */
  private readonly owed = new Map<string, PartitionWorkerEvent>();
  private scheduled = false;
  private stopped = false;

  constructor(
    private readonly index: ActorIndex,
    private readonly registry: { send(event: RegistryEvent): void },
    private readonly monitor: ActorMonitor,
  ) {}

  /** From the registry's inspector: a worker that entered (or stayed in) `ready` may rest. */
  readonly inspect = (inspection: InspectionEvent): void => {
    if (inspection.type !== '@xstate.snapshot') return;
    const ref = inspection.actorRef as AnyActorRef;
    const name = ref.id;
    const snapshot = inspection.snapshot as { status: string; value?: unknown };
    if (snapshot.status !== 'active' || snapshot.value !== RESTING_STATE) return;
    if (this.index.get(name) !== ref || this.index.entry(name)?.spec.kind !== 'partition') return;
    this.drowsy.add(name);
    if (!this.scheduled && !this.stopped) {
      this.scheduled = true;
      // After the turn: the transition that made it `ready` (and whatever it started) is over.
      setImmediate(this.rest);
    }
  };

  /** Puts to rest the workers still `ready`; they unfollow their broker (a stopped actor cannot be told). */
  private readonly rest = (): void => {
    this.scheduled = false;
    if (this.stopped) return;
    for (const name of this.drowsy) {
      const ref = this.index.workerNamed(name);
      const snapshot = ref?.getSnapshot();
      if (ref === undefined || snapshot?.status !== 'active' || snapshot.value !== RESTING_STATE) continue;
      snapshot.context.broker?.send({ type: 'unfollow', worker: ref });
      this.registry.send({ type: 'rest', name });
    }
    this.drowsy.clear();
  };

  /**
   * Wakes a resting worker for `event`: the registry starts it again, tells it `resumed` (it
   * follows its broker again with `resync`, and hears `conn.down` if the connection went down
   * while it rested), then gives it the event. A `conn.down` it is owed comes first.
   */
  wake(name: string, event: PartitionWorkerEvent): void {
    this.payOwed(name);
    this.registry.send({ type: 'wake', name, event });
  }

  /**
   * The connection of the broker leading `names` was lost. Its followers are told `conn.down`
   * as its actor leaves `ready`; the resting ones among `names` are owed the same news. They
   * are woken with it after the broker's action (a worker's transitions run outside it, as its
   * followers' do), but whatever wakes one before that gets the news first. Without the debt,
   * a worker woken meanwhile (its broker moved: the new actor is named its leader at once, and
   * the old one, stopped, answers no `resync`) would take the new leader before the loss, go
   * `connecting` instead of `buffering`, and never report `worker.down` nor `still_down`.
   */
  connectionLost(names: readonly string[], error: { code: string; message: string }): void {
    const resting = names.filter((name) => this.index.workerRest(name) !== undefined);
    if (resting.length === 0) return;
    for (const name of resting) this.owed.set(name, { type: 'conn.down', error });
    queueMicrotask(() => {
      for (const name of resting) this.payOwed(name);
    });
  }

  /** Wakes the worker with the news it is owed, if any (once: a worker woken is told by its broker). */
  private payOwed(name: string): void {
    const news = this.owed.get(name);
    if (news === undefined) return;
    this.owed.delete(name);
    this.registry.send({ type: 'wake', name, event: news });
  }

  /**
   * The registry started a resting worker again: the monitor learns the state it resumes in, so
   * that its next transition is reported from there. (The registry then tells it `resumed`, on
   * which it follows its broker again, and gives it its event.)
   */
  woken(ref: AnyActorRef): void {
    this.monitor.resumed(ref, RESTING_STATE);
  }

  /** No more rest: the producer is closing. */
  stop(): void {
    this.stopped = true;
    this.drowsy.clear();
    this.owed.clear();
  }
}
