import { EkafError } from '../errors.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import type { MetadataClient } from './metadata-client.js';
import type { ProducerStamp } from './partition-log.js';

export type IdentityState = 'off' | 'pending' | 'ready' | 'unsupported';

/**
 * The idempotent producer's identity: a producer id and epoch from InitProducerId. Batches are
 * stamped with it (and per-partition sequence numbers) when first sent, so the broker can drop
 * duplicates and refuse gaps. While the identity is being obtained or renewed, nothing is sent.
 *
 * Renewal (`renew`) follows the Java client: first ask the broker to bump the epoch of the
 * current id (KIP-360, InitProducerId v3+), which keeps the id; if the broker cannot, take a new
 * id. Either way every partition's sequence numbers start again from 0 (a new `generation`).
 */
export class ProducerIdentity {
  state: IdentityState;
  private stampValue: ProducerStamp | null = null;
  private attempts = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Generations at or below this one were given up (a renewal was asked for under them). */
  private staleUpTo = -1;
  lastError: EkafError | null = null;

  constructor(
    enabled: boolean,
    private readonly client: MetadataClient,
    private readonly backoff: (attempts: number) => number,
    private readonly onReady: () => void,
    private readonly onUnsupported: () => void,
  ) {
    this.state = enabled ? 'pending' : 'off';
  }

  /** What to stamp batches with now; null when idempotence is off or unsupported. */
  get stamp(): ProducerStamp | null {
    return this.state === 'ready' ? this.stampValue : null;
  }

  /** Whether batches may be sent: not while an identity is being obtained. */
  get canSend(): boolean {
    return this.state !== 'pending';
  }

  /** Obtains the first identity (once brokers are known). */
  start(): void {
    if (this.state === 'pending' && this.stampValue === null && this.timer === null) this.request();
  }

  /** Gets a new epoch (or id) after the broker lost or refused our sequence state. */
  renew(): void {
    if (this.state !== 'ready' || this.stampValue === null) return;
    this.staleUpTo = this.stampValue.generation;
    this.state = 'pending';
    this.request();
  }

  /** Whether batches stamped under `generation` are to be restamped (a renewal was asked for). */
  isStale(generation: number): boolean {
    return generation <= this.staleUpTo;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private request(): void {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    void this.obtain().finally(() => {
      this.inFlight = false;
    });
  }

  private async obtain(): Promise<void> {
    const current = this.stampValue;
    try {
      let answer = await this.client.initProducerId(current);
      if (answer === null) {
        this.state = 'unsupported';
        this.onUnsupported();
        return;
      }
      if (answer.errorCode !== ErrorCode.NONE && current !== null) {
        // The broker would not bump this id's epoch: take a new id instead.
        answer = await this.client.initProducerId(null);
        if (answer === null) return;
      }
      if (answer.errorCode !== ErrorCode.NONE) {
        const info = kafkaError(answer.errorCode);
        throw new EkafError('ERR_KAFKA', `InitProducerId failed: ${info.name} (${info.code})`, {
          retriable: true,
        });
      }
      if (this.stopped) return;
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.stampValue = {
        producerId: answer.producerId,
        producerEpoch: answer.producerEpoch,
        generation: (current?.generation ?? -1) + 1,
      };
      this.attempts = 0;
      this.state = 'ready';
      this.onReady();
    } catch (error) {
      if (this.stopped) return;
      this.lastError = error instanceof EkafError ? error : new EkafError('ERR_KAFKA', String(error));
      this.attempts++;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.request();
      }, this.backoff(this.attempts));
      this.timer.unref();
    }
  }

  /** For inspect(). */
  describe(): Record<string, unknown> {
    return {
      idempotence: this.state,
      producerId: this.stampValue?.producerId ?? null,
      producerEpoch: this.stampValue?.producerEpoch ?? null,
    };
  }
}
