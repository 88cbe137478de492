// One `ekaf produce` run: reads the input and splits it into lines (line-splitter.ts). Until the
// topic's partition count is known, the lines go to the producer as records, in calls of up to
// CALL_RECORDS; from then on they are encoded straight into batches (line-batches.ts) handed to
// the producer whole. Either way it stops reading while the producer's buffer is full, so that
// a file larger than memory streams through. Counts what was delivered for the progress line and
// the summary. Gives up when no broker answered within the connect timeout (see giveUpIfUnreached),
// and at once when every bootstrap address answered with something that is not Kafka.
import { originalError } from '../../machines/describe-error.js';
import { BufferFullError, EkafError, NotKafkaError, RecordTooLargeError } from '../errors.js';
import type { DeliveryCallback, Producer, ProduceRecord } from '../producer.js';
import { Fifo } from '../runtime/fifo.js';
import { actorNamed } from '../runtime/introspection.js';
import type { AddressOutcome } from '../runtime/metadata-client.js';
import { FAILED, OK } from './exit-codes.js';
import { LineBatcher, type LineBatchOptions, type ReadyBatch } from './line-batches.js';
import type { LineSplitter } from './line-splitter.js';
import { err } from './output.js';

/** How lines are encoded into batches, but for the partition count (line-batches.ts). */
export type LineEncoding = Omit<LineBatchOptions, 'partitions' | 'random'>;

/** Records per produce call; a call is accepted or refused whole. */
const CALL_RECORDS = 2048;
/** Longest wait for the topic's partition count before reading (see partitionsKnown). */
const PARTITIONS_WAIT_MS = 2000;
/** Longest wait for room in a full buffer before trying again without a delivery event. */
const ROOM_POLL_MS = 50;

export interface RunOptions {
  /**
   * Give up when no broker has answered within this many ms of the start: exit code 1, with
   * each bootstrap address and why it could not be reached. Once one has answered, records
   * that cannot be delivered fail after the delivery timeout instead. Default: never.
   */
  connectTimeoutMs?: number;
  /** Runs once the producer is closed, before the summary (the logger prints what it held back). */
  afterClose?: () => void;
}

export class ProduceRun {
  private sent = 0;
  private delivered = 0;
  private failed = 0;
  private bytes = 0;
  private firstError: EkafError | undefined;
  private readonly started = Date.now();
  /** Resolvers of whoever waits for room in the buffer. */
  private roomWaiters: (() => void)[] = [];
  private readonly errorsSeen = new Set<string>();
  private interrupted = false;
  /** Encodes lines into batches once the topic's partition count is known; null before. */
  private batcher: LineBatcher | null = null;
  /** Batches sealed and not handed to the producer yet, oldest first. */
  private readonly sealed = new Fifo<ReadyBatch>();
  /** Whether a hand-over of `sealed` is under way (see handOver), and its promise. */
  private handingOver = false;
  private handedOver: Promise<void> = Promise.resolve();
  /**
   * Whether nothing refers to the last chunk read any more: its lines were encoded into
   * batches (copied), not handed over as records (views of it). The file reader reads the next
   * chunk into the same buffer then (see fileChunks).
   */
  lastChunkCopied = false;
  /** Seals the open batches when the input pauses longer than their linger. */
  private idleTimer: NodeJS.Timeout | undefined;
  /** Why the run gave up (no broker answered in time), once it has: the line printed. */
  private gaveUp: string | null = null;
  /** Resolves when the run gives up, which ends the reading wherever it waits (stdin may never end). */
  private readonly givenUp: Promise<void>;
  private giveUp: () => void = () => undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly lines: LineSplitter,
    private readonly quiet: boolean,
    /** Lines encoded into batches (the fast path), or null for records only. */
    private readonly encoding: LineEncoding | null = null,
    private readonly options: RunOptions = {},
  ) {
    this.givenUp = new Promise((resolve) => {
      this.giveUp = resolve;
    });
    // Failed calls are counted from their event: the callbacks take the error alone, so that
    // no report object is built for the records that were delivered (see send()).
    producer.on('delivery.failed', ({ error, failed, reports }) => {
      this.firstError ??= error;
      this.failed += failed;
      this.delivered += reports.length - failed;
    });
    producer.on('error', (error) => {
      // Problems outside any call (metadata, connections): once each, they may repeat a lot.
      const line = `${error.code}: ${error.message}`;
      if (this.errorsSeen.has(line)) return;
      this.errorsSeen.add(line);
      this.clearProgress();
      err(`ekaf produce: ${line}`);
    });
    // Each failed metadata attempt: a web server at every address will not turn into a broker.
    producer.on('state', ({ kind, to }) => {
      if (kind === 'metadata' && to === 'backoff' && this.gaveUp === null) this.giveUpIfNotKafka();
    });
  }

  /** Produces every line of `input`, then flushes and closes the producer; the exit code. */
  async run(input: AsyncIterable<Buffer | string>): Promise<number> {
    const progress =
      !this.quiet && process.stderr.isTTY
        ? setInterval(() => {
            this.showProgress();
          }, 250)
        : undefined;
    const onSignal = (): void => {
      if (this.interrupted) process.exit(130);
      this.interrupted = true;
      this.clearProgress();
      err('ekaf produce: interrupted; delivering what was read (again to quit at once)');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const { connectTimeoutMs } = this.options;
    const contact =
      connectTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            this.giveUpIfUnreached(connectTimeoutMs);
          }, connectTimeoutMs);
    let readError: Error | undefined;
    const reading = (async () => {
      if (this.encoding !== null) await this.partitionsKnown();
      await this.readLines(input);
    })();
    // Left behind when the run gives up: whatever it ends with is of no interest then.
    reading.catch(() => undefined);
    try {
      await Promise.race([reading, this.givenUp]);
    } catch (error) {
      readError = error as Error;
    }
    // Not flushed when it gave up: nothing can be delivered, close() already failed what waits.
    if (this.gaveUp === null) await this.producer.flush();
    clearTimeout(contact);
    await this.producer.close();
    this.options.afterClose?.();
    if (progress !== undefined) clearInterval(progress);
    this.clearProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);

    if (readError !== undefined) err(`ekaf produce: reading the input failed: ${readError.message}`);
    if (!this.quiet) err(this.summary());
    if (this.failed > 0 && this.firstError !== undefined && this.gaveUp === null) {
      err(`ekaf produce: ${this.failed} records failed, first: ${withCause(this.firstError)}`);
    }
    if (this.interrupted) return 130;
    return this.failed > 0 || readError !== undefined || this.gaveUp !== null ? FAILED : OK;
  }

  /**
   * The connect timeout passed: if no broker has answered yet (no metadata, no Kafka session
   * opened at any address), there is nothing to wait for. Says why, address by address, stops
   * reading, and closes the producer at once, failing what it holds. A broker that answered
   * once may come back: then records wait for their delivery timeout, as the library's do.
   */
  private giveUpIfUnreached(timeoutMs: number): void {
    const metadata = actorNamed(this.producer.inspect(), 'metadata');
    if (metadata === undefined || metadata.details.lastRefreshAt > 0) return;
    const { addresses } = metadata.details;
    if (addresses.some((a) => a.answeredAt > 0)) return;
    this.stop(
      `ekaf produce: no Kafka broker reachable within ${timeoutMs} ms (--connect-timeout-ms): ` +
        addresses.map((a) => unreachedBecause(a, timeoutMs)).join('; '),
    );
  }

  /**
   * Every address tried answered, and not as Kafka (HTTP: a web server, a proxy, kafboy): no
   * retry can change that, so the run stops at once rather than at the connect timeout. One
   * address that was refused or timed out may still come up: then the timeout decides.
   */
  private giveUpIfNotKafka(): void {
    const metadata = actorNamed(this.producer.inspect(), 'metadata');
    if (metadata === undefined || metadata.details.lastRefreshAt > 0) return;
    const { addresses } = metadata.details;
    const notKafka = (a: AddressOutcome): boolean =>
      a.answeredAt === 0 && a.lastError !== null && originalError(a.lastError) instanceof NotKafkaError;
    if (addresses.length === 0 || !addresses.every(notKafka)) return;
    this.stop(
      `ekaf produce: no Kafka broker at ${addresses.length === 1 ? 'the bootstrap address' : 'any bootstrap address'}: ` +
        addresses.map((a) => unreachedBecause(a, 0)).join('; '),
    );
  }

  /** Says why, stops reading, and closes the producer at once, failing what it holds. */
  private stop(reason: string): void {
    this.gaveUp = reason;
    this.clearProgress();
    err(this.gaveUp);
    this.giveUp();
    void this.producer.close({ timeoutMs: 0 });
  }

  private async readLines(input: AsyncIterable<Buffer | string>): Promise<void> {
    const lines = this.lines;
    let records: ProduceRecord[] = [];
    for await (const data of input) {
      // Gave up: what is read from now on could only fail.
      if (this.interrupted || this.gaveUp !== null) break;
      clearTimeout(this.idleTimer);
      lines.push(data);
      const batcher = this.lineBatcher();
      this.lastChunkCopied = batcher !== null;
      if (batcher !== null) {
        const now = Date.now();
        while (lines.nextLine()) this.encode(batcher, now);
        batcher.sealExpired(now);
        await this.handOver(batcher);
        if (batcher.hasOpen) {
          this.idleTimer = setTimeout(() => {
            batcher.sealAll();
            void this.handOver(batcher);
          }, this.encoding?.lingerMs);
        }
        continue;
      }
      for (let record = lines.next(); record !== undefined; record = lines.next()) {
        records.push(record);
        if (records.length === CALL_RECORDS) {
          await this.send(records, lines.takeBytes());
          records = [];
        }
      }
      if (records.length > 0) {
        await this.send(records, lines.takeBytes());
        records = [];
      }
    }
    clearTimeout(this.idleTimer);
    const batcher = this.batcher;
    if (batcher === null) {
      const last = lines.finish();
      if (last !== undefined && !this.interrupted) await this.send([last], lines.takeBytes());
      return;
    }
    if (!this.interrupted && lines.finishLine()) this.encode(batcher, Date.now());
    // What was read is delivered, interrupted or not.
    batcher.sealAll();
    await this.handOver(batcher);
  }

  /**
   * Waits until the topic's partition count is known (its metadata was asked for when the
   * producer was made: produce.ts), so that every line is encoded into batches: lines read
   * before go to the producer as records, the slower way. At most PARTITIONS_WAIT_MS, and no
   * longer than the first error (no broker reachable, say), which the records then report.
   */
  private partitionsKnown(): Promise<void> {
    const { producer, topic } = this;
    if (producer.partitionCount(topic) > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        producer.off('state', check);
        producer.off('error', done);
        resolve();
      };
      const check = (): void => {
        if (producer.partitionCount(topic) > 0) done();
      };
      const timer = setTimeout(done, PARTITIONS_WAIT_MS);
      // Checked at each actor transition: the count is known once the topic's actor is active,
      // before its partitions' workers are (their broker connections still opening).
      producer.on('state', check);
      producer.on('error', done);
    });
  }

  /** The batcher, made once the topic's partition count is known (and -p names one of them). */
  private lineBatcher(): LineBatcher | null {
    if (this.batcher === null && this.encoding !== null) {
      const partitions = this.producer.partitionCount(this.topic);
      const fixed = this.encoding.partition;
      if (partitions > 0 && (fixed === undefined || fixed < partitions)) {
        this.batcher = new LineBatcher({ ...this.encoding, partitions });
      }
    }
    return this.batcher;
  }

  /** Encodes the line the splitter found; one too large for a request fails alone. */
  private encode(batcher: LineBatcher, now: number): void {
    const { line, lineStart, lineEnd } = this.lines;
    if (batcher.add(line, lineStart, lineEnd, now)) return;
    this.firstError ??= new RecordTooLargeError(batcher.refusedBytes, batcher.maxRecordBytes);
    this.failed++;
    this.sent++;
  }

  /**
   * Hands the sealed batches to the producer in order, waiting for room while the buffer is
   * full. One hand-over at a time (the idle timer may start one while the reading loop waits in
   * another), so that each partition's batches keep their order; what is sealed meanwhile joins
   * the one under way, which the returned promise waits for.
   */
  private handOver(batcher: LineBatcher): Promise<void> {
    for (const ready of batcher.takeReady()) this.sealed.push(ready);
    if (!this.handingOver) {
      this.handingOver = true;
      this.handedOver = this.sendSealed();
    }
    return this.handedOver;
  }

  private async sendSealed(): Promise<void> {
    try {
      for (let next = this.sealed.shift(); next !== undefined; next = this.sealed.shift()) {
        await this.sendBatch(next);
      }
    } finally {
      // Set before any new batch can be sealed (no await since the queue was found empty).
      this.handingOver = false;
    }
  }

  private async sendBatch(ready: ReadyBatch): Promise<void> {
    const { partition, batch } = ready;
    const count = batch.recordCount;
    const callback: DeliveryCallback = (error) => {
      if (error === null) {
        this.delivered += count;
        this.batcher?.recycle(ready);
      }
      this.wake();
    };
    for (;;) {
      try {
        this.producer.produceEncodedBatch(this.topic, partition, batch, callback);
        break;
      } catch (error) {
        if (!(error instanceof BufferFullError)) {
          this.firstError ??=
            error instanceof EkafError ? error : new EkafError('ERR_INVALID_RECORD', String(error));
          this.failed += count;
          this.sent += count;
          return;
        }
        await this.roomOrTimeout();
      }
    }
    this.sent += count;
    this.bytes += batch.payloadBytes;
  }

  /** Produces the records (`bytes` of keys and values), waiting for room while the buffer is full. */
  private async send(records: ProduceRecord[], bytes: number): Promise<void> {
    const count = records.length;
    // Declared with the error alone: no delivery reports are built (a failed call is counted
    // by the delivery.failed listener, with its reports).
    const callback: DeliveryCallback = (error) => {
      if (error === null) this.delivered += count;
      this.wake();
    };
    for (;;) {
      try {
        this.producer.produceAsyncBatched(this.topic, records, callback);
        break;
      } catch (error) {
        if (!(error instanceof BufferFullError)) {
          // The whole call was refused (a record too large, an invalid partition): try each
          // record alone, so that only the bad ones fail.
          if (records.length > 1) {
            for (const record of records) await this.send([record], recordBytes(record));
            return;
          }
          this.firstError ??=
            error instanceof EkafError ? error : new EkafError('ERR_INVALID_RECORD', String(error));
          this.failed++;
          this.sent++;
          return;
        }
        await this.roomOrTimeout();
      }
    }
    this.sent += records.length;
    this.bytes += bytes;
  }

  /** A call completed: room in the buffer, for whoever waits for it. */
  private wake(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private roomOrTimeout(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ROOM_POLL_MS);
      this.roomWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private rates(): { seconds: number; perSecond: number; mbPerSecond: number } {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    return {
      seconds,
      perSecond: Math.round(this.delivered / seconds),
      mbPerSecond: this.bytes / 1e6 / seconds,
    };
  }

  private showProgress(): void {
    const { perSecond } = this.rates();
    process.stderr.write(
      `\r\x1b[K${this.sent} read, ${this.delivered} delivered, ${this.failed} failed, ${perSecond} records/s`,
    );
  }

  private clearProgress(): void {
    if (!this.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  }

  private summary(): string {
    const { seconds, mbPerSecond } = this.rates();
    const total = this.delivered + this.failed;
    return (
      `ekaf produce: ${total} records, ${this.bytes} bytes in ${seconds.toFixed(2)} s ` +
      `(${Math.round(total / seconds)} records/s, ${mbPerSecond.toFixed(1)} MB/s); ` +
      `${this.delivered} delivered, ${this.failed} failed`
    );
  }
}

/** An address and why it was not reached: its last error, else that it did not answer in time. */
function unreachedBecause(outcome: AddressOutcome, timeoutMs: number): string {
  const { address, lastError } = outcome;
  // The last attempt's error stays while the next one is under way (state `connecting`).
  if (lastError !== null) {
    // Errors name their broker already ("127.0.0.1:1: socket error: …"): named once.
    const message = lastError.message.startsWith(`${address}: `)
      ? lastError.message.slice(address.length + 2)
      : lastError.message;
    return `${address}: ${message}`;
  }
  return `${address}: ${outcome.state === 'untried' ? 'not tried' : `no answer within ${timeoutMs} ms`}`;
}

/** `code: message`, and the cause's when there is one (a delivery timeout's last error). */
function withCause(error: EkafError): string {
  const cause: unknown = error.cause;
  const line = `${error.code}: ${error.message}`;
  if (!(cause instanceof Error)) return line;
  const { code } = cause as { code?: unknown };
  return `${line}; last error: ${typeof code === 'string' ? `${code}: ` : ''}${cause.message}`;
}

/** Key and value bytes of a record, for the summary's byte count. */
function recordBytes(record: ProduceRecord): number {
  if (typeof record === 'string') return Buffer.byteLength(record);
  if (record instanceof Uint8Array) return record.length;
  const size = (b: Buffer | Uint8Array | string | null | undefined): number =>
    b == null ? 0 : typeof b === 'string' ? Buffer.byteLength(b) : b.length;
  return size(record.key) + size(record.value);
}
