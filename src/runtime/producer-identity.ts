import {
  createActor,
  fromPromise,
  type Actor,
  type ActorRefFrom,
  type EventFromLogic,
  type InspectionEvent,
  type Observer,
} from 'xstate';
import type { ErrorSummary } from '../../machines/describe-error.js';
import { UNREFERENCED_CLOCK } from './keep-alive.js';
import {
  producerIdentityMachine,
  type InitProducerIdAnswer,
  type ProducerIdentityInput,
} from '../../machines/producer-identity.machine.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import type { MetadataClient } from './metadata-client.js';
import type { ProducerStamp } from './partition-sequence.js';

/**
 * The runtime's side of the producer identity (machines/producer-identity.machine.ts): the
 * implementations the machine is given, and a view that answers the data path's questions
 * (`stamp`, `canSend`) from the actor's snapshot.
 *
 * Partitions stamp their batches with the id and keep their own epoch and sequence numbers from
 * then on (see PartitionSequence); a new id is asked for only when a partition has used up the
 * epochs of the current one (`renewFor`). Nothing is sent before the first id arrives.
 */

export type IdentityState = 'off' | 'pending' | 'ready' | 'unsupported' | 'stopped';

/** What inspect() says of the producer identity. */
export interface IdentityDescription {
  idempotence: IdentityState;
  producerId: number | null;
  producerEpoch: number | null;
  producerIdsObtained: number;
  /** Per-partition epoch bumps, over every partition (each partition counts its own too). */
  epochBumps: number;
}

/** What the runtime does when the identity changes. */
export interface IdentityHooks {
  /** An id was obtained (the first one, or a renewal): wake the senders. */
  onReady(): void;
  /** The broker has no InitProducerId: idempotence is off (warn, and wake the senders). */
  onUnsupported(): void;
}

export type IdentityLogic = ReturnType<typeof identityLogic>;
export type IdentityRef = ActorRefFrom<typeof producerIdentityMachine>;

/** The machine with the runtime's implementations: InitProducerId through `client`, `hooks`. */
export function identityLogic(client: Pick<MetadataClient, 'initProducerId'>, hooks: IdentityHooks) {
  return producerIdentityMachine.provide({
    actors: {
      initProducerId: fromPromise<InitProducerIdAnswer>(async () => {
        const answer = await client.initProducerId();
        if (answer === null || answer.errorCode === ErrorCode.NONE) return answer;
        return { ...answer, errorName: kafkaError(answer.errorCode).name };
      }),
    },
    actions: {
      identityReady: () => {
        hooks.onReady();
      },
      identityUnsupported: () => {
        hooks.onUnsupported();
      },
    },
  });
}

/**
 * Reads an actor of the producer-identity machine, wherever it runs (a child of the registry,
 * or the actor of a ProducerIdentity). `stamp` and `canSend` are read on every drain: they read
 * the current snapshot and allocate nothing. While there is no actor (a restart under way),
 * the identity is pending: nothing is sent.
 */
export class IdentityView {
  constructor(private readonly ref: () => IdentityRef | undefined) {}

  /** The snapshot `stamp` and `canSend` were last read from, and what they said. */
  private readSnapshot: unknown = undefined;
  private readStamp: ProducerStamp | null = null;
  private readCanSend = false;

  /**
   * Reads `stamp` and `canSend` from the actor's snapshot. They are asked on every drain:
   * `matches()` parses its argument each time, so the answers are kept per snapshot (immutable,
   * a new one per transition).
   */
  private read(): void {
    const snapshot = this.ref()?.getSnapshot();
    if (snapshot === this.readSnapshot) return;
    this.readSnapshot = snapshot;
    if (snapshot === undefined || snapshot.matches('stopped')) {
      this.readStamp = null;
      this.readCanSend = false;
      return;
    }
    // Also while renewing (or retrying a renewal): the other partitions keep the id they have.
    this.readStamp = snapshot.context.stamp;
    this.readCanSend =
      snapshot.matches('disabled') || snapshot.matches('unsupported') || snapshot.context.stamp !== null;
  }

  /** What partitions stamp with; null when idempotence is off, unsupported, or not ready yet. */
  get stamp(): ProducerStamp | null {
    this.read();
    return this.readStamp;
  }

  /** Whether batches may be sent: not before the first id (nor after stop()). */
  get canSend(): boolean {
    this.read();
    return this.readCanSend;
  }

  get state(): IdentityState {
    const snapshot = this.ref()?.getSnapshot();
    if (snapshot === undefined) return 'pending';
    if (snapshot.matches('disabled')) return 'off';
    if (snapshot.matches('unsupported')) return 'unsupported';
    if (snapshot.matches('stopped')) return 'stopped';
    return snapshot.context.stamp === null ? 'pending' : 'ready';
  }

  /** Why the latest InitProducerId failed; null once one succeeds. */
  get lastError(): ErrorSummary | null {
    return this.ref()?.getSnapshot().context.lastError ?? null;
  }

  /** How many producer ids were obtained (inspect()). */
  get idsObtained(): number {
    return this.ref()?.getSnapshot().context.idsObtained ?? 0;
  }

  /** Obtains the first id (once brokers are known); called on every metadata answer. */
  start(): void {
    // Only `waiting` takes it: no event for the metadata answers after the first.
    if (this.ref()?.getSnapshot().matches('waiting') === true) this.send({ type: 'start' });
  }

  /**
   * A partition used up the epochs of `producerId`: obtain a new id, unless that was done
   * already. The other partitions keep the id they have.
   */
  renewFor(producerId: number): void {
    // Asked on every drain of that partition until the new id comes: outside `ready` the machine
    // ignores it anyway, so no event is sent (an xstate event costs ~13 µs).
    if (this.ref()?.getSnapshot().matches('ready') === true)
      this.send({ type: 'epochs.exhausted', producerId });
  }

  /** A partition started its sequence again under `epoch` (shown by inspect and the visualizer). */
  epochBumped(topic: string, partition: number, epoch: number): void {
    this.send({ type: 'epoch.bumped', topic, partition, epoch });
  }

  /** No more ids: an answer still on its way is dropped. */
  stop(): void {
    this.send({ type: 'stop' });
  }

  /** To a running actor only: xstate warns about events sent to a stopped one. */
  private send(event: EventFromLogic<IdentityLogic>): void {
    const ref = this.ref();
    if (ref?.getSnapshot().status === 'active') ref.send(event);
  }

  /** For inspect(). */
  describe(): IdentityDescription {
    const context = this.ref()?.getSnapshot().context;
    const stamp = context?.stamp ?? null;
    return {
      idempotence: this.state,
      producerId: stamp?.producerId ?? null,
      producerEpoch: stamp?.producerEpoch ?? null,
      producerIdsObtained: this.idsObtained,
      epochBumps: context?.epochBumps ?? 0,
    };
  }
}

/**
 * A producer identity that runs its own actor, started at once: the runtime's original
 * construction. The runtime may instead register `identityLogic(...)` as a child of another
 * actor (with a ProducerIdentityInput) and read it with an IdentityView.
 */
export class ProducerIdentity extends IdentityView {
  readonly actor: Actor<IdentityLogic>;

  constructor(
    enabled: boolean,
    client: Pick<MetadataClient, 'initProducerId'>,
    /** The delay after `attempts` consecutive failures (replaces the machine's own backoff). */
    backoff: (attempts: number) => number,
    onReady: () => void,
    onUnsupported: () => void,
    inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void),
  ) {
    const logic = identityLogic(client, { onReady, onUnsupported }).provide({
      delays: { backoff: ({ context }) => backoff(context.attempts) },
    });
    const input: ProducerIdentityInput = { enabled, retryBackoffMs: 0, retryBackoffMaxMs: 0 };
    const actor = createActor(logic, { input, inspect, clock: UNREFERENCED_CLOCK });
    super(() => actor);
    this.actor = actor;
    actor.start();
  }
}
