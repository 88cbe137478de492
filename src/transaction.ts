import type { DeliveryReport } from './runtime/delivery.js';
import type { ProduceRecord } from './runtime/records.js';
import type { SendOffsetsOptions } from './runtime/transaction-manager.js';

export type { SendOffsetsOptions, TransactionOffset } from './runtime/transaction-manager.js';

/** What a Transaction asks of its producer (src/producer.ts implements it). */
export interface TransactionPort {
  produce(
    serial: number,
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
  ): Promise<DeliveryReport | DeliveryReport[]>;
  sendOffsets(serial: number, options: SendOffsetsOptions): Promise<void>;
  commit(serial: number): Promise<void>;
  abort(serial: number): Promise<void>;
}

/**
 * One open transaction of a transactional producer (`producer.beginTransaction()`): the records
 * produced through it, to any topics and partitions, become visible to read_committed consumers
 * together when `commit()` resolves, or never (`abort()`, or a failed commit). Java:
 * `beginTransaction()`, `send()`, `sendOffsetsToTransaction()`, `commitTransaction()`,
 * `abortTransaction()`.
 *
 * Once committed or aborted it is spent: every method then rejects with ERR_INVALID_TXN_STATE.
 */
export class Transaction {
  constructor(
    private readonly port: TransactionPort,
    /** The transaction's number in its producer, from 1. */
    readonly id: number,
  ) {}

  /**
   * Produces records as part of the transaction; takes what `produceSync` takes and resolves with
   * the same reports once the partition leaders have the records (they stay invisible to
   * read_committed consumers until the commit). A failed record makes the transaction abortable:
   * `commit()` then refuses with ERR_TRANSACTION_ABORTABLE and only `abort()` is left.
   */
  produce(topic: string, record: ProduceRecord): Promise<DeliveryReport>;
  produce(topic: string, records: readonly ProduceRecord[]): Promise<DeliveryReport[]>;
  produce(
    topic: string,
    records: ProduceRecord | readonly ProduceRecord[],
  ): Promise<DeliveryReport | DeliveryReport[]> {
    return this.port.produce(this.id, topic, records);
  }

  /**
   * Commits a consumer group's offsets with the transaction (consume-transform-produce): the
   * group sees them if and only if the transaction commits. `offsets[i].offset` is the next
   * offset to read (the last processed + 1). Java `sendOffsetsToTransaction`.
   */
  sendOffsets(options: SendOffsetsOptions): Promise<void> {
    return this.port.sendOffsets(this.id, options);
  }

  /**
   * Waits for every record of the transaction, then commits it. Rejects with
   * ERR_TRANSACTION_ABORTABLE (abort, then start again), ERR_PRODUCER_FENCED (a newer producer
   * has the transactional id: close this one), ERR_TRANSACTION_FATAL or ERR_TRANSACTION_TIMEOUT.
   */
  commit(): Promise<void> {
    return this.port.commit(this.id);
  }

  /** Aborts the transaction: none of its records or offsets will ever be visible. */
  abort(): Promise<void> {
    return this.port.abort(this.id);
  }
}
