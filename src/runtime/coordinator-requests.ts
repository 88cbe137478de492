import { jitteredBackoff } from '../../machines/backoff.js';
import type { BrokerAddress } from '../config.js';
import {
  EkafError,
  InvalidTransactionStateError,
  ProducerClosedError,
  ProducerFencedError,
  TransactionAbortableError,
  TransactionFatalError,
  TransactionTimeoutError,
} from '../errors.js';
import { ApiKey } from '../protocol/api.js';
import { CoordinatorType, FindCoordinator } from '../protocol/apis/find-coordinator.js';
import { ErrorCode, kafkaError, protocolError } from '../protocol/error-codes.js';
import type { BrokerSession, BrokerSessions } from './broker-sessions.js';

/**
 * Requests to a coordinator (the transaction coordinator of our transactional id, or a group's),
 * with the Java producer's rules for what an answer means:
 *
 * - NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection or a timed-out request: the
 *   coordinator is looked up again (FindCoordinator), after a backoff.
 * - COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS and every other retriable code: asked
 *   again after a backoff.
 * - PRODUCER_FENCED, INVALID_PRODUCER_EPOCH: ProducerFencedError (a newer producer has the id).
 * - TRANSACTION_ABORTABLE: TransactionAbortableError.
 * - INVALID_TXN_STATE: InvalidTransactionStateError.
 * - anything else: TransactionFatalError, unless the request names its own verdict for it.
 *
 * All of it within `timeoutMs` from the first attempt; past it, TransactionTimeoutError with the
 * last error as its cause.
 */

/** What a request's answer says, before the common rules. */
export type Verdict =
  | 'done'
  | 'retry'
  /** Again after a short fixed delay (CONCURRENT_TRANSACTIONS as a transaction begins: Java's 20 ms). */
  | 'retry-soon'
  | 'rediscover'
  | 'fenced'
  | 'abortable'
  | 'invalid-state'
  /** The broker refused (an authorization failure): the KafkaProtocolError itself, to try again later. */
  | 'refused'
  | 'fatal';

/** One attempt's answer: the error code that decides, and the value when it is NONE. */
export interface Answer<T> {
  errorCode: number;
  errorMessage?: string | null;
  value?: T;
}

export interface CoordinatorSettings {
  transactionalId: string;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  /** Each operation's deadline (transactionCoordinatorTimeoutMs). */
  timeoutMs: number;
  /** Brokers to ask FindCoordinator (the known ones first, then the bootstrap list). */
  candidates(): BrokerAddress[];
  random?: () => number;
}

/** Which coordinator a request goes to. */
export interface CoordinatorKey {
  keyType: CoordinatorType;
  key: string;
}

/** The delay of a 'retry-soon' verdict. */
export const RETRY_SOON_MS = 20;

const REDISCOVER: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

/** The common rules (see above) for a code the request left to them. */
export function commonVerdict(errorCode: number): Verdict {
  if (errorCode === ErrorCode.NONE) return 'done';
  if (REDISCOVER.has(errorCode)) return 'rediscover';
  if (errorCode === ErrorCode.PRODUCER_FENCED || errorCode === ErrorCode.INVALID_PRODUCER_EPOCH)
    return 'fenced';
  if (errorCode === ErrorCode.TRANSACTION_ABORTABLE) return 'abortable';
  if (errorCode === ErrorCode.INVALID_TXN_STATE) return 'invalid-state';
  return kafkaError(errorCode).retriable ? 'retry' : 'fatal';
}

export class CoordinatorRequests {
  /** Where each coordinator was found, by `keyType:key`. */
  private readonly found = new Map<string, BrokerAddress>();
  private nextCandidate = 0;
  private closed = false;
  /** Backoff timers waiting, so that close() ends them. */
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();

  constructor(
    private readonly settings: CoordinatorSettings,
    private readonly sessions: BrokerSessions,
    /** The transaction actor's state, for InvalidTransactionStateError. */
    private readonly stateName: () => string,
  ) {}

  /**
   * Runs `attempt` against the coordinator of `target` until an answer settles it (see the rules
   * above). `judge` gives a request's own verdict for a code (undefined: the common rules).
   */
  async run<T>(
    what: string,
    target: CoordinatorKey,
    attempt: (session: BrokerSession) => Promise<Answer<T>>,
    judge: (errorCode: number) => Verdict | undefined = () => undefined,
  ): Promise<T> {
    const deadline = Date.now() + this.settings.timeoutMs;
    let attempts = 0;
    let lastError: EkafError | null = null;
    let soon = false;
    for (;;) {
      if (this.closed) throw new ProducerClosedError();
      if (attempts > 0) {
        const delay = soon
          ? RETRY_SOON_MS
          : jitteredBackoff(
              attempts,
              this.settings.retryBackoffMs,
              this.settings.retryBackoffMaxMs,
              this.settings.random ?? Math.random,
            );
        soon = false;
        if (Date.now() + delay >= deadline) {
          throw new TransactionTimeoutError(
            `${what} did not complete within transactionCoordinatorTimeoutMs (${this.settings.timeoutMs} ms)` +
              (lastError === null ? '' : `: ${lastError.message}`),
            lastError ?? undefined,
          );
        }
        await this.sleep(delay);
        // close() may have ended the sleep (TypeScript cannot see that across await).
        if (this.isClosed()) throw new ProducerClosedError();
      }
      attempts++;
      let address: BrokerAddress | undefined;
      let answer: Answer<T>;
      try {
        address = await this.coordinator(target);
        const session = await this.sessions.get(address);
        answer = await attempt(session);
      } catch (error) {
        if (!(error instanceof EkafError) || !isTransient(error)) throw error;
        // Lost connection, request timeout, a coordinator that could not be found: look again.
        lastError = error;
        if (address !== undefined) this.sessions.drop(address);
        this.forget(target);
        continue;
      }
      const verdict = judge(answer.errorCode) ?? commonVerdict(answer.errorCode);
      if (verdict === 'done') return answer.value as T;
      const error = protocolError(answer.errorCode, answer.errorMessage);
      lastError = error;
      switch (verdict) {
        case 'retry':
          continue;
        case 'retry-soon':
          soon = true;
          continue;
        case 'rediscover':
          this.forget(target);
          continue;
        case 'fenced':
          throw new ProducerFencedError(this.settings.transactionalId, `${what}: ${error.message}`, error);
        case 'abortable':
          throw new TransactionAbortableError(`${what}: ${error.message}`, error);
        case 'invalid-state':
          throw new InvalidTransactionStateError(this.stateName(), `${what}: ${error.message}`, error);
        case 'refused':
          throw error;
        case 'fatal':
          throw new TransactionFatalError(`${what}: ${error.message}`, error);
      }
    }
  }

  private isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const sleeper of this.sleeping) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleeping.clear();
  }

  /** Where `target`'s coordinator is: asked once, then kept until an answer says it moved. */
  private async coordinator(target: CoordinatorKey): Promise<BrokerAddress> {
    const key = `${target.keyType}:${target.key}`;
    const known = this.found.get(key);
    if (known !== undefined) return known;
    const candidates = this.settings.candidates();
    const address = candidates[this.nextCandidate++ % candidates.length] as BrokerAddress;
    let session: BrokerSession;
    try {
      session = await this.sessions.get(address);
    } catch (error) {
      this.sessions.drop(address);
      throw error;
    }
    const version = session.versions.get(ApiKey.FindCoordinator);
    if (version === undefined) {
      throw new TransactionFatalError(
        `broker ${address.host}:${address.port} has no FindCoordinator for transactions (Kafka 0.11+ needed)`,
      );
    }
    const response = await session.connection.send(FindCoordinator, version, {
      keyType: target.keyType,
      keys: [target.key],
    });
    const answer = response.coordinators[0];
    if (answer === undefined)
      throw new EkafError('ERR_KAFKA', 'FindCoordinator: empty answer', { retriable: true });
    if (answer.errorCode !== ErrorCode.NONE) {
      const error = protocolError(answer.errorCode, answer.errorMessage);
      // COORDINATOR_NOT_AVAILABLE (the coordinator's log has no leader yet) and the like: again.
      if (error.retriable) throw error;
      throw new TransactionFatalError(`FindCoordinator: ${error.message}`, error);
    }
    const found = { host: answer.host, port: answer.port };
    this.found.set(key, found);
    return found;
  }

  private forget(target: CoordinatorKey): void {
    this.found.delete(`${target.keyType}:${target.key}`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleeping.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleeping.add(sleeper);
    });
  }
}

/** Errors that a new coordinator, a new connection or a later attempt may cure. */
function isTransient(error: EkafError): boolean {
  return error.retriable;
}
