import type { ActorRefFrom, AnyActorLogic, AnyActorRef } from 'xstate';
import type { brokerConnectionMachine } from './broker-connection.machine.js';
import type { partitionWorkerMachine, WorkerRest } from './partition-worker.machine.js';
import type { producerIdentityMachine } from './producer-identity.machine.js';
import type { topicMachine } from './topic.machine.js';
import type { transactionMachine } from './transaction.machine.js';

/**
 * The registry's index: every actor of a producer by name, with its kind and how to start it
 * again. gproc keeps its names in ETS tables that any process reads without a message; this is
 * that table. The registry machine is the only writer (in its own transitions, as it spawns,
 * stops and restarts children), and the data path reads it synchronously: finding a partition's
 * worker is a Map lookup, not an event.
 */

export type ActorKind = 'metadata' | 'identity' | 'transaction' | 'broker' | 'topic' | 'partition';

/** How the registry (re)starts a child. */
export interface ChildSpec {
  kind: ActorKind;
  logic: AnyActorLogic;
  input: unknown;
}

/**
 * An actor at rest (hibernating, as an Erlang process does): no actor runs, its state value and
 * context are kept, and it is started again from them by the next event that concerns it
 * (the registry's `wake`). Only a state with no timers and no invoked actors can rest.
 */
export interface ActorRest {
  value: string;
  context: unknown;
}

export interface IndexEntry {
  readonly name: string;
  readonly spec: ChildSpec;
  /** The running actor; null while it rests (`rest`), or while a failed one waits for its restart. */
  ref: AnyActorRef | null;
  /** What it holds while at rest; null while it runs or waits for a restart. */
  rest: ActorRest | null;
  /** How many times it was restarted. */
  restarts: number;
  /** Why it last failed, null if it never did. */
  lastFailure: string | null;
}

/** The registry name of each kind of actor: `broker:<id>`, `topic:<name>`, `partition:<topic>:<p>`. */
export const actorName = {
  broker: (id: number) => `broker:${id}`,
  topic: (name: string) => `topic:${name}`,
  partition: (topic: string, partition: number) => `partition:${topic}:${partition}`,
} as const;

export type TopicRef = ActorRefFrom<typeof topicMachine>;
export type PartitionWorkerRef = ActorRefFrom<typeof partitionWorkerMachine>;
export type BrokerConnectionRef = ActorRefFrom<typeof brokerConnectionMachine>;
export type ProducerIdentityRef = ActorRefFrom<typeof producerIdentityMachine>;
export type TransactionRef = ActorRefFrom<typeof transactionMachine>;

/** The names of the producer's single actors. */
export const METADATA = 'metadata';
export const IDENTITY = 'identity';
/** A transactional producer's transaction actor. */
export const TRANSACTION = 'transaction';

export class ActorIndex {
  private readonly entries = new Map<string, IndexEntry>();

  // Typed lookups: the name says the kind, and the kind says the machine (checked, not assumed).

  topic(name: string): TopicRef | undefined {
    return this.topicNamed(actorName.topic(name));
  }

  worker(topic: string, partition: number): PartitionWorkerRef | undefined {
    return this.workerNamed(actorName.partition(topic, partition));
  }

  /** By registry name (`topic:orders`): for the data path, which keeps the name it made. */
  topicNamed(name: string): TopicRef | undefined {
    return this.ofKind(name, 'topic') as TopicRef | undefined;
  }

  /** By registry name (`partition:orders:3`): for the data path, which keeps the name it made. */
  workerNamed(name: string): PartitionWorkerRef | undefined {
    return this.ofKind(name, 'partition') as PartitionWorkerRef | undefined;
  }

  /** A partition worker at rest (its actor stopped, its state kept); undefined if it runs. */
  workerRest(name: string): WorkerRest | undefined {
    const entry = this.entries.get(name);
    if (entry?.rest == null) return undefined;
    if (entry.spec.kind !== 'partition')
      throw new Error(`actor index: ${name} is a ${entry.spec.kind}, not a partition`);
    return entry.rest as WorkerRest;
  }

  identity(): ProducerIdentityRef | undefined {
    return this.ofKind(IDENTITY, 'identity') as ProducerIdentityRef | undefined;
  }

  transaction(): TransactionRef | undefined {
    return this.ofKind(TRANSACTION, 'transaction') as TransactionRef | undefined;
  }

  broker(id: number): BrokerConnectionRef | undefined {
    return this.ofKind(actorName.broker(id), 'broker') as BrokerConnectionRef | undefined;
  }

  private ofKind(name: string, kind: ActorKind): AnyActorRef | undefined {
    const entry = this.entries.get(name);
    if (entry === undefined || entry.ref === null) return undefined;
    if (entry.spec.kind !== kind)
      throw new Error(`actor index: ${name} is a ${entry.spec.kind}, not a ${kind}`);
    return entry.ref;
  }

  /** The running actor named `name`, undefined when there is none (or it waits for a restart). */
  get(name: string): AnyActorRef | undefined {
    return this.entries.get(name)?.ref ?? undefined;
  }

  entry(name: string): IndexEntry | undefined {
    return this.entries.get(name);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every registered actor, in registration order (restarting ones included, ref null). */
  all(): IterableIterator<IndexEntry> {
    return this.entries.values();
  }

  /** Total restarts of every actor registered now. */
  get restarts(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.restarts;
    return total;
  }

  // The registry machine's writes.

  /** A child registered running (`ref`) or at rest (`rest`). */
  add(name: string, spec: ChildSpec, ref: AnyActorRef | null, rest: ActorRest | null = null): void {
    this.entries.set(name, { name, spec, ref, rest, restarts: 0, lastFailure: null });
  }

  failed(name: string, reason: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.ref = null;
    entry.rest = null;
    entry.lastFailure = reason;
  }

  /** The child's actor was stopped to rest, keeping `rest`. */
  rested(name: string, rest: ActorRest): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.ref = null;
    entry.rest = rest;
  }

  /** The child at rest runs again as `ref`. */
  woke(name: string, ref: AnyActorRef): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.ref = ref;
    entry.rest = null;
  }

  restarted(name: string, ref: AnyActorRef): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    entry.ref = ref;
    entry.restarts++;
  }

  remove(name: string): void {
    this.entries.delete(name);
  }
}
