import { BufferFullError, type EkafError } from '../../src/errors.js';
import type { DeliveryReport, Producer } from '../../src/producer.js';

/**
 * The load of a chaos run and its accounting, shared by the runs against the mock cluster
 * (test/broker/chaos.ts) and against Apache Kafka (test/kafka/kafka-chaos.ts).
 *
 * Record n has key `k<n mod keys>` and value `<key>:<n div keys>`: its number within its key,
 * so that what is read back tells which record it is, whether it is there twice, and whether a
 * key's records are in the order they were produced.
 */
export interface ChaosLoadOptions {
  topic: string;
  records: number;
  /** Records per second. */
  rate: number;
  keys: number;
  /** A call every tick, of rate * tick / 1000 records. */
  tickMs?: number;
}

export interface ChaosLoad {
  /** Resolves once every record was accepted by the producer. */
  readonly loaded: Promise<void>;
  /** Records accepted so far. */
  accepted(): number;
  /** Per record: 0 pending, 1 acknowledged, 2 failed. */
  readonly state: Uint8Array;
  /** Records whose call reported them failed, by error code. */
  readonly failed: Record<string, number>;
  /** Stops producing (what was accepted stays accepted). */
  stop(): void;
}

/** What the read-back found. */
export interface ChaosAccount {
  acknowledged: number;
  /** Accepted, not reported failed, not in Kafka. Must be 0. */
  lost: number;
  /** Extra copies in Kafka of a record. Must be 0 with idempotence. */
  duplicated: number;
  /** Records of a key that Kafka holds after one produced later. Must be 0. */
  outOfOrder: number;
  /** The first few of them: which record after which, where. */
  outOfOrderExamples: string[];
  /** Records reported failed that are in Kafka anyway (a failure whose write could not be known). */
  failedButWritten: number;
  inKafka: number;
}

export function startChaosLoad(producer: Producer, options: ChaosLoadOptions): ChaosLoad {
  const tickMs = options.tickMs ?? 10;
  const { topic, records, keys } = options;
  const state = new Uint8Array(records);
  const failed: Record<string, number> = {};
  const perTick = Math.max(1, Math.round((options.rate * tickMs) / 1000));
  let next = 0;
  let timer: NodeJS.Timeout | null = null;
  const settle = (
    from: number,
    count: number,
    error: EkafError | null,
    reports: readonly (DeliveryReport | undefined)[],
  ): void => {
    for (let i = 0; i < count; i++) {
      if (reports[i] !== undefined) {
        state[from + i] = 1;
      } else {
        state[from + i] = 2;
        const code = error?.code ?? 'unknown';
        failed[code] = (failed[code] ?? 0) + 1;
      }
    }
  };
  // A call refused for a full buffer is tried again on the next tick: nothing is skipped.
  const loaded = new Promise<void>((resolve, reject) => {
    timer = setInterval(() => {
      const from = next;
      const count = Math.min(perTick, records - from);
      const batch = Array.from({ length: count }, (_, i) => ({
        key: chaosKey(from + i, keys),
        value: chaosValue(from + i, keys),
      }));
      try {
        producer.produceAsync(topic, batch, (error: EkafError | null, reports) => {
          settle(from, count, error, reports);
        });
        next += count;
      } catch (error) {
        if (!(error instanceof BufferFullError)) {
          if (timer !== null) clearInterval(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
      }
      if (next >= records) {
        if (timer !== null) clearInterval(timer);
        resolve();
      }
    }, tickMs);
  });
  return {
    loaded,
    accepted: () => next,
    state,
    failed,
    stop: () => {
      if (timer !== null) clearInterval(timer);
    },
  };
}

export function chaosKey(n: number, keys: number): string {
  return `k${n % keys}`;
}

export function chaosValue(n: number, keys: number): string {
  return `${chaosKey(n, keys)}:${Math.floor(n / keys)}`;
}

/**
 * Accounts for every record: `consumed` is what an independent reader found (its values, in
 * partition and offset order), `load` what the producer said of each record.
 */
export function accountChaos(
  consumed: readonly { partition: number; offset: number; value: Buffer | null }[],
  load: Pick<ChaosLoad, 'state' | 'accepted'>,
  keys: number,
): ChaosAccount {
  const records = load.state.length;
  const accepted = load.accepted();
  const copies = new Uint16Array(records);
  const lastSeq = new Map<string, number>();
  let outOfOrder = 0;
  const examples: string[] = [];
  const ordered = [...consumed].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const record of ordered) {
    const text = record.value?.toString() ?? '';
    const [key, seqText] = text.split(':');
    const seq = Number(seqText);
    const n = seq * keys + Number(key?.slice(1));
    if (!(Number.isInteger(n) && n >= 0 && n < records)) throw new Error(`chaos: unexpected record ${text}`);
    copies[n] = (copies[n] as number) + 1;
    const last = lastSeq.get(key as string) ?? -1;
    if (seq < last) {
      outOfOrder++;
      if (examples.length < 10)
        examples.push(
          `${text} after ${key}:${last} at partition ${record.partition} offset ${record.offset}`,
        );
    } else lastSeq.set(key as string, seq);
  }
  let lost = 0;
  let duplicated = 0;
  let acknowledged = 0;
  let failedButWritten = 0;
  for (let n = 0; n < records; n++) {
    const c = copies[n] as number;
    if (n >= accepted) {
      if (c > 0) throw new Error(`chaos: record ${n} is in Kafka but was never accepted`);
      continue;
    }
    if (load.state[n] === 1) acknowledged++;
    if (c === 0 && load.state[n] !== 2) lost++;
    if (c > 0 && load.state[n] === 2) failedButWritten++;
    if (c > 1) duplicated += c - 1;
  }
  return {
    acknowledged,
    lost,
    duplicated,
    outOfOrder,
    outOfOrderExamples: examples,
    failedButWritten,
    inKafka: consumed.length,
  };
}
