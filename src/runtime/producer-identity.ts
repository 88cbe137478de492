import { EkafError } from '../errors.js';
import { ErrorCode, kafkaError } from '../protocol/error-codes.js';
import type { MetadataClient } from './metadata-client.js';
import type { ProducerStamp } from './partition-sequence.js';

export type IdentityState = 'off' | 'pending' | 'ready' | 'unsupported';

/** What inspect() says of the producer identity. */
export interface IdentityDescription {
  idempotence: IdentityState;
  producerId: number | null;
  producerEpoch: number | null;
  producerIdsObtained: number;
  epochBumps: number;
}

/**
 * The idempotent producer's id and first epoch, from InitProducerId. Partitions stamp their
 * batches with it and keep their own epoch and sequence numbers from then on (see
 * PartitionSequence): a partition whose sequence must start again bumps its own epoch, without
 * asking the broker, as the Java producer does. Nothing is sent before the first id arrives.
 *
 * A new id is asked for only when a partition has used up the epochs of the current one
 * (`renewFor`). For a producer without a transactional id the broker answers every
 * InitProducerId with a new id at epoch 0; there is no epoch to bump on the broker's side.
 */
export class ProducerIdentity {
  state: IdentityState;
  private current: ProducerStamp | null = null;
  private attempts = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** How many producer ids were obtained (inspect()). */
  idsObtained = 0;
  lastError: EkafError | null = null;
  /** Per-partition epoch bumps, over every partition. */
  epochBumps = 0;

  constructor(
    enabled: boolean,
    private readonly client: Pick<MetadataClient, 'initProducerId'>,
    private readonly backoff: (attempts: number) => number,
    private readonly onReady: () => void,
    private readonly onUnsupported: () => void,
  ) {
    this.state = enabled ? 'pending' : 'off';
  }

  /** What partitions stamp with; null when idempotence is off, unsupported, or not ready yet. */
  get stamp(): ProducerStamp | null {
    return this.state === 'ready' ? this.current : null;
  }

  /** Whether batches may be sent: not before the first id. */
  get canSend(): boolean {
    return this.state !== 'pending';
  }

  /** Obtains the first id (once brokers are known). */
  start(): void {
    if (this.state === 'pending' && this.current === null && this.timer === null) this.request();
  }

  /**
   * A partition used up the epochs of `producerId`: obtain a new id, unless that was done
   * already. The other partitions keep the id they have.
   */
  renewFor(producerId: number): void {
    if (this.state !== 'ready' || this.current?.producerId !== producerId || this.timer !== null) return;
    this.request();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private request(): void {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    void this.obtain();
  }

  private async obtain(): Promise<void> {
    try {
      const answer = await this.client.initProducerId().finally(() => {
        // Over before anyone hears of the answer: a renewal asked for in onReady is not lost.
        this.inFlight = false;
      });
      if (this.stopped) return;
      if (answer === null) {
        if (this.current === null) {
          // The broker has no InitProducerId (before Kafka 0.11): idempotence cannot work.
          this.state = 'unsupported';
          this.onUnsupported();
          return;
        }
        // We had an id from this cluster, so a broker of it has the API: the connection moved to
        // one that does not (a rolling upgrade). Ask again, elsewhere, after a backoff.
        throw new EkafError('ERR_KAFKA', 'InitProducerId: the broker did not offer the API', {
          retriable: true,
        });
      }
      if (answer.errorCode !== ErrorCode.NONE) {
        const info = kafkaError(answer.errorCode);
        throw new EkafError('ERR_KAFKA', `InitProducerId failed: ${info.name} (${info.code})`, {
          retriable: true,
        });
      }
      if (answer.producerId < 0 || answer.producerEpoch < 0) {
        throw new EkafError(
          'ERR_KAFKA',
          `InitProducerId answered without an id (${answer.producerId}, epoch ${answer.producerEpoch})`,
          { retriable: true },
        );
      }
      this.current = { producerId: answer.producerId, producerEpoch: answer.producerEpoch };
      this.idsObtained++;
      this.attempts = 0;
      this.lastError = null;
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

  /** A partition's sequence started again under a new epoch (counted for inspect()). */
  epochBumped(): void {
    this.epochBumps++;
  }

  /** For inspect(). */
  describe(): IdentityDescription {
    return {
      idempotence: this.state,
      producerId: this.current?.producerId ?? null,
      producerEpoch: this.current?.producerEpoch ?? null,
      producerIdsObtained: this.idsObtained,
      epochBumps: this.epochBumps,
    };
  }
}
