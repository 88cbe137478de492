import { EventEmitter } from 'eventemitter3';
import { REQUEST_FRAMING_BYTES, type ProducerOptions, type TopicSettings } from './config.js';
import { resolveOptions } from './config-validation.js';
import {
  AbortedError,
  BufferFullError,
  EkafError,
  InvalidRecordError,
  InvalidTransactionStateError,
  ProducerClosedError,
  RecordTooLargeError,
} from './errors.js';
import type { ProducerEvents } from './events.js';
import { isolated, ProducerCalls, type DeliveryCallback } from './producer-calls.js';
import { assertTopic, prepareRecords, type PreparedCall } from './producer-input.js';
import type { ProduceCall, DeliveryReport } from './runtime/delivery.js';
import type { ProduceRecord } from './runtime/records.js';
import type { EncodedBatch } from './runtime/sealed-batch.js';
import { Runtime, type ActorSnapshot } from './runtime/runtime.js';
import type { SpoolStats } from './spool/spool.js';
import type { SendOffsetsOptions } from './runtime/transaction-manager.js';
import { Transaction, type TransactionPort } from './transaction.js';

export type { DeliveryCallback } from './producer-calls.js';
export type { DeliveryReport } from './runtime/delivery.js';
export type { ProduceRecord } from './runtime/records.js';
export { Transaction } from './transaction.js';
export type { SendOffsetsOptions, TransactionOffset } from './transaction.js';

export interface ProduceOptions {
  /** Cancels a produceSync that is waiting for room in the buffer. */
  signal?: AbortSignal;
}

export interface ProducerMetrics {
  bufferedRecords: number;
  bufferedBytes: number;
  maxBufferedRecords: number;
  maxBufferedBytes: number;
  pendingCalls: number;
  actors: Record<string, number>;
  /** The durable spool's state, null without one. */
  spool: SpoolStats | null;
}

/**
 * The producer: ekaf's API in TypeScript. Create it with `createProducer(options)`.
 *
 * - `produceSync` resolves with delivery reports once the broker acknowledged every record.
 * - `produceAsync` returns at once; the outcome comes to its callback and as events.
 * - The `*Batched` variants wait for the topic's batch window (`lingerMs`, ekaf's buffer_ttl)
 *   so that records from many calls share requests; the plain ones leave as soon as a request
 *   slot is free (records arriving meanwhile still share the next request).
 */
export class Producer extends EventEmitter<ProducerEvents> {
  private readonly runtime: Runtime;
  private readonly calls: ProducerCalls;
  private closing: Promise<void> | null = null;

  constructor(options: ProducerOptions) {
    super();
    // The runtime emits from inside its own loops: a listener that throws must not leave a
    // batch half-settled, so its error is rethrown on its own tick, as an uncaught exception
    // of the application's, after the runtime is done.
    const emit: EventEmitter<ProducerEvents>['emit'] = (...args) =>
      isolated(() => this.emit(...args)) ?? true;
    const events = { emit };
    this.runtime = new Runtime(resolveOptions(options), events);
    this.calls = new ProducerCalls(this, this.runtime.pendingCalls);
    const spooler = this.runtime.spooler;
    if (spooler !== null) {
      spooler.anonymousCall = (topic, count) => this.calls.anonymousCall(topic, count);
      // After createProducer() returns, so that listeners attached right after it hear of it.
      setImmediate(() => {
        const { recovery } = spooler.spool;
        for (const damage of recovery.damage) this.runtime.spoolDamaged(damage);
        if (recovery.records > 0) {
          this.emit('spool.recovered', {
            dir: spooler.spool.options.dir,
            records: recovery.records,
            segments: recovery.segments,
            bytes: recovery.bytes,
          });
        }
        spooler.start();
      });
    }
  }

  /** Sends records and resolves when the broker acknowledged them (per the topic's acks). */
  produceSync(topic: string, record: ProduceRecord, options?: ProduceOptions): Promise<DeliveryReport>;
  produceSync(
    topic: string,
    records: readonly ProduceRecord[],
    options?: ProduceOptions,
  ): Promise<DeliveryReport[]>;
  produceSync(
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
    options: ProduceOptions = {},
  ): Promise<DeliveryReport | DeliveryReport[]> {
    return this.sync(topic, records, options, true);
  }

  /** produceSync through the topic's batch window (ekaf's produce_sync_batched). */
  produceSyncBatched(topic: string, record: ProduceRecord, options?: ProduceOptions): Promise<DeliveryReport>;
  produceSyncBatched(
    topic: string,
    records: readonly ProduceRecord[],
    options?: ProduceOptions,
  ): Promise<DeliveryReport[]>;
  produceSyncBatched(
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
    options: ProduceOptions = {},
  ): Promise<DeliveryReport | DeliveryReport[]> {
    return this.sync(topic, records, options, false);
  }

  /**
   * Accepts records and returns at once. Throws (synchronously) only when the call is invalid
   * or the buffer is full; after that, every record's outcome reaches `callback` and the
   * `delivery` / `delivery.failed` events.
   */
  produceAsync(
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
    callback?: DeliveryCallback,
  ): void {
    this.async(topic, records, callback, true);
  }

  /** produceAsync through the topic's batch window (ekaf's produce_async_batched). */
  produceAsyncBatched(
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
    callback?: DeliveryCallback,
  ): void {
    this.async(topic, records, callback, false);
  }

  /**
   * Sends everything accepted so far without waiting for lingers, and resolves when all of it
   * is settled (acknowledged or failed). `signal` stops the wait, not the sending.
   */
  async flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    const started = Date.now();
    const calls = [...this.runtime.pendingCalls];
    this.emit('flush', { pendingCalls: calls.length });
    this.runtime.flushAll();
    const settled = this.settle(calls);
    const { signal } = options;
    if (signal === undefined) {
      await settled;
    } else {
      if (signal.aborted) throw new AbortedError(signal.reason);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          reject(new AbortedError(signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        void settled.then(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    this.emit('flush.replied', { ms: Date.now() - started });
  }

  /**
   * Waits for `calls`; with a spool, also for the records waiting on disk meanwhile (they are read
   * back as others settle), and for the calls that carry them.
   */
  private async settle(calls: ProduceCall[]): Promise<void> {
    await Promise.all(calls.map((call) => call.whenDone()));
    const spooler = this.runtime.spooler;
    if (spooler === null) return;
    let readBack = false;
    while (spooler.hasBacklog) {
      readBack = true;
      this.runtime.flushAll();
      const pending = [...this.runtime.pendingCalls];
      // Nothing in memory yet: the next read-back is due (a short sleep, not a busy loop).
      if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      else await Promise.race(pending.map((call) => call.whenDone()));
    }
    if (readBack) {
      this.runtime.flushAll();
      await Promise.all([...this.runtime.pendingCalls].map((call) => call.whenDone()));
    }
  }

  /**
   * Stops accepting records, delivers everything accepted, then closes. Records still pending
   * after `timeoutMs` (default 30 s) fail with ERR_PRODUCER_CLOSED.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.runtime.keepAlive.during(this.shutdown(options.timeoutMs ?? 30_000));
    return this.closing;
  }

  /** Changes a topic's settings at runtime (batching, linger, in-flight, acks, partitioner). */
  setTopicConfig(topic: string, settings: Partial<TopicSettings>): TopicSettings {
    if (this.closing !== null) throw new ProducerClosedError();
    assertTopic(topic);
    return this.runtime.setTopicConfig(topic, settings);
  }

  /** A JSON-serialisable snapshot of every actor: name, kind, state, counters, last error. */
  inspect(): ActorSnapshot[] {
    return this.runtime.inspect();
  }

  metrics(): ProducerMetrics {
    const actors: Record<string, number> = {};
    for (const actor of this.runtime.inspect()) {
      const key = `${actor.kind}.${actor.state}`;
      actors[key] = (actors[key] ?? 0) + 1;
    }
    return {
      bufferedRecords: this.runtime.budget.records,
      bufferedBytes: this.runtime.budget.bytes,
      maxBufferedRecords: this.runtime.budget.maxRecords,
      maxBufferedBytes: this.runtime.budget.maxBytes,
      pendingCalls: this.runtime.pendingCalls.size,
      actors,
      spool: this.runtime.spooler?.spool.stats() ?? null,
    };
  }

  // ----------------------------------------------------------------------------------------------

  /** `inTransaction`: told when records of the transaction fail (tx.produce); null otherwise. */
  private sync(
    topic: string,
    input: ProduceRecord | readonly ProduceRecord[],
    options: ProduceOptions,
    urgent: boolean,
    inTransaction: ((error: EkafError) => void) | null = null,
    stillOpen: () => void = () => undefined,
  ): Promise<DeliveryReport | DeliveryReport[]> {
    let prepared: PreparedCall;
    try {
      if (inTransaction === null) this.refuseOutsideTransaction('produceSync');
      prepared = this.prepare(topic, input);
    } catch (error) {
      // prepare() throws only EkafErrors (typed validation errors), returned as a rejection.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const single = !Array.isArray(input);
    // With a spool, a call never waits for room in memory: what does not fit goes to disk.
    if (this.runtime.spooler !== null) return this.submit(topic, prepared, urgent, single, true);
    // The common case, room in the buffer, takes no extra turn through the promise machinery.
    if (this.runtime.budget.tryReserve(prepared.records.length, prepared.bytes)) {
      return this.submit(topic, prepared, urgent, single, false, inTransaction);
    }
    return this.waitForRoom(topic, prepared, options).then(() => {
      try {
        stillOpen();
      } catch (error) {
        this.runtime.budget.release(prepared.records.length, prepared.bytes);
        throw error;
      }
      return this.submit(topic, prepared, urgent, single, false, inTransaction);
    });
  }

  /** produceSync with a full buffer: waits for room (bufferTimeoutMs, or its AbortSignal). */
  private async waitForRoom(
    topic: string,
    { records, bytes }: PreparedCall,
    options: ProduceOptions,
  ): Promise<void> {
    try {
      await this.runtime.budget.reserve(
        records.length,
        bytes,
        this.runtime.options.bufferTimeoutMs,
        options.signal,
      );
    } catch (error) {
      if (error instanceof BufferFullError)
        this.emit('downtime.buffer_full', { topic, records: records.length, bytes });
      throw error;
    }
    if (this.closing !== null) {
      this.runtime.budget.release(records.length, bytes);
      throw new ProducerClosedError();
    }
  }

  /**
   * Hands records to the runtime (`reserved`: room already taken in the buffer; otherwise the
   * spool admits them); settles with their reports or the call's first error.
   */
  private submit(
    topic: string,
    prepared: PreparedCall,
    urgent: boolean,
    single: boolean,
    viaSpool: boolean,
    inTransaction: ((error: EkafError) => void) | null = null,
  ): Promise<DeliveryReport | DeliveryReport[]> {
    return new Promise((resolve, reject) => {
      const fail =
        inTransaction === null
          ? reject
          : (error: EkafError) => {
              inTransaction(error);
              reject(error);
            };
      const makeCall = this.calls.syncCallMaker(topic, prepared.records.length, single, resolve, fail);
      // A refusal from the spool throws here, and rejects the promise.
      if (viaSpool) this.admitSpooled(topic, prepared, makeCall, urgent);
      else this.runtime.accept(topic, prepared.records, makeCall(), urgent);
    });
  }

  /**
   * With a spool: the call's records go to memory when there is room and nothing waits on disk
   * before them (written ahead first in 'always' mode, or while the topic is down), else to disk
   * only. Throws BufferFullError when the spool is full too, SpoolError when its disk fails;
   * nothing of the call is accepted then.
   */
  private admitSpooled(
    topic: string,
    { records, bytes }: PreparedCall,
    makeCall: (() => ProduceCall) | null,
    urgent: boolean,
  ): void {
    const spooler = this.runtime.spooler as NonNullable<Runtime['spooler']>;
    const { budget } = this.runtime;
    const acceptedAt = Date.now();
    try {
      if (spooler.hasBacklog || !budget.tryReserve(records.length, bytes)) {
        // The call itself is made when its records are read back: until then it costs one small
        // entry in the spooler's queue (none for a call nobody waits on).
        spooler.spill(topic, records.all(), makeCall, urgent, acceptedAt);
        return;
      }
      const call = makeCall?.() ?? this.calls.anonymousCall(topic, records.length);
      if (spooler.mode === 'downtime' && !this.runtime.inDowntime(topic)) {
        this.runtime.accept(topic, records, call, urgent);
        return;
      }
      let firstSpoolId: number;
      try {
        firstSpoolId = spooler.writeAhead(topic, records.all(), acceptedAt);
      } catch (error) {
        budget.release(records.length, bytes);
        throw error;
      }
      this.runtime.accept(topic, records, call, urgent, { firstSpoolId, indexBase: 0, acceptedAt });
    } catch (error) {
      if (error instanceof BufferFullError) {
        this.emit('downtime.buffer_full', { topic, records: records.length, bytes });
      }
      throw error;
    }
  }

  private async(
    topic: string,
    input: ProduceRecord | readonly ProduceRecord[],
    callback: DeliveryCallback | undefined,
    urgent: boolean,
  ): void {
    if (callback !== undefined && typeof callback !== 'function') {
      throw new InvalidRecordError('callback', 'must be a function');
    }
    this.refuseOutsideTransaction('produceAsync');
    const prepared = this.prepare(topic, input);
    const { records, bytes } = prepared;
    if (this.runtime.spooler === null && !this.runtime.budget.tryReserve(records.length, bytes)) {
      this.emit('downtime.buffer_full', { topic, records: records.length, bytes });
      throw new BufferFullError(this.runtime.budget.describeNeed(records.length, bytes));
    }
    const makeCall = this.calls.asyncCallMaker(topic, records.length, callback, this.reportsWanted(callback));
    if (this.runtime.spooler === null) {
      this.runtime.accept(topic, records, makeCall(), urgent);
    } else {
      // Nobody waits on a call without a callback made while no outcome event has a listener.
      const anonymous =
        callback === undefined &&
        this.listenerCount('delivery') + this.listenerCount('delivery.failed') === 0;
      this.admitSpooled(topic, prepared, anonymous ? null : makeCall, urgent);
    }
  }

  /**
   * The number of partitions of `topic` as the last metadata said, -1 while unknown (nothing is
   * fetched: the first produce to a topic asks for its metadata).
   */
  partitionCount(topic: string): number {
    return this.runtime.partitionCount(topic);
  }

  /**
   * Whether a call's delivery reports will be read, asked when it completes. One report object
   * per record is the largest cost of a bulk call after encoding: they are built only when
   * something reads them. A callback declared with the error alone, `(error) => …`, does not
   * (the arity rule of Express's error handlers); `(error, reports)`, a rest parameter or no
   * declared parameter at all gets them. So do the listeners of the outcome's event.
   */
  private reportsWanted(callback: DeliveryCallback | undefined): (ok: boolean) => boolean {
    const callbackWantsReports = callback !== undefined && callback.length !== 1;
    return (ok) => callbackWantsReports || this.listenerCount(ok ? 'delivery' : 'delivery.failed') > 0;
  }

  /**
   * Accepts a record batch that the caller encoded whole for one partition of `topic`
   * (EncodedBatch: RecordBatchBuilder's bytes, sealed without a CRC or a producer stamp), sent
   * after whatever was accepted before for that partition, and then like produceAsync's
   * records: the same buffer bounds (BufferFullError), retries, idempotence, and outcome
   * (`callback`, the `delivery` events). For a caller that encodes faster than it could make
   * records: `ekaf produce` encodes the lines of its input straight into batches
   * (src/cli/line-batches.ts). Not with a spool (its entries are records) nor on a transactional
   * producer.
   */
  produceEncodedBatch(
    topic: string,
    partition: number,
    batch: EncodedBatch,
    callback?: DeliveryCallback,
  ): void {
    if (this.closing !== null) throw new ProducerClosedError();
    assertTopic(topic);
    this.refuseOutsideTransaction('produceEncodedBatch');
    if (!Number.isSafeInteger(partition) || partition < 0) {
      throw new InvalidRecordError('partition', `must be a non-negative integer (got ${String(partition)})`);
    }
    if (this.runtime.spooler !== null) {
      throw new InvalidRecordError('batch', 'a producer with a spool takes records, not encoded batches');
    }
    const limit = this.runtime.options.maxRequestBytes - REQUEST_FRAMING_BYTES;
    if (batch.bytes.length > limit) throw new RecordTooLargeError(batch.bytes.length, limit);
    const { recordCount, payloadBytes } = batch;
    if (!this.runtime.budget.tryReserve(recordCount, payloadBytes)) {
      this.emit('downtime.buffer_full', { topic, records: recordCount, bytes: payloadBytes });
      throw new BufferFullError(this.runtime.budget.describeNeed(recordCount, payloadBytes));
    }
    const makeCall = this.calls.asyncCallMaker(topic, recordCount, callback, this.reportsWanted(callback));
    this.runtime.acceptEncoded(topic, partition, batch, makeCall());
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Opens a transaction (a producer created with `transactionalId`); the first one initializes
   * the producer: finds the transaction coordinator and takes the transactional id, fencing any
   * older producer with it and aborting what that one left open. One transaction at a time.
   * Java `initTransactions()` + `beginTransaction()`.
   */
  async beginTransaction(): Promise<Transaction> {
    const transactions = this.requireTransactions('beginTransaction');
    if (this.closing !== null) throw new ProducerClosedError();
    const serial = await this.runtime.keepAlive.during(transactions.begin());
    return new Transaction(this.transactionPort, serial);
  }

  /**
   * Initializes the transactional producer without opening a transaction (Java
   * `initTransactions()`): finds the coordinator and takes the transactional id, fencing older
   * producers with it and aborting what they left open. `beginTransaction()` does it when needed.
   */
  async initTransactions(): Promise<void> {
    const transactions = this.requireTransactions('initTransactions');
    if (this.closing !== null) throw new ProducerClosedError();
    await this.runtime.keepAlive.during(transactions.initialized());
  }

  /**
   * Runs `work` in a transaction: commits when it resolves, aborts when it throws (and rethrows).
   * Resolves with what `work` returned, once the transaction is committed.
   */
  async transaction<T>(work: (tx: Transaction) => Promise<T> | T): Promise<T> {
    const tx = await this.beginTransaction();
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      await this.abortQuietly(tx);
      throw error;
    }
    try {
      await tx.commit();
    } catch (error) {
      // An abortable commit leaves the transaction open: abort it, so that the producer can go on.
      if (error instanceof EkafError && error.code === 'ERR_TRANSACTION_ABORTABLE')
        await this.abortQuietly(tx);
      throw error;
    }
    return result;
  }

  /** Aborts `tx` after a failure; the failure is what the caller hears of, not the abort's. */
  private async abortQuietly(tx: Transaction): Promise<void> {
    try {
      await tx.abort();
    } catch (error) {
      this.runtime.options.logger.warn('ekaf: aborting the failed transaction failed too', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private readonly transactionPort: TransactionPort = {
    produce: (serial, topic, records) => {
      const transactions = this.requireTransactions('tx.produce');
      try {
        transactions.checkProduce(serial);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const produce = this.sync(
        topic,
        records,
        {},
        true,
        (error) => {
          transactions.recordsFailed(error);
        },
        // After waiting for room in the buffer: still the open transaction?
        () => {
          transactions.checkProduce(serial);
        },
      );
      return transactions.track(serial, produce);
    },
    sendOffsets: (serial, options: SendOffsetsOptions) =>
      this.runtime.keepAlive.during(this.requireTransactions('tx.sendOffsets').sendOffsets(serial, options)),
    commit: (serial) => this.runtime.keepAlive.during(this.requireTransactions('tx.commit').commit(serial)),
    abort: (serial) => this.runtime.keepAlive.during(this.requireTransactions('tx.abort').abort(serial)),
  };

  private requireTransactions(what: string) {
    const transactions = this.runtime.transactions;
    if (transactions === null) {
      throw new InvalidTransactionStateError('none', `${what}(): the producer has no transactionalId`);
    }
    return transactions;
  }

  /** A transactional producer writes inside transactions only (Java: IllegalStateException). */
  private refuseOutsideTransaction(what: string): void {
    const transactions = this.runtime.transactions;
    if (transactions === null) return;
    throw new InvalidTransactionStateError(
      transactions.stateName,
      `${what}() on a transactional producer: produce inside a transaction (beginTransaction(), tx.produce())`,
    );
  }

  /** Validates a call and converts its records; nothing is accepted if any record is bad. */
  private prepare(topic: string, input: ProduceRecord | readonly ProduceRecord[]): PreparedCall {
    if (this.closing !== null) throw new ProducerClosedError();
    assertTopic(topic);
    return prepareRecords(
      topic,
      input,
      this.runtime.options.maxRequestBytes,
      this.runtime.partitionCount(topic),
    );
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    // An open transaction is aborted rather than left to the coordinator's timeout, which would
    // hold read_committed readers of its partitions back until then.
    await this.runtime.transactions?.abortOpen();
    const drained = this.flush();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        resolve('timeout');
      }, timeoutMs);
    });
    const result = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.runtime.failEverything(
        new ProducerClosedError(`close() gave up after ${timeoutMs} ms: the record was not acknowledged`),
      );
      await drained;
    }
    this.runtime.stop();
  }
}

/** Creates a producer. Nothing connects until the first record is produced (lazy metadata). */
export function createProducer(options: ProducerOptions): Producer {
  return new Producer(options);
}
