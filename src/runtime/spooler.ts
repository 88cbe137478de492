import { BufferFullError, type DeliveryTimeoutError, type EkafError, SpoolError } from '../errors.js';
import { encodeEntries, type SpooledEntry } from '../spool/spool-format.js';
import { encodeBatchEntries } from '../spool/spool-batch.js';
import { Spool, type ResolvedSpoolOptions, type SpoolDamage } from '../spool/spool.js';
import type { BufferBudget } from './buffer-budget.js';
import type { ProduceCall } from './delivery.js';
import type { PartitionLog } from './partition-log.js';
import type { SealedBatch } from './sealed-batch.js';
import { Fifo } from './fifo.js';
import type { NormalizedRecord } from './records.js';

/** Where records handed to the runtime come from in the spool. */
export interface SpoolOrigin {
  /** The spool id of the first record; the others follow it. */
  firstSpoolId: number;
  /** The first record's index in its call. */
  indexBase: number;
  /** When the records were accepted (delivery timeout). */
  acceptedAt: number;
}

/** What the spooler needs from the runtime. */
export interface SpoolerHost {
  budget: BufferBudget;
  accept(
    topic: string,
    records: NormalizedRecord[],
    call: ProduceCall,
    urgent: boolean,
    origin: SpoolOrigin,
  ): void;
  /** The logs of a topic's partitions (empty when they are not known yet). */
  logsOf(topic: string): readonly PartitionLog[];
  warn(message: string, fields?: object): void;
  damaged(damage: SpoolDamage): void;
  /** Reading the backlog failed (the disk): reported as an `error` event; retried on the next room. */
  failed(error: EkafError): void;
}

/** A call whose records went to disk only, in the order they were spooled. */
interface Spilled {
  /**
   * Makes the call when its first record is read back (or it expires); null when nobody waits
   * on the records: a previous producer's, or calls without a callback or listener, which
   * consecutive spills merge into one entry.
   */
  make: (() => ProduceCall) | null;
  /** The call, once made. */
  call: ProduceCall | null;
  topic: string;
  firstId: number;
  count: number;
  /** How many have been read back into memory (or released) so far. */
  taken: number;
  urgent: boolean;
  acceptedAt: number;
  /**
   * Failed by its delivery timeout while entries before it were still on disk: its records were
   * released (the backlog read skips them), and it leaves the queue when it reaches the head.
   */
  expired: boolean;
}

/**
 * The runtime's side of the durable spool: decides what goes to disk, reads the backlog back
 * into memory as room frees up, and releases entries once Kafka acknowledged them.
 *
 * - Write-ahead: a call's records are written before the call returns ('always' mode, or
 *   'downtime' mode while their topic cannot send). Before that, in 'downtime' mode, records the
 *   topic already holds in memory are written too, in each partition's order: while a topic is
 *   down, everything it holds is on disk, and a replay never puts a later record before an
 *   earlier one.
 * - Spill: when memory is full, or records already wait on disk (order), a call's records go to
 *   disk only, and are read back in order when the buffer has room. Until then a call costs a
 *   small queue entry (its call object is made when its first record is read back), and calls
 *   nobody waits on cost nothing: consecutive ones share one entry.
 * - Recovery: what a previous producer left is backlog read back first, before anything new
 *   (new calls spill behind it while it lasts).
 */
export class Spooler {
  readonly spool: Spool;
  private readonly spilled = new Fifo<Spilled>();
  /**
   * The entries of `spilled` someone waits on, in the same order: the delivery timeout walks
   * these, so that a call behind records nobody waits on (which have no deadline on disk) still
   * fails on time, at a cost of one step per call it fails.
   */
  private readonly waited = new Fifo<Spilled>();
  private pageInScheduled = false;
  /**
   * Spilled calls someone waits on (a callback, a promise, a listener): each holds a few hundred
   * bytes of memory until read back, so there are at most maxBufferedRecords of them.
   */
  private waitingCalls = 0;
  /** Makes the call for records nobody waits on (the producer's delivery events only). */
  anonymousCall: ((topic: string, count: number) => ProduceCall) | null = null;

  constructor(
    options: ResolvedSpoolOptions,
    private readonly host: SpoolerHost,
  ) {
    this.spool = Spool.open(options);
    const { recovery } = this.spool;
    if (recovery.records > 0) {
      this.spilled.push({
        make: null,
        call: null,
        topic: '',
        firstId: -1,
        count: recovery.records,
        taken: 0,
        urgent: true,
        acceptedAt: 0,
        expired: false,
      });
    }
    host.budget.onRoom = () => {
      this.schedulePageIn();
    };
  }

  get mode(): ResolvedSpoolOptions['mode'] {
    return this.spool.mode;
  }

  /** Records wait on disk: new calls go behind them. */
  get hasBacklog(): boolean {
    return this.spilled.length > 0;
  }

  /** Starts reading recovered records back (once the producer's listeners can hear of them). */
  start(): void {
    this.schedulePageIn();
  }

  /**
   * Writes `records` ahead and returns the first one's spool id. In 'downtime' mode, first
   * writes what the topic holds in memory and is not on disk yet. Throws BufferFullError or
   * SpoolError, having kept nothing of `records`.
   */
  writeAhead(topic: string, records: readonly NormalizedRecord[], acceptedAt: number): number {
    if (this.spool.mode === 'downtime') this.catchUp(topic);
    return this.spool.append(encodeEntries(topic, records, acceptedAt), records.length, acceptedAt, true);
  }

  /**
   * Writes a call's records to disk only; they are read back in order when memory has room.
   * `make` makes the call then (null: nobody waits on it).
   */
  spill(
    topic: string,
    records: readonly NormalizedRecord[],
    make: (() => ProduceCall) | null,
    urgent: boolean,
    acceptedAt: number,
  ): void {
    const count = records.length;
    const { budget } = this.host;
    if (make !== null && this.waitingCalls >= budget.maxRecords) {
      throw new BufferFullError(
        `${this.waitingCalls} calls wait on their records in the spool, as many as maxBufferedRecords ` +
          `allows (each keeps its callback or promise in memory)`,
      );
    }
    const firstId = this.spool.append(encodeEntries(topic, records, acceptedAt), count, acceptedAt, false);
    const last = this.spilled.last();
    if (
      make === null &&
      last !== undefined &&
      last.make === null &&
      last.call === null &&
      last.topic === topic &&
      last.urgent === urgent &&
      last.firstId + last.count === firstId
    ) {
      // Fire-and-forget calls cost nothing per call while on disk.
      last.count += count;
    } else {
      const entry: Spilled = {
        make,
        call: null,
        topic,
        firstId,
        count,
        taken: 0,
        urgent,
        acceptedAt,
        expired: false,
      };
      this.spilled.push(entry);
      if (make !== null) {
        this.waited.push(entry);
        this.waitingCalls++;
      }
    }
    this.schedulePageIn();
  }

  /**
   * Writes to disk every record `topic` holds in memory that is not there yet, partition by
   * partition in order. When the spool is full, what does not fit stays in memory only.
   */
  catchUp(topic: string): void {
    for (const log of this.host.logsOf(topic)) {
      for (const batch of log.unspooledBatches()) {
        try {
          this.spoolBatch(log.partition, topic, batch);
        } catch (error) {
          log.hasUnspooled = true;
          this.host.warn(`ekaf: records of ${topic} stay in memory only: ${(error as Error).message}`);
          return;
        }
      }
    }
  }

  private spoolBatch(partition: number, topic: string, batch: SealedBatch): void {
    const ids = (batch.spoolIds ??= new Array<number>(batch.recordCount).fill(-1));
    let missing = 0;
    for (const id of ids) if (id === -1) missing++;
    const entries = encodeBatchEntries(
      topic,
      partition,
      batch.plain ?? batch.bytes,
      batch.recordCount,
      batch.acceptedAt,
      (index) => ids[index] === -1,
    );
    let id = this.spool.append(entries, missing, batch.acceptedAt, true);
    for (let i = 0; i < ids.length; i++) if (ids[i] === -1) ids[i] = id++;
  }

  /** A batch is acknowledged or failed for good: its records leave the spool. */
  releaseBatch(batch: SealedBatch): void {
    const ids = batch.spoolIds;
    if (ids === null) return;
    let run = -1;
    let length = 0;
    for (const id of ids) {
      if (id !== -1 && id === run + length) {
        length++;
        continue;
      }
      if (length > 0) this.spool.release(run, length);
      run = id;
      length = id === -1 ? 0 : 1;
    }
    if (length > 0) this.spool.release(run, length);
  }

  release(id: number): void {
    if (id !== -1) this.spool.release(id);
  }

  /**
   * Fails spilled calls someone waits on that are older than the delivery timeout, wherever they
   * are in the queue; their records leave the spool. Records nobody waits on (recovered,
   * fire-and-forget) stay on disk to be delivered: they count their timeout once read back, as
   * the README documents, since failing them would only drop them with nobody told but a
   * `delivery.failed` listener that does not exist. `timeout` names the last error (RecordRouter).
   */
  expire(deadline: number, timeout: DeliveryTimeoutError): void {
    for (let entry = this.waited.peek(); entry !== undefined; entry = this.waited.peek()) {
      // Calls are spilled in acceptance order: the first one not due ends the walk.
      if (entry.acceptedAt > deadline) break;
      this.waited.shift();
      this.waitingCalls--;
      const left = entry.count - entry.taken;
      this.spool.release(entry.firstId + entry.taken, left);
      // Marked before the call is told, so that whatever its callback does sees it gone.
      entry.taken = entry.count;
      entry.expired = true;
      this.callOf(entry).fail(left, timeout);
    }
    this.dropExpiredHead();
  }

  /** close() gave up: spilled calls fail with `error`; their records stay on disk for the next producer. */
  failSpilled(error: EkafError): void {
    this.waited.drain();
    for (const head of this.spilled.drain()) {
      if (head.make !== null && !head.expired) this.callOf(head).fail(head.count - head.taken, error);
    }
    this.waitingCalls = 0;
  }

  /** The call of a spilled entry that has one, made on first use. */
  private callOf(head: Spilled): ProduceCall {
    head.call ??= (head.make as () => ProduceCall)();
    return head.call;
  }

  private schedulePageIn(): void {
    if (this.pageInScheduled || this.spilled.length === 0) return;
    this.pageInScheduled = true;
    setImmediate(() => {
      this.pageInScheduled = false;
      try {
        this.pageIn();
      } catch (error) {
        this.host.failed(
          error instanceof SpoolError
            ? error
            : new SpoolError(`reading the spool failed: ${String(error)}`, error),
        );
      }
    });
  }

  /** Reads backlog records into memory while the buffer has room, and hands them on in order. */
  private pageIn(): void {
    const { budget } = this.host;
    // Consecutive records of one call (or, recovered, of one topic) are handed on together.
    let run: Run | null = null;
    const flush = (): void => {
      if (run === null) return;
      const { head, records, firstId, indexBase } = run;
      run = null;
      const topic = (records[0] as TopicRecord).topic;
      const anonymous = head.make === null;
      const call = anonymous ? this.makeAnonymousCall(topic, records.length) : this.callOf(head);
      this.host.accept(topic, records, call, head.urgent, {
        firstSpoolId: firstId,
        indexBase: anonymous ? 0 : indexBase,
        // Nobody waits on these records: their delivery timeout starts now.
        acceptedAt: anonymous ? Date.now() : head.acceptedAt,
      });
    };
    const take = (id: number, entry: SpooledEntry): boolean => {
      const head = this.spilled.peek();
      if (head === undefined) return false;
      const record = toRecord(entry);
      if (!budget.tryReserve(1, record.size)) return false;
      const current: Run | null = run;
      if (
        current === null ||
        current.head !== head ||
        current.firstId + current.records.length !== id ||
        (current.records[0] as TopicRecord).topic !== entry.topic
      ) {
        flush();
        run = { head, records: [record], firstId: id, indexBase: head.taken };
      } else {
        current.records.push(record);
      }
      this.advance(head);
      return true;
    };
    this.spool.readBacklog(take, (damage) => {
      this.host.damaged(damage);
      flush();
      const head = this.spilled.peek();
      if (head !== undefined) {
        if (head.make !== null)
          this.callOf(head).fail(1, new SpoolError(`spool entry damaged: ${damage.reason}`));
        this.advance(head);
      }
    });
    flush();
  }

  private advance(head: Spilled): void {
    head.taken++;
    if (head.taken === head.count) this.shift();
  }

  private shift(): void {
    const head = this.spilled.shift();
    if (head?.make != null && !head.expired) {
      // Entries leave both queues in the same order: it is the head of `waited` too.
      this.waited.shift();
      this.waitingCalls--;
    }
    this.dropExpiredHead();
  }

  /**
   * Removes expired entries from the head of the queue, so that the head is always an entry
   * whose records are still on disk (pageIn pairs the next backlog record with the head).
   */
  private dropExpiredHead(): void {
    while (this.spilled.peek()?.expired === true) this.spilled.shift();
  }

  private makeAnonymousCall(topic: string, count: number): ProduceCall {
    if (this.anonymousCall === null) throw new Error('ekaf: spooled records before the producer was ready');
    return this.anonymousCall(topic, count);
  }
}

interface Run {
  head: Spilled;
  records: TopicRecord[];
  firstId: number;
  indexBase: number;
}

/** A record read back, with its topic (recovered runs are cut where the topic changes). */
type TopicRecord = NormalizedRecord & { topic: string };

function toRecord(entry: SpooledEntry): TopicRecord {
  const { key, value, headers, partition, timestamp } = entry.record;
  const keySize = key?.length ?? 0;
  const valueSize = value?.length ?? 0;
  let size = keySize + valueSize;
  for (const [name, headerValue] of headers) size += Buffer.byteLength(name) + (headerValue?.length ?? 0);
  return { key, value, keySize, valueSize, headers, partition, timestamp, size, topic: entry.topic };
}
