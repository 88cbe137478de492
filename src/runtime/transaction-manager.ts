import { fromPromise, waitFor, type ActorRefFrom, type EventFromLogic, type SnapshotFrom } from 'xstate';
import { describeError, originalError, type ErrorSummary } from '../../machines/describe-error.js';
import {
  transactionMachine,
  type TransactionStamp,
  type TransactionStep,
} from '../../machines/transaction.machine.js';
import {
  EkafError,
  InvalidTransactionStateError,
  KafkaProtocolError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionAbortedError,
  TransactionFatalError,
  TransactionTimeoutError,
} from '../errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { CoordinatorRequests } from './coordinator-requests.js';
import type { ProduceCall } from './delivery.js';
import type { PartitionNode, StampSource } from './partition-node.js';
import type { ProducerStamp } from './partition-sequence.js';
import type { SealedBatch } from './sealed-batch.js';
import { FATAL_PRODUCE_ERRORS, needsNewEpoch, TransactionRequests } from './transaction-requests.js';

/**
 * The runtime's side of the transaction actor (machines/transaction.machine.ts): the protocol
 * work its states invoke, the gate that keeps a partition's batches back until the partition is
 * part of the transaction, and the stamp (producer id, epoch) the partitions use.
 *
 * How a record of a transaction travels (transactions v1):
 * 1. `tx.produce` hands it to the data path like any record; it is appended to its partition's
 *    log, and the router reports the partitions it touched (`partitionsUsed`).
 * 2. A partition not yet in the transaction is queued; one AddPartitionsToTxn at a time adds the
 *    queued ones (records appended meanwhile queue the next). Until then `admits()` keeps the
 *    partition's batches back; once added, its leader is woken.
 * 3. `commit` waits for every record of the transaction (each acknowledged or failed), for the
 *    AddPartitionsToTxn and offset commits under way, then sends EndTxn(commit).
 * With transactions v2 (KIP-890) step 2 disappears (Produce adds the partition itself) and every
 * EndTxn hands back a new epoch.
 */

export type TransactionLogic = ReturnType<TransactionManager['logic']>;
export type TransactionRef = ActorRefFrom<typeof transactionMachine>;
type TransactionSnapshot = SnapshotFrom<typeof transactionMachine>;

/** One offset to commit with a transaction (consume-transform-produce). */
export interface TransactionOffset {
  topic: string;
  partition: number;
  /** The next offset to read: the last record processed + 1. */
  offset: number;
  /** The leader epoch of the last record processed, -1 if unknown. */
  leaderEpoch?: number;
  metadata?: string | null;
}

/** `tx.sendOffsets(...)`: the group's offsets, committed if and only if the transaction commits. */
export interface SendOffsetsOptions {
  groupId: string;
  offsets: readonly TransactionOffset[];
  /** The consumer's generation (KIP-447 fencing of zombie consumers); -1 if unknown. */
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

/** What the manager needs of the runtime around it. */
export interface TransactionHost {
  readonly transactionalId: string;
  readonly transactionTimeoutMs: number;
  /** The transaction actor, from the registry's index. */
  actor(): TransactionRef | undefined;
  /** Every partition of every topic in use. */
  partitions(): Iterable<PartitionNode>;
  /** Calls accepted and not yet done: on a transactional producer, the current transaction's. */
  readonly pendingCalls: Set<ProduceCall>;
  /** Makes every open batch leave now and wakes every sender. */
  flushAll(): void;
  wakeLeader(node: PartitionNode): void;
  wakeAll(): void;
  /** Fails a batch that will not be sent (its records settle with `error`). */
  batchFailed(batch: SealedBatch, error: EkafError): void;
  /** Fails every record still waiting for its topic's metadata (an abort). */
  failWaiting(error: EkafError): void;
}

export class TransactionManager implements StampSource {
  /** Partitions whose batches may leave in the current transaction (v1: added to it). */
  private readonly added = new Set<PartitionNode>();
  /** Partitions waiting for AddPartitionsToTxn. */
  private readonly queued = new Set<PartitionNode>();
  /** The AddPartitionsToTxn under way, if any. */
  private adding: Promise<void> | null = null;
  /**
   * A fence or a fatal error met by work outside the states' own (AddPartitionsToTxn, an offset
   * commit) while the machine cannot take it (committing): the commit ends with it.
   */
  private brokenBy: EkafError | null = null;
  /** Every `tx.produce` not settled yet (see track). */
  private readonly admissions = new Set<Promise<void>>();
  /** Offset commits under way (commit waits for them). */
  private readonly offsetCommits = new Set<Promise<void>>();
  /** The coordinator knows of the current transaction (a partition or offsets were added to it). */
  private begunAtCoordinator = false;
  /** The coordinator requests, and the protocol (v1, v2) they speak. */
  private readonly requests: TransactionRequests;

  constructor(
    private readonly host: TransactionHost,
    coordinator: CoordinatorRequests,
  ) {
    this.requests = new TransactionRequests(host.transactionalId, host.transactionTimeoutMs, coordinator);
  }

  /** The machine with the runtime's implementations. */
  logic() {
    return transactionMachine.provide({
      actors: {
        initialize: fromPromise<TransactionStep>(() => this.initialize(null)),
        commitTransaction: fromPromise<TransactionStep>(() => this.commitWork()),
        abortTransaction: fromPromise<TransactionStep, { bumpEpoch: boolean }>(({ input }) =>
          this.abortWork(input.bumpEpoch),
        ),
      },
      actions: {
        failUnsent: ({ context }) => {
          this.failUnsent(this.typedError(context.abortableError, 'the transaction must be aborted'));
        },
        failHeld: ({ context }) => {
          this.failHeld(this.typedError(context.lastError, 'the transactional producer cannot go on'));
        },
      },
    });
  }

  // ---------------------------------------------------------------- the API's operations

  /** Initializes if needed, then opens a transaction; resolves with its number. */
  async begin(): Promise<number> {
    await this.initialized();
    // Read again after the await, and begin in the same turn: two calls cannot both see `ready`.
    const snapshot = this.snapshot();
    this.refuseBroken(snapshot);
    if (snapshot.matches('unresolved')) throw this.unresolvedError(snapshot, 'beginTransaction()');
    if (!snapshot.matches('ready')) {
      throw new InvalidTransactionStateError(
        stateName(snapshot),
        'beginTransaction(): a transaction is already open (one at a time per producer)',
      );
    }
    this.added.clear();
    this.queued.clear();
    this.begunAtCoordinator = false;
    this.brokenBy = null;
    this.send({ type: 'begin' });
    return this.snapshot().context.serial;
  }

  /**
   * Initializes if not done yet (Java `initTransactions()`): FindCoordinator and InitProducerId,
   * which fence older producers with the transactional id and abort what they left open.
   */
  async initialized(): Promise<TransactionSnapshot> {
    if (this.snapshot().matches('uninitialized')) this.send({ type: 'init' });
    // Also when another call started the initialization: wait for its outcome.
    const snapshot = await this.settle(this.snapshot(), 'initializing');
    if (snapshot.matches('uninitialized'))
      throw this.failure(snapshot, 'initializing the transactional producer');
    this.refuseBroken(snapshot);
    return snapshot;
  }

  /**
   * Follows a `tx.produce` of transaction `serial` until it settles: commit and abort wait for
   * every one (also those still waiting for room in the buffer, not yet calls), and one that fails
   * before its records were even accepted (an invalid record, a full buffer) makes the
   * transaction abortable too, as any failed send() does in Java.
   */
  track<T>(serial: number, produce: Promise<T>): Promise<T> {
    const settled = produce.then(
      () => undefined,
      (error: unknown) => {
        const snapshot = this.host.actor()?.getSnapshot();
        const current =
          snapshot !== undefined &&
          snapshot.context.serial === serial &&
          (snapshot.matches('inTransaction') || snapshot.matches('committing'));
        if (current) this.recordsFailed(asEkafError(error));
      },
    );
    this.admissions.add(settled);
    void settled.finally(() => this.admissions.delete(settled));
    return produce;
  }

  /** Commits transaction `serial`: resolves once its records are visible to read_committed readers. */
  async commit(serial: number): Promise<void> {
    const snapshot = this.current(serial, 'commit()', true);
    if (snapshot.matches({ inTransaction: 'abortable' })) throw this.abortableError(snapshot);
    this.send({ type: 'commit' });
    const after = await this.settle(this.snapshot(), 'committing');
    if (after.matches('ready')) return;
    throw this.failure(after, 'commit()');
  }

  /** Aborts transaction `serial`: none of its records will ever be visible to read_committed readers. */
  async abort(serial: number): Promise<void> {
    const snapshot = this.current(serial, 'abort()', true);
    if (snapshot.matches('unresolved')) throw this.unresolvedError(snapshot, 'abort()');
    this.send({ type: 'abort' });
    const after = await this.settle(this.snapshot(), 'aborting');
    if (after.matches('ready')) return;
    throw this.failure(after, 'abort()');
  }

  /** Aborts the open transaction, if any (close()); a failure is ignored (the coordinator's timeout aborts it). */
  async abortOpen(): Promise<void> {
    const actor = this.host.actor();
    if (actor === undefined) return;
    let snapshot = actor.getSnapshot();
    // A commit or an abort under way finishes first.
    if (snapshot.matches('committing') || snapshot.matches('aborting')) {
      snapshot = await waitFor(actor, (s) => !s.matches('committing') && !s.matches('aborting'), {
        timeout: Infinity,
      });
    }
    if (!snapshot.matches('inTransaction')) return;
    try {
      await this.abort(snapshot.context.serial);
    } catch {
      // The coordinator aborts it after transactionTimeoutMs anyway; close() goes on.
    }
  }

  /** Throws unless records may be produced in transaction `serial` now. */
  checkProduce(serial: number): void {
    const snapshot = this.current(serial, 'tx.produce()');
    if (snapshot.matches({ inTransaction: 'abortable' })) throw this.abortableError(snapshot);
  }

  /** Records of the current transaction failed: it cannot commit any more. */
  recordsFailed(error: EkafError): void {
    if (error instanceof TransactionAbortedError) return; // the abort's own doing
    const code = error instanceof KafkaProtocolError ? error.errorCode : -1;
    if (FATAL_PRODUCE_ERRORS.has(code)) {
      this.send({
        type: 'fatal',
        error: describeError(
          new TransactionFatalError(`a record of the transaction failed: ${error.message}`, error),
        ),
      });
      return;
    }
    if (code === ErrorCode.PRODUCER_FENCED) {
      this.send({
        type: 'fenced',
        error: describeError(new ProducerFencedError(this.host.transactionalId, error.message, error)),
      });
      return;
    }
    // INVALID_PRODUCER_EPOCH from a partition: the coordinator bumped the epoch, usually because
    // the transaction outlived transactionTimeoutMs (KIP-588); the abort's re-initialization
    // tells a timeout from a fence.
    const bumpEpoch = code === ErrorCode.INVALID_PRODUCER_EPOCH;
    const reason = bumpEpoch ? this.timeoutReason(error) : error;
    this.send({
      type: 'abortable',
      error: describeError(
        new TransactionAbortableError(`a record of the transaction failed: ${reason.message}`, reason),
      ),
      bumpEpoch,
    });
  }

  /** Commits offsets of `options.groupId` with transaction `serial`. */
  async sendOffsets(serial: number, options: SendOffsetsOptions): Promise<void> {
    this.checkProduce(serial);
    const work = this.commitOffsets(options);
    const tracked = work.catch(() => undefined);
    this.offsetCommits.add(tracked);
    try {
      await work;
    } catch (error) {
      const typed = asEkafError(error);
      this.reportFailure(typed, 'sendOffsets');
      throw typed;
    } finally {
      this.offsetCommits.delete(tracked);
    }
  }

  /** The transaction actor's state, for errors and inspect(). */
  get stateName(): string {
    const actor = this.host.actor();
    return actor === undefined ? 'restarting' : stateName(actor.getSnapshot());
  }

  /** Which Produce version the senders may use: v12 announces transactions v2 (KIP-890). */
  get maxProduceVersion(): number {
    return this.requests.maxProduceVersion;
  }

  stop(): void {
    this.requests.close();
    this.send({ type: 'stop' });
  }

  // ---------------------------------------------------------------- the data path (StampSource)

  /** The snapshot `canSend` was last read from, and what it said. */
  private readSnapshot: unknown = undefined;
  private readCanSend = false;

  /**
   * Batches may leave: a transaction is open, committing or aborting (stamped batches in doubt
   * are resent until their fate is known). Asked on every drain of every partition: `matches()`
   * parses its argument each time, so the answer is kept per snapshot (immutable).
   */
  get canSend(): boolean {
    const snapshot = this.host.actor()?.getSnapshot();
    if (snapshot !== this.readSnapshot) {
      this.readSnapshot = snapshot;
      this.readCanSend =
        snapshot !== undefined &&
        snapshot.context.stamp !== null &&
        (snapshot.matches('inTransaction') || snapshot.matches('committing') || snapshot.matches('aborting'));
    }
    return this.readCanSend;
  }

  get stamp(): ProducerStamp | null {
    return this.host.actor()?.getSnapshot().context.stamp ?? null;
  }

  /**
   * A partition's sequence must start again (a batch failed for good, or the broker lost our
   * state): only a new epoch from the coordinator can do that, and only after an abort.
   */
  renewFor(): void {
    this.send({
      type: 'abortable',
      error: describeError(
        new TransactionAbortableError(
          'a partition lost its sequence (a batch failed for good): it needs a new epoch',
        ),
      ),
      bumpEpoch: true,
    });
  }

  epochBumped(): void {
    // Partitions take the coordinator's epochs only; there is nothing to count.
  }

  /** Whether `node`'s batches may leave now: it is part of the current transaction. */
  admits(node: PartitionNode): boolean {
    return this.requests.protocol === 'v2' || this.added.has(node);
  }

  /** The router appended records of the current transaction to these partitions. */
  partitionsUsed(nodes: readonly PartitionNode[]): void {
    // Records that reach their partitions after the transaction turned abortable (or the producer
    // broke) can only be aborted: they fail now rather than wait.
    const snapshot = this.host.actor()?.getSnapshot();
    if (
      snapshot !== undefined &&
      !snapshot.matches({ inTransaction: 'open' }) &&
      !snapshot.matches('committing')
    ) {
      if (snapshot.matches({ inTransaction: 'abortable' })) this.failUnsent(this.abortableError(snapshot));
      else if (snapshot.matches('fenced') || snapshot.matches('fatal'))
        this.failHeld(this.typedError(snapshot.context.lastError, 'the transactional producer cannot go on'));
      // Aborting (or already ended): these records arrived after the abort began (they waited for
      // their topic's metadata). Sent now, transactions v2 would add their partition to a
      // transaction the abort is about to skip, for the next commit to make visible.
      else this.failUnsent(new TransactionAbortedError());
      return;
    }
    let fresh = 0;
    for (const node of nodes) {
      if (this.added.has(node) || this.queued.has(node)) continue;
      if (this.requests.protocol === 'v2') {
        this.added.add(node);
        fresh++;
      } else {
        this.queued.add(node);
      }
    }
    if (this.requests.protocol === 'v2') {
      if (fresh > 0) {
        this.begunAtCoordinator = true;
        this.send({ type: 'partitions.added', count: fresh });
      }
      return;
    }
    if (this.queued.size > 0) this.addQueued();
  }

  // ---------------------------------------------------------------- the states' work

  /**
   * FindCoordinator + InitProducerId. `current`: the id and epoch held (after an abort that needs
   * a new epoch, KIP-360); null for the first.
   */
  private initialize(current: TransactionStamp | null): Promise<TransactionStep> {
    return this.requests.initProducerId(current);
  }

  /** Waits for the transaction's records and offsets, then EndTxn(commit). */
  private async commitWork(): Promise<TransactionStep> {
    await this.drain();
    if (this.brokenBy !== null) throw this.brokenBy;
    const snapshot = this.snapshot();
    if (snapshot.context.abortableError !== null) throw this.abortableError(snapshot);
    try {
      return await this.endTransaction(true);
    } catch (error) {
      if (error instanceof TransactionAbortableError && needsNewEpoch(error)) {
        this.send({ type: 'abortable', error: describeError(error), bumpEpoch: true });
        throw error;
      }
      // The coordinator aborted the transaction itself (it outlived transactionTimeoutMs) and
      // bumped the epoch: EndTxn(commit) is refused as a fence (v1) or an invalid state (v2).
      // That is the timeout, reported as such; the abort that must follow recovers the producer
      // where the coordinator allows it (v2 always; v1 through InitProducerId, KIP-360).
      const timedOut = this.timeoutReason(asEkafError(error));
      if (!(timedOut instanceof TransactionTimeoutError)) throw error;
      if (!(error instanceof ProducerFencedError || error instanceof InvalidTransactionStateError))
        throw error;
      const abortable = new TransactionAbortableError(timedOut.message, timedOut);
      this.send({ type: 'abortable', error: describeError(abortable), bumpEpoch: true });
      throw abortable;
    }
  }

  /**
   * Fails every record not sent yet, waits for those in flight, then EndTxn(abort); then a new
   * epoch when one is needed (`bumpEpoch`, a partition whose sequence has a gap, or the broker
   * lost our producer state), unless EndTxn gave one (transactions v2).
   */
  private async abortWork(bumpEpochAtStart: boolean): Promise<TransactionStep> {
    // Batches without sequence numbers never left: they fail here. Those stamped may be written
    // already; they are resent until their fate is known, so that no gap is left in the
    // partition's sequence (the Java producer's abortUndrainedBatches). The abort marker covers
    // whatever of them was written.
    const aborted = new TransactionAbortedError();
    for (const node of this.host.partitions()) {
      for (const batch of node.log.takeUnsent()) this.host.batchFailed(batch, aborted);
    }
    // Records still waiting for their topic's metadata never reached a partition: they fail too.
    this.host.failWaiting(aborted);
    this.queued.clear();
    await Promise.all([...[...this.host.pendingCalls].map((call) => call.whenDone()), ...this.admissions]);
    await this.settleCoordinatorWork();
    // A stamped batch that failed for good left a gap: its partition needs a new epoch.
    let bumpEpoch = bumpEpochAtStart || this.snapshot().context.epochBumpRequired;
    for (const node of this.host.partitions()) if (node.log.sequence.resetPending) bumpEpoch = true;
    let step: TransactionStep = { stamp: null };
    let fencedAtEnd: EkafError | null = null;
    try {
      step = await this.endTransaction(false);
    } catch (error) {
      // The coordinator lost our producer state: a new epoch (below) starts clean.
      if (error instanceof TransactionAbortableError && needsNewEpoch(error)) {
        bumpEpoch = true;
      } else {
        // With an epoch the coordinator already moved past (it aborted the transaction itself on
        // timeout), EndTxn is refused: the re-initialization below tells a timeout from a fence.
        if (!(error instanceof ProducerFencedError) || !bumpEpoch) throw error;
        fencedAtEnd = error;
      }
    }
    // Transactions v2: EndTxn gave a new epoch already.
    if (!bumpEpoch || step.stamp !== null) return step;
    const current = this.stamp;
    if (current === null) return step;
    try {
      return await this.initialize(current);
    } catch (error) {
      if (fencedAtEnd === null || !(error instanceof ProducerFencedError)) throw error;
      // A transaction the coordinator aborted on timeout fences a v1 producer for good (Java
      // too); say so rather than blame a newer producer.
      const reason = this.snapshot().context.abortableError;
      if (reason !== null && originalError(reason) instanceof TransactionAbortableError) {
        const cause = (originalError(reason) as TransactionAbortableError).cause;
        if (cause instanceof TransactionTimeoutError) {
          throw new ProducerFencedError(
            this.host.transactionalId,
            `${cause.message}; with transactions v1 that fences this producer: create a new one`,
            fencedAtEnd,
          );
        }
      }
      throw fencedAtEnd;
    }
  }

  /** EndTxn, if the coordinator knows of the transaction; v2 answers with a new epoch. */
  private async endTransaction(commit: boolean): Promise<TransactionStep> {
    if (!this.begunAtCoordinator) return { stamp: null };
    return { stamp: await this.requests.endTxn(this.requireStamp(), commit) };
  }

  /** Waits until every record of the transaction is settled and every coordinator step is done. */
  private async drain(): Promise<void> {
    this.host.flushAll();
    const calls = [...this.host.pendingCalls];
    // A partition that needs a new epoch holds its records until the abort: stop waiting then.
    const stopWaiting = new AbortController();
    const abortable = waitFor(this.actorRef(), (s) => s.context.abortableError !== null, {
      timeout: Infinity,
      signal: stopWaiting.signal,
    }).then(
      () => undefined,
      () => undefined,
    );
    try {
      await Promise.race([
        Promise.all([...calls.map((call) => call.whenDone()), ...this.admissions]),
        abortable,
      ]);
    } finally {
      stopWaiting.abort();
    }
    await this.settleCoordinatorWork();
  }

  private async settleCoordinatorWork(): Promise<void> {
    while (this.adding !== null || this.offsetCommits.size > 0) {
      await Promise.all([this.adding, ...this.offsetCommits]);
    }
  }

  /** AddPartitionsToTxn for the queued partitions; one request at a time. */
  private addQueued(): void {
    if (this.adding !== null || this.queued.size === 0) return;
    const nodes = [...this.queued];
    const stamp = this.stamp;
    if (stamp === null) return;
    const topics = new Map<string, number[]>();
    for (const node of nodes) {
      const list = topics.get(node.topic.name) ?? [];
      list.push(node.partition);
      topics.set(node.topic.name, list);
    }
    this.adding = this.requests
      .addPartitions(stamp, topics)
      .then(
        () => {
          this.begunAtCoordinator = true;
          for (const node of nodes) {
            if (!this.queued.delete(node)) continue; // aborted meanwhile
            this.added.add(node);
            this.host.wakeLeader(node);
          }
          this.send({ type: 'partitions.added', count: nodes.length });
        },
        (error: unknown) => {
          for (const node of nodes) this.queued.delete(node);
          this.reportFailure(asEkafError(error), 'AddPartitionsToTxn');
        },
      )
      .finally(() => {
        this.adding = null;
        // Partitions queued meanwhile, also while the commit waits for them.
        const snapshot = this.snapshot();
        if (this.queued.size > 0 && (snapshot.matches('inTransaction') || snapshot.matches('committing')))
          this.addQueued();
      });
  }

  /** AddOffsetsToTxn (v1) to the transaction coordinator, then TxnOffsetCommit to the group's. */
  private async commitOffsets(options: SendOffsetsOptions): Promise<void> {
    const stamp = this.requireStamp();
    if (this.requests.protocol === 'v1') await this.requests.addOffsets(stamp, options.groupId);
    this.begunAtCoordinator = true;
    await this.requests.txnOffsetCommit(stamp, options);
  }

  // ---------------------------------------------------------------- helpers

  /** A failure outside the states' own work (AddPartitionsToTxn): the machine hears of it. */
  private reportFailure(error: EkafError, what: string): void {
    if (error instanceof ProducerFencedError) {
      this.brokenBy ??= error;
      this.send({ type: 'fenced', error: describeError(error) });
    } else if (error instanceof TransactionFatalError || error instanceof InvalidTransactionStateError) {
      // INVALID_TXN_STATE from AddPartitionsToTxn, AddOffsetsToTxn or TxnOffsetCommit: fatal (Java).
      const fatal =
        error instanceof TransactionFatalError
          ? error
          : new TransactionFatalError(`${what}: ${error.message}`, error);
      this.brokenBy ??= fatal;
      this.send({ type: 'fatal', error: describeError(fatal) });
    } else {
      const abortable =
        error instanceof TransactionAbortableError
          ? error
          : new TransactionAbortableError(`${what} failed: ${error.message}`, error);
      this.send({ type: 'abortable', error: describeError(abortable), bumpEpoch: needsNewEpoch(error) });
    }
  }

  /** Why an INVALID_PRODUCER_EPOCH happened, as far as we can tell. */
  private timeoutReason(error: EkafError): EkafError {
    const startedAt = this.snapshot().context.startedAt;
    const { transactionTimeoutMs } = this.host;
    if (startedAt !== null && Date.now() - startedAt >= transactionTimeoutMs) {
      return new TransactionTimeoutError(
        `the transaction stayed open longer than transactionTimeoutMs (${transactionTimeoutMs} ms) and the coordinator aborted it`,
        error,
      );
    }
    return error;
  }

  private requireStamp(): TransactionStamp {
    const stamp = this.stamp;
    if (stamp === null)
      throw new TransactionFatalError('no producer id: the transactional producer is not initialized');
    return stamp;
  }

  /** The snapshot of the open transaction `serial`; throws when it is not the one open. */
  private current(serial: number, what: string, unresolvedToo = false): TransactionSnapshot {
    const snapshot = this.snapshot();
    this.refuseBroken(snapshot);
    // `unresolvedToo`: also a transaction whose commit timed out (commit() again resolves it).
    const open = snapshot.matches('inTransaction') || (unresolvedToo && snapshot.matches('unresolved'));
    if (!open || snapshot.context.serial !== serial) {
      throw new InvalidTransactionStateError(
        stateName(snapshot),
        `${what}: transaction ${serial} is not open any more (it was committed or aborted)`,
      );
    }
    return snapshot;
  }

  /** Fenced and fatal producers refuse everything with the error that broke them. */
  private refuseBroken(snapshot: TransactionSnapshot): void {
    if (snapshot.matches('fenced') || snapshot.matches('fatal'))
      throw this.failure(snapshot, 'transactional work');
    if (snapshot.matches('stopped')) {
      throw new InvalidTransactionStateError('stopped', 'the producer is closed');
    }
  }

  /** A commit timed out: Java refuses anything but commitTransaction() again. */
  private unresolvedError(snapshot: TransactionSnapshot, what: string): InvalidTransactionStateError {
    return new InvalidTransactionStateError(
      stateName(snapshot),
      `${what}: the previous commit() timed out and its outcome is unknown; call commit() again (or close the producer)`,
      this.typedError(snapshot.context.lastError, 'the commit timed out'),
    );
  }

  /** The error a summary was made from, or one built from its message. */
  private typedError(summary: ErrorSummary | null, fallback: string): EkafError {
    const original = summary === null ? undefined : originalError(summary);
    if (original instanceof EkafError) return original;
    return new TransactionFatalError(summary?.message ?? fallback, original);
  }

  /** Every partition's records not sent yet fail with `error` (the transaction must be aborted). */
  private failUnsent(error: EkafError): void {
    for (const node of this.host.partitions()) {
      for (const batch of node.log.takeUnsent()) this.host.batchFailed(batch, error);
    }
    this.queued.clear();
  }

  /**
   * Fenced or fatal: nothing will be sent again, so every record held fails now (in doubt or
   * not); those in flight fail as their answers come back.
   */
  private failHeld(error: EkafError): void {
    for (const node of this.host.partitions()) {
      for (const batch of node.log.drainAll()) this.host.batchFailed(batch, error);
    }
    this.queued.clear();
  }

  private abortableError(snapshot: TransactionSnapshot): TransactionAbortableError {
    const summary = snapshot.context.abortableError;
    const original = summary === null ? undefined : originalError(summary);
    if (original instanceof TransactionAbortableError) return original;
    return new TransactionAbortableError(summary?.message ?? 'the transaction failed', original);
  }

  /** The typed error a failed operation left in the machine (its original error when kept). */
  private failure(snapshot: TransactionSnapshot, what: string): EkafError {
    if (snapshot.matches({ inTransaction: 'abortable' })) return this.abortableError(snapshot);
    const summary = snapshot.context.lastError;
    const original = summary === null ? undefined : originalError(summary);
    if (original instanceof EkafError) return original;
    if (snapshot.matches('fenced')) {
      return new ProducerFencedError(this.host.transactionalId, summary?.message ?? 'fenced');
    }
    return new TransactionFatalError(`${what} failed: ${summary?.message ?? stateName(snapshot)}`, original);
  }

  /** Waits until the machine leaves `state` (it was entered by the event just sent). */
  private async settle(snapshot: TransactionSnapshot, state: 'initializing' | 'committing' | 'aborting') {
    if (!snapshot.matches(state)) return snapshot;
    return waitFor(this.actorRef(), (s) => !s.matches(state), { timeout: Infinity });
  }

  private snapshot(): TransactionSnapshot {
    return this.actorRef().getSnapshot();
  }

  private actorRef(): TransactionRef {
    const actor = this.host.actor();
    if (actor === undefined) {
      throw new TransactionFatalError('the transaction actor failed and is restarting: retry later');
    }
    return actor;
  }

  private send(event: EventFromLogic<TransactionLogic>): void {
    const actor = this.host.actor();
    if (actor?.getSnapshot().status === 'active') actor.send(event);
  }
}

/** The transaction actor's state as one word: `inTransaction.abortable` → `abortable`. */
export function stateName(snapshot: TransactionSnapshot): string {
  const value = snapshot.value;
  if (typeof value === 'string') return value;
  const [outer, inner] = Object.entries(value)[0] ?? ['unknown', ''];
  return inner === 'open' ? outer : `${outer}.${inner}`;
}

function asEkafError(error: unknown): EkafError {
  if (error instanceof EkafError) return error;
  return new TransactionFatalError(String(error instanceof Error ? error.message : error), error);
}
