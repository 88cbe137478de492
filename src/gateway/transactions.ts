import type { ServerResponse } from 'node:http';
import type { Logger } from '../config.js';
import { EkafError, TransactionAbortableError } from '../errors.js';
import type { DeliveryReport, Producer } from '../producer.js';
import { ofKind } from '../runtime/introspection.js';
import { HttpError, RETRY_AFTER_SECONDS, statusForCode } from './errors.js';
import type { GatewayMetrics } from './metrics.js';
import type { JsonRecord, TopicRecord } from './records.js';

/**
 * `POST /tx/batch`: the records of one request, to one topic or several, in one Kafka
 * transaction of a transactional producer the gateway owns. A transactional producer writes
 * only inside transactions and has one open at a time, so the gateway keeps it apart from the
 * producer of the other routes and queues the requests: each is its own transaction, committed
 * or aborted before the next begins.
 */

export interface GatewayTransactions {
  /**
   * The transactional id of this gateway's transactional producer. One per process: a second
   * live producer with the same id fences the first (`ekaf serve` uses `<prefix>-<worker index>`).
   */
  transactionalId: string;
  /**
   * Makes the transactional producer: `createProducer({ ...options, transactionalId })`. Called
   * at start, and again whenever the producer became unusable (fenced, or a fatal transaction
   * error). The gateway owns what it returns and closes it.
   */
  createProducer: (transactionalId: string) => Producer;
  /** Requests that may wait for their turn behind the transaction under way; more get 503. Default 64. */
  maxQueued?: number;
}

export const TRANSACTION_DEFAULTS = Object.freeze({ maxQueued: 64 });

interface LaneDeps {
  metrics: GatewayMetrics;
  logger: Logger;
  /** How long a request may wait for its turn before it gets 503 (nothing of it was sent). */
  requestTimeoutMs: number;
}

/** The records of one topic in a request, and where each stands in the request. */
interface TopicGroup {
  topic: string;
  records: JsonRecord[];
  positions: number[];
}

/** A `tx.produce` call whose outcome can be read without waiting. */
interface Call {
  group: TopicGroup;
  done: Promise<void>;
  reports?: DeliveryReport[];
  error?: unknown;
}

interface Waiter {
  start(): void;
  cancel(error: Error): void;
}

/** How long closing a transactional producer may take (it holds nothing by then: every request is answered). */
const CLOSE_TIMEOUT_MS = 10_000;

export class TransactionLane {
  private producer: Producer;
  private readonly maxQueued: number;
  /** A transaction (or the producer's initialization) is under way. */
  private busy = false;
  private readonly waiting: Waiter[] = [];
  /** Producers being closed: the ones replaced, then the last one. */
  private readonly closing = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly options: GatewayTransactions,
    private readonly deps: LaneDeps,
  ) {
    this.maxQueued = options.maxQueued ?? TRANSACTION_DEFAULTS.maxQueued;
    this.producer = options.createProducer(options.transactionalId);
    deps.metrics.showTransactions();
  }

  /**
   * Initializes the producer at once rather than at the first request: taking the
   * transactional id fences an older process with it and aborts what that one left open,
   * which read_committed consumers of its partitions wait for.
   */
  start(): void {
    this.deps.logger.info(`kafboy: POST /tx/batch on, transactional id "${this.options.transactionalId}"`);
    void this.initialize();
  }

  /**
   * Runs the records of one request as one transaction, when its turn comes; resolves with
   * their reports in request order once committed. Rejects with the typed error of a
   * transaction that did not commit (it was aborted: nothing of it is visible to
   * read_committed consumers), or with 503 when the queue is full.
   */
  async run(records: readonly TopicRecord[], res: ServerResponse): Promise<DeliveryReport[]> {
    await this.turn(res, false);
    try {
      return await this.transact(records);
    } finally {
      this.release();
    }
  }

  /** Closes the transactional producer(s); called once no request is left. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) {
      waiter.cancel(new HttpError(503, 'ERR_PRODUCER_CLOSED', 'the gateway is shutting down'));
    }
    this.retire(this.producer);
    await Promise.all(this.closing);
  }

  // ---------------------------------------------------------------- one transaction

  private async transact(records: readonly TopicRecord[]): Promise<DeliveryReport[]> {
    const producer = this.producer;
    const { metrics } = this.deps;
    const groups = byTopic(records);
    this.checkRoom(producer, groups);
    for (const group of groups) metrics.observeRequest(group.topic, 'tx/batch', group.records.length);
    const started = performance.now();
    let calls: Call[] = [];
    try {
      await producer.transaction(async (tx) => {
        calls = groups.map((group) => track(group, tx.produce(group.topic, group.records)));
        // Every call settles: acknowledged, refused on the spot (a partition the topic does not
        // have, a record over maxRequestBytes), or failed with the transaction (a record Kafka
        // refused, a partition that could not join: the producer then fails what it holds). A
        // failure made the transaction abortable; throwing it aborts the transaction, and the
        // commit is never tried.
        await Promise.all(calls.map((call) => call.done));
        const refused = calls.find((call) => 'error' in call);
        if (refused !== undefined) {
          // Answered as the transaction's failure (ERR_TRANSACTION_ABORTABLE), naming the record's
          // error; requestFault() turns a fault of the request itself into its 4xx.
          const cause = refused.error;
          throw cause instanceof TransactionAbortableError
            ? cause
            : new TransactionAbortableError(`a record failed: ${describe(cause)}`, cause);
        }
      });
    } catch (error) {
      this.failed(producer, error);
      throw requestFault(error, calls) ?? error;
    }
    // Committed: the commit waited for every record, so every call has its reports.
    await Promise.all(calls.map((call) => call.done));
    metrics.countTransaction('committed');
    const seconds = (performance.now() - started) / 1000;
    for (const group of groups) metrics.observeLatency(group.topic, 'tx/batch', seconds);
    return inRequestOrder(calls, records.length);
  }

  /**
   * Refuses a request whose records cannot all be in the producer's buffer at once. A call
   * waiting for room is not part of the transaction yet: if the transaction ended meanwhile,
   * its records would go with the next one.
   */
  private checkRoom(producer: Producer, groups: readonly TopicGroup[]): void {
    let records = 0;
    let bytes = 0;
    for (const group of groups) {
      records += group.records.length;
      for (const record of group.records) bytes += payloadBytes(record);
    }
    const m = producer.metrics();
    if (records <= m.maxBufferedRecords && bytes <= m.maxBufferedBytes) {
      if (
        m.bufferedRecords + records <= m.maxBufferedRecords &&
        m.bufferedBytes + bytes <= m.maxBufferedBytes
      ) {
        return;
      }
      // Left over from a transaction that failed (records still settling): nothing was sent.
      throw new HttpError(
        503,
        'ERR_BUFFER_FULL',
        'the transactional producer still holds records of an earlier transaction: nothing was sent',
        { 'Retry-After': RETRY_AFTER_SECONDS },
      );
    }
    throw new HttpError(
      413,
      'ERR_BODY_TOO_LARGE',
      `the transaction's ${records} records / ${bytes} bytes do not fit in the transactional producer's ` +
        `buffer (maxBufferedRecords ${m.maxBufferedRecords}, maxBufferedBytes ${m.maxBufferedBytes})`,
    );
  }

  /** After a transaction that did not commit: counts it, and replaces a producer that cannot go on. */
  private failed(producer: Producer, error: unknown): void {
    const broken = this.replaceIfBroken(producer, error, true);
    const aborted = !broken && transactionState(producer) === 'ready';
    this.deps.metrics.countTransaction(aborted ? 'aborted' : 'failed');
  }

  /**
   * A producer fenced by a newer one with its id, or after a fatal error, refuses all
   * transactional work from then on: it is closed and a new one takes its place, so that the
   * next request works. `warm`: the new one takes the id at once (see start()), which aborts
   * what the old one left open; not after a failed initialization, which would only fail again.
   */
  private replaceIfBroken(producer: Producer, error: unknown, warm: boolean): boolean {
    const code = error instanceof EkafError ? error.code : undefined;
    const state = transactionState(producer);
    // `unresolved`: a commit timed out and the answer (504) is gone; a new producer with the id
    // completes or aborts that transaction when it initializes.
    const broken =
      code === 'ERR_PRODUCER_FENCED' ||
      code === 'ERR_TRANSACTION_FATAL' ||
      state === 'fenced' ||
      state === 'fatal' ||
      state === 'unresolved';
    if (!broken || producer !== this.producer || this.closed) return broken;
    this.deps.logger.warn(
      `kafboy: the transactional producer "${this.options.transactionalId}" cannot go on ` +
        `(${code ?? state ?? 'unknown'}: ${describe(error)}); closing it and starting a new one. ` +
        'If it was fenced, is another process using this transactional id?',
    );
    this.producer = this.options.createProducer(this.options.transactionalId);
    this.retire(producer);
    if (warm) void this.initialize();
    return broken;
  }

  /** Takes the transactional id (see start()); a failure is logged, the next request tries again. */
  private async initialize(): Promise<void> {
    try {
      await this.turn(undefined, true);
    } catch {
      return; // closed meanwhile
    }
    const producer = this.producer;
    try {
      await producer.initTransactions();
    } catch (error) {
      this.deps.logger.warn(
        `kafboy: cannot initialize the transactional producer "${this.options.transactionalId}": ${describe(error)}`,
      );
      this.replaceIfBroken(producer, error, false);
    } finally {
      this.release();
    }
  }

  private retire(producer: Producer): void {
    const closing = producer.close({ timeoutMs: CLOSE_TIMEOUT_MS }).catch((error: unknown) => {
      this.deps.logger.warn(`kafboy: closing a transactional producer failed: ${describe(error)}`);
    });
    this.closing.add(closing);
    void closing.then(() => this.closing.delete(closing));
  }

  // ---------------------------------------------------------------- the queue

  /**
   * Resolves when it is this request's turn. A full queue, a wait longer than requestTimeoutMs
   * or a client that went away ends the wait; nothing of the request was sent then.
   */
  private turn(res: ServerResponse | undefined, internal: boolean): Promise<void> {
    if (this.closed) {
      return Promise.reject(new HttpError(503, 'ERR_PRODUCER_CLOSED', 'the gateway is shutting down'));
    }
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    if (!internal && this.waiting.length >= this.maxQueued) {
      return Promise.reject(
        busy(`${this.waiting.length} transactions wait already (maxQueued): nothing was sent`),
      );
    }
    const { requestTimeoutMs } = this.deps;
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        res?.off('close', onClose);
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        this.deps.metrics.setTransactionsQueued(this.waiting.length);
      };
      const waiter: Waiter = {
        start: () => {
          leave();
          resolve();
        },
        cancel: (error) => {
          leave();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        waiter.cancel(busy(`no turn within ${requestTimeoutMs} ms (requestTimeoutMs): nothing was sent`));
      }, requestTimeoutMs);
      // Nobody is left to answer: the transaction is not run.
      const onClose = (): void => {
        waiter.cancel(new HttpError(400, 'ERR_BAD_REQUEST', 'the client went away before its turn'));
      };
      res?.once('close', onClose);
      this.waiting.push(waiter);
      this.deps.metrics.setTransactionsQueued(this.waiting.length);
    });
  }

  private release(): void {
    const next = this.waiting[0];
    if (next === undefined) this.busy = false;
    else next.start(); // still busy: the turn passes on
  }
}

/** The records grouped by topic (one `tx.produce` each), topics in order of first appearance. */
function byTopic(records: readonly TopicRecord[]): TopicGroup[] {
  const groups = new Map<string, TopicGroup>();
  records.forEach(({ topic, record }, position) => {
    let group = groups.get(topic);
    if (group === undefined) {
      group = { topic, records: [], positions: [] };
      groups.set(topic, group);
    }
    group.records.push(record);
    group.positions.push(position);
  });
  return [...groups.values()];
}

function track(group: TopicGroup, promise: Promise<DeliveryReport[]>): Call {
  const call: Call = { group, done: Promise.resolve() };
  call.done = promise.then(
    (reports) => {
      call.reports = reports;
    },
    (error: unknown) => {
      call.error = error;
    },
  );
  return call;
}

/**
 * The request's own fault, answered as such (400, 413) rather than as a failed transaction: a
 * record the producer refused, on the spot or once it learned the topic's partitions (a
 * partition the topic does not have), which made the transaction abortable. Its topic is named:
 * the producer's `records[i]` counts the records of one topic.
 */
function requestFault(error: unknown, calls: readonly Call[]): HttpError | undefined {
  if (!(error instanceof EkafError)) return undefined;
  const fault = error.code === 'ERR_TRANSACTION_ABORTABLE' ? error.cause : error;
  if (!(fault instanceof EkafError)) return undefined;
  const status = statusForCode(fault.code);
  if (status >= 500) return undefined;
  const call = calls.find((c) => c.error === fault);
  const topic = call === undefined ? '' : `topic "${call.group.topic}": `;
  return new HttpError(status, fault.code, `${topic}${fault.message} (the transaction was aborted)`);
}

function inRequestOrder(calls: readonly Call[], count: number): DeliveryReport[] {
  const reports = new Array<DeliveryReport>(count);
  for (const { group, reports: delivered, error } of calls) {
    if (delivered === undefined) throw error instanceof Error ? error : new Error(String(error));
    group.positions.forEach((position, i) => {
      reports[position] = delivered[i] as DeliveryReport;
    });
  }
  return reports;
}

/** What the producer's buffer counts of a record: its key, value and headers, in bytes. */
function payloadBytes({ key, value, headers = [] }: JsonRecord): number {
  let bytes = size(key) + size(value);
  for (const [name, headerValue] of headers) bytes += Buffer.byteLength(name) + size(headerValue);
  return bytes;
}

function size(text: string | null): number {
  return text === null ? 0 : Buffer.byteLength(text);
}

/** The transaction actor's state: `ready`, `fenced`, `fatal`… (undefined if it has none). */
function transactionState(producer: Producer): string | undefined {
  return ofKind(producer.inspect(), 'transaction')[0]?.state;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function busy(message: string): HttpError {
  return new HttpError(503, 'ERR_TRANSACTIONS_BUSY', `POST /tx/batch: ${message}`, {
    'Retry-After': RETRY_AFTER_SECONDS,
  });
}
